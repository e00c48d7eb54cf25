"""The battery of checks per law, and the false-alarm budget derived from it.

The family-wise bound ``m * alpha <= total_alpha`` holds only if ``m`` counts the checks actually run;
these tests add a dummy check and show every split follows, and run the default battery on known-good
and known-bad samples (mutation self-tests: each bad sample is a fault one of the checks is for).
"""
from __future__ import annotations

import numpy as np
import pytest

from invariants import audit
from invariants.audit.auditor import AuditConfig, unit_batteries
from invariants.laws import Law
from invariants.stats import battery as battery_mod
from invariants.stats.battery import LAW, STRUCTURE, Check, FunctionCheck, Sample, battery, family_budget
from invariants.stats.checks import decide
from invariants.stats.extremes import mantissa_bits

NORMAL = Law.normal(0.0, 0.1)
UNIFORM = Law.uniform(-0.2, 0.2)
TRUNC = Law.truncated_normal(0.0, 0.1, -0.2, 0.2)
ORTH = Law("orthogonal", 0.0, 1.0 / 64, -np.inf, np.inf, float("nan"), gain=1.0, unit_axis=0)
CONST = Law("constant", 0.5, 0.0, 0.5, 0.5, float("nan"))

#: a check that always passes, applies to every law (its alpha is what matters here)
DUMMY = FunctionCheck("dummy", lambda law: True, lambda law, s, a: decide("dummy", 0.0, 1.0, a, "always passes"))


@pytest.mark.parametrize("law, n_law, n_structure", [
    (NORMAL, 5, 3), (UNIFORM, 6, 3), (TRUNC, 6, 3), (ORTH, 5, 2), (CONST, 1, 0)])
def test_battery_sizes_are_the_counts_the_auditor_used_to_keep_by_hand(law, n_law, n_structure):
    assert len(battery(law, groups=(LAW,))) == n_law
    assert len(battery(law, groups=(STRUCTURE,))) == n_structure
    assert len(battery(law)) == n_law + n_structure
    assert all(isinstance(c, Check) for c in battery(law))


def test_battery_refuses_an_unknown_group():
    with pytest.raises(ValueError, match="unknown check group"):
        battery(NORMAL, groups=("law", "vibes"))


def test_adding_a_check_changes_the_split_and_the_family_wise_bound_still_holds():
    runs = [battery(law) for law in (NORMAL, UNIFORM, TRUNC, ORTH, CONST) for _ in range(40)]
    before = family_budget(1e-4, runs)
    assert before.m == 40 * (8 + 9 + 9 + 7 + 1)
    with_dummy = [battery(b.law, extra=(DUMMY,)) for b in runs]
    after = family_budget(1e-4, with_dummy)
    assert after.m == before.m + len(runs)
    assert after.per_check < before.per_check  # each check now gets a smaller share
    assert after.per_check == pytest.approx(1e-4 / after.m)
    for b in (before, after):
        assert b.family_wise_bound <= 1e-4 * (1 + 1e-12)
    # uncapped (the model check): the same split, total / m
    assert family_budget(1e-4, with_dummy, cap=None).per_check == 1e-4 / after.m
    # an empty run still gets a valid budget
    assert family_budget(1e-4, []).m == 1


def test_a_check_added_to_the_registry_is_counted_and_run_by_the_auditor(monkeypatch):
    def fn(shape, rng):
        return rng.normal(0.0, 0.1, size=shape)

    cfg = AuditConfig(rel_error=0.05, total_alpha=1e-4, alpha_cap=1e-2)  # cap above the split: the split shows
    report = audit.initializer(fn, expect="normal(0, 0.1)", layer="dense(30, 20)", framework="numpy", config=cfg)
    (res,) = report.results
    assert res.verdict == "conforms"
    # every planned check ran, and no more: 8 of the battery, 3 of seed determinism
    assert report.n_checks == len(res.checks) == 8 + 3
    assert report.alpha == 1e-4 / 11

    monkeypatch.setattr(battery_mod, "CHECKS", battery_mod.CHECKS + (DUMMY,))
    report = audit.initializer(fn, expect="normal(0, 0.1)", layer="dense(30, 20)", framework="numpy", config=cfg)
    (res,) = report.results
    assert report.n_checks == len(res.checks) == 9 + 3
    assert report.alpha == 1e-4 / 12
    assert "dummy" in [c.name for c in res.checks]
    assert all(c.alpha == report.alpha for c in res.checks)


