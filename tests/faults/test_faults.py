"""The fault catalogue (tests/faults/catalogue.py): every publicly reported fault caught, every fix passed.

Each case runs as a user who knows the right init would run it (``invariants.audit.initializer`` or
``check_model`` with the ``fast`` profile, seed 0: every check at alpha <= 1e-6, family-wise 1e-4 per audit,
so a correct case is flagged with probability below 1e-4 and the fixed seed makes the outcome
deterministic).  Cases that need a capability of issue 14 not merged yet are strict xfails with the gap in
the reason (:data:`~tests.faults.catalogue.PENDING`): once the capability lands the case passes, the xfail
turns into a failure, and its entry is removed.  One xdist group per framework (``--dist loadgroup``), so a
worker imports torch, JAX or Keras once.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.faults` is imported from the repository root (xdist workers included)
    sys.path.insert(0, str(ROOT))

from tests.faults.catalogue import (  # noqa: E402
    CAUGHT, FAULTS, PASSED, PENDING, REFUSED, SKIPPED, UNSUPPORTED, audit_case,
)


def test_catalogue_covers_the_issue():
    """>= 32 reported faults from >= 8 projects, each cited by a public URL, ids unique, every pending entry a
    case with the gap it needs."""
    assert len(FAULTS) >= 32
    ids = [f.id for f in FAULTS]
    assert len(set(ids)) == len(ids)
    assert len({f.source for f in FAULTS}) >= 8
    for f in FAULTS:
        assert re.match(r"https://github\.com/[\w.-]+/[\w.-]+/(issues|pull|commit)/\w+$", f.url), f.id
        assert f.what and f.how, f.id
    assert set(PENDING) <= set(ids)
    for case_id, gap in PENDING.items():
        assert re.match(r"gap \d", gap), (case_id, gap)


def _param(f):
    marks = [pytest.mark.xdist_group(f"faults-{f.framework}")]
    if f.id in PENDING:
        marks.append(pytest.mark.xfail(strict=True, reason=PENDING[f.id]))
    return pytest.param(f, id=f.id, marks=marks)


@pytest.mark.parametrize("fault", [_param(f) for f in FAULTS])
def test_buggy_caught_and_fixed_passed(fault):
    buggy, fixed = fault.verdict("buggy"), fault.verdict("fixed")
    if fault.id in UNSUPPORTED:  # refused by design, in one line, for the buggy and the fixed code alike
        for v in (buggy, fixed):
            assert v.kind == REFUSED and "not supported" in v.detail and "\n" not in v.detail, (fault.id, v)
        return
    if SKIPPED in (buggy.kind, fixed.kind) and "nothing to audit" not in fixed.detail:
        pytest.skip(f"{fault.id}: {buggy.detail if buggy.kind == SKIPPED else fixed.detail}")
    assert buggy.kind == CAUGHT, f"{fault.id} ({fault.url}): the reported fault is {buggy.kind}: {buggy.detail}"
    if fixed.kind == SKIPPED:  # a legal empty layer: the fix runs on it and nothing is left to check
        assert "0 values: nothing to audit" in fixed.detail, fixed.detail
        return
    assert fixed.kind == PASSED, f"{fault.id}: the fix is {fixed.kind} (false accusation or refusal): {fixed.detail}"


# -------------------------------------------------------------------- the runner's classification (self-test)


def _zeros(shape, rng):
    return np.zeros(shape)


def _normal(shape, rng):
    return rng.normal(0.0, 0.02, size=shape)


def _raises(shape, rng):
    raise ZeroDivisionError("float division by zero")


@pytest.mark.xdist_group("faults-numpy")
def test_runner_classifies_what_the_tool_says():
    """Known bad -> caught, known good -> passed, an initializer that crashes -> caught (BadInitializer), an
    unparseable request -> refused, each with the tool's reason."""
    run = audit_case("normal(std=0.02)", "dense(64,32)")
    assert run(_zeros).kind == CAUGHT
    assert run(_normal).kind == PASSED
    crashed = run(_raises)
    assert crashed.kind == CAUGHT and "BadInitializer" in crashed.detail and "ZeroDivisionError" in crashed.detail
    refused = audit_case("normal(std=0.02)", "no_such_layer(3)")(_normal)
    assert refused.kind == REFUSED and "no_such_layer" in refused.detail
