"""The claim registry covers the seed: every assertive sentence is quoted, every quote is verbatim,
IDs are stable-looking and unique, and every claim carries evidence."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from invariants.claims import Verdict, all_claims, seed, select

SHARED_SEED = Path(__file__).resolve().parents[2].parent / "shared" / "seed" / seed.SEED_NAME


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


# ---- the index: claim ID → module ------------------------------------------------------------------

_WHO_REGISTERS_WHAT = """
import importlib, json, sys
from invariants.claims import index, registry
out = {}
for module in dict.fromkeys(index.CLAIM_MODULES.values()):
    before = set(registry.registered())
    importlib.import_module(module)
    for cid in set(registry.registered()) - before:
        out[cid] = module
print(json.dumps(out))
"""


def test_index_matches_what_the_modules_register():
    from invariants.claims import index

    done = subprocess.run([sys.executable, "-c", _WHO_REGISTERS_WHAT], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == index.CLAIM_MODULES
    assert list(index.CLAIM_MODULES) == sorted(index.CLAIM_MODULES)
    assert [c.id for c in all_claims()] == list(index.CLAIM_MODULES)  # registry order: ID order


_IMPORTS_OF_SELECT = """
import json, sys
from invariants.claims import registry
claims = registry.select(sys.argv[1:])
print(json.dumps({"ids": [c.id for c in claims],
                  "modules": sorted(m for m in sys.modules if m.startswith("invariants.claims.")
                                    and m.count(".") == 3 and not m.endswith(".shared"))}))
"""


@pytest.mark.parametrize("ids", [["SYM-ROWS-01"], ["VAR-PROP-01", "BIAS-ZERO-01"], ["INIT-SGD-01"]])
def test_selecting_claims_imports_only_their_modules(ids):
    """``verify --only ID`` goes through :func:`registry.select`: no other claim module may be imported."""
    from invariants.claims import index

    done = subprocess.run([sys.executable, "-c", _IMPORTS_OF_SELECT, *ids], capture_output=True, text=True, check=True)
    got = json.loads(done.stdout)
    assert got["ids"] == sorted(ids)
    assert got["modules"] == sorted({index.CLAIM_MODULES[cid] for cid in ids})


def test_select_falls_back_to_every_claim_for_an_unknown_id():
    everything = [c.id for c in all_claims()]
    assert [c.id for c in select(["NOPE-99"])] == everything
    assert [c.id for c in select([])] == everything


# ---- readings and mutants (the data model every claim uses) ------------------------------------------

def _ev(name="e"):
    from invariants.claims import Evidence, EvidenceResult

    return Evidence("property", name, lambda: EvidenceResult(True, "ok"))


def test_mutant_decorator_attaches_to_evidence():
    from invariants.claims import Evidence, EvidenceResult, mutant

    @mutant("the premise negated", lambda: EvidenceResult(False, "fails"))
    def fn():
        return EvidenceResult(True, "ok")

    ev = Evidence("property", "e", fn)
    assert ev.mutant is not None and ev.mutant.what == "the premise negated"
    assert ev.mutant.fn().passed is False
    assert _ev().mutant is None


def test_reading_must_cite_the_claims_evidence():
    from invariants.claims import Claim, Reading

    good = Reading("incoming weights", Verdict.REFUTED, ("e",))
    Claim(id="T-R-01", title="t", seed_quotes=("q",), statement="s", verdict=Verdict.CONDITIONAL,
          evidence=(_ev(),), readings=(good,))
    for bad in (Reading("x", Verdict.VERIFIED, ("nope",)), Reading("x", Verdict.VERIFIED, ())):
        with pytest.raises(ValueError, match="reading"):
            Claim(id="T-R-01", title="t", seed_quotes=("q",), statement="s", verdict=Verdict.CONDITIONAL,
                  evidence=(_ev(),), readings=(bad,))


# ---- verdict semantics (issue 15): scope, proved, readings --------------------------------------------------

def scope_missing(claims) -> list[str]:
    """IDs of claims without a scope."""
    return sorted(c.id for c in claims if not c.scope.strip())


def proved_without_symbolic(claims) -> list[str]:
    return sorted(c.id for c in claims if c.verdict is Verdict.PROVED and not any(e.kind == "symbolic" for e in c.evidence))


def bad_readings(claims) -> list[str]:
    """IDs of claims whose readings are fewer than two or repeat one another."""
    return sorted(c.id for c in claims if c.readings and (len(c.readings) < 2 or
                                                          len({r.reading for r in c.readings}) < len(c.readings)))


def test_every_claim_states_its_scope():
    missing = scope_missing(all_claims())
    assert not missing, f"claims without a scope (architecture, optimizer and size scope): {missing}"


def test_proved_claims_rest_on_symbolic_evidence():
    assert any(c.verdict is Verdict.PROVED for c in all_claims())
    assert proved_without_symbolic(all_claims()) == []


def test_readings_are_at_least_two_distinct_interpretations():
    # the ambiguous seed sentences (Xavier, incoming/outgoing weights, literal/charitable) carry readings
    assert any(c.readings for c in all_claims())
    assert bad_readings(all_claims()) == []


def test_scope_and_readings_oracles_reject_bad_claims():
    """Mutation self-test of the three checks above on hand-made claims."""
    from invariants.claims import Claim, Reading

    def make(cid, verdict, readings=(), scope=""):
        return Claim(id=cid, title="t", seed_quotes=("q",), statement="s", verdict=verdict, evidence=(_ev(),),
                     scope=scope, readings=readings)

    r = Reading("only one", Verdict.VERIFIED, ("e",))
    bad = [make("T-S-01", Verdict.PROVED), make("T-S-02", Verdict.VERIFIED, (r,), "x"),
           make("T-S-03", Verdict.VERIFIED, (r, r), "x")]
    good = [make("T-S-04", Verdict.VERIFIED, (r, Reading("another", Verdict.REFUTED, ("e",))), "x")]
    assert scope_missing(bad + good) == ["T-S-01"]
    assert proved_without_symbolic(bad + good) == ["T-S-01"]
    assert bad_readings(bad + good) == ["T-S-02", "T-S-03"]
