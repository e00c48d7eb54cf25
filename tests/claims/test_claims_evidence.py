"""Bias and general claims (BIAS-*, DEF-*, INIT-*): each carries its expected verdict, every evidence function
passes with a detail that carries figures and fits the 500-character evidence line, and every seed quote is
verbatim. One parametrized table, so the families agree on what "the evidence supports the verdict" means."""
from __future__ import annotations

import pytest

from invariants.claims import get, seed

VERDICTS = {
    "BIAS-ZERO-01": "verified",
    "BIAS-EFFECT-01": "refuted",
    "BIAS-INPUT-01": "verified",
    "DEF-WEIGHT-01": "verified",
    "DEF-LEARNABLE-01": "verified",
    "INIT-SMALL-01": "refuted",
    "INIT-SGD-01": "refuted",
    "INIT-SCALE-01": "verified",
}


@pytest.mark.parametrize("claim_id", VERDICTS)
def test_evidence_supports_the_verdict(claim_id, evidence_store):
    claim = get(claim_id)
    assert claim.verdict.value == VERDICTS[claim_id]
    for ev in claim.evidence:
        result = evidence_store.result(claim_id, ev)  # run once per session (tests/shared_evidence.py)
        assert result.passed, f"{claim_id} / {ev.name}: {result.detail}"
        assert any(ch.isdigit() for ch in result.detail), "evidence details must carry figures"
        assert len(result.detail) <= 500


@pytest.mark.parametrize("claim_id", VERDICTS)
def test_quotes_are_verbatim(claim_id):
    assert seed.quotes_not_in_seed(list(get(claim_id).seed_quotes)) == []
