"""Variance claims: the evidence passes, and fails on mutants (wrong sampler scale, wrong rule, wrong
constant, swapped schemes)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from invariants import propagation as prop
from invariants.specs import VarianceScaling
from invariants.claims import get
from invariants.claims.variance import glorot_01, prop_01
from invariants.experiments.propagation import reference_profile
from invariants.claims.registry import Verdict
from invariants.claims.seed import seed_text
from invariants.symbolic import gains as symgains
from invariants.symbolic import variance as symvar


def run_evidence(claim_id: str, index: int):
    """Run one piece of a claim's evidence, reached through the registry (not the module's privates)."""
    return get(claim_id).evidence[index].fn()


NEW_CLAIMS = ["VAR-HE-01", "VAR-TRUNC-01", "VAR-TORCHDEFAULT-01", "VAR-GAINS-01", "VAR-ORTHO-01", "VAR-PROP-01"]


@pytest.mark.parametrize("claim_id", ["VAR-GLOROT-01", "VAR-FANIN-01"] + NEW_CLAIMS)
def test_evidence_supports_verdict(claim_id, evidence_store):
    for ev in get(claim_id).evidence:
        result = evidence_store.result(claim_id, ev)  # run once per session (tests/shared_evidence.py)
        assert result.passed, f"{ev.name}: {result.detail}"


@pytest.mark.parametrize("scale", [1.1, 1 / 1.1, 2.0])
def test_sampler_property_rejects_wrong_scale(monkeypatch, scale):
    monkeypatch.setattr(glorot_01, "GLOROT_GAUSSIAN", VarianceScaling(scale, "fan_avg", "normal"))
    assert not run_evidence("VAR-GLOROT-01", 1).passed


def test_sampler_property_rejects_fan_in_only_rule(monkeypatch):
    monkeypatch.setattr(glorot_01, "GLOROT_GAUSSIAN", VarianceScaling(1.0, "fan_in", "normal"))
    assert not run_evidence("VAR-GLOROT-01", 1).passed


def test_derivation_evidence_rejects_wrong_literature_constant(monkeypatch):
    wrong = dict(symvar.LITERATURE)
    wrong["glorot_variance"] = (1 / (symvar.fan_in + symvar.fan_out), "mutant")
    monkeypatch.setattr(symvar, "LITERATURE", wrong)
    symvar.cached_literature_checks.cache_clear()
    try:
        assert not run_evidence("VAR-GLOROT-01", 0).passed
    finally:
        symvar.cached_literature_checks.cache_clear()


def test_fan_in_counterexample_fails_for_a_fan_in_only_rule(monkeypatch):
    """If Glorot's rule were fan_in-only, the counterexample must stop refuting the sentence."""
    rules = symvar.glorot_variance()
    fake = type(rules)(**{**rules.__dict__, "glorot": 1 / symvar.fan_in})
    monkeypatch.setattr(symvar, "glorot_variance", lambda: fake)
    assert not run_evidence("VAR-FANIN-01", 0).passed
    assert sp.simplify(fake.glorot * symvar.fan_in) == 1


# --------------------------------------------------------------------------------------------------
# issue 4 claims: verdicts, seed quotes, and mutation self-tests


@pytest.fixture
def fresh_profiles():
    """Mutation tests patch schemes: never read a cached profile of the unpatched run."""
    reference_profile.cache_clear()
    symgains.gain_table.cache_clear()
    yield
    reference_profile.cache_clear()
    symgains.gain_table.cache_clear()


@pytest.fixture
def fresh_literature():
    symvar.cached_literature_checks.cache_clear()
    yield
    symvar.cached_literature_checks.cache_clear()


def test_new_claims_verdicts_and_quotes():
    expected = {"VAR-HE-01": Verdict.PROVED, "VAR-TRUNC-01": Verdict.PROVED, "VAR-TORCHDEFAULT-01": Verdict.VERIFIED,
                "VAR-GAINS-01": Verdict.VERIFIED, "VAR-ORTHO-01": Verdict.PROVED, "VAR-PROP-01": Verdict.VERIFIED}
    for cid, verdict in expected.items():
        claim = get(cid)
        assert claim.verdict is verdict
        for quote in claim.seed_quotes:
            assert quote in seed_text(), (cid, quote)
        if verdict is Verdict.PROVED:
            assert any(ev.kind == "symbolic" for ev in claim.evidence), cid


def _with_literature(monkeypatch, name, wrong):
    lit = dict(symvar.LITERATURE)
    lit[name] = (wrong, "mutant")
    monkeypatch.setattr(symvar, "LITERATURE", lit)
    symvar.cached_literature_checks.cache_clear()


