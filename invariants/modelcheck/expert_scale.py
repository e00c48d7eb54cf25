"""Every expert of a mixture-of-experts block drawn far *below* the block's other roles: the 0.1x expert stack.

The block-role rule (:mod:`invariants.modelcheck.block_roles`) judges only upward: a role drawn smaller than its
block is deliberate in correct code (GPT-2's ``c_proj`` at ``0.02/sqrt(2N)``, Fixup's zero branch, T-Fixup's and
DeepNet's ``v``/``o``/``fc1``/``fc2`` scaled by ``N^-1/4``).  The experts of a sparse MoE block are one case where
the downward direction is decided on the model's own evidence:

- the library draws the experts from the block's own rule: HF Mixtral ``MixtralPreTrainedModel._init_weights``
  (transformers/models/mixtral/modeling_mixtral.py) ``normal(0, initializer_range)`` on every ``nn.Linear``
  and on ``MixtralExperts.gate_up_proj``/``down_proj`` alike; Qwen2-MoE, Qwen3-MoE, OLMoE, DeepSeek-V3,
  GPT-OSS and DBRX the same (their ``*PreTrainedModel._init_weights``);
- each depth-scaling scheme we know scales a residual branch's output projection, or the whole branch together
  with the attention's ``v``/``o``; none scales every map of every expert (input *and* output) while the
  attention keeps the shared scale.

Rule: in a block (:func:`~invariants.modelcheck.block_roles.block_members`), at least
:data:`~invariants.modelcheck.block_roles.MIN_OTHERS` other dense layers (routers excluded: their own rule)
each match a named scheme on their own and share one rule (the homogeneity test of
:func:`invariants.modelcheck.variance.rule_fit` passes at the model's alpha under a fixed or fan reading), and
*every* expert block of *every* expert stack of the block (each expert's gate, up, down) matches no named
scheme and lies more than :data:`~invariants.modelcheck.peers.PEER_SCALE_RATIO` times below that rule, and below
each of those layers on its own, carried to its own fans under every reading that passes.  Then it is an error
(kind ``peer-scale``) naming the experts and the factor.  An expert stack that follows a named scheme (torch's
default, LeCun, a plausible std) is never judged here, nor are experts in a block whose other roles disagree
among themselves (DeepNet, T-Fixup: ``q``/``k`` unscaled beside ``v``/``o`` scaled).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from invariants.layers.experts import expert_of
from invariants.modelcheck.block_roles import MIN_OTHERS, READINGS, block_members, reading_fan
from invariants.modelcheck.peers import PEER_SCALE_RATIO, named_alone
from invariants.modelcheck.report import ERROR, Finding

if TYPE_CHECKING:
    from invariants.modelcheck.variance import Match, Unit


def _by_block(results: "list[tuple[Unit, Match]]", routers: "set[str] | frozenset[str]"
              ) -> "dict[str, tuple[list, list]]":
    """``{block: (expert blocks, other whole dense tensors)}`` for the blocks holding stacked experts
    (:func:`~invariants.modelcheck.block_roles.block_members`' dense members, routers left out)."""
    out: dict[str, tuple[list, list]] = {}
    for (block, kind), members in block_members(results, experts=True, skip=routers).items():
        experts = [(u, m) for u, m in members if expert_of(u.label) is not None]
        if kind == "Dense" and experts:
            out[block] = (experts, [(u, m) for u, m in members if expert_of(u.label) is None])
    return out


def experts_below_block(results: "list[tuple[Unit, Match]]", alpha: float,
                        routers: "set[str] | frozenset[str]" = frozenset()) -> list[Finding]:
    """One ``peer-scale`` error per block whose every expert is far below the rule the block's other dense layers
    share (module docstring).

    Args:
        results: the ``(Unit, Match)`` pairs of the tensors not yet explained (an expert's unit is one expert's
            ``(in, out)`` block of a stack, :func:`invariants.layers.experts.expert_of` names it).
        alpha: the model's per-check alpha; it scopes the homogeneity test that decides the others share a rule.
        routers: labels of MoE routers (left out of the others).

    Statistics: the comparison is of point estimates with a 10x margin, with no alpha of its own.  Its error is
    that of ``E[w²]``: relative standard error ``sqrt(2/n)`` for a normal tensor of ``n`` values (2.2% for a
    64x64 expert), so experts drawn at their block's scale (true ratio 1) read 10x below it only at a deviation
    of ``log(10)/(sqrt(2)·sqrt(2/n))`` standard errors of the log-ratio: 74 at ``n = 4096``, 4.6 at ``n = 16``
    (one-sided ~2e-6); every expert of the block must clear it, and the experts of real models have thousands
    of values.
    """
    from invariants.modelcheck.variance import rule_fit

    out: list[Finding] = []
    for block, (experts, others) in _by_block(results, routers).items():
        if len(others) < MIN_OTHERS or not all(named_alone(m) for _, m in others):
            continue
        if any(named_alone(m) or not math.isfinite(u.second_moment) or u.second_moment <= 0 for u, m in experts):
            continue
        ous = [u for u, _ in others]
        rules = [(r, scale) for r in READINGS for p, scale in [rule_fit(ous, r)] if p > alpha]
        if not rules:
            continue
        # how far each expert lies below the shared rule, and below each other role on its own, carried to the
        # expert's fans, under the most lenient reading that passes (a rule's mean can hide one low member)
        below = [min(min(scale, min(o.second_moment * reading_fan(r, o.fans) for o in ous))  # type: ignore[arg-type]
                     / reading_fan(r, u.fans) / u.second_moment for r, scale in rules)  # type: ignore[arg-type]
                 for u, _ in experts]
        if min(below) <= PEER_SCALE_RATIO:
            continue
        stacks = sorted({expert_of(u.label)[0] for u, _ in experts})  # type: ignore[index]
        n_exp = len({expert_of(u.label)[1] for u, _ in experts})  # type: ignore[index]
        names = [u.label for u, _ in experts]
        rule = f"E[w^2] = {rules[0][1]:.4g}" + ("" if rules[0][0] == "fixed" else f"/{rules[0][0]}")
        firsts = [m.matched[0] for _, m in others if m.matched]
        common = max(set(firsts), key=firsts.count) if firsts else "named schemes"
        lo, hi = min(below), max(below)
        out.append(Finding(
            ERROR, "peer-scale", tuple(names) + tuple(u.label for u in ous[:3]),
            f"every expert of block {block} ({n_exp} experts in {len(stacks)} stack{'s' if len(stacks) > 1 else ''}: "
            f"{', '.join(stacks)}) is drawn {lo:.3g}x to {hi:.3g}x below the scale the other {len(ous)} dense "
            f"layers of its block share ({', '.join(u.label for u in ous[:3])}{' ...' if len(ous) > 3 else ''}; one "
            f"rule, {rule}, homogeneity above alpha = {alpha:.2g}; {firsts.count(common)} of them match {common}), beyond the "
            f"{PEER_SCALE_RATIO:g}x bound under every fan reading (std {math.sqrt(lo):.3g}x smaller at least), and "
            "no expert matches a named scheme. Libraries draw the experts from the block's own rule (HF Mixtral, "
            "Qwen2/3-MoE, OLMoE, DeepSeek-V3, DBRX *PreTrainedModel._init_weights: normal(0, initializer_range) on "
            "the Linear layers and the expert stacks alike), and depth-scaled or zero-init schemes shrink a branch's "
            "output projection (or v, o and the MLP together), never every expert map while the attention keeps the "
            "shared scale: the expert stacks were scaled down.",
            {"block": block, "experts": names, "stacks": stacks, "others": [u.label for u in ous],
             "below_min": lo, "below_max": hi, "rules": dict(rules), "alpha": alpha}))
    return out


__all__ = ["experts_below_block"]
