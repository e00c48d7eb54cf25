"""Mutation catalogue of the initializer auditor: faulty initializers rejected, correct ones accepted.

Every audit runs at ``total_alpha = 1e-6`` (Bonferroni over its checks), so the ~100 audits of correct
initializers in this file have a union-bound false-alarm probability below 1e-4 — and the seeds are
fixed, so the outcome is deterministic.  Sample sizes are reduced (``rel_error = 0.04``): each test
asserts that the detectable error at the sample size used is below the mutant's error, so rejections
come from power, not luck.
"""
from __future__ import annotations

import math

import pytest

import audit_fixtures as F
from invariants.audit import initializer
from invariants.audit.auditor import AuditConfig

SEEDS = (0, 1, 2)


def cfg(seed: int) -> AuditConfig:
    return AuditConfig(rel_error=0.04, total_alpha=1e-6, min_bounded_n=20_000, base_seed=seed)


DENSE = "dense(300,100)"
CONV = "conv2d(16,48,k=3)"

CORRECT = F.correct_cases(DENSE, CONV)

# (mutant, expected spec, layer, words the explanation must contain or None)
MUTANTS = [
    (F.m_fan_swap, "kaiming_normal", DENSE, "textbook fan_out 100"),
    (F.m_missing_gain, "kaiming_normal", DENSE, "scale 1 instead of 2"),
    (F.m_gain_not_squared, "kaiming_normal", DENSE, "gain not squared"),
    (F.m_missing_truncation_correction, "glorot_normal", DENSE, "uncorrected"),
    (F.m_double_truncation_correction, "glorot_normal", DENSE, None),
    (F.m_sqrt3_not_sqrt6, "glorot_uniform", DENSE, "scale 1/2"),
    (F.m_sqrt6_not_sqrt3, "he_uniform", DENSE, "scale 4"),
    (F.m_var_plus5, "kaiming_normal", DENSE, None),
    (F.m_var_minus5, "kaiming_normal", DENSE, None),
    (F.m_var_times2, "kaiming_normal", DENSE, "scale 4"),
    (F.m_uniform_plus5, "he_uniform", DENSE, None),
    (F.m_uniform_minus5, "he_uniform", DENSE, None),
    (F.m_mean_shift, "kaiming_normal", DENSE, None),
    (F.m_uniform_mean_shift, "he_uniform", DENSE, None),
    (F.m_clamp_point_mass, "kaiming_normal", DENSE, None),
    (F.m_uniform_point_mass, "he_uniform", DENSE, None),
    (F.m_outliers_at_clamp, "he_normal", DENSE, None),
    (F.m_duplicate_rows, "glorot_uniform", DENSE, None),
    (F.m_ignores_rng, "glorot_uniform", DENSE, None),
    (F.m_all_zero, "kaiming_normal", DENSE, None),
    (F.m_heavy_tails, "kaiming_normal", DENSE, None),
    (F.m_uniform_not_normal, "kaiming_normal", DENSE, "uniform instead of normal"),
    (F.m_normal_not_uniform, "glorot_uniform", DENSE, "normal instead of uniform"),
    (F.m_orthogonal_gain, "orthogonal(gain=1)", DENSE, None),
    (F.m_not_orthogonal, "orthogonal(gain=1)", DENSE, None),
    # exactly orthogonal but not Haar-distributed (issue 14, gap 2): the cause is named
    (F.m_orthogonal_noncentred, "orthogonal(gain=1)", DENSE, "nearly constant singular vector"),
    (F.m_orthogonal_no_sign_fix, "orthogonal(gain=1)", DENSE, "sign correction"),
    (F.m_sparse_zeros, "glorot_uniform", DENSE, None),
    (F.m_wrong_constant, "ones", DENSE, None),
    (F.m_absolute_bounds, "truncated_normal(std=0.02, corrected=true)", DENSE, "absolute"),
    (F.m_geo_for_avg, "xavier_normal", DENSE, "fan_geo_avg"),
    # layer-semantics faults: right on dense layers, wrong on grouped / depthwise / transposed convs
    (F.shape_glorot_uniform, "glorot_uniform", "conv2d(32,64,k=3,groups=4)", "framework fans (72, 576)"),
    (F.shape_glorot_uniform, "glorot_uniform", "conv2d(4,4,k=3,groups=4)", "framework fans (9, 36)"),
    (F.shape_kaiming_fan_out, "variance_scaling(scale=2, mode=fan_out, distribution=normal)",
     "depthwise_conv2d(32,k=3,m=2)", "framework fan_out 576"),
    (F.kaiming_normal, "kaiming_normal", "conv_transpose2d(32,64,k=3)", "textbook fan_out 576"),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn, spec, layer", CORRECT, ids=[f"{c[0].__name__}-{c[1]}" for c in CORRECT])
def test_correct_initializers_conform(fn, spec, layer, seed):
    report = initializer(fn, expect=spec, layer=layer, config=cfg(seed))
    (res,) = report.results
    assert res.verdict == "conforms", res.message
    assert report.ok
    assert res.min_detectable_rel_error is not None and res.min_detectable_rel_error < 0.04


def test_catalogue_has_at_least_25_mutants():
    assert len(MUTANTS) >= 25


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn, spec, layer, words", MUTANTS, ids=[f"{m[0].__name__}-{m[2]}" for m in MUTANTS])
def test_mutants_rejected(fn, spec, layer, words, seed):
    report = initializer(fn, expect=spec, layer=layer, config=cfg(seed))
    (res,) = report.results
    assert res.verdict == "deviates", res.message
    assert not report.ok
    assert any(not c.passed for c in res.checks)
    # the rejection comes from power: the detectable error is below the smallest mutant error (5%)
    assert res.min_detectable_rel_error is not None and res.min_detectable_rel_error < 0.05
    if words is not None and seed == SEEDS[0]:
        assert words in res.message, res.message


# Negative controls: reported "bugs" that are not bugs must be accepted as conforming.
NEGATIVE_CONTROLS = [
    # "kaiming_uniform_ should square its gain": bound gain*sqrt(3/fan) already gives variance gain^2/fan
    (F.he_uniform, "variance_scaling(scale=2, mode=fan_in, distribution=uniform)"),
    # "a variance-scaling uniform's factor 3 is wrong": Var U(-b, b) = b^2/3, so b = sqrt(3 scale/n)
    (F.lecun_uniform, "variance_scaling(scale=1, mode=fan_in, distribution=uniform)"),
    # "Glorot's sqrt(6) should be sqrt(3)": sqrt(6/(fi+fo)) = sqrt(3 * 2/(fi+fo))
    (F.glorot_uniform, "variance_scaling(scale=1, mode=fan_avg, distribution=uniform)"),
    # "torch's xavier_normal_ must be truncated": it is documented untruncated with the same variance
    (F.xavier_normal, "variance_scaling(scale=1, mode=fan_avg, distribution=normal)"),
    # "the truncated normal needs std/0.8796 so it is too wide": the corrected TN has exactly var v
    (F.he_normal, "variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal)"),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fn, spec", NEGATIVE_CONTROLS, ids=[n[0].__name__ for n in NEGATIVE_CONTROLS])
def test_negative_controls_conform(fn, spec, seed):
    report = initializer(fn, expect=spec, layer=[DENSE, CONV], config=cfg(seed))
    assert [r.verdict for r in report.results] == ["conforms", "conforms"], [r.message for r in report.results]


def test_explanations_carry_measured_figures():
    report = initializer(F.m_missing_truncation_correction, expect="glorot_normal", layer=DENSE, config=cfg(0))
    (res,) = report.results
    assert 0.76 < res.ratio < 0.79  # c^2 = 0.7737
    assert f"{res.observed_variance:.6g}" in res.message and "0.005" in res.message
    report = initializer(F.shape_glorot_uniform, expect="glorot_uniform", layer="conv2d(4,4,k=3,groups=4)",
                         config=cfg(0))
    (res,) = report.results
    assert res.fans_textbook == (9, 9) and res.fans_framework == (9, 36)
    assert math.isclose(res.expected_variance, 2 / 18)
    assert abs(res.observed_variance / (2 / 45) - 1) < 0.02  # fans (9, 36): 2/45
