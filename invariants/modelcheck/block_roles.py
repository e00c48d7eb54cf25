"""A role of a repeated block drawn far above its block's other roles: the 10x out-projection.

Peer checks (:mod:`invariants.modelcheck.peers`) compare a tensor with the *same* layer of other blocks, or
with siblings of one sibling class.  A role named alone in its block (Llama's ``o_proj``, ``down_proj``) has no
such siblings, and one shared typo in every block (all twelve ``fc2`` at 10x) makes the role agree with
itself.  Here each tensor is compared with the *other roles of its own block* (a block: the name up to its
last all-digit component, ``model.layers.3``; its roles: the layers of one kind under it), two ways:

- **Shared scale** (:func:`shared_scale_outliers`): the block's other roles (at least :data:`MIN_OTHERS`) share
  one rule (a fixed variance or one fan mode: the homogeneity test of
  :func:`invariants.modelcheck.variance.rule_fit` passes at the model's alpha), and the tensor, which no named
  scheme explains on its own, is more than :data:`~invariants.modelcheck.peers.PEER_SCALE_RATIO` times *above*
  that rule on its fans under every such reading, and more than that above *every* other role of its block,
  one by one, at confidence ``1 − alpha`` (:func:`above_every_role`).  The homogeneity test only scopes the
  rule: its alpha is the chance of a *miss* (others that do share a rule read as not), and on tiny tensors its
  power is low, so others several times apart can pass as "one rule" and a tensor 10x above their mean can sit
  within 10x of one of them.  The one-sided bound is what guards against accusing: a tensor whose true
  ``E[w²]·fan`` is within ``PEER_SCALE_RATIO`` of any other role's under any reading whose rule fits (the
  readings the homogeneity test kept) is accused with probability at most ``alpha`` (the F law of two normal
  tensors' second moments: exact at any size, conservative for lighter tails; the delta method for heavier ones,
  up to kurtosis 10, where :func:`~invariants.modelcheck.variance.second_moments` clips it: beyond, e.g. a
  sparse init with kurtosis ~30 on a tiny tensor, the width is too narrow and alpha is not guaranteed).  Its
  power follows the tensors' size: between two normal tensors of ``n`` values it detects a true ratio of
  ``10·F_{1−alpha}(n, n)·F_{power}(n, n)``: 12x at 64x64 and
  alpha = 1e-5 with power 0.99, 23x at 16x16, 360x at 4x4.  (A point-estimate guard such as "the others within
  2x" has no alpha: at 4x4 sampling noise alone spreads three equal normal roles past 2x 37% of the time, and at
  16x16 the homogeneity test already rejects a 1, 1, 2 spread at p = 1e-9.)
  HF Llama draws every Linear from ``normal(0, initializer_range)``
  (transformers/models/llama/modeling_llama.py ``LlamaPreTrainedModel`` via ``PreTrainedModel._init_weights``), so ``o_proj`` at 10x std is 100x its block's shared variance.  Only the
  upward direction: out-projections drawn *smaller* than their block are deliberate in correct code (GPT-2's
  ``c_proj`` at ``0.02/sqrt(2N)``, Fixup and ReZero's zero residual branches, T5's ``q`` at
  ``(d_model·d_kv)^-1/2`` beside ``k``/``v`` at ``d_model^-1/2``); no init we know (torch, timm, HF, Keras,
  Flax defaults; GPT-2, CLIP, T5, BEiT, Fixup) draws one role of a block 10x in variance above every other role
  that shares one rule.
- **Above a depth-scaled stack** (:func:`above_depth_scaled`): where some role of the block follows a
  depth-scaled law (:func:`invariants.modelcheck.peers.depth_scaled`: the stack scales its residual
  branches *down*), a tensor that no named scheme explains, whose second moment is above every base scheme
  for its own fans (:func:`invariants.modelcheck.peers.reference_variances`: LeCun, He, Glorot, torch's
  default on either fan, every plausible fixed std) by more than
  :data:`~invariants.modelcheck.peers.DEPTH_TOLERANCE`, and more than ``PEER_SCALE_RATIO`` times the
  depth-scaled tensors of its block under every fan reading.  HF CLIP
  (transformers/models/clip/modeling_clip.py ``CLIPPreTrainedModel._init_weights``) draws ``q/k/v`` and
  ``fc2`` at ``d^-1/2·(2L)^-1/2``, ``out_proj`` at ``d^-1/2``, ``fc1`` at ``(2d)^-1/2``: every correct role is at or
  below a base scheme; ``fc2`` at 10x is ``100/(2L)`` times LeCun on its fan_out, 2.08x He fan_out at 12 layers.

A mixture-of-experts router (``skip``: its own rule, a routing temperature: HF SwitchTransformers draws
``router.classifier`` at normal(0, 1) beside projections at ``d^-1/2``, modeling_switch_transformers.py
``_init_weights``) is no member of its block: neither judged nor pooled into the rule the other roles share
(pooled, its scale made that rule fail and hid a 10x projection beside it).  A member feeding a
normalization (its scale changes only its effective learning rate), the model's output
layer, and a layer whose forward rescales its weight (the probe's
:func:`~invariants.modelcheck.peers.effective_second_moment` back within the bound) get a note instead of
the error.  Finding kind ``peer-scale``.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from invariants.layers.experts import expert_of
from invariants.modelcheck.peers import (DEPTH_TOLERANCE, PEER_SCALE_RATIO, ViewFacts, named_alone,
                                         reference_variances)
from invariants.modelcheck.report import ERROR, NOTE, Finding

if TYPE_CHECKING:
    from invariants.modelcheck.variance import Match, Unit

#: a block's other roles must number at least this many to define its shared scale
MIN_OTHERS = 3
#: the fan readings under which a scale is carried from one tensor to another
READINGS = ("fixed", "fan_in", "fan_out")


def block_of(name: str) -> tuple[str, str] | None:
    """``(block, role)`` of a weight name: the name up to its last all-digit dotted component, and the rest
    (``model.layers.3.self_attn.o_proj.weight`` -> ``("model.layers.3", "self_attn.o_proj.weight")``);
    ``None`` for a name without one or with nothing after it."""
    parts = name.split(".")
    idx = [i for i, p in enumerate(parts) if p.isdigit()]
    if not idx or idx[-1] == len(parts) - 1:
        return None
    return ".".join(parts[:idx[-1] + 1]), ".".join(parts[idx[-1] + 1:])


#: a path component numbered by Flax/Keras auto-naming or a list attribute: ``Blk_3``, ``layers_0``
_NUMBERED = re.compile(r"^(?P<stem>.+)_(?P<index>\d+)$")


def path_blocks(names: "list[str]") -> "dict[str, tuple[str, str]]":
    """``{name: (block, role)}`` for ``/``-separated names (Flax linen, Keras): a block is a numbered component
    (``Blk_3``: linen's ``{ClassName}_{n}`` auto-name, ``layers_3`` for a list attribute,
    flax/linen/module.py ``Module._name_taken`` / ``_get_unbound_fn``) that holds more than one layer and whose
    stem comes with at least two numbers under one parent (``Blk_0`` .. ``Blk_3``), so a block is a repeated
    sub-network (Keras names the first instance without a counter, ``block`` beside ``block_1``, ``block_2``: the
    bare stem is instance 0 there); ``Dense_0``/``Dense_1`` beside each other inside one block hold one kernel each (two roles,
    not two blocks) and ``MultiHeadDotProductAttention_0`` has no second number.  The last such component of
    a name is its block (``params/Blk_3/MultiHeadDotProductAttention_0/out/kernel`` ->
    ``("params/Blk_3", "MultiHeadDotProductAttention_0/out/kernel")``).  Names with a dotted digit component
    are :func:`block_of`'s and left out."""
    split = {n: n.split("/") for n in names if "/" in n and block_of(n) is None}
    numbers: dict[tuple[str, str], set[str]] = {}
    bare: set[tuple[str, str]] = set()  # (parent, component) of components without a counter
    layers: dict[str, set[str]] = {}  # a component's path -> the layer paths (name less its leaf) under it
    for parts in split.values():
        for i, p in enumerate(parts[:-1]):
            hit = _NUMBERED.match(p)
            if hit is not None:
                numbers.setdefault(("/".join(parts[:i]), hit["stem"]), set()).add(hit["index"])
            else:
                bare.add(("/".join(parts[:i]), p))
            layers.setdefault("/".join(parts[:i + 1]), set()).add("/".join(parts[:-1]))
    # Keras names the first instance without a counter (block, block_1, block_2: keras.src.backend.common.
    # global_state uniquify): the bare stem is instance 0 where its siblings count from 1, and counts as one of
    # them (two instances, block and block_1, are two blocks as three are three)
    keras_first = {key for key in bare if key in numbers and "0" not in numbers[key] and "1" in numbers[key]}
    for key in keras_first:
        numbers[key].add("0")

    def stem_of(parent: str, p: str) -> tuple[str, str] | None:
        hit = _NUMBERED.match(p)
        if hit is not None:
            return hit["stem"], hit["index"]
        return (p, "0") if (parent, p) in keras_first else None

    out: dict[str, tuple[str, str]] = {}
    for n, parts in split.items():
        for i in range(len(parts) - 2, -1, -1):
            parent = "/".join(parts[:i])
            hit = stem_of(parent, parts[i])
            at = "/".join(parts[:i + 1])
            if hit is not None and len(numbers[(parent, hit[0])]) >= 2 and len(layers[at]) >= 2:
                out[n] = (at, "/".join(parts[i + 1:]))
                break
    return out


