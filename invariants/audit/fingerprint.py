"""Fingerprinting: infer an unknown initializer's family, fan mode and scale constant.

The initializer is sampled on several layers whose fans differ (``fan_in != fan_out``, receptive field
> 1, and fan ratios chosen so that the four modes predict different variance ratios across layers —
square shapes cannot tell the modes apart).  For every candidate

    mode in {fan_in, fan_out, fan_avg, fan_geo_avg, none (a fixed law)} x
    distribution in {normal, uniform, truncated normal at +-2 std}

the scale constant is estimated from the pooled variances (``scale = Var * n(mode)``), snapped to a
known constant (1, 2, 1/3, gain^2 of common nonlinearities, times 0.7737 for an uncorrected truncated
normal) when the estimate is within 6 standard errors of it, and the resulting spec is tested with the
auditor's checks on every layer.  The best-supported spec is the first that passes all checks, in the
order: named specs, snapped constants, estimated constants; if none passes, the one with the largest
smallest p-value is reported as the closest, marked as not matching.

Constant tensors, and structured ones (:func:`structured_specs`: ``eye``, ``dirac`` with its groups, ``sparse``
with its zero count per row or column), are recognised by their exact pattern first, before orthogonal
candidates: an identity matrix is orthogonal too, but it is the same tensor at every seed.

Every check runs at ``alpha = min(alpha_cap, total_alpha / m)`` (Bonferroni), ``m`` the law checks the
candidates may run on all layers together (:func:`candidate_batteries`, sized by
:func:`invariants.stats.battery.battery`): a spec the initializer follows is reported as not matching
with probability at most ``total_alpha``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from invariants.frameworks.base import Framework
from invariants.frameworks.dtypes import parse_dtype, require_real, returned_as, widen
from invariants.frameworks.subjects import check_array, seed_sequence
from invariants.audit.auditor import RAISE_DRAWS, AuditConfig, check_size, draws_cap, law_checks, min_detectable, needed_n
from invariants.audit.resolution import Resolution, coarser, coverage_line
from invariants.audit.costs import AUDIT_LESS, identify_cost
from invariants.core.cost import Limits
from invariants.core.cost import check as check_cost
from invariants.core.errors import BadInput
from invariants.core.results import NOTE, Finding, common_fields, describe
from invariants.laws import FLATTENINGS, Law, as_matrix, flattening_name, structured_tensor
from invariants.layers import Layer, parse_layer
from invariants.specs import (
    DISTRIBUTIONS,
    KNOWN_SCALES,
    MODES,
    SPARSE_PER,
    SPEC_ALIASES,
    TRUNCATED_NORMAL_STD,
    Constant,
    Dirac,
    Eye,
    Normal,
    Orthogonal,
    Sparse,
    Spec,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
)
from invariants.stats.battery import LAW, Battery, battery, family_budget
from invariants.stats.extremes import mantissa_bits
from invariants.stats.screen import Candidate, plausible
from invariants.stats.structure import orthogonality_error

#: default layers: fans (300, 100), (144, 432), (64, 512) give four distinct variance-ratio patterns
DEFAULT_LAYERS = ("dense(300,100)", "conv2d(16,48,k=3)", "dense(64,512)")
C2 = TRUNCATED_NORMAL_STD**2
#: one law of each distribution the candidates use (only their batteries' sizes matter, for the budget)
_DISTRIBUTION_LAWS = {"normal": Law.normal(0.0, 1.0), "uniform": Law.uniform(-1.0, 1.0),
                      "truncated_normal": Law.truncated_normal(0.0, 1.0, -2.0, 2.0)}


@dataclass
class CandidateJudgement:
    """One candidate spec and how the samples judged it."""

    spec: str
    passed: bool
    min_p: float
    failed: list[str]
    scale_estimates: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "passed": self.passed, "min_p_value": self.min_p, "failed": self.failed,
                "scale_estimates": self.scale_estimates}


@dataclass
class Fingerprint:
    """Result of :func:`identify`.

    Attributes:
        spec: the best-supported spec (``None`` when nothing was testable).
        ok: whether ``spec`` passed every check on every layer (JSON key ``matched``; the common result
            vocabulary, :mod:`invariants.core.results`).
        layers: the layers sampled (text) with their textbook fans and measured variances, and ``resolution``:
            ``None``, or the :meth:`~invariants.audit.resolution.Resolution.to_dict` of a layer whose draws
            ``AuditConfig.max_draws`` capped short of ``rel_error``.
        evidence: the candidates tried, best first.
        warning: e.g. that the layers cannot tell the fan modes apart.
        config: the run's settings (:meth:`AuditConfig.to_dict`, the per-check ``alpha``, ``dtype``).
        frameworks: the framework whose calling convention was used (its version goes into the JSON).
        interrupted: the run was stopped (Ctrl-C) before a spec was found: nothing was concluded.
    """

    spec: Spec | None
    ok: bool
    layers: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[CandidateJudgement] = field(default_factory=list)
    warning: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    frameworks: tuple[str, ...] = ()
    interrupted: bool = False

    @property
    def summary(self) -> str:
        """``identified: SPEC`` (``(closest candidate)`` when no candidate passed every check)."""
        if self.interrupted:
            return "identify: interrupted before a spec was found"
        coarse = sum(d.get("resolution") is not None for d in self.layers)
        return (f"identified: {self.text}" + ("" if self.ok else " (closest candidate)")
                + (f"; {coarse} of {len(self.layers)} layers at a coarser resolution than asked" if coarse else ""))

    @property
    def coverage(self) -> str:
        """``"k of N layers audited at a coarser resolution than asked: ..."`` (each layer's ``resolution``,
        :func:`~invariants.audit.resolution.coverage_line`); ``""`` when every layer reached ``rel_error``."""
        return coverage_line([(d["layer"], Resolution(**d["resolution"])) for d in self.layers
                              if d.get("resolution") is not None], len(self.layers), "layers")

    @property
    def text(self) -> str:
        return self.spec.text() if self.spec is not None else "(unknown)"

    @property
    def findings(self) -> list[Finding]:
        """An error when no candidate passed (with the closest one's failed checks), a note for a warning."""
        out = []
        if not self.ok:
            failed = "; ".join(self.evidence[0].failed[:2]) if self.evidence else "nothing was testable"
            out.append(Finding(self.text, "no-match", f"closest candidate; no candidate passed every check ({failed})"))
        if self.warning:
            out.append(Finding(self.text, "warning", self.warning, NOTE))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON (schema ``invariants/schemas/identify.json``): the common keys
        (:func:`~invariants.core.results.common_fields`), then ``{"spec", "matched", "layers", "evidence",
        "warning"}`` (``ok`` equals ``matched``)."""
        return {**common_fields(self.ok, self.summary, self.findings, self.config, self.frameworks),
                "spec": self.text if self.spec is not None else None, "matched": self.ok,
                "layers": self.layers, "evidence": [e.to_dict() for e in self.evidence], "warning": self.warning,
                "interrupted": self.interrupted}

    def __str__(self) -> str:
        """A summary line and the findings (the table: :func:`invariants.render.render_fingerprint`)."""
        return describe(self.summary, self.findings)


def _fan(mode: str, fi: int, fo: int) -> float:
    return VarianceScaling(1.0, mode, "normal").fan(fi, fo)  # type: ignore[arg-type]


def _snap(value: float, rel_se: float) -> tuple[float, bool]:
    """The first known constant (in the order of :data:`invariants.specs.KNOWN_SCALES`, simplest
    first; each also times 0.7737) within 6 standard errors of ``value``, else ``value`` itself."""
    for _, c in KNOWN_SCALES:
        for cand in (c, c * C2):
            if abs(value / cand - 1.0) <= 6 * rel_se + 1e-9:
                return cand, True
    return value, False


def _vs_spec(scale: float, mode: str, dist: str) -> VarianceScaling:
    if dist == "truncated_normal":
        for _, c in KNOWN_SCALES:
            if math.isclose(scale, c * C2, rel_tol=1e-9):
                return VarianceScaling(c, mode, dist, corrected=False)  # type: ignore[arg-type]
    return VarianceScaling(scale, mode, dist)  # type: ignore[arg-type]


def _named(spec: Spec) -> Spec:
    for name, known in SPEC_ALIASES.items():
        if isinstance(known, VarianceScaling) and isinstance(spec, VarianceScaling):
            if (known.mode, known.distribution, known.corrected) == (spec.mode, spec.distribution, spec.corrected) \
                    and math.isclose(known.scale, spec.scale, rel_tol=1e-9):
                return known
    return spec


def identify(
    fn: Any,
    framework: str = "numpy",
    layers: Sequence[str | Layer] | None = None,
    config: AuditConfig | None = None,
    adapter: Framework | None = None,
    dtype: Any = None,
    limits: Limits | None = None,
) -> Fingerprint:
    """Fingerprint an initializer written in ``framework``'s calling convention.

    Args:
        fn: the initializer (callable, or ``"module:attr"``).
        framework: a registered framework's name (``numpy``: ``f(shape, rng) -> array``).
        layers: layers to sample (text or :class:`Layer`); default :data:`DEFAULT_LAYERS`.  Use at
            least two with different fan ratios.
        config: sample sizes and alpha (default :class:`AuditConfig`).
        adapter: a :class:`~invariants.frameworks.base.Framework` instance (overrides ``framework``).
        dtype: the dtype to draw in (:func:`invariants.audit.initializer`'s ``dtype``; the candidates are
            judged at its precision, and a draw in another dtype is a :class:`BadInitializer`).
        limits: :class:`~invariants.core.cost.Limits` on the estimated cost
            (:func:`invariants.audit.costs.identify_cost`), checked before the first draw; ``None``: the defaults.

    Raises:
        BadInitializer: ``fn`` misbehaves.
        FrameworkUnavailable, UnknownFramework: as :func:`invariants.frameworks.registry.get_framework`.
        ValueError: bad layer text, or a layer larger than ``config.max_elements``.
        ResourceLimit: the estimated cost is over ``limits``.
    """
    from invariants.frameworks.registry import get_framework

    cfg = config or AuditConfig()
    dtype = parse_dtype(dtype)
    require_real(dtype, "identify")
    ad = adapter or get_framework(framework, "initializers")
    if isinstance(fn, str):
        fn = ad.load(fn)
    lays = [parse_layer(x) if isinstance(x, str) else x for x in (layers or DEFAULT_LAYERS)]
    for lay in lays:  # the fan modes are told apart by variance ratios between layers: each needs fans and values
        if lay.textbook_fans() is None or not lay.n_values or 0 in lay.textbook_fans():
            raise BadInput(f"identify needs layers with fans and values; {lay} has "
                           + ("no textbook fans" if lay.textbook_fans() is None else "a zero size"))
    fans = [lay.textbook_fans() for lay in lays]
    warning = ""
    if all(fi == fo for fi, fo in fans):
        warning = "every layer has fan_in == fan_out: the fan modes cannot be told apart"
    elif len({round(fo / fi, 9) for fi, fo in fans}) < 2:
        warning = "all layers have the same fan_out/fan_in ratio: the fan modes cannot be told apart"
    # sample: enough values for a 1% (config) variance error of a normal law, per layer, at the per-check
    # alpha of every check the candidates may run on every layer
    alpha = family_budget(cfg.total_alpha, candidate_batteries() * len(lays), cfg.alpha_cap).per_check
    n_target = needed_n(Law.normal(0, 1), cfg, alpha)
    config = {**cfg.to_dict(), "alpha": alpha, "dtype": dtype}
    pools, draws_by_layer, capped = [], [], []
    for lay in lays:
        check_size(ad.shape(lay), cfg, lay.describe())
    check_cost(identify_cost([ad.shape(lay) for lay in lays], n_target, cfg, ad.name), limits,
               f"identify on {', '.join(lay.describe() for lay in lays)} at rel_error {cfg.rel_error:g}", AUDIT_LESS)
    for i, lay in enumerate(lays):
        shape = ad.shape(lay)
        sampler = ad.wrap(fn, shape) if dtype is None else ad.wrap(fn, shape, dtype)
        k = max(cfg.min_draws, math.ceil(n_target / int(np.prod(shape))))
        draws = [check_array(sampler(s), shape, "initializer") for s in seed_sequence(cfg.base_seed * 7919 + i, min(k, cfg.max_draws))]
        capped.append(k > cfg.max_draws)
        draws = [widen(returned_as(d, dtype)) for d in draws]
        draws_by_layer.append(draws)
        pools.append(np.concatenate([d.ravel() for d in draws]))
    info = []
    for lay, (fi, fo), pool, cap in zip(lays, fans, pools, capped):
        x = pool.astype(np.float64)
        # the resolution a normal candidate's checks reach on this layer's pool, stated when the draw cap
        # stopped it short of rel_error (the sample is sized for a normal law's variance test, above)
        res = coarser(cfg.rel_error, min_detectable(Law.normal(0, 1), int(x.size), alpha, cfg.power,
                                                    tuple(ad.shape(lay)), mantissa_bits(pool)),
                      draws_cap(cfg), RAISE_DRAWS) if cap else None
        info.append({"layer": lay.describe(), "fans": [fi, fo], "shape": list(ad.shape(lay)), "n": int(x.size),
                     "mean": float(x.mean()), "variance": float(x.var()), "min": float(x.min()), "max": float(x.max()),
                     "resolution": res.to_dict() if res is not None else None})
    cands = _candidates(lays, fans, pools, draws_by_layer, ad.layout.unit_axis)
    evidence: list[CandidateJudgement] = []
    bits = [mantissa_bits(p) for p in pools]
    quantized = dtype in ("float16", "bfloat16")
    for spec, estimates in cands:
        ok, min_p, failed = True, 1.0, []
        laws = []
        for lay, (fi, fo), pool, b in zip(lays, fans, pools, bits):
            try:
                law = spec.law(fi, fo, ad.shape(lay))
            except ValueError:
                ok, min_p = False, 0.0
                break
            laws.append(law)
            x = pool.astype(np.float64)
            v_c = float(np.mean(np.square(x - law.mean)))
            if not plausible(Candidate(spec.text(), law), v_c, float(x.min()), float(x.max()), x.size, b):
                ok, min_p = False, 0.0
                failed.append(f"{lay.describe()}: variance or range (screen)")
                break
        if not ok:
            evidence.append(CandidateJudgement(spec.text(), False, min_p, failed, estimates))
            continue
        for lay, law, pool, draws, b in zip(lays, laws, pools, draws_by_layer, bits):
            for c in law_checks(law, pool, draws, alpha, cfg.power, b, quantized):
                min_p = min(min_p, c.p_value)
                if not c.passed:
                    ok = False
                    failed.append(f"{lay.describe()}: {c.name}")
        evidence.append(CandidateJudgement(spec.text(), ok, min_p, failed[:4], estimates))
        if ok:
            return Fingerprint(spec, True, info, evidence, warning, config, (ad.name,))
    if not evidence:
        return Fingerprint(None, False, info, evidence, warning, config, (ad.name,))
    best = max(range(len(evidence)), key=lambda j: evidence[j].min_p)
    evidence.sort(key=lambda e: -e.min_p)
    return Fingerprint(cands[best][0], False, info, evidence, warning, config, (ad.name,))


def candidate_batteries() -> list[Battery]:
    """The law checks (:func:`invariants.stats.battery.battery`) the candidates of one layer may run: one
    variance-scaling law per fan mode and distribution, and one fixed law per distribution (the constant,
    orthogonal and structured branches have fewer: at most two sparse laws of 7 checks, or one dirac/eye
    law of 1)."""
    return [battery(_DISTRIBUTION_LAWS[d], groups=(LAW,)) for d in DISTRIBUTIONS for _ in (*MODES, "fixed")]


def _candidates(lays: list[Layer], fans: list[tuple[int, int]], pools: list[np.ndarray], draws: list[list[np.ndarray]],
                unit_axis: int) -> list[tuple[Spec, list[float]]]:
    out: list[tuple[Spec, list[float]]] = []
    xs = [p.astype(np.float64) for p in pools]
    # constant
    if all(np.all(x == x[0]) for x in xs) and len({float(x[0]) for x in xs}) == 1:
        return [(Constant(float(xs[0][0])), [])]
    # structured (sparse, dirac, eye) before orthogonal: an identity matrix is orthogonal too, but fixed
    structured = structured_specs(draws, unit_axis)
    if structured:
        return [(spec, []) for spec in structured]
    # orthogonal: one draw per layer is orthonormal up to a gain
    # the framework's own flattening first, then the others (:data:`invariants.laws.FLATTENINGS`)
    for axis in (unit_axis, *(a for a in FLATTENINGS.values() if a != unit_axis)):
        gains = []
        for d in (dl[0] for dl in draws):
            err, gain, tol = orthogonality_error(as_matrix(np.asarray(d), axis))
            if err > tol:
                break
            gains.append(gain)
        else:
            g, snapped = _snap(float(np.mean(gains)) ** 2, 1e-6)
            out.append((Orthogonal(math.sqrt(g) if snapped else float(np.mean(gains)), flattening_name(axis)), gains))
    if out:
        return out
    means = [float(x.mean()) for x in xs]
    v = [float(np.mean(np.square(x))) for x in xs]
    n = [x.size for x in xs]
    vs: list[tuple[int, Spec, list[float]]] = []
    for dist, kurt in (("normal", 3.0), ("uniform", 1.8), ("truncated_normal", 2.36554)):
        for mode in MODES:
            ests = [vi * _fan(mode, fi, fo) for vi, (fi, fo) in zip(v, fans)]
            # weighted mean (weights n / variance of the estimate) and its relative standard error
            est = float(np.average(ests, weights=n))
            rel_se = math.sqrt((kurt - 1.0) / sum(n))
            if dist == "uniform":  # the bound pins the scale far more precisely than the variance
                ests_b = [max(abs(float(x.min())), abs(float(x.max()))) ** 2 / 3 * _fan(mode, fi, fo) for x, (fi, fo) in zip(xs, fans)]
                est, rel_se = float(np.max(ests_b)), 1e-4
            if dist == "truncated_normal":
                ests_b = [(max(abs(float(x.min())), abs(float(x.max()))) / 2 * TRUNCATED_NORMAL_STD) ** 2 * _fan(mode, fi, fo)
                          for x, (fi, fo) in zip(xs, fans)]
                est_b, rel_b = float(np.max(ests_b)), 1e-3
                snapped_b, ok_b = _snap(est_b, rel_b)
                if ok_b:
                    est, rel_se = snapped_b, 0.0
            scale, snapped = _snap(est, rel_se)
            spec = _named(_vs_spec(scale, mode, dist))
            rank = 0 if spec.name else (1 if snapped else 2)
            vs.append((rank, spec, [float(e) for e in ests]))
    # fixed laws (no fan dependence)
    mean = float(np.average(means, weights=n))
    var = float(np.average([float(x.var()) for x in xs], weights=n))
    lo, hi = min(float(x.min()) for x in xs), max(float(x.max()) for x in xs)
    mean_r = 0.0 if abs(mean) < 6 * math.sqrt(var / sum(n)) else _round(mean, 3 * math.sqrt(var / sum(n)))
    std = math.sqrt(var)
    fixed: list[Spec] = [Normal(mean_r, _round(std, 3 * std * math.sqrt(2.0 / (4 * sum(n)))))]
    if lo < hi:
        digits = 3 - math.floor(math.log10(hi - lo))
        fixed.append(Uniform(round(lo, digits), round(hi, digits)))
    try:
        fixed.append(TruncatedNormal(mean_r, _round((hi - mean_r) / 2, 1e-3 * (hi - mean_r)), -2.0, 2.0, "std",
                                     corrected=False))
    except ValueError:
        pass
    vs.sort(key=lambda t: t[0])
    out += [(s, e) for _, s, e in vs]
    out += [(s, []) for s in fixed]
    return out


def structured_specs(draws: list[list[np.ndarray]], unit_axis: int) -> list[Spec]:
    """Structured specs the draws (one list per layer) show, by their exact pattern: ``eye(gain)`` or
    ``dirac(groups, gain)`` when every draw of a layer is the same tensor and that tensor is the pattern
    (:func:`invariants.laws.structured_tensor`); ``sparse(s, std)`` when every row or every column of
    every 2-D layer's first draw holds the same number ``k`` of zeros, ``0 < k < n`` (``s``: the shortest
    decimal with ``ceil(s * n) = k`` on every layer; ``std``: the root mean square of the non-zero values).
    The candidates are then tested like any other (their law checks); ``[]`` when none fits."""
    firsts = [np.asarray(dl[0]) for dl in draws]
    if all(all(np.array_equal(x, dl[0]) for x in dl) for dl in draws):
        return _fixed_pattern(firsts, unit_axis)
    if not all(x.ndim == 2 for x in firsts):
        return []
    out: list[Spec] = []
    for per, axis in SPARSE_PER.items():
        ks = [np.count_nonzero(x == 0, axis=axis) for x in firsts]
        if not all(k.min() == k.max() and 0 < k[0] < x.shape[axis] for k, x in zip(ks, firsts)):
            continue
        sizes = [(int(k[0]), x.shape[axis]) for k, x in zip(ks, firsts)]
        s = _sparsity(sizes)
        if s is None:
            continue
        nz = np.concatenate([np.ravel(d)[np.ravel(d) != 0] for dl in draws for d in dl]).astype(np.float64)
        mean, std = float(nz.mean()), float(nz.std())
        se = std / math.sqrt(nz.size)
        mean_r = 0.0 if abs(mean) < 6 * se else _round(mean, 3 * se)
        out.append(Sparse(s, _round(float(np.sqrt(np.mean(np.square(nz - mean_r)))), 3 * std * math.sqrt(0.5 / nz.size)),
                          mean_r, per))
    return out


def _sparsity(sizes: list[tuple[int, int]]) -> float | None:
    """The shortest decimal ``s`` with ``ceil(s * n) == k`` (as torch computes it) for every ``(k, n)``."""
    lo, hi = max((k - 1) / n for k, n in sizes), min(k / n for k, n in sizes)
    for digits in range(1, 7):
        scale = 10**digits
        for c in range(math.floor(lo * scale), math.ceil(hi * scale) + 1):
            s = c / scale
            if all(math.ceil(s * n) == k for k, n in sizes):
                return s
    return None


def _fixed_pattern(firsts: list[np.ndarray], unit_axis: int) -> list[Spec]:
    """``eye(gain)`` or ``dirac(groups, gain)`` if every layer's one tensor is that pattern, else ``[]``."""
    nz = [x[x != 0] for x in firsts]
    if not all(v.size for v in nz) or len({float(v[0]) for v in nz}) != 1 or not all(np.all(v == v[0]) for v in nz):
        return []
    gain = float(nz[0][0])
    candidates: list[Spec] = []
    if all(x.ndim == 2 for x in firsts):
        candidates.append(Eye(gain))
    elif all(3 <= x.ndim <= 5 for x in firsts):
        names = [flattening_name(unit_axis)] if unit_axis in FLATTENINGS.values() else []
        names += [n for n in FLATTENINGS if n not in names]
        for name in names:
            outs = [x.shape[FLATTENINGS[name]] for x in firsts]
            g_max = math.gcd(*outs)
            candidates += [Dirac(g, gain, name) for g in range(1, g_max + 1) if g_max % g == 0]
    for spec in candidates:
        try:
            if all(np.array_equal(x, structured_tensor(spec.law(shape=x.shape), x.shape).astype(x.dtype))
                   for x in firsts):
                return [spec]
        except ValueError:
            continue
    return []


def _round(x: float, tol: float) -> float:
    """``x`` to the fewest significant digits (1 to 6) that stay within ``tol`` of it."""
    if x == 0 or not math.isfinite(x):
        return x
    for digits in range(1, 7):
        r = float(f"{x:.{digits}g}")
        if abs(r - x) <= tol:
            return r
    return x


__all__ = ["DEFAULT_LAYERS", "CandidateJudgement", "Fingerprint", "identify"]
