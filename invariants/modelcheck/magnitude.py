"""Findings on a weight-normed layer name its magnitude ``g``, the parameter that sets the weight's scale.

A weight-normed layer is read through its effective weight ``w = g·v/‖v‖`` (Salimans & Kingma 2016, eq. 2;
:mod:`invariants.frameworks.torch.weightnorm`), under the name of ``v`` (``parametrizations.weight.original1``,
``weight_v``).  The norms of ``w`` are ``|g|`` slice by slice whatever ``v``'s scale, so a scale finding on ``w``
is a finding on ``g`` (``original0``, ``weight_g``): rescaling ``v`` changes neither ``w`` nor the function.  The
message names ``g`` beside the subject, so a reader is not sent to ``v`` (figure ``magnitude``).

**A magnitude scaled after the wrap** (:func:`scaled_magnitude`).  The wrap sets ``g = ‖v‖`` slice by slice
(torch/nn/utils/parametrizations.py ``_WeightNorm.right_inverse``; ``WeightNorm.apply`` the same), so ``w = v``,
drawn by the layer's own init.  Where ``g/‖v‖`` is one constant ``c`` in every slice (to :data:`SAME_RATIO`), with
``c²`` above :data:`~invariants.modelcheck.peers.PEER_SCALE_RATIO`, ``w`` matching no named scheme and ``v = w/c``
within :data:`~invariants.modelcheck.peers.DEPTH_TOLERANCE` of a base scheme for the layer's fans, the model shows
that a weight drawn by a named scheme had its magnitude multiplied by ``c`` afterwards: an error of kind
``magnitude-scale`` (its own kind: the layer is judged against its own direction ``v``, not against peers).  Data-dependent
init (Salimans & Kingma 2016, Sec. 3: ``g ← 1/σ`` per unit from a batch) gives a ratio that varies by slice, and a
zero ``g`` (a zero-init branch) no ratio; a magnitude scaled *down* is not judged (a deliberately small branch).
HF Wav2Vec2 (``modeling_wav2vec2.py``: ``Wav2Vec2PositionalConvEmbedding.__init__`` wraps the conv after
``Conv1d.reset_parameters``; ``Wav2Vec2PreTrainedModel._init_weights`` ``init.normal_(module.conv.weight, ...)``
writes to the computed weight and reaches neither ``g`` nor ``v``) leaves ``g = ‖v‖`` at the torch default.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable

from invariants.frameworks.model import Param
from invariants.modelcheck.report import ERROR, Finding

if TYPE_CHECKING:
    from invariants.modelcheck.variance import Match, Unit

#: ``g/‖v‖`` is one constant when its max and min are within this ratio (float32 ``w`` rounds at ~1e-7)
SAME_RATIO = 1.001


def name_magnitudes(findings: Iterable[Finding], params: Iterable[Param]) -> None:
    """Annotate, in place, each finding whose subject (its first parameter, or a block of it) is a weight-normed
    layer's effective weight: after the subject's first mention, the magnitude ``g`` that sets its scale."""
    mags = {p.name: p.magnitude for p in params if p.magnitude}
    if not mags:
        return
    for f in findings:
        if not f.params:
            continue
        subject = f.params[0]
        g = mags.get(subject.split("[")[0])
        if g is None or "magnitude" in f.figures:  # a finding on the magnitude itself names it already
            continue
        at = f.message.find(subject)
        if at < 0:
            continue
        end = at + len(subject)
        f.message = (f.message[:end] + f" (the effective weight g*v/||v|| of a weight-normed layer, read under v's "
                     f"name: its scale is that of its magnitude g, {g}; v only sets its direction)" + f.message[end:])
        f.figures["magnitude"] = g


def scaled_magnitude(results: "list[tuple[Unit, Match]]", hints: Any = None) -> list[Finding]:
    """An error per weight-normed layer whose magnitude was multiplied by one constant after the wrap (module
    docstring).  ``results``: the tensors not yet explained."""
    from invariants.modelcheck.peers import DEPTH_TOLERANCE, PEER_SCALE_RATIO, named_alone, reference_variances

    out: list[Finding] = []
    for u, m in results:
        p = u.param
        ratio = p.magnitude_ratio
        if not p.magnitude or ratio is None or u.label != p.name or not u.fans or named_alone(m):
            continue
        lo, hi = ratio
        if not (lo > 0 and hi <= SAME_RATIO * lo):
            continue
        c = math.sqrt(lo * hi)
        if c * c <= PEER_SCALE_RATIO:
            continue
        v_scale = u.second_moment / (c * c)
        near = [(name, ref) for name, ref in reference_variances(*u.fans, hints)
                if abs(math.log(v_scale / ref)) <= math.log(DEPTH_TOLERANCE)]
        if not near:
            continue
        name, ref = min(near, key=lambda t: abs(math.log(v_scale / t[1])))
        out.append(Finding(
            ERROR, "magnitude-scale", (u.label, p.magnitude),
            f"{u.label} ({m.row.layer}, fans {tuple(u.fans)}) is weight-normed with magnitude g = {p.magnitude} "
            f"exactly {c:.4g}x ||v|| in every slice (g/||v|| from {lo:.6g} to {hi:.6g}), so its effective weight "
            f"g*v/||v|| is {c:.4g}x its direction v, whose scale is {name} (E[v^2] {v_scale:.4g}, the reference "
            f"{ref:.4g}): E[w^2] = {u.second_moment:.4g}, {c * c:.3g}x that, beyond the {PEER_SCALE_RATIO:g}x bound, and "
            "it matches no named scheme. The wrap sets g = ||v|| (torch _WeightNorm.right_inverse), so the layer was "
            "drawn at that scheme and its magnitude multiplied afterwards (data-dependent init gives a ratio that "
            "varies by unit).",
            {"magnitude": p.magnitude, "ratio": [lo, hi], "factor": c, "direction_scheme": name,
             "direction_second_moment": v_scale, "second_moment": u.second_moment}))
    return out


__all__ = ["SAME_RATIO", "name_magnitudes", "scaled_magnitude"]
