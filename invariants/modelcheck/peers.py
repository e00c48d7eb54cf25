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

**Scale against the peers** (:func:`peer_scale_findings`, any scheme, fixed stds included): when at least
two members and at least half of a class of :data:`MIN_CLASS` or more match one scheme ``S`` (in a pair of
siblings: one matches ``S`` and the other no named scheme at all), a member
``S`` rejects at the model's alpha whose second moment is more than :data:`PEER_SCALE_RATIO` times off
what ``S`` gives (either way) is an error ``peer-scale``: one block's projection drawn at std 0.02² among
siblings at 0.02, or ×10 in std.  Layer-dependent schemes (a std that shrinks with the block index) give
no scheme matched by half the class, so they are never compared this way; a lone layer (an output head)
has no class.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from invariants.modelcheck.report import ERROR, NOTE, Finding
from invariants.modelcheck.schemes import Scheme
from invariants.modelcheck.siblings import sibling_classes

if TYPE_CHECKING:
    from invariants.modelcheck.variance import Match, Unit

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


def _classes(results: "list[tuple[Unit, Match]]", need_fans: bool) -> "dict[str, list[tuple[Unit, Match]]]":
    """Whole tensors with layer semantics (``need_fans``: and textbook fans) grouped by sibling class and
    layer kind (grouped convs apart)."""
    eligible = [(u, m) for u, m in results if u.layer is not None and u.packed_fans is None
                and u.label == u.param.name and (u.fans or not need_fans)]
    return sibling_classes(eligible, lambda r: r[0].param.name, lambda r: _kind(r[0]))


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
            v = float((u.values.astype("float64") ** 2).mean())
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


def peer_scale_findings(results: "list[tuple[Unit, Match]]", alpha: float, power: float,
                        skip: "set[str] | frozenset[str]" = frozenset(),
                        scale_invariant: "set[str] | frozenset[str]" = frozenset(),
                        output_layer: "set[str] | frozenset[str]" = frozenset()) -> list[Finding]:
    """``peer-scale`` errors (module docstring) over every sibling class; tensors in ``skip`` (already
    explained, e.g. a fan swap) are not reported again.  A tensor in ``scale_invariant`` (its layer feeds a
    normalization, so its scale changes only its effective learning rate, not the function) gets a note, and
    so does one in ``output_layer`` (the model's output layer: a head drawn at its own scale, such as a
    policy or classifier head at std 0.01, is a common deliberate choice, as a zero head is)."""
    from invariants.modelcheck.variance import passes

    classes = _classes(results, need_fans=False)
    out: list[Finding] = []
    for key, members in classes.items():
        if len(members) < 2:
            continue
        support: dict[str, set[int]] = {}
        pick: dict[str, tuple[Scheme, str]] = {}
        for i, (_, m) in enumerate(members):
            for sch, tag in m.schemes:
                support.setdefault(sch.name, set()).add(i)
                pick.setdefault(sch.name, (sch, tag))
        best = max(sorted(support), key=lambda k: len(support[k]), default=None)
        if best is None or len(support[best]) < 2 or 2 * len(support[best]) < len(members):
            continue
        sch, tag = pick[best]
        peers = [members[j][0].label for j in sorted(support[best])]
        for i, (u, m) in enumerate(members):
            if i in support[best] or u.label in skip or (len(members) < MIN_CLASS and m.matched):
                continue  # in a pair, only a tensor matching no named scheme at all can be the odd one
            law = _law(sch, _fans_by_tag(u).get(tag, u.fans))
            if law is None or not law.variance:
                continue
            v = float((u.values.astype("float64") ** 2).mean())
            want = law.variance + law.mean**2
            ratio = v / want
            if 1 / PEER_SCALE_RATIO <= ratio <= PEER_SCALE_RATIO or passes(law, u.values, alpha, power):
                continue
            shown = ", ".join(peers[:3]) + (f" (+{len(peers) - 3})" if len(peers) > 3 else "")
            inv = u.param.name in scale_invariant
            head = not inv and u.param.name in output_layer
            out.append(Finding(
                NOTE if inv or head else ERROR, "peer-scale", (u.label,) + tuple(peers[:3]),
                f"{u.label} ({m.row.layer}) has E[w^2] = {v:.4g}, {ratio:.3g}x what {sch.name} gives, the scheme its "
                f"{len(peers)} siblings follow ({shown}), beyond the {PEER_SCALE_RATIO:g}x bound on that ratio (std "
                f"{ratio ** 0.5:.3g}x theirs), and {sch.name} rejects it at alpha = {alpha:.2g}. One block drawn at another "
                f"scale (a std squared, a missing or doubled gain) where the same layer of every other block is not."
                + (" Its layer feeds a normalization: the scale changes its effective learning rate, not the "
                   "network function (a note)." if inv else "")
                + (" It is the model's output layer: a head drawn at its own scale (a policy or classifier head at "
                   "std 0.01, say) is a common deliberate choice, as a zero head is (a note)." if head else ""),
                {"peers_scheme": sch.name, "peers": peers, "second_moment": v, "peers_variance": want,
                 "ratio": ratio, "alpha": alpha, "class": key}))
    return out


__all__ = ["MIN_CLASS", "PEER_SCALE_RATIO", "peer_findings", "peer_scale_findings", "peers_scheme"]
