"""Saddlepoint tails of the mean of squared deviations (:mod:`invariants.stats.saddlepoint`) and the moment
variance test built on them: exact against chi-square (a normal law), the normal approximation's limit as n
grows, the support's edges, the stated power (exact for a normal law)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from invariants.core.errors import BadInput
from invariants.laws import Law
from invariants.stats.moments import moment_min_detectable_rel_error, moment_variance_test, squared_deviation_law
from invariants.stats.saddlepoint import SquaredDeviation

ALPHA = 1e-6
NORMAL = SquaredDeviation.truncated_normal(-math.inf, math.inf)


@pytest.mark.parametrize("n", [10, 1000])
@pytest.mark.parametrize("y", [0.6, 1.5, 2.0])
def test_normal_law_tail_is_chi_square(n, y):
    """For a normal law, n mean(u) is chi2(n): second-order Lugannani-Rice is within 5e-4 at n = 10 and 1e-8 at
    n = 1000, also at p ~ 1e-69 (first-order: 4e-4 and 1e-5)."""
    exact = stats.chi2.sf(n * y, n) if y > 1 else stats.chi2.cdf(n * y, n)
    assert NORMAL.tail(y, n, y > 1) == pytest.approx(exact, rel=5e-4 if n == 10 else 1e-8)


def test_moments_of_the_standard_laws():
    u, tn2 = SquaredDeviation.uniform(), SquaredDeviation.truncated_normal(-2, 2)
    assert u.kurtosis == pytest.approx(1.8, rel=1e-12) and u.skewness == pytest.approx(0.63888, rel=1e-4)
    assert tn2.kurtosis == pytest.approx(Law.truncated_normal(0, 1, -2, 2).kurtosis, rel=1e-10)
    assert NORMAL.skewness == pytest.approx(math.sqrt(8), rel=1e-10)
    asym = Law.truncated_normal(0.5, 2.0, -1.0, 7.0)
    assert SquaredDeviation.of_law(asym).kurtosis == pytest.approx(asym.kurtosis, rel=1e-9)


@pytest.mark.parametrize("shape", [SquaredDeviation.uniform(), SquaredDeviation.truncated_normal(-2, 2),
                                   SquaredDeviation.truncated_normal(-100, 100)])
def test_critical_error_tends_to_the_normal_one(shape):
    """The saddlepoint critical error exceeds the normal one at small n (u is right-skewed) and converges to it."""
    za = stats.norm.isf(ALPHA / 2)
    gaps = [shape.critical_error(n, ALPHA) / (za * math.sqrt((shape.kurtosis - 1) / n)) - 1
            for n in (1000, 10_000, 100_000, 1_000_000)]
    assert all(g > 0 for g in gaps) and gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-4 and gaps[0] > 1e-3


def test_tails_at_the_edges_of_the_support():
    u = SquaredDeviation.uniform()
    assert u.u_range == pytest.approx((0.0, 3.0))
    assert u.tail(3.01, 5, True) == 0.0 and u.tail(0.0, 5, False) == 0.0 and u.tail(3.5, 5, False) == 1.0
    assert u.tail(3.0, 5, True) < 1e-60  # the edge itself: the Chernoff bound at the largest tilt
    assert 0 < u.tail(2.999, 5, True) < 1e-6
    assert u.p_value(1.0, 100) == pytest.approx(1.0, abs=0.01)
    assert u.p_value(1.3, 100) == u.p_value(0.7, 100)  # two-sided in |ratio - 1|


def test_kurtosis_only_means_the_symmetric_law():
    assert SquaredDeviation.from_kurtosis(1.8) == SquaredDeviation.uniform()
    tn2 = SquaredDeviation.from_kurtosis(Law.truncated_normal(0, 1, -2, 2).kurtosis)
    assert tn2.b == pytest.approx(2.0, rel=1e-9) and tn2.a == -tn2.b
    with pytest.raises(ValueError):
        SquaredDeviation.from_kurtosis(4.0)
    with pytest.raises(ValueError):
        squared_deviation_law(1.8, SquaredDeviation.truncated_normal(-2, 2))  # kurtosis not the shape's
    with pytest.raises(ValueError):
        SquaredDeviation.of_law(Law.constant(0.0))
    with pytest.raises(BadInput):
        Law.uniform(-1, 1).standard_cut_points()
    assert Law.truncated_normal(0.0, 0.02, -2.0, 2.0).standard_cut_points() == pytest.approx((-100.0, 100.0))


def test_verdict_flips_at_the_critical_error():
    """The test rejects iff |ratio - 1| exceeds the saddlepoint critical error (the one the detectable errors use)."""
    n, shape = 1000, SquaredDeviation.truncated_normal(-3, 3)
    d = shape.critical_error(n, ALPHA)
    for ratio, passed in ((1 + 0.999 * d, True), (1 + 1.001 * d, False), (1 - 0.999 * d, True), (1 - 1.001 * d, False)):
        x = np.full(n, math.sqrt(ratio))  # mean 0, mean square = ratio
        assert moment_variance_test(x, 1.0, shape.kurtosis, ALPHA, 0.0, 0.99, shape).passed is passed


def test_stated_power_is_exact_for_a_normal_law():
    """For a normal law n mean(u) (1 + d) is (1 + d) chi2(n): at the stated detectable errors the test rejects
    with probability 0.99 (to 1e-4)."""
    n = 2000
    d_c = NORMAL.critical_error(n, ALPHA)
    up, down = moment_min_detectable_rel_error(n, 3.0, ALPHA, 0.99, NORMAL)
    assert stats.chi2.sf(n * (1 + d_c) / (1 + up), n) == pytest.approx(0.99, abs=1e-4)
    assert stats.chi2.cdf(n * (1 - d_c) / (1 - down), n) == pytest.approx(0.99, abs=1e-4)


@pytest.mark.parametrize("n", [10, 1000, 20480, 10**6, 6 * 10**8])
def test_p_value_near_the_centre_is_near_one_and_falls_with_the_error(n):
    """Regression (MLX catalogue, LSTM Wh[g]): a uniform sample at ratio 1.00001 with n = 20480 got p = 0, from
    Lugannani-Rice's 1/w^3 - 1/v^3 cancelling near the centre.  Known-bad: that p; known-good: p near 1 at
    the centre and non-increasing as |ratio - 1| grows, through the switch to Lugannani-Rice."""
    for law in (SquaredDeviation.uniform(), SquaredDeviation.truncated_normal(-2, 2), NORMAL):
        sd = math.sqrt((law.kurtosis - 1.0) / n)
        zs = [0.0, 1e-4, 2e-3, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1.1, 2.0, 3.0]
        ps = [law.p_value(1.0 + z * sd, n) for z in zs]
        assert all(p > 0.95 for p, z in zip(ps, zs) if z <= 0.01), ps
        assert all(b <= a + 1e-3 for a, b in zip(ps, ps[1:])), ps


def test_kept_quadrature_arrays_are_read_only():
    """The memoised quadrature (invariants/stats/saddlepoint.py ``quadrature``) hands every caller at one tilt the
    same arrays.  Known-bad: a caller scaling the kept weights in place; it must raise, not change every later
    tail read from that entry.  Known-good: reading them (the tail and the cumulants) is unchanged, and a tilt of 0
    (never kept) still returns fresh, writable arrays."""
    from invariants.stats import saddlepoint

    law = SquaredDeviation.truncated_normal(-2.0, 2.0)
    t = 0.123456789  # a tilt no other test keeps
    before = law.cumulants(t)
    w, _, _, u, _ = saddlepoint.quadrature(law, t)
    for arr in (w, u):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr *= 2.0
    assert law.cumulants(t) == before
    w0, _, _, u0, _ = saddlepoint.quadrature(law, 0.0)
    assert w0.flags.writeable and u0.flags.writeable
