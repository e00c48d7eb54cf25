"""Depth mode: the mean-field prediction of how the output's second moment changes with depth, compared with
the measured change.

At a fixed width the factory is called as ``factory(width=W, depth=L)``; every quantity's second moment is fitted
against ``L`` itself (not ``log L``): signals in deep random networks change geometrically with depth, so the
slope is ``d log2 m / dL``, in log2 per layer (equal weights: the per-seed noise grows only slowly with depth).
Θ(1) is a per-layer slope inside ``±S_MIN_DEPTH`` = 0.05 (a factor 2 over 20 layers).

Prediction (Poole et al. 2016, eq. 3; Schoenholz et al. 2017, "Deep Information Propagation", ICLR, Sec. 3:
signals change like ``exp(−L/ξ)`` with a depth scale ``ξ``): for the model at each depth, the activation (one
known activation module type), the per-layer gain factors ``σ_w,l² = Var(W_l)·fan_in_l`` read from the sampled
weights, and the bias variance ``σ_b²`` give the mean-field pre-activation second moment of the last weight
layer, ``q_L`` (:func:`invariants.propagation.variance_curve`, from the input's second moment ``q_0``); its
least-squares slope ``d log2 q_L / dL`` over the same depths is the predicted slope, and ``ξ = 1/(|slope|·ln 2)``
layers the predicted depth scale (the depth over which the second moment changes by a factor ``e``).  The
measured slope agrees when the prediction lies in its t-interval widened by ``S_MIN_DEPTH`` (finite-width
corrections are ``O(depth/width)``, :mod:`invariants.propagation`).

Backward (Schoenholz et al. 2017, Sec. 3–4: gradients change like ``χ_1^L`` with ``χ_1 = σ_w² E[φ'(z)²]``, depth
scale ``ξ_∇ = −1/ln χ_1``): the gradient of the run's linear loss w.r.t. the first weight layer's pre-activation
(the runner's :meth:`~invariants.frameworks.runner.ScalingRunner.gradient_moments`, kind ``grad``) has passed back through every later layer; its second
moment ``p_1`` is fitted against ``L`` like the output's, and the mean field predicts ``p_1/p_L = Π χ_l``
(:func:`invariants.propagation.gradient_curve`, from the same per-layer ``σ_w,l²``, fans, ``σ_b²``, activation
and ``q_0``; ``p_L = E r²/B²`` is the same at every depth).  Its least-squares slope over the depths is the
predicted gradient slope, ``ξ_∇ = 1/(|slope|·ln 2)`` layers, and agreement is judged as for the forward slope.
A disagreement means the backward pass does not do what the forward weights and activation imply (a rescaled
or partly detached gradient, a custom autograd function): an error finding of its own.  Both rows are fitted
rows of the run, so they enter its Bonferroni count (:mod:`invariants.scaling.engine`).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from invariants.frameworks.runner import ACTIVATION_NAMES, GRAD

#: what the ``grad`` row measures (its layer column and JSON ``quantity``): the second moment of the loss's gradient
#: at the first weight layer's output (:func:`invariants.frameworks.torch.gradients.gradient_moments`)
GRAD_QUANTITY = "first layer's pre-activation gradient"

S_MIN_DEPTH = 0.05

def line_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``y`` on ``x`` (equal weights)."""
    xa = np.asarray(x, float)
    xc = xa - xa.mean()
    ya = np.asarray(y, float)
    return float((ya - ya.mean()) @ xc / (xc @ xc))


def forward_log2(v: dict[str, Any], q0: float) -> float:
    """``log2 q_L``: the mean-field second moment of the last weight layer's pre-activation (the output)."""
    from invariants.propagation import variance_curve

    return math.log2(float(variance_curve(v["activation"], v["sigma_w2"], len(v["sigma_w2"]), v["sigma_b2"], q0)[-1]))


def backward_log2(v: dict[str, Any], q0: float) -> float:
    """``log2 (p_1/p_L)``: the mean-field gradient second moment at the first weight layer's pre-activation
    relative to the output's (:func:`invariants.propagation.gradient_curve`; fan ratios from ``v["fans"]``)."""
    from invariants.propagation import gradient_curve

    ratio = [fo / fi for fi, fo in v.get("fans") or [[1, 1]] * len(v["sigma_w2"])]
    return math.log2(float(gradient_curve(v["activation"], v["sigma_w2"], len(v["sigma_w2"]), v["sigma_b2"], q0,
                                          ratio)[0]))


