"""Batch norm and layer norm in the reference network: statistics, gradients, PyTorch parity,
permutation equivariance, and mutants the oracles must reject."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants.reference import Architecture, init_params, make_optimizer, permute_hidden, random_params, train
from invariants.reference import norms
from invariants.reference.gradcheck import gradient_check
from invariants.reference.network import forward, loss_and_grad
from invariants.symmetry import all_classes, hidden_tied, symmetry_defect, unit_signatures

seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=25)
@given(kind=st.sampled_from(norms.NORMS), kernel=st.sampled_from(("exact", "blas")),
       shape=st.tuples(st.integers(2, 9), st.integers(2, 9)), seed=seeds)
def test_normalized_values_have_zero_mean_and_unit_variance(kind, kernel, shape, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(1.0, 3.0, shape)
    out, cache = norms.norm_forward(kind, z, np.ones(shape[1]), np.zeros(shape[1]), kernel)
    axis = 0 if kind == "batch" else 1
    ref = (z - z.mean(axis=axis, keepdims=True)) / np.sqrt(z.var(axis=axis, keepdims=True) + norms.EPS)
    # two computations of the same float64 formula: they differ by a few roundings of O(1) values
    assert np.allclose(out, ref, rtol=0, atol=1e-12)
    assert np.allclose(out.mean(axis=axis), 0.0, atol=1e-12)
    assert np.array_equal(out, cache.zhat)


def test_scale_and_shift_are_applied_per_unit():
    z = np.random.default_rng(0).normal(size=(5, 3))
    g, s = np.array([1.0, 2.0, -1.0]), np.array([0.0, 0.5, 3.0])
    out, cache = norms.norm_forward("layer", z, g, s)
    assert np.array_equal(out, cache.zhat * g + s)


def test_layer_norm_of_a_fully_tied_layer_outputs_the_shift():
    """All units equal: z − μ is (up to the rounding of μ = fl(Σz/n)) zero, so the output is s."""
    z = np.repeat(np.random.default_rng(1).normal(size=(4, 1)), 4, axis=1)  # n = 4: Σz/4 is exact
    out, _ = norms.norm_forward("layer", z, np.full(4, 2.0), np.full(4, 0.25))
    assert np.array_equal(out, np.full((4, 4), 0.25))


@pytest.mark.parametrize("kind", norms.NORMS)
@pytest.mark.parametrize("activation", ["tanh", "gelu", "sin"])
def test_gradients_match_central_differences(kind, activation):
    arch = Architecture((3, 4, 3, 2), activation, "softmax_xent", bias=False, norm=kind)
    rng = np.random.default_rng(11)
    params = random_params(arch, rng)
    for name in params:
        if name[0] in "gs":
            params[name] = params[name] + rng.normal(0.0, 0.5, params[name].shape)
    x, t = rng.normal(size=(4, 3)), rng.integers(0, 2, 4)
    assert gradient_check(arch, params, x, t).max_error <= 1e-6


@pytest.mark.parametrize("kind", norms.NORMS)
def test_gradient_check_rejects_a_backward_without_the_variance_term(kind, monkeypatch):
    arch = Architecture((3, 4, 2), "tanh", "mse", norm=kind)
    rng = np.random.default_rng(2)
    params = random_params(arch, rng, bias_std=0.5)
    x, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert gradient_check(arch, params, x, t).max_error <= 1e-6

    def without_variance_term(dout, cache, g, kernel="exact"):
        axis = 0 if cache.kind == "batch" else 1
        d = dout * g
        dz = cache.rstd * (d - d.mean(axis=axis, keepdims=True))  # drops − ẑ·mean(d·ẑ)
        return dz, (dout * cache.zhat).sum(axis=0), dout.sum(axis=0)

    import invariants.reference.network as network

    monkeypatch.setattr(network, "norm_backward", without_variance_term)
    assert gradient_check(arch, params, x, t).max_error > 1e-3


def test_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    z = rng.normal(size=(6, 5))
    g, s = rng.normal(size=5), rng.normal(size=5)
    out_b, _ = norms.norm_forward("batch", z, g, s)
    ref_b = torch.nn.functional.batch_norm(torch.from_numpy(z), None, None, torch.from_numpy(g), torch.from_numpy(s),
                                           training=True, eps=norms.EPS)
    out_l, _ = norms.norm_forward("layer", z, g, s)
    ref_l = torch.nn.functional.layer_norm(torch.from_numpy(z), (5,), torch.from_numpy(g), torch.from_numpy(s),
                                           eps=norms.EPS)
    assert np.allclose(out_b, ref_b.numpy(), rtol=0, atol=1e-12)
    assert np.allclose(out_l, ref_l.numpy(), rtol=0, atol=1e-12)


def test_parameters_and_signatures_include_scale_and_shift():
    arch = Architecture((2, 3, 3, 1), norm="layer")
    assert list(arch.param_shapes()) == ["W1", "b1", "g1", "s1", "W2", "b2", "g2", "s2", "W3", "b3"]
    params = init_params(arch, 0.5, 0.1)
    assert np.array_equal(params["g1"], np.ones(3)) and np.array_equal(params["s2"], np.zeros(3))
    assert unit_signatures(arch, params, 1).shape == (3, 2 + 1 + 2 + 3)
    # a tie in everything but the norm scale is no tie
    params["g1"][2] = 1.5
    assert all_classes(arch, params)[1] == [(0, 1), (2,)]
    perm = np.array([2, 0, 1])
    moved = permute_hidden(arch, params, 1, perm)
    assert np.array_equal(moved["g1"], params["g1"][perm]) and np.array_equal(moved["s1"], params["s1"][perm])


def test_default_network_is_unchanged_without_a_norm():
    arch = Architecture((3, 4, 2))
    assert arch.norm is None and list(arch.param_shapes()) == ["W1", "b1", "W2", "b2"]
    params = random_params(arch, np.random.default_rng(0))
    cache = forward(arch, params, np.ones((2, 3)))
    assert all(a is b for a, b in zip(cache.preacts, cache.linear)) and not cache.norms


@pytest.mark.parametrize("kind", norms.NORMS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_constant_init_stays_tied_with_a_norm(kind, optimizer):
    arch = Architecture((3, 5, 4, 2), "tanh", "mse", norm=kind)
    params = init_params(arch, 0.5, 0.1)
    rng = np.random.default_rng(4)
    x, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    classes = all_classes(arch, params)
    result = train(arch, params, x, t, make_optimizer(optimizer, lr=0.05), 15)
    assert hidden_tied(arch, result.params) and symmetry_defect(arch, result.params, classes) == 0.0


def _equivariant_after_training(arch, seed=0, steps=6):
    rng = np.random.default_rng(seed)
    params = random_params(arch, rng, bias_std=0.1)
    x, t = rng.normal(size=(6, arch.sizes[0])), rng.integers(0, arch.sizes[-1], 6)
    perm = rng.permutation(arch.sizes[1])
    a = train(arch, params, x, t, make_optimizer("adam", lr=0.05), steps)
    b = train(arch, permute_hidden(arch, params, 1, perm), x, t, make_optimizer("adam", lr=0.05), steps)
    moved = permute_hidden(arch, a.params, 1, perm)
    return a.losses == b.losses and all(moved[k].tobytes() == b.params[k].tobytes() for k in moved)


def test_layer_norm_needs_canonical_sums_for_bitwise_equivariance(monkeypatch):
    """Mutant: layer-norm statistics summed in index order.  A permutation reorders the summands, the
    sums round differently, and the bitwise equivariance oracle must notice."""
    arch = Architecture((3, 16, 3), "tanh", "softmax_xent", dtype="float32", norm="layer")
    assert _equivariant_after_training(arch)

    real = norms.axis_sum

    def index_order(a, axis, kernel):
        if kernel == "exact" and axis == 1:
            return np.add.accumulate(a, axis=1)[:, -1:]
        return real(a, axis, kernel)

    monkeypatch.setattr(norms, "axis_sum", index_order)
    assert not _equivariant_after_training(arch)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="unknown norm"):
        norms.norm_forward("group", np.ones((2, 2)), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        norms.norm_forward("layer", np.ones((2, 3)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="unknown kernel"):
        norms.norm_forward("batch", np.ones((2, 2)), np.ones(2), np.zeros(2), kernel="gpu")


def test_float32_stays_float32_with_norms():
    for kind in norms.NORMS:
        arch = Architecture((3, 4, 2), "tanh", "softmax_xent", dtype="float32", norm=kind)
        params = random_params(arch, np.random.default_rng(0))
        _, grads = loss_and_grad(arch, params, np.ones((3, 3), np.float32), np.array([0, 1, 1]))
        assert all(g.dtype == np.float32 for g in grads.values())
