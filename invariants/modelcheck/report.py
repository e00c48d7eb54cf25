"""Results of a model check: findings (errors and notes), the per-tensor table, the signal profile.

:class:`ModelReport` follows the common result vocabulary (:mod:`invariants.core.results`: ``.ok`` =
healthy, ``.findings``, ``.to_dict()``, ``str()``); :mod:`invariants.render.model` draws its tables.

**Status** (:attr:`ModelReport.status`): ``unhealthy`` when there is an error (whatever the coverage);
else ``incomplete`` when the check analysed less than ``Coverage.min_share`` of the parameter values or
the probe did not run (signal propagation not checked; ``--no-probe`` is a request, not a gap, and
does not make a report incomplete); else ``healthy``.  ``ok`` is ``True`` only for ``healthy``; the CLI
exit code is 0 / 1 / 3 (:data:`EXIT_CODES`).

JSON contract (:meth:`ModelReport.to_dict`; ``ok`` equals ``healthy``, added with the common vocabulary)::

    {"model": str, "framework": str, "profile": str, "status": "healthy"|"unhealthy"|"incomplete",
     "exit_code": 0|1|3, "healthy": bool, "ok": bool,
     "counts": {"error": int, "note": int},
     "findings": [{"severity": "error"|"note", "kind": str, "params": [str], "message": str,
                   "figures": {...}}],
     "tensors": [{"name", "role", "layer", "shape", "fans", "n", "mean", "variance", "gain",
                  "matches": [str], "closest": str|null, "detectable_rel_error": float|null}],
     "signal": {"layers": [str], "forward": [float], "backward": [float|null], ...} | null,
     "probe": str, "seconds": float, "dtypes": {str: int},
     "coverage": {"tensors": int, "total_tensors": int, "values": int, "total_values": int, "share": float,
                  "min_share": float, "signal": str|null, "probe_requested": bool, "complete": bool,
                  "not_analysed": [{"name", "n", "reason"}], "partial": [{"name", "n", "reason"}],
                  "tied": {str: [str]},
                  "signal_layers": [int, int], "unmeasured": [str]  (when the probe measured only some layers),
                  "no_trend": {"layers": int, "why": str}  (when the probe measured no trend through depth),
                  "expected": {str: {"expect", "law", "met", "fans", "n", "detectable_rel_error"}}  (with --expect)
                 } | null}
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from invariants.core.errors import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from invariants.core.results import ERROR, NOTE, SEVERITIES, common_fields, describe

#: finding kinds, with the severity rule each follows (see :mod:`invariants.modelcheck`)
KINDS = (
    "identical-tensors",      # error: two separately initialized tensors are bit-identical
    "constant-tensor",        # error: a random-role tensor is all-zero/constant outside the known patterns
    "zero-output-layer",      # note: zero output layer while other layers are random
    "zero-residual-branch",   # note: zero branch whose skip path carries the signal
    "unusual-constant",       # note: a norm scale at a constant other than 1
    "dead-units",             # error (note if every unit is revived at the first step)
    "interchangeable-units",  # error: units tied in their incoming and outgoing weights
    "tied-units",             # note: identical incoming weights, different gradients (training separates)
    "duplicated-units",       # error: bit-identical random units inside one tensor that no chance explains
    "padding-row",            # note: an embedding's declared padding row is zero
    "expectation",            # error: a tensor does not match the scheme --expect states for it
    "variance",               # note: a tensor matches no named scheme
    "nonzero-mean",           # error at |mean| >= 10 std (rows nearly collinear), else note: drawn around a mean != 0
    "inconsistent-scale",     # error: no fan rule explains the unmatched layers together
    "extreme-values",         # error: entries beyond the exact extreme-value bound of the tensor's own scale
    "fan-swap",               # error: the peers' scheme rejects a tensor its fan-swapped variant fits
    "peer-scale",             # error: a tensor >10x off the variance of the scheme its siblings follow
    "magnitude-scale",        # error: a weight-norm magnitude g = c*||v|| in every slice, c^2 > 10 (no peers needed)
    "peer-scheme",            # note: a tensor its peers' scheme rejects, no fan swap explains it
    "implausible-fixed-std",  # error: a shared fixed std no source declares, shrinking every layer
    "packed-orthogonal",      # note: orthogonal over a packed gate matrix, no block orthogonal
    "signal-forward",         # error / note by the ratio thresholds
    "signal-backward",        # error / note by the ratio thresholds
    "probe",                  # note: the probe pass could not run
    "non-finite",             # error: a parameter holds NaN or infinite values
)

HEALTHY, UNHEALTHY, INCOMPLETE = "healthy", "unhealthy", "incomplete"
#: report status -> CLI exit code (:mod:`invariants.core.errors`)
EXIT_CODES = {HEALTHY: EXIT_OK, UNHEALTHY: EXIT_FINDINGS, INCOMPLETE: EXIT_INCOMPLETE}


@dataclass
class Finding:
    """One finding.

    Attributes:
        severity: ``error`` (breaks training, or a wiring fault no scheme produces on purpose) or
            ``note`` (unusual but harmless, or a known good practice).
        kind: one of :data:`KINDS`.
        params: the parameter (or layer) names concerned.
        message: one paragraph with the figures.
        figures: the figures as data.
    """

    severity: str
    kind: str
    params: tuple[str, ...]
    message: str
    figures: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        self.params = tuple(self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "kind": self.kind, "subject": self.subject, "params": list(self.params),
                "message": self.message, "figures": _jsonable(self.figures)}

    @property
    def subject(self) -> str:
        """The parameters concerned, comma-separated (the common finding shape, :mod:`invariants.core.results`)."""
        return ", ".join(self.params)

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


@dataclass
class TensorRow:
    """One tensor (or packed block) of the variance table."""

    name: str
    role: str
    layer: str | None
    shape: tuple[int, ...]
    fans: tuple[int, int] | None
    n: int
    mean: float
    variance: float
    matches: list[str] = field(default_factory=list)
    closest: str | None = None
    detectable_rel_error: float | None = None
    constant: bool = False

    @property
    def gain(self) -> float | None:
        """``Var·fan_in`` (second moment about 0 times fan_in): the mean-field gain factor σ_w²."""
        if self.fans is None:
            return None
        return (self.variance + self.mean**2) * self.fans[0]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({"name": self.name, "role": self.role, "layer": self.layer, "shape": list(self.shape),
                          "fans": list(self.fans) if self.fans else None, "n": self.n, "mean": self.mean,
                          "variance": self.variance, "gain": self.gain, "matches": list(self.matches),
                          "closest": self.closest, "detectable_rel_error": self.detectable_rel_error})


@dataclass
class Skipped:
    """A parameter tensor no check analysed, with the reason (``n`` = its number of values)."""

    name: str
    n: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n": self.n, "reason": self.reason}


#: default share of parameter values that must be analysed for a verdict other than ``incomplete``
MIN_COVERAGE = 0.95


@dataclass
class Coverage:
    """What the check analysed and what it did not (a check never passes what it did not read).

    Attributes:
        tensors, total_tensors: parameter tensors analysed / in the model (tied tensors counted once).
        values, total_values: parameter values in the analysed tensors / in the model.
        not_analysed: every tensor not analysed, with the reason.
        signal: ``None`` when signal propagation was measured, else why not (``"not checked: ..."``), or why it
            was measured but not decided (``"not decided: ..."``: the probe batch too small for a BatchNorm, or
            the probe input too small for a GroupNorm/InstanceNorm, :mod:`invariants.modelcheck.batchstats`).
        min_share: the share of values below which the verdict is ``incomplete``.
        probe_requested: ``False`` when the user asked for no probe (``--no-probe``): an unmeasured signal
            is then stated but does not make the report incomplete.
        partial: analysed tensors some checks could not read, with what was left out (counted as analysed, but
            a random-valued bias whose spread no check judged adds its tensor, not its values:
            :data:`invariants.modelcheck.coverage.BIAS_NOT_JUDGED`).
        tied: tensors registered under several names: checked once under the key, the other names listed.
        signal_layers: ``(measured, total)`` layers with output units when the probe measured only some of
            them (``None``: all, or the signal not checked); ``unmeasured``: the names of the others.
        no_trend: ``(measured layers, why)`` when the probe measured the signal but no trend through depth
            (no sibling class of layers to compare, :func:`invariants.modelcheck.signal.signal`), so the verdict
            never says "checked" without on how many layers and what was left unmeasured; ``None`` otherwise.
        expected: tensors (and packed blocks) with an expectation (``check-model --expect``): ``{name:
            {"expect": "PATTERN=SPEC", "law": str, "met": bool, "fans": str|None, "n": int,
            "detectable_rel_error": float|None}}``; ``{}`` when none was given.
    """

    tensors: int
    total_tensors: int
    values: int
    total_values: int
    not_analysed: list[Skipped] = field(default_factory=list)
    signal: str | None = None
    min_share: float = MIN_COVERAGE
    probe_requested: bool = True
    partial: list[Skipped] = field(default_factory=list)
    tied: dict[str, list[str]] = field(default_factory=dict)
    expected: dict[str, dict[str, Any]] = field(default_factory=dict)
    signal_layers: tuple[int, int] | None = None
    unmeasured: list[str] = field(default_factory=list)
    no_trend: tuple[int, str] | None = None

    @property
    def share(self) -> float:
        """Analysed share of the parameter values (1.0 for a model without parameters)."""
        return self.values / self.total_values if self.total_values else 1.0

    @property
    def complete(self) -> bool:
        """Enough values analysed, and the signal measured (or not measured by request); never for a model without
        parameters (nothing was checked)."""
        return self.total_tensors > 0 and self.share >= self.min_share and (
            self.signal is None or not self.probe_requested)

    def why_incomplete(self) -> list[str]:
        """The reasons :attr:`complete` is false (``[]`` when complete)."""
        out = []
        if self.total_tensors == 0:
            out.append("the model has no parameters: nothing to check")
        if self.share < self.min_share:
            out.append(f"analysed {100 * self.share:.1f}% of the parameter values, below {100 * self.min_share:.0f}%")
        if self.signal is not None and self.probe_requested:
            out.append(f"signal propagation {self.signal}")
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {"tensors": self.tensors, "total_tensors": self.total_tensors, "values": self.values,
                "total_values": self.total_values, "share": self.share, "min_share": self.min_share,
                "signal": self.signal, "probe_requested": self.probe_requested, "complete": self.complete,
                "not_analysed": [s.to_dict() for s in self.not_analysed],
                "partial": [s.to_dict() for s in self.partial], "tied": {k: list(v) for k, v in self.tied.items()}}
        if self.signal_layers is not None:  # only when the probe missed layers: other reports keep their shape
            out["signal_layers"] = list(self.signal_layers)
            out["unmeasured"] = list(self.unmeasured)
        if self.no_trend is not None:  # only when no depth trend was measured: other reports keep their shape
            out["no_trend"] = {"layers": self.no_trend[0], "why": self.no_trend[1]}
        if self.expected:  # only with --expect: reports without expectations keep their shape
            out["expected"] = {k: dict(v) for k, v in self.expected.items()}
        return out


@dataclass
class ModelReport:
    """The result of :func:`invariants.modelcheck.check_model`.

    Attributes:
        model, framework, profile: what was checked, how.
        findings: errors first, then notes.
        tensors: the variance table.
        signal: per-layer forward/backward second moments on the probe (``None`` without a probe).
        probe: description of the probe batch, or why none ran.
        seconds: wall time.
        coverage: what was analysed (``None``: not measured, e.g. a report built by hand; the status then
            follows the errors alone).
        config: the run's settings (the profile's ``rel_error``, ``power``, ``total_alpha``, the per-check
            ``alpha``, ``seed``, ``min_coverage``, ``probe``, ``expect``), the JSON's ``config``.
        interrupted: the check was stopped (Ctrl-C) before it finished: nothing was concluded.
        dtypes: the dtypes the parameters were read in, ``{dtype name: tensors read in it}`` (``"bfloat16"``
            when a bfloat16 tensor is read as ``ml_dtypes.bfloat16``, ``"float32"`` when a reader widened it),
            by :func:`dtype_counts`; ``{}`` for a report built by hand.
    """

    model: str
    framework: str
    profile: str
    findings: list[Finding] = field(default_factory=list)
    tensors: list[TensorRow] = field(default_factory=list)
    signal: dict[str, Any] | None = None
    probe: str = ""
    n_params: int = 0
    n_values: int = 0
    seconds: float = 0.0
    coverage: Coverage | None = None
    config: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    dtypes: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == NOTE]

    @property
    def status(self) -> str:
        """``unhealthy`` (an error: errors win over coverage), ``incomplete`` (no error, but too little
        analysed or the probe did not run, :attr:`Coverage.complete`) or ``healthy``."""
        if self.errors:
            return UNHEALTHY
        if self.interrupted or (self.coverage is not None and not self.coverage.complete):
            return INCOMPLETE
        return HEALTHY

    @property
    def ok(self) -> bool:
        """Healthy: no errors (notes allowed), enough analysed and the signal measured (or skipped by request)."""
        return self.status == HEALTHY

    @property
    def exit_code(self) -> int:
        """The CLI exit code of :attr:`status`: 0 healthy, 1 unhealthy, 3 incomplete (:data:`EXIT_CODES`)."""
        return EXIT_CODES[self.status]

    def kinds(self, severity: str | None = None) -> set[str]:
        """The finding kinds present (of one severity, if given)."""
        return {f.kind for f in self.findings if severity is None or f.severity == severity}

    def find(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def summary(self) -> str:
        """``model NAME (framework): STATUS, e errors, n notes``."""
        return (f"model {self.model} ({self.framework}): {self.status.upper()}, {len(self.errors)} errors, "
                f"{len(self.notes)} notes" + (", interrupted" if self.interrupted else ""))

    def to_dict(self) -> dict[str, Any]:
        """JSON (schema ``invariants/schemas/check-model.json``): the common keys
        (:func:`~invariants.core.results.common_fields`: ``ok``, ``summary``, ``findings``, ``versions``,
        ``config``), then ``model``, ``framework``, ``profile``, ``status``, ``exit_code``, ``healthy``, ``counts``,
        ``tensors``, ``signal``, ``probe``, ``seconds``, ``dtypes``, ``interrupted``, ``coverage``."""
        frameworks = (self.framework,) if self.framework else ()
        return {**common_fields(self.ok, self.summary, self.findings, _jsonable(self.config), frameworks),
                "model": self.model, "framework": self.framework, "profile": self.profile, "status": self.status,
                "exit_code": self.exit_code, "healthy": self.ok,
                "counts": {ERROR: len(self.errors), NOTE: len(self.notes)},
                "tensors": [t.to_dict() for t in self.tensors], "interrupted": self.interrupted,
                "signal": _jsonable(self.signal), "probe": self.probe, "seconds": round(self.seconds, 3),
                "dtypes": dict(self.dtypes),
                "coverage": None if self.coverage is None else _jsonable(self.coverage.to_dict())}

    def __str__(self) -> str:
        """A summary line and one line per finding (the full table: :func:`invariants.render.render_model`)."""
        return describe(self.summary, self.findings)


def dtype_counts(names: Any) -> dict[str, int]:
    """``{dtype name: count}`` of ``names`` (one dtype name per parameter array as the reader handed it to the
    checks, e.g. ``"bfloat16"``), most frequent first, ties by name: the dtypes a report says it read
    (:attr:`ModelReport.dtypes`)."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _jsonable(x: Any) -> Any:
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    try:
        import numpy as np

        if isinstance(x, np.generic):
            x = x.item()
        elif isinstance(x, np.ndarray):
            return [_jsonable(v) for v in x.tolist()]
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    return str(x)


__all__ = ["ERROR", "EXIT_CODES", "HEALTHY", "INCOMPLETE", "KINDS", "MIN_COVERAGE", "NOTE", "UNHEALTHY", "Coverage",
           "Finding", "ModelReport", "Skipped", "TensorRow", "dtype_counts"]
