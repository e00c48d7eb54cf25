"""Reference network: gradients against finite differences, bitwise permutation equivariance,
and the mutation self-tests that show both oracles can fail."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from invariants.hypothesis_profiles import scaled
from invariants.reference import (
    ACTIVATIONS,
    LOSSES,
    OPTIMIZERS,
    Architecture,
    forward,
    kernels,
    loss_and_grad,
    make_optimizer,
    permute_hidden,
    random_params,
    train,
)
from invariants.reference import network as network_module
from invariants.reference.gradcheck import gradient_check, kink_margin, numeric_grad
from invariants.reference.norms import NORMS

seeds = st.integers(0, 2**32 - 1)


def _data(arch: Architecture, rng: np.random.Generator, batch: int):
    x = rng.normal(size=(batch, arch.sizes[0]))
    if arch.loss == "mse":
        return x, rng.normal(size=(batch, arch.sizes[-1]))
    return x, rng.integers(0, arch.sizes[-1], size=batch)


@settings(max_examples=40)
@given(
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    loss=st.sampled_from(LOSSES),
    bias=st.booleans(),
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    norm=st.sampled_from((None, *NORMS)),
    seed=seeds,
)
def test_gradients_match_central_differences(activation, loss, bias, sizes, norm, seed):
    sizes = tuple(sizes[:-1]) + (max(sizes[-1], 2),) if loss == "softmax_xent" else tuple(sizes)
    arch = Architecture(sizes, activation, loss, bias=bias, norm=norm)
    rng = np.random.default_rng(seed)
    params = random_params(arch, rng, bias_std=0.5 if bias else 0.0)
    for name in params:  # non-trivial norm scales and shifts
        if name[0] in "gs":
            params[name] = params[name] + rng.normal(0.0, 0.5, params[name].shape)
    x, t = _data(arch, rng, 3)
    # finite differences are invalid within ~h of a kink; skip those (measure-zero) points
    assume(kink_margin(arch, params, x) > 1e-4)
    errors = dict(gradient_check(arch, params, x, t).errors)
    if norm == "batch" and bias:
        # batch norm subtracts the batch mean, so a hidden bias has gradient exactly 0: the relative
        # error compares two rounding residues.  Check those absolutely instead: the analytic one is a
        # sum of a few O(1) terms that cancel (≤ 1e-12), the central difference is O(ε·|L|/h) ≈ 1e-9.
        _, analytic = loss_and_grad(arch, params, x, t)
        numeric = numeric_grad(arch, {k: v.copy() for k, v in params.items()}, x, t)
        for l in arch.hidden_layers:
            assert np.max(np.abs(analytic[f"b{l}"])) <= 1e-12 and np.max(np.abs(numeric[f"b{l}"])) <= 1e-8
            del errors[f"b{l}"]
    assert max(errors.values()) <= 1e-6


def _backward_without_activation_derivative(arch, params, x, t, rng=None, masks=None):
    """Mutant: backprop forgets the φ'(z) factor (one term of the chain rule dropped)."""
    cache = network_module.forward(arch, params, x)
    _, delta = network_module.get_loss(arch.loss)(cache.output, t)
    grads = {}
    for l in range(arch.depth, 0, -1):
        grads[f"W{l}"] = delta.T @ cache.inputs[l - 1]
        if arch.bias:
            grads[f"b{l}"] = delta.sum(axis=0)
        if l > 1:
            delta = delta @ params[f"W{l}"]
    return 0.0, {k: grads[k] for k in params}


def _backward_without_bias_gradient(arch, params, x, t, rng=None, masks=None):
    loss, grads = loss_and_grad(arch, params, x, t)
    return loss, {k: (np.zeros_like(g) if k.startswith("b") else g) for k, g in grads.items()}


