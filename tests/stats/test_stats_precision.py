"""The low-precision variance check (:func:`invariants.stats.precision.quantized_variance_test`) at small n.

Regression: it was a z-test with the sample standard deviation.  A few values close together make that deviation
tiny, so at n = 2 it rejected the bfloat16 normal law with probability about 0.2 at alpha = 1e-6 (n = 50: 4e-6;
``benchmarks/tail_calibration.py --checks low_precision`` and the ``low_precision_before_fix`` record).  Bernstein's
inequality with the variance bound the allowance leaves is valid at every n.
"""
from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

from invariants.laws import Law
from invariants.stats.precision import cdf_allowance, quantized_variance_test

ALPHA = 1e-6
NORMAL = Law.normal(0.0, 1.0)


def _bf16(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).astype(ml_dtypes.bfloat16).astype(np.float64)


def test_two_close_values_are_not_a_variance_fault() -> None:
    # P(|X1|, |X2| <= 0.1) = 0.0064 under N(0, 1): far more likely than alpha, so the check must accept
    assert stats.norm.cdf(0.1) - stats.norm.cdf(-0.1) > 0.07
    pool = _bf16([0.01, -0.0101])
    r = quantized_variance_test(pool, NORMAL, cdf_allowance(NORMAL, 7), ALPHA, 0.99)
    assert r.passed, r.detail


@pytest.mark.parametrize("scale, passes", [(1.0, True), (math.sqrt(2.0), False)])
def test_mutation_pair_at_bfloat16(scale: float, passes: bool) -> None:
    x = _bf16(scale * np.random.default_rng(20261206).standard_normal(100_000))
    r = quantized_variance_test(x, NORMAL, cdf_allowance(NORMAL, 7), ALPHA, 0.99)
    assert r.passed is passes, r.detail


def test_bernstein_radius_solves_the_bound() -> None:
    from invariants.stats.precision import bernstein_radius

    n, v, b = 1000, 2.0, 9.0
    t = bernstein_radius(n, v, b, ALPHA)
    assert 2 * math.exp(-n * t * t / (2 * v + 2 * b * t / 3)) == pytest.approx(ALPHA, rel=1e-9)
