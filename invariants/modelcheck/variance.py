"""Per-tensor weight variance against the named schemes, and the cross-layer fingerprint.

**One tensor, one draw.**  A model holds one draw of each weight tensor, so the auditor's pooling over
seeds is not available.  Each tensor (each block of a packed tensor) is tested, as a sample of ``n =
numel`` values (capped at ``Profile.max_values`` by a fixed stride), with the auditor's one-sample
checks (:func:`invariants.stats.battery.battery`: variance — exact chi-square for normal laws, the
moment test for bounded ones —, mean, support, extremes, point mass, KS shape) against every named
scheme resolved on the layer's *textbook* fans, and on the framework's own fans where these differ
(a framework convention, not a fault).  A scheme *matches* when every check passes at the per-check
``alpha = total_alpha / m`` (Bonferroni over the ``m`` checks of the whole model, so a tensor drawn from
a listed scheme is reported as matching none with probability ``<= total_alpha``).  With few values
several schemes match; the smallest relative variance error ``n`` values detect with power 0.99
(:meth:`invariants.stats.battery.Battery.min_detectable_rel_error`) is reported with each tensor: ~17% for a 64x64 matrix,
~2% at 300k values.

Candidates (:mod:`invariants.modelcheck.schemes`, as data): the variance-scaling grid (He/LeCun/Glorot and
the 1/3 scale of PyTorch's layer default, in every fan mode and distribution), Flax's ``Embed`` default
``N(0, 1/D)``, fixed ``normal(σ)``/``trunc_normal(σ)`` at a *plausible* σ only (the model's declared
``initializer_range``, or a conventional constant with its source), for embedding tables also the fixed
``N(0, 1)`` (PyTorch) and ``U(±0.05)`` (Keras), orthogonal with a fitted gain (also over a whole packed
tensor), and identity/Dirac patterns.  Schemes resolving to the same law are one candidate.  Candidates
are tried closest variance first, at most :data:`MAX_TESTS` get the full battery (so the budget counts at
most that many per tensor, :func:`checks_per_unit`) and at most :data:`MAX_MATCHES` matches are listed.
An embedding table's all-zero rows (padding) are left out of its match and named.

**Across layers** (:func:`cross_layer`): tensors that match no scheme are fingerprinted together, as
:func:`invariants.audit.fingerprint.identify` does across layers of different fans: for each fan mode
(and for a fixed variance) the implied scale ``s_l = E[w²]·fan_l`` must be the same for every layer;
homogeneity is tested with ``Q = Σ ((log ŝ_l − μ)/se_l)²`` against chi-square(m − 1), ``se_l² =
(κ_l − 1)/n_l`` (the delta-method variance of a log second moment, ``κ`` the kurtosis).  No
consistent mode is an error (no variance-scaling rule explains the layers), with the fitted exponent
``E[w²] ∝ fan_in^-γ`` (``γ = 1`` for every fan-in rule; ``γ = 2``: the std was squared) and, when one
passes every check on every layer, the named scheme whose std was squared — an initializer that is
right only where the std is 1.  The fit is robust to a few outlying tensors (named first, a note), tensors
of scale-invariant layers alone never make the error, and a shared fixed std that no source declares and
that shrinks every layer (``Var·fan_in < MAX_FIXED_GAIN``) — or the square of a plausible std — is an
``implausible-fixed-std`` error.  Extreme values (:mod:`invariants.modelcheck.extremes`) and fan swaps
against the siblings' scheme (:mod:`invariants.modelcheck.peers`) are decided before.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping

import numpy as np
from scipy import stats

from invariants.laws import Law
from invariants.layers import Embedding, Layer, Packed
from invariants.layers.experts import expert_of
from invariants.specs import TRUNCATED_NORMAL_STD, VarianceScaling
from invariants.frameworks.dtypes import widen
from invariants.frameworks.model import RANDOM_ROLES, ModelView, Node, Param
from invariants.modelcheck.checks import identity_structure, may_be_orthogonal
from invariants.modelcheck.mean_offset import nonzero_mean
from invariants.modelcheck.report import ERROR, NOTE, Finding, TensorRow
from invariants.modelcheck.schemes import (
    EMBEDDING_FIXED,
    plausible_stds,
    EMBEDDING_SCHEMES,
    FAN_SCHEMES,
    Scheme,
    fixed_schemes,
)
from invariants.modelcheck.tables import sinusoid_table
from invariants.stats.battery import LAW, Sample, battery, family_budget
from invariants.stats.budget import AlphaBudget, bonferroni
from invariants.stats.extremes import mantissa_bits
from invariants.stats.screen import Candidate, plausible
from invariants.stats.structure import orthogonality_error

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
#: at most this many matching schemes are listed per tensor (closest variance first) ...
MAX_MATCHES = 3
#: ... out of at most this many candidates given the full set of checks (the rest fail a cheap screen)
MAX_TESTS = 10
#: cross-layer fits need this many values per tensor (the log-moment's normal approximation)
MIN_CROSS_N = 32


@dataclass
class Unit:
    """A tensor or a packed block to test."""

    param: Param
    label: str
    values: np.ndarray
    layer: Layer | None
    fans: tuple[int, int] | None
    framework_fans: tuple[int, int] | None
    packed_fans: tuple[int, int] | None = None

    @functools.cached_property
    def second_moment(self) -> float:
        """``E[w²]`` of the values, in float64: computed once per tensor and shared by the peer, depth and block
        checks (each of them needs it for the same tensor)."""
        return float((self.values.astype("float64") ** 2).mean())


def units(view: ModelView, max_values: int) -> list[Unit]:
    """Every random-role tensor with layer semantics (per packed block), non-constant, ``n >= 2``."""
    out = []
    for p in view.params:
        if p.role not in RANDOM_ROLES or p.layer is None or p.size < 2 or p.is_constant():
            continue
        fw = p.layout.fans(p.shape) if len(p.shape) >= 2 else None
        for label, idx, lay in p.blocks():
            v = p.value if idx is None else p.value[idx]
            if p.padding_rows and idx is None:  # zero on purpose: not a draw of the table's law
                v = np.delete(v, p.zero_padding_rows(), axis=0)
            if v.size > max_values:
                v = v.ravel()[:: math.ceil(v.size / max_values)]
            fans = lay.textbook_fans() if lay is not None else None
            blk_fw = p.layout.fans(v.shape) if idx is not None and v.ndim >= 2 else fw
            out.append(Unit(p, label, np.asarray(v), lay, fans, blk_fw, fw if idx is not None else None))
    return out


def _same(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    return a is None or b is None or tuple(a) == tuple(b)


@dataclass
class Cand:
    """One candidate law for a unit, with every named scheme (and fan set) that resolves to it."""

    label: str
    law: Law
    schemes: list[tuple[Scheme, str]]  # (scheme, fan-set tag: "textbook" / "framework" / "packed" / "fixed")


@lru_cache(maxsize=65536)
def _scheme_law(scheme: Scheme, fi: int, fo: int) -> Law:
    return scheme.spec.law(fi, fo) if scheme.uses_fans else scheme.spec.law()


def fan_sets(u: "Unit") -> list[tuple[str, str, tuple[int, int]]]:
    """``[(tag, label suffix, (fan_in, fan_out))]``: the unit's textbook fans, the framework's own fans
    where these differ, and a packed tensor's whole fans."""
    out = []
    if u.fans:
        out.append(("textbook", "", u.fans))
    if u.framework_fans and not _same(u.framework_fans, u.fans):
        out.append(("framework", f" on {u.param.layout.name}'s fans {tuple(u.framework_fans)}", u.framework_fans))
    if u.packed_fans:
        out.append(("packed", f" over the packed tensor's fans {tuple(u.packed_fans)}", u.packed_fans))
    return out


