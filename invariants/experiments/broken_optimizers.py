"""Optimizers with a deliberate per-unit defect, the known-bad inputs of the symmetry evidence's
mutation self-tests (SYM-CONST-01): an update that is not permutation-equivariant must break the tie."""
from __future__ import annotations

import numpy as np

from invariants.reference import Optimizer


class NudgingOptimizer(Optimizer):
    """A reference optimizer whose every step also moves the first entry of every tensor up by one ulp:
    a position-dependent update, as a per-unit learning rate would be."""

    def step(self, params, grads):
        new = super().step(params, grads)
        for v in new.values():
            v.flat[0] = np.nextafter(v.flat[0], np.inf)
        return new


def make_nudging_optimizer(name: str, **kwargs) -> NudgingOptimizer:
    """:func:`invariants.reference.make_optimizer`'s signature, returning a :class:`NudgingOptimizer`."""
    return NudgingOptimizer(name=name, **kwargs)
