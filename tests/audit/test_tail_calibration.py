"""The tail calibration of ``benchmarks/tail_calibration.py`` can fail: a miscalibrated mutant of a check (run
at twice its alpha, or with a wrong standard deviation) is flagged, the check itself is not.  Tiny draw
counts and fixed seeds: milliseconds, deterministic.  The full run (10^8+ values per tail) is the script's.
"""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from invariants.stats.extremes import extremes_test
from invariants.stats.haar_null import pair_tail
from invariants.stats.moments import mean_test
from invariants.stats.variance import chi2_variance_test

REPO = Path(__file__).resolve().parents[2]
ALPHA = 1e-6
N = 200


@pytest.fixture(scope="module")
def T():
    spec = importlib.util.spec_from_file_location("bench_tail_calibration", REPO / "benchmarks" / "tail_calibration.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_exact_chi2_flags_a_test_at_twice_its_alpha(T):
    good = T.check_rejects("chi2_variance", T.LAWS["normal"], ALPHA)
    r = T.exact_chi2(good, N, ALPHA)
    assert not r.flagged and r.rate == pytest.approx(ALPHA, rel=1e-6)
    mutant = T.exact_chi2(lambda pool: not chi2_variance_test(pool, 1.0, 2 * ALPHA).passed, N, ALPHA)
    assert mutant.flagged and mutant.rate == pytest.approx(2 * ALPHA, rel=1e-6)


@pytest.mark.parametrize("law", ["normal", "uniform"])
def test_exact_extremes_flags_a_missing_bonferroni_factor(T, law):
    L = T.LAWS[law]
    good = T.exact_extremes(T.check_rejects("extremes", L, ALPHA), L, N, ALPHA)
    assert not good.flagged and good.rate > 0.9 * ALPHA
    bad = T.exact_extremes(lambda pool: not extremes_test(pool, L.dist(), L.lo, L.hi, 2 * ALPHA, T.BITS).passed,
                           L, N, ALPHA)
    assert bad.flagged


def test_importance_sampling_flags_a_mean_test_with_the_wrong_std(T):
    L = T.LAWS["uniform"]
    good = T.clt_rate(T.check_rejects("mean", L, ALPHA), "mean", L, N, 300, ALPHA, seed=1)
    assert not good.flagged and good.lo < ALPHA < 2 * good.hi
    # a std 20% too small makes the threshold 4.9 x 0.8 = 3.9 sigma: a rate near 1e-4
    bad = T.clt_rate(lambda pool: not mean_test(pool, L.mean, 0.8 * L.std, ALPHA).passed, "mean", L, N, 300,
                     ALPHA, seed=1)
    assert bad.flagged and bad.lo > 10 * ALPHA


def test_importance_sampling_agrees_with_plain_monte_carlo(T):
    """At alpha = 0.05 plain simulation resolves the rate: both intervals contain the uniform's exact-ish
    rate, and overlap."""
    L = T.LAWS["uniform"]
    rejects = T.check_rejects("mean", L, 0.05)
    c_lo, c_hi = T.clt_flips(rejects, "mean", L, 50)
    tilted = T.Tilted(L, T.g_of("mean", L)[0])
    a = T.is_rate(tilted, c_lo, c_hi, 50, 2000, 0.05, seed=2)
    b = T.mc_rate(tilted, c_lo, c_hi, 50, 20000, 0.05, seed=3)
    assert a.lo <= b.hi and b.lo <= a.hi
    assert a.lo < 0.05 < a.hi and b.lo < 0.05 < b.hi


def test_clopper_pearson_bounds(T):
    lo, hi = T.clopper_pearson(0, 1000)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 1000), rel=1e-9)
    lo, hi = T.clopper_pearson(5, 100)
    assert lo < 0.05 < hi


def test_support_of_a_continuous_law_is_never_crossed(T):
    L = T.LAWS["uniform"]
    assert T.exact_support(T.check_rejects("support", L, ALPHA), L, N, ALPHA).rate == 0.0
    # a mutant that rejects values at the bound is caught
    assert T.exact_support(lambda pool: bool(np.any(np.abs(pool) >= 1.0)), L, N, ALPHA).flagged


