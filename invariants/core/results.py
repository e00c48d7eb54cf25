"""One result vocabulary for every command: ``.ok``, ``.findings``, ``.to_dict()``, ``str()``.

The four results — :class:`invariants.verify.VerifyReport` (``invariants verify``),
:class:`invariants.audit.auditor.AuditReport` (``audit``), :class:`invariants.audit.fingerprint.Fingerprint`
(``identify``) and :class:`invariants.modelcheck.report.ModelReport` (``check-model``) — all satisfy
:class:`Result`:

- ``ok``: the run found nothing wrong (the CLI exits 0, else 1);
- ``findings``: what it found, each in the :class:`FindingLike` shape (``severity``, ``kind``,
  ``subject``, ``message``); a finding of severity ``error`` makes ``ok`` false, a ``note`` does not;
- ``to_dict()``: the JSON contract (each result's module documents its keys); every one starts with the
  common keys of :func:`common_fields` (``ok``, ``summary``, ``findings``, ``versions``, ``config``), the
  family published as JSON Schema files in ``invariants/schemas/`` (``tests/cli/test_schemas.py``);
- ``str(result)``: a summary line and one line per finding (:func:`describe`); the full terminal
  tables are :mod:`invariants.render`'s job.
"""
from __future__ import annotations

import platform
import sys
import textwrap
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence, runtime_checkable

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


#: distribution names of the frameworks a run may use, for :func:`versions` (``reference`` is ours: no entry), and of
#: numba, the exact kernel's optional accelerator (verify's ``versions.numba``: installed even when
#: ``INVARIANTS_NO_COMPILED`` keeps it unimported; ``config.compiled`` says whether it ran)
DISTRIBUTIONS = {"torch": "torch", "jax": "jax", "flax": "flax", "keras": "keras", "equinox": "equinox",
                 "mlx": "mlx", "numpy": "numpy", "scipy": "scipy", "numba": "numba"}


def package_version(name: str) -> str | None:
    """The version of ``name`` as loaded (``module.__version__``), else as installed (its distribution's
    metadata), else ``None`` (not installed, or not a package with a version, such as ``reference``)."""
    module = sys.modules.get(name)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    dist = DISTRIBUTIONS.get(name)
    if dist is None:
        return None
    try:
        from importlib.metadata import PackageNotFoundError, version as dist_version

        return dist_version(dist)
    except (PackageNotFoundError, ValueError):
        return None


def versions(frameworks: Iterable[str] = ()) -> dict[str, Any]:
    """``{"invariants", "python", "numpy", "frameworks": {name: version or None}}``: what produced a result.

    ``frameworks`` are the frameworks the run used (a catalogue's, a model's); each version is read as
    loaded, else from the installed distribution; ``None`` when it is not installed."""
    from invariants import __version__

    return {"invariants": __version__, "python": platform.python_version(), "numpy": package_version("numpy"),
            "frameworks": {name: package_version(name) for name in sorted(set(frameworks))}}


def common_fields(ok: bool, summary: str, findings: Iterable[Any], config: Mapping[str, Any],
                  frameworks: Iterable[str] = ()) -> dict[str, Any]:
    """The keys every command's JSON starts with (the schema family ``invariants/schemas/*.json``).

    Args:
        ok: the result's verdict (the CLI exits 0 on ``True``).
        summary: one line saying what was found (the result's ``summary``).
        findings: each with ``to_dict()`` (a :class:`Finding`, a model-check finding) giving at least
            ``severity``, ``kind``, ``subject``, ``message``.
        config: the statistical settings of the run (alpha, power, rel_error, seeds, as applicable).
        frameworks: the frameworks the run used (their versions go into ``versions``).
    """
    return {"ok": bool(ok), "summary": summary, "findings": [f.to_dict() for f in findings],
            "versions": versions(frameworks), "config": dict(config)}


__all__ = ["DISTRIBUTIONS", "ERROR", "NOTE", "SEVERITIES", "Finding", "FindingLike", "Result", "common_fields",
           "describe", "package_version", "versions"]
