"""Weight-normed torch layers: the magnitude ``g`` and direction ``v`` of ``w = g·v/‖v‖`` (Salimans & Kingma 2016,
eq. 2), read as the layer's weight ``w``.

Two forms exist in torch 2.13:

- ``torch.nn.utils.parametrizations.weight_norm`` (``torch/nn/utils/parametrizations.py`` ``_WeightNorm``): the
  layer's ``weight`` becomes a property computed by ``torch._weight_norm(v, g, dim)`` on every access from
  ``parametrizations.weight.original0`` (``g``) and ``original1`` (``v``), parameters of the child
  ``ParametrizationList``; ``right_inverse`` sets ``v = w`` and ``g = ‖w‖`` over every dim but ``dim``, so a
  freshly wrapped layer computes exactly the weight it had.
- the deprecated ``torch.nn.utils.weight_norm`` (``torch/nn/utils/weight_norm.py`` ``WeightNorm``): parameters
  ``weight_g`` and ``weight_v`` on the layer itself, and a forward pre-hook that recomputes the plain attribute
  ``weight`` (``WeightNorm.compute_weight``) before each call.

What the forward uses is ``w``, so ``w`` is what is checked (:func:`weight_norm`): it is the value of the Param of
``v`` (the tensor with the weight's shape), with the layer's semantics, node, fans and every weight check; ``g`` is
read as a norm scale (a per-slice magnitude: its constants, 1 or 0, are judged as a norm's are; its scale reaches
the variance test through ``w``).  Where ``g = ‖v‖`` (as the wrap leaves them) ``w`` equals ``v``.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class WeightNormed:
    """The weight norm of one layer's ``weight``.

    Attributes:
        g_name, v_name: the parameters' names relative to the layer (``parametrizations.weight.original0`` /
            ``original1``, or ``weight_g`` / ``weight_v``).
        g, v: the parameters (``g`` keeps every dim, size 1 except ``dim``).
        weight: the effective weight ``g·v/‖v‖`` as the forward computes it (detached), ``v``'s shape.
        dim: the dim ``‖v‖`` is not taken over (``weight_norm(dim=...)``; Wav2Vec2's positional conv: 2).
    """

    g_name: str
    v_name: str
    g: Any
    v: Any
    weight: Any
    dim: int | None


def _on_meta(*ts: Any) -> bool:
    return any(getattr(t, "device", None) is not None and t.device.type == "meta" for t in ts)


def weight_norm(m: Any) -> WeightNormed | None:
    """The weight norm of ``m.weight`` (either form, module docstring), or ``None`` when ``m.weight`` is not
    weight-normed, or its tensors are not materialised (a meta-device module: its parameters are then read as
    they are, without layer semantics, and listed as not analysed)."""
    plists = getattr(m, "parametrizations", None)
    plist = plists["weight"] if plists is not None and "weight" in plists else None
    if plist is not None:
        if len(plist) != 1 or type(plist[0]).__name__ != "_WeightNorm":
            return None  # another (or a chained) parametrization: not this rule
        g, v = plist.original0, plist.original1
        if _on_meta(g, v):
            return None
        with torch.no_grad():
            w = m.weight.detach()
        return WeightNormed("parametrizations.weight.original0", "parametrizations.weight.original1", g, v, w,
                            getattr(plist[0], "dim", None))
    hooks = getattr(m, "_forward_pre_hooks", None)
    if not hooks:
        return None
    hook_type = importlib.import_module("torch.nn.utils.weight_norm").WeightNorm
    for hook in hooks.values():
        if isinstance(hook, hook_type) and hook.name == "weight":
            g, v = getattr(m, "weight_g", None), getattr(m, "weight_v", None)
            if g is None or v is None or _on_meta(g, v):
                return None
            with torch.no_grad():
                w = hook.compute_weight(m).detach()
            return WeightNormed("weight_g", "weight_v", g, v, w, hook.dim)
    return None


def magnitude_ratio(wn: WeightNormed) -> tuple[float, float] | None:
    """``(min, max)`` of ``g/‖v‖`` over the slices, read as ``w/v`` where ``v`` is nonzero (``w = g·v/‖v‖``
    entry by entry, whatever ``dim``); ``None`` when ``v`` is all zero or not finite."""
    with torch.no_grad():
        w, v = wn.weight.detach().double().cpu(), wn.v.detach().double().cpu()
        nz = v != 0
        if not bool(nz.any()):
            return None
        r = w[nz] / v[nz]
        lo, hi = float(r.min()), float(r.max())
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None


__all__ = ["WeightNormed", "magnitude_ratio", "weight_norm"]