def predicted_curve(inputs: dict[int, dict[str, Any] | None], q0: float,
                    backward: bool = False) -> tuple[list[int], list[float]] | None:
    """The depths and the mean-field ``log2`` second moments at each (:func:`forward_log2`, or
    :func:`backward_log2` with ``backward``); ``None`` with fewer than 2 depths or a value that is not finite."""
    depths = sorted(d for d, v in inputs.items() if v is not None)
    if len(depths) < 2:
        return None
    logs = []
    for d in depths:
        try:
            y = (backward_log2 if backward else forward_log2)(inputs[d], q0)
        except (ValueError, OverflowError):  # a zero or infinite mean-field value: no prediction
            return None
        if not math.isfinite(y):
            return None
        logs.append(y)
    return depths, logs


def predicted_slope(inputs: dict[int, dict[str, Any] | None], q0: float, backward: bool = False) -> float | None:
    """The mean-field slope ``d log2 q_L / dL`` over the depths of ``inputs`` (``{depth: mean_field_inputs}``);
    with ``backward``, the gradient's ``d log2 p_1 / dL`` (module docstring)."""
    curve = predicted_curve(inputs, q0, backward)
    return None if curve is None else line_slope(*curve)


def depth_scale(slope: float) -> float:
    """``ξ = 1/(|slope|·ln 2)`` layers (``inf`` for a flat signal)."""
    return math.inf if slope == 0 else 1.0 / (abs(slope) * math.log(2))


def measured_scale(fit: Any, symbol: str = "depth scale", equals: str = "") -> str:
    """The measured depth scale in words: ``depth scale 12 layers`` (``ξ_∇ = 12 layers`` with ``equals="
    ="``) from the slope, or, when the slope's interval contains 0 (flat not excluded), ``depth scale ≥ N
    layers``, N from the interval's larger end: the point slope near 0 would give an arbitrary large number."""
    if fit.lo <= 0 <= fit.hi:
        return f"{symbol} ≥ {depth_scale(max(abs(fit.lo), abs(fit.hi))):.3g} layers"
    return f"{symbol}{equals} {depth_scale(fit.slope):.3g} layers"


def agrees(measured: Any, predicted: float) -> bool:
    """The prediction lies in the measured row's interval widened by :data:`S_MIN_DEPTH`."""
    return measured is not None and measured.fit.lo - S_MIN_DEPTH <= predicted <= measured.fit.hi + S_MIN_DEPTH


def no_prediction() -> dict[str, Any]:
    return {"predicted_slope": None, "agrees": None,
            "text": "no mean-field prediction: the model is not an MLP with one known activation type "
                    f"({', '.join(ACTIVATION_NAMES)})"}


def measured_fields(measured: Any) -> dict[str, Any]:
    """The measured side of a comparison (``None`` values when the row was not fitted)."""
    return {"measured_slope": None if measured is None else measured.fit.slope,
            "measured_interval": None if measured is None else [measured.fit.lo, measured.fit.hi],
            "measured_depth_scale": None if measured is None else depth_scale(measured.fit.slope)}


def setting(inputs: dict[int, Any]) -> tuple[dict[str, Any], str]:
    """The deepest model's mean-field inputs and their words: ``relu, σ_w² ≈ 2 (hidden layers), σ_b² = 0``.

    σ_w² is the median over the hidden layers (every weight layer but the first and the last, the ones depth
    adds and the per-layer factor χ comes from), so it matches the χ1 printed beside it when the input or
    output layer is drawn at another scale; over every layer when there are fewer than 3."""
    depth = max(d for d, v in inputs.items() if v is not None)
    some = inputs[depth]
    s_w2 = some["sigma_w2"]
    hidden = s_w2[1:-1] if len(s_w2) >= 3 else s_w2
    which = " (hidden layers)" if len(s_w2) >= 3 else ""
    return some, (f"{some['activation']}, σ_w² ≈ {np.median(hidden):.3g}{which}, "
                  f"σ_b² = {some['sigma_b2']:.3g}")


def compare(measured: Any, predicted: float | None, inputs: dict[int, Any], q0: float) -> dict[str, Any]:
    """The ``depth_scale`` entry of the report: prediction, measurement (a fitted row), and whether they agree."""
    if predicted is None:
        return no_prediction()
    some, words = setting(inputs)
    ok = agrees(measured, predicted)
    text = (f"mean field ({words}, q0 = {q0:.3g}) predicts a slope of {predicted:+.3f} log2 per layer (depth scale "
            f"{depth_scale(predicted):.3g} layers)")
    if measured is not None:
        text += (f"; measured on the output {measured.fit.interval_text()} ({measured_scale(measured.fit)}): "
                 f"{'agrees' if ok else 'DISAGREES'}")
    return {"predicted_slope": predicted, "predicted_depth_scale": depth_scale(predicted), **measured_fields(measured),
            "activation": some["activation"], "sigma_b2": some["sigma_b2"], "q0": q0,
            "agrees": ok, "text": text}