@pytest.mark.parametrize("mutant", [_backward_without_activation_derivative, _backward_without_bias_gradient])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "gelu"])
def test_gradient_check_rejects_dropped_term(mutant, activation):
    arch = Architecture((3, 4, 2), activation, "mse")
    rng = np.random.default_rng(7)
    params = random_params(arch, rng, bias_std=0.5)
    x, t = _data(arch, rng, 5)
    assert gradient_check(arch, params, x, t).max_error <= 1e-6
    assert gradient_check(arch, params, x, t, backward=mutant).max_error > 1e-3


def _same_bits(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a
    )


def _train_both(arch, params, perm, layer, x, t, opt_kwargs, steps):
    permuted = permute_hidden(arch, params, layer, perm)
    runs = []
    for start in (params, permuted):
        opt = make_optimizer(**opt_kwargs)
        runs.append(train(arch, start, x, t, opt, steps))
    return runs


@pytest.mark.usefixtures("kernel_path")  # compiled accelerator and numpy definition
@scaled(30)
@given(
    optimizer=st.sampled_from(OPTIMIZERS),
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    loss=st.sampled_from(LOSSES),
    dtype=st.sampled_from(["float32", "float64"]),
    hidden=st.lists(st.integers(2, 12), min_size=1, max_size=3),
    weight_decay=st.sampled_from([0.0, 1e-2]),
    clip_norm=st.sampled_from([None, 0.1]),
    norm=st.sampled_from((None, *NORMS)),
    seed=seeds,
    data=st.data(),
)
def test_exact_kernel_is_bitwise_permutation_equivariant(
    optimizer, activation, loss, dtype, hidden, weight_decay, clip_norm, norm, seed, data
):
    arch = Architecture((3, *hidden, 3), activation, loss, dtype=dtype, norm=norm)
    rng = np.random.default_rng(seed)
    params = random_params(arch, rng, bias_std=0.1)
    x, t = _data(arch, rng, 6)
    layer = data.draw(st.sampled_from(list(arch.hidden_layers)), label="layer")
    perm = rng.permutation(arch.sizes[layer])
    opt_kwargs = dict(name=optimizer, lr=0.05, weight_decay=weight_decay, clip_norm=clip_norm)
    a, b = _train_both(arch, params, perm, layer, x, t, opt_kwargs, steps=8)
    assert a.losses == b.losses
    assert _same_bits(permute_hidden(arch, a.params, layer, perm), b.params)
    for slot, state in a.optimizer.state.items():
        assert _same_bits(permute_hidden(arch, state, layer, perm), b.optimizer.state[slot]), slot


@pytest.mark.usefixtures("numpy_path")  # the mutant replaces the numpy definition
def test_equivariance_oracle_rejects_index_order_summation(monkeypatch):
    """Mutant kernel: sums in index order without the canonical sort.  Identical terms in a new order
    round differently, and the bitwise oracle must notice (on a fixed, known-failing configuration)."""

    def index_order_sum(terms, axis=-1):
        terms = np.moveaxis(np.asarray(terms), axis, -1)
        return np.add.accumulate(terms, axis=-1)[..., -1]

    arch = Architecture((3, 16, 3), "tanh", "softmax_xent", dtype="float32")
    rng = np.random.default_rng(0)
    params = random_params(arch, rng, bias_std=0.1)
    x, t = _data(arch, rng, 6)
    perm = rng.permutation(16)
    kwargs = dict(name="adam", lr=0.05)
    a, b = _train_both(arch, params, perm, 1, x, t, kwargs, steps=8)
    assert _same_bits(permute_hidden(arch, a.params, 1, perm), b.params)
    monkeypatch.setattr(kernels, "canonical_sum", index_order_sum)
    a, b = _train_both(arch, params, perm, 1, x, t, kwargs, steps=8)
    assert not _same_bits(permute_hidden(arch, a.params, 1, perm), b.params)


