"""The slope fit and its verdict (invariants.scaling.fit): exact slopes on exact data, the verdict's boundaries,
the seeds that would decide, and the interval's coverage at α (known-good and known-bad inputs)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from invariants.scaling.fit import (GROWING, S_MIN, THETA1, UNDECIDED, VANISHING, classify, fit_slope,
                                    per_seed_slopes, seeds_needed, t_quantile)

SIZES = [64, 128, 256, 512]


def power_law(slope: float, seeds: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.log2(SIZES)
    return 2.0 ** (slope * x[None, :] + noise * rng.standard_normal((seeds, len(SIZES))))


def test_exact_power_laws_give_their_slope_per_seed():
    for slope in (-1.0, 0.0, 0.5, 2.0, 3.0):
        b = per_seed_slopes(SIZES, power_law(slope, 3, 0.0) * np.array([[1.0], [5.0], [0.1]]))
        np.testing.assert_allclose(b, slope, atol=1e-12)


def test_known_good_flat_data_is_theta1_and_known_bad_growth_is_growing():
    assert fit_slope(SIZES, power_law(0.0, 16, 0.05), 1e-6).verdict == THETA1
    grow = fit_slope(SIZES, power_law(1.0, 16, 0.05), 1e-6)
    assert grow.verdict == GROWING and abs(grow.slope - 1.0) < 0.05 and grow.rms_slope == grow.slope / 2
    assert fit_slope(SIZES, power_law(-1.0, 16, 0.05), 1e-6).verdict == VANISHING


def test_verdict_boundaries():
    assert classify(-0.2, 0.2) == THETA1
    assert classify(-0.1, S_MIN) == UNDECIDED           # the band is open: touching s_min is not Θ(1)
    assert classify(S_MIN, 1.0) == GROWING and classify(0.1, 1.0) == UNDECIDED
    assert classify(-1.0, -S_MIN) == VANISHING and classify(-1.0, 0.3) == UNDECIDED


def test_few_seeds_are_paid_for_and_the_report_says_how_many_would_decide():
    fit = fit_slope(SIZES, power_law(0.0, 3, 0.3), 1e-6)
    assert fit.verdict == UNDECIDED and fit.seeds_needed and fit.seeds_needed > 3
    wide = fit.seeds_needed
    # at the seeds it named, the same spread decides
    half = t_quantile(1e-6, wide - 1) * fit.sd / math.sqrt(wide)
    assert half < S_MIN - abs(fit.slope)
    assert seeds_needed(S_MIN, 0.1, 1e-6) is None      # a slope on the threshold: no number of seeds decides
    one = fit_slope(SIZES, power_law(0.0, 1, 0.1), 1e-6)
    assert one.verdict == UNDECIDED and math.isinf(one.hi)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="2 distinct sizes"):
        per_seed_slopes([64, 64], np.ones((2, 2)))
    with pytest.raises(ValueError, match="positive and finite"):
        per_seed_slopes(SIZES, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="shape"):
        per_seed_slopes(SIZES, np.ones((2, 3)))
    with pytest.raises(ValueError, match="alpha"):
        fit_slope(SIZES, np.ones((2, 4)), 0.0)


def test_the_interval_covers_the_true_slope_at_its_level():
    """Calibration of the t-interval at α = 0.01 (cheap to count): 4,000 fits of normal per-seed noise; the
    misses are Binomial(4000, 0.01), so more than 80 (p < 1e-7 under the nominal rate) would be a defect."""
    rng = np.random.default_rng(7)
    misses = 0
    for _ in range(4000):
        m = 2.0 ** (0.4 * np.log2(SIZES)[None, :] + 0.2 * rng.standard_normal((5, 4)))
        f = fit_slope(SIZES, m, 0.01)
        misses += not (f.lo <= 0.4 <= f.hi)
    assert 10 <= misses <= 80, misses


def test_the_detectable_slope_is_detected_with_power_099():
    """At the slope a fit reports as detectable, fits with the same per-seed spread call it growing >= 99% of the
    time (known-good); just above s_min they mostly do not (known-bad: the power there is far below 0.99)."""
    rng = np.random.default_rng(11)
    seeds, sd = 8, 0.1
    x = np.log2(SIZES)
    ref = fit_slope(SIZES, 2.0 ** (sd * rng.standard_normal(seeds)[:, None] * x[None, :]), 1e-6)
    # more than the known-variance shortcut t_{α/2} + t_{0.99}: the seeds' spread is itself estimated
    assert ref.detectable > ref.s_min + (t_quantile(1e-6, seeds - 1) + t_quantile(0.02, seeds - 1)) * ref.sd / \
        math.sqrt(seeds)

    def power(slope, runs=1000):
        hits = 0
        for _ in range(runs):
            b = slope + ref.sd * rng.standard_normal(seeds)  # per-seed slopes with the reference spread
            hits += fit_slope(SIZES, 2.0 ** (b[:, None] * x[None, :]), 1e-6).verdict == GROWING
        return hits / runs

    assert power(ref.detectable) >= 0.985   # 0.99 nominal; 1000 runs: sd of the estimate 0.003
    assert power(ref.s_min + 0.01) < 0.5