def direction(slope: float) -> str:
    """``vanish`` / ``explode`` / ``stay flat`` (within :data:`S_MIN_DEPTH`) for a gradient slope along depth."""
    return "stay flat" if abs(slope) < S_MIN_DEPTH else "vanish" if slope < 0 else "explode"


def compare_gradient(measured: Any, predicted: float | None, inputs: dict[int, Any], q0: float) -> dict[str, Any]:
    """The ``depth_scale["gradient"]`` entry: the gradient's predicted slope along depth (``χ_1 = 2^slope`` per
    layer, ``ξ_∇``), the measured row's, whether they agree, and the sentence saying so (vanishing or exploding
    gradients, and against the prediction: faster, slower, as predicted)."""
    if predicted is None:
        return no_prediction()
    ok = agrees(measured, predicted)
    text = (f"mean field ({setting(inputs)[1]}) predicts gradients that {direction(predicted)}: χ1 ≈ {2 ** predicted:.3g} per "
            f"layer, slope {predicted:+.3f} log2 per layer (ξ_∇ = {depth_scale(predicted):.3g} layers)")
    if measured is None:
        text += "; the gradient at the first layer was not measured at every depth"
    else:
        f = measured.fit
        text += (f"; measured at the first weight layer's pre-activation ({measured.name}) {f.interval_text()} (gradients "
                 f"{direction(f.slope)}, {measured_scale(f, 'ξ_∇', ' =')}): ")
        if ok:
            text += "agrees"
        else:
            faster = f.hi + S_MIN_DEPTH < predicted
            text += ("DISAGREES: the gradient " + ("shrinks faster (or grows slower)" if faster else
                                                  "grows faster (or shrinks slower)")
                     + " along depth than the weights' σ_w² and the activation imply, so the backward pass does not "
                       "do what the forward one predicts (a rescaled or partly detached gradient, a custom autograd "
                       "function, a module the mean field does not model)")
    return {"predicted_slope": predicted, "predicted_depth_scale": depth_scale(predicted),
            "predicted_chi": 2 ** predicted, **measured_fields(measured),
            "name": None if measured is None else measured.name, "agrees": ok, "text": text}


def depth_report(rows: Sequence[Any], data: dict, mean_field: dict[int, Any], order: Sequence[str],
                 layer_input: str) -> tuple[dict[str, Any], list[Any]]:
    """Depth mode's comparison with the mean field: the report's ``depth_scale`` entry (the forward fields, and
    ``"gradient"``: :func:`compare_gradient`; each with ``"depths"`` and ``"predicted_log2"``, the mean-field
    curve: forward absolute, backward relative to the output's gradient) and the findings
    (:class:`~invariants.scaling.report.ScaleFinding`): ``depth-scale`` (output) and ``gradient-depth-scale``
    (the first layer's gradient), an error when the measurement disagrees, a note when it agrees.

    Args:
        rows: the fitted rows (``kind`` ``output`` and ``grad`` at step 0 are used).
        data: ``{(name, kind, step): {size: {seed: moment}}}``; ``q_0`` is the mean of the first layer's
            ``layer_input`` moments (1 when there are none).
        mean_field: ``{depth: mean_field_inputs}``; order: the module order.
    """
    from invariants.core.results import ERROR, NOTE
    from invariants.scaling.report import ScaleFinding

    first = order[0] if order else None
    q0s = [v for by_seed in data.get((first, layer_input, 0), {}).values() for v in by_seed.values()]
    q0 = float(np.mean(q0s)) if q0s else 1.0
    out_row = next((r for r in rows if r.kind == "output" and r.step == 0), None)
    grad_row = next((r for r in rows if r.kind == GRAD and r.step == 0), None)
    result = compare(out_row, predicted_slope(mean_field, q0), mean_field, q0)
    result["gradient"] = compare_gradient(grad_row, predicted_slope(mean_field, q0, backward=True), mean_field, q0)
    for entry, backward in ((result, False), (result["gradient"], True)):
        curve = predicted_curve(mean_field, q0, backward)
        entry["depths"], entry["predicted_log2"] = (curve[0], curve[1]) if curve else (None, None)
    found = []
    for entry, kind, subject, param in ((result, "depth-scale", "output", "output"),
                                        (result["gradient"], "gradient-depth-scale", "gradient",
                                         result["gradient"].get("name") or "gradient")):
        if entry["agrees"] is not None:
            found.append(ScaleFinding(NOTE if entry["agrees"] else ERROR, kind, subject, entry["text"], (param,),
                                      {k: v for k, v in entry.items() if k not in ("text", "gradient")}))
    return result, found


__all__ = ["GRAD_QUANTITY", "S_MIN_DEPTH", "agrees", "backward_log2", "compare", "compare_gradient",
           "depth_report", "depth_scale", "direction", "forward_log2", "line_slope", "measured_scale",
           "predicted_curve", "predicted_slope", "setting"]
