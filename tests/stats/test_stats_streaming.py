"""Streaming sufficient statistics (invariants.stats.streaming) and the tests that read them: the same
figures as the pooled tests on the same values, a known-good sample accepted and a known-bad one rejected
(mutation self-tests), and the stated detectable error of a streaming sample at the size each check reads."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants.laws import Law
from invariants.stats.battery import Sample, battery
from invariants.stats.moments import (
    mean_test,
    mean_test_from_mean,
    moment_variance_from_mean_square,
    moment_variance_test,
)
from invariants.stats.streaming import RunningMoments
from invariants.stats.variance import chi2_variance_from_sum, chi2_variance_test

ALPHA = 1e-6


def streamed(batches):
    m = RunningMoments()
    for b in batches:
        m.add(b)
    return m


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sizes=st.lists(st.integers(0, 300), min_size=1, max_size=8),
       loc=st.floats(-1e3, 1e3), scale=st.floats(1e-3, 1e3))
def test_running_moments_equal_the_pooled_figures(seed, sizes, loc, scale):
    rng = np.random.default_rng(seed)
    batches = [rng.normal(loc, scale, size=k).astype(np.float32) for k in sizes]
    x = np.concatenate(batches).astype(np.float64)
    m = streamed(batches)
    assert m.n == x.size
    if not x.size:
        assert math.isnan(m.variance) and m.lo == math.inf and m.hi == -math.inf
        return
    assert m.mean == pytest.approx(float(np.mean(x)), rel=1e-12, abs=1e-12 * scale)
    assert m.variance == pytest.approx(float(np.var(x)), rel=1e-9, abs=1e-12 * scale**2)
    mu = loc + scale
    assert m.sum_sq_about(mu) == pytest.approx(float(np.sum(np.square(x - mu))), rel=1e-9)
    assert (m.lo, m.hi) == (float(x.min()), float(x.max()))


def test_merge_is_order_free_and_the_callers_values_are_untouched():
    rng = np.random.default_rng(7)
    a, b = rng.normal(3.0, 2.0, 1000), rng.normal(3.0, 2.0, 500)
    keep = a.copy()
    ab = streamed([a, b])
    ba = RunningMoments().merge(streamed([b])).merge(streamed([a]))
    assert np.array_equal(a, keep)
    assert ab.n == ba.n and ab.mean == pytest.approx(ba.mean, rel=1e-14)
    assert ab.m2 == pytest.approx(ba.m2, rel=1e-13)
    assert RunningMoments().merge(RunningMoments()).n == 0


def test_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="non-finite"):
        RunningMoments().add([1.0, math.nan])
    with pytest.raises(ValueError, match="non-finite"):
        RunningMoments().add([1.0, math.inf, -math.inf])


def test_from_statistic_tests_are_the_pooled_tests_bit_for_bit():
    x = np.random.default_rng(1).normal(0.1, 0.5, 50_000)
    ss = float(np.sum(np.square(x - 0.1)))
    assert chi2_variance_from_sum(ss, x.size, 0.25, ALPHA) == chi2_variance_test(x, 0.25, ALPHA, mean=0.1)
    ms = float(np.mean(np.square(x - 0.1)))
    assert (moment_variance_from_mean_square(ms, x.size, 0.25, 3.0, ALPHA)
            == moment_variance_test(x, 0.25, 3.0, ALPHA, mean=0.1))
    assert mean_test_from_mean(float(np.mean(x)), x.size, 0.1, 0.5, ALPHA) == mean_test(x, 0.1, 0.5, ALPHA)


@pytest.mark.parametrize("call, words", [
    (lambda: chi2_variance_from_sum(-1.0, 10, 1.0), "sum of squares must be finite and >= 0"),
    (lambda: chi2_variance_from_sum(math.nan, 10, 1.0), "sum of squares must be finite and >= 0"),
    (lambda: chi2_variance_from_sum(1.0, 1, 1.0), "need at least 2 samples"),
    (lambda: moment_variance_from_mean_square(-1.0, 10, 1.0, 1.8), "mean square must be finite and >= 0"),
    (lambda: moment_variance_from_mean_square(1.0, 10, 1.0, 0.5), "kurtosis must be finite and > 1"),
    (lambda: mean_test_from_mean(math.inf, 10, 0.0, 1.0), "must be finite"),
    (lambda: mean_test_from_mean(0.0, 1.5, 0.0, 1.0), "n must be an integer"),
])
def test_from_statistic_tests_refuse_bad_statistics(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def stream_sample(values, kept):
    """A streaming Sample: the moments of every value, the pool the first ``kept``."""
    return Sample(values[:kept], [values[:kept]], 23, moments=streamed(np.array_split(values, 7)))


@pytest.mark.parametrize("law, make, bad", [
    (Law.normal(0.0, 0.05), lambda rng, n: rng.normal(0.0, 0.05, n), lambda rng, n: rng.normal(0.0, 0.0505, n)),
    # within the support (|u|^0.99 keeps [-0.05, 0.05]), the variance 0.67% too large
    (Law.uniform(-0.05, 0.05), lambda rng, n: rng.uniform(-0.05, 0.05, n),
     lambda rng, n: 0.05 * np.sign(u := rng.uniform(-1, 1, n)) * np.abs(u) ** 0.99),
    (Law.normal(0.0, 0.05), lambda rng, n: rng.normal(0.0, 0.05, n), lambda rng, n: rng.normal(0.0006, 0.05, n)),
])
def test_streamed_checks_accept_the_law_and_reject_a_mutant_the_pool_alone_cannot_see(law, make, bad):
    # 2M values: the variance checks detect ~0.8% (normal) and ~0.5% (uniform), the mean test 0.008 std;
    # the 20k-value pool alone detects only ~8%: the mutant is caught through the streamed statistics
    rng = np.random.default_rng(20261205)
    n, kept = 2_000_000, 20_000
    good_checks = battery(law, groups=("law",)).run(stream_sample(make(rng, n).astype(np.float32), kept), ALPHA)
    assert all(c.passed for c in good_checks), [(c.name, c.p_value) for c in good_checks]
    streamed_names = {"chi2_variance", "moment_variance", "mean"}
    mutant = bad(rng, n).astype(np.float32)
    caught = [c.name for c in battery(law, groups=("law",)).run(stream_sample(mutant, kept), ALPHA) if not c.passed]
    assert caught and set(caught) <= streamed_names, caught
    pooled_only = battery(law, groups=("law",)).run(Sample(mutant[:kept], [mutant[:kept]], 23), ALPHA)
    assert all(c.passed for c in pooled_only), [(c.name, c.p_value) for c in pooled_only]


def test_streamed_checks_report_every_value_and_the_others_the_pool():
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, 100_000)
    results = {c.name: c for c in battery(Law.normal(0.0, 1.0), groups=("law",)).run(stream_sample(x, 5_000), ALPHA)}
    assert "n = 100000" in results["chi2_variance"].detail
    assert "(n = 5000)" in results["ks_shape"].detail


@pytest.mark.parametrize("law", [Law.normal(0.0, 1.0), Law.uniform(-1.0, 1.0)])
def test_detectable_error_of_a_streaming_sample_is_stated_at_each_checks_own_size(law):
    b = battery(law, groups=("law",))
    n, n_pool, shape = 4_000_000, 30_000, (100, 300)
    own = [c.min_detectable_rel_error(law, n if getattr(c, "streamed", False) else n_pool, ALPHA, 0.99, shape, 23)
           for c in b]
    stated = b.min_detectable_rel_error(n, ALPHA, 0.99, shape, 23, n_pool=n_pool)
    assert stated == min(d for d in own if d is not None)
    assert {c.name for c in b if getattr(c, "streamed", False)} & {"chi2_variance", "moment_variance", "mean"}
    # a streaming sample states no more than the whole sample would, and no less than its pool alone
    assert b.min_detectable_rel_error(n, ALPHA, 0.99, shape, 23) <= stated <= b.min_detectable_rel_error(
        n_pool, ALPHA, 0.99, shape, 23)