def candidate_laws(u: "Unit", hints: Mapping[str, Any] | None = None) -> list[Cand]:
    """Every candidate scheme on this unit (see the module docstring and
    :mod:`invariants.modelcheck.schemes`), schemes resolving to the same law merged into one candidate
    (its label is the first name, in the order of :data:`~invariants.modelcheck.schemes.FAN_SCHEMES`, then
    ``/`` and any other plainly named scheme that coincides on these fans: ``lecun_uniform/glorot_uniform``
    on square fans; the ``(fan_out)``/``(fan_avg)`` variants of one scheme stay unnamed)."""
    emb = isinstance(u.layer, Embedding)
    fan_rows = FAN_SCHEMES + (EMBEDDING_SCHEMES if emb else ())
    out: dict[Law, Cand] = {}
    for tag, suffix, (fi, fo) in fan_sets(u):
        for sch in fan_rows:
            law = _scheme_law(sch, int(fi), int(fo))
            c = out.get(law)
            if c is None:
                out[law] = Cand(sch.name + suffix, law, [(sch, tag)])
            else:
                if c.schemes[0][1] == tag and "(" not in sch.name and sch.name not in c.label.split("/"):
                    # another named scheme coincides on these fans (LeCun = Glorot when fan_in = fan_out):
                    # name both, so a layer's match never reads as the other framework convention's miss
                    c.label = c.label[:len(c.label) - len(suffix)] + "/" + sch.name + suffix
                c.schemes.append((sch, tag))
    for sch in tuple(fixed_schemes(hints)) + (EMBEDDING_FIXED if emb else ()):
        law = _scheme_law(sch, 1, 1)
        c = out.get(law)
        if c is None:
            out[law] = Cand(sch.name, law, [(sch, "fixed")])
        else:
            c.schemes.append((sch, "fixed"))
    return list(out.values())


def candidates(u: "Unit", hints: Mapping[str, Any] | None = None) -> list[tuple[str, Law]]:
    """``(label, law)`` for every candidate scheme on this unit (:func:`candidate_laws`)."""
    return [(c.label, c.law) for c in candidate_laws(u, hints)]


def _orthogonal(u: Unit) -> tuple[str, float] | None:
    if u.values.ndim < 2:
        return None
    if not may_be_orthogonal(u.param.layout.out_matrix(u.values)):  # the cheap half of the same test
        return None
    err, g, tol = orthogonality_error(u.param.layout.out_matrix(u.values))
    return (f"orthogonal(gain={g:.4g})", g) if err <= tol else None


def _identity_like(u: Unit, node: Node | None) -> str | None:
    """``"identity/dirac x g"`` when every output unit has at most one nonzero incoming weight, all equal."""
    if node is None or u.label != node.weight.name or u.values.shape != node.weight.value.shape:
        return None
    try:
        rows = node.incoming()
    except ValueError:
        return None
    v = identity_structure(rows)
    if v is None:
        return None
    return f"identity/dirac x {v:.4g} ({np.count_nonzero(np.any(rows != 0, axis=1))} of {rows.shape[0]} units)"


@dataclass
class Match:
    """What :func:`match` found for one unit.

    Attributes:
        row: the tensor table's row.
        matched: display names of the matches (closest variance first; orthogonal/identity first).
        closest: ``(label, law)`` of the closest candidate when nothing matched.
        schemes: ``(scheme, fan-set tag)`` of every named scheme whose law matched (aliases included), for
            the peer comparison (:mod:`invariants.modelcheck.peers`).
        zero_rows: indices of all-zero rows of an embedding table left out of the match (padding rows).
        orthogonal_gain: the gain ``g`` of an orthogonal match whose smaller matrix side is at least 2 (a
            single row or column is orthogonal at any scale, so its match says nothing), else ``None``.
        identity: whether the identity/Dirac pattern matched.
    """

    row: TensorRow
    matched: list[str]
    closest: tuple[str, Law] | None
    schemes: list[tuple[Scheme, str]] = field(default_factory=list)
    zero_rows: tuple[int, ...] = ()
    orthogonal_gain: float | None = None
    identity: bool = False


@lru_cache(maxsize=64)
def _battery_len(kind: str, bounded: bool, law: Law) -> int:
    return len(battery(law, groups=(LAW,)))


def checks_per_unit(u: Unit, hints: Mapping[str, Any] | None = None) -> int:
    """An upper bound on the law checks :func:`match` runs on ``u``: at most :data:`MAX_TESTS` candidates
    get their battery, each of at most the longest candidate battery's length."""
    cands = candidate_laws(u, hints)
    longest = max((_battery_len(c.law.kind, c.law.bounded, c.law) for c in cands), default=0)
    return min(MAX_TESTS, len(cands)) * longest