@pytest.mark.parametrize("law, documented, old_count", [
    (NORMAL, None, 3 + 5), (UNIFORM, None, 3 + 6), (TRUNC, None, 3 + 6), (ORTH, None, 2 + 5), (CONST, None, 0 + 1),
    (TRUNC, NORMAL, 3 + 6 + 5), (ORTH, ORTH, 2 + 5 + 5)])
def test_the_auditor_counts_what_its_old_hand_kept_tables_said(law, documented, old_count):
    # the old tables: _STRUCTURAL + _LAW_CHECKS[law] (+ _LAW_CHECKS[documented]); right for every kind,
    # so the auditor's per-check alpha is unchanged
    assert sum(len(b) for b in unit_batteries(law, documented)) == old_count
    alpha, m = family_budget(1e-4, unit_batteries(law, documented)).per_check, old_count
    assert alpha == min(1e-6, 1e-4 / m)


# ------------------------------------------------------------------------------------------ mutation self-tests


def _sample(x: np.ndarray, draws: int = 8) -> Sample:
    return Sample(x.ravel(), list(x.reshape(draws, -1, 50)), mantissa_bits(x), 0.99, 32)


def _failed(law: Law, x: np.ndarray) -> list[str]:
    return [c.name for c in battery(law).run(_sample(x), 1e-6) if not c.passed]


GOOD = {
    "normal": (NORMAL, lambda rng, n: rng.normal(0.0, 0.1, n)),
    "uniform": (UNIFORM, lambda rng, n: rng.uniform(-0.2, 0.2, n)),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_known_good_sample_passes_every_check(name):
    law, draw = GOOD[name]
    x = draw(np.random.default_rng(3), 8 * 50 * 500).astype(np.float32)
    assert _failed(law, x) == []


@pytest.mark.parametrize("mutation, law, draw, expect_failed", [
    ("variance x 1.1", NORMAL, lambda rng, n: rng.normal(0.0, 0.1 * 1.1**0.5, n), "chi2_variance"),
    ("mean shifted by 0.05 std", NORMAL, lambda rng, n: rng.normal(0.005, 0.1, n), "mean"),
    ("uniform with the normal's variance", NORMAL, lambda rng, n: rng.uniform(-0.1 * 3**0.5, 0.1 * 3**0.5, n),
     "extremes"),
    ("values outside the support", UNIFORM, lambda rng, n: rng.uniform(-0.21, 0.21, n), "support"),
    ("clamped at the bounds", NORMAL, lambda rng, n: np.clip(rng.normal(0.0, 0.1, n), -0.25, 0.25), "point_mass"),
    ("every draw the same", NORMAL, lambda rng, n: np.tile(rng.normal(0.0, 0.1, n // 8), 8), "identical_draws"),
])
def test_a_known_bad_sample_is_rejected_by_the_check_for_its_fault(mutation, law, draw, expect_failed):
    x = draw(np.random.default_rng(5), 8 * 50 * 500).astype(np.float32)
    assert expect_failed in _failed(law, x), mutation


def test_battery_min_detectable_error_is_the_smallest_a_check_states():
    b = battery(UNIFORM, groups=(LAW,))
    stated = [c.min_detectable_rel_error(UNIFORM, 100_000, 1e-6, 0.99, (100, 1000), 24) for c in b]
    assert b.min_detectable_rel_error(100_000, 1e-6, 0.99, (100, 1000), 24) == min(d for d in stated if d is not None)
    assert battery(NORMAL, groups=(LAW,)).min_detectable_rel_error(1, 1e-6, 0.99, (1, 1), 24) is None
    assert battery(CONST).min_detectable_rel_error(10, 1e-6, 0.99, (2, 5), 24) == 0.0
