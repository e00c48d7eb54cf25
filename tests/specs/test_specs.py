"""Tests for invariants.specs: the VarianceScaling primitive and the named initializers.

Statistical checks run at alpha = 1e-6 each on fixed seeds / derandomized Hypothesis examples, so the
suite is deterministic; the detectable error at the sample size used is asserted next to each check.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from invariants.audit import (
    GLOROT_NORMAL,
    GLOROT_UNIFORM,
    HE_NORMAL,
    HE_UNIFORM,
    KAIMING_NORMAL_TORCH,
    LECUN_NORMAL,
    LECUN_UNIFORM,
    NAMED_SPECS,
    TRUNCATED_NORMAL_STD,
    XAVIER_NORMAL_TORCH,
    VarianceScaling,
)
from invariants.hypothesis_profiles import verify_settings
from invariants.stats import chi2_variance_test, hoeffding_variance_test

POOLED_N = 200_000  # chi2 detects a 2.3% variance error at alpha 1e-6, power 0.99
MUTANT = 1.1


def test_truncated_normal_constant_matches_jax():
    # jax/_src/nn/initializers.py hard-codes .87962566103423978
    assert TRUNCATED_NORMAL_STD == pytest.approx(0.87962566103423978, rel=1e-15)


@pytest.mark.parametrize(
    "mode, expected",
    [("fan_in", 1 / 30), ("fan_out", 1 / 50), ("fan_avg", 1 / 40), ("fan_geo_avg", 1 / math.sqrt(1500))],
)
def test_variance_by_mode(mode, expected):
    assert VarianceScaling(1.0, mode, "normal").variance(30, 50) == pytest.approx(expected, rel=1e-15)
    assert VarianceScaling(2.5, mode, "normal").variance(30, 50) == pytest.approx(2.5 * expected, rel=1e-15)


def test_named_specs_follow_jax_conventions():
    fi, fo = 300, 100
    assert GLOROT_NORMAL.variance(fi, fo) == GLOROT_UNIFORM.variance(fi, fo) == pytest.approx(2 / (fi + fo))
    assert HE_NORMAL.variance(fi, fo) == HE_UNIFORM.variance(fi, fo) == pytest.approx(2 / fi)
    assert LECUN_NORMAL.variance(fi, fo) == LECUN_UNIFORM.variance(fi, fo) == pytest.approx(1 / fi)
    for spec in (GLOROT_NORMAL, HE_NORMAL, LECUN_NORMAL):
        assert spec.distribution == "truncated_normal"
    for spec in (GLOROT_UNIFORM, HE_UNIFORM, LECUN_UNIFORM):
        assert spec.distribution == "uniform"
    assert XAVIER_NORMAL_TORCH == VarianceScaling(1, "fan_avg", "normal", name="xavier_normal_torch")
    assert KAIMING_NORMAL_TORCH.distribution == "normal"
    # Glorot & Bengio 2010 eq. 16: uniform bound sqrt(6/(fan_in + fan_out))
    assert GLOROT_UNIFORM.support_bound(fi, fo) == pytest.approx(math.sqrt(6 / (fi + fo)))
    assert set(NAMED_SPECS) >= {
        "glorot_normal",
        "glorot_uniform",
        "he_normal",
        "he_uniform",
        "lecun_normal",
        "lecun_uniform",
        "xavier_normal_torch",
    }
    assert all(NAMED_SPECS[k].name == k for k in NAMED_SPECS)


def test_distribution_variances_exact():
    # the *distribution* each spec samples from has exactly the target variance (scipy moments)
    fi, fo = 64, 256
    for spec in NAMED_SPECS.values():
        v, s = spec.variance(fi, fo), spec.stddev(fi, fo)
        if spec.distribution == "normal":
            dist = stats.norm(scale=s)
        elif spec.distribution == "uniform":
            dist = stats.uniform(loc=-s, scale=2 * s)
        else:
            dist = stats.truncnorm(-2, 2, scale=s)
        assert dist.var() == pytest.approx(v, rel=1e-12), spec.name


def test_sample_shape_dtype_bounds_and_reproducibility():
    shape = (3, 3, 16, 32)  # conv kernel: receptive field 3x3, 16 in, 32 out channels
    fi, fo = 9 * 16, 9 * 32
    for spec in NAMED_SPECS.values():
        a = spec.sample(shape, np.random.default_rng(5), fi, fo, dtype=np.float32)
        b = spec.sample(shape, np.random.default_rng(5), fi, fo, dtype=np.float32)
        assert a.shape == shape and a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
        assert np.all(np.abs(a) <= spec.support_bound(fi, fo) * (1 + 1e-6))
    # draws follow the generator, not numpy's global state
    x = GLOROT_NORMAL.sample((4, 5), np.random.default_rng(1), 4, 5)
    y = GLOROT_NORMAL.sample((4, 5), np.random.default_rng(2), 4, 5)
    assert not np.array_equal(x, y)


def test_truncated_normal_sampler_is_scaled_scipy_truncnorm():
    spec, fi, fo = HE_NORMAL, 100, 10
    got = spec.sample((100, 10), np.random.default_rng(3), fi, fo)
    ref = stats.truncnorm.rvs(-2, 2, size=(100, 10), random_state=np.random.default_rng(3))
    np.testing.assert_allclose(got, ref * math.sqrt(2 / fi) / TRUNCATED_NORMAL_STD, rtol=1e-15)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(scale=0.0), "scale"),
        (dict(scale=-1.0), "scale"),
        (dict(scale=math.inf), "scale"),
        (dict(mode="fan_sum"), "mode"),
        (dict(distribution="laplace"), "distribution"),
    ],
)
def test_spec_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VarianceScaling(**kwargs)


def test_sample_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least 2 dims"):
        GLOROT_NORMAL.sample((10,), rng, 10, 10)
    with pytest.raises(ValueError, match="dims"):
        GLOROT_NORMAL.sample((10, 0), rng, 10, 10)
    with pytest.raises(ValueError, match="fan_in"):
        GLOROT_NORMAL.sample((10, 10), rng, 0, 10)
    with pytest.raises(ValueError, match="fan_out"):
        GLOROT_NORMAL.variance(10, 2.5)
    with pytest.raises(ValueError, match="dtype"):
        GLOROT_NORMAL.sample((10, 10), rng, 10, 10, dtype=np.int32)
    with pytest.raises(TypeError, match="Generator"):
        GLOROT_NORMAL.sample((10, 10), np.random.RandomState(0), 10, 10)


def _pooled(spec: VarianceScaling, fan_in: int, fan_out: int, seed: int, n: int = POOLED_N) -> np.ndarray:
    """At least ``n`` values: ``reps`` independent (fan_in, fan_out) tensors, drawn as one stacked array."""
    reps = -(-n // (fan_in * fan_out))
    return spec.sample((reps, fan_in, fan_out), np.random.default_rng(seed), fan_in, fan_out)


fans = st.integers(min_value=1, max_value=512)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@verify_settings(12)
@given(fan_in=fans, fan_out=fans, seed=seeds)
def test_property_normal_variance_accepted_and_mutant_rejected(fan_in, fan_out, seed):
    spec = VarianceScaling(1.0, "fan_avg", "normal")
    v = spec.variance(fan_in, fan_out)
    w = _pooled(spec, fan_in, fan_out, seed)
    ok = chi2_variance_test(w, v)
    assert ok.n >= POOLED_N and ok.min_detectable_rel_error < 0.03  # << the 10% mutant
    assert ok.passed, ok.summary()
    bad = chi2_variance_test(w * math.sqrt(MUTANT), v)
    assert not bad.passed, bad.summary()


BOUNDED = sorted(k for k, spec in NAMED_SPECS.items() if spec.distribution != "normal")


@pytest.mark.parametrize("name", BOUNDED)
@verify_settings(3)
@given(fan_in=fans, fan_out=fans, seed=seeds)
def test_property_bounded_specs_variance_accepted_and_mutant_rejected(name, fan_in, fan_out, seed):
    # uniform / truncated normal are not normal: use the distribution-free Hoeffding test
    spec = NAMED_SPECS[name]
    v, bound = spec.variance(fan_in, fan_out), spec.support_bound(fan_in, fan_out)
    w = _pooled(spec, fan_in, fan_out, seed, n=400_000)
    ok = hoeffding_variance_test(w, v, bound)
    assert ok.min_detectable_rel_error < 0.05  # truncated normal: ~3.4%, uniform: ~2.0% at 400k
    assert ok.passed, ok.summary()
    for factor in (MUTANT, 1 / MUTANT):
        # keep the bound at the mutant's support so that only the variance gives it away
        bad = hoeffding_variance_test(w * math.sqrt(factor), v, bound * math.sqrt(max(factor, 1.0)))
        assert not bad.passed, bad.summary()
