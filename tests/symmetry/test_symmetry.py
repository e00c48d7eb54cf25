"""Symmetry primitives: classes, symmetry defect, stabilizer order, and their mutation self-tests."""
from __future__ import annotations

import math

import numpy as np
import pytest

from invariants import symmetry
from invariants.reference import Architecture, init_params, random_params


def _constant_net(value=0.3, sizes=(3, 5, 4, 2)):
    arch = Architecture(sizes, "tanh")
    return arch, init_params(arch, value, value)


def test_constant_init_gives_one_class_per_layer():
    arch, params = _constant_net()
    classes = symmetry.all_classes(arch, params)
    assert classes == {1: [(0, 1, 2, 3, 4)], 2: [(0, 1, 2, 3)]}
    assert symmetry.stabilizer_order(classes) == math.factorial(5) * math.factorial(4)
    assert symmetry.symmetry_defect(arch, params, classes) == 0.0
    assert symmetry.is_symmetric(arch, params)


def test_one_ulp_nudge_is_flagged():
    arch, params = _constant_net()
    classes = symmetry.all_classes(arch, params)
    nudged = dict(params)
    nudged["W2"] = params["W2"].copy()
    nudged["W2"][2, 1] = np.nextafter(nudged["W2"][2, 1], np.inf)
    assert symmetry.symmetry_defect(arch, nudged, classes) > 0.0
    new_classes = symmetry.all_classes(arch, nudged)
    # unit 1 of layer 1 (outgoing column) and unit 2 of layer 2 (incoming row) split off
    assert (1,) in new_classes[1] and (2,) in new_classes[2]


@pytest.mark.parametrize("which", ["W1", "b1", "W2"])
def test_interchangeable_needs_all_three_ties(which):
    """Equal incoming rows are not enough: an outgoing column or bias difference separates units."""
    arch, params = _constant_net(sizes=(3, 2, 1))
    broken = {k: v.copy() for k, v in params.items()}
    if which == "W1":
        broken["W1"][1, 0] += 1.0
    elif which == "b1":
        broken["b1"][1] += 1.0
    else:
        broken["W2"][0, 1] += 1.0
    assert symmetry.all_classes(arch, broken) == {1: [(0,), (1,)]}
    assert symmetry.stabilizer_order(symmetry.all_classes(arch, broken)) == 1


def test_signed_zero_counts_as_different_bits():
    arch, params = _constant_net(value=0.0, sizes=(2, 2, 1))
    params["W1"][1, 0] = -0.0
    assert symmetry.all_classes(arch, params)[1] == [(0,), (1,)]


def test_random_init_has_no_ties_and_rejects_non_hidden_layers():
    arch = Architecture((4, 6, 3))
    params = random_params(arch, np.random.default_rng(0))
    assert symmetry.symmetric_classes(symmetry.all_classes(arch, params)) == {1: []}
    with pytest.raises(ValueError, match="not a hidden layer"):
        symmetry.unit_classes(arch, params, 2)
