"""The initializer auditor: pool fresh draws, test them against the expected law, give a verdict.

For each :class:`~invariants.frameworks.subjects.Subject` (a weight tensor and its sampler):

1. Resolve the *textbook* expectation (the spec applied to the layer's textbook fans) and, if the
   framework documents a different rule, the *documented* law, into :class:`~invariants.laws.Law`
   objects.
2. Pool independent draws from fresh seeds until the sample size detects a relative variance error of
   ``rel_error`` (1%) with probability ``power`` (0.99): for normal laws the exact chi-square test needs
   :func:`~invariants.stats.variance.chi2_sample_size` values (about 1.1M at ``alpha = 2e-7``); for
   bounded laws the exact extreme-value tests need a few thousand
   (:func:`~invariants.stats.extremes.bounded_scale_sample_size`), raised to ``min_bounded_n`` (100k)
   so the moment variance and shape tests have power too.  A sample larger than
   ``AuditConfig.max_pool_values`` (2^22 values) of a normal, uniform or truncated normal law is streamed
   instead of pooled (:func:`streams`): every draw folds into running sufficient statistics
   (:mod:`invariants.stats.streaming`) that the variance and mean checks read, and only the first draws are
   held for the other checks, so memory stays bounded whatever ``rel_error`` asks.
3. Run the checks for the law (variance, mean, support, extremes, point mass, KS shape; orthogonality and
   the Haar law of orthogonal draws, :mod:`invariants.stats.haar`; constant) and the structural checks
   (duplicate rows/columns, identical draws across seeds, all-zero or constant draws), each at a per-check
   ``alpha = min(1e-6, total_alpha / m)`` where ``m`` counts every check of the run (Bonferroni: the
   probability of any false alarm in the run is <= ``total_alpha``).
   The seed-determinism checks (:mod:`invariants.audit.determinism`: same seed -> same tensor, different
   seeds -> different tensors, the seed/generator/key passed is the only source of randomness) run on
   every tensor too, counted in the same split; a failure makes the tensor ``deviates`` whatever its law.
4. Verdict: ``conforms`` (every check passes against the textbook law); ``documented-deviation`` (fails
   the textbook law, passes the documented one: a convention with a reference); ``deviates`` otherwise.
   For either deviation the auditor tests candidate explanations (other fans of the layer, the
   framework's fans, shape-derived fans, other scale constants and distributions) and names the one
   that passes, with measured vs expected figures.

Packed tensors (q/k/v projections, RNN gates) are audited block by block, each as its own matrix.
"""
from __future__ import annotations

import contextlib
import math
import operator
import time
import zlib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from invariants.audit import determinism
from invariants.audit.resolution import Resolution, coarser, coverage_line
from invariants.frameworks.errors import BadInitializer
from invariants.frameworks.subjects import (
    Block,
    Subject,
    check_array,
    numel,
    seed_sequence,
)
from invariants.core.errors import BadInput, UsageError
from invariants.core.results import ERROR as SEVERE
from invariants.core.results import NOTE, Finding, common_fields, describe
from invariants.laws import FLATTENINGS, STRUCTURED_KINDS, Law
from invariants.layers import Layer, grouped_fan_candidates, shape_fan_candidates
from invariants.specs import (
    KNOWN_SCALES,
    TRUNCATED_NORMAL_STD,
    Spec,
    TruncatedNormal,
    VarianceScaling,
)
from invariants.stats.battery import LAW, STRUCTURE, Battery, Sample, battery, family_budget
from invariants.audit.precision import (
    DTYPE_RETURNED,
    dtype_returned,
    is_quantized,
    low_precision_draws,
    stated_detectable,
    requested_dtype,
    unsupported_dtype,
)
from invariants.frameworks.dtypes import MANTISSA_BITS, widen
from invariants.stats.checks import CheckResult
from invariants.stats.extremes import bounded_scale_sample_size, mantissa_bits
from invariants.stats.haar import SIGN_COINS
from invariants.stats.moments import moment_sample_size
from invariants.stats.saddlepoint import SquaredDeviation
from invariants.stats.screen import Candidate, plausible
from invariants.stats.precision import low_precision
from invariants.stats.shape import ks_min_detectable_distance
from invariants.stats.streaming import RunningMoments
from invariants.stats.structured import structured_candidates
from invariants.stats.variance import chi2_sample_size

CONFORMS = "conforms"
DEVIATES = "deviates"
DOCUMENTED = "documented-deviation"
SKIPPED = "skipped"
ERROR = "error"
VERDICTS = (CONFORMS, DEVIATES, DOCUMENTED, SKIPPED, ERROR)

C2 = TRUNCATED_NORMAL_STD**2


