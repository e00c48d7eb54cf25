"""Signal propagation at init: forward and backward second moments per layer on the probe batch.

Measured per node, in execution order: ``E[z²]`` of its output (the mean-field ``q_l``) and ``E[δ²]``
of ``δ = ∂L/∂z`` for the probe loss ``L = Σ y·r``, ``r ~ N(0, 1)`` (the mean-field backward setting,
:mod:`invariants.propagation`).

**The hidden stack** is what "through depth" refers to: every node except embeddings (input tables,
whose scale a following norm usually resets), the output layer (a small or zero head is deliberate
and is judged by the constant-tensor check) and nodes whose output is constant on the probe (dead or
zero layers, reported by the structural checks).

**Threshold.**  Let ``T = log(m_last / m_first)`` over the stack (forward; backward the same on
``E[δ²]``, first relative to last, so a negative value is a gradient vanishing towards the input).
An exponential trend with per-layer factor ``ρ`` gives ``|T| = (k−1)|log ρ|`` over ``k`` layers.  A
finite network fluctuates around its mean-field curve: to first order ``log`` of a layer's second
moment performs a random walk with per-layer variance ``r² <= 5/N_l`` (``N_l`` units; 5 for ReLU, the
largest among the common activations — identity 2, tanh less; :mod:`invariants.propagation`), plus
``2/(M·N)`` for measuring a moment from ``M`` probe rows.  The band ``β = 4·sqrt(Σ 5/N_l + 2/(M_1 N_1) +
2/(M_k N_k))`` bounds that noise (4 standard deviations).  A change is reported when ``|T| - β`` exceeds
``log(note_ratio)`` (default 10x: a note) or ``log(error_ratio)`` (default 100x, two orders of
magnitude across the hidden stack: an error).  These ratios are conventions, not theorems: at 100x a
layer at one end learns 100x faster or slower than one at the other under SGD, and activations leave
the range the nonlinearities were designed for; an adaptive optimizer rescales gradients per tensor
but not the forward signal.

A model whose output is the same for every probe input has its signal cut (an error unless a zero
output layer explains it).  For the reference network the report adds the mean-field prediction for
the measured per-layer gains (:func:`invariants.propagation.variance_curve`, ``χ``).
"""
from __future__ import annotations

import math
from typing import Any


from invariants.layers import Embedding
from invariants.frameworks.model import ModelView, varies
from invariants.modelcheck.report import ERROR, NOTE, Finding

#: noise band multiplier (standard deviations of the first-order log-moment random walk)
BAND_K = 4.0
#: per-layer variance of log E[z²] for ReLU, the largest among the common activations (times 1/N)
WALK_R2 = 5.0


def _trend(names: list[str], moments: list[float], widths: list[int], rows: list[int], note_ratio: float,
           error_ratio: float, direction: str) -> tuple[str | None, str, dict[str, Any]]:
    k = len(moments)
    t = math.log(moments[-1] / moments[0])
    if direction == "backward":
        t = -t  # δ at the bottom relative to the top
    s2 = sum(WALK_R2 / n for n in widths[1:]) + 2.0 / (rows[0] * widths[0]) + 2.0 / (rows[-1] * widths[-1])
    band = BAND_K * math.sqrt(s2)
    ratio = math.exp(abs(t))
    per_layer = math.exp(t / (k - 1))
    change = "growth" if t > 0 else "decay"
    if direction == "forward":
        text = (f"forward E[z^2]: {moments[0]:.4g} at {names[0]} -> {moments[-1]:.4g} at {names[-1]} ({ratio:.3g}x "
                f"{change} over {k} layers, {per_layer:.3g}x per layer)")
    else:
        text = (f"backward E[delta^2]: {moments[-1]:.4g} at {names[-1]} -> {moments[0]:.4g} at {names[0]} going down "
                f"({ratio:.3g}x {change} towards the input over {k} layers, {per_layer:.3g}x per layer)")
    fig = {"ratio": ratio, "per_layer": per_layer, "band_log": band, "layers": k, "log_change": t}
    excess = abs(t) - band
    if excess > math.log(error_ratio):
        return ERROR, text, fig
    if excess > math.log(note_ratio):
        return NOTE, text, fig
    return None, text, fig