def reading_fan(reading: str, fans: tuple[int, int]) -> float:
    """The factor a reading of :data:`READINGS` multiplies ``E[w²]`` by before tensors are compared: 1 for
    ``"fixed"``, else the ``(fan_in, fan_out)`` entry it names."""
    return 1.0 if reading == "fixed" else float(fans[0] if reading == "fan_in" else fans[1])


def role_of(u: "Unit") -> str:
    """The role a unit plays in its block: its tensor's name, or for one expert's slice of stacked experts the
    tensor and its gate (``experts.gate_up_proj[up]``: every expert's copy of one projection is one role)."""
    hit = expert_of(u.label)
    return u.param.name if hit is None else hit[0] + (f"[{hit[2]}]" if hit[2] else "")


def block_members(results: "list[tuple[Unit, Match]]", experts: bool = False,
                  skip: "set[str] | frozenset[str]" = frozenset()) -> "dict[tuple[str, str], list[tuple[Unit, Match]]]":
    """Whole tensors with textbook fans grouped by (block, layer kind); with ``experts``, each expert's slice of
    stacked experts too (:mod:`invariants.layers.experts`: one expert's dense map, of kind ``Dense`` like the
    block's ``nn.Linear`` projections; HF Mixtral draws both from ``normal(0, initializer_range)``,
    transformers/models/mixtral/modeling_mixtral.py ``MixtralPreTrainedModel._init_weights``).  Units labelled
    in ``skip`` (routers) are no member: neither judged nor part of the scale the others share."""
    paths = path_blocks([u.param.name for u, _ in results])
    out: dict[tuple[str, str], list[tuple[Unit, Match]]] = {}
    for u, m in results:
        if u.layer is None or not u.fans or u.label in skip:
            continue
        whole = u.packed_fans is None and u.label == u.param.name
        if not whole and not (experts and expert_of(u.label) is not None):
            continue
        b = block_of(u.param.name) or paths.get(u.param.name)
        if b is not None:
            out.setdefault((b[0], type(u.layer).__name__), []).append((u, m))
    return out