@pytest.mark.usefixtures("kernel_path")  # compiled accelerator and numpy definition
def test_canonical_sum_is_permutation_invariant_and_signed_zero_safe():
    rng = np.random.default_rng(3)
    terms = rng.normal(size=(50, 33)).astype(np.float32) * np.float32(1e4)
    base = kernels.canonical_sum(terms)
    for _ in range(5):
        shuffled = terms[:, rng.permutation(33)]
        assert kernels.canonical_sum(shuffled).tobytes() == base.tobytes()
    zeros = np.array([[-0.0, 0.0], [0.0, -0.0], [-0.0, -0.0]])
    out = kernels.canonical_sum(zeros)
    assert list(np.signbit(out)) == [False, False, True]
    assert kernels.canonical_sum(np.zeros((2, 0))).shape == (2,)


def _zero_heavy(rng: np.random.Generator, rows: int, n: int, dtype: str) -> np.ndarray:
    """Rows of signed zeros with a few nonzero values (some rows all zeros, some all -0.0)."""
    terms = np.where(rng.random((rows, n)) < 0.5, 0.0, -0.0)
    live = rng.random((rows, n)) < rng.uniform(0.0, 0.3, size=(rows, 1))
    terms[live] = rng.normal(size=int(live.sum())) * 10.0 ** rng.integers(-20, 20, size=int(live.sum()))
    terms[0] = -0.0
    return terms.astype(dtype)


@pytest.mark.usefixtures("kernel_path")  # compiled accelerator and numpy definition
@scaled(60)
@given(n=st.integers(1, 300), dtype=st.sampled_from(["float32", "float64"]), seed=seeds)
def test_canonical_sum_is_bitwise_invariant_on_zero_heavy_terms(n, dtype, seed):
    """Regression (issue 17): numpy's vectorised sort scrambles the signs of zeros, so the old kernel's
    sum of a zero-heavy row depended on the order of its terms."""
    rng = np.random.default_rng(seed)
    terms = _zero_heavy(rng, 8, n, dtype)
    base = kernels.canonical_sum(terms)
    assert kernels.canonical_sum(terms[:, rng.permutation(n)]).tobytes() == base.tobytes()
    zero_rows = ~np.any(terms != 0, axis=1)
    all_negative = zero_rows & np.all(np.signbit(terms), axis=1)
    assert np.all(base[zero_rows] == 0)
    assert list(np.signbit(base[zero_rows])) == list(all_negative[zero_rows])


def _dead_relu_net(seed: int, hidden: tuple[int, ...] = (9, 17)):
    """Bias-free ReLU net whose first hidden layer is dead (zero weights), so every product in the next
    layer is a signed zero: the pre-activations there are sums of ±0 only."""
    arch = Architecture((3, *hidden, 3), "relu", "mse", bias=False)
    rng = np.random.default_rng(seed)
    params = random_params(arch, rng)
    params["W1"] = np.zeros_like(params["W1"])
    x, t = _data(arch, rng, 6)
    return arch, params, x, t, rng


@pytest.mark.usefixtures("kernel_path")  # compiled accelerator and numpy definition
@scaled(30)
@given(seed=seeds)
def test_dead_relu_layer_permutation_is_bitwise_equivariant(seed):
    """Network-level regression: permuting a dead ReLU layer leaves the next layer's pre-activations
    (signed zeros) and every later value bit for bit unchanged, and permutes the gradients."""
    arch, params, x, t, rng = _dead_relu_net(seed)
    perm = rng.permutation(arch.sizes[1])
    moved = permute_hidden(arch, params, 1, perm)
    a, b = forward(arch, params, x), forward(arch, moved, x)
    for za, zb in zip(a.preacts[1:], b.preacts[1:]):
        assert za.tobytes() == zb.tobytes()
    _, g = loss_and_grad(arch, params, x, t)
    _, g_perm = loss_and_grad(arch, moved, x, t)
    assert _same_bits(permute_hidden(arch, g, 1, perm), g_perm)


