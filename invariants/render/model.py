"""Terminal output of a model check (:class:`invariants.modelcheck.report.ModelReport`): the header,
errors and notes, the per-tensor variance table, the signal profile and the verdict line.

Reads the report's attributes only; imports no engine.
"""
from __future__ import annotations

import math
import textwrap
from typing import Any

from invariants.core.results import ERROR, NOTE
from invariants.core.text import render_table


def render_model(report: Any, width: int = 110, table: bool = True) -> str:
    """Plain text: header, errors, notes, the tensor table (``table``), the signal profile, the verdict."""
    out = [f"model {report.model} ({report.framework}): {report.n_params} parameter tensors, {report.n_values:,} "
           f"values; profile {report.profile}", f"probe: {report.probe}"]
    for sev, title in ((ERROR, "ERRORS (break training, or wiring faults no scheme makes on purpose)"),
                       (NOTE, "NOTES (unusual but harmless, or known good practice)")):
        group = [f for f in report.findings if f.severity == sev]
        if not group:
            continue
        out.append("")
        out.append(f"{title}: {len(group)}")
        for f in group:
            out.append(textwrap.fill(str(f), width, initial_indent="  - ", subsequent_indent="    "))
    if table and report.tensors:
        out.append("")
        out.append(render_tensors(report.tensors))
    if report.signal:
        out.append("")
        out.append(render_signal(report.signal))
    out.append("")
    out.append(f"{_verdict(report)} in {report.seconds:.1f}s")
    return "\n".join(out)


def render_model_findings(report: Any) -> str:
    """``invariants check-model --quiet``: one line per finding, then the verdict line."""
    return "\n".join([str(f) for f in report.findings] + [_verdict(report)])


def _verdict(report: Any) -> str:
    return f"{'HEALTHY' if report.ok else 'UNHEALTHY'}: {len(report.errors)} errors, {len(report.notes)} notes"


def _g(x: float | None, fmt: str = ".3g") -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


def render_tensors(rows: list[Any]) -> str:
    """The variance table: one row per :class:`~invariants.modelcheck.report.TensorRow`, and its legend."""
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
    """The per-layer moments on the probe, in execution order: at the input (``E[x^2]``, ``E[g^2]``, when the
    probe measured them) and the output (``E[z^2]``, ``E[delta^2]``) of each node, and the trend lines
    (:mod:`invariants.modelcheck.signal`)."""
    layers = sig.get("layers", [])
    fwd = sig.get("forward", [])
    bwd = sig.get("backward") or [None] * len(layers)
    xin = sig.get("input_forward")
    if xin:  # the probe measured node inputs too: those are what the trends compare
        gin = sig.get("input_backward") or [None] * len(layers)
        lines = [f"signal at init on the probe ({sig.get('batch', '?')} inputs), per layer in execution order: "
                 f"E[x^2] and E[g^2] at its input (compared through depth), E[z^2] and E[delta^2] at its output"]
        for name, xi, gi, f, b in zip(layers, xin, gin, fwd, bwd):
            lines.append(f"  {name:<40} {_g(xi, '.4g'):>12} {_g(gi, '.4g'):>12} {_g(f, '.4g'):>12} {_g(b, '.4g'):>12}")
    else:
        lines = [f"signal at init on the probe ({sig.get('batch', '?')} inputs): E[z^2] forward, E[delta^2] backward "
                 f"per layer, in execution order"]
        for name, f, b in zip(layers, fwd, bwd):
            lines.append(f"  {name:<40} {_g(f, '.4g'):>12} {_g(b, '.4g'):>12}")
    for key in ("forward_summary", "backward_summary", "backward_zero", "mean_field"):
        if sig.get(key):
            lines.append(f"  {sig[key]}")
    return "\n".join(lines)


__all__ = ["render_model", "render_model_findings", "render_signal", "render_tensors"]
