"""Calibration subset (the full run is ``benchmarks/calibration.py``): no false alarms on correct
initializers over many seeds, every large-effect mutant killed on every seed, uniform p-values.

Audits use small layers and detect a 10% variance error (about 12,000 values per audit); every check
runs at alpha = 1e-6, so the ~150 audits of correct initializers here have a union-bound false-alarm
probability below 1.5e-3, and the seeds are fixed base seeds (a function of the test, not of the
execution order), so the outcome is deterministic.  Mutants are those whose error is at least 2x the
detectable error at this sample size, so every kill comes from power, not luck.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import audit_fixtures as F
from invariants.audit import initializer
from invariants.audit.auditor import AuditConfig

SEEDS = range(100, 112)
DENSE, CONV = "dense(64,32)", "conv2d(4,8,k=3)"


def cfg(seed: int) -> AuditConfig:
    return AuditConfig(rel_error=0.1, min_bounded_n=12_000, base_seed=seed)


CORRECT = F.correct_cases(DENSE, CONV)

# variance errors of 23% or more, shape and structure faults: far beyond the detectable error (< 10%)
MUTANTS = [
    (F.m_fan_swap, "kaiming_normal", DENSE),
    (F.m_missing_gain, "kaiming_normal", DENSE),
    (F.m_gain_not_squared, "kaiming_normal", DENSE),
    (F.m_missing_truncation_correction, "glorot_normal", DENSE),
    (F.m_sqrt3_not_sqrt6, "glorot_uniform", DENSE),
    (F.m_sqrt6_not_sqrt3, "he_uniform", DENSE),
    (F.m_mean_shift, "kaiming_normal", DENSE),
    (F.m_clamp_point_mass, "kaiming_normal", DENSE),
    (F.m_uniform_point_mass, "he_uniform", DENSE),
    (F.m_duplicate_rows, "glorot_uniform", DENSE),
    (F.m_ignores_rng, "glorot_uniform", DENSE),
    (F.m_all_zero, "kaiming_normal", DENSE),
    (F.m_uniform_not_normal, "kaiming_normal", DENSE),
    (F.m_normal_not_uniform, "glorot_uniform", DENSE),
    (F.m_orthogonal_gain, "orthogonal(gain=1)", DENSE),
    (F.m_not_orthogonal, "orthogonal(gain=1)", DENSE),
    (F.m_sparse_zeros, "glorot_uniform", DENSE),
    (F.m_wrong_constant, "ones", DENSE),
    (F.m_absolute_bounds, "truncated_normal(std=0.02, corrected=true)", DENSE),
    (F.shape_glorot_uniform, "glorot_uniform", "conv2d(8,16,k=3,groups=4)"),
]


@pytest.mark.parametrize("fn, spec, layer", CORRECT, ids=[c[1] for c in CORRECT])
def test_no_false_alarm_over_seeds(fn, spec, layer):
    verdicts = []
    for seed in SEEDS:
        (res,) = initializer(fn, expect=spec, layer=layer, config=cfg(seed)).results
        verdicts.append(res.verdict)
        assert res.verdict == "conforms", (seed, res.message)
        assert all(c.alpha <= 1e-6 for c in res.checks)
    assert verdicts == ["conforms"] * len(SEEDS)


@pytest.mark.parametrize("fn, spec, layer", MUTANTS, ids=[m[0].__name__ for m in MUTANTS])
def test_large_mutants_killed_on_every_seed(fn, spec, layer):
    for seed in SEEDS[:4]:
        (res,) = initializer(fn, expect=spec, layer=layer, config=cfg(seed)).results
        assert res.verdict == "deviates", (seed, res.message)
        assert res.min_detectable_rel_error is not None and res.min_detectable_rel_error < 0.1


@pytest.mark.parametrize("fn, spec, check", [
    (F.kaiming_normal, "kaiming_normal", "chi2_variance"),
    (F.uniform_005, "uniform(-0.05, 0.05)", "moment_variance"),
    (F.normal_002, "normal(std=0.02)", "ks_shape"),
], ids=["chi2", "moment", "ks"])
def test_p_values_on_a_correct_initializer_are_uniform(fn, spec, check):
    """An exact test's p-value is U(0, 1) under the null: 60 of them pass a KS test at alpha = 1e-6
    (a test with the wrong degrees of freedom or a miscalibrated statistic fails this)."""
    ps = []
    for seed in range(200, 260):
        (res,) = initializer(fn, expect=spec, layer="dense(16,8)", config=AuditConfig(rel_error=0.2, min_bounded_n=3000,
                                                                                      base_seed=seed)).results
        ps.append(next(c.p_value for c in res.checks if c.name == check))
    assert stats.kstest(np.array(ps), "uniform").pvalue > 1e-6, sorted(ps)
