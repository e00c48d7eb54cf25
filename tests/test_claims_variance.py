"""Variance claims: the evidence passes, and fails on mutants (wrong sampler scale, wrong rule)."""
from __future__ import annotations

import pytest
import sympy as sp

from invariants.audit.specs import VarianceScaling
from invariants.claims import get
from invariants.claims import variance as family
from invariants.symbolic import variance as symvar


@pytest.mark.parametrize("claim_id", ["VAR-GLOROT-01", "VAR-FANIN-01"])
def test_evidence_supports_verdict(claim_id):
    for ev in get(claim_id).evidence:
        result = ev.fn()
        assert result.passed, f"{ev.name}: {result.detail}"


@pytest.mark.parametrize("scale", [1.1, 1 / 1.1, 2.0])
def test_sampler_property_rejects_wrong_scale(monkeypatch, scale):
    monkeypatch.setattr(family, "GLOROT_GAUSSIAN", VarianceScaling(scale, "fan_avg", "normal"))
    assert not family._glorot_sampler_property().passed


def test_sampler_property_rejects_fan_in_only_rule(monkeypatch):
    monkeypatch.setattr(family, "GLOROT_GAUSSIAN", VarianceScaling(1.0, "fan_in", "normal"))
    assert not family._glorot_sampler_property().passed


def test_derivation_evidence_rejects_wrong_literature_constant(monkeypatch):
    wrong = dict(symvar.LITERATURE)
    wrong["glorot_variance"] = (1 / (symvar.fan_in + symvar.fan_out), "mutant")
    monkeypatch.setattr(symvar, "LITERATURE", wrong)
    symvar._literature_checks.cache_clear()
    try:
        assert not family._glorot_derivation().passed
    finally:
        symvar._literature_checks.cache_clear()


def test_fan_in_counterexample_fails_for_a_fan_in_only_rule(monkeypatch):
    """If Glorot's rule were fan_in-only, the counterexample must stop refuting the sentence."""
    rules = symvar.glorot_variance()
    fake = type(rules)(**{**rules.__dict__, "glorot": 1 / symvar.fan_in})
    monkeypatch.setattr(symvar, "glorot_variance", lambda: fake)
    assert not family._fan_in_only_is_not_glorot().passed
    assert sp.simplify(fake.glorot * symvar.fan_in) == 1
