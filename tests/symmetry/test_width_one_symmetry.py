"""The width-1 twin of a symmetric network (invariants.symmetry): collapse, scales, the bitwise
trajectory equivalence for hidden widths 1, 2, 4, and the inputs it must reject."""
from __future__ import annotations

import numpy as np
import pytest

from invariants.reference import Architecture, init_params, make_optimizer, random_params, train
from invariants.reference.network import forward
from invariants.symmetry import (
    WidthOneTwin,
    collapse_to_width_one,
    hidden_tied,
    n_distinct_units,
    random_symmetric_params,
    width_one_architecture,
    width_one_scales,
)


def test_sums_of_up_to_four_equal_terms_are_exact_multiples():
    """The fact behind 'bitwise for widths 1, 2, 4': p + p = 2p and fl(fl(3p) + p) = 4p for every
    float; for 8 equal terms that fails (and width 3's fl(3p) differs from the twin's fl(fl(3w)·h))."""
    p = np.random.default_rng(0).normal(size=200_000)
    for n, exact in ((2, True), (4, True), (8, False)):
        s = p.copy()
        for _ in range(n - 1):
            s = s + p
        assert np.array_equal(s, n * p) is exact


def test_random_symmetric_params_are_tied_and_collapse():
    arch = Architecture((3, 4, 2, 2), "tanh", "softmax_xent", dtype="float32")
    params = random_symmetric_params(arch, np.random.default_rng(1))
    assert hidden_tied(arch, params) and all(v.dtype == np.float32 for v in params.values())
    narrow = collapse_to_width_one(arch, params)
    assert {k: v.shape for k, v in narrow.items()} == {"W1": (1, 3), "b1": (1,), "W2": (1, 1), "b2": (1,),
                                                       "W3": (2, 1), "b3": (2,)}
    assert narrow["W2"][0, 0] == 4 * params["W2"][0, 0] and narrow["W3"][1, 0] == 2 * params["W3"][1, 0]
    x = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    assert np.array_equal(forward(arch, params, x).output, forward(width_one_architecture(arch), narrow, x).output)


def test_scales():
    arch = Architecture((5, 4, 2, 3))
    assert width_one_scales(arch) == {"W1": (1, 4), "b1": (1, 4), "W2": (4, 2), "b2": (1, 2), "W3": (2, 1),
                                      "b3": (1, 1)}


@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "adam", "adamw", "adagrad"])
def test_twin_follows_a_constant_init_net_bitwise(optimizer):
    arch = Architecture((3, 4, 2, 2), "sigmoid", "mse", dtype="float32")
    params = init_params(arch, 0.3, 0.1)
    rng = np.random.default_rng(3)
    x, t = rng.normal(size=(6, 3)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    twin = WidthOneTwin(arch, params, optimizer, lr=0.05, weight_decay=0.01)
    opt = make_optimizer(optimizer, lr=0.05, weight_decay=0.01)
    for _ in range(25):
        loss = twin.step(x, t)
        step = train(arch, params, x, t, opt, 1)
        params = step.params
        assert step.losses[0] == loss
        collapsed = collapse_to_width_one(arch, params)
        assert all(collapsed[k].tobytes() == twin.params[k].tobytes() for k in collapsed)


def test_collapse_rejects_a_network_outside_the_symmetric_subspace():
    arch = Architecture((3, 4, 2))
    params = random_params(arch, np.random.default_rng(0))
    assert n_distinct_units(arch, params) == {1: 4}
    with pytest.raises(ValueError, match="symmetric subspace"):
        collapse_to_width_one(arch, params)


@pytest.mark.parametrize("kwargs", [dict(norm="layer"), dict(hidden_dropout=0.5), dict(input_dropout=0.1)])
def test_twin_rejects_norms_and_dropout(kwargs):
    with pytest.raises(ValueError, match="width-1 twin"):
        width_one_architecture(Architecture((3, 4, 2), **kwargs))


def test_twin_rejects_clipping():
    arch = Architecture((3, 2, 2))
    with pytest.raises(ValueError, match="clipping"):
        WidthOneTwin(arch, init_params(arch, 0.5), "sgd", lr=0.1, clip_norm=1.0)
