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

Candidates: the named variance-scaling schemes (Glorot, He, LeCun x uniform / truncated normal, PyTorch's
untruncated ``xavier_normal``/``kaiming_normal``, LeCun untruncated), PyTorch's layer default
``U(±1/sqrt(fan_in))`` and its ``fan_out`` form (``ConvTranspose``, RNN gates: ``U(±1/sqrt(H))``),
Flax's ``Embed`` default ``N(0, 1/D)``, ``N(0, 0.02²)`` (BERT/GPT), for embedding tables also the fixed
``N(0, 1)`` (PyTorch) and ``U(±0.05)`` (Keras), orthogonal with a fitted gain (also over a whole packed
tensor), and identity/Dirac patterns.  Candidates are tried closest variance first; at most
:data:`MAX_MATCHES` matches are listed.

**Across layers** (:func:`cross_layer`): tensors that match no scheme are fingerprinted together, as
:func:`invariants.audit.fingerprint.identify` does across layers of different fans: for each fan mode
(and for a fixed variance) the implied scale ``s_l = E[w²]·fan_l`` must be the same for every layer;
homogeneity is tested with ``Q = Σ ((log ŝ_l − μ)/se_l)²`` against chi-square(m − 1), ``se_l² =
(κ_l − 1)/n_l`` (the delta-method variance of a log second moment, ``κ`` the kurtosis).  No
consistent mode is an error (no variance-scaling rule explains the layers), with the fitted exponent
``E[w²] ∝ fan_in^-γ`` (``γ = 1`` for every fan-in rule; ``γ = 2``: the std was squared) and, when one
passes every check on every layer, the named scheme whose std was squared — an initializer that is
right only where the std is 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from scipy import stats

from invariants.laws import Law
from invariants.layers import Embedding, Layer, Packed
from invariants.specs import (
    NAMED_SPECS,
    TRUNCATED_NORMAL_STD,
    Normal,
    Uniform,
    VarianceScaling,
)
from invariants.frameworks.model import RANDOM_ROLES, ModelView, Node, Param
from invariants.modelcheck.report import ERROR, NOTE, Finding, TensorRow
from invariants.stats.battery import LAW, Sample, battery, family_budget
from invariants.stats.budget import AlphaBudget, bonferroni
from invariants.stats.extremes import mantissa_bits
from invariants.stats.screen import Candidate, plausible
from invariants.stats.structure import orthogonality_error

#: fan-dependent candidates beyond :data:`invariants.specs.NAMED_SPECS`
EXTRA_SPECS: dict[str, VarianceScaling] = {
    "lecun_normal_untruncated": VarianceScaling(1.0, "fan_in", "normal", name="lecun_normal_untruncated"),
    "torch_default U(+-1/sqrt(fan_in))": VarianceScaling(1 / 3, "fan_in", "uniform", name="torch_linear_default"),
    "torch_default_fan_out U(+-1/sqrt(fan_out))": VarianceScaling(1 / 3, "fan_out", "uniform",
                                                                   name="torch_default_fan_out"),
}
EMBEDDING_SPECS: dict[str, VarianceScaling] = {
    "flax_embed_default N(0, 1/D)": VarianceScaling(1.0, "fan_out", "normal", name="flax_embed_default"),
}
#: fixed laws accepted for any weight (a transformer convention) ...
FIXED_SPECS: dict[str, Any] = {
    "normal(std=0.02) (BERT/GPT)": Normal(0.0, 0.02),
}
#: ... and for embedding tables (framework defaults)
EMBEDDING_FIXED_SPECS: dict[str, Any] = {
    "normal(std=1) (torch Embedding default)": Normal(0.0, 1.0),
    "uniform(-0.05, 0.05) (keras Embedding default)": Uniform(-0.05, 0.05),
}
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