@pytest.mark.usefixtures("numpy_path")  # the mutant replaces the numpy definition
def test_signed_zero_oracle_rejects_a_sort_that_scrambles_zero_signs(monkeypatch):
    """Mutant kernel: the old one, with a sort that scrambles zero signs by position (every zero takes
    the sign of the first zero in the unsorted input; numpy's vectorised sort does something of the kind
    on this machine, not on all), made deterministic so the mutation is seen everywhere."""
    original = np.sort

    def scrambling_sort(a, axis=-1):
        out = original(a, axis=axis)
        zeros = a == 0
        first = np.take_along_axis(np.signbit(a), np.argmax(zeros, axis=axis)[..., None], axis=axis)
        return np.where(out == 0, np.where(first, -0.0, 0.0).astype(out.dtype), out)

    def old_canonical_sum(terms, axis=-1):
        terms = np.moveaxis(np.asarray(terms), axis, -1)
        return np.add.accumulate(scrambling_sort(terms, axis=-1), axis=-1)[..., -1]

    terms = np.array([[0.0, -0.0, -0.0]])
    assert kernels.canonical_sum(terms).tobytes() == kernels.canonical_sum(terms[:, ::-1]).tobytes()
    monkeypatch.setattr(kernels, "canonical_sum", old_canonical_sum)
    assert kernels.canonical_sum(terms).tobytes() != kernels.canonical_sum(terms[:, ::-1]).tobytes()
    with pytest.raises(AssertionError):
        test_dead_relu_layer_permutation_is_bitwise_equivariant.hypothesis.inner_test(seed=0)


def test_exact_and_blas_kernels_agree_to_rounding():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(7, 40)), rng.normal(size=(40, 9))
    # both are sums of 40 products: |error| ≤ 40·ε·Σ|a_i b_i| for either order (Higham 2002, eq. 3.5)
    bound = 2 * 40 * np.finfo(np.float64).eps * (np.abs(a) @ np.abs(b))
    assert np.all(np.abs(kernels.matmul(a, b) - kernels.matmul(a, b, "blas")) <= bound)


def test_dropout_needs_an_explicit_generator():
    arch = Architecture((2, 3, 1), hidden_dropout=0.5)
    params = random_params(arch, np.random.default_rng(0))
    with pytest.raises(ValueError, match="np.random.Generator"):
        loss_and_grad(arch, params, np.ones((2, 2)), np.ones((2, 1)))
    loss_a, _ = loss_and_grad(arch, params, np.ones((2, 2)), np.ones((2, 1)), rng=np.random.default_rng(1))
    loss_b, _ = loss_and_grad(arch, params, np.ones((2, 2)), np.ones((2, 1)), rng=np.random.default_rng(1))
    assert loss_a == loss_b


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sizes=(3,)), "sizes"),
        (dict(sizes=(3, 0, 1)), "sizes"),
        (dict(sizes=(3, 1), activation="swish"), "unknown activation"),
        (dict(sizes=(3, 1), loss="hinge"), "unknown loss"),
        (dict(sizes=(3, 1), kernel="gpu"), "unknown kernel"),
        (dict(sizes=(3, 1), hidden_dropout=1.0), "dropout"),
        (dict(sizes=(3, 1), dtype="float16"), "dtype"),
        (dict(sizes=(3, 1), norm="group"), "unknown norm"),
    ],
)
def test_architecture_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Architecture(**kwargs)


def test_float32_stays_float32():
    arch = Architecture((3, 4, 2), "gelu", "softmax_xent", dtype="float32")
    rng = np.random.default_rng(0)
    params = random_params(arch, rng)
    x, t = _data(arch, rng, 4)
    res = train(arch, params, x, t, make_optimizer("adam", lr=0.01, clip_norm=1.0), 3)
    assert all(v.dtype == np.float32 for v in res.params.values())
    assert all(v.dtype == np.float32 for s in res.optimizer.state.values() for v in s.values())