def _judge(ratio_eff: float | None, inv: bool, head: bool) -> tuple[str, str]:
    """Severity and the closing sentence of a finding (module docstring: notes for a normalized layer, the
    output layer, a runtime multiplier the probe measures back within the bound)."""
    if inv:
        return NOTE, (" Its layer feeds a normalization: the scale changes its effective learning rate, not the "
                      "network function (a note).")
    if head:
        return NOTE, " It is the model's output layer: a head drawn at its own scale is a common choice (a note)."
    if ratio_eff is not None and ratio_eff <= 1.0:
        return NOTE, (f" But the probe measures the layer acting within the bound ({ratio_eff:.3g} of it, "
                      "output over input): "
                      "its forward rescales the stored weight (a runtime multiplier), so the stored scale changes "
                      "only its effective learning rate (a note).")
    return ERROR, ""


def above_every_role(m2: np.ndarray, se: np.ndarray, ns: "list[int]", fans: "list[tuple[int, int]]", i: int,
                     others: "list[int]", readings: "list[str]", alpha: float) -> float:
    """The one-sided ``1 − alpha`` lower confidence bound on how far tensor ``i`` is above the largest of
    ``others`` (indices into ``m2``, each tensor's ``E[w²]``, ``se``, the standard error of its log
    (:func:`invariants.modelcheck.variance.second_moments`), and ``ns``, its number of values), the smallest over
    ``readings`` (of :data:`READINGS`; ``E[w²]·fan`` compared):
    ``min (m2_i f_i / (m2_o f_o)) / max(F_{1−alpha}(n_i, n_o), exp(z_alpha · sqrt(se_i² + se_o²)))`` over
    readings and others.  The F quantile is exact for normal weights at any size (``n·m2/σ²`` is chi-square) and
    conservative for lighter tails (uniform, truncated normal); the delta-method width covers heavier tails at
    large ``n``, where the sample kurtosis is reliable (alone it is anti-conservative on tiny tensors: 0.09 at
    alpha = 0.05 for two 4x4 normals), up to kurtosis 10, the clip of ``se`` (heavier tails: narrower than
    their true width).  Where tensor ``i``'s true ratio to one other under one reading is at most
    ``R``, the bound exceeds ``R`` with probability at most ``alpha``."""
    z = float(stats.norm.isf(alpha))
    low = math.inf
    for o in others:
        if not m2[o] > 0:
            continue  # an all-zero role is below any scale: it bounds nothing
        width = max(math.log(float(stats.f.isf(alpha, ns[i], ns[o]))), z * math.hypot(se[i], se[o]))
        for r in readings:
            low = min(low, math.log(m2[i] * reading_fan(r, fans[i]) / (m2[o] * reading_fan(r, fans[o]))) - width)
    return math.exp(min(low, 700.0))


