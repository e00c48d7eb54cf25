"""Specs, layers and fans, laws, and the new statistical checks — each oracle with a known-bad input.

Figures come from shared/reference/initializer-conventions.md (measured on torch 2.13, jax 0.10.2,
keras 3.15.1).  Random checks use fixed seeds and alpha <= 1e-6.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from invariants.laws import Law
from invariants.layers import fans_from_shape, parse_layer
from invariants.specs import (
    GLOROT_NORMAL,
    HE_NORMAL,
    TRUNCATED_NORMAL_STD,
    Constant,
    Normal,
    Orthogonal,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
    parse_spec,
)
from invariants.stats.extremes import (
    bounded_scale_min_detectable_rel_error,
    bounded_scale_sample_size,
    extremes_test,
    mantissa_bits,
    point_mass_test,
    support_test,
)
from invariants.stats.moments import mean_test, moment_min_detectable_rel_error, moment_sample_size, moment_variance_test
from invariants.stats.shape import ks_test
from invariants.stats.structure import (
    constant_test,
    degenerate_test,
    duplicates_test,
    identical_draws_test,
    orthogonality_test,
)

C2 = TRUNCATED_NORMAL_STD**2

# ------------------------------------------------------------------------------------------ specs


@pytest.mark.parametrize("text, expected", [
    ("he_normal", HE_NORMAL),
    ("variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal)", VarianceScaling(2, "fan_in", "truncated_normal")),
    ("normal(std=0.02)", Normal(0.0, 0.02)),
    ("normal(0.5, 2)", Normal(0.5, 2.0)),
    ("uniform(-0.05, 0.05)", Uniform(-0.05, 0.05)),
    ("orthogonal(gain=1)", Orthogonal(1.0)),
    ("truncated_normal(std=0.02, bounds=absolute)", TruncatedNormal(0.0, 0.02, -2, 2, "absolute", False)),
    ("constant(0.5)", Constant(0.5)),
])
def test_parse_spec(text, expected):
    spec = parse_spec(text)
    assert spec == expected
    assert parse_spec(spec.text()) == spec  # canonical text round-trips


@pytest.mark.parametrize("text", ["", "he_normal(", "laplace", "normal(x=1)", "normal(std=0)", "uniform(1)",
                                  "uniform(1, -1)", "variance_scaling(mode=fan_sum)", "normal(std=1, std=2)",
                                  "variance_scaling(distribution=uniform, corrected=false)"])
def test_parse_spec_rejects(text):
    with pytest.raises(ValueError):
        parse_spec(text)


def test_laws_of_specs():
    # Glorot normal (corrected TN) on (300, 100): var 0.005, support +-0.1607745 (reference §4 row 6)
    law = GLOROT_NORMAL.law(300, 100)
    assert math.isclose(law.variance, 0.005, rel_tol=1e-12) and math.isclose(law.hi, 0.1607745, rel_tol=1e-6)
    unc = VarianceScaling(1, "fan_avg", "truncated_normal", corrected=False).law(300, 100)
    assert math.isclose(unc.variance, 0.005 * C2, rel_tol=1e-9)
    # torch trunc_normal_ defaults: absolute [-2, 2], std 1 -> variance 0.77374
    assert math.isclose(TruncatedNormal(0, 1, -2, 2, "absolute").law().variance, C2, rel_tol=1e-9)
    # corrected with absolute bounds: the normal's std is solved so the realised std is the given one
    assert math.isclose(TruncatedNormal(0, 0.02, -0.04, 0.04, "absolute", corrected=True).law().std, 0.02, rel_tol=1e-9)
    # asymmetric truncation [0.5, 1.5] of N(0, 1): mean 0.92064 (reference §1.1)
    assert abs(TruncatedNormal(0, 1, 0.5, 1.5, "absolute").law().mean - 0.92064) < 1e-4
    assert Orthogonal(2.0).law(shape=(100, 300)).variance == pytest.approx(4 / 300)


# ------------------------------------------------------------------------------------------ layers

# (layer, textbook fans, torch shape, torch fans, keras shape, keras fans): reference §3 (32->64, k=3, m=2)
LAYERS = [
    ("dense(300,100)", (300, 100), (100, 300), (300, 100), (300, 100), (300, 100)),
    ("conv2d(32,64,k=3)", (288, 576), (64, 32, 3, 3), (288, 576), (3, 3, 32, 64), (288, 576)),
    ("conv2d(32,64,k=3,groups=4)", (72, 144), (64, 8, 3, 3), (72, 576), (3, 3, 8, 64), (72, 576)),
    ("depthwise_conv2d(32,k=3,m=2)", (9, 18), (64, 1, 3, 3), (9, 576), (3, 3, 32, 2), (288, 18)),
    ("conv_transpose2d(32,64,k=3)", (288, 576), (32, 64, 3, 3), (576, 288), (3, 3, 64, 32), (576, 288)),
    ("conv2d(4,4,k=3,groups=4)", (9, 9), (4, 1, 3, 3), (9, 36), (3, 3, 1, 4), (9, 36)),
    ("qkv(512)", (512, 512), (1536, 512), (512, 1536), (512, 1536), (512, 1536)),
    ("lstm(32,64)", (32, 64), (256, 32), (32, 256), (32, 256), (32, 256)),
    ("embedding(1000,64)", (1000, 64), (1000, 64), (64, 1000), (1000, 64), (1000, 64)),
]


@pytest.mark.parametrize("text, tb, tshape, tfans, kshape, kfans", LAYERS)
def test_layer_fans_and_layouts(text, tb, tshape, tfans, kshape, kfans):
    layer = parse_layer(text)
    assert layer.textbook_fans() == tb
    assert layer.shape("torch") == tshape and layer.framework_fans("torch") == tfans
    assert layer.shape("keras") == kshape and layer.framework_fans("keras") == kfans
    assert parse_layer(layer.describe()) == layer


def test_layer_details():
    assert parse_layer("conv_transpose2d(32,64,k=3,groups=4)").framework_fans("torch") == (144, 288)
    assert parse_layer("conv3d(8,16,k=(2,3,4))").textbook_fans() == (192, 384)
    assert parse_layer("bilinear(20,50,30)").textbook_fans() == (1000, 30)
    assert fans_from_shape((3, 3, 1, 64), "jax") == (9, 576)
    blocks = parse_layer("qkv(4)").block_index("torch")
    assert [b[0] for b in blocks] == ["q", "k", "v"] and blocks[1][1][0] == slice(4, 8)
    for bad in ("dense(1)", "conv2d(32,64)", "conv2d(3,4,k=3,groups=2)", "dense(-1,3)", "foo(1,2)", "dense(a,b)"):
        with pytest.raises(ValueError):
            parse_layer(bad)


# ------------------------------------------------------------------------------------------ stats

A = 1e-6


def test_moment_test_accepts_and_rejects():
    x = np.random.default_rng(0).uniform(-1, 1, 200_000)
    ok = moment_variance_test(x, 1 / 3, 1.8, A)
    assert ok.passed and ok.min_detectable_rel_error < 0.02
    assert not moment_variance_test(x * math.sqrt(1.03), 1 / 3, 1.8, A).passed  # 3% > detectable 1.5%
    n = moment_sample_size(0.01, 1.8, A)
    assert max(moment_min_detectable_rel_error(n, 1.8, A)) <= 0.01 < max(moment_min_detectable_rel_error(n - 1000, 1.8, A))
    assert mean_test(x, 0.0, math.sqrt(1 / 3), A).passed and not mean_test(x + 0.01, 0.0, math.sqrt(1 / 3), A).passed


def test_extremes_exact_law_and_power():
    # the max of n uniforms on [0, 1] has P(M <= t) = t^n: with M = 0.9 the two-tailed p is 2 * 0.9^n
    x = np.array([0.9, 0.3, 0.1 + 1e-9, 0.5])
    res = extremes_test(x, stats.uniform(0, 1), 0.0, 1.0, 0.5)
    assert math.isclose(res.p_value, min(1.0, 2 * min(0.9**4, 0.9**4)), rel_tol=1e-6)
    # sample size for a 1% variance error of a uniform: the narrowed max sqrt(0.99) must give F^n <= alpha/2
    n = bounded_scale_sample_size(0.01, stats.uniform(-1, 2), -1, 1, A)
    assert n == math.ceil(math.log(A / 2) / math.log((1 + math.sqrt(0.99)) / 2))
    up, down = bounded_scale_min_detectable_rel_error(n, stats.uniform(-1, 2), -1, 1, A)
    assert down <= 0.01 and up < 0.01
    rng = np.random.default_rng(1)
    u = rng.uniform(-1, 1, n)
    assert extremes_test(u, stats.uniform(-1, 2), -1, 1, A).passed
    assert not extremes_test(u * math.sqrt(0.99), stats.uniform(-1, 2), -1, 1, A).passed
    z = rng.standard_normal(100_000)
    assert extremes_test(z, stats.norm(), alpha=A).passed
    z[7] = 7.0  # an outlier at 7 std: P(max >= 7) ~ 1e5 * 2.6e-12
    assert not extremes_test(z, stats.norm(), alpha=A).passed


def test_support_tolerance_and_point_mass():
    b = np.float32(0.0577350)
    x = np.random.default_rng(2).uniform(-b, b, 50_000).astype(np.float32)
    x[0] = np.nextafter(b, np.float32(1))  # one ulp beyond: rounding, accepted
    assert support_test(x, -float(b), float(b), A).passed
    x[0] = b * 1.0001
    assert not support_test(x, -float(b), float(b), A).passed
    dist = stats.uniform(-float(b), 2 * float(b))
    y = np.random.default_rng(3).uniform(-b, b, 50_000).astype(np.float32)
    assert point_mass_test(y, dist, A).passed
    y[:20] = b  # 20 entries clamped to the bound
    assert not point_mass_test(y, dist, A).passed
    assert mantissa_bits(y) == 23 and mantissa_bits(y.astype(np.float64)) == 23
    assert mantissa_bits(np.random.default_rng(0).normal(size=10)) == 52


def test_ks_shape():
    rng = np.random.default_rng(4)
    z = rng.standard_normal(50_000)
    assert ks_test(z, stats.norm(), A).passed
    u = rng.uniform(-math.sqrt(3), math.sqrt(3), 50_000)  # same variance, wrong shape
    assert not ks_test(u, stats.norm(), A).passed


def test_structure_checks():
    rng = np.random.default_rng(5)
    draws = [rng.normal(size=(20, 30)).astype(np.float32) for _ in range(3)]
    p_cell = 1e-7
    assert duplicates_test(draws, p_cell, A).passed and identical_draws_test(draws, p_cell, A).passed
    assert degenerate_test(draws, p_cell, A).passed
    bad = [d.copy() for d in draws]
    bad[1][3] = bad[1][0]
    assert not duplicates_test(bad, p_cell, A).passed
    bad = [d.copy() for d in draws]
    bad[2][:, 5] = bad[2][:, 1]
    assert not duplicates_test(bad, p_cell, A).passed
    assert not identical_draws_test([draws[0], draws[1], draws[0]], p_cell, A).passed
    assert not degenerate_test([draws[0], np.zeros((20, 30))], p_cell, A).passed
    assert constant_test(np.ones(10, dtype=np.float32), 1.0, A).passed
    assert not constant_test(np.r_[np.ones(9), 1 + 1e-7], 1.0, A).passed


def test_orthogonality():
    rng = np.random.default_rng(6)
    q, r = np.linalg.qr(rng.standard_normal((300, 100)))
    m = (q * np.sign(np.diag(r))).T.astype(np.float32)  # 100 x 300, orthonormal rows
    assert orthogonality_test([m], 1.0, 0, A).passed
    assert orthogonality_test([2 * m], 2.0, 0, A).passed
    assert not orthogonality_test([m * 1.001], 1.0, 0, A).passed
    assert not orthogonality_test([rng.normal(0, 1 / math.sqrt(300), (100, 300))], 1.0, 0, A).passed


def test_law_cdf_matches_scipy_truncnorm():
    law = Law.truncated_normal(0.0, 1.0, 0.5, 1.5)
    ref = stats.truncnorm(0.5, 1.5)
    x = np.linspace(0.5, 1.5, 101)
    assert np.max(np.abs(law.dist().cdf(x) - ref.cdf(x))) < 1e-12


def test_truncation_explanation_reads_as_a_noun_phrase():
    """The message says "explained by the same law without the truncation correction", never "by without"."""
    import audit_fixtures as F
    from invariants.audit import initializer
    from invariants.audit.auditor import AuditConfig
    (r,) = initializer(F.tn_002_uncorrected, expect="truncated_normal(std=0.02, corrected=true)",
                       layer="dense(300,100)", config=AuditConfig(rel_error=0.05)).results
    assert r.verdict == "deviates" and "by without" not in r.message
    assert "explained by the same law without the truncation correction (std is the untruncated normal's)" \
        in r.message


def test_extremes_detail_names_each_tail_p_value():
    """TRIAL1 item 13: ``tail p-values 3e-306, 3e-306, 1, 1`` did not say which tail is which.  Known-bad: a
    normal sample with its max and min too small in magnitude (0.5x) fails the "max too small"/"min too large"
    tails and the detail names them; known-good: the law's own sample passes."""
    from invariants.stats.extremes import extremes_test

    x = np.random.default_rng(0).standard_normal(100_000)
    bad = extremes_test(0.5 * x, stats.norm(), alpha=1e-6)
    assert not bad.passed and "tail p-values: max too small " in bad.detail and ", min too small " in bad.detail
    good = extremes_test(x, stats.norm(), alpha=1e-6)
    assert good.passed and "max too large" in good.detail and "min too large" in good.detail


def test_the_detects_column_says_exact_for_exact_laws_and_defines_its_percentage():
    """TRIAL1 item 13: constant/identity rows printed ``detects 0%``; the key must say the percentage is the
    error detected with power 0.99, not a floor on what is caught."""
    from invariants.render.audit import DETECTS_NOTE, EXACT_NOTE, detects

    assert (detects(0.0), detects(None), detects(0.4), detects(0.0099)) == ("exact", "-", "40%", "0.99%")
    assert "power 0.99" in DETECTS_NOTE and "larger errors are detected too" in DETECTS_NOTE
    assert "any error is detected" in EXACT_NOTE