def model_budget(us: Iterable[Unit], total_alpha: float, hints: Mapping[str, Any] | None = None,
                 extra: int = 0) -> AlphaBudget:
    """The false-alarm budget of the variance matches, ``per_check = total_alpha / m``, no cap, ``m`` the
    checks actually run at most (:func:`checks_per_unit`): a larger candidate set does not lower ``alpha``.
    ``extra``: further checks run at the same alpha (the expectations, :mod:`invariants.modelcheck.expect`).
    Each unit counts one check more: the mean test a tensor that matched no scheme gets
    (:func:`invariants.modelcheck.mean_offset.nonzero_mean`)."""
    return family_budget(total_alpha, [range(checks_per_unit(u, hints) + 1) for u in us] + [range(extra)], cap=None)


def passes(law: Law, values: np.ndarray, alpha: float, power: float, bits: int | None = None) -> bool:
    """Whether one tensor (a single draw) passes every law check of ``law`` at ``alpha``
    (:func:`invariants.stats.battery.battery`, group ``law``).  ``values``: at most ``Profile.max_values``
    of them (a unit's sample); bfloat16 values are widened exactly to a float32 copy of the sample
    (:func:`~invariants.frameworks.dtypes.widen`), the values a float32 reader checks."""
    bits = mantissa_bits(values) if bits is None else bits
    values = widen(values)
    return battery(law, groups=(LAW,)).passes(Sample(values.ravel(), [values], bits, power), alpha)


#: an embedding table's all-zero rows are left out of its match (padding rows, e.g. HF ``padding_idx``)
#: when they are at most this share of the rows
MAX_ZERO_ROW_SHARE = 0.1


def zero_rows(u: Unit) -> tuple[int, ...]:
    """All-zero rows of an embedding table (axis 0 = the token index in torch, Keras and Flax), when at
    most :data:`MAX_ZERO_ROW_SHARE` of them; ``()`` otherwise or for other layers."""
    if not isinstance(u.layer, Embedding) or u.values.ndim != 2 or u.packed_fans is not None:
        return ()
    z = np.flatnonzero(~np.any(u.values != 0, axis=1))
    return tuple(int(i) for i in z) if 0 < z.size <= MAX_ZERO_ROW_SHARE * u.values.shape[0] else ()


@lru_cache(maxsize=4096)
def min_detectable(law: Law, n: int, alpha: float, power: float, shape: tuple[int, ...], bits: int) -> float | None:
    """:meth:`invariants.stats.battery.Battery.min_detectable_rel_error` of ``law``'s law checks, cached:
    it depends only on its arguments (a root search over CDF evaluations, ~0.1 s), and a model repeats the
    same law, size and shape in every block.

    Raises:
        ValueError, ZeroDivisionError: as the battery's (not cached).
    """
    return battery(law, groups=(LAW,)).min_detectable_rel_error(n, alpha, power, shape, bits)


def match(u: Unit, view: ModelView, alpha: float, power: float) -> Match:
    """Test ``u`` against every candidate; the row of the tensor table with the matching names.

    Usable on one tensor at a time (no probe needed: ``view`` supplies ``hints`` and, when present, the
    node for the identity pattern)."""
    zr = zero_rows(u)
    vals = np.delete(u.values, zr, axis=0) if zr else u.values
    x = vals.astype(np.float64).ravel()
    n = x.size
    bits = mantissa_bits(u.values)
    lo, hi = float(x.min()), float(x.max())
    m1, m2 = float(x.mean()), float(np.mean(x * x))
    node = next((nd for nd in view.nodes if nd.weight is u.param), None)
    matched: list[tuple[float, Cand]] = []
    scored = sorted(((abs(math.log(max(m2, 1e-300) / max(c.law.variance + c.law.mean**2, 1e-300))), i, c)
                     for i, c in enumerate(candidate_laws(u, view.hints))), key=lambda t: (t[0], t[1]))
    # one expert of stacked experts is its own dense map: its closest scheme is quoted on its own fans (or a fixed
    # std), not on the whole 3-D stack's, which torch's rule reads as (2I*H, E*H) and no library draws experts on
    own = [c for _, _, c in scored if any(tag != "packed" for _, tag in c.schemes)] \
        if expert_of(u.label) is not None else []
    best = own[0] if own else scored[0][2] if scored else None
    tested = 0
    for dist, _, c in scored:  # closest first; a few full tests bound the cost
        if len(matched) >= MAX_MATCHES or tested >= MAX_TESTS:
            break
        law = c.law
        v_c = m2 - 2 * law.mean * m1 + law.mean**2
        if not plausible(Candidate(c.label, law), v_c, lo, hi, n, bits):
            continue
        tested += 1
        if passes(law, vals, alpha, power, bits):
            matched.append((dist, c))
    zr_text = f" (without {len(zr)} zero row{'s' if len(zr) > 1 else ''}: {', '.join(map(str, zr[:5]))}" \
              f"{', ...' if len(zr) > 5 else ''})" if zr else ""
    names = [c.label + zr_text for _, c in matched]
    orth = _orthogonal(u)
    if orth:
        names.insert(0, orth[0])
    if u.packed_fans is not None and orth is None and may_be_orthogonal(u.param.layout.out_matrix(u.param.value)):
        err, g, tol = orthogonality_error(u.param.layout.out_matrix(u.param.value))
        if err <= tol:
            names.insert(0, f"orthogonal over the packed tensor (gain {g:.4g})")
    ident = _identity_like(u, node)
    if ident:
        names.insert(0, ident)
    ref = matched[0][1].law if matched else (best.law if best else None)
    mde = None
    if ref is not None and ref.kind in ("normal", "uniform", "truncated_normal"):
        try:
            mde = min_detectable(ref, n, alpha, power, tuple(vals.shape), bits)
        except (ValueError, ZeroDivisionError):
            mde = None
    closest = None if names or best is None else (best.label, best.law)
    row = TensorRow(u.label, u.param.role, u.layer.describe() if u.layer else None, tuple(u.values.shape), u.fans, n,
                    m1, float(x.var()), names,
                    None if closest is None else f"{closest[0]}, variance ratio {m2 / closest[1].variance:.3g}"
                    if closest[1].variance else None, mde)
    side = min(u.param.layout.out_matrix(u.values).shape) if orth else 0
    return Match(row, names, closest, [sc for _, c in matched for sc in c.schemes], zr,
                 orth[1] if orth and side >= 2 else None, ident is not None)


