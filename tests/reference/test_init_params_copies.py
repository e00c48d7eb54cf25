"""init_params takes an initializer's fresh array without copying it, and copies every array someone else
may hold (invariants/reference/network.py, init_params): parameters never share memory with the caller's."""
from __future__ import annotations

import weakref

import numpy as np

from invariants.reference import Architecture
from invariants.reference.network import init_params

ARCH = Architecture((3, 4, 2))


def test_fresh_arrays_are_taken_as_they_are():
    made = {}

    def fresh(name, shape):
        a = np.full(shape, 0.5)
        made[name] = weakref.ref(a)  # a weak reference: the array stays unreferenced elsewhere
        return a

    params = init_params(ARCH, fresh, 0.0)
    assert made and all(params[name] is ref() for name, ref in made.items())


def test_arrays_held_elsewhere_are_copied():
    kept = {}

    def stored(name, shape):
        kept[name] = np.full(shape, 0.5)
        return kept[name]

    given = {name: np.full(shape, 0.25) for name, shape in ARCH.param_shapes().items()}
    for params, theirs in ((init_params(ARCH, stored, 0.0), kept), (init_params(ARCH, given, given), given)):
        for name, array in theirs.items():
            assert not np.shares_memory(params[name], array)
            assert np.array_equal(params[name], array)


def test_views_and_other_dtypes_are_copied():
    base = np.full((4, 12), 0.5)
    views = init_params(ARCH, lambda name, shape: base[: shape[0], : shape[1]], 0.0)
    assert not any(np.shares_memory(v, base) for v in views.values())
    single = init_params(Architecture((3, 4, 2), dtype="float32"), lambda name, shape: np.ones(shape), 0.0)
    assert all(v.dtype == np.float32 for v in single.values())
