"""One sort per pool: the KS statistic and p-value from the sorted pool are ``scipy.stats.kstest``'s bit for
bit, the point-mass run count is ``np.unique``'s, and the battery's shared sort changes no result.

Fixed seeds where not statistical; the statistical checks run at alpha = 1e-6 (mutant: a shifted CDF).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from invariants.laws import Law
from invariants.stats.battery import Sample, battery
from invariants.stats.extremes import mantissa_bits, point_mass_test
from invariants.stats.order import largest_run, sorted_values
from invariants.stats.shape import closed_form_cdf, ks_statistic, ks_test

DISTS = {
    "normal": stats.norm(0.0, 0.3),
    "uniform": stats.uniform(-0.5, 1.0),
    "truncated": stats.truncnorm(-2.0, 2.0, loc=0.1, scale=0.5),
}
SIZES = (10, 11, 64, 1000, 10_000, 10_001, 100_000)


def _pool(rng: np.random.Generator, dist, n: int, dtype, ties: bool) -> np.ndarray:
    x = dist.rvs(size=n, random_state=rng).astype(dtype)
    if ties and n >= 10:
        # a tenth of the values repeated from another tenth, and some signed zeros
        k = n // 10
        x[:k] = x[k:2 * k]
        x[2 * k:2 * k + 3] = (0.0, -0.0, 0.0)
    return rng.permutation(x)


@pytest.mark.parametrize("law", sorted(DISTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ties", [False, True])
def test_ks_from_the_sorted_pool_is_scipy_kstest_bit_for_bit(law, dtype, ties):
    dist = DISTS[law]
    rng = np.random.default_rng(hash((law, np.dtype(dtype).name, ties)) % 2**32)
    for n in SIZES:
        x = _pool(rng, dist, n, dtype, ties)
        ref = stats.kstest(x.astype(np.float64), dist.cdf)
        d, p = ks_statistic(sorted_values(x), closed_form_cdf(dist))
        assert (d, p) == (float(ref.statistic), float(ref.pvalue)), (n, d, ref.statistic, p, ref.pvalue)


@pytest.mark.parametrize("law", sorted(DISTS))
def test_ks_matches_scipy_on_a_million_values_with_ties(law):
    x = _pool(np.random.default_rng(1), DISTS[law], 1_000_000, np.float32, ties=True)
    ref = stats.kstest(x.astype(np.float64), DISTS[law].cdf)
    assert ks_statistic(sorted_values(x), closed_form_cdf(DISTS[law])) == (float(ref.statistic), float(ref.pvalue))


@pytest.mark.parametrize("dist", [stats.norm(0.0, 0.02), stats.norm(loc=0.1, scale=3.0), stats.norm(),
                                  stats.uniform(-0.05, 0.1), stats.uniform(loc=-1.0, scale=2.0), stats.uniform()])
def test_closed_form_cdf_is_scipys_cdf_bit_for_bit(dist):
    f = closed_form_cdf(dist)
    assert f is not dist.cdf  # the closed form is the one in use
    rng = np.random.default_rng(2)
    edges = np.array([0.0, -0.0, -0.05, 0.05, 1e308, -1e308, 5e-324, -1.0, 1.0, 0.1, -0.1, 40.0, -40.0])
    for x in (rng.normal(0.0, 0.05, 100_000), rng.uniform(-2.0, 2.0, 100_000), edges):
        with np.errstate(over="ignore"):
            a, b = f(x), dist.cdf(x)
        assert np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b))


def test_closed_form_cdf_falls_back_to_the_distributions_own():
    for dist in (stats.truncnorm(-2.0, 2.0), stats.t(3), stats.norm(0.0, -1.0)):
        assert closed_form_cdf(dist) == dist.cdf


def test_ks_matches_scipy_far_from_the_null_too():
    # p-values far from 1 and far into the tail (where kstwo.sf's branches change) agree as well
    rng = np.random.default_rng(7)
    for n in (10, 300, 20_000):
        for shift in (0.05, 0.2, 1.0):
            x = rng.normal(shift, 0.3, n)
            ref = stats.kstest(x, DISTS["normal"].cdf)
            assert ks_statistic(np.sort(x), closed_form_cdf(DISTS["normal"])) == (float(ref.statistic),
                                                                                  float(ref.pvalue))


def test_ks_oracle_rejects_a_shifted_cdf_and_accepts_the_true_one():
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 0.3, 200_000)
    good = ks_test(x, stats.norm(0.0, 0.3), alpha=1e-6)
    bad = ks_test(x, stats.norm(0.01, 0.3), alpha=1e-6)  # CDF shifted by a thirtieth of a std
    assert good.passed and not bad.passed
    assert bad.p_value < 1e-6 and "KS distance" in bad.detail
    # presorted input gives the same result object
    assert ks_test(np.sort(x), stats.norm(0.0, 0.3), alpha=1e-6, presorted=True) == good


def test_ks_refuses_non_finite_and_tiny_samples():
    with pytest.raises(ValueError, match="non-finite"):
        ks_test(np.array([0.1, np.nan, 0.2]), DISTS["normal"])
    with pytest.raises(ValueError, match="non-finite"):
        ks_test(np.array([-np.inf, 0.1, 0.2]), DISTS["normal"])
    with pytest.raises(ValueError, match="at least 2"):
        ks_test(np.array([0.1]), DISTS["normal"])


@settings(deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), levels=st.integers(1, 50),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]), nans=st.integers(0, 3))
def test_largest_run_is_np_unique_max_count(seed, n, levels, dtype, nans):
    rng = np.random.default_rng(seed)
    x = (rng.integers(-levels, levels + 1, n) / 7).astype(dtype)
    x[rng.random(n) < 0.1] = -0.0
    if nans:
        x[rng.integers(0, n, nans)] = np.nan
    values, counts = np.unique(x, return_counts=True)
    i = int(np.argmax(counts))
    value, k = largest_run(np.sort(x))
    assert k == int(counts[i])
    assert np.array_equal(np.array([value], dtype=dtype), values[i:i + 1], equal_nan=True)
    assert np.signbit(value) == np.signbit(values[i])


def test_largest_run_refuses_no_values():
    with pytest.raises(ValueError, match="no values"):
        largest_run(np.array([]))


def test_point_mass_test_rejects_a_clamped_pool_and_accepts_a_clean_one():
    rng = np.random.default_rng(3)
    clean = rng.normal(0.0, 0.1, 100_000).astype(np.float32)
    clamped = np.clip(clean, -0.25, 0.25)
    dist = stats.norm(0.0, 0.1)
    assert point_mass_test(clean, dist, 1e-6).passed
    bad = point_mass_test(clamped, dist, 1e-6)
    assert not bad.passed and "most repeated value 0.25 occurs" in bad.detail  # the top clamp: more hits
    assert point_mass_test(np.sort(clamped), dist, 1e-6, presorted=True) == bad


@pytest.mark.parametrize("law, draw", [
    (Law.normal(0.0, 0.1), stats.norm(0.0, 0.1)),
    (Law.uniform(-0.2, 0.2), stats.uniform(-0.2, 0.4)),
    (Law.truncated_normal(0.0, 0.1, -0.2, 0.2), stats.truncnorm(-2.0, 2.0, scale=0.1)),
])
def test_battery_shares_one_sort_and_keeps_each_result(law, draw):
    rng = np.random.default_rng(5)
    pool = draw.rvs(size=50_000, random_state=rng).astype(np.float32).reshape(250, 200)
    s = Sample(pool, [pool], mantissa_bits(pool))
    assert s.sorted_pool is s.sorted_pool  # sorted once, cached
    assert s.sorted_pool.dtype == np.float32 and np.array_equal(s.sorted_pool, np.sort(pool, axis=None))
    results = {c.name: c.run(law, s, 1e-6) for c in battery(law)}
    old_ks = stats.kstest(pool.ravel().astype(np.float64), law.dist().cdf)
    assert (results["ks_shape"].statistic, results["ks_shape"].p_value) == (float(old_ks.statistic),
                                                                            float(old_ks.pvalue))
    assert results["point_mass"] == point_mass_test(pool, law.dist(), 1e-6, s.bits)