def constant_row(p: Param) -> TensorRow:
    fans = p.layer.textbook_fans() if p.layer is not None else None
    first = float(p.value.flat[0])  # a constant tensor: one value says it all (no float64 copy of the tensor)
    return TensorRow(p.name, p.role, p.layer.describe() if p.layer else None, p.shape, fans, p.size, first, 0.0,
                     constant=True)


def variance_findings(view: ModelView, results: list[tuple[Unit, Match]], alpha: float, power: float,
                      total_alpha: float) -> list[Finding]:
    """Extreme values (:mod:`invariants.modelcheck.extremes`), tensors deviating from their peers' scheme
    (:mod:`invariants.modelcheck.peers`), notes for tensors matching no scheme, and the cross-layer finding.

    A tensor with extreme values is explained by them: it is left out of the notes and the cross-layer fit."""
    from invariants.modelcheck.block_roles import above_depth_scaled, shared_scale_outliers
    from invariants.modelcheck.checks import moe_router
    from invariants.modelcheck.expert_scale import experts_below_block
    from invariants.modelcheck.extremes import extreme_findings
    from invariants.modelcheck.magnitude import scaled_magnitude
    from invariants.modelcheck.peers import depth_scaled, peer_findings, peer_scale_findings, view_facts

    out: list[Finding] = extreme_findings([u for u, _ in results], total_alpha)
    explained = {lab for f in out for lab in f.params}
    invariant = {n.weight.name for n in view.nodes if n.scale_invariant}
    depth = depth_scaled([(u, m) for u, m in results if u.label not in explained], view.hints, invariant)
    out += depth
    explained |= {lab for f in depth for lab in (f.params if f.kind == "variance" else f.params[:1])}
    peer = peer_findings([(u, m) for u, m in results if u.label not in explained], alpha, power)
    out += peer
    explained |= {lab for f in peer if f.severity == ERROR for lab in f.params[:1]}
    facts = view_facts(view)
    scale = peer_scale_findings([(u, m) for u, m in results if u.label not in explained], alpha, power, facts)
    out += scale
    explained |= {f.params[0] for f in scale if f.severity == ERROR}
    # a role far above its own block's other roles (o_proj at 10x among Llama's normal(0.02) projections), or
    # above every scheme where the block's residual branches are depth-scaled (CLIP's fc2 at 10x)
    deep = {lab for f in depth if f.kind == "variance" for lab in f.params}
    labels = [u.label for u, _ in results]
    # a mixture-of-experts router has its own role (a routing temperature, HF SwitchTransformers normal(0, 1)):
    # neither judged against its block's projections nor pooled into one rule with them
    routers = {lab for lab in labels if moe_router(lab, labels)}
    roles = shared_scale_outliers([(u, m) for u, m in results if u.label not in explained], alpha, facts, routers)
    explained |= {f.params[0] for f in roles if f.severity == ERROR}
    roles += above_depth_scaled([(u, m) for u, m in results if u.label not in explained or u.label in deep], deep,
                                view.hints, facts, routers)
    out += roles
    explained |= {f.params[0] for f in roles if f.severity == ERROR}
    # every expert of a block far below the rule its other layers share (the downward case decided on evidence)
    below = experts_below_block([(u, m) for u, m in results if u.label not in explained], alpha, routers)
    out += below
    explained |= {lab for f in below for lab in f.figures["experts"]}
    # a weight-normed layer whose magnitude g was multiplied after the wrap (g/||v|| one constant > 1)
    mags = scaled_magnitude([(u, m) for u, m in results if u.label not in explained], view.hints)
    out += mags
    explained |= {f.params[0] for f in mags}
    sq = squared_std_finding([u for u, m in results if not m.matched and u.label not in explained], alpha, power,
                             view)
    if sq is not None:
        out.append(sq)
        explained |= set(sq.params)
    unmatched = [(u, m) for u, m in results if not m.matched and u.label not in explained]
    cross_units = [u for u, _ in unmatched if u.layer is not None and not isinstance(u.layer, (Embedding, Packed))
                   and u.packed_fans is None and u.values.size >= MIN_CROSS_N and u.label not in routers]
    cross = cross_layer(cross_units, alpha, power, total_alpha, view) if len(cross_units) >= 2 else None
    covered = {u.label for u in cross_units} if cross is not None and cross.severity == ERROR else set()
    for u, m in unmatched:
        if u.label in covered:
            continue
        r = m.row
        det = f"; {r.n} values detect a variance error of {100 * r.detectable_rel_error:.2g}%" \
            if r.detectable_rel_error else ""
        # a fixed table, not a draw: say what it is (read whole: a large tensor's sample is strided and flattened);
        # its scale against the schemes says nothing then, so it is not computed
        table = sinusoid_table(np.asarray(u.param.value) if u.label == u.param.name else u.values)
        # values around a shared nonzero mean (keras-hub T5's TruncatedNormal(1.0)): said for what they are, not read
        # as a variance against schemes that all draw around 0 (a fixed table's cos columns are no draw: not asked)
        off = None if table else nonzero_mean(u, r, m.closest[1].mean if m.closest else 0.0, alpha, power)
        if off is not None:
            out.append(off)
            continue
        if table:
            far = (" It is a fixed sinusoidal position table (every column sin(ω·p + φ) of the position p, as "
                   "Whisper's sinusoids(...) in transformers modeling_whisper.py), not a random draw: no variance "
                   "scheme applies, and this is no init fault.", {"sinusoid_table": True})
        else:
            far = far_above_every_scheme(u, view)
        out.append(Finding(
            NOTE, "variance", (u.label,),
            f"{u.label} ({r.layer}, fans {r.fans}) has variance {r.variance:.4g}"
            + (f" (Var*fan_in = {r.variance * r.fans[0]:.4g})" if r.fans else "")
            + f" and matches none of the named schemes; closest: {r.closest}{det}."
            + (" It is a mixture-of-experts router: its scale sets the initial routing temperature (libraries draw "
               "it on its own rule, e.g. HF SwitchTransformers normal(0, factor·1)), so it is judged on its own, not "
               "pooled with the projections." if u.label in routers else "") + far[0],
            {"variance": r.variance, "gain": r.gain, "fans": list(r.fans) if r.fans else None, "n": r.n,
             "closest": r.closest, **far[1]}))
    if cross is not None:
        out.append(cross)
    return out


