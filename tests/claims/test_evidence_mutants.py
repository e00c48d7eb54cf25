"""Every piece of evidence can fail (issue 15, item 5): each registered evidence function carries a mutant
(``Evidence.mutant``: a mutated premise, network, optimizer, formula or data) on which it must fail, while
the unmutated evidence passes.  One test per (claim, evidence), plus the list of evidence without a mutant,
which must be empty.

Tests of one claim module share an xdist group, so the module's cached runs (fits, profiles, properties
shared between claims) are computed once per worker.
"""
from __future__ import annotations

import pytest

from invariants.claims import all_claims

def _cases():
    for claim in all_claims():
        for ev in claim.evidence:
            group = pytest.mark.xdist_group(name=f"mutants-{ev.fn.__module__.rsplit('.', 1)[-1]}")
            yield pytest.param(claim.id, ev, id=f"{claim.id}/{ev.name[:48]}", marks=group)


CASES = list(_cases())


@pytest.mark.parametrize("claim_id, evidence", CASES)
def test_evidence_passes_and_its_mutant_fails(claim_id, evidence, evidence_store):
    assert evidence.mutant is not None, f"{claim_id} / {evidence.name}: no mutant"
    assert evidence.mutant.what.strip(), "a mutant says what it mutates"
    real = evidence_store.result(claim_id, evidence)  # run once per session (tests/shared_evidence.py)
    assert real.passed, f"{claim_id} / {evidence.name}, unmutated: {real.detail}"
    mutated = evidence.mutant.fn()
    assert mutated.passed is False, (f"{claim_id} / {evidence.name}: still passes with "
                                     f"'{evidence.mutant.what}': {mutated.detail}")
    assert mutated.detail.strip(), "a failing evidence says why"


def test_every_evidence_has_a_mutant():
    missing = [f"{cid} / {ev.name}" for cid, ev in (c.values for c in CASES)
               if ev.mutant is None]
    assert missing == []
