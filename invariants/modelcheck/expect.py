"""Expected schemes per tensor: ``check-model --expect PATTERN=SPEC`` (``check_model(expect=[...])``).

Without expectations the model check accepts any *named* scheme a tensor matches, so a model drawn
with a legitimate but wrong scheme passes: a packed attention matrix drawn over its packed fans, a SELU
net with the gain 3/4 applied on top of LeCun normal, a HuggingFace model whose ``initializer_range``
was not applied.  An expectation states the requirement.

**PATTERN** selects tensors in one of two ways:

- a *module type* (``Linear``, ``Conv2d``, ``Embedding``, ``Conv1D``; Keras ``Dense``, ``Conv2D``): an
  identifier with no wildcard and no path separator that is no parameter's name.  It selects the
  *weight* tensors (roles weight, embedding, recurrent: the tensors with layer semantics) of the modules
  of that class, or of a subclass where the extractor records the classes (torch:
  ``nn.MultiheadAttention``'s ``out_proj`` is a ``NonDynamicallyQuantizableLinear``, a ``Linear``).
  Biases and norm parameters are selected by name (``*.bias=zeros``).
- otherwise an :func:`fnmatch.fnmatchcase` pattern on the parameter's qualified name (``*.bias``,
  ``encoder.layer.*.attention.self.query.weight``, an exact name, ``in_proj_weight`` of a packed tensor:
  every block is tested).

A packed tensor (``nn.MultiheadAttention.in_proj_weight``, RNN gates) is tested block by block, each
block on its own fans, as the auditor does; ``PATTERN[packed]`` tests it as one matrix on the whole
tensor's fans instead (what ``xavier_uniform_(in_proj_weight)`` or Keras' LSTM ``kernel`` default draw).

**SPEC** is :func:`invariants.specs.parse_spec`'s text, resolved by the model's framework
(``he_normal`` on a torch model is torch's untruncated ``kaiming_normal_``; the finding names the law).

**Overlaps** (decided, never silent): the most specific pattern wins: an exact parameter name over a
wildcard pattern over a module type, and among module types the nearer class (``NonDynamicallyQuantizable
Linear`` over ``Linear``).  Two patterns of the same rank that select one tensor with *different* specs
are a usage error naming the tensor and both patterns; the same spec twice is fine.  A pattern that
selects nothing is a usage error (exit 2, one line): a typo must not pass as "nothing to check".

**The test** (:func:`expectation_findings`): each selected tensor, each block of a packed tensor, is
tested like the variance table's tensors (:mod:`invariants.modelcheck.variance`), as one draw of ``n``
values (capped at ``Profile.max_values`` by a fixed stride; an orthogonal spec reads the whole matrix):
the auditor's law checks (:func:`invariants.stats.battery.battery`, group ``law``: exact chi-square for
normal laws, moments for bounded ones, mean, support, extremes, point mass, KS; orthogonality; exact
equality for a constant) of the spec's law on the tensor's *textbook* fans, and also on the framework's
own fans of the tensor where these differ (torch's ``fan_out = C_out·k²`` of a grouped conv: a
framework's convention, not a fault).  Never on a packed tensor's whole fans: that is the fault being
looked for.  An orthogonal spec on a packed tensor is met by the whole matrix (Keras' LSTM
``recurrent_kernel`` default) or by every block (each gate drawn orthogonal).  The expectation is met when every check of one of these laws passes.  Every check counts in
the model's Bonferroni split (:func:`invariants.modelcheck.variance.model_budget`'s ``extra``), so the
probability that a model drawn as expected is reported otherwise is at most the profile's
``total_alpha``; each finding states the smallest relative variance error its ``n`` values detect with
the profile's power.

A mismatch is an error ``expectation`` with the measured and expected std, the failed checks, the named
schemes the tensor does match (closest first: :func:`invariants.modelcheck.variance.match`), and for a
variance-scaling spec the fan or scale constant that explains it (the packed tensor's fans, a groups
mistake, SELU's gain 3/4 squared, ...).  Tensors with an expectation are left out of the scheme-guessing
findings (``variance``, ``inconsistent-scale``, peers, ``implausible-fixed-std``): the user stated their
law, and it was tested.  The coverage lists every tensor with its expectation and whether it was met.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping

import numpy as np

from invariants.core.errors import UsageError
from invariants.frameworks.dtypes import widen
from invariants.frameworks.model import RANDOM_ROLES, ModelView, Param
from invariants.laws import Law
from invariants.layers import Layer, grouped_fan_candidates
from invariants.modelcheck.report import ERROR, Finding
from invariants.specs import KNOWN_SCALES, Constant, Orthogonal, Spec, VarianceScaling, parse_spec
from invariants.stats.battery import LAW, Sample, battery
from invariants.stats.checks import CheckResult
from invariants.stats.extremes import mantissa_bits

_TYPE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: pattern suffix: test a packed tensor (q/k/v, gates) as one matrix on its whole fans, not block by block
PACKED = "[packed]"
#: at most this many candidate explanations get the full checks per mismatched tensor
MAX_EXPLAIN = 40


@dataclass(frozen=True)
class Expectation:
    """One ``PATTERN=SPEC``.

    Attributes:
        pattern: the pattern as given.
        spec: the parsed spec (resolved by the model's framework).
        text: the spec as given (``normal(std=0.02)``).
    """

    pattern: str
    spec: Spec
    text: str

    @property
    def packed(self) -> bool:
        """``PATTERN[packed]``: a packed tensor is tested as one matrix on its whole fans."""
        return self.pattern.endswith(PACKED)

    @property
    def selector(self) -> str:
        """The pattern without the ``[packed]`` suffix."""
        return self.pattern.removesuffix(PACKED)

    def describe(self) -> str:
        """``PATTERN=SPEC``, plus the law a framework-resolved name stands for."""
        name = getattr(self.spec, "name", None) or ""
        extra = f" ({name})" if " under " in name else ""
        return f"{self.pattern}={self.text}{extra}"


def parse_expectations(items: "Iterable[str] | Mapping[str, Any] | None", framework: str | None = None
                       ) -> list[Expectation]:
    """``PATTERN=SPEC`` strings (or a ``{pattern: spec text or spec}`` mapping) -> :class:`Expectation` s.

    Raises:
        UsageError: a malformed item or spec (one line naming it).
    """
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), v) for k, v in items.items()]
    else:
        for item in items:
            if not isinstance(item, str) or "=" not in item:
                raise UsageError(f"expect {item!r}: expected PATTERN=SPEC, e.g. 'Linear=normal(std=0.02)' or "
                                 "'*.bias=zeros'")
            pattern, _, text = item.partition("=")
            pairs.append((pattern.strip(), text.strip()))
    out = []
    for pattern, spec in pairs:
        if not pattern:
            raise UsageError(f"expect '={spec}': empty PATTERN (a parameter-name pattern or a module type)")
        if isinstance(spec, str):
            try:
                parsed = parse_spec(spec, framework=framework)
            except ValueError as exc:
                raise UsageError(f"expect '{pattern}={spec}': {' '.join(str(exc).split())}") from None
            out.append(Expectation(pattern, parsed, spec))
        else:
            out.append(Expectation(pattern, spec, spec.text()))
    return out


def _classes(p: Param) -> tuple[str, ...]:
    return tuple(p.owner_classes) or ((p.owner_type,) if p.owner_type else ())


def _rank(e: Expectation, p: Param, names: set[str]) -> tuple[int, int] | None:
    """How specifically ``e`` selects ``p`` (lower wins), ``None`` if it does not."""
    sel = e.selector
    if sel == p.name or sel in p.tied:
        return (0, 0)
    if is_type_pattern(sel, names):
        classes = _classes(p)
        if p.role in RANDOM_ROLES and sel in classes:
            return (2, classes.index(sel))
        return None
    if any(fnmatchcase(n, sel) for n in (p.name,) + tuple(p.tied)):
        return (1, 0)
    return None


def is_type_pattern(pattern: str, names: set[str]) -> bool:
    """Whether ``pattern`` names a module type: an identifier (no wildcard, no ``.``/``/``) that is no
    parameter's name in ``names``."""
    return bool(_TYPE_NAME.match(pattern)) and pattern not in names


def select(view: ModelView, expectations: list[Expectation], strict: bool = True) -> dict[str, Expectation]:
    """``{parameter name: its expectation}`` (see the module docstring for the precedence); ``strict=False``
    skips the "selects nothing" error (patterns already validated on the whole model).

    Raises:
        UsageError: a pattern that selects nothing, or two patterns of the same rank that select one tensor
            with different specs.
    """
    names = {n for p in view.params for n in (p.name,) + tuple(p.tied)}
    hits: dict[str, list[Expectation]] = {}
    chosen: dict[str, Expectation] = {}
    for p in view.params:
        ranked = [(r, e) for e in expectations if (r := _rank(e, p, names)) is not None]
        for _, e in ranked:
            hits.setdefault(e.pattern, []).append(e)
        if not ranked:
            continue
        best = min(r for r, _ in ranked)
        top = [e for r, e in ranked if r == best]
        if len({(e.spec, e.packed) for e in top}) > 1:
            a, b = top[0], next(e for e in top if (e.spec, e.packed) != (top[0].spec, top[0].packed))
            raise UsageError(f"expect: {p.name} is selected by '{a.pattern}={a.text}' and '{b.pattern}={b.text}' "
                             "with equal specificity and different specs; make one pattern more specific (an exact "
                             "name beats a wildcard pattern, which beats a module type)")
        chosen[p.name] = top[0]
    for e in expectations:
        if strict and e.pattern not in hits:
            kinds = sorted({c for p in view.params if p.role in RANDOM_ROLES for c in _classes(p)[:1]})
            what = (f"no module of type {e.pattern!r} has a weight (module types here: {', '.join(kinds[:12])}"
                    f"{', ...' if len(kinds) > 12 else ''})" if is_type_pattern(e.selector, names) else
                    f"no parameter name matches {e.selector!r} (e.g. {', '.join(sorted(names)[:4])})")
            raise UsageError(f"expect '{e.pattern}={e.text}' selects no tensor: {what}")
    return chosen


@dataclass
class ExpectUnit:
    """One tensor (or packed block) and the laws that meet its expectation.

    Attributes:
        expectation: what was asked.
        param: the parameter.
        label: the tensor's name, ``name[block]`` for a block.
        values: the values tested (strided to ``max_values``; padding rows left out).
        layer: the unit's layer (a block's own), or ``None``.
        fans: the unit's textbook fans, or ``None``.
        laws: ``[(which fans, law)]`` any of which meets the expectation.
        packed_fans: a block's whole packed tensor's fans (for the explanation only).
        blocks: ``[(law, values)]`` of each block of a packed tensor under an orthogonal spec: the
            expectation is also met when every block passes its own law (each gate drawn orthogonal) while
            the unit is the whole tensor (Keras' ``recurrent_kernel`` default draws one orthogonal matrix
            over all gates).
    """

    expectation: Expectation
    param: Param
    label: str
    values: np.ndarray
    layer: Layer | None
    fans: tuple[int, int] | None
    laws: list[tuple[str, Law]]
    packed_fans: tuple[int, int] | None = None
    blocks: list[tuple[Law, np.ndarray]] = field(default_factory=list)

    @property
    def n_checks(self) -> int:
        return sum(len(battery(law, groups=(LAW,))) for _, law in self.laws) + \
            sum(len(battery(law, groups=(LAW,))) for law, _ in self.blocks)


@dataclass
class ExpectPlan:
    """The units to test and the number of checks they add to the model's Bonferroni split."""

    units: list[ExpectUnit] = field(default_factory=list)
    selected: dict[str, Expectation] = field(default_factory=dict)

    @property
    def n_checks(self) -> int:
        return sum(u.n_checks for u in self.units)

    @property
    def labels(self) -> set[str]:
        return {u.label for u in self.units}


def _laws(e: Expectation, p: Param, shape: tuple[int, ...], layer: Layer | None) -> list[tuple[str, Law]]:
    spec = e.spec
    if isinstance(spec, Orthogonal):
        spec = spec.for_unit_axis(p.layout.unit_axis)
    if not getattr(spec, "uses_fans", False):
        return [("", spec.law(None, None, shape))]
    if layer is None:
        raise UsageError(f"expect '{e.pattern}={e.text}': {e.text} needs fans, and {p.name} ({p.role}) has no layer "
                         "semantics; select weight tensors only (e.g. a module type, or '*.weight')")
    fi, fo = layer.textbook_fans()
    out = [(f"textbook fans ({fi}, {fo})", spec.law(fi, fo, shape))]
    if len(shape) >= 2:
        fw = tuple(p.layout.fans(shape))
        if fw != (fi, fo) and min(fw) >= 1:
            out.append((f"{p.layout.name}'s fans {fw}", spec.law(fw[0], fw[1], shape)))
    return out


def plan(view: ModelView, expectations: list[Expectation], max_values: int, strict: bool = True) -> ExpectPlan:
    """The units each selected tensor is tested as (see the module docstring); ``strict`` as for :func:`select`.

    Raises:
        UsageError: as :func:`select`, or a fan-based spec on a tensor without layer semantics.
    """
    selected = select(view, expectations, strict)
    out = ExpectPlan(selected=selected)
    for p in view.params:
        e = selected.get(p.name)
        if e is None or p.size == 0:
            continue
        packed = p.layer is not None and bool(p.layer.blocks) and p.role in RANDOM_ROLES
        if packed and e.packed:  # one matrix on the whole tensor's fans (the framework's fan rule)
            spec = e.spec.for_unit_axis(p.layout.unit_axis) if isinstance(e.spec, Orthogonal) else e.spec
            fw = tuple(p.layout.fans(p.shape))
            law = spec.law(fw[0], fw[1], p.shape) if getattr(spec, "uses_fans", False) else spec.law(None, None, p.shape)
            v = p.value if p.size <= max_values or law.kind == "orthogonal" else \
                p.value.ravel()[:: math.ceil(p.size / max_values)]
            out.units.append(ExpectUnit(e, p, p.name, np.asarray(v), p.layer, fw,
                                        [(f"whole packed tensor's fans {fw}", law)]))
            continue
        if packed and isinstance(e.spec, Orthogonal):  # the whole matrix, or every block (see ExpectUnit.blocks)
            spec = e.spec.for_unit_axis(p.layout.unit_axis)
            blocks = [(spec.law(None, None, p.value[idx].shape), p.value[idx]) for _, idx, _ in p.blocks()]
            out.units.append(ExpectUnit(e, p, p.name, p.value, p.layer, None,
                                        [("whole packed tensor", spec.law(None, None, p.shape))], None, blocks))
            continue
        parts = p.blocks() if p.layer is not None and p.role in RANDOM_ROLES else [(p.name, None, p.layer)]
        whole_fans = tuple(p.layout.fans(p.shape)) if packed and p.value.ndim >= 2 else None
        for label, idx, lay in parts:
            v = p.value if idx is None else p.value[idx]
            if p.padding_rows and idx is None and not isinstance(e.spec, Constant):
                v = np.delete(v, p.zero_padding_rows(), axis=0)  # zero on purpose: not a draw of the table's law
            laws = _laws(e, p, tuple(v.shape), lay)
            if v.size > max_values and not any(law.kind in ("orthogonal", "constant") for _, law in laws):
                v = v.ravel()[:: math.ceil(v.size / max_values)]
            fans = lay.textbook_fans() if lay is not None else None
            out.units.append(ExpectUnit(e, p, label, np.asarray(v), lay, fans, laws, whole_fans))
    return out


def _explain(u: ExpectUnit, alpha: float, power: float, bits: int) -> str:
    """The fan or scale constant (same distribution first) under which a variance-scaling spec's law fits
    ``u``; ``""`` when none of :data:`MAX_EXPLAIN` screened candidates passes every check."""
    spec = u.expectation.spec
    if not isinstance(spec, VarianceScaling) or u.fans is None:
        return ""
    fi, fo = u.fans
    n_exp = spec.fan(fi, fo)
    fans: list[tuple[str, float]] = [(label, float(v)) for label, v in grouped_fan_candidates(u.layer)]
    sets = [("textbook", u.fans)]
    if u.values.ndim >= 2:
        sets.append((f"{u.param.layout.name}'s", tuple(u.param.layout.fans(u.values.shape))))
    if u.packed_fans:
        sets.append(("the whole packed tensor's", u.packed_fans))
    for tag, (a, b) in sets:
        fans += [(f"{tag} fan_in {a}", a), (f"{tag} fan_out {b}", b), (f"fan_avg {(a + b) / 2:g} of {tag} fans ({a}, {b})",
                                                                     (a + b) / 2)]
    x = u.values.astype(np.float64).ravel()
    m2 = float(np.mean(x * x))
    scales = [(f"{spec.scale:.6g}", float(spec.scale))] + [s for s in KNOWN_SCALES if not math.isclose(s[1], spec.scale)]
    dists = [spec.distribution] + [d for d in ("normal", "truncated_normal", "uniform") if d != spec.distribution]
    cands, seen = [], set()
    for di, dist in enumerate(dists):
        for si, (s_label, scale) in enumerate(scales):
            for fj, (f_label, n) in enumerate(fans):
                var = scale / n
                key = (dist, round(var, 12))
                if key in seen or abs(math.log(max(m2, 1e-300) / var)) > 0.25:  # cheap screen: > 28% off
                    continue
                seen.add(key)
                words = []
                if not math.isclose(n, n_exp):
                    words.append(f"fan {n:g} ({f_label}) instead of {spec.mode} {n_exp:g}")
                if si:
                    words.append(f"scale {s_label} instead of {spec.scale:.6g}")
                if di:
                    words.append(f"{dist} instead of {spec.distribution}")
                if words:
                    # fewest changes first; then a fan the layer names before a scale constant (a structural
                    # cause, not a coincidence of numbers); then the closest variance
                    cands.append(((len(words), 0 if si == 0 else 1, di, abs(math.log(max(m2, 1e-300) / var)), fj),
                                  "; ".join(words) + f" (variance {scale:.6g}/{n:g} = {var:.6g})", dist, var))
    for _, text, dist, var in sorted(cands, key=lambda c: c[0])[:MAX_EXPLAIN]:
        law = VarianceScaling(var, "fan_in", dist).law(1, 1)  # type: ignore[arg-type]  # Var = scale/n
        if all(c.passed for c in _run(law, u.values, alpha, power, bits)):
            return text
    return ""


def _run(law: Law, values: np.ndarray, alpha: float, power: float, bits: int) -> list[CheckResult]:
    values = widen(values)  # bfloat16: a float32 copy of this unit's (bounded) sample, as in variance.passes
    return battery(law, groups=(LAW,)).run(Sample(values.ravel(), [values], bits, power), alpha)


def expectation_findings(plan_: ExpectPlan, alpha: float, power: float, matches: Mapping[str, Any] | None = None
                         ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """Test every unit of ``plan_`` at the per-check ``alpha``; ``(error findings, coverage entries)``.

    ``matches``: the variance table's :class:`~invariants.modelcheck.variance.Match` per unit label (the
    named schemes a mismatched tensor does match, closest first)."""
    findings: list[Finding] = []
    cov: dict[str, dict[str, Any]] = {}
    for u in plan_.units:
        bits = mantissa_bits(u.values)
        runs = [(tag, law, _run(law, u.values, alpha, power, bits)) for tag, law in u.laws]
        met = next(((tag, law) for tag, law, checks in runs if all(c.passed for c in checks)), None)
        if met is None and u.blocks and all(all(c.passed for c in _run(law, v, alpha, power, mantissa_bits(v)))
                                            for law, v in u.blocks):
            met = ("each packed block", u.blocks[0][0])
        tag0, law0, checks0 = runs[0]
        x = u.values.astype(np.float64).ravel()
        n = int(x.size)
        mde = None
        if law0.kind in ("normal", "uniform", "truncated_normal"):
            try:
                mde = battery(law0, groups=(LAW,)).min_detectable_rel_error(n, alpha, power, tuple(u.values.shape), bits)
            except (ValueError, ZeroDivisionError):
                mde = None
        cov[u.label] = {"expect": u.expectation.describe(), "law": (met or (tag0, law0))[1].label, "met": met is not None,
                        "fans": (met or (tag0, law0))[0] or None, "n": n, "detectable_rel_error": mde}
        if met is not None:
            continue
        findings.append(_mismatch(u, runs, x, n, mde, alpha, power, bits, (matches or {}).get(u.label)))
    return findings, cov


def _mismatch(u: ExpectUnit, runs: list, x: np.ndarray, n: int, mde: float | None, alpha: float, power: float,
              bits: int, m: Any) -> Finding:
    tag0, law0, checks0 = runs[0]
    e = u.expectation
    where = ", ".join(s for s in (u.layer.describe() if u.layer else u.param.role,
                                  f"fans {u.fans}" if u.fans else "") if s)
    if law0.kind == "constant":
        vals = np.unique(x)
        measured = (f"{int(np.count_nonzero(x != law0.mean))} of {n} values differ from {law0.mean:g} (range "
                    f"[{vals[0]:.4g}, {vals[-1]:.4g}], std {float(x.std()):.4g})")
    else:
        s_obs, s_exp = math.sqrt(float(np.mean((x - law0.mean) ** 2))), law0.std
        measured = (f"measured std {s_obs:.4g} vs expected {s_exp:.4g} (variance ratio {s_obs ** 2 / s_exp ** 2:.3g})"
                    + (f" on the {tag0}" if tag0 else ""))
        if len(runs) > 1:
            measured += "; " + "; ".join(f"on the {t}: expected std {lw.std:.4g}" for t, lw, _ in runs[1:])
    failed = "; ".join(f"{c.name}: {c.detail}" for c in checks0 if not c.passed)[:400]
    det = (f"; {n} values detect a variance error of {100 * mde:.2g}% with power {power:g} at alpha {alpha:.2g} "
           f"per check" if mde else f"; alpha {alpha:.2g} per check")
    fits = ""
    if m is not None:
        fits = (f" It matches {', '.join(m.matched)} (closest first)." if m.matched else
                f" It matches none of the named schemes (closest: {m.row.closest}).")
    expl = _explain(u, alpha, power, bits)
    expl_text = f" Explained by {expl}." if expl else ""
    if "whole packed tensor" in expl and not e.packed:
        expl_text += (f" If the framework's draw over the packed tensor is what you expect, write "
                      f"'{e.pattern}{PACKED}={e.text}'.")
    return Finding(
        ERROR, "expectation", (u.label,),
        f"{u.label} ({where}) does not match its expectation {e.describe()}: {measured}{det}. Failed: {failed}."
        f"{fits}{expl_text}",
        {"expect": e.describe(), "pattern": e.pattern, "law": law0.label, "expected_std": law0.std,
         "measured_std": float(np.sqrt(np.mean((x - law0.mean) ** 2))), "n": n, "detectable_rel_error": mde,
         "alpha": alpha, "matches": list(m.matched) if m is not None else None, "explanation": expl or None})


__all__ = ["ExpectPlan", "ExpectUnit", "Expectation", "MAX_EXPLAIN", "PACKED", "expectation_findings", "is_type_pattern",
           "parse_expectations", "plan", "select"]