def _kurtosis(m2: float, squares: np.ndarray) -> float:
    """``E[x^4] / E[x^2]^2`` clipped to ``[1.5, 10]`` from ``m2 = mean(x*x)`` and ``squares = x*x``.

    ``E[x^4]`` is ``mean(squares * squares)``: numpy's ``x**4`` (a float64 ``pow`` per element) cost ~20x
    a multiply (1.15 of tv_resnet50's 2.66 s check).  For float32-or-narrower weights ``x*x`` is exact in
    float64, so ``squares * squares`` is ``x^4`` rounded once; it differs from ``x**4`` in the last bit
    of 41 of the zoo's 5,774 tensors' ``E[x^4]``, with check-model's text and JSON unchanged on the 25 zoo
    targets holding such a tensor."""
    m4 = float(np.mean(squares * squares))
    return min(max(m4 / (m2 * m2) if m2 > 0 else 3.0, 1.5), 10.0)


def _fan(mode: str, fi: int, fo: int) -> float:
    return VarianceScaling(1.0, mode, "normal").fan(fi, fo)  # type: ignore[arg-type]


def _squared_std_law(spec: VarianceScaling, fi: int, fo: int) -> Law:
    """``spec``'s distribution with its std σ replaced by σ² (variance σ⁴)."""
    v = spec.variance(fi, fo)  # σ²; the squared-std law has std σ² = v
    if spec.distribution == "uniform":
        b = math.sqrt(3.0) * v
        return Law.uniform(-b, b)
    if spec.distribution == "normal":
        return Law.normal(0.0, v)
    scale = v / TRUNCATED_NORMAL_STD if spec.corrected else v
    return Law.truncated_normal(0.0, scale, -2 * scale, 2 * scale)


#: a lone layer this many times above every base scheme for its fans (a 10x std) gets the probe's reading in its note
FAR_ABOVE = 100.0


def far_above_every_scheme(u: Unit, view: ModelView) -> tuple[str, dict[str, float]]:
    """``(sentence, figures)`` for the note of an unmatched layer whose ``E[w²]`` is more than :data:`FAR_ABOVE`
    times every base scheme for its fans (:func:`invariants.modelcheck.peers.reference_variances`: LeCun, He,
    Glorot, torch's default on either fan, every plausible std), with the probe's measured
    :func:`~invariants.modelcheck.peers.effective_second_moment`; ``("", {})`` otherwise.

    It stays a note (the rule, decided on evidence): a layer with no peer (no sibling, no chain, no block
    roles) has nothing to say its scale is not deliberate, and correct code draws lone layers this far above
    every scheme on purpose -- random Fourier features (Tancik et al. 2020, Sec. 4: ``B ~ N(0, σ²)``, σ up to
    tens, as a frozen ``nn.Linear`` before ``sin``/``cos``), whose probe gain is as large as a typo's.  The
    probe cannot tell the two apart (both act at the stored scale); the note gives the figures so a reader
    can."""
    from invariants.modelcheck.peers import effective_second_moment, reference_variances

    if not u.fans or u.layer is None:
        return "", {}
    v = u.second_moment
    name, top = max(reference_variances(*u.fans, view.hints), key=lambda t: t[1])
    if not v > FAR_ABOVE * top:
        return "", {}
    eff = effective_second_moment(view, u.param.name)
    seen = (f" The probe measures it acting at {eff / top:.3g}x that scheme (output over input): the stored scale "
            "is the one the network uses." if eff is not None else " No probe measured it.")
    return (f" It is {v / top:.3g}x the largest base scheme for its fans ({name}), beyond {FAR_ABOVE:g}x (std "
            f"{math.sqrt(v / top):.3g}x).{seen} With no sibling, chain or block role to compare it with, it stays a "
            "note: random Fourier features (Tancik et al. 2020) draw a lone layer this far above every scheme on "
            "purpose; elsewhere (an encoder-decoder bridge, say) it is most likely a typo.",
            {"above_every_scheme": v / top} | ({} if eff is None else {"effective_above_every_scheme": eff / top}))


#: a shared fixed std is implausible when even the widest layer keeps less than this share of the signal's
#: variance (``Var·fan_in``; 1 preserves it, He's 2 compensates ReLU)
MAX_FIXED_GAIN = 1e-2
#: at most this share of the tensors (and at least 1) may be set aside as outliers by the robust fit
OUTLIER_SHARE = 0.1


def _fit(m2: np.ndarray, se: np.ndarray, fans: list[tuple[int, int]], mode: str, keep: np.ndarray
         ) -> tuple[float, float, float, np.ndarray]:
    """``(p, scale, spread, z)``: homogeneity of ``log(E[w²]·fan)`` over ``keep`` (chi-square), the
    weighted mean scale, the max/min ratio, and every tensor's standardized residual."""
    s = np.log(m2 * (np.array([_fan(mode, fi, fo) for fi, fo in fans]) if mode != "fixed" else 1.0))
    w = 1.0 / se**2
    mu = float(np.sum(w[keep] * s[keep]) / np.sum(w[keep]))
    q = float(np.sum(w[keep] * (s[keep] - mu) ** 2))
    p = float(stats.chi2.sf(q, int(keep.sum()) - 1)) if keep.sum() >= 2 else 1.0
    return p, math.exp(mu), float(np.exp(s[keep].max() - s[keep].min())), (s - mu) / se


