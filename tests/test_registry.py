"""The claim registry covers the seed: every assertive sentence is quoted, every quote is verbatim,
IDs are stable-looking and unique, and every claim carries evidence."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from invariants.claims import Verdict, all_claims, seed

SHARED_SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / seed.SEED_NAME


def _quotes() -> list[str]:
    return [q for c in all_claims() for q in c.seed_quotes]


@pytest.mark.skipif(not SHARED_SEED.exists(), reason="shared/ folder not beside the checkout")
def test_shipped_seed_equals_shared_original():
    assert seed.seed_text() == SHARED_SEED.read_text(encoding="utf-8")


def test_every_assertive_sentence_is_quoted_by_some_claim():
    assert seed.uncovered_sentences(_quotes()) == []


def test_every_quote_is_verbatim():
    assert seed.quotes_not_in_seed(_quotes()) == []


def test_coverage_oracle_rejects_a_missing_sentence():
    """Mutation self-test: drop the quotes of one claim and the coverage check must notice."""
    claims = all_claims()
    quotes = [q for c in claims[1:] for q in c.seed_quotes]
    only_first = set(claims[0].seed_quotes) - set(quotes)
    if only_first:
        assert seed.uncovered_sentences(quotes)
    assert seed.quotes_not_in_seed(["Weights are always zero."]) == ["Weights are always zero."]


def test_seed_has_about_twenty_distinct_assertions():
    assert 25 <= len(seed.assertive_sentences()) <= 40
    assert all(not s.endswith("?") for s in seed.assertive_sentences())


def test_ids_and_fields():
    claims = all_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    for c in claims:
        assert re.fullmatch(r"[A-Z]+(-[A-Z0-9]+)*-\d\d", c.id), c.id
        assert c.title and c.statement and c.evidence
        assert isinstance(c.verdict, Verdict)
        if c.verdict is Verdict.PROVED:
            assert any(e.kind == "symbolic" for e in c.evidence), f"{c.id}: proved needs a symbolic proof"
        if c.verdict is Verdict.REFUTED:
            assert any(e.kind == "counterexample" for e in c.evidence), f"{c.id}: refuted needs a counterexample"
