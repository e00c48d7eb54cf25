"""Tests for invariants.stats: chi2 / Hoeffding variance tests, detectable errors, alpha budget.

Every statistical assertion runs at alpha <= 1e-6 on fixed seeds, so the suite is deterministic; the
false-alarm chance of a fresh seed is stated next to each check.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from invariants.stats import (
    AlphaBudget,
    bonferroni,
    chi2_min_detectable_rel_error,
    chi2_power,
    chi2_sample_size,
    chi2_two_sided_p,
    chi2_variance_test,
    hoeffding_min_detectable_rel_error,
    hoeffding_variance_test,
)

SEEDS = (0, 1, 2, 3, 4)


# ------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "samples, variance, alpha, match",
    [
        ([1.0], 1.0, 1e-6, "at least 2"),
        ([], 1.0, 1e-6, "at least 2"),
        ([1.0, np.nan], 1.0, 1e-6, "non-finite"),
        ([1.0, np.inf], 1.0, 1e-6, "non-finite"),
        ([1.0, 2.0], 0.0, 1e-6, "expected_variance"),
        ([1.0, 2.0], -1.0, 1e-6, "expected_variance"),
        ([1.0, 2.0], np.inf, 1e-6, "expected_variance"),
        ([1.0, 2.0], 1.0, 0.0, "alpha"),
        ([1.0, 2.0], 1.0, 1.0, "alpha"),
    ],
)
def test_chi2_rejects_bad_arguments(samples, variance, alpha, match):
    with pytest.raises(ValueError, match=match):
        chi2_variance_test(samples, variance, alpha=alpha)


def test_bad_power_and_n():
    with pytest.raises(ValueError, match="power"):
        chi2_min_detectable_rel_error(100, alpha=1e-6, power=1.0)
    with pytest.raises(ValueError, match="power"):
        chi2_min_detectable_rel_error(100, alpha=0.1, power=0.05)
    with pytest.raises(ValueError, match="at least 2"):
        chi2_min_detectable_rel_error(1)
    with pytest.raises(ValueError, match="integer"):
        chi2_min_detectable_rel_error(10.5)
    with pytest.raises(ValueError, match="rel_error"):
        chi2_sample_size(0.0)
    with pytest.raises(ValueError, match="rel_error"):
        chi2_sample_size(1.0)
    with pytest.raises(ValueError, match="mean"):
        chi2_variance_test([1.0, 2.0], 1.0, mean=math.nan)


# ------------------------------------------------------------------------------------------ exactness


def test_p_value_exact_for_two_degrees_of_freedom():
    # chi2(2) is exponential with mean 2: cdf(s) = 1 - exp(-s/2), independent of scipy's chi2
    for s in (1e-4, 0.5, 1.386, 3.0, 40.0):
        cdf = -math.expm1(-s / 2)
        expected = min(1.0, 2 * min(cdf, math.exp(-s / 2)))
        assert chi2_two_sided_p(s, 2) == pytest.approx(expected, rel=1e-12)
    # S = (x1^2 + x2^2)/v with x = (1, 2), v = 2 -> S = 2.5
    res = chi2_variance_test(np.array([[1.0], [2.0]]), 2.0)
    assert res.statistic == pytest.approx(2.5)
    assert res.p_value == pytest.approx(2 * math.exp(-1.25), rel=1e-12)
    assert res.observed_variance == pytest.approx(2.5) and res.ratio == pytest.approx(1.25)


def test_known_mean_is_used():
    x = np.array([3.0, 5.0, 3.0, 5.0])
    res = chi2_variance_test(x, 1.0, mean=4.0)
    assert res.statistic == pytest.approx(4.0) and res.observed_variance == pytest.approx(1.0)


def test_min_detectable_error_solves_power_equation():
    for n in (2, 50, 10_000, 1_300_000):
        up, down = chi2_min_detectable_rel_error(n)
        assert up > 0 and 0 < down < 1
        assert chi2_power(n, 1 + up) == pytest.approx(0.99, abs=1e-9)
        assert chi2_power(n, 1 - down) == pytest.approx(0.99, abs=1e-9)
        # a slightly smaller error is not detected with power 0.99 (the root is the smallest)
        assert chi2_power(n, 1 + up * 0.999) < 0.99
        assert chi2_power(n, 1 - down * 0.999) < 0.99


def test_design_sanity_1p3_million_values_detect_1_percent():
    up, down = chi2_min_detectable_rel_error(1_300_000, alpha=1e-6, power=0.99)
    assert 0.008 < down <= up < 0.01
    n = chi2_sample_size(0.01, alpha=1e-6, power=0.99)
    assert 1_000_000 < n <= 1_300_000
    assert max(chi2_min_detectable_rel_error(n)) <= 0.01 < max(chi2_min_detectable_rel_error(n - 1))


def test_normal_approximation_of_detectable_error():
    # large n: S ~ N(n, 2n), so d ~ (z_{alpha/2} + z_{power}) * sqrt(2/n)
    n = 4_000_000
    approx = (stats.norm.isf(0.5e-6) + stats.norm.isf(0.01)) * math.sqrt(2 / n)
    up, down = chi2_min_detectable_rel_error(n)
    assert up == pytest.approx(approx, rel=0.02) and down == pytest.approx(approx, rel=0.02)


# ------------------------------------------------------------------------------------------ behaviour


@pytest.mark.parametrize("seed", SEEDS)
def test_accepts_correct_normal_samples(seed):
    # false alarm per seed 1e-6 (exact); fixed seeds make this deterministic
    rng = np.random.default_rng(seed)
    var = 0.37
    x = rng.normal(0.0, math.sqrt(var), size=(300, 400))
    res = chi2_variance_test(x, var)
    assert res.passed, res.summary()
    assert res.n == 120_000 and res.name == "chi2_variance"


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("factor", [1.1, 0.9])
def test_mutant_variance_rejected(seed, factor):
    n = chi2_sample_size(0.05)
    assert max(chi2_min_detectable_rel_error(n)) <= 0.05  # power >= 0.99 at a 10% error, with margin
    rng = np.random.default_rng(seed)
    var = 2.0 / 700
    x = rng.normal(0.0, math.sqrt(var * factor), size=n)
    res = chi2_variance_test(x, var)
    assert not res.passed, res.summary()
    assert res.p_value < 1e-6


def test_float32_input_and_to_dict():
    rng = np.random.default_rng(7)
    x = rng.standard_normal(10_000).astype(np.float32)
    res = chi2_variance_test(x, 1.0)
    d = res.to_dict()
    json.dumps(d)
    assert d["name"] == "chi2_variance" and d["n"] == 10_000 and d["passed"] is True
    assert set(d) >= {
        "statistic",
        "p_value",
        "alpha",
        "observed_variance",
        "expected_variance",
        "ratio",
        "min_detectable_rel_error",
    }
    assert "accepted" in res.summary()


def test_monte_carlo_size_and_power():
    """The whole pipeline (normal samples -> statistic -> p-value) has the stated size and power.

    Vectorized over replicates with :func:`chi2_two_sided_p` (cross-checked against
    :func:`chi2_variance_test` on a few rows).  Rejection counts are compared with their exact binomial
    law by scipy.stats.binomtest at alpha = 1e-6; with N = 4000 it detects (power >= 0.99) a true level
    outside [0.0275, 0.0775] instead of 0.05, and a true power below 0.9755 instead of 0.99.
    """
    rng = np.random.default_rng(12345)
    n, reps, level = 50, 4000, 0.05
    # size at level 0.05
    x = rng.standard_normal((reps, n))
    p = chi2_two_sided_p(np.sum(x**2, axis=1), n)
    for row in range(3):
        assert chi2_variance_test(x[row], 1.0, alpha=level).p_value == pytest.approx(p[row], rel=1e-12)
    k = int(np.sum(p <= level))
    assert stats.binomtest(k, reps, level).pvalue > 1e-6, k
    # power at the computed minimal detectable errors (alpha = 1e-6 test)
    up, down = chi2_min_detectable_rel_error(n)
    for ratio in (1 + up, 1 - down):
        x = rng.standard_normal((reps, n)) * math.sqrt(ratio)
        k = int(np.sum(chi2_two_sided_p(np.sum(x**2, axis=1), n) <= 1e-6))
        assert stats.binomtest(k, reps, 0.99).pvalue > 1e-6, (ratio, k)


# ------------------------------------------------------------------------------------------ Hoeffding


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_hoeffding_accepts_uniform_and_rejects_mutant(seed):
    rng = np.random.default_rng(seed)
    a = math.sqrt(6 / (256 + 512))
    var = a**2 / 3
    n = 400_000
    assert max(hoeffding_min_detectable_rel_error(n, var, a)) < 0.05
    x = rng.uniform(-a, a, size=n)
    assert hoeffding_variance_test(x, var, a).passed
    # x1.1 variance, both as a wider support (bound violated) and with the bound widened to match
    y = x * math.sqrt(1.1)
    assert not hoeffding_variance_test(y, var, a).passed
    assert not hoeffding_variance_test(y, var, a * math.sqrt(1.1)).passed
    assert not hoeffding_variance_test(x * math.sqrt(0.9), var, a).passed


def test_hoeffding_is_conservative_and_validated():
    rng = np.random.default_rng(99)
    reps, n, level = 200, 200, 0.05
    x = rng.uniform(-1, 1, size=(reps, n))
    k = sum(not hoeffding_variance_test(row, 1 / 3, 1.0, alpha=level).passed for row in x)
    assert k <= reps * level  # Hoeffding: P(reject) <= alpha; in practice far below
    assert hoeffding_variance_test(np.array([0.0, 1.5]), 0.5, 1.0).p_value == 0.0
    with pytest.raises(ValueError, match="impossible"):
        hoeffding_variance_test([0.1, 0.2], 2.0, 1.0)
    with pytest.raises(ValueError, match="bound"):
        hoeffding_variance_test([0.1, 0.2], 0.01, 0.0)
    up, down = hoeffding_min_detectable_rel_error(2, 1 / 3, 1.0)
    assert up == math.inf and down <= 1.0


# ------------------------------------------------------------------------------------------ budget


def test_bonferroni_and_budget():
    assert bonferroni(1e-3, 10) == pytest.approx(1e-4)
    for bad in [(0.0, 1), (1.0, 1), (1e-3, 0), (1e-3, 2.0), (1e-3, True)]:
        with pytest.raises(ValueError):
            bonferroni(*bad)
    b = AlphaBudget(1e-4, 300)
    assert b.per_check == pytest.approx(1e-4 / 300)
    assert b.family_wise_bound <= 1e-4 * (1 + 1e-12)
    small = AlphaBudget(1e-3, 5)
    assert small.per_check == 1e-6  # capped
    for _ in range(5):
        assert small.take() == 1e-6
    assert small.remaining == 0 and small.spent == pytest.approx(5e-6)
    with pytest.raises(RuntimeError, match="exhausted"):
        small.take()
    with pytest.raises(ValueError, match="cap"):
        AlphaBudget(1e-3, 5, cap=0.0)