def candidates(u: Unit) -> list[tuple[str, Law]]:
    """``(label, law)`` for every candidate scheme on this unit (see the module docstring)."""
    out: list[tuple[str, Law]] = []
    shape = tuple(u.values.shape)
    specs = dict(NAMED_SPECS)
    specs.update({k: v for k, v in EXTRA_SPECS.items()})
    if isinstance(u.layer, Embedding):
        specs.update(EMBEDDING_SPECS)
    fan_sets = []
    if u.fans:
        fan_sets.append(("", u.fans))
    if u.framework_fans and not _same(u.framework_fans, u.fans):
        fan_sets.append((f" on {u.param.layout.name}'s fans {tuple(u.framework_fans)}", u.framework_fans))
    if u.packed_fans:
        fan_sets.append((f" over the packed tensor's fans {tuple(u.packed_fans)}", u.packed_fans))
    for suffix, (fi, fo) in fan_sets:
        for name, spec in specs.items():
            out.append((name + suffix, spec.law(int(fi), int(fo), shape)))
    fixed = dict(FIXED_SPECS)
    if isinstance(u.layer, Embedding):
        fixed.update(EMBEDDING_FIXED_SPECS)
    for name, spec in fixed.items():
        out.append((name, spec.law()))
    return out


def _orthogonal(u: Unit) -> tuple[str, float] | None:
    if u.values.ndim < 2:
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
    nz = rows[rows != 0]
    if nz.size == 0 or np.any(np.count_nonzero(rows, axis=1) > 1) or np.any(nz != nz[0]):
        return None
    return f"identity/dirac x {float(nz[0]):.4g} ({np.count_nonzero(np.any(rows != 0, axis=1))} of {rows.shape[0]} units)"


@dataclass
class Match:
    """What :func:`match` found for one unit."""

    row: TensorRow
    matched: list[str]
    closest: tuple[str, Law] | None


def model_budget(us: Iterable[Unit], total_alpha: float) -> AlphaBudget:
    """The false-alarm budget of the variance matches: every candidate law of every unit with its law
    checks (:func:`invariants.stats.battery.battery`), ``per_check = total_alpha / m``, no cap."""
    return family_budget(total_alpha, [battery(law, groups=(LAW,)) for u in us for _, law in candidates(u)], cap=None)


def _passes(law: Law, values: np.ndarray, alpha: float, power: float, bits: int) -> bool:
    """Whether one tensor (a single draw) passes every law check of ``law`` at ``alpha``."""
    sample = Sample(values.ravel(), [values], bits, power)
    return all(c.passed for c in battery(law, groups=(LAW,)).run(sample, alpha))


def match(u: Unit, view: ModelView, alpha: float, power: float) -> Match:
    """Test ``u`` against every candidate; the row of the tensor table with the matching names."""
    x = u.values.astype(np.float64).ravel()
    n = x.size
    bits = mantissa_bits(u.values)
    lo, hi = float(x.min()), float(x.max())
    m1, m2 = float(x.mean()), float(np.mean(x * x))
    node = next((nd for nd in view.nodes if nd.weight is u.param), None)
    matched: list[tuple[float, str, Law]] = []
    scored = sorted(((abs(math.log(max(m2, 1e-300) / max(law.variance + law.mean**2, 1e-300))), label, law)
                     for label, law in candidates(u)), key=lambda t: t[0])
    best = scored[0] if scored else None
    tested = 0
    for dist, label, law in scored:  # closest first; a few full tests bound the cost
        if len(matched) >= MAX_MATCHES or tested >= MAX_TESTS:
            break
        v_c = m2 - 2 * law.mean * m1 + law.mean**2
        if not plausible(Candidate(label, law), v_c, lo, hi, n, bits):
            continue
        tested += 1
        if _passes(law, u.values, alpha, power, bits):
            matched.append((dist, label, law))
    names = [m[1] for m in matched]
    orth = _orthogonal(u)
    if orth:
        names.insert(0, orth[0])
    if u.packed_fans is not None and orth is None:
        err, g, tol = orthogonality_error(u.param.layout.out_matrix(u.param.value))
        if err <= tol:
            names.insert(0, f"orthogonal over the packed tensor (gain {g:.4g})")
    ident = _identity_like(u, node)
    if ident:
        names.insert(0, ident)
    ref = matched[0][2] if matched else (best[2] if best else None)
    mde = None
    if ref is not None and ref.kind in ("normal", "uniform", "truncated_normal"):
        try:
            mde = battery(ref, groups=(LAW,)).min_detectable_rel_error(n, alpha, power, tuple(u.values.shape), bits)
        except (ValueError, ZeroDivisionError):
            mde = None
    closest = None if names or best is None else (best[1], best[2])
    row = TensorRow(u.label, u.param.role, u.layer.describe() if u.layer else None, tuple(u.values.shape), u.fans, n,
                    m1, float(x.var()), names,
                    None if closest is None else f"{closest[0]}, variance ratio {m2 / closest[1].variance:.3g}"
                    if closest[1].variance else None, mde)
    return Match(row, names, closest)