def shared_scale_outliers(results: "list[tuple[Unit, Match]]", alpha: float, facts: ViewFacts = ViewFacts(),
                          skip: "set[str] | frozenset[str]" = frozenset()) -> list[Finding]:
    """``peer-scale`` findings for a tensor more than ``PEER_SCALE_RATIO`` above the one rule its block's other
    roles share and, at confidence ``1 − alpha``, above each of them (module docstring, first rule)."""
    from invariants.modelcheck.variance import rule_fit, second_moments

    out: list[Finding] = []
    for (block, kind), members in block_members(results, experts=True, skip=skip).items():
        roles = [role_of(v) for v, _ in members]
        moments: "tuple[np.ndarray, np.ndarray] | None" = None  # every member's, once per block when first needed
        fans = [v.fans for v, _ in members]
        sizes = [int(v.values.size) for v, _ in members]
        for i, ((u, m), role) in enumerate(zip(members, roles)):
            if named_alone(m):
                continue
            # the other roles: an expert's copies of its own projection are the same role, not its block's others
            idx = [j for j, r in enumerate(roles) if r != role]
            if len(idx) < MIN_OTHERS:
                continue
            v = u.second_moment
            if not math.isfinite(v):
                continue  # a non-finite tensor is the finite check's finding, not a scale
            if moments is None:
                moments = second_moments([w for w, _ in members])
            m2, se = moments
            others = [members[j][0] for j in idx]
            rules = [(r, scale) for r in READINGS for p, scale in [rule_fit(others, r, (m2[idx], se[idx]))]
                     if p > alpha]
            if not rules:
                continue
            ratios = {r: v / (scale / reading_fan(r, u.fans)) for r, scale in rules}  # type: ignore[arg-type]
            if min(ratios.values()) <= PEER_SCALE_RATIO:
                continue
            # the guard against accusing (module docstring): above each other role, not only their mean
            low = above_every_role(m2, se, sizes, fans, i, idx, [r for r, _ in rules], alpha)  # type: ignore[arg-type]
            if low <= PEER_SCALE_RATIO:
                continue
            reading, ratio = min(ratios.items(), key=lambda t: t[1])
            eff = facts.effective(u.param.name)
            # the measured scale over the bound: at most 1 where the forward rescales the weight back within it
            ratio_eff = None if eff is None else ratio * eff / v / PEER_SCALE_RATIO
            sev, tail = _judge(ratio_eff, u.param.name in facts.scale_invariant,
                               u.param.name in facts.output_layer)
            names = [o.label for o in others]
            rule = f"E[w^2] = {rules[0][1]:.4g}" + ("" if rules[0][0] == "fixed" else f"/{rules[0][0]}")
            out.append(Finding(
                sev, "peer-scale", (u.label,) + tuple(names[:3]),
                f"{u.label} ({m.row.layer}) has E[w^2] = {v:.4g}, {ratio:.3g}x the scale the other {len(others)} "
                f"{kind} layers of its block {block} share ({', '.join(names[:3])}{' ...' if len(names) > 3 else ''}; "
                f"one rule, {rule}, homogeneity above alpha = {alpha:.2g}), beyond the {PEER_SCALE_RATIO:g}x bound "
                f"under every fan reading (std {math.sqrt(ratio):.3g}x theirs; at least {low:.3g}x each of them at "
                f"confidence 1 - alpha), and it matches no named scheme on its "
                "own. One role drawn far above every other role of its block (a 10x typo in one projection's std); "
                "out-projections drawn smaller (depth-scaled, zero) are deliberate and not judged here." + tail,
                {"block": block, "others": names, "second_moment": v, "ratio": ratio, "reading": reading,
                 "ratios": ratios, "above_every_role": low, "alpha": alpha, "effective_ratio": ratio_eff}))
    return out