@pytest.mark.parametrize("law, ratio", [("truncated_normal", 1.1), ("truncated_normal_100std", 1.2)])
def test_tilted_draws_have_the_tilted_mean(T, law, ratio):
    """Also at +-100 std, where the tilted law is drawn as the tilted normal (rejection from the law itself would
    never accept)."""
    L = T.LAWS[law]
    g = T.g_of("moment_variance", L)[0]
    tilted = T.Tilted(L, g)
    t = tilted.solve(ratio * L.variance)
    x = tilted.draw(t, np.random.default_rng(0), 200_000)
    assert abs(float(g(x).mean()) - ratio * L.variance) < 6 * float(g(x).std()) / math.sqrt(x.size)


def test_importance_sampling_flags_a_variance_test_without_the_skewness_correction(T):
    """trunc_normal_(std=0.02) (+-100 std: (x - mu)^2 is nearly chi2(1), skewness sqrt(8)) at n = 1000: the
    normal-approximation p-value (the pre-saddlepoint test, i.e. the saddlepoint with its skewness dropped)
    rejects ~2.3 alpha; the saddlepoint test stays within alpha."""
    L, n = T.LAWS["truncated_normal_100std"], 1000
    good = T.clt_rate(T.check_rejects("moment_variance", L, ALPHA), "moment_variance", L, n, 2000, ALPHA, seed=4)
    assert not good.flagged and good.lo < ALPHA < 1.3 * good.hi

    def clt(pool):
        z = (np.mean(np.square(pool - L.mean)) / L.variance - 1) / math.sqrt((L.kurtosis - 1) / pool.size)
        return 2 * stats.norm.sf(abs(z)) <= ALPHA

    bad = T.clt_rate(clt, "moment_variance", L, n, 2000, ALPHA, seed=4)
    assert bad.flagged and bad.lo > 1.8 * ALPHA



def test_point_mass_lattice_rate_flags_a_cell_bound_below_the_lattice_atom(T):
    """The 23-bit lattice (2^-23 per value): the check's bound covers it; a mutant whose cell bound is 0.88 x 2^-23
    (the old bound of a normal law of std 2^-1/2) lets a run of 3 reject at n = 817, where that has 1.29 alpha."""
    from invariants.stats.extremes import point_mass_test

    L, n = T.LAWS["normal"], 817
    good = T.lattice_rate(n, T.critical_run(T.check_rejects("point_mass", L, ALPHA), n), 23, ALPHA)
    assert not good.flagged and good.hi < ALPHA
    shrink = -0.12 * 2.0 ** -23  # a negative allowance lowers the cell bound to 0.88 x 2^-23
    mutant = lambda pool: not point_mass_test(np.sort(pool), L.dist(), ALPHA, 23, shrink, presorted=True).passed  # noqa: E731
    bad = T.lattice_rate(n, T.critical_run(mutant, n), 23, ALPHA)
    assert bad.flagged and bad.lo > 1.2 * ALPHA


def test_discrete_importance_sampling_matches_the_binomial(T):
    """Exponential tilting of a finite law: P(mean of 200 Bernoulli(0.3) >= 0.45) against its exact binomial."""
    law = T.DiscreteTilted(np.array([0.0, 1.0]), np.array([0.7, 0.3]), lambda x: x)
    est, se = T.is_tail(law, 0.45, +1, 200, 400, np.random.default_rng(4))
    exact = float(stats.binom.sf(0.45 * 200 - 1, 200, 0.3))
    assert abs(est - exact) < 4 * se and se < 0.2 * exact


def test_pair_tail_matches_simulation(T):
    """Two coordinates of a uniform unit vector in R^5 both beyond q = 0.2 in square: quadrature vs simulation."""
    g = np.random.default_rng(11).standard_normal((1_000_000, 5))
    t2 = (g / np.linalg.norm(g, axis=1, keepdims=True))[:, :2] ** 2
    hits = int(np.count_nonzero((t2 >= 0.2).all(axis=1)))
    lo, hi = T.clopper_pearson(hits, g.shape[0])
    assert lo <= pair_tail(0.2, 5) <= hi