def constant_row(p: Param) -> TensorRow:
    fans = p.layer.textbook_fans() if p.layer is not None else None
    v = p.value.astype(np.float64).ravel()
    return TensorRow(p.name, p.role, p.layer.describe() if p.layer else None, p.shape, fans, p.size, float(v[0]), 0.0,
                     constant=True)


def variance_findings(view: ModelView, results: list[tuple[Unit, Match]], alpha: float, power: float,
                      total_alpha: float) -> list[Finding]:
    """Notes for tensors matching no scheme, and the cross-layer finding."""
    unmatched = [(u, m) for u, m in results if not m.matched]
    out: list[Finding] = []
    cross_units = [u for u, _ in unmatched if u.layer is not None and not isinstance(u.layer, (Embedding, Packed))
                   and u.packed_fans is None and u.values.size >= MIN_CROSS_N]
    cross = cross_layer(cross_units, alpha, power, total_alpha) if len(cross_units) >= 2 else None
    covered = {u.label for u in cross_units} if cross is not None and cross.severity == ERROR else set()
    for u, m in unmatched:
        if u.label in covered:
            continue
        r = m.row
        det = f"; {r.n} values detect a variance error of {100 * r.detectable_rel_error:.2g}%" \
            if r.detectable_rel_error else ""
        out.append(Finding(
            NOTE, "variance", (u.label,),
            f"{u.label} ({r.layer}, fans {r.fans}) has variance {r.variance:.4g} (Var*fan_in = "
            f"{r.gain:.4g}) and matches none of the named schemes; closest: {r.closest}{det}.",
            {"variance": r.variance, "gain": r.gain, "fans": list(r.fans) if r.fans else None, "n": r.n,
             "closest": r.closest}))
    if cross is not None:
        out.append(cross)
    return out


def _kurtosis(x: np.ndarray) -> float:
    m2 = float(np.mean(x * x))
    m4 = float(np.mean(x**4))
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


def cross_layer(us: list[Unit], alpha: float, power: float, total_alpha: float) -> Finding:
    """Fingerprint tensors that matched no scheme together (see the module docstring)."""
    xs = [u.values.astype(np.float64).ravel() for u in us]
    m2 = np.array([float(np.mean(x * x)) for x in xs])
    ns = np.array([x.size for x in xs], dtype=np.float64)
    kap = np.array([_kurtosis(x) for x in xs])
    se = np.sqrt((kap - 1.0) / ns)
    fans = [u.fans for u in us]
    hypotheses = MODES + ("fixed",)  # each fan mode, and a fixed variance
    alpha_h = bonferroni(total_alpha, len(hypotheses))
    fits = {}
    for mode in hypotheses:
        s = np.log(m2 * (np.array([_fan(mode, fi, fo) for fi, fo in fans]) if mode != "fixed" else 1.0))
        w = 1.0 / se**2
        mu = float(np.sum(w * s) / np.sum(w))
        q = float(np.sum(w * (s - mu) ** 2))
        p = float(stats.chi2.sf(q, len(us) - 1))
        fits[mode] = (p, math.exp(mu), float(np.exp(s.max() - s.min())))
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
        mode = consistent[0]
        p, scale, spread = fits[mode]
        rule = f"E[w^2] = {scale:.4g}" + ("" if mode == "fixed" else f"/{mode}")
        return Finding(NOTE, "variance", tuple(u.label for u in us),
                       f"{len(us)} tensors match no named scheme but share one rule, {rule} (homogeneity p = {p:.3g}); "
                       f"a custom but consistent scale: {table}.", fig)
    squared = None
    for name, spec in {**NAMED_SPECS, **EXTRA_SPECS}.items():
        ok = True
        for u in us:
            law = _squared_std_law(spec, *u.fans)  # type: ignore[misc]
            if not _passes(law, u.values, alpha, power, mantissa_bits(u.values)):
                ok = False
                break
        if ok:
            squared = name
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


__all__ = ["EXTRA_SPECS", "FIXED_SPECS", "Match", "Unit", "candidates", "constant_row", "cross_layer",
           "match", "model_budget", "units", "variance_findings"]
