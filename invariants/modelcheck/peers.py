"""A tensor against its peers' scheme: the fan-swapped conv among He-fan_out siblings.

Matched alone, a conv redrawn He over ``fan_in`` where the library uses ``fan_out`` passes: He-fan_in is a
named scheme.  Against its *siblings* (:func:`invariants.modelcheck.siblings.sibling_key`: the same
position in repeated blocks, the same layer kind, grouped convs apart) it does not.

For each sibling class of at least :data:`MIN_CLASS` fan-scaled tensors, the *peers' scheme* ``S`` is the
fan-mode (``fan_in``/``fan_out``) scheme matched by the most members, provided the evidence discriminates:
at least two members with ``fan_in != fan_out`` match ``S`` and none of them matches ``S`` with the fan
mode swapped (where ``fan_in = fan_out`` both modes give the same law and say nothing), and ``S`` is
matched by at least half the class.  A member ``S`` does not list is then tested against ``S`` on each of
its fan sets (the battery of :func:`invariants.modelcheck.variance.passes` at the model's per-check
alpha):

- ``S`` rejects it on every fan set and ``S`` with the fan mode swapped passes on one: error ``fan-swap``
  (unambiguous: the peers discriminate the modes, the tensor fails theirs and fits the other);
- ``S`` rejects it and no swap fits: note ``peer-scheme`` (a deliberately different layer is possible).

A class whose members all share one second moment (the homogeneity test of
:func:`invariants.modelcheck.variance.fixed_variance_p` passes at the model's alpha) follows a fixed std
(HuggingFace's ``normal(initializer_range)``), not a fan mode, and is not compared: at std 0.05 every
``dense(64,128)`` matches ``variance_scaling(1/3, fan_out)`` by coincidence, and its ``dense(128,64)``
siblings the ``fan_in`` variant.

**Scale against the peers** (:func:`peer_scale_findings`, any scheme, fixed stds included): a member whose
second moment is more than :data:`PEER_SCALE_RATIO` times off (either way) every scheme its peers follow,
each of which rejects it at the model's alpha, is an error ``peer-scale``: one block's projection drawn at
std 0.02² among siblings at 0.02, or ×10 in std.  The peers' schemes are named schemes and orthogonal at one
gain (a tall ``orthogonal_`` first layer matches ``orthogonal(gain=1)`` as its square siblings do, though no
fan-in scheme fits it).  In a class of :data:`MIN_CLASS` or more layers of one role they are the schemes at
least two members and half the class match; in a *pair* (``fc1``/``fc2``, Keras ``hidden1``/``hidden2``:
small models name their layers), the member that no named scheme explains on its own is compared with every
scheme its sibling matches.  A head — the model's output layer, or the last layer of its stack at its own
output width (:func:`stack_heads`: a policy and a value head each end their own MLP) — is set apart from the
role and gets a note, as a layer feeding a normalization does; and where the probe measured the layer (its
output over its input, :func:`effective_second_moment`) acting within the bound, its forward rescales the
stored weight (a runtime multiplier): the function at init is that of its siblings' scale, and the stored
scale changes only the layer's effective learning rate, so it is a note too.

**Classes.**  A class of repeated blocks times roles (``layers.#.mlp.fc#`` holding ``fc1`` and ``fc2`` of 12
blocks) is split by role (:func:`split_roles`) only to recognize depth scaling; a role drawn at a depth-scaled law
leaves the class, and the other roles are still compared with each other.  Layers named without digits (``fc_in``, ``fc_hidden``,
``fc_out``) are each alone in their class; a run of them of one framework class, each taking the last one's
output in execution order (:func:`chains`), is one class.  A head needs the layer run next (the probe's
execution order, else definition order, which the note says) not to take its output (:func:`stack_heads`,
:func:`feeds`): ``hidden3`` feeding ``output`` is a hidden layer.

**Depth scaling** (:func:`depth_scaled`): a role class drawn at one base variance divided by ``k·N`` or
``k·(l+1)`` (GPT-2/Megatron, HF CLIP, timm BEiT/EVA ``fix_init_weight``) is a scheme: a note, and a member
more than :data:`PEER_SCALE_RATIO` off that law is a ``peer-scale`` error.  Other layer-dependent schemes
give no scheme matched by half the class, so they are never compared; a lone layer has no class.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, TypeVar

import numpy as np

from invariants.layers.experts import expert_of
from invariants.modelcheck.report import ERROR, NOTE, Finding
from invariants.modelcheck.schemes import Scheme
from invariants.modelcheck.siblings import sibling_classes

if TYPE_CHECKING:
    from invariants.frameworks.model import ModelView
    from invariants.layers.base import Layer
    from invariants.modelcheck.variance import Match, Unit

T = TypeVar("T")

#: sibling classes smaller than this are not compared
MIN_CLASS = 3
#: a member this many times off its peers' variance (either way), and rejected by their scheme, is an error
PEER_SCALE_RATIO = 10.0


def _kind(u: "Unit") -> str:
    lay = u.layer
    g = getattr(lay, "groups", 1) or 1
    return type(lay).__name__ + ("/grouped" if g > 1 else "")


def _fans_by_tag(u: "Unit") -> dict[str, tuple[int, int]]:
    from invariants.modelcheck.variance import fan_sets

    return {tag: (int(f[0]), int(f[1])) for tag, _, f in fan_sets(u)}


_DIGITS = re.compile(r"\d+")


def role_key(name: str) -> str:
    """``name`` with every run of digits but the last replaced by ``#``: the layer's role inside its block
    (``encoder.layers.3.mlp.fc2`` -> ``encoder.layers.#.mlp.fc2``; ``layer1.0.conv2`` -> ``layer#.#.conv2``)."""
    runs = list(_DIGITS.finditer(name))
    if len(runs) < 2:
        return name
    last = runs[-1]
    return _DIGITS.sub("#", name[:last.start()]) + name[last.start():]


def split_roles(members: "list[T]", name_of) -> "list[list[T]]":
    """One sibling class split into its roles where it is repeated blocks times roles: ``fc1`` and ``fc2``
    of 12 blocks share the class ``layers.#.mlp.fc#`` but are two roles of 12 members each (an MLP's input
    and its residual output projection, which GPT-2, CLIP and BEiT draw at a depth-scaled std on purpose).
    Split only where at least two roles each repeat (:func:`role_key`); a chain of named layers (``fc1``,
    ``fc2``; ``l1`` ... ``l6``; ``actor.0``, ``actor.2``) has each role once and stays one class."""
    roles: dict[str, list[T]] = {}
    for it in members:
        roles.setdefault(role_key(name_of(it)), []).append(it)
    if len(roles) >= 2 and all(len(v) >= 2 for v in roles.values()):
        return list(roles.values())
    return [members]


def _classes(results: "list[tuple[Unit, Match]]", need_fans: bool,
             by_role: bool = False) -> "dict[str, list[tuple[Unit, Match]]]":
    """Whole tensors with layer semantics (``need_fans``: and textbook fans) grouped by sibling class and
    layer kind (grouped convs apart); with ``by_role``, a class of repeated blocks times roles split by role
    (:func:`split_roles`).  Only :func:`depth_scaled` splits: the peer checks run after it, on what it left,
    so a role it recognized as depth-scaled is already out of their classes, and every other role is still
    compared with its block's other roles (all twelve ``fc2`` at a 10x std, one shared typo, are errors
    against ``fc1``, as before the split; split, they agreed with each other and passed)."""
    # whole tensors, and each expert of stacked experts: its own dense map, a sibling of the other experts'
    # (``experts.gate_up_proj[e#.gate]``); the blocks of packed q/k/v or gates are not layers of their own
    eligible = [(u, m) for u, m in results if u.layer is not None and (u.fans or not need_fans)
                and ((u.packed_fans is None and u.label == u.param.name) or expert_of(u.label) is not None)]
    out: dict[str, list[tuple[Unit, Match]]] = {}
    for key, members in sibling_classes(eligible, lambda r: r[0].label, lambda r: _kind(r[0])).items():
        parts = split_roles(members, lambda r: r[0].label) if by_role else [members]
        for part in parts:
            out[key if len(parts) == 1 else f"{key} ({role_key(part[0][0].label)})"] = part
    return out


def peers_scheme(members: "list[tuple[Unit, Match]]") -> tuple[Scheme, set[int]] | None:
    """``(S, indices of the members matching S)`` for one sibling class (module docstring), or ``None``."""
    support: dict[str, set[int]] = {}
    disc: dict[str, set[int]] = {}
    by_name: dict[str, Scheme] = {}
    for i, (u, m) in enumerate(members):
        fans = _fans_by_tag(u)
        for sch, tag in m.schemes:
            if sch.swapped() is None:
                continue
            by_name[sch.name] = sch
            support.setdefault(sch.name, set()).add(i)
            fi, fo = fans.get(tag, (1, 1))
            if fi != fo:
                disc.setdefault(sch.name, set()).add(i)
    for name in sorted(support, key=lambda k: (-len(support[k]), k)):
        sch = by_name[name]
        swap = sch.swapped()
        assert swap is not None
        d = disc.get(name, set())
        if len(d) < 2 or 2 * len(support[name]) < len(members):
            continue
        if any(swap.name in {s.name for s, _ in members[i][1].schemes} for i in d):
            continue
        return sch, support[name]
    return None


#: a class whose every member is within this factor of a depth-scaled law is that scheme (sampling error on
#: thousands of values is a few percent; a coincidence with ``k·N`` for a wrong scale is unlikely)
DEPTH_TOLERANCE = 1.2


def reference_variances(fi: int, fo: int, hints) -> list[tuple[str, float]]:
    """``[(name, E[w^2])]`` the base schemes a depth-scaled residual projection starts from: the fan laws
    (torch default ``1/(3 fan_in)``, LeCun and He on either fan, Glorot) and every plausible fixed std."""
    from invariants.modelcheck.schemes import plausible_stds

    out = [("torch_default 1/(3*fan_in)", 1 / (3 * fi)), ("1/fan_in (LeCun)", 1 / fi), ("2/fan_in (He)", 2 / fi),
           ("1/fan_out", 1 / fo), ("2/fan_out (He fan_out)", 2 / fo), ("2/(fan_in+fan_out) (Glorot)", 2 / (fi + fo))]
    return out + [(f"std {s:.4g}^2", s * s) for s, _ in plausible_stds(hints)]


def _block_index(names: list[str]) -> list[int] | None:
    """Each name's block index: the one digit run whose value differs between the names, or ``None``."""
    runs = [[int(d) for d in _DIGITS.findall(n)] for n in names]
    if len({len(r) for r in runs}) != 1:
        return None
    varying = [i for i in range(len(runs[0])) if len({r[i] for r in runs}) > 1]
    return [r[varying[0]] for r in runs] if len(varying) == 1 else None


def depth_scaled(results: "list[tuple[Unit, Match]]", hints=None,
                 scale_invariant: "set[str] | frozenset[str]" = frozenset()) -> list[Finding]:
    """Notes for role classes (:func:`split_roles`, :data:`MIN_CLASS` or more members) drawn at a base scheme
    divided by the depth: every member's ``E[w^2]`` within :data:`DEPTH_TOLERANCE` of ``ref / (k·N)`` (``N``
    members, ``k`` 1 or 2: GPT-2 and Megatron's ``std/sqrt(2·n_layer)`` on the residual projections,
    transformers/models/gpt2/modeling_gpt2.py ``_init_weights``; HF CLIP's ``fc2`` std
    ``d^-1/2·(2L)^-1/2``, transformers/models/clip/modeling_clip.py ``_init_weights``) or of ``ref / (k·(l+1))``
    for block index ``l`` (timm ``Beit``/``Eva``/``VisionTransformer(fix_init=True)`` ``fix_init_weight``:
    ``attn.proj`` and ``mlp.fc2`` divided by ``sqrt(2·(layer_id+1))``), with ``ref`` one base variance
    (:func:`reference_variances`) for the whole class.  Residual-branch depth scaling is a scheme, so its
    members are left out of the peer, fixed-std and cross-layer checks and get this one note per class.  A
    law is recognized from more than half the class (:data:`MIN_CLASS` members at least); a member off it by
    more than :data:`PEER_SCALE_RATIO` (one block x10) is a ``peer-scale`` error (a note if its layer feeds a
    normalization), one off by less is left to the other checks.  A class that a named scheme explains for half
    its members or more is not tried."""
    out: list[Finding] = []
    for key, members in _classes(results, need_fans=True, by_role=True).items():
        n = len(members)
        if n < MIN_CLASS:
            continue
        support: dict[str, int] = {}
        for _, m in members:
            for name in {sch.name for sch, _ in m.schemes}:
                support[name] = support.get(name, 0) + 1
        if any(2 * c >= n for c in support.values()):
            continue  # a named scheme explains the class (fc1 at normal(0.02) is not 1/(3 fan_in) over 12)
        names = [u.param.name for u, _ in members]
        m2 = np.array([u.second_moment for u, _ in members])
        idx = _block_index(names)
        shapes = [("N", np.full(n, float(n)))]
        if idx is not None and len(set(idx)) == n:
            shapes.append(("l+1", np.array(idx, dtype=float) - min(idx) + 1))
        refs = [reference_variances(*u.fans, hints) for u, _ in members]  # type: ignore[misc]
        best = None  # (members fitting, reference name, shape, k, predicted E[w^2] per member)
        for j, (rname, _) in enumerate(refs[0]):
            ref = np.array([r[j][1] for r in refs])
            for shape, depth in shapes:
                for k in (1, 2):
                    pred = ref / (k * depth)
                    fit = np.abs(np.log(m2 / pred)) < math.log(DEPTH_TOLERANCE)
                    if best is None or fit.sum() > best[0].sum():
                        best = (fit, rname, shape, k, pred)
        if best is None or best[0].sum() < MIN_CLASS or 2 * best[0].sum() <= n:
            continue
        fit, rname, shape, k, pred = best
        law = f"{rname} / ({k}*{n})" if shape == "N" else f"{rname} / ({k}*(l+1)) for block index l"
        good = [nm for nm, f in zip(names, fit) if f]
        shown = ", ".join(good[:3]) + (f" (+{len(good) - 3})" if len(good) > 3 else "")
        worst = float(np.exp(np.abs(np.log(m2[fit] / pred[fit])).max()))
        out.append(Finding(
            NOTE, "variance", tuple(good),
            f"{len(good)} tensors of one role in repeated blocks ({shown}) follow E[w^2] = {law} (every one within "
            f"{worst:.3g}x): depth scaling of a residual stack, a scheme (GPT-2 and Megatron divide the residual "
            "projections' std by sqrt(2*n_layer), HF CLIP its q/k/v and fc2 std by sqrt(2L), timm BEiT/EVA's "
            "fix_init_weight proj and fc2 by sqrt(2*(layer_id+1)), Fixup (Zhang et al. 2019) a two-layer branch's "
            "first layer by sqrt(L)); not compared with the other layers' scale.",
            {"tensors": good, "reference": rname, "depth": shape, "k": k, "n": n, "worst_ratio": worst,
             "class": key}))
        for i in np.flatnonzero(~fit):
            ratio = float(m2[i] / pred[i])
            if 1 / PEER_SCALE_RATIO <= ratio <= PEER_SCALE_RATIO:
                continue  # off the law but within the bound: the other checks judge it
            u, m = members[i]
            inv = u.param.name in scale_invariant
            out.append(Finding(
                NOTE if inv else ERROR, "peer-scale", (u.label,) + tuple(good[:3]),
                f"{u.label} ({m.row.layer}) has E[w^2] = {m2[i]:.4g}, {ratio:.3g}x what {law} gives at its block, "
                f"the depth-scaled law its {len(good)} siblings follow ({shown}), beyond the {PEER_SCALE_RATIO:g}x "
                f"bound on that ratio (std {ratio ** 0.5:.3g}x theirs). One layer drawn at another scale (a std "
                "squared, a missing or doubled gain, a 10x typo) where the same layer of its siblings is not."
                + (" Its layer feeds a normalization: the scale changes its effective learning rate, not the "
                   "network function (a note)." if inv else ""),
                {"peers_scheme": law, "peers": good, "second_moment": float(m2[i]), "peers_variance": float(pred[i]),
                 "ratio": ratio, "class": key}))
    return out


def peer_findings(results: "list[tuple[Unit, Match]]", alpha: float, power: float) -> list[Finding]:
    """``fan-swap`` errors and ``peer-scheme`` notes (module docstring) over every sibling class."""
    from invariants.modelcheck.variance import fixed_variance_p, passes

    classes = _classes(results, need_fans=True)
    out: list[Finding] = []
    for key, members in classes.items():
        if len(members) < MIN_CLASS:
            continue
        found = peers_scheme(members)
        if found is None:
            continue
        if fixed_variance_p([u for u, _ in members]) > alpha:
            # one fixed std explains every member (HF normal(initializer_range) at 0.05, within 4% of
            # 1/(3*fan) for 128 units): the fan-mode scheme some members match by coincidence is no peers' rule
            continue
        sch, sup = found
        swap = sch.swapped()
        assert swap is not None
        for i, (u, m) in enumerate(members):
            if i in sup:
                continue
            fans = list(_fans_by_tag(u).items())
            if any(passes(sch.spec.law(*f), u.values, alpha, power) for _, f in fans):
                continue  # S fits (it was not among the few listed matches)
            fit = next((f for _, f in fans if passes(swap.spec.law(*f), u.values, alpha, power)), None)
            v = u.second_moment
            fi, fo = fit if fit is not None else fans[0][1]
            want = sch.spec.variance(fi, fo)
            peers = [members[j][0].label for j in sorted(sup)]
            shown = ", ".join(peers[:3]) + (f" (+{len(peers) - 3})" if len(peers) > 3 else "")
            mde = m.row.detectable_rel_error
            det = f"; {m.row.n} values detect a variance error of {100 * mde:.2g}%" if mde else ""
            fig = {"peers_scheme": sch.name, "swapped": swap.name, "peers": peers, "fans": [fi, fo],
                   "second_moment": v, "peers_variance": want, "alpha": alpha, "class": key}
            if fit is not None:
                out.append(Finding(
                    ERROR, "fan-swap", (u.label,) + tuple(peers[:3]),
                    f"{u.label} ({m.row.layer}, fans ({fi}, {fo})) is drawn {swap.name}: E[w^2] = {v:.4g}, "
                    f"{v / want:.3g}x what {sch.name} gives, the scheme its {len(peers)} siblings follow ({shown}); "
                    f"{sch.name} rejects it at alpha = {alpha:.2g} while {swap.name} (fan_in and fan_out swapped) "
                    f"fits{det}.", fig))
            else:
                out.append(Finding(
                    NOTE, "peer-scheme", (u.label,) + tuple(peers[:3]),
                    f"{u.label} ({m.row.layer}, fans ({fi}, {fo})) does not follow {sch.name}, the scheme its "
                    f"{len(peers)} siblings follow ({shown}): rejected at alpha = {alpha:.2g} (E[w^2] = {v:.4g}, "
                    f"{v / want:.3g}x); it matches {', '.join(m.matched) if m.matched else 'no named scheme'}{det}.",
                    fig))
    return out


def _law(sch: Scheme, fans: tuple[int, int] | None):
    return sch.spec.law(*fans) if sch.uses_fans and fans is not None else None if sch.uses_fans else sch.spec.law()


#: the gains of ``torch.nn.init.calculate_gain`` (torch/nn/init.py): linear, conv and sigmoid 1, tanh 5/3, relu
#: sqrt(2), leaky_relu (slope 0.01) sqrt(2/(1 + 0.01^2)), selu 3/4: an orthogonal layer at one of them is a
#: named scheme on its own
NAMED_GAINS: tuple[float, ...] = (1.0, 5 / 3, math.sqrt(2.0), math.sqrt(2.0 / (1 + 0.01**2)), 0.75)


def named_gain(g: float | None) -> bool:
    """Whether ``g`` is one of :data:`NAMED_GAINS` (relative tolerance 1e-3)."""
    return g is not None and any(math.isclose(g, t, rel_tol=1e-3) for t in NAMED_GAINS)


def _orth_key(g: float) -> str:
    return f"orthogonal(gain={g:.3g})"


def _keys(u: "Unit", m: "Match") -> dict[str, object]:
    """The schemes that explain one member, by display name: every named scheme its match lists
    (:class:`Scheme`, with its fan-set tag) and a nontrivial orthogonal match (its gain, to 3 digits: an
    orthogonal matrix's gain is exact up to rounding)."""
    out: dict[str, object] = {sch.name: (sch, tag) for sch, tag in m.schemes}
    if m.orthogonal_gain is not None:
        out[_orth_key(m.orthogonal_gain)] = m.orthogonal_gain
    return out


def _key_law(how: object, u: "Unit"):
    """The law a member would follow under one explaining scheme: a named scheme on the member's fans, or
    an orthogonal matrix of gain ``g`` (entries of variance ``g^2 / max(rows, cols)``: the smaller Gram
    matrix is ``g^2 I``) taken as the normal of that variance."""
    from invariants.laws import Law

    if isinstance(how, float):
        rows, cols = u.param.layout.out_matrix(u.values).shape
        return Law.normal(0.0, how / math.sqrt(max(rows, cols)))
    sch, tag = how  # type: ignore[misc]
    return _law(sch, _fans_by_tag(u).get(tag, u.fans))


def named_alone(m: "Match") -> bool:
    """Whether a member is explained on its own: a named scheme, an orthogonal match at a named gain
    (:data:`NAMED_GAINS`) or the identity/Dirac pattern."""
    return bool(m.schemes) or named_gain(m.orthogonal_gain) or m.identity


def feeds(prev: "Layer", nxt: "Layer") -> bool:
    """Whether a layer ``nxt`` run right after ``prev`` can take ``prev``'s output as its input: its input
    width is ``prev``'s output width, or (``prev`` spatial) a multiple of it (a conv's channels flattened
    into a dense layer: LeNet's ``conv2`` 16 channels of 5x5 into ``fc1`` of 400 inputs)."""
    from invariants.layers.conv import Spatial

    o, i = getattr(prev, "out_features", None), getattr(nxt, "in_features", None)
    if not o or not i:
        return False
    return i == o or (isinstance(prev, Spatial) and i % o == 0)


def follow_order(view: "ModelView"
                 ) -> "tuple[dict[str, tuple[str, Layer] | None], bool, list[tuple[str, str, str, Layer]]]":
    """``({weight name: (node name, layer) of the next node, or None for the last}, executed, order)``: the
    nodes (layers with units) in the probe's execution order (``executed`` True), or in definition order
    when no probe ran (``executed`` False: the order the module declares its layers in, usually the order
    they run in); ``order`` lists them as ``(weight name, node name, framework class, layer)``."""
    order = [(n.weight.name, n.name, n.owner_type, n.layer) for n in view.nodes]
    executed = view.probe is not None and bool(view.probe.signals)
    follow: dict[str, tuple[str, Layer] | None] = {}
    for i, (w, _, _, _) in enumerate(order):
        follow[w] = (order[i + 1][1], order[i + 1][3]) if i + 1 < len(order) else None
    return follow, executed, order


def chains(order: "list[tuple[str, str, str, Layer]]", lone: "set[str]") -> list[list[str]]:
    """Runs of consecutive nodes in ``order`` (:func:`follow_order`) whose weights are in ``lone`` (alone in
    their sibling class), of one framework class, each taking the previous one's output (:func:`feeds`):
    ``fc_in``, ``fc_hidden``, ``fc_out`` of an MLP whose layers carry names without digits.  Only runs of
    two or more are returned, as lists of weight names."""
    out: list[list[str]] = []
    run: list[str] = []
    prev: tuple[str, Layer] | None = None
    for w, _, owner, layer in order:
        if run and w in lone and prev is not None and prev[0] == owner and feeds(prev[1], layer):
            run.append(w)  # run non-empty: the previous node is its last member
        else:
            if len(run) >= 2:
                out.append(run)
            run = [w] if w in lone else []
        prev = (owner, layer)
    if len(run) >= 2:
        out.append(run)
    return out


def stack_heads(members: "list[tuple[Unit, Match]]", follow: "dict[str, tuple[str, Layer] | None] | None" = None
                ) -> set[str]:
    """The members of a sibling class that end a stack: in a class whose layers chain (some member's output
    width is a member's input width: ``actor.0``, ``actor.2``, ``actor.4`` of a policy MLP, widths 4 -> 64 ->
    64 -> n_actions), each member whose output width is no member's input width, so it feeds none of them
    (the policy head ``actor.4``, both Q heads ``l3`` and ``l6`` of TD3's twin critics, ``l1`` ... ``l6`` in
    one class) -- and, where ``follow`` (:func:`follow_order`) knows the node run right after it, that node
    does not take its output (:func:`feeds`): a member whose output goes on into another weight layer
    (``hidden3`` into ``output``, ``fc2`` into ``classifier``, ``enc.2`` into ``fc_mu``, ``conv2`` into
    ``fc1``) is a hidden layer, not a head.  Repeated blocks do not chain (``h.#.mlp.c_fc`` 768 -> 3072 in
    every block) or chain through every member (square layers): none of their members ends a stack."""
    outs = {u.param.name: getattr(u.layer, "out_features", None) for u, _ in members}
    ins = {getattr(u.layer, "in_features", None) for u, _ in members} - {None}
    if not any(o in ins for o in outs.values()):
        return set()
    follow = follow or {}
    layer = {u.param.name: u.layer for u, _ in members}
    heads = set()
    for name, o in outs.items():
        if o is None or o in ins:
            continue
        nxt = follow.get(name)
        if nxt is not None and feeds(layer[name], nxt[1]):
            continue  # its output goes on into the next weight layer: a hidden layer
        heads.add(name)
    return heads


def effective_second_moment(view: "ModelView", weight: str) -> float | None:
    """``E[w_eff^2]`` of the layer whose weight is named ``weight``: the second moment its weights act with
    in the probe's forward pass, ``mean((z - b)^2) / (fan_in · mean(x^2))`` from its measured output ``z``
    (bias ``b`` removed) and input ``x``.  For a weight used as stored it estimates the stored ``E[w^2]``
    (``E[(w·x)^2] = E[w^2] |x|^2`` for zero-mean i.i.d. weights); a layer whose forward rescales its weight
    (a runtime multiplier, equalized learning rate) gives the rescaled value.  ``None`` without a probe, a
    measured output and input moment, or textbook fans.  Computed for one layer when asked (it copies the
    layer's output in float64): only a member already found off its peers needs it."""
    probe = getattr(view, "probe", None)
    if probe is None:
        return None
    nodes = {n.name: n for n in view.nodes if n.weight.name == weight}  # a tied weight: several nodes
    for sig in reversed(probe.signals):  # the last measured use of the weight
        node = nodes.get(sig.name)
        if node is None or sig.input_moment is None or not sig.input_moment > 0 or sig.z is None:
            continue
        fans = node.layer.textbook_fans() if node.layer is not None else None
        if not fans or not fans[0]:
            continue
        z = np.asarray(sig.z, dtype=np.float64)
        b = node.bias_values()
        if b is not None and z.ndim == 2 and z.shape[1] == b.size:
            z = z - b.astype(np.float64)
        return float(np.mean(z * z)) / (fans[0] * float(sig.input_moment))
    return None


@dataclass(frozen=True)
class ViewFacts:
    """What the scale checks against peers read from the model view (:func:`view_facts`), beside the tensors.

    ``scale_invariant``: weight names whose layer feeds a normalization; ``output_layer``: the model's output
    layer's weight name (empty if unknown); ``effective``: a weight name's probe-measured
    :func:`effective_second_moment` (``None`` unmeasured); ``follow``, ``executed``, ``order``: the node run
    after each weight and the node order (:func:`follow_order`).  The defaults know nothing: no norms, no head,
    no probe, no order."""

    scale_invariant: frozenset[str] = frozenset()
    output_layer: frozenset[str] = frozenset()
    effective: "Callable[[str], float | None]" = field(default=lambda weight: None)
    follow: "dict[str, tuple[str, Layer] | None]" = field(default_factory=dict)
    executed: bool = True
    order: "list[tuple[str, str, str, Layer]]" = field(default_factory=list)


def view_facts(view: "ModelView") -> ViewFacts:
    """:class:`ViewFacts` of ``view``.  An expert kept as its own module is never the output layer, though it
    may be the last node run or defined (an encoder ending in a Switch block: ``experts.expert_3.wo``): it is one
    of the maps the router mixes, drawn from its block's rule (HF ``modeling_switch_transformers.py``
    ``SwitchTransformersPreTrainedModel._init_weights``), not a head drawn at a scale of its own."""
    follow, executed, order = follow_order(view)
    head = view.output_node()
    return ViewFacts(frozenset(n.weight.name for n in view.nodes if n.scale_invariant),
                     frozenset() if head is None or expert_of(head.weight.name) is not None
                     else frozenset({head.weight.name}),
                     lambda weight: effective_second_moment(view, weight), follow, executed, order)


def peer_scale_findings(results: "list[tuple[Unit, Match]]", alpha: float, power: float,
                        facts: ViewFacts = ViewFacts(),
                        skip: "set[str] | frozenset[str]" = frozenset()) -> list[Finding]:
    """``peer-scale`` findings over every sibling class (module docstring).

    The peers' schemes: in a class of :data:`MIN_CLASS` or more, every scheme (a named scheme, or
    orthogonal at one gain) matched by at least two members and half the class; a member any of them
    explains is not compared (a tall orthogonal first layer matches ``orthogonal(gain=1)`` with its square
    siblings even where a fan-in scheme of theirs does not fit it).  In a *pair* (``fc1``/``fc2``,
    ``hidden1``/``hidden2``), the member explained by nothing on its own (:func:`named_alone`) is compared
    with every scheme its sibling matches.  A member every such scheme rejects at ``alpha`` whose second
    moment is more than :data:`PEER_SCALE_RATIO` times off each is the odd one: an error, unless

    - it is in ``skip`` (already explained, e.g. a fan swap): not reported again;
    ``facts`` (:class:`ViewFacts`) says what the view knows:

    - it is in ``facts.scale_invariant`` (its layer feeds a normalization: the scale changes its effective
      learning rate, not the function): a note;
    - it is in ``facts.output_layer`` (the model's output layer) or ends its stack (:func:`stack_heads`, with
      ``facts.follow``: the node run next, in execution order when ``facts.executed``, else
      in definition order, which the finding says): a head drawn at its own scale (a classifier or policy
      head at std 0.01, a value head at gain 1) is a common
      deliberate choice, as a zero head is: a note;
    - ``facts.effective`` (:func:`effective_second_moment`) gives its weight a second moment within the bound of
      the peers' law: the forward pass rescales the stored weight (a runtime multiplier), so the function at
      init is unchanged and the stored scale changes only the layer's effective learning rate: a note.
    """
    from invariants.modelcheck.variance import passes

    classes = _classes(results, need_fans=False)
    lone = {ms[0][0].param.name for ms in classes.values() if len(ms) == 1}
    by_name = {u.param.name: (u, m) for ms in classes.values() if len(ms) == 1 for u, m in ms}
    runs = chains(facts.order, lone)
    chained = {w for run in runs for w in run}
    classes = {k: v for k, v in classes.items() if not (len(v) == 1 and v[0][0].param.name in chained)}
    for run in runs:
        # layers named without digits (fc_in, fc_hidden, fc_out) are each alone in their class, but a chain
        # of one framework class in execution order is one stack: peers whatever their names
        classes["chain:" + " -> ".join(run)] = [by_name[w] for w in run]
    out: list[Finding] = []
    for key, members in classes.items():
        if len(members) < 2:
            continue
        keys = [_keys(u, m) for u, m in members]
        support: dict[str, set[int]] = {}
        how: dict[str, object] = {}
        for i, k in enumerate(keys):
            for name, h in k.items():
                support.setdefault(name, set()).add(i)
                how.setdefault(name, h)
        heads = stack_heads(members, facts.follow) | (set(facts.output_layer) & {u.param.name for u, _ in members})
        core = [i for i, (u, _) in enumerate(members) if u.param.name not in heads]
        pair = len(core) < MIN_CLASS
        # the majority is judged among the layers of one role (heads set apart: a policy head at gain 0.01
        # must not dilute it), while every member, heads included, lends its schemes as explanations
        majority = [n for n in support if len(support[n]) >= 2 and 2 * len(support[n]) >= len(core)]
        for i, (u, m) in enumerate(members):
            if u.label in skip:
                continue
            if pair:
                if named_alone(m):
                    continue  # in a pair, only a tensor no named scheme explains can be the odd one
                ref = sorted({n for j, k in enumerate(keys) if j != i for n in k})
                peers_of = {n: sorted(support[n] - {i}) for n in ref}
            else:
                if any(i in support[n] for n in majority):
                    continue
                ref = majority
                peers_of = {n: sorted(support[n]) for n in ref}
            if not ref:
                continue
            v = u.second_moment
            worst = None
            for name in ref:
                law = _key_law(how[name], u)
                if law is None or not law.variance:
                    worst = None
                    break
                want = law.variance + law.mean**2
                ratio = v / want
                if 1 / PEER_SCALE_RATIO <= ratio <= PEER_SCALE_RATIO or passes(law, u.values, alpha, power):
                    worst = None
                    break  # this scheme of the peers explains it
                if worst is None or (-len(peers_of[name]), abs(math.log(ratio)), name) < \
                        (-len(peers_of[worst[0]]), abs(math.log(worst[2])), worst[0]):
                    worst = (name, want, ratio)
            if worst is None:
                continue
            name, want, ratio = worst
            peers = [members[j][0].label for j in peers_of[name]]
            shown = ", ".join(peers[:3]) + (f" (+{len(peers) - 3})" if len(peers) > 3 else "")
            inv = u.param.name in facts.scale_invariant
            head = not inv and u.param.name in heads
            nxt = facts.follow.get(u.param.name)
            when = "run" if facts.executed else "defined"
            eff = facts.effective(u.param.name)
            eff_ratio = None if eff is None else eff / want
            reparam = not inv and not head and eff_ratio is not None \
                and 1 / PEER_SCALE_RATIO <= eff_ratio <= PEER_SCALE_RATIO
            chain = f"; one chain of {_kind(u)} layers {when} in the order {key[6:]}, each taking the last one's " \
                "output" if key.startswith("chain:") else ""
            sib = f"its sibling ({shown}{chain})" if len(peers) == 1 else f"its {len(peers)} siblings ({shown}{chain})"
            fig = {"peers_scheme": name, "peers": peers, "second_moment": v, "peers_variance": want,
                   "ratio": ratio, "alpha": alpha, "class": key}
            if eff_ratio is not None:
                fig["effective_ratio"] = eff_ratio
            out.append(Finding(
                NOTE if inv or head or reparam else ERROR, "peer-scale", (u.label,) + tuple(peers[:3]),
                f"{u.label} ({m.row.layer}) has E[w^2] = {v:.4g}, {ratio:.3g}x what {name} gives, the scheme "
                f"{sib} follow{'s' if len(peers) == 1 else ''}, beyond the {PEER_SCALE_RATIO:g}x bound on that ratio "
                f"(std {ratio ** 0.5:.3g}x theirs), and {name} rejects it at alpha = {alpha:.2g}"
                + (("; it matches no named scheme on its own" if not m.matched else
                    f"; on its own it matches only {', '.join(m.matched)}, at no named scheme or gain") if pair else "")
                + (f"; the probe measures it acting at {eff_ratio:.3g}x (its output over its input)"
                   if eff_ratio is not None and not reparam else "")
                + ". One layer drawn at another scale (a std squared, a missing or doubled gain, a 10x typo) "
                "where the same layer of its siblings is not."
                + (" Its layer feeds a normalization: the scale changes its effective learning rate, not the "
                   "network function (a note)." if inv else "")
                + (f" It is the model's output layer (the last layer {when})"
                   if head and u.param.name in facts.output_layer
                   else f" It ends its stack: its {u.layer.out_features} outputs feed no member of its class, and "
                   + (f"the layer {when} next ({nxt[0]}, {nxt[1].describe()}) does not take them" if nxt else
                      f"it is the last layer {when}") if head else "")
                + (": a head drawn at its own scale (a policy or classifier head at std 0.01, say) is a common "
                   "deliberate choice, as a zero head is (a note)." if head else "")
                + (" No probe ran: the order is the one the model declares its layers in."
                   if not facts.executed and (head or chain) else "")
                + (f" But the probe measures the layer acting at {eff_ratio:.3g}x that scheme's second moment "
                   "(output over input): its forward rescales the stored weight (a runtime multiplier), so the "
                   "function at init is that of its siblings' scale and the stored scale changes only the layer's "
                   "effective learning rate (a note)." if reparam else ""),
                fig))
    return out


__all__ = ["DEPTH_TOLERANCE", "MIN_CLASS", "NAMED_GAINS", "PEER_SCALE_RATIO", "ViewFacts", "chains", "depth_scaled",
           "effective_second_moment", "feeds", "follow_order", "named_alone", "named_gain", "reference_variances",
           "peer_findings", "peer_scale_findings", "peers_scheme", "role_key", "split_roles", "stack_heads",
           "view_facts"]