def _robust(m2: np.ndarray, se: np.ndarray, fans: list[tuple[int, int]], modes: tuple[str, ...], k_max: int,
            alpha_h: float) -> tuple[str, np.ndarray, float, float] | None:
    """The fan mode that fits every tensor but the fewest (at most ``k_max``) outliers, each dropped in turn
    as the largest standardized residual: ``(mode, keep mask, p, scale)``, or ``None``."""
    best = None
    for mode in modes:
        keep = np.ones(len(m2), dtype=bool)
        for drops in range(k_max + 1):
            p, scale, _, z = _fit(m2, se, fans, mode, keep)
            if p > alpha_h:
                if best is None or drops < best[0] or (drops == best[0] and p > best[3]):
                    best = (drops, mode, keep.copy(), p, scale)
                break
            if keep.sum() <= 3:
                break
            keep[int(np.argmax(np.where(keep, np.abs(z), -np.inf)))] = False
    return None if best is None else (best[1], best[2], best[3], best[4])


def _fixed_std_finding(us: list[Unit], m2: np.ndarray, scale: float, p: float, hints: Any,
                       view: ModelView | None = None) -> Finding | None:
    """An error when tensors share one fixed std that is no plausible σ and shrinks every layer's signal
    (``max Var·fan_in < MAX_FIXED_GAIN``); ``None`` otherwise, and when every one of them feeds a
    normalization (``Node.scale_invariant``: the scale does not change the function)."""
    gains = np.array([v * u.fans[0] for u, v in zip(us, m2)])  # type: ignore[index]
    if gains.max() >= MAX_FIXED_GAIN:
        return None
    inv = _scale_invariant_labels(view)
    if all(u.param.name in inv for u in us):
        return None
    sigma = math.sqrt(scale)
    amp = _runtime_note(us, gains, view, "implausible-fixed-std")
    if amp is not None:
        return amp
    stds = plausible_stds(hints)
    sq = next(((s, src) for s, src in stds if abs(math.log(sigma / (s * s))) < math.log(1.1)), None)
    sq_text = (f" sigma = {sq[0]:.4g}^2 = {sq[0] ** 2:.3g}: the std was squared (the plausible std "
               f"{sq[0]:.4g} is {sq[1]})." if sq else "")
    table = "; ".join(f"{u.label}: E[w^2] {v:.3g}, Var*fan_in {g:.3g}" for u, v, g in zip(us, m2, gains))
    return Finding(
        ERROR, "implausible-fixed-std", tuple(u.label for u in us),
        f"{len(us)} tensors share one fixed std sigma = {sigma:.3g} (homogeneity p = {p:.3g}) that is no plausible "
        f"init std (plausible: {', '.join(f'{s:.4g}' for s, _ in stds)}) and shrinks every layer's signal: "
        f"Var*fan_in <= {gains.max():.3g} (< {MAX_FIXED_GAIN:g}, 1 preserves the variance).{sq_text} Per layer: "
        f"{table}.",
        {"tensors": [u.label for u in us], "sigma": sigma, "max_gain": float(gains.max()),
         "plausible_stds": [s for s, _ in stds], "squared_of": sq[0] if sq else None, "p": p})


#: effective gains (``Var·fan_in`` times the probe's amplification) within this factor of each other are one
#: scale for :func:`_runtime_note` (the peer-scale bound: a 10x typo in std is 100x in variance)
RUNTIME_SPREAD = 10.0


def _runtime_note(us: list[Unit], gains: np.ndarray, view: ModelView | None, kind: str) -> Finding | None:
    """A note of ``kind`` instead of that error when the probe sees the layers' outputs amplified before the next
    layer in both directions (:func:`~invariants.modelcheck.signal.output_amplification`: a runtime multiplier
    such as SIREN's ``sin(ω0·Wx)``, ω0 = 30, Sitzmann et al. 2020, Sec. 3.2, or a normalization) enough to
    refute the error's claim, with the effective gains ``Var·fan_in·min(F, B)`` (``F, B`` 1 where the probe saw
    no amplification); ``None`` otherwise (no probe, or the claim stands).

    - ``implausible-fixed-std`` (layers sharing one small std shrink the signal): every layer amplified and
      every effective gain at least :data:`MAX_FIXED_GAIN`;
    - ``inconsistent-scale`` (no one rule explains the layers' scales: SIREN's hidden layers store
      ``U(±sqrt(6/fan_in)/ω0)`` beside a first layer at ``U(±1/fan_in)``): some layer amplified and the effective
      gains within :data:`RUNTIME_SPREAD` of each other (the stored scales differ, the ones used do not)."""
    from invariants.modelcheck.signal import output_amplification

    amps = output_amplification(view) if view is not None else {}
    got = [amps.get(u.param.name) for u in us]
    eff = np.array([g * (min(a) if a is not None else 1.0) for g, a in zip(gains, got)])
    if kind == "implausible-fixed-std":
        if any(a is None for a in got) or eff.min() < MAX_FIXED_GAIN:
            return None
        claim = (f"{len(us)} tensors share one small fixed std (Var*fan_in <= {gains.max():.3g}), but the probe sees "
                 "each layer's output amplified before the next layer, forward and backward alike (a runtime "
                 "multiplier such as SIREN's omega_0 = 30, or a normalization): the network uses an effective "
                 f"Var*fan_in of about {eff.min():.3g} or more, so the stored scale does not shrink the signal (a note, "
                 "not an error)")
        fig = {"max_gain": float(gains.max()), "effective_gain_min": float(eff.min())}
    else:
        if all(a is None for a in got) or not eff.min() > 0 or eff.max() / eff.min() > RUNTIME_SPREAD:
            return None
        claim = (f"no variance-scaling rule explains these {len(us)} tensors' stored scales together (Var*fan_in "
                 f"{gains.min():.3g} to {gains.max():.3g}), but the probe sees the smaller ones' outputs amplified "
                 "before the next layer, forward and backward alike (a runtime multiplier such as SIREN's omega_0 = "
                 f"30 in sin(omega_0*Wx), or a normalization): the effective Var*fan_in lie within "
                 f"{eff.max() / eff.min():.3g}x of each other ({eff.min():.3g} to {eff.max():.3g}, bound "
                 f"{RUNTIME_SPREAD:g}x), so the stored scales change the effective learning rates, not the function at "
                 "init (a note, not an error)")
        fig = {"gains": gains.tolist(), "effective_gains": eff.tolist()}
    table = "; ".join(f"{u.label}: Var*fan_in {g:.3g}" + (f", output amplified x{a[0]:.3g} forward, x{a[1]:.3g} "
                                                         "backward" if a is not None else "")
                      for u, g, a in zip(us, gains, got))
    return Finding(NOTE, kind, tuple(u.label for u in us), f"{claim}. Per layer: {table}.",
                   {"tensors": [u.label for u in us], **fig,
                    "amplification": {u.label: list(a) for u, a in zip(us, got) if a is not None}})


