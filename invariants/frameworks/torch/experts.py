"""Mixture-of-experts modules of transformers 5 in torch: stacked expert weights and top-k routers.

**Stacked experts.**  transformers 5.25 stores the experts of a sparse MoE block as 3-D parameters of one module
(``modeling_mixtral.py`` ``MixtralExperts.__init__``: ``gate_up_proj`` ``(E, 2·I, H)``, ``down_proj`` ``(E, H, I)``;
``modeling_qwen2_moe.py`` ``Qwen2MoeExperts`` the same with ``I = moe_intermediate_size``), and its decorator
``integrations/moe.py`` ``use_experts_implementation`` records how they are applied on the module:
``num_experts``, ``has_gate`` (``gate_up_proj`` packs gate|up, else a plain ``up_proj``), ``is_transposed``
(``(E, in, out)``, applied as ``x @ W[e]``, else ``(E, out, in)`` applied as ``linear(x, W[e])``:
``_batched_linear``), ``is_concatenated`` (gate|up, else gate and up rows alternate: ``GptOssExperts._apply_gate``
``gate_up[..., ::2]``, ``gate_up[..., 1::2]``) and ``has_bias`` (``gate_up_proj_bias`` ``(E, G·I)``,
``down_proj_bias`` ``(E, H)``).  These attributes are the layer semantics read here: each parameter becomes an
:class:`~invariants.layers.Experts` layer, every expert's gate, up and down map a dense block with its own
fans.  Only where a module lacks them (an experts class without the decorator) is a class named ``*Experts``
holding 3-D ``gate_up_proj`` and ``down_proj`` of consistent shapes read in the untransposed, concatenated
layout, from the names — the last resort, stated in :func:`stacked_experts`.

**Routers.**  ``MixtralTopKRouter``/``Qwen2MoeTopKRouter`` hold ``weight`` ``(E, H)`` applied as
``F.linear(hidden_states, self.weight)`` (their ``forward``), recorded as attributes ``num_experts``,
``hidden_dim`` and ``top_k``: a dense map ``H -> E`` (:func:`router_layer`).

**Experts merged into rows (DBRX).**  ``modeling_dbrx.py`` ``DbrxExpertGLU.__init__`` stores each of ``w1``
(gate), ``v1`` (up) and ``w2`` (down) as one 2-D parameter ``(E·I, H)`` (``moe_num_experts``,
``ffn_hidden_size``, ``hidden_size`` declared on the module), and ``DbrxExperts.forward`` views each as
``(E, I, H)`` (``split_expert_shape``) and applies expert ``e`` as ``x @ w1[e].T``, ``x @ v1[e].T`` (``H -> I``,
stored ``(out, in)``) and ``h @ w2[e]`` (``I -> H``, stored ``(in, out)``): :func:`merged_experts`.
``DbrxPreTrainedModel._init_weights`` draws all three from ``normal(0, initializer_range)``.
"""
from __future__ import annotations

import math
from typing import Any

from invariants.layers import JAX, TORCH, Dense, Experts, Layer, Layout


def _shape(m: Any, name: str) -> tuple[int, ...] | None:
    p = getattr(m, name, None)
    return tuple(int(s) for s in p.shape) if p is not None and hasattr(p, "shape") else None


def stacked_experts(m: Any) -> dict[str, tuple[Layer, Layout]] | None:
    """``{parameter name: (layer, layout)}`` for the stacked expert weights of module ``m`` (see the module
    docstring), or ``None`` when ``m`` holds none or their shapes disagree with its declared semantics.

    From the ``use_experts_implementation`` attributes when present; otherwise (name heuristic, last resort)
    a class named ``*Experts`` with ``gate_up_proj`` ``(E, 2·I, H)`` and ``down_proj`` ``(E, H, I)``."""
    declared = isinstance(getattr(m, "num_experts", None), int) and isinstance(getattr(m, "has_gate", None), bool)
    if declared:
        gated, transposed = m.has_gate, bool(getattr(m, "is_transposed", False))
        interleaved = not bool(getattr(m, "is_concatenated", True))
        e = m.num_experts
    elif type(m).__name__.endswith("Experts"):
        gated, transposed, interleaved, e = True, False, False, None
    else:
        return None
    up_name = "gate_up_proj" if gated else "up_proj"
    up, down = _shape(m, up_name), _shape(m, "down_proj")
    if up is None or down is None or len(up) != 3 or len(down) != 3:
        return None
    g = 2 if gated else 1
    # (E, out, in) untransposed, (E, in, out) transposed: read each map's in/out sizes
    (_, up_out, hidden), (_, hid2, inner) = (up, down) if not transposed else ((up[0], up[2], up[1]), (down[0], down[2], down[1]))
    e = up[0] if e is None else e
    if up[0] != e or down[0] != e or up_out % g or up_out // g != inner or hid2 != hidden:
        return None
    layout = JAX if transposed else TORCH
    return {up_name: (Experts(e, hidden, up_out // g, g, interleaved), layout),
            "down_proj": (Experts(e, inner, hidden), layout)}


def merged_experts(m: Any) -> dict[str, tuple[Layer, Layout]] | None:
    """``{parameter name: (layer, layout)}`` for DBRX's expert weights merged into rows (module docstring):
    ``w1``/``v1`` ``experts(E, H, I)`` in the torch layout, ``w2`` ``experts(E, I, H)`` in the jax layout, each
    of shape ``(E, I, H)`` once its ``(E·I, H)`` storage is viewed as the forward views it (the caller reshapes:
    :func:`expert_view`).  ``None`` unless ``m`` is a ``*ExpertGLU`` declaring ``moe_num_experts``,
    ``ffn_hidden_size`` and ``hidden_size`` with all three parameters of shape ``(E·I, H)``: the layout of
    ``w2`` is DBRX's forward, not a convention a name could imply elsewhere."""
    e, i, h = (getattr(m, a, None) for a in ("moe_num_experts", "ffn_hidden_size", "hidden_size"))
    if not type(m).__name__.endswith("ExpertGLU") or not all(isinstance(x, int) and x > 0 for x in (e, i, h)):
        return None
    if any(_shape(m, n) != (e * i, h) for n in ("w1", "v1", "w2")):
        return None
    return {"w1": (Experts(e, h, i), TORCH), "v1": (Experts(e, h, i), TORCH), "w2": (Experts(e, i, h), JAX)}


def expert_view(value: Any, layer: Layer, layout: Layout) -> Any:
    """``value`` viewed in ``layer``'s weight shape when it holds the same number of values in another shape
    (DBRX's ``(E·I, H)`` rows viewed ``(E, I, H)``, as ``DbrxExperts.forward`` does: no copy for a contiguous
    tensor); ``value`` unchanged otherwise."""
    shape = layout.shape(layer)
    if tuple(value.shape) == shape or int(value.size) != math.prod(shape):
        return value
    return value.reshape(shape)


def router_layer(m: Any) -> Dense | None:
    """``dense(H, E)`` for a top-k router's ``weight`` ``(E, H)`` (``num_experts``, ``hidden_dim`` and ``top_k``
    declared on the module, as transformers' ``*TopKRouter`` classes do), else ``None``."""
    e, h = getattr(m, "num_experts", None), getattr(m, "hidden_dim", None)
    if not (isinstance(e, int) and isinstance(h, int) and isinstance(getattr(m, "top_k", None), int)):
        return None
    return Dense(h, e) if _shape(m, "weight") == (e, h) else None


__all__ = ["expert_view", "merged_experts", "router_layer", "stacked_experts"]
