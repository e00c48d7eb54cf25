"""Plain-text table of a verify run (:class:`invariants.verify.VerifyReport`), the failed evidence below
it, and a progress indicator.

The table has one row per claim under a header row (``--list``: :func:`render_claim_list`)::

    ID            verdict     evidence  seconds  status
    SYM-CONST-01  proved      3/3          0.12  OK

followed by a summary line and, for every failed piece of evidence, its claim, kind, name and detail.
The functions read the report's attributes only: the render layer imports no engine (not even the
claim registry), see ``tests/core/test_layering.py``.
"""
from __future__ import annotations

import textwrap
from typing import Any

from invariants.core.text import render_table
from invariants.render.progress import TerminalProgress


def _status(outcome: Any) -> str:
    return "OK" if outcome.passed else "FAIL"


def render_failures(report: Any, width: int = 100) -> str:
    """Every failed piece of evidence with its detail, or ``""`` when nothing failed."""
    blocks = []
    for outcome in report.failed:
        for ev, result in outcome.failures:
            head = f"FAIL {outcome.claim.id} [{ev.kind}] {ev.name}"
            detail = textwrap.fill(
                result.detail or "(no detail)", width=width, initial_indent="    ", subsequent_indent="    "
            )
            blocks.append(f"{head}\n{detail}")
    if not blocks:
        return ""
    return "Failed evidence:\n" + "\n".join(blocks)


#: the verify table's columns, least important first: dropped in this order to fit a narrow terminal
VERIFY_DROP = (3, 2)


def render_claim_list(claims: Any, width: int | None = None) -> str:
    """``invariants verify --list``: a table of ``ID``, ``verdict`` and ``title``, one row per claim, under a
    header row; ``width``: fit every line in this many characters (a terminal's: the title wraps under
    itself), ``None``: no limit."""
    rows = [[c.id, c.verdict.value, c.title] for c in claims]
    return render_table(["ID", "verdict", "title"], rows, "lll", max_width=width)


def render_verify(report: Any, *, table: bool = True, width: int | None = None) -> str:
    """The verify table, a summary line and the failed evidence (``table=False``: failures only).

    ``width``: fit the table in this many characters (a terminal's: ``seconds``, then ``evidence``, are
    dropped, :data:`VERIFY_DROP`); ``None``: every column."""
    parts = []
    if table:
        rows = [
            [
                o.claim.id,
                o.claim.verdict.value,
                f"{o.n_passed}/{len(o.results)}",
                f"{o.seconds:.2f}",
                _status(o),
            ]
            for o in report.outcomes
        ]
        parts.append(render_table(["ID", "verdict", "evidence", "seconds", "status"], rows, "lllrl", max_width=width,
                                  drop=VERIFY_DROP))
        n_fail = len(report.failed)
        n = len(report.outcomes)
        parts.append(
            f"{n} claim{'s' if n != 1 else ''}: {n - n_fail} OK, {n_fail} FAIL"
            f" in {report.total_seconds:.2f}s"
        )
    failures = render_failures(report, width or 100)
    if failures:
        parts.append(failures)
    return "\n\n".join(parts)


class Progress(TerminalProgress):
    """A progress callback for :func:`invariants.verify.run_claims`: on a terminal one updating line
    ``verify  33%|####        | 8/24 claims [00:05<00:10] SYM-CONST-01 ...`` (the claim in work, or the last
    one finished with its status), cleared at the end; nothing elsewhere (:class:`TerminalProgress`).  Call
    :meth:`close` after the run.
    """

    def __call__(self, index: int, total: int, claim: Any, outcome: Any) -> None:
        done = index - (1 if outcome is None else 0)
        name = f"{claim.id} ..." if outcome is None else f"{claim.id} {_status(outcome)}"
        self.update(done, total, "verify", name, "claims")
