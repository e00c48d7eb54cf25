"""The cell-probability bound of the point-mass and structure checks against samplers' real cells.

``jax.random.normal(dtype=float32)`` is ``sqrt(2) erfinv(u)`` with ``u`` on JAX's ``[1, 2) - 1`` lattice of
``2^23`` equiprobable points (``jax/_src/random/core.py:_uniform``; enumerated in
``benchmarks/tail_calibration.py``: 8,388,608 distinct values), so each of its values has probability ``2^-23``
whatever the density there.  The point-mass check's union bound holds only if its cell bound is at least that
(regression: the bound was ``4 max pdf ulp`` alone, ``0.88``-``0.97 x 2^-23`` for normal laws, and the check
rejected at up to 2.6 alpha: ``benchmarks/tail_calibration.py --checks point_mass``).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from invariants.laws import Law
from invariants.stats.extremes import max_cell_probability, point_mass_test

ALPHA = 1e-6
LATTICE = 2.0 ** 23


@pytest.mark.parametrize("law", [Law.normal(0.0, 1.0), Law.normal(0.0, 2 ** -0.5), Law.uniform(-1.0, 1.0),
                                 Law.truncated_normal(0.0, 2 ** -0.5, -2 ** 0.5, 2 ** 0.5)],
                         ids=["normal", "normal_std_0.7071", "uniform", "truncated_normal_std_0.7071"])
def test_cell_bound_covers_a_23_bit_lattice(law: Law) -> None:
    assert max_cell_probability(law.dist(), 23) >= 1.0 / LATTICE


def _critical_run(n: int, law: Law) -> int:
    """The smallest run of one repeated value among ``n`` distinct ones that :func:`point_mass_test` rejects."""
    base = np.arange(n, dtype=np.float64) / n - 0.5
    for k in range(2, 30):
        pool = base.copy()
        pool[:k] = pool[0]
        if not point_mass_test(pool, law.dist(), ALPHA, bits=23, presorted=True).passed:
            return k
    raise AssertionError("no run length rejected")


def test_point_mass_false_alarm_rate_on_the_jax_lattice() -> None:
    # n = 415,460 is where the old bound let a run of 7 reject: P(some value >= 7 times) = 1.165 alpha there
    n, law = 415_460, Law.normal(0.0, 1.0)
    k = _critical_run(n, law)
    rate = LATTICE * float(stats.binom.sf(k - 1, n, 1.0 / LATTICE))  # union bound, tight here
    assert rate <= ALPHA, (k, rate)