def above_depth_scaled(results: "list[tuple[Unit, Match]]", depth_scaled: "set[str]", hints=None,
                       facts: ViewFacts = ViewFacts(), skip: "set[str] | frozenset[str]" = frozenset()
                       ) -> list[Finding]:
    """``peer-scale`` findings for a tensor above every base scheme in a block whose other roles are
    depth-scaled (module docstring, second rule).  ``results`` are the tensors not yet explained, ``depth_scaled``
    the weight names :func:`invariants.modelcheck.peers.depth_scaled` recognized, whose tensors ``results``
    holds too (they are the reference, never judged themselves)."""
    out: list[Finding] = []
    for (block, kind), members in block_members(results, skip=skip).items():
        deep = [u for u, _ in members if u.param.name in depth_scaled]
        if not deep:
            continue
        for u, m in members:
            if u.param.name in depth_scaled or named_alone(m):
                continue
            v = u.second_moment
            if not math.isfinite(v):
                continue
            refs = reference_variances(*u.fans, hints)  # type: ignore[misc]
            top_name, top = max(refs, key=lambda t: t[1])
            if v <= DEPTH_TOLERANCE * top:
                continue
            # the depth-scaled tensors' scale carried to this tensor's fans under each reading
            low = min(v * reading_fan(r, u.fans) / (d.second_moment * reading_fan(r, d.fans))  # type: ignore[arg-type]
                      for d in deep for r in READINGS)
            if low <= PEER_SCALE_RATIO:
                continue
            eff = facts.effective(u.param.name)
            ratio_eff = None if eff is None else eff / (DEPTH_TOLERANCE * top)  # at most 1: within the schemes
            sev, tail = _judge(ratio_eff, u.param.name in facts.scale_invariant,
                               u.param.name in facts.output_layer)
            names = [d.label for d in deep]
            out.append(Finding(
                sev, "peer-scale", (u.label,) + tuple(names[:3]),
                f"{u.label} ({m.row.layer}, fans {tuple(u.fans)}) has E[w^2] = {v:.4g}, "  # type: ignore[arg-type]
                f"{v / top:.3g}x the largest "
                f"base scheme for its fans ({top_name}) and at least {low:.3g}x the {len(deep)} depth-scaled "
                f"{kind} layers of its block {block} ({', '.join(names[:3])}{' ...' if len(names) > 3 else ''}) "
                f"under every fan reading (bound {PEER_SCALE_RATIO:g}x), and it matches no named scheme on its own. "
                "Its stack scales residual branches down with depth; this layer is drawn above every scheme instead "
                "(HF CLIP draws fc2 at d^-1/2*(2L)^-1/2 like q/k/v: a 10x typo there is 100x their scale)." + tail,
                {"block": block, "depth_scaled": names, "second_moment": v, "top_reference": top_name,
                 "top_ratio": v / top, "depth_ratio": low, "effective_ratio": ratio_eff}))
    return out


__all__ = ["MIN_OTHERS", "READINGS", "above_depth_scaled", "above_every_role", "block_members", "block_of",
           "path_blocks", "reading_fan", "role_of", "shared_scale_outliers"]
