"""One result vocabulary for every command: ``.ok``, ``.findings``, ``.to_dict()``, ``str()``.

The four results — :class:`invariants.verify.VerifyReport` (``invariants verify``),
:class:`invariants.audit.auditor.AuditReport` (``audit``), :class:`invariants.audit.fingerprint.Fingerprint`
(``identify``) and :class:`invariants.modelcheck.report.ModelReport` (``check-model``) — all satisfy
:class:`Result`:

- ``ok``: the run found nothing wrong (the CLI exits 0, else 1);
- ``findings``: what it found, each in the :class:`FindingLike` shape (``severity``, ``kind``,
  ``subject``, ``message``); a finding of severity ``error`` makes ``ok`` false, a ``note`` does not;
- ``to_dict()``: the JSON contract (each result's module documents its keys);
- ``str(result)``: a summary line and one line per finding (:func:`describe`); the full terminal
  tables are :mod:`invariants.render`'s job.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, Iterable, Protocol, Sequence, runtime_checkable

ERROR = "error"
NOTE = "note"
SEVERITIES = (ERROR, NOTE)


@runtime_checkable
class FindingLike(Protocol):
    """The common shape of a finding (model-check findings add ``params`` and ``figures``)."""

    severity: str
    kind: str
    subject: str
    message: str


@dataclass(frozen=True)
class Finding:
    """One finding of a verify, audit or identify run.

    Attributes:
        subject: what it is about: a claim ID, a tensor ``target [layer]``, an initializer.
        kind: what kind of finding: the evidence kind, the audit verdict, ``no-match``, ``warning``.
        message: one paragraph with the figures.
        severity: ``error`` (makes the result not ok) or ``note``.
    """

    subject: str
    kind: str
    message: str
    severity: str = ERROR

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "kind": self.kind, "subject": self.subject, "message": self.message}

    def __str__(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.message}"


@runtime_checkable
class Result(Protocol):
    """What every command's result offers (see the module docstring)."""

    @property
    def ok(self) -> bool: ...

    @property
    def findings(self) -> Sequence[FindingLike]: ...

    def to_dict(self) -> dict[str, Any]: ...


def describe(headline: str, findings: Iterable[Any], width: int = 110) -> str:
    """``headline``, then one wrapped ``- severity text`` line per finding (``str(finding)``)."""
    lines = [headline]
    for f in findings:
        lines.append(textwrap.fill(f"{f.severity} {f}", width, initial_indent="  - ", subsequent_indent="    "))
    return "\n".join(lines)


__all__ = ["ERROR", "NOTE", "SEVERITIES", "Finding", "FindingLike", "Result", "describe"]
