"""The Haar sums check's false-alarm probability with several draws, bounded on both sides
(:mod:`invariants.stats.haar_null`): the bounds bracket Fisher's exact rate where it is known, reduce to the
one-draw Bonferroni inequalities, and bracket a simulation of the check itself; the naive claim that each part
rejects at exactly its ``alpha / 3`` (the union bounds' p-values taken as uniform) is refuted by that simulation."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from invariants.stats import haar as H
from invariants.stats.haar_null import fisher_rejection_bounds, pair_tail, pvalue_cdf_bounds, sums_rate

#: simulation: draws per replicate, replicates, per-part level (large, so plain simulation resolves it)
K, N, D, R, ALPHA_PART = 8, 32, 8, 2000, 0.05
Z = 4.5  # two-sided 1 - 7e-6: a fixed seed, and a correct bound stays inside by a wide margin


@pytest.mark.parametrize("draws", [2, 8])
def test_the_total_part_brackets_fishers_exact_rate(draws):
    """At allowance 0 the total's p-values are exactly uniform, so its Fisher combination rejects at exactly
    alpha/3: the bounds contain it and are within 2% of it (known-good); a rate of 1.1 alpha/3 is outside."""
    lo, hi = fisher_rejection_bounds(1, 64, 0.0, draws, 1e-6, bins=4096)
    assert lo <= 1e-6 <= hi and lo > 0.98e-6
    assert not lo <= 1.1e-6 <= hi


def test_one_draw_is_the_bonferroni_pair_of_inequalities():
    """With one draw the bounds are m P1 - C(m, 2) P2 and m P1 at alpha/3 (the single-draw closed form)."""
    m, n, e, a = 16, 64, 1e-7, 1e-6 / 3
    q_e = (math.sqrt(float(H.special.betainccinv(0.5, (n - 1) / 2.0, a / m))) + e) ** 2
    one = float(H.coordinate_sf(q_e, n))
    lo, hi = fisher_rejection_bounds(m, n, e, 1, a)
    assert hi == pytest.approx(m * one, rel=1e-12)
    assert lo == pytest.approx(m * one - m * (m - 1) / 2 * pair_tail(q_e, n), rel=1e-9)


def test_per_draw_bounds_are_ordered_and_super_uniform():
    x = np.geomspace(1e-9, 1.0, 40)
    lo, hi = pvalue_cdf_bounds(x, 16, 64, 1e-6)
    assert np.all(lo <= hi) and np.all(hi <= x * (1 + 1e-12)) and np.all(lo >= 0)


@pytest.fixture(scope="module")
def simulated():
    """Per-part and whole-check rejection frequencies of R replicates of D exact Haar K x N draws (float64)."""
    rng = np.random.default_rng(20261206)
    q, r = np.linalg.qr(rng.standard_normal((R * D, N, K)))
    frames = np.swapaxes(q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :], 1, 2)  # Mezzadri's sign fix
    p = np.array([H.sums_pvalues(a, 52)[:3] for a in frames]).reshape(R, D, 3)
    rejected = -2.0 * np.log(p).sum(axis=1) >= stats.chi2.isf(ALPHA_PART, 2 * D)
    # the check rejects at 3 alpha_part exactly when some part does (its p-value is 3 x the smallest Fisher
    # combination): verified on the replicates where that is closest to the edge, and a few others
    fisher = stats.chi2.sf(-2.0 * np.log(p).sum(axis=1), 2 * D).min(axis=1)
    for i in list(np.argsort(np.abs(np.log(fisher / ALPHA_PART)))[:20]) + list(range(10)):
        check = H.haar_sums_test(list(frames[i * D:(i + 1) * D]), 0, 3 * ALPHA_PART)
        assert (not check.passed) == bool(rejected[i].any()), i
    return rejected.mean(axis=0), float(rejected.any(axis=1).mean()), p.reshape(R * D, 3)


def _inside(rate: float, lo: float, hi: float) -> bool:
    se = math.sqrt(max(rate * (1 - rate), 1e-4) / R)
    return lo - Z * se <= rate <= hi + Z * se


def test_the_bounds_bracket_a_simulation_of_the_check(simulated):
    """Known-good: each part's simulated rate and the whole check's lie within the bounds (to the simulation's
    error).  Known-bad: the row maxima's union-bound p-values are far from uniform, so "each part rejects at
    alpha/3" (lower = upper = alpha/3) is refuted for the rows, which the bounds' lower end allows."""
    parts, check, _ = simulated
    b = sums_rate(K, N, D, 3 * ALPHA_PART, 52, bins=2048, pair_grid=48)
    for rate, (lo, hi) in zip(parts, (b.row, b.column, b.total)):
        assert _inside(float(rate), lo, hi), (rate, lo, hi)
    assert _inside(check, b.lower, b.upper), (check, b.lower, b.upper)
    assert not _inside(float(parts[0]), ALPHA_PART, ALPHA_PART)
    assert b.row[0] < 0.8 * ALPHA_PART  # the lower end reaches the rows' true rate


def test_one_draws_bounds_bracket_the_simulated_law_of_its_p_value(simulated):
    """Known-good: P(p <= x) of the row and column maxima's p-values, simulated on R x D draws, lies between the
    Bonferroni bounds at x where they differ.  Known-bad: a pair term halved (the lower bound too high) and
    uniform p-values (lower = x) are both refuted for the rows at x = 0.4 (by 6 and 12 standard errors)."""
    _, _, p = simulated
    x = np.array([0.2, 0.4, 0.6])
    for j, m in ((0, K), (1, N)):
        lo, hi = pvalue_cdf_bounds(x, m, N, 0.0)
        emp = (p[:, j][:, None] <= x).mean(axis=0)
        se = np.sqrt(emp * (1 - emp) / p.shape[0])
        assert np.all(lo - Z * se <= emp) and np.all(emp <= hi + Z * se), (m, lo, emp, hi)
    lo, hi = pvalue_cdf_bounds(x[1:2], K, N, 0.0)
    emp = float(np.mean(p[:, 0] <= 0.4))
    se = math.sqrt(emp * (1 - emp) / p.shape[0])
    assert emp < (lo[0] + hi[0]) / 2 - Z * se  # a halved pair term: lower bound (lo + hi) / 2
    assert emp < 0.4 - Z * se
