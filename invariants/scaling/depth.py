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
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from invariants.frameworks.runner import ACTIVATION_NAMES

S_MIN_DEPTH = 0.05

def predicted_slope(inputs: dict[int, dict[str, Any]], q0: float) -> float | None:
    """The mean-field slope ``d log2 q_L / dL`` over the depths of ``inputs`` (``{depth: the runner's
    mean_field_inputs}``)."""
    from invariants.propagation import variance_curve

    depths = sorted(d for d, v in inputs.items() if v is not None)
    if len(depths) < 2:
        return None
    logs = []
    for d in depths:
        v = inputs[d]
        q = float(variance_curve(v["activation"], v["sigma_w2"], len(v["sigma_w2"]), v["sigma_b2"], q0)[-1])
        if not (q > 0 and math.isfinite(q)):
            return None
        logs.append(math.log2(q))
    x = np.asarray(depths, float)
    xc = x - x.mean()
    return float((np.asarray(logs) - np.mean(logs)) @ xc / (xc @ xc))


def depth_scale(slope: float) -> float:
    """``ξ = 1/(|slope|·ln 2)`` layers (``inf`` for a flat signal)."""
    return math.inf if slope == 0 else 1.0 / (abs(slope) * math.log(2))


def compare(measured: Any, predicted: float | None, inputs: dict[int, Any], q0: float) -> dict[str, Any]:
    """The ``depth_scale`` entry of the report: prediction, measurement (a fitted row), and whether they agree."""
    if predicted is None:
        return {"predicted_slope": None, "agrees": None,
                "text": "no mean-field prediction: the model is not an MLP with one known activation type "
                        f"({', '.join(ACTIVATION_NAMES)})"}
    some = next(v for v in inputs.values() if v is not None)
    agrees = measured is not None and measured.fit.lo - S_MIN_DEPTH <= predicted <= measured.fit.hi + S_MIN_DEPTH
    text = (f"mean field ({some['activation']}, σ_w² ≈ {np.median(some['sigma_w2']):.3g}, "
            f"σ_b² = {some['sigma_b2']:.3g}, "
            f"q0 = {q0:.3g}) predicts a slope of {predicted:+.3f} log2 per layer (depth scale "
            f"{depth_scale(predicted):.3g} layers)")
    if measured is not None:
        text += (f"; measured on the output {measured.fit.interval_text()} (depth scale "
                 f"{depth_scale(measured.fit.slope):.3g} layers): {'agrees' if agrees else 'DISAGREES'}")
    return {"predicted_slope": predicted, "predicted_depth_scale": depth_scale(predicted),
            "measured_slope": None if measured is None else measured.fit.slope,
            "measured_interval": None if measured is None else [measured.fit.lo, measured.fit.hi],
            "measured_depth_scale": None if measured is None else depth_scale(measured.fit.slope),
            "activation": some["activation"], "sigma_b2": some["sigma_b2"], "q0": q0,
            "agrees": agrees, "text": text}


__all__ = ["S_MIN_DEPTH", "compare", "depth_scale", "predicted_slope"]
