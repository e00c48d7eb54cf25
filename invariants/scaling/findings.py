"""Findings from the fitted rows: a decided verdict against its expectation, with the cause where one is known.

- ``scaling`` (error): a checked row whose decided verdict contradicts the expectation.  A layer's ``gain``
  row names the cause: ``Var(W)·fan_in`` has slope ``g``, so ``Var(W)`` scales like ``width^(g − e)`` for a
  fan-in growing like ``width^e`` instead of ``1/fan_in``; ``g = +1`` on a hidden layer is a width-independent
  std such as ``normal(std=0.02)`` (pre-activations grow like ``√width`` in RMS per such layer).  A row after a
  mismatched gain says it inherits it.
- ``finite-width`` (note): an unchecked row (a large-width limit: :mod:`invariants.scaling.theory`) that differs.
- ``undecided`` (note): a checked row whose interval is too wide, with the seeds that would decide.
- ``as-theory`` (note): rows that grow or vanish as the claimed parametrization predicts (SP's growing updates).
"""
from __future__ import annotations

from typing import Sequence

from invariants.core.results import ERROR, NOTE
from invariants.scaling.fit import S_MIN, UNDECIDED, THETA1
from invariants.scaling.report import Row, ScaleFinding
from invariants.scaling.theory import MUP

GAIN = "gain"


def gain_cause(row: Row, fan_in_exponent: float) -> str:
    """The cause sentence of a mismatched gain row."""
    g = row.fit.slope
    var_exp = round(g - fan_in_exponent, 1) + 0.0  # no '-0.0'
    text = (f"its own gain Var(W)·fan_in has second-moment slope {row.fit.interval_text()} (RMS {g / 2:+.2f}) "
            f"against width, so Var(W) scales like width^{var_exp:+.1f} for a fan-in growing like "
            f"width^{fan_in_exponent:.1f}, instead of 1/fan_in")
    if fan_in_exponent > 0.5 and abs(g - 1) < 0.35:
        text += ("; this is a width-independent std such as normal(std=0.02): pre-activations grow like √width "
                 "in RMS (second moment like width) per such layer, relative to 1/fan_in scaling")
    elif g >= 2.5:
        text += f"; the weights are scaled by about width^{(var_exp + 1) / 2:+.1f} instead of width^-0.5"
    return text


def findings(rows: Sequence[Row], fan_in_exponents: dict[str, float], expect: str,
             s_min: float = S_MIN, against: str = "size") -> list[ScaleFinding]:
    """The findings of the fitted rows (module docstring); ``against``: what the slopes are fitted against,
    in the findings' words (``"size"``: log2 per log2 width; ``"depth"``: log2 per layer)."""
    out: list[ScaleFinding] = []
    as_theory: list[Row] = []
    for r in rows:
        f, e = r.fit, r.expectation
        figures = {"slope": f.slope, "rms_slope": f.rms_slope, "lo": f.lo, "hi": f.hi, "alpha": f.alpha,
                   "seeds": f.seeds, "expected": e.verdict, "expected_slope": e.slope}
        said = (f"second-moment slope {f.interval_text()} against {against} ({1 - f.alpha:.7g} t-interval over "
                f"{f.seeds} seeds; RMS slope {f.rms_slope:+.2f}): {f.verdict}")
        if f.verdict == UNDECIDED:
            if e.checked:
                need = (f"about {f.seeds_needed} seeds at these sizes would decide it" if f.seeds_needed
                        else f"the slope sits at ±{s_min}: no number of seeds decides it")
                out.append(ScaleFinding(NOTE, "undecided", r.label, f"{said}; expected {e.verdict}; {need}",
                                        (r.name,), figures))
            continue
        if r.matches:
            if f.verdict != THETA1:
                as_theory.append(r)
            continue
        message = f"{said}; expected {e.verdict}" + (f" (slope {e.slope:+g})" if e.slope is not None else "") + \
            f" under {e.source}"
        if r.kind == GAIN:
            message += "; " + gain_cause(r, fan_in_exponents.get(r.name, 0.0))
        elif r.cause:
            message += f"; inherited from layer {r.cause}, whose own gain does not scale as expected"
        elif expect == THETA1 and r.step > 0:
            message += ("; a width-independent learning rate under the standard parametrization grows here by design "
                        "(--expect sp checks SP's predicted slopes, --expect mup μP's)")
        if e.checked:
            out.append(ScaleFinding(ERROR, "scaling", r.label, message, (r.name,), figures))
        else:
            if r.kind == "output-change" and expect == MUP:
                message += ("; under μP the output change is Θ(1) only once the width dwarfs the number of output "
                            "coordinates d_out: each output also picks up the hidden updates driven by the other "
                            "d_out − 1 outputs' loss directions through the 1/√width overlap of the output weights' "
                            "rows, so E Δf² ≈ A·(1 + κ·d_out/width) and the slope is about −1/(1 + width/(κ·d_out)) "
                            "(κ ≈ 2 for Adam and 5 for SGD measured at step 1; Θ(1) needs widths near 8·κ·d_out; "
                            "invariants.scaling.theory)")
            out.append(ScaleFinding(NOTE, "finite-width", r.label, message + "; this is the large-width limit, "
                                    "which finite widths approach slowly: not an error", (r.name,), figures))
    if as_theory and expect != THETA1:
        listed = "; ".join(f"{r.label} {r.fit.verdict} {r.fit.interval_text()}" for r in as_theory)
        out.append(ScaleFinding(NOTE, "as-theory", expect, f"{len(as_theory)} quantities grow or vanish with width "
                                f"as {expect} predicts: {listed}", tuple(r.name for r in as_theory)))
    return out


def inherited_causes(rows: Sequence[Row], order: Sequence[str]) -> dict[tuple[str, str, int], str]:
    """``{(name, kind, step): layer}``: for each mismatched row, the earliest layer before it (in module order)
    whose ``gain`` row mismatched."""
    bad_gain = [r.name for r in rows if r.kind == GAIN and not r.matches and r.fit.verdict != UNDECIDED]
    index = {n: i for i, n in enumerate(order)}
    out: dict[tuple[str, str, int], str] = {}
    for r in rows:
        if r.kind == GAIN or r.matches or r.fit.verdict == UNDECIDED:
            continue
        pos = index.get(r.name, len(order))
        before = [g for g in bad_gain if index.get(g, len(order)) <= pos]
        if before:
            out[(r.name, r.kind, r.step)] = before[0]
    return out


__all__ = ["GAIN", "findings", "gain_cause", "inherited_causes"]