def second_moments(us: list[Unit]) -> tuple[np.ndarray, np.ndarray]:
    """``(m2, se)``, one entry per unit: ``E[w²]`` in float64 and the standard error of ``log E[w²]``,
    ``sqrt((κ − 1)/n)`` (delta method, ``κ`` the kurtosis clipped to [1.5, 10]; the module docstring's
    ``se_l``)."""
    xs = [u.values.astype(np.float64).ravel() for u in us]
    m2 = np.empty(len(xs))
    kap = np.empty(len(xs))
    for i, x in enumerate(xs):
        squares = x * x  # one tensor's squares at a time (memory), shared by E[w²] and the kurtosis
        m2[i] = float(np.mean(squares))
        kap[i] = _kurtosis(float(m2[i]), squares)
    ns = np.array([x.size for x in xs], dtype=np.float64)
    return m2, np.sqrt((kap - 1.0) / ns)


def rule_fit(us: list[Unit], reading: str, moments: tuple[np.ndarray, np.ndarray] | None = None
             ) -> tuple[float, float]:
    """``(p, scale)``: the chi-square homogeneity p-value of ``log(E[w²]·fan)`` over ``us`` (module docstring) and
    the shared scale, for ``reading`` ``"fixed"`` (``E[w²]`` itself), ``"fan_in"`` or ``"fan_out"``; ``(1, scale)``
    for one tensor.  ``moments``: :func:`second_moments` of ``us`` when the caller has them (a block's roles are
    fitted once per member and reading)."""
    m2, se = second_moments(us) if moments is None else moments
    p, scale, _, _ = _fit(m2, se, [u.fans for u in us], reading, np.ones(len(us), dtype=bool))  # type: ignore[misc]
    return p, scale


def fixed_variance_p(us: list[Unit]) -> float:
    """p-value that every tensor of ``us`` has the same second moment (one fixed std, whatever its fans):
    the chi-square homogeneity test of ``log E[w²]`` of the module docstring; 1 for fewer than 2 tensors."""
    m2, se = second_moments(us)
    return _fit(m2, se, [u.fans for u in us], "fixed", np.ones(len(us), dtype=bool))[0]


def cross_layer(us: list[Unit], alpha: float, power: float, total_alpha: float, view: ModelView | None = None
                ) -> Finding:
    """Fingerprint tensors that matched no scheme together (see the module docstring).

    Robust to a few outlying tensors: when no rule fits every tensor, each fan mode is refitted without its
    worst tensor, up to ``max(1, OUTLIER_SHARE·m)`` of them (Bonferroni over every fit tried); the outliers
    are then named first, with what each matches, and the finding is a note.  Tensors of scale-invariant
    layers (``Node.scale_invariant``: followed by a norm) never make the error on their own.  A shared fixed
    std below every plausible one is an ``implausible-fixed-std`` error (:func:`_fixed_std_finding`)."""
    m2, se = second_moments(us)
    fans = [u.fans for u in us]
    hints = view.hints if view is not None else {}
    hypotheses = MODES + ("fixed",)  # each fan mode, and a fixed variance
    k_max = max(1, int(OUTLIER_SHARE * len(us))) if len(us) >= 4 else 0
    alpha_h = bonferroni(total_alpha, len(hypotheses) * (k_max + 1))
    everyone = np.ones(len(us), dtype=bool)
    fits = {}
    for mode in hypotheses:
        p, scale, spread, _ = _fit(m2, se, fans, mode, everyone)  # type: ignore[arg-type]
        fits[mode] = (p, scale, spread)
    consistent = [m for m in fits if fits[m][0] > alpha_h]
    fi_arr = np.array([f[0] for f in fans], dtype=np.float64)
    gamma = None
    if len(set(fi_arr.tolist())) >= 2:
        w = 1.0 / se**2
        lx, ly = np.log(fi_arr), np.log(m2)
        xm, ym = np.sum(w * lx) / np.sum(w), np.sum(w * ly) / np.sum(w)
        slope = float(np.sum(w * (lx - xm) * (ly - ym)) / np.sum(w * (lx - xm) ** 2))
        gamma = -slope
    table = "; ".join(f"{u.label}: fans {u.fans}, E[w^2] {v:.4g}, E[w^2]*fan_in {v * u.fans[0]:.4g}"
                      for u, v in zip(us, m2))
    fig = {"tensors": [u.label for u in us], "second_moments": m2.tolist(), "fans": [list(f) for f in fans],
           "mode_p_values": {k: v[0] for k, v in fits.items()}, "fan_in_exponent": gamma}
    if consistent:
        if "fixed" in consistent:  # one shared std explains them (with equal fans a fan rule may too)
            bad = _fixed_std_finding(us, m2, fits["fixed"][1], fits["fixed"][0], hints, view)
            if bad is not None:
                return bad
        mode = consistent[0]
        p, scale, spread = fits[mode]
        rule = f"E[w^2] = {scale:.4g}" + ("" if mode == "fixed" else f"/{mode}")
        return Finding(NOTE, "variance", tuple(u.label for u in us),
                       f"{len(us)} tensors match no named scheme but share one rule, {rule} (homogeneity p = {p:.3g}); "
                       f"a custom but consistent scale: {table}.", fig)
    robust = _robust(m2, se, fans, hypotheses, k_max, alpha_h) if k_max else None  # type: ignore[arg-type]
    if robust is not None:
        mode, keep, p, scale = robust
        core = [u for u, k in zip(us, keep) if k]
        if mode == "fixed":
            bad = _fixed_std_finding(core, m2[keep], scale, p, hints, view)
            if bad is not None:
                return bad
        rule = f"E[w^2] = {scale:.4g}" + ("" if mode == "fixed" else f"/{mode}")
        outl = [(u, v) for u, v, k in zip(us, m2, keep) if not k]
        o_text = "; ".join(
            f"{u.label} (fans {u.fans}): E[w^2] {v:.4g} = {v * (_fan(mode, *u.fans) if mode != 'fixed' else 1) / scale:.3g}x "  # type: ignore[misc]
            "the rule, matches no named scheme" for u, v in outl)
        fig.update({"outliers": [u.label for u, _ in outl], "rule_mode": mode, "rule_scale": scale})
        return Finding(NOTE, "variance", tuple(u.label for u, _ in outl) + tuple(u.label for u in core),
                       f"{len(outl)} outlying tensor{'s' if len(outl) > 1 else ''} ({o_text}) differ from the "
                       f"rule the other {len(core)} unmatched tensors share, {rule} (homogeneity p = {p:.3g} "
                       f"without the outliers): a consistent custom scale with a few differently drawn layers "
                       f"(output layers, embeddings). Per layer: {table}.", fig)
    inv = _scale_invariant_labels(view)
    variant = [i for i, u in enumerate(us) if u.param.name not in inv]
    if len(variant) < len(us) and (len(variant) < 2 or any(
            _fit(m2, se, fans, mode, np.isin(np.arange(len(us)), variant))[0] > alpha_h  # type: ignore[arg-type]
            for mode in hypotheses)):
        fig["scale_invariant"] = sorted(inv & {u.param.name for u in us})
        return Finding(NOTE, "inconsistent-scale", tuple(u.label for u in us),
                       f"no variance-scaling rule explains these {len(us)} tensors together, but the ones that differ "
                       f"feed a normalization (BatchNorm/LayerNorm), so their scale changes only the effective "
                       f"learning rate, not the network function. Per layer: {table}.", fig)
    runtime = _runtime_note(us, np.array([v * u.fans[0] for u, v in zip(us, m2)]), view,  # type: ignore[index]
                            "inconsistent-scale")
    if runtime is not None:
        return runtime
    squared = None
    for sch in FAN_SCHEMES:
        ok = True
        for u in us:
            law = _squared_std_law(sch.spec, *u.fans)  # type: ignore[misc]
            if not passes(law, u.values, alpha, power, mantissa_bits(u.values)):
                ok = False
                break
        if ok:
            squared = sch.name
            break
    g_text = f"; E[w^2] goes like fan_in^-{gamma:.3g} (every fan-in rule gives exponent 1)" if gamma is not None else ""
    sq_text = (f" Every one of them passes the checks for {squared} with the std squared (std^2 instead of std, "
               "variance std^4): an initializer that is right only where std = 1.") if squared else ""
    fig["squared_std_of"] = squared
    worst = min(fits.values(), key=lambda t: t[2])
    return Finding(
        ERROR, "inconsistent-scale", tuple(u.label for u in us),
        f"no variance-scaling rule explains these {len(us)} tensors together: the implied scale E[w^2]*fan differs "
        f"between layers under every fan mode (best: a {worst[2]:.3g}x spread, homogeneity p < {alpha_h:.2g}){g_text}."
        f"{sq_text} Per layer: {table}.", fig)


