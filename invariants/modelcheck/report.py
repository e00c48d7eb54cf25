"""Results of a model check: findings (errors and notes), the per-tensor table, the signal profile.

JSON contract (:meth:`ModelReport.to_dict`)::

    {"model": str, "framework": str, "profile": str, "healthy": bool,
     "counts": {"error": int, "note": int},
     "findings": [{"severity": "error"|"note", "kind": str, "params": [str], "message": str,
                   "figures": {...}}],
     "tensors": [{"name", "role", "layer", "shape", "fans", "n", "mean", "variance", "gain",
                  "matches": [str], "closest": str|null, "detectable_rel_error": float|null}],
     "signal": {"layers": [str], "forward": [float], "backward": [float|null], ...} | null,
     "probe": str, "seconds": float}
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
NOTE = "note"
SEVERITIES = (ERROR, NOTE)

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
    "variance",               # note: a tensor matches no named scheme
    "inconsistent-scale",     # error: no fan rule explains the unmatched layers together
    "packed-orthogonal",      # note: orthogonal over a packed gate matrix, no block orthogonal
    "signal-forward",         # error / note by the ratio thresholds
    "signal-backward",        # error / note by the ratio thresholds
    "probe",                  # note: the probe pass could not run
)


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
        return {"severity": self.severity, "kind": self.kind, "params": list(self.params), "message": self.message,
                "figures": _jsonable(self.figures)}

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
class ModelReport:
    """The result of :func:`invariants.modelcheck.check_model`.

    Attributes:
        model, framework, profile: what was checked, how.
        findings: errors first, then notes.
        tensors: the variance table.
        signal: per-layer forward/backward second moments on the probe (``None`` without a probe).
        probe: description of the probe batch, or why none ran.
        seconds: wall time.
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

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == NOTE]

    @property
    def healthy(self) -> bool:
        """No errors (notes allowed)."""
        return not self.errors

    ok = healthy

    def kinds(self, severity: str | None = None) -> set[str]:
        """The finding kinds present (of one severity, if given)."""
        return {f.kind for f in self.findings if severity is None or f.severity == severity}

    def find(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "framework": self.framework, "profile": self.profile, "healthy": self.healthy,
                "counts": {ERROR: len(self.errors), NOTE: len(self.notes)},
                "findings": [f.to_dict() for f in self.findings], "tensors": [t.to_dict() for t in self.tensors],
                "signal": _jsonable(self.signal), "probe": self.probe, "seconds": round(self.seconds, 3)}

    def render(self, width: int = 110, table: bool = True) -> str:
        """Plain text: header, errors, notes, the tensor table, the signal profile, the verdict."""
        out = [f"model {self.model} ({self.framework}): {self.n_params} parameter tensors, {self.n_values:,} values; "
               f"profile {self.profile}", f"probe: {self.probe}"]
        for sev, title in ((ERROR, "ERRORS (break training, or wiring faults no scheme makes on purpose)"),
                           (NOTE, "NOTES (unusual but harmless, or known good practice)")):
            group = [f for f in self.findings if f.severity == sev]
            if not group:
                continue
            out.append("")
            out.append(f"{title}: {len(group)}")
            for f in group:
                out.append(textwrap.fill(str(f), width, initial_indent="  - ", subsequent_indent="    "))
        if table and self.tensors:
            out.append("")
            out.append(render_tensors(self.tensors))
        if self.signal:
            out.append("")
            out.append(render_signal(self.signal))
        out.append("")
        verdict = "HEALTHY" if self.healthy else "UNHEALTHY"
        out.append(f"{verdict}: {len(self.errors)} errors, {len(self.notes)} notes in {self.seconds:.1f}s")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


def _g(x: float | None, fmt: str = ".3g") -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def render_tensors(rows: list[TensorRow]) -> str:
    from invariants.report.table import render_table

    body = []
    for r in rows:
        det = "-" if r.detectable_rel_error is None else f"{100 * r.detectable_rel_error:.2g}%"
        match = ("constant" if r.constant else ", ".join(r.matches) if r.matches
                 else f"none (closest {r.closest})" if r.closest else "none")
        body.append([r.name, r.layer or r.role, "x".join(map(str, r.shape)),
                     f"({r.fans[0]}, {r.fans[1]})" if r.fans else "-", str(r.n), _g(r.variance), _g(r.gain), det,
                     match])
    table = render_table(["tensor", "layer", "shape", "fans", "n", "variance", "Var*fan_in", "detects", "matches"],
                         body, "llllrrrrl")
    return table + ("\n'detects': smallest relative variance error this tensor's n values detect with power 0.99 "
                    "(one draw: no pooling over seeds); 'matches': named schemes on the layer's textbook fans "
                    "that pass every check")


def render_signal(sig: dict[str, Any]) -> str:
    layers = sig.get("layers", [])
    fwd = sig.get("forward", [])
    bwd = sig.get("backward") or [None] * len(layers)
    lines = [f"signal at init on the probe ({sig.get('batch', '?')} inputs): E[z^2] forward, E[delta^2] backward "
             f"per layer, in execution order"]
    for name, f, b in zip(layers, fwd, bwd):
        lines.append(f"  {name:<40} {_g(f, '.4g'):>12} {_g(b, '.4g'):>12}")
    for key in ("forward_summary", "backward_summary", "mean_field"):
        if sig.get(key):
            lines.append(f"  {sig[key]}")
    return "\n".join(lines)


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


__all__ = ["ERROR", "KINDS", "NOTE", "Finding", "ModelReport", "TensorRow", "render_signal", "render_tensors"]