def signal(view: ModelView, note_ratio: float = 10.0, error_ratio: float = 100.0) -> tuple[list[Finding], dict | None]:
    """Findings and the per-layer profile (``None`` without a probe)."""
    probe = view.probe
    if probe is None or not probe.signals:
        return [], None
    nodes = {n.name: n for n in view.nodes}
    sigs = [s for s in probe.signals if s.name in nodes]
    summary: dict[str, Any] = {"batch": probe.batch, "layers": [s.name for s in sigs],
                               "forward": [s.forward_moment for s in sigs],
                               "backward": [s.backward_moment for s in sigs]}
    out: list[Finding] = []
    out_node = view.output_node()
    if not probe.output_varies and probe.input_varies:
        zero_head = out_node is not None and out_node.weight.is_constant()
        cut = next((s.name for s in sigs if not varies(s.z)), None)
        if not zero_head:
            out.append(Finding(
                ERROR, "signal-forward", tuple(s.name for s in sigs[-1:]),
                f"the model output is the same for all {probe.batch} probe inputs: the signal is cut at init"
                + (f" (from {cut} on, layer outputs no longer depend on the input)" if cut else "") + ".",
                {"cut_at": cut}))
    stack = [s for s in sigs if s.name != (out_node.name if out_node else None)
             and not isinstance(nodes[s.name].layer, Embedding) and s.forward_moment > 0 and varies(s.z)]
    summary["stack"] = [s.name for s in stack]
    if len(stack) < 2:
        summary["forward_summary"] = f"hidden stack of {len(stack)} layer(s): no trend to measure"
        return out, summary
    names = [s.name for s in stack]
    widths = [s.z.shape[1] for s in stack]
    rows = [s.z.shape[0] for s in stack]
    sev, text, fig = _trend(names, [s.forward_moment for s in stack], widths, rows, note_ratio, error_ratio, "forward")
    summary["forward_summary"] = text + f" (noise band {math.exp(fig['band_log']):.3g}x)"
    mf = _mean_field(view, names)
    if mf:
        summary["mean_field"] = mf
    if sev:
        out.append(Finding(sev, "signal-forward", tuple(names),
                           f"{text}, beyond the sampling band ({math.exp(fig['band_log']):.3g}x) by more than "
                           f"{error_ratio if sev == ERROR else note_ratio:g}x: exponential "
                           f"{'growth' if fig['log_change'] > 0 else 'decay'} through depth at init."
                           + (f" {mf}." if mf else ""), fig))
    back = [s.backward_moment for s in stack]
    if all(b is not None and b > 0 for b in back):
        sev_b, text_b, fig_b = _trend(names, back, widths, rows, note_ratio, error_ratio, "backward")  # type: ignore[arg-type]
        summary["backward_summary"] = text_b + f" (noise band {math.exp(fig_b['band_log']):.3g}x)"
        if sev_b:
            out.append(Finding(sev_b, "signal-backward", tuple(names),
                               f"{text_b}, beyond the sampling band ({math.exp(fig_b['band_log']):.3g}x) by more than "
                               f"{error_ratio if sev_b == ERROR else note_ratio:g}x: gradients "
                               f"{'explode' if fig_b['log_change'] > 0 else 'vanish'} through depth at init.", fig_b))
    elif any(b == 0 for b in back if b is not None):
        summary["backward_summary"] = "backward signal is zero in part of the stack at init (see the findings above)"
    return out, summary


def _mean_field(view: ModelView, names: list[str]) -> str:
    if view.mean_field is None:
        return ""
    try:
        mf = view.mean_field()
    except (ValueError, OverflowError):
        return ""
    idx = [int(n.replace("layer", "")) - 1 for n in names]
    q = [mf["q"][i] for i in idx]
    chis = mf["chi"]
    if not q or q[0] <= 0:
        return ""
    chi_txt = ", ".join(f"{c:.3g}" for c in chis[:6]) + (", ..." if len(chis) > 6 else "")
    return (f"mean field for the measured gains sigma_w^2 = Var(W)*fan_in "
            f"({', '.join(f'{v:.3g}' for v in mf['sigma_w2'][:6])}) predicts E[z^2] {q[0]:.4g} -> {q[-1]:.4g} "
            f"({q[-1] / q[0]:.3g}x) and gradient factors chi = {chi_txt} per layer")


__all__ = ["BAND_K", "WALK_R2", "signal"]