@pytest.mark.parametrize("name, wrong, evidence", [
    ("he_variance", 1 / symvar.fan_in, ("VAR-HE-01", 0)),
    ("he_leaky_variance", 2 / ((1 + symvar.slope) * symvar.fan_in), ("VAR-HE-01", 0)),
    ("leaky_relu_gain", sp.sqrt(2 / (1 + symvar.slope)), ("VAR-HE-01", 0)),
    ("truncated_normal_variance", sp.Float("0.88") ** 2, ("VAR-TRUNC-01", 0)),
    ("truncated_normal_corrected_variance", sp.Float("0.7737413") * symvar.sigma**2, ("VAR-TRUNC-01", 0)),
    ("torch_default_variance", 2 / symvar.fan_in, ("VAR-TORCHDEFAULT-01", 0)),
    ("torch_default_variance", 1 / symvar.fan_in, ("VAR-TORCHDEFAULT-01", 0)),
    ("orthogonal_mean_square", symvar.gain**2 / sp.Min(symvar.rows, symvar.cols), ("VAR-ORTHO-01", 0)),
])
def test_symbolic_evidence_rejects_wrong_literature_constant(monkeypatch, fresh_literature, name, wrong, evidence):
    assert run_evidence(*evidence).passed
    _with_literature(monkeypatch, name, wrong)
    assert not run_evidence(*evidence).passed


@pytest.mark.parametrize("literal", ["0.88", "0.8796256610342397"])
def test_trunc_constant_evidence_rejects_wrong_literal(monkeypatch, literal):
    monkeypatch.setattr(symvar, "JAX_TRUNCATED_NORMAL_STD", literal)
    assert not run_evidence("VAR-TRUNC-01", 1).passed


def test_trunc_constant_evidence_rejects_wrong_audit_constant():
    assert not get("VAR-TRUNC-01").evidence[1].fn(audit_constant=0.88).passed


def test_he_network_evidence_rejects_lecun_as_he(monkeypatch, fresh_profiles):
    """If the 'he' scheme were LeCun's 1/fan_in, ReLU variance would vanish, not stay steady."""
    monkeypatch.setitem(prop.SCHEMES, "he", prop.Scheme("he", lambda fi, fo: 1.0 / fi))
    assert not run_evidence("VAR-HE-01", 1).passed


def test_torch_default_evidence_rejects_he_as_default(monkeypatch, fresh_profiles):
    monkeypatch.setitem(prop.SCHEMES, "torch_default", prop.Scheme("torch_default", lambda fi, fo: 2.0 / fi, "uniform"))
    assert not run_evidence("VAR-TORCHDEFAULT-01", 1).passed


@pytest.mark.parametrize("activation, value", [("tanh", sp.Integer(1)), ("selu", sp.Integer(1)),
                                               ("sigmoid", sp.Integer(4))])
def test_gains_evidence_fails_if_a_conventional_gain_were_derived(monkeypatch, fresh_profiles, activation, value):
    monkeypatch.setitem(symgains.PYTORCH_GAINS, activation, value)
    assert not run_evidence("VAR-GAINS-01", 1).passed


def test_gains_evidence_rejects_leaky_gain_without_square(monkeypatch, fresh_profiles):
    monkeypatch.setitem(symgains.PYTORCH_GAINS, "leaky_relu", sp.sqrt(2 / (1 + symvar.slope)))
    assert not run_evidence("VAR-GAINS-01", 0).passed


def test_gains_network_evidence_rejects_a_wrong_gain(monkeypatch, fresh_profiles):
    """Sampling tanh at gain 1 while claiming 5/3's fixed point must fail the band."""
    real = prop.gain_scheme
    monkeypatch.setattr(prop, "gain_scheme", lambda g, name=None, mode="fan_in": real(1.0, name, mode))
    assert not run_evidence("VAR-GAINS-01", 2).passed


def test_ortho_property_rejects_gaussian_weights(monkeypatch):
    monkeypatch.setitem(prop.SCHEMES, "orthogonal", prop.Scheme("orthogonal", lambda fi, fo: 1.0 / max(fi, fo)))
    assert not run_evidence("VAR-ORTHO-01", 1).passed


def test_prop_property_rejects_a_mis_scaled_sampler(monkeypatch):
    """Networks sampled with 1.5× the scheme's variance leave the mean-field band."""
    real = prop.variance_profile

    def mis_scaled(scheme, activation, depth, width, batch, seed, alpha):
        base = prop.get_scheme(scheme)
        mutant = prop.Scheme(base.name, lambda fi, fo: 1.5 * base.variance(fi, fo), base.distribution)
        return real(mutant, activation, max(depth, 40), width, batch, seed, alpha=alpha, reference_scheme=base)

    monkeypatch.setattr(prop, "variance_profile", mis_scaled)
    assert not run_evidence("VAR-PROP-01", 0).passed


@pytest.mark.parametrize("scheme, replacement", [("std0.01", "lecun"), ("std1", "lecun"), ("lecun", "std0.01")])
def test_prop_trends_detect_swapped_schemes(monkeypatch, fresh_profiles, scheme, replacement):
    swapped = prop.SCHEMES[replacement]
    monkeypatch.setitem(prop.SCHEMES, scheme, prop.Scheme(scheme, swapped.variance, swapped.distribution))
    # only the swapped scheme's expectations: the other profiles are unaffected (and slow)
    subset = {k: v for k, v in prop_01.PROP_EXPECTED.items() if k[0] == scheme}
    monkeypatch.setattr(prop_01, "PROP_EXPECTED", subset)
    assert subset and not run_evidence("VAR-PROP-01", 1).passed


def test_profile_cache_is_keyed_by_arguments():
    a = reference_profile("lecun", "identity", 5)
    assert reference_profile("lecun", "identity", 5) is a
    assert np.all(np.isfinite(a.forward_measured))
