"""The scale check's result: one row per fitted quantity, the findings, the coverage, and the JSON contract
(``invariants/schemas/scale-check.json``).

Status and exit code: ``ok`` (0) when every checked quantity got the verdict expected; ``findings`` (1) on any
error finding (a decided verdict that contradicts the expectation, or a non-finite second moment);
``incomplete`` (3) with no error but something not decided or not measured (an ``undecided`` checked row, a
size whose factory failed, nothing fitted).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from invariants.core.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from invariants.core.results import ERROR, NOTE, common_fields
from invariants.scaling.fit import UNDECIDED, SlopeFit
from invariants.scaling.theory import Expectation

OK, FINDINGS, INCOMPLETE = "ok", "findings", "incomplete"


@dataclass(frozen=True)
class ScaleFinding:
    """One finding (the common shape: ``severity``, ``kind``, ``subject``, ``message``; plus ``params``, the
    tensors it is about, and ``figures``)."""

    severity: str
    kind: str
    subject: str
    message: str
    params: tuple[str, ...] = ()
    figures: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "kind": self.kind, "subject": self.subject, "message": self.message,
                "params": list(self.params), "figures": self.figures}

    def __str__(self) -> str:
        return f"[{self.kind}] {self.subject}: {self.message}"


@dataclass(frozen=True)
class Row:
    """One fitted quantity: a tensor's second moment (or a layer's gain) at one step, against size.

    Attributes:
        name: the module's dotted name (``output`` for the model's output).
        kind: ``preact``, ``act``, ``norm``, ``other``, ``output``, ``update``, ``output-change`` or ``gain``.
        step: the optimizer step (0: initialization).
        position: a weight layer's position (``input``, ``hidden``, ``output``, ``fixed``), else ``None``.
        fit: the slope and its verdict.
        expectation: what theory (or ``--expect theta1``) predicts.
        sizes: the sizes fitted; moments: the geometric mean over seeds of the second moment at each.
        cause: for a mismatch inherited from an earlier layer's gain, that layer's name.
        quantity: what the row measures where its position does not say it, else ``None`` (the ``grad`` row:
            :data:`invariants.scaling.depth.GRAD_QUANTITY`; its position, from fans that do not change with
            depth, is ``fixed``).
    """

    name: str
    kind: str
    step: int
    position: str | None
    fit: SlopeFit
    expectation: Expectation
    sizes: tuple[int, ...]
    moments: tuple[float, ...]
    cause: str | None = None
    quantity: str | None = None

    @property
    def matches(self) -> bool:
        return self.fit.verdict == self.expectation.verdict

    @property
    def label(self) -> str:
        """``NAME KIND step K`` (``fc1 preact step 0``; ``output step 0`` for the model output, whose name is its
        kind: not ``output output``), or ``QUANTITY step K`` for a row whose :attr:`quantity` says what it
        measures (depth mode's gradient row: not ``0 grad step 0``): a finding's subject."""
        what = self.name if self.name == self.kind else f"{self.name} {self.kind}"
        return f"{self.quantity or what} step {self.step}"

    def to_dict(self) -> dict[str, Any]:
        f, e = self.fit, self.expectation
        return {"name": self.name, "kind": self.kind, "step": self.step, "position": self.position,
                "slope": f.slope, "rms_slope": f.rms_slope, "lo": f.lo, "hi": f.hi, "sd": f.sd, "seeds": f.seeds,
                "alpha": f.alpha, "verdict": f.verdict, "seeds_needed": f.seeds_needed,
                "detectable_slope": None if math.isinf(f.detectable) else f.detectable,
                "expected": e.verdict, "expected_slope": e.slope, "checked": e.checked, "source": e.source,
                "matches": self.matches, "cause": self.cause, "quantity": self.quantity, "sizes": list(self.sizes),
                "second_moments": list(self.moments)}


@dataclass
class Coverage:
    """What was and was not measured.

    Attributes:
        sizes: the sizes measured at every seed; failed: ``{size: reason}`` for sizes whose factory or run failed.
        not_fitted: ``{quantity: reason}`` (a zero or non-finite moment, fewer than 2 sizes).
        not_measured: ``{module: reason}`` (modules that are not roles, updates without a rule).
        kinds: the kinds of tensors seen.
    """

    sizes: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    not_fitted: dict[str, str] = field(default_factory=dict)
    not_measured: dict[str, str] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sizes": list(self.sizes), "failed": [{"size": k, "reason": v} for k, v in self.failed.items()],
                "not_fitted": [{"name": k, "reason": v} for k, v in self.not_fitted.items()],
                "not_measured": [{"name": k, "reason": v} for k, v in self.not_measured.items()],
                "kinds": list(self.kinds)}


@dataclass
class ScaleReport:
    """The result of :func:`invariants.scaling.scale_check` (the :class:`~invariants.core.results.Result`
    protocol: ``ok``, ``findings``, ``to_dict()``; ``exit_code`` 0/1/3)."""

    target: str
    mode: str
    config: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    findings: list[ScaleFinding] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    seconds: float = 0.0
    interrupted: bool = False
    plot: str | None = None
    depth_scale: dict[str, Any] | None = None

    @property
    def errors(self) -> list[ScaleFinding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def status(self) -> str:
        if self.errors:
            return FINDINGS
        undecided = any(r.expectation.checked and r.fit.verdict == UNDECIDED for r in self.rows)
        if self.interrupted or undecided or self.coverage.failed or not self.rows:
            return INCOMPLETE
        return OK

    @property
    def exit_code(self) -> int:
        return {OK: EXIT_OK, FINDINGS: EXIT_FINDINGS, INCOMPLETE: EXIT_INCOMPLETE}[self.status]

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def summary(self) -> str:
        checked = [r for r in self.rows if r.expectation.checked]
        matched = sum(r.matches for r in checked)
        sizes = ",".join(str(s) for s in self.coverage.sizes) or "none"
        undecided = [r for r in checked if r.fit.verdict == UNDECIDED]
        head = (f"scale-check {self.target} ({self.mode} {sizes}, {self.config.get('seeds')} seeds, "
                f"expect {self.config.get('expect')}): {self.status}: {matched} of {len(checked)} checked "
                f"quantities as expected")
        if undecided:  # not a mismatch: the intervals are too wide to say (the exit code is 3, not 1)
            need = max((r.fit.seeds_needed or 0) for r in undecided)
            head += (f", {len(undecided)} undecided" +
                     (f" (about {need} seeds would decide {'it' if len(undecided) == 1 else 'them'})" if need else ""))
        counts = f"{len(self.errors)} error(s), {len(self.findings) - len(self.errors)} note(s)"
        return f"{head}; {counts}" + ("; interrupted" if self.interrupted else "")

    def to_dict(self) -> dict[str, Any]:
        out = common_fields(self.ok, self.summary, self.findings, self.config, ["torch"])
        out.update({"target": self.target, "mode": self.mode, "status": self.status, "exit_code": self.exit_code,
                    "rows": [r.to_dict() for r in self.rows], "coverage": self.coverage.to_dict(),
                    "seconds": self.seconds, "interrupted": self.interrupted, "plot": self.plot,
                    "depth_scale": self.depth_scale})
        return out

    def __str__(self) -> str:
        from invariants.core.results import describe

        return describe(self.summary, self.findings)


__all__ = ["Coverage", "FINDINGS", "INCOMPLETE", "OK", "Row", "ScaleFinding", "ScaleReport", "ERROR", "NOTE"]