def squared_std_finding(us: list[Unit], alpha: float, power: float, view: ModelView | None = None) -> Finding | None:
    """``implausible-fixed-std`` for unmatched tensors (packed blocks included) drawn at the *square* of a
    plausible fixed std (``normal(σ²)`` passes every law check at ``alpha`` for a plausible σ, and
    ``Var·fan_in < MAX_FIXED_GAIN``): the "0.02² typo", also where the model mixes several plausible stds
    (GPT-2's 0.02 and 0.02/sqrt(2·n_layer)).  At least two tensors, not all feeding a norm; else ``None``."""
    stds = plausible_stds(view.hints if view is not None else {})
    inv = _scale_invariant_labels(view)
    hit: list[tuple[Unit, float, float]] = []
    for u in us:
        if not u.fans or u.values.size < MIN_CROSS_N:
            continue
        v = float(np.mean(u.values.astype(np.float64) ** 2))
        if v * u.fans[0] >= MAX_FIXED_GAIN:
            continue
        s = next((s for s, _ in stds if abs(math.log(v) - 4 * math.log(s)) < 1.0
                  and passes(Law.normal(0.0, s * s), u.values, alpha, power)), None)
        if s is not None:
            hit.append((u, s, v))
    if len(hit) < 2 or all(u.param.name in inv for u, _, _ in hit):
        return None
    table = "; ".join(f"{u.label}: std {math.sqrt(v):.3g} = {s:.4g}^2, Var*fan_in {v * u.fans[0]:.3g}"  # type: ignore[index]
                      for u, s, v in hit)
    return Finding(
        ERROR, "implausible-fixed-std", tuple(u.label for u, _, _ in hit),
        f"{len(hit)} tensors are drawn with the square of a plausible init std (normal(std=sigma^2) passes every "
        f"check at alpha = {alpha:.2g}; plausible sigma: {', '.join(f'{s:.4g}' for s, _ in stds)}): the std was "
        f"squared, and every layer shrinks the signal's variance by Var*fan_in < {MAX_FIXED_GAIN:g}. Per tensor: "
        f"{table}.",
        {"tensors": [u.label for u, _, _ in hit], "squared_of": sorted({s for _, s, _ in hit}),
         "max_gain": max(v * u.fans[0] for u, _, v in hit), "alpha": alpha})  # type: ignore[index]


def _scale_invariant_labels(view: ModelView | None) -> set[str]:
    """Names of weights whose layer feeds a normalization (``Node.scale_invariant is True``)."""
    if view is None:
        return set()
    return {nd.weight.name for nd in view.nodes if nd.scale_invariant is True}


__all__ = ["Cand", "FAR_ABOVE", "MAX_FIXED_GAIN", "Match", "RUNTIME_SPREAD", "Unit", "candidate_laws", "candidates",
           "checks_per_unit", "constant_row", "cross_layer", "fan_sets", "far_above_every_scheme", "passes", "rule_fit",
           "second_moments", "squared_std_finding", "zero_rows",
           "match", "model_budget", "units", "variance_findings"]