@dataclass(frozen=True)
class AuditConfig:
    """Sampling and testing parameters of an audit run.

    Attributes:
        rel_error: relative variance error the sample size must detect (default 1%).
        power: probability of detecting it (default 0.99).
        total_alpha: family-wise false-alarm bound of the whole run (default 1e-4).
        alpha_cap: upper limit on any single check's alpha (default 1e-6).
        min_bounded_n: floor on the sample size for bounded laws (default 100 000).
        min_draws: fewest fresh draws per tensor (identical-draw check needs >= 2).
        max_draws: most draws per tensor (a tiny tensor would otherwise need 10^5 calls); a tensor it
            stops short of ``rel_error`` states the resolution reached (:attr:`AuditResult.resolution`).
        structure_draws: draws checked for duplicate rows/columns.
        base_seed: base of the seed sequence (seeds derive from it and the subject name), >= 0.
        max_elements: largest tensor audited (default 2^24, a 4096 x 4096 matrix); at least
            ``min_draws`` tensors are drawn, so a larger one is refused (``BadInput``)
            before any memory is allocated.
        max_pool_values: most values pooled in memory per tensor (default 2^22, above every default
            pool of a tensor up to 2^20 elements at ``rel_error`` 1%, about 1.1-1.6M values).  A tensor whose
            laws are all normal, uniform or truncated normal and whose sample is larger is *streamed*
            (:func:`streams`): the variance and mean checks read running sufficient statistics of every
            value (:mod:`invariants.stats.streaming`), the other checks the first :func:`kept_draws` draws
            (i.i.d., so a valid sample; the result states the power that implies).  At or under the bound the
            audit is the pooled one, bit for bit.

    Raises:
        UsageError: a setting out of range (a ``ValueError`` too), in one line naming it.
        determinism: run the seed-determinism checks (:mod:`invariants.audit.determinism`:
            ``same_seed_same_tensor``, ``different_seeds_differ``, ``generator_isolation``; two extra
            sampler calls per tensor); default on.
    """

    rel_error: float = 0.01
    power: float = 0.99
    total_alpha: float = 1e-4
    alpha_cap: float = 1e-6
    min_bounded_n: int = 100_000
    min_draws: int = 4
    max_draws: int = 20_000
    structure_draws: int = 32
    base_seed: int = 0
    max_elements: int = 2**24
    determinism: bool = True
    max_pool_values: int = 2**22

    def __post_init__(self) -> None:
        if not 0 < self.rel_error < 1:
            raise UsageError(f"rel_error must lie in (0, 1), got {self.rel_error!r}")
        if not 0 < self.total_alpha < 1 or not 0 < self.alpha_cap < 1:
            raise UsageError("total_alpha and alpha_cap must lie in (0, 1)")
        if not self.total_alpha < self.power < 1:
            raise UsageError(f"power must lie in (alpha, 1), got {self.power!r}")
        if self.min_draws < 2 or self.max_draws < self.min_draws:
            raise UsageError("need 2 <= min_draws <= max_draws")
        try:  # any integer type (numpy's too), not bool, not negative (seeds feed numpy's SeedSequence)
            seed_ok = not isinstance(self.base_seed, bool) and operator.index(self.base_seed) >= 0
        except TypeError:
            seed_ok = False
        if not seed_ok:
            raise UsageError(f"the base seed must be an integer >= 0, got {self.base_seed!r}")
        if self.max_elements < 1:
            raise UsageError(f"max_elements must be >= 1, got {self.max_elements!r}")
        if self.max_pool_values < 1:
            raise UsageError(f"max_pool_values must be >= 1, got {self.max_pool_values!r}")

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON values (the ``config`` of an audit's or a fingerprint's JSON)."""
        return {"rel_error": self.rel_error, "power": self.power, "total_alpha": self.total_alpha,
                "alpha_cap": self.alpha_cap, "base_seed": int(self.base_seed), "determinism": self.determinism,
                "max_elements": self.max_elements, "max_pool_values": self.max_pool_values,
                "max_draws": self.max_draws}


def check_size(shape: Sequence[int], cfg: AuditConfig, what: str) -> None:
    """Refuse a tensor larger than ``cfg.max_elements`` (before anything of its size is allocated).

    Raises:
        ValueError: one line with the shape, the element count and the limit.
    """
    n = math.prod(int(s) for s in shape)
    if n > cfg.max_elements:
        raise BadInput(f"{what}: a tensor of shape {tuple(int(s) for s in shape)} has {n:,} elements, more than "
                       f"the audit limit of {cfg.max_elements:,} (AuditConfig.max_elements); audit a smaller layer")


# ------------------------------------------------------------------------------------------ results


@dataclass
class AuditResult:
    """The audit of one tensor (or one packed block).  :meth:`to_dict` is the JSON contract."""

    target: str
    layer: str | None
    shape: tuple[int, ...]
    fans_textbook: tuple[int, int] | None
    fans_framework: tuple[int, int] | None
    expected_spec: str | None
    expected_variance: float | None
    observed_variance: float | None
    n: int
    checks: list[CheckResult]
    min_detectable_rel_error: float | None
    verdict: str
    message: str
    call: str = ""
    reference: str = ""
    explanation: str = ""
    seconds: float = 0.0
    resolution: Resolution | None = None

    @property
    def ratio(self) -> float | None:
        if self.observed_variance is None or not self.expected_variance:
            return None
        return self.observed_variance / self.expected_variance

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "layer": self.layer,
            "shape": list(self.shape),
            "fans": {
                "textbook": list(self.fans_textbook) if self.fans_textbook else None,
                "framework": list(self.fans_framework) if self.fans_framework else None,
            },
            "expected": {"spec": self.expected_spec, "variance": _f(self.expected_variance)},
            "observed": {"variance": _f(self.observed_variance), "n": int(self.n)},
            "checks": [c.to_dict() for c in self.checks],
            "min_detectable_rel_error": _f(self.min_detectable_rel_error),
            "resolution": self.resolution.to_dict() if self.resolution is not None else None,
            "verdict": self.verdict,
            "message": self.message,
        }


def _f(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass
class AuditReport:
    """Results of an audit run, in the common result vocabulary (:mod:`invariants.core.results`).

    Attributes:
        results: one :class:`AuditResult` per tensor / block (or one ``skipped`` entry).
        alpha: the per-check false-alarm rate used.
        total_alpha: the family-wise bound of the run (``alpha * n_checks <= total_alpha``).
        n_checks: the number of checks the budget was split over.
        seconds: wall time of what ``timed`` says.
        timed: what ``seconds`` covers, in words (the renderer prints it beside the figure): the drawing and
            testing of :func:`audit_subjects`, or more where a caller times more (a catalogue run: loading the
            framework and building the catalogue too).
        config: the run's settings (:meth:`AuditConfig.to_dict` and the per-check ``alpha``), the JSON's ``config``.
        frameworks: the frameworks audited (their versions go into the JSON's ``versions``).
        interrupted: the run was stopped (Ctrl-C): ``results`` holds the tensors audited before.
        n_subjects: the subjects (initializer calls) audited; one can yield several results (packed blocks).
        determinism: what the seed-determinism checks covered and which of them failed on which tensors
            (:func:`invariants.audit.determinism.coverage_line`); ``""`` when no subject was audited.
    """

    results: list[AuditResult] = field(default_factory=list)
    alpha: float = 0.0
    total_alpha: float = 0.0
    n_checks: int = 0
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    frameworks: tuple[str, ...] = ()
    interrupted: bool = False
    n_subjects: int = 0
    determinism: str = ""
    timed: str = "drawing and testing"

    @property
    def ok(self) -> bool:
        """True when no result deviates or errs (documented deviations and skipped audits allowed); never for an
        interrupted run."""
        return not self.interrupted and all(r.verdict in (CONFORMS, DOCUMENTED, SKIPPED) for r in self.results)

    @property
    def summary(self) -> str:
        """``audit: N tensors, c conform, d documented deviations, v deviate, e errors, s skipped``."""
        c = self.counts()
        coarse = sum(r.resolution is not None for r in self.results)
        return (f"audit: {len(self.results)} tensors, {c[CONFORMS]} conform, {c[DOCUMENTED]} documented deviations, "
                f"{c[DEVIATES]} deviate, {c[ERROR]} errors, {c[SKIPPED]} skipped"
                + (f", {coarse} at a coarser resolution than asked" if coarse else "")
                + (", interrupted" if self.interrupted else ""))

    @property
    def coverage(self) -> str:
        """``"k of N tensors audited at a coarser resolution than asked: ..."`` naming them, the bound and how
        to raise it (:func:`~invariants.audit.resolution.coverage_line`); ``""`` when every request was met."""
        return coverage_line([(r.target + (f" [{r.layer}]" if r.layer else ""), r.resolution)
                              for r in self.results if r.resolution is not None], len(self.results))

    @property
    def n_audited(self) -> int:
        """Results whose law was checked (``conforms``, ``documented-deviation``, ``deviates``); a run with none
        checked nothing, whatever ``ok`` says (``invariants audit`` exits 2 on it, never 0)."""
        return sum(r.verdict in (CONFORMS, DOCUMENTED, DEVIATES) for r in self.results)

    def counts(self) -> dict[str, int]:
        out = {v: 0 for v in VERDICTS}
        for r in self.results:
            out[r.verdict] += 1
        return out

    @property
    def findings(self) -> list[Finding]:
        """Every result that does not conform: ``deviates`` and ``error`` as errors, documented deviations and
        skipped audits as notes; subject ``target [layer]``, kind the verdict, message the auditor's."""
        return [Finding(r.target + (f" [{r.layer}]" if r.layer else ""), r.verdict, r.message,
                        SEVERE if r.verdict in (DEVIATES, ERROR) else NOTE)
                for r in self.results if r.verdict != CONFORMS]

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (schema ``invariants/schemas/audit.json``): the common keys
        (:func:`~invariants.core.results.common_fields`: ``ok``, ``summary``, ``findings``, ``versions``,
        ``config``), ``alpha``, ``total_alpha``, ``n_checks``, ``seconds``, ``interrupted`` and ``results``
        (one :meth:`AuditResult.to_dict` per tensor or block)."""
        config = {**self.config, "alpha": self.alpha, "n_checks": self.n_checks}
        return {**common_fields(self.ok, self.summary, self.findings, config, self.frameworks),
                "alpha": self.alpha, "total_alpha": self.total_alpha, "n_checks": self.n_checks,
                "seconds": round(self.seconds, 3), "interrupted": self.interrupted,
                "results": [r.to_dict() for r in self.results]}

    def __str__(self) -> str:
        """A summary line and one line per finding (the table: :func:`invariants.render.render_audit`)."""
        return describe(self.summary, self.findings)

    def __iter__(self):
        return iter(self.results)


def skipped_result(target: str, message: str) -> AuditResult:
    return AuditResult(target, None, (), None, None, None, None, None, 0, [], None, SKIPPED, message)


def skipped_subject(subject: Subject, message: str) -> AuditResult:
    """A ``skipped`` result for ``subject`` (its layer, shape and fans kept), saying why in ``message``."""
    return AuditResult(subject.name, subject.layer.describe() if subject.layer else None, tuple(subject.shape),
                       subject.textbook_fans(), subject.framework_fans, subject.expect.describe(), None, None, 0, [],
                       None, SKIPPED, message, call=subject.call)


def empty_result(subject: Subject) -> AuditResult:
    """The result of a tensor with no values (a layer with a zero size, ``dense(0,4)``) whose initializer ran
    on it without error: ``skipped``, never a pass (nothing was checked) and never an error (the layer is
    legal, e.g. ``torch.nn.Linear(0, 4)``)."""
    return skipped_subject(subject, f"0 values: nothing to audit (shape {tuple(subject.shape)})")


def not_implemented_in_dtype(subject: Subject, exc: Exception) -> AuditResult:
    """``skipped``: the framework does not implement the initializer in the requested dtype."""
    return skipped_subject(subject, f"not audited in {requested_dtype(subject)}: the framework does not implement "
                                    f"it in that dtype ({exc})")


# ------------------------------------------------------------------------------------------ laws


def resolve(spec: Spec, fans: tuple[int, int] | None, shape: tuple[int, ...]) -> Law:
    """The law of ``spec`` on ``fans`` and ``shape``.

    Raises:
        ValueError: a fan-dependent spec without fans.
    """
    if getattr(spec, "uses_fans", False):
        if fans is None:
            raise BadInput(f"{spec.text()} needs fans, and this tensor has none")
        return spec.law(int(fans[0]), int(fans[1]), shape)
    return spec.law(None, None, shape)


@dataclass
class AuditUnit:
    """A tensor or packed block to audit, with the laws it is held to.

    Attributes:
        name: the subject's name, plus ``[block]`` for a packed block.
        index: numpy index of the block in the subject's weight (``None``: the whole tensor).
        shape: the unit's weight shape.
        layer: its layer (a packed block's own), or ``None`` for a bare tensor.
        textbook: the layer's textbook ``(fan_in, fan_out)``, or ``None``.
        expected: the law of the expectation, resolved on the fans it names (else textbook, else the
            framework's).
        documented: the law the framework documents, on its fans, or ``None``.
    """

    name: str
    index: tuple[slice, ...] | None
    shape: tuple[int, ...]
    layer: Layer | None
    textbook: tuple[int, int] | None
    expected: Law
    documented: Law | None


def audit_units(subject: Subject) -> list[AuditUnit]:
    """The units of ``subject`` the auditor judges: the whole tensor, or each packed block
    (``subject.blocks``), with their expected and documented laws.

    Raises:
        ValueError: a fan-based spec on a tensor without fans (:func:`resolve`).
    """
    blocks: Sequence[Block | None] = subject.blocks or (None,)
    units = []
    # a zero-stride view: block shapes without allocating the tensor
    full = np.broadcast_to(np.uint8(0), tuple(subject.shape)) if subject.blocks else None
    for block in blocks:
        if block is None:
            layer, index, shape, name = subject.layer, None, tuple(subject.shape), subject.name
        else:
            layer = block.layer or subject.layer
            index = block.index
            shape = tuple(full[index].shape)  # type: ignore[index]
            name = f"{subject.name}[{block.name}]"
        textbook = layer.textbook_fans() if layer is not None else None
        exp_fans = subject.expect.fans or textbook or subject.framework_fans
        expected = resolve(subject.expect.spec, exp_fans, shape)
        documented = None
        if subject.documented is not None:
            doc_fans = subject.documented.fans or subject.framework_fans or textbook
            documented = resolve(subject.documented.spec, doc_fans, shape)
        units.append(AuditUnit(name, index, shape, layer, textbook, expected, documented))
    return units


# ------------------------------------------------------------------------------------------ checks

def unit_batteries(law: Law, documented: Law | None) -> list[Battery]:
    """The batteries :func:`audit_subjects` runs on a unit: ``law``'s law and structure checks, and the
    documented law's law checks (run only when the first fail, counted always: the Bonferroni split is
    fixed before any data is seen)."""
    out = [battery(law)]
    if documented is not None:
        out.append(battery(documented, groups=(LAW,)))
    return out


@lru_cache(maxsize=256)
def _chi2_n(rel_error: float, alpha: float, power: float) -> int:
    return chi2_sample_size(rel_error, alpha, power)


@lru_cache(maxsize=1024)
def _bounded_n(kind: str, loc: float, scale: float, lo: float, hi: float, kurtosis: float, rel: float,
               alpha: float, power: float) -> int:
    """The smaller of the extremes-test and the moment-test sample sizes for a 1% variance error.

    A normal truncated far out (e.g. ``trunc_normal_(std=0.02)`` with its absolute +-2 cut, at +-100 std)
    is bounded in name only: its extremes carry no information, and the moment test decides.
    """
    law = Law(kind, 0, 1, lo, hi, 2, loc, scale)
    n_mom = moment_sample_size(rel, kurtosis, alpha, power, SquaredDeviation.of_law(law))
    try:
        n_ext = bounded_scale_sample_size(rel, law.dist(), lo, hi, alpha, power, max_n=n_mom)
    except ValueError:
        return n_mom
    return min(n_ext, n_mom)


def needed_n(law: Law, cfg: AuditConfig, alpha: float) -> int:
    """Values to pool for ``law`` (0 for constant, dirac and eye laws: a few draws suffice; for an orthogonal
    law on a k x N matrix ``SIGN_COINS * N`` values, i.e. :func:`~invariants.stats.haar.haar_draws` draws, for
    the Haar checks)."""
    if law.kind == "orthogonal":
        return SIGN_COINS * round(law.gain**2 / law.variance)
    if law.kind == "normal":
        return _chi2_n(cfg.rel_error, alpha, cfg.power)
    if law.kind == "sparse":  # the chi-square test runs on the non-zero values only
        return math.ceil(_chi2_n(cfg.rel_error, alpha, cfg.power) / (1.0 - law.sparsity))
    if law.bounded:
        n = _bounded_n(law.kind, law.loc, law.scale, law.lo, law.hi, law.kurtosis, cfg.rel_error, alpha, cfg.power)
        return max(cfg.min_bounded_n, n)
    return 0


def law_checks(law: Law, pool: np.ndarray, draws: Sequence[np.ndarray], alpha: float, power: float,
               bits: int, quantized: bool = False, moments: RunningMoments | None = None) -> list[CheckResult]:
    """The law checks of ``pool`` (all values) and ``draws`` (the tensors) against ``law``
    (:func:`invariants.stats.battery.battery`, group ``law``), each at ``alpha``; ``quantized``: the values
    are a float16/bfloat16 tensor's, judged at that precision (:mod:`invariants.stats.precision`);
    ``moments``: a streaming audit's statistics of every value, ``pool`` and ``draws`` then its first
    draws (:attr:`invariants.stats.battery.Sample.moments`)."""
    sample = Sample(pool, draws, bits, power, quantized=quantized, moments=moments)
    return battery(law, groups=(LAW,)).run(sample, alpha)


def law_checks_pass(law: Law, pool: np.ndarray, draws: Sequence[np.ndarray], alpha: float, power: float,
                    bits: int, quantized: bool = False, moments: RunningMoments | None = None) -> bool:
    """Whether every one of :func:`law_checks` passes (same arguments), stopping at the first that fails
    (:meth:`invariants.stats.battery.Battery.passes`): the decision :func:`explain` needs of a candidate."""
    sample = Sample(pool, draws, bits, power, quantized=quantized, moments=moments)
    return battery(law, groups=(LAW,)).passes(sample, alpha)


def structural_checks(law: Law, draws: Sequence[np.ndarray], alpha: float, bits: int, max_draws: int,
                      quantized: bool = False) -> list[CheckResult]:
    """The structure checks of ``draws`` (copies, degeneracy; group ``structure``), each at ``alpha``;
    the duplicate rows/columns check looks at the first ``max_draws`` draws."""
    sample = Sample(np.empty(0), draws, bits, structure_draws=max_draws, quantized=quantized)
    return battery(law, groups=(STRUCTURE,)).run(sample, alpha)


def min_detectable(law: Law, n: int, alpha: float, power: float, shape: tuple[int, ...], bits: int,
                   n_pool: int | None = None) -> float | None:
    """Smallest relative variance error the law's checks detect with ``power`` at ``n`` values (the
    smallest the checks of its battery state); ``n_pool``: a streaming audit's pooled values, at which the
    checks that do not stream state theirs."""
    return battery(law, groups=(LAW,)).min_detectable_rel_error(n, alpha, power, shape, bits, n_pool)


# ------------------------------------------------------------------------------------------ explanation


def _dists(first: str, corrected: bool) -> list[tuple[str, bool]]:
    opts = [("uniform", True), ("normal", True), ("truncated_normal", True), ("truncated_normal", False)]
    head = (first, corrected)
    return [head] + [o for o in opts if o != head]


def _fan_options(subject: Subject, unit: AuditUnit) -> list[tuple[str, float]]:
    """Labelled fan values n (the denominators of scale/n) that a convention could have used."""
    opts: list[tuple[str, float]] = []
    if unit.textbook:
        fi, fo = unit.textbook
        opts += [(f"textbook fan_in {fi}", fi), (f"textbook fan_out {fo}", fo),
                 (f"textbook fan_avg {(fi + fo) / 2:g}", (fi + fo) / 2),
                 (f"textbook fan_geo_avg {math.sqrt(fi * fo):.6g}", math.sqrt(fi * fo))]
    if subject.framework_fans:
        fi, fo = subject.framework_fans
        opts += [(f"framework fan_in {fi}", fi), (f"framework fan_out {fo}", fo),
                 (f"fan_avg {(fi + fo) / 2:g} of the framework fans ({fi}, {fo})", (fi + fo) / 2),
                 (f"fan_geo_avg {math.sqrt(fi * fo):.6g} of the framework fans ({fi}, {fo})", math.sqrt(fi * fo))]
    # a grouped conv's fans without the groups divided out, so a groups mistake is named as that and not as a
    # coincidence of another fan and scale constant (fan_out 144 with scale 1 fits 2/288 too)
    opts += [(label, float(v)) for label, v in grouped_fan_candidates(unit.layer)]
    opts += [(label, float(v)) for label, v in subject.fan_candidates]
    opts += [(label, float(v)) for label, v in shape_fan_candidates(unit.shape)]
    if unit.shape != tuple(subject.shape):
        opts += [(f"{label} of the whole packed tensor {tuple(subject.shape)}", float(v))
                 for label, v in shape_fan_candidates(subject.shape)]
    seen: set[float] = set()
    out = []
    for label, v in opts:
        key = round(v, 9)
        if v > 0 and key not in seen:
            seen.add(key)
            out.append((label, v))
    return out


def _vs_law(dist: str, corrected: bool, nominal: float) -> Law:
    """Variance-scaling law with nominal variance ``scale/n`` (realised ``0.7737 x`` that if uncorrected)."""
    if dist == "normal":
        return Law.normal(0.0, math.sqrt(nominal))
    if dist == "uniform":
        b = math.sqrt(3.0 * nominal)
        return Law.uniform(-b, b)
    s = math.sqrt(nominal) / (TRUNCATED_NORMAL_STD if corrected else 1.0)
    return Law.truncated_normal(0.0, s, -2 * s, 2 * s)


def _dist_name(dist: str, corrected: bool) -> str:
    return "truncated_normal (uncorrected)" if dist == "truncated_normal" and not corrected else dist


def vs_candidates(spec: VarianceScaling, subject: Subject, unit: AuditUnit) -> list[Candidate]:
    """Variance-scaling laws with other fans, scale constants and distributions than ``spec``."""
    fans = _fan_options(subject, unit)
    exp_fans = subject.expect.fans or unit.textbook or subject.framework_fans
    n_exp = spec.fan(*exp_fans) if exp_fans else None
    scales = [(f"{spec.scale:.6g}", float(spec.scale))] + [s for s in KNOWN_SCALES if not math.isclose(s[1], spec.scale)]
    out = []
    for dist, corr in _dists(spec.distribution, spec.corrected):
        for s_label, scale in scales:
            for f_label, n in fans:
                parts = []
                if n_exp is None or not math.isclose(n, n_exp, rel_tol=1e-12):
                    parts.append(f"fan {n:g} ({f_label}) instead of {spec.mode} {n_exp:g}" if n_exp else f"fan {n:g} ({f_label})")
                if not math.isclose(scale, spec.scale):
                    parts.append(f"scale {s_label} instead of {spec.scale:.6g}")
                if (dist, corr) != (spec.distribution, spec.corrected):
                    parts.append(f"{_dist_name(dist, corr)} instead of {_dist_name(spec.distribution, spec.corrected)}")
                if not parts:
                    continue
                nominal = scale / n
                unc = dist == "truncated_normal" and not corr
                var = nominal * (C2 if unc else 1.0)
                bound = {"normal": math.inf, "uniform": math.sqrt(3 * nominal),
                         "truncated_normal": 2 * math.sqrt(nominal) / (1.0 if unc else TRUNCATED_NORMAL_STD)}[dist]
                kurt = {"normal": 3.0, "uniform": 1.8, "truncated_normal": 2.3655367171296495}[dist]
                label = "; ".join(parts) + f" (variance {scale:.6g}/{n:g}" + (" x 0.7737" if unc else "") + f" = {var:.6g})"
                out.append(Candidate(label, factory=lambda d=dist, c=corr, v=nominal: _vs_law(d, c, v), variance=var,
                                     lo=-bound, hi=bound, kurtosis=kurt))
    return out


def _rescaled(law: Law, f: float) -> Law:
    """``law`` with its variance multiplied by ``f`` about its mean (same shape)."""
    r = math.sqrt(f)
    if law.kind == "normal":
        return Law.normal(law.mean, law.std * r)
    if law.kind == "uniform":
        return Law.uniform(law.mean + (law.lo - law.mean) * r, law.mean + (law.hi - law.mean) * r)
    if law.kind == "truncated_normal":
        return Law.truncated_normal(law.mean + (law.loc - law.mean) * r, law.scale * r,
                                    law.mean + (law.lo - law.mean) * r, law.mean + (law.hi - law.mean) * r)
    raise ValueError(law.kind)


def generic_candidates(spec: Spec, law: Law) -> list[Candidate]:
    """Variants of a fixed (fan-free) spec: truncation units and correction, other shapes, rescalings."""
    out: list[Candidate] = []
    if isinstance(spec, TruncatedNormal):
        for bounds in ("std", "absolute"):
            for corrected in (False, True):
                if (bounds, corrected) == (spec.bounds, spec.corrected):
                    continue
                try:
                    alt = replace(spec, bounds=bounds, corrected=corrected)
                except ValueError:
                    continue
                words = []
                if bounds != spec.bounds:
                    words.append(f"bounds a={spec.a:g}, b={spec.b:g} read as {'absolute values' if bounds == 'absolute' else 'multiples of std'}")
                if corrected != spec.corrected:
                    # a noun phrase: messages read "explained by {label}"
                    words.append("the same law with the truncation correction (std is the truncated law's)"
                                 if corrected else
                                 "the same law without the truncation correction (std is the untruncated normal's)")
                out.append(Candidate("; ".join(words) + f": {alt.law().label}", alt.law()))
    if law.kind in ("normal", "uniform", "truncated_normal"):
        std = law.std
        if law.kind != "normal":
            out.append(Candidate(f"a normal N({law.mean:.6g}, {std:.6g}^2) instead of {law.kind} (same variance)",
                                 Law.normal(law.mean, std)))
        if law.kind != "uniform":
            b = math.sqrt(3) * std
            out.append(Candidate(f"a uniform U({law.mean - b:.6g}, {law.mean + b:.6g}) instead of {law.kind} (same variance)",
                                 Law.uniform(law.mean - b, law.mean + b)))
        for label, f in (("2", 2.0), ("1/2", 0.5), ("3", 3.0), ("1/3", 1 / 3), ("6", 6.0), ("1/6", 1 / 6),
                         ("4", 4.0), ("1/4", 0.25), ("0.7737 (missing truncation correction)", C2),
                         ("1/0.7737 (spurious truncation correction)", 1 / C2)):
            out.append(Candidate(f"variance x {label} ({_rescaled(law, f).label})", _rescaled(law, f)))
    return out


def orthogonal_candidates(law: Law) -> list[Candidate]:
    out = []
    for label, f in (("2", 2.0), ("1/2", 0.5), ("sqrt(2)", math.sqrt(2)), ("1/sqrt(2)", 1 / math.sqrt(2))):
        g = law.gain * f
        out.append(Candidate(f"gain {g:.6g} (x {label})", replace(law, gain=g, variance=law.variance * f * f)))
    out += [Candidate(f"flattened with rows_axis={name}", replace(law, unit_axis=axis))
            for name, axis in FLATTENINGS.items() if axis != law.unit_axis]
    return out


def explain(subject: Subject, unit: AuditUnit, pool: np.ndarray, draws: Sequence[np.ndarray], alpha: float,
            power: float, bits: int, extra: Iterable[Candidate] = (), quantized: bool = False,
            moments: RunningMoments | None = None) -> tuple[str, int]:
    """The first candidate whose checks all pass, in words; ``("", n_tried)`` if none does (``moments``: a
    streaming audit's statistics of every value, as :func:`law_checks`)."""
    spec = subject.expect.spec
    law = unit.expected
    cands: list[Candidate] = list(extra)
    if isinstance(spec, VarianceScaling):
        cands += vs_candidates(spec, subject, unit)
    elif law.kind == "orthogonal":
        cands += orthogonal_candidates(law)
    elif law.kind in STRUCTURED_KINDS:
        cands += structured_candidates(law, unit.shape, pool)
    else:
        cands += generic_candidates(spec, law)
    if moments is None:
        x = pool.astype(np.float64, copy=False)
        lo, hi, n = float(x.min()), float(x.max()), x.size
        m1, m2 = float(np.mean(x)), float(np.mean(np.square(x)))
    else:
        lo, hi, n = moments.lo, moments.hi, moments.n
        m1, m2 = moments.mean, moments.mean_sq_about(0.0)

    tried = 0
    for cand in cands:
        # second moment about the candidate's mean, from the first two raw moments
        v_c = m2 - 2 * cand.mean * m1 + cand.mean**2
        if not plausible(cand, v_c, lo, hi, n, bits):
            continue
        tried += 1
        claw = cand.law
        if law_checks_pass(claw, pool, draws, alpha, power, bits, quantized, moments):
            return cand.label, tried
        if tried >= 40:
            break
    return "", tried


# ------------------------------------------------------------------------------------------ running

Progress = Callable[[int, int, str, "AuditResult | None"], None]


def _seeds_for(subject: Subject, cfg: AuditConfig, count: int) -> list[int]:
    return seed_sequence(cfg.base_seed * 1_000_003 + zlib.crc32(subject.name.encode()), count)


def plan(subjects: Sequence[Subject], cfg: AuditConfig) -> tuple[float, int]:
    """``(alpha_per_check, n_checks)`` for a run over ``subjects`` (Bonferroni split, capped)."""
    runs: list[Battery] = []
    for s in subjects:
        check_size(s.shape, cfg, s.name)
        for u in audit_units(s) if numel(s.shape) else ():  # 0 values: no checks (empty_result)
            runs += unit_batteries(u.expected, u.documented)
            if cfg.determinism:
                runs.append(determinism.check_names(u.expected))
            runs += [[DTYPE_RETURNED]] if requested_dtype(s) else []
    budget = family_budget(cfg.total_alpha, runs, cfg.alpha_cap)
    return budget.per_check, budget.m


def wanted_draws(units: Sequence[AuditUnit], cfg: AuditConfig, alpha: float, requested: str | None = None) -> int:
    """Fresh draws of one tensor (of ``units``) for a sample that detects ``cfg.rel_error`` with
    ``cfg.power`` at per-check ``alpha`` (:func:`needed_n` of every unit's laws), at least ``cfg.min_draws``
    and not capped by ``cfg.max_draws``; ``requested``: a low-precision dtype's own count
    (:func:`~invariants.audit.precision.low_precision_draws`)."""
    per_draw = {u.name: numel(u.shape) for u in units}
    n_draws = cfg.min_draws
    for u in units:
        need = max(needed_n(u.expected, cfg, alpha), needed_n(u.documented, cfg, alpha) if u.documented else 0)
        n_draws = max(n_draws, math.ceil(need / max(per_draw[u.name], 1)))
    return max(cfg.min_draws, low_precision_draws(requested, per_draw.values(), n_draws))


def draw_count(units: Sequence[AuditUnit], cfg: AuditConfig, alpha: float, requested: str | None = None) -> int:
    """:func:`wanted_draws` within ``[cfg.min_draws, cfg.max_draws]``: the draws an audit takes."""
    return min(cfg.max_draws, wanted_draws(units, cfg, alpha, requested))


def draws_cap(cfg: AuditConfig) -> str:
    """How a :class:`~invariants.audit.resolution.Resolution` names the draw cap and how to raise it."""
    return f"max_draws ({cfg.max_draws})"


#: how to raise :attr:`AuditConfig.max_draws` (the API's setting and the command line's flag)
RAISE_DRAWS = "raise AuditConfig.max_draws (--max-draws N on the command line)"


def with_resolution(result: AuditResult, cfg: AuditConfig, capped: bool, requested: str | None = None) -> AuditResult:
    """State on ``result`` a requested ``cfg.rel_error`` its checks do not reach when the draw cap
    (``capped``: :func:`wanted_draws` > ``cfg.max_draws``), or anything else, stopped the sample: the
    :attr:`AuditResult.resolution` and one sentence in its message.  ``requested``: a float16/bfloat16 dtype,
    whose checks' resolution is set by its quantization (:mod:`invariants.stats.precision`), not by the
    sample.  Not a finding: the verdict stays."""
    # uncapped, the sample-size rules reach rel_error; a check that states a coarser one all the same (a
    # low-precision dtype's quantization band) is said too, never passed over in silence
    if capped:
        bound = (draws_cap(cfg), RAISE_DRAWS)
    elif low_precision(MANTISSA_BITS.get(requested or "", 52)):
        bound = (f"the {requested} precision (its quantization band)", "audit in float32 (--dtype float32)")
    else:
        bound = ("the checks' stated resolution", "")
    result.resolution = coarser(cfg.rel_error, result.min_detectable_rel_error, *bound)
    if result.resolution is not None:
        result.message = result.message.rstrip(".") + ". " + result.resolution.sentence(cfg.power)
    return result


#: the law kinds whose audit can stream (:func:`streams`): their sample size grows as 1/rel_error^2 through
#: the variance tests, which need only sufficient statistics
STREAMED_KINDS = ("normal", "uniform", "truncated_normal")


def streams(units: Sequence[AuditUnit], per_draw: int, n_draws: int, cfg: AuditConfig) -> bool:
    """Whether a tensor of ``per_draw`` values drawn ``n_draws`` times is audited streaming: its sample is
    larger than ``cfg.max_pool_values`` and every law of its ``units`` is one of :data:`STREAMED_KINDS`
    (orthogonal, sparse and fixed-pattern laws read whole draws or the non-zero values: pooled as before)."""
    laws = [law for u in units for law in (u.expected, u.documented) if law is not None]
    return n_draws * per_draw > cfg.max_pool_values and all(law.kind in STREAMED_KINDS for law in laws)


def kept_draws(units: Sequence[AuditUnit], per_draw: int, n_draws: int, cfg: AuditConfig,
               requested: str | None = None) -> int:
    """The first draws an audit holds: all ``n_draws`` when pooled; when it streams, as many as fit in
    ``cfg.max_pool_values`` values, at least 2 (the determinism, identical-draws and duplicates checks
    compare draws).  A ``requested`` low-precision dtype is always pooled: its checks
    (:mod:`invariants.stats.precision`) read the values, and its sample size is theirs."""
    if not streams(units, per_draw, n_draws, cfg) or low_precision(MANTISSA_BITS.get(requested or "", 52)):
        return n_draws
    return max(2, min(n_draws, cfg.max_pool_values // max(per_draw, 1)))


def audit_subject(subject: Subject, cfg: AuditConfig, alpha: float) -> list[AuditResult]:
    """Audit one subject (all its blocks); raises :class:`BadInitializer` on bad sampler output."""
    t0 = time.perf_counter()
    check_size(subject.shape, cfg, subject.name)
    if not numel(subject.shape):
        # a legal empty layer (torch.nn.Linear(0, 4)) is a no-op, but the initializer must still run on it:
        # one that crashes there (a division by fan_in = 0, pytorch#48152) raises BadInitializer like any draw
        check_array(subject.sampler(_seeds_for(subject, cfg, 1)[0]), subject.shape, subject.name)
        return [empty_result(subject)]
    units = audit_units(subject)
    requested = requested_dtype(subject)
    wanted = wanted_draws(units, cfg, alpha, requested)
    n_draws = min(cfg.max_draws, wanted)
    keep = kept_draws(units, numel(subject.shape), n_draws, cfg, requested)
    # streaming: every draw folds into its units' running statistics, and only the first `keep` are held
    moments = {u.name: RunningMoments() for u in units} if keep < n_draws else None
    draws_full, returned = [], []
    seeds = _seeds_for(subject, cfg, n_draws)
    for i, seed in enumerate(seeds):
        # the determinism checks compare the first two draws: they run with the global RNGs pinned
        with determinism.pinned(i) if cfg.determinism else contextlib.nullcontext():
            arr = subject.sampler(seed)
        arr = check_array(arr, subject.shape, subject.name)
        if moments is not None:
            wide = widen(arr)
            for u in units:
                moments[u.name].add(wide[u.index] if u.index is not None else wide)
            returned.append(np.empty(0, arr.dtype))  # the dtype of every draw, for dtype_returned
        if i < keep:
            draws_full.append(arr)
    replays = determinism.Replays(subject, seeds[0]) if cfg.determinism else None
    extra = [dtype_returned(requested, returned or draws_full, alpha)] if requested else []
    quantized = is_quantized(draws_full[0])
    raw_first = draws_full[:2]  # the determinism checks compare the draws as returned, bit for bit
    draws_full = [widen(d) for d in draws_full]
    dt_sample = time.perf_counter() - t0
    results = []
    for u in units:
        t1 = time.perf_counter()
        draws = [d[u.index] if u.index is not None else d for d in draws_full]
        results.append(_judge(subject, u, draws, cfg, alpha, extra, quantized,
                              moments[u.name] if moments is not None else None))
        if replays is not None:
            raw = [d[u.index] if u.index is not None else d for d in raw_first]
            with_determinism(results[-1], determinism.determinism_checks(
                u.expected, raw[0], raw[1], replays, u.index, mantissa_bits(raw[0]), alpha))
        with_resolution(results[-1], cfg, wanted > n_draws, requested)
        results[-1].seconds = dt_sample / len(units) + time.perf_counter() - t1
    return results


def with_determinism(result: AuditResult, checks: Sequence[CheckResult]) -> AuditResult:
    """Add the determinism checks to ``result``; any failure makes it ``deviates``, its cause leading the
    message (a tensor that is not a function of its seed is a fault whatever its law)."""
    result.checks = list(result.checks) + list(checks)
    failed = determinism.cause(checks)
    if failed:
        result.verdict = DEVIATES
        result.message = f"seed determinism fails: {failed}. Law: {result.message}"
    return result


def _fmt_fans(f: tuple[int, int] | None) -> str:
    return f"({f[0]}, {f[1]})" if f else "-"


def _judge(subject: Subject, u: AuditUnit, draws: list[np.ndarray], cfg: AuditConfig, alpha: float,
           extra: Sequence[CheckResult] = (), quantized: bool = False,
           moments: RunningMoments | None = None) -> AuditResult:
    pool = np.concatenate([np.ravel(d) for d in draws])
    bits = mantissa_bits(pool)
    if moments is None:
        n = int(pool.size)
        x = pool.astype(np.float64, copy=False)
        observed = float(np.var(x))
        lo, hi = float(x.min()), float(x.max())
    else:  # streaming: the figures are of every value, the pool holds the first draws only
        n, observed, lo, hi = moments.n, moments.variance, moments.lo, moments.hi
    law = u.expected
    structural = list(extra) + structural_checks(law, draws, alpha, bits, cfg.structure_draws, quantized)
    checks = law_checks(law, pool, draws, alpha, cfg.power, bits, quantized, moments)
    mde = min_detectable(law, n, alpha, cfg.power, u.shape, bits, None if moments is None else int(pool.size))
    if quantized and mde != 0:
        # at low precision the checks state the bound (quantization band); an exact law (a constant, an
        # identity: mde 0, every value checked) stays exact at any precision, as its float32 row says
        mde = stated_detectable(checks)
    all_checks = checks + structural
    exp_desc = subject.expect.describe()
    fans_used = subject.expect.fans or u.textbook or subject.framework_fans
    exp_text = f"{exp_desc} on {'textbook ' if not subject.expect.fans and u.textbook else ''}fans {_fmt_fans(fans_used)}" \
        if getattr(subject.expect.spec, "uses_fans", False) else exp_desc
    ratio = observed / law.variance if law.variance else math.nan
    figures = (f"measured variance {observed:.6g} vs expected {law.variance:.6g} (ratio {ratio:.4f}), "
               f"range [{lo:.6g}, {hi:.6g}], n = {n}") if law.variance else \
        f"measured range [{lo:.6g}, {hi:.6g}], n = {n}"
    reference = ""
    explanation = ""
    if all(c.passed for c in all_checks):
        verdict = CONFORMS
        message = f"conforms to {exp_text}: {figures}"
    else:
        failed = [c for c in all_checks if not c.passed]
        doc_ok = False
        if u.documented is not None and all(c.passed for c in structural):
            doc_checks = law_checks(u.documented, pool, draws, alpha, cfg.power, bits, quantized, moments)
            all_checks += [c.renamed("documented:") for c in doc_checks]
            doc_ok = all(c.passed for c in doc_checks)
        extra = []
        if u.documented is not None:
            assert subject.documented is not None
            extra.append(Candidate(f"the documented rule {subject.documented.describe()} ({u.documented.label})", u.documented))
        if all(c.passed for c in structural):
            explanation, _ = explain(subject, u, pool, draws, alpha, cfg.power, bits, extra if not doc_ok else (),
                                     quantized, moments)
        if doc_ok:
            assert subject.documented is not None
            verdict = DOCUMENTED
            reference = subject.documented.reference
            message = (f"documented deviation from {exp_text}: {figures}; matches the documented rule "
                       f"{subject.documented.describe()} (variance {u.documented.variance:.6g})"  # type: ignore[union-attr]
                       + (f"; explained by {explanation}" if explanation else "")
                       + f". Reference: {reference}")
        else:
            verdict = DEVIATES
            fails = "; ".join(f"{c.name}: {c.detail}" for c in failed[:3])
            message = (f"deviates from {exp_text}: {figures}; "
                       + (f"explained by {explanation}" if explanation else "no candidate fan, constant or distribution explains it")
                       + f". Failed: {fails}")
    if moments is not None:
        message = message.rstrip(".") + ". " + coverage(n, len(draws), int(pool.size), alpha, cfg.power,
                                                        not (quantized and low_precision(bits)))
    return AuditResult(
        target=u.name,
        layer=u.layer.describe() if u.layer is not None else None,
        shape=tuple(u.shape),
        fans_textbook=u.textbook,
        fans_framework=subject.framework_fans,
        expected_spec=exp_text,
        expected_variance=law.variance,
        observed_variance=observed,
        n=n,
        checks=all_checks,
        min_detectable_rel_error=mde,
        verdict=verdict,
        message=message,
        call=subject.call,
        reference=reference,
        explanation=explanation,
    )


def coverage(n: int, kept: int, n_pool: int, alpha: float, power: float, streamed_checks: bool = True) -> str:
    """The sentence a streamed result ends with: which checks saw every value, which the first draws, and
    the smallest CDF distance the KS shape check detects at that subsample
    (:func:`~invariants.stats.shape.ks_min_detectable_distance`).  ``streamed_checks``: false for a
    low-precision sample, whose checks (:mod:`invariants.stats.precision`) all read the held values."""
    first = f"the first {kept} draws ({n_pool:,} values)"
    ks = (f"where ks_shape detects a CDF distance of {ks_min_detectable_distance(n_pool, alpha, power):.3g} "
          f"with power {power:g}")
    if not streamed_checks:
        return f"Streamed: the figures are of all {n:,} values; the low-precision checks read {first}, {ks}."
    return f"Streamed: the variance and mean checks read all {n:,} values; the other checks read {first}, {ks}."


def audit_subjects(
    subjects: Sequence[Subject],
    config: AuditConfig | None = None,
    progress: Progress | None = None,
    catch: bool = False,
) -> AuditReport:
    """Audit every subject; the per-check alpha is split over all checks of the run (Bonferroni).

    Args:
        subjects: the tensors to audit.
        config: sampling/testing parameters (default :class:`AuditConfig`).
        progress: called as ``progress(i, total, name, None)`` before each subject and
            ``progress(i, total, name, result)`` after it, once per result (a packed tensor gives one per block).
        catch: record a subject whose sampler raises as verdict ``error`` instead of raising (catalogue
            runs); otherwise :class:`BadInitializer` propagates (user callables: a usage error).

    Raises:
        BadInitializer: a sampler misbehaved and ``catch`` is false.
        ValueError: a subject whose expectation cannot be resolved.
    """
    cfg = config or AuditConfig()
    t0 = time.perf_counter()
    alpha, m = plan(subjects, cfg)
    report = AuditReport(alpha=alpha, total_alpha=cfg.total_alpha, n_checks=m, config=cfg.to_dict())
    total = len(subjects)
    for i, subject in enumerate(subjects, 1):
        if progress:
            progress(i, total, subject.name, None)
        try:
            res = audit_subject(subject, cfg, alpha)
        except BadInitializer as exc:
            if not catch:
                raise
            res = [not_implemented_in_dtype(subject, exc)] if unsupported_dtype(subject, exc) else [AuditResult(subject.name, subject.layer.describe() if subject.layer else None, tuple(subject.shape),
                               subject.textbook_fans(), subject.framework_fans, subject.expect.describe(), None, None,
                               0, [], None, ERROR, f"error: {exc}", call=subject.call)]
        report.results.extend(res)
        report.n_subjects = i
        if progress:  # every result: a caller that keeps them (the partial JSON of a Ctrl-C) must see them all
            for r in res:
                progress(i, total, subject.name, r)
    report.seconds = time.perf_counter() - t0
    # with what the checks found (set once, after them): a failure is named, never read as a pass
    report.determinism = determinism.coverage_line(subjects, cfg.determinism, report.results)
    return report
