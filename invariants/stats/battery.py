"""Batteries of checks: which checks apply to a law, and the false-alarm budget they share.

A :class:`Check` is one statistical or structural test with a stated false-alarm rate: it says which
laws it applies to, runs at a given per-check ``alpha`` on a :class:`Sample`, and, where the test has
one, states the smallest relative variance error it detects with a given power.  :func:`battery`
returns the checks of :data:`CHECKS` that apply to a law, in a fixed order; every caller that splits a
family-wise false-alarm rate (the auditor, ``identify``, the model check) counts the checks it runs
from these batteries (:func:`family_budget`), so adding a check to :data:`CHECKS` changes every split
at once and the family-wise bound ``m * alpha <= total_alpha`` keeps holding (Bonferroni union bound,
see :mod:`invariants.stats.budget`).

The default checks (groups ``law`` and ``structure``), in the order they run and report:

====================  ==============================================  ==========================================================
check                 applies to                                      source
====================  ==============================================  ==========================================================
``constant``          constant laws                                   :func:`~invariants.stats.structure.constant_test`
``orthogonality``     orthogonal laws                                 :func:`~invariants.stats.structure.orthogonality_test`
``haar_sums``         orthogonal laws                                 :func:`~invariants.stats.haar.haar_sums_test`
``haar_signs``        orthogonal laws                                 :func:`~invariants.stats.haar.haar_signs_test`
``haar_trace``        orthogonal laws (square draws; else not run)    :func:`~invariants.stats.haar.haar_trace_test`
``haar_entries``      orthogonal laws                                 :func:`~invariants.stats.haar.haar_entries_test`
``chi2_variance``     normal laws                                     :func:`~invariants.stats.variance.chi2_variance_test`
``moment_variance``   uniform and truncated normal laws               :func:`~invariants.stats.moments.moment_variance_test`
``mean``              continuous laws                                 :func:`~invariants.stats.moments.mean_test`
``support``           bounded laws (finite ``lo`` and ``hi``)         :func:`~invariants.stats.extremes.support_test`
``extremes``          continuous laws                                 :func:`~invariants.stats.extremes.extremes_test`
``point_mass``        continuous laws                                 :func:`~invariants.stats.extremes.point_mass_test`
``ks_shape``          continuous laws                                 :func:`~invariants.stats.shape.ks_test`
``degenerate``        every law but constant, dirac, eye (structure)  :func:`~invariants.stats.structure.degenerate_test`
``identical_draws``   continuous and orthogonal laws (structure)      :func:`~invariants.stats.structure.identical_draws_test`
``duplicates``        continuous laws (structure)                     :func:`~invariants.stats.structure.duplicates_test`
``sparse_zeros``      sparse laws                                     :func:`~invariants.stats.structured.sparse_zeros_test`
``sparse_positions``  sparse laws                                     :func:`~invariants.stats.structured.sparse_positions_test`
``nonzero_*``         sparse laws: the normal law checks above        on :func:`nonzero_values` (results ``nonzero_<name>``)
``pattern``           dirac and eye laws                              :func:`~invariants.stats.structured.pattern_test`
====================  ==============================================  ==========================================================

At low precision (a quantized :class:`Sample`: the values of a float16 or bfloat16 tensor) the same checks run
against the law as a correct sampler computes it in the format (:mod:`invariants.stats.precision`): the
variance checks become its clipped-moment test (results named ``quantized_variance``), ``mean`` a sign test,
``ks_shape``, ``extremes``, ``point_mass`` and the structure checks take its CDF allowance.

So a normal law has 5 law checks, a uniform or truncated normal (finite bounds) 6, an orthogonal law 5
(exact orthonormality, then the Haar law: :mod:`invariants.stats.haar`), a constant law 1, a sparse law 7
(its non-zero values get the normal law's 5), dirac and eye laws 1; the structure checks add 3 (continuous),
2 (orthogonal), 1 (sparse: ``degenerate``; its positions check covers repeated draws) and 0 (constant, dirac,
eye: one fixed tensor, so every draw is the same by design).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterable, Iterator, Protocol, Sequence, Sized, runtime_checkable

import numpy as np

from invariants.laws import FIXED_PATTERN_KINDS, Law, matrix_dims, structured_tensor
from invariants.stats.budget import AlphaBudget
from invariants.stats.checks import CheckResult, from_variance_result
from invariants.stats.extremes import (
    bound_slack,
    bounded_scale_min_detectable_rel_error,
    extremes_test,
    max_cell_probability,
    point_mass_test,
    support_test,
)
from invariants.stats.haar import haar_entries_test, haar_signs_test, haar_sums_test, haar_trace_test
from invariants.stats.moments import (
    mean_test,
    mean_test_from_mean,
    moment_min_detectable_rel_error,
    moment_variance_from_mean_square,
    moment_variance_test,
)
from invariants.stats.precision import (
    cdf_allowance,
    low_precision,
    quantized_ks_test,
    quantized_mean_test,
    quantized_variance_test,
    tail_floor,
)
from invariants.stats.order import sorted_values
from invariants.stats.saddlepoint import SquaredDeviation
from invariants.stats.shape import ks_passes, ks_test
from invariants.stats.structure import (
    constant_test,
    degenerate_test,
    duplicates_test,
    identical_draws_test,
    orthogonality_test,
    orthogonality_tolerance,
)
from invariants.stats.structured import pattern_test, sparse_positions_test, sparse_zeros_test
from invariants.stats.streaming import RunningMoments
from invariants.stats.variance import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    chi2_min_detectable_rel_error,
    chi2_variance_from_sum,
    chi2_variance_test,
)

LAW = "law"
STRUCTURE = "structure"
GROUPS = (LAW, STRUCTURE)


@dataclass(frozen=True)
class Sample:
    """What a check looks at.

    Attributes:
        pool: every value, any shape (flattened by the checks), any float dtype.
        draws: the independent tensors the pool was made of, each in its own shape (structure checks
            and the orthogonality check read them as matrices); a single model tensor is ``[tensor]``.
        bits: mantissa bits of the dtype (:func:`invariants.stats.extremes.mantissa_bits`).
        power: power at which checks with a sample-size rationale state their detectable error.
        structure_draws: at most this many draws go into the duplicate rows/columns check (``None``: all).
        quantized: the values are a float16/bfloat16 tensor's (a dtype, not a guess from the values): the
            law is judged at that precision (:mod:`invariants.stats.precision`) when ``bits`` < 23.
        moments: streamed sufficient statistics of a larger sample of which ``pool`` and ``draws`` are the
            first values (a streaming audit, :mod:`invariants.stats.streaming`); the checks marked
            ``streamed`` (variance and mean) read them and so have the power of every value, the others
            read ``pool``.  ``None`` (default): ``pool`` is the whole sample.
    """

    pool: np.ndarray
    draws: Sequence[np.ndarray]
    bits: int
    power: float = DEFAULT_POWER
    structure_draws: int | None = None
    quantized: bool = False
    moments: RunningMoments | None = None

    @property
    def streams(self) -> bool:
        """Whether the streamed checks read :attr:`moments` (present, and not a low-precision sample: those
        checks are :mod:`invariants.stats.precision`'s, which read the values)."""
        return self.moments is not None and not self.low_precision

    @property
    def low_precision(self) -> bool:
        """Whether the low-precision checks apply (``quantized`` and fewer than float32's bits)."""
        return self.quantized and low_precision(self.bits)

    def allowance(self, law: "Law") -> float:
        """The CDF allowance of a low-precision sampler (:func:`invariants.stats.precision.cdf_allowance`),
        0 unless :attr:`low_precision`."""
        return cdf_allowance(law, self.bits) if self.low_precision else 0.0

    @cached_property
    def sorted_pool(self) -> np.ndarray:
        """:attr:`pool` flattened and sorted once (:func:`invariants.stats.order.sorted_values`), shared
        by the order-statistics checks (``ks_shape``, ``point_mass``); shape ``(n,)``."""
        return sorted_values(self.pool)


@runtime_checkable
class Check(Protocol):
    """One check with a stated false-alarm rate.

    ``group`` is ``"law"`` (tests a sample against the law) or ``"structure"`` (tests the draws for
    copies and degeneracy, whatever the law's scale).  ``run`` returns a
    :class:`~invariants.stats.checks.CheckResult` that passes with probability ``>= 1 - alpha`` when the
    sample follows ``law``.  ``min_detectable_rel_error`` is the smallest relative variance error the
    check detects with probability ``power`` at ``n`` values, or ``None`` where the check states none.
    An optional ``streamed`` attribute (default false) says the check reads a streaming :class:`Sample`'s
    :attr:`~Sample.moments` and so sees every value, not only the pool.
    """

    name: str
    group: str

    def applies(self, law: "Law") -> bool: ...

    def run(self, law: "Law", sample: Sample, alpha: float) -> CheckResult: ...

    def min_detectable_rel_error(self, law: "Law", n: int, alpha: float, power: float,
                                 shape: tuple[int, ...], bits: int) -> float | None: ...


Detectable = Callable[["Law", int, float, float, "tuple[int, ...]", int], "float | None"]


@dataclass(frozen=True)
class FunctionCheck:
    """A :class:`Check` made of three functions (the form of every default check).

    Attributes:
        name: the check's name (the name its results carry, except ``chi2_variance``/``moment_variance``
            whose results carry the variance test's own name, the same words).
        applies_to: ``law -> bool``.
        runner: ``(law, sample, alpha) -> CheckResult``.
        detectable: ``(law, n, alpha, power, shape, bits) -> float | None``; ``None`` when the check states
            no detectable error.
        group: ``"law"`` or ``"structure"``.
        streamed: the runner reads :attr:`Sample.moments` when the sample streams (so it sees every value).
    """

    name: str
    applies_to: Callable[["Law"], bool]
    runner: Callable[["Law", Sample, float], CheckResult]
    detectable: Detectable | None = None
    group: str = LAW
    streamed: bool = False

    def applies(self, law: "Law") -> bool:
        return bool(self.applies_to(law))

    def run(self, law: "Law", sample: Sample, alpha: float) -> CheckResult:
        return self.runner(law, sample, alpha)

    def min_detectable_rel_error(self, law: "Law", n: int, alpha: float, power: float,
                                 shape: tuple[int, ...], bits: int) -> float | None:
        return None if self.detectable is None else self.detectable(law, n, alpha, power, shape, bits)


# ------------------------------------------------------------------------------------------ defaults


def _continuous(law: "Law") -> bool:
    return law.kind in ("normal", "uniform", "truncated_normal")


def _orthogonal(law: "Law") -> bool:
    return law.kind == "orthogonal"


def _p_cell(law: "Law", s: Sample) -> float:
    """Largest probability of one representable value under ``law`` (the structure checks' null), plus a
    low-precision sampler's CDF allowance (:meth:`Sample.allowance`; 0 unless the sample is quantized)."""
    if not law.continuous:
        return 2.0 ** -s.bits
    return min(1.0, max_cell_probability(law.dist(), s.bits) + s.allowance(law))


def _chi2_mde(law: "Law", n: int, alpha: float, power: float, shape: tuple[int, ...], bits: int) -> float | None:
    return max(chi2_min_detectable_rel_error(n, alpha, power)) if n >= 2 else None


def _moment_mde(law: "Law", n: int, alpha: float, power: float, shape: tuple[int, ...], bits: int) -> float | None:
    if n < 2:
        return None
    return max(moment_min_detectable_rel_error(n, law.kurtosis, alpha, power, SquaredDeviation.of_law(law)))


# at low precision (a quantized sample: float16, bfloat16 values) the variance, mean and shape checks are
# those of invariants.stats.precision, and the extremes and point-mass checks take its CDF allowance: the
# null is the law as a correct sampler computes it in the format (same checks, same names, same budget; the
# stated detectable error is the result's own, min_detectable_rel_error of quantized_variance)

def _variance(law: "Law", s: Sample, a: float) -> CheckResult:
    if s.low_precision:
        return quantized_variance_test(s.pool, law, s.allowance(law), a, s.power)
    if s.streams:
        m = s.moments
        assert m is not None
        if law.kind == "normal":
            return from_variance_result(chi2_variance_from_sum(m.sum_sq_about(law.mean), m.n, law.variance, a, s.power))
        return from_variance_result(moment_variance_from_mean_square(m.mean_sq_about(law.mean), m.n, law.variance,
                                                                     law.kurtosis, a, s.power,
                                                                     SquaredDeviation.of_law(law)))
    if law.kind == "normal":
        return from_variance_result(chi2_variance_test(s.pool, law.variance, a, law.mean, s.power))
    return from_variance_result(moment_variance_test(s.pool, law.variance, law.kurtosis, a, law.mean, s.power,
                                                     SquaredDeviation.of_law(law)))


def _mean(law: "Law", s: Sample, a: float) -> CheckResult:
    if s.low_precision:
        return quantized_mean_test(s.pool, law.dist(), law.mean, law.std, s.allowance(law), a, s.power)
    if s.streams:
        assert s.moments is not None
        return mean_test_from_mean(s.moments.mean, s.moments.n, law.mean, law.std, a, s.power)
    return mean_test(s.pool, law.mean, law.std, a, s.power)


def _shape(law: "Law", s: Sample, a: float) -> CheckResult:
    if s.low_precision:
        return quantized_ks_test(s.sorted_pool, law.dist(), s.allowance(law), a, s.power, presorted=True)
    return ks_test(s.sorted_pool, law.dist(), a, s.power, presorted=True)


def _extremes(law: "Law", s: Sample, a: float) -> CheckResult:
    if not s.low_precision:
        return extremes_test(s.pool, law.dist(), law.lo, law.hi, a, s.bits)
    # a truncation far out in the tails (trunc_normal_(std=0.02) cut at +-2) leaves a normal's tails, where a
    # low-precision sampler's u -> 0 or 1 atom clamped to the bound shows: test them as unbounded tails
    lo, hi = (-math.inf, math.inf) if law.truncation_negligible else (law.lo, law.hi)
    return extremes_test(s.pool, law.dist(), lo, hi, a, s.bits, s.allowance(law), tail_floor(s.bits))


def _extremes_mde(law: "Law", n: int, alpha: float, power: float, shape: tuple[int, ...], bits: int) -> float | None:
    # the bounded-scale rationale of the extremes test; a normal law's extremes state no variance error
    if law.kind == "normal" or n < 2:
        return None
    # the tests flag a value only beyond the bounds' rounding tolerance (bound_slack): in bfloat16 that
    # hides a rescaling of a few percent, which the stated error must not claim to see
    slack = bound_slack(law.lo, law.hi, bits)
    return max(bounded_scale_min_detectable_rel_error(n, law.dist(), law.lo, law.hi, alpha, power, slack))


def _orthogonality_mde(law: "Law", n: int, alpha: float, power: float, shape: tuple[int, ...],
                       bits: int) -> float | None:
    return orthogonality_tolerance(*matrix_dims(shape, law.unit_axis), bits)


CHECKS: tuple[Check, ...] = (
    FunctionCheck("constant", lambda law: law.kind == "constant",
                  lambda law, s, a: constant_test(s.pool, law.mean, a),
                  lambda *_: 0.0),
    FunctionCheck("orthogonality", _orthogonal,
                  lambda law, s, a: orthogonality_test(s.draws, law.gain, law.unit_axis, a),
                  _orthogonality_mde),
    FunctionCheck("haar_sums", _orthogonal, lambda law, s, a: haar_sums_test(s.draws, law.unit_axis, a, s.power)),
    FunctionCheck("haar_signs", _orthogonal, lambda law, s, a: haar_signs_test(s.draws, law.unit_axis, a, s.power)),
    FunctionCheck("haar_trace", _orthogonal, lambda law, s, a: haar_trace_test(s.draws, law.unit_axis, a, s.power)),
    FunctionCheck("haar_entries", _orthogonal, lambda law, s, a: haar_entries_test(s.draws, law.unit_axis, a, s.power)),
    FunctionCheck("chi2_variance", lambda law: law.kind == "normal", _variance, _chi2_mde, streamed=True),
    FunctionCheck("moment_variance", lambda law: _continuous(law) and law.kind != "normal", _variance, _moment_mde,
                  streamed=True),
    FunctionCheck("mean", _continuous, _mean, streamed=True),
    FunctionCheck("support", lambda law: _continuous(law) and law.bounded,
                  lambda law, s, a: support_test(s.pool, law.lo, law.hi, a, s.bits)),
    FunctionCheck("extremes", _continuous, _extremes, _extremes_mde),
    FunctionCheck("point_mass", _continuous,
                  lambda law, s, a: point_mass_test(s.sorted_pool, law.dist(), a, s.bits, s.allowance(law),
                                                                  presorted=True)),
    FunctionCheck("ks_shape", _continuous, _shape),
    FunctionCheck("degenerate", lambda law: law.kind not in ("constant", *FIXED_PATTERN_KINDS),
                  lambda law, s, a: degenerate_test(s.draws, _p_cell(law, s), a), group=STRUCTURE),
    FunctionCheck("identical_draws", lambda law: law.kind in ("normal", "uniform", "truncated_normal", "orthogonal"),
                  lambda law, s, a: identical_draws_test(s.draws, _p_cell(law, s), a), group=STRUCTURE),
    FunctionCheck("duplicates", _continuous,
                  lambda law, s, a: duplicates_test(s.draws[:s.structure_draws], _p_cell(law, s), a),
                  group=STRUCTURE),
)


# ------------------------------------------------------------------------------------------ structured


def _sparse(law: "Law") -> bool:
    return law.kind == "sparse"


def nonzero_values(pool: np.ndarray) -> np.ndarray:
    """The values of a sparse sample that are not exactly 0 (a normal draw that is exactly 0 is dropped
    with them: probability <= the cell probability, and dropping it leaves the others i.i.d.)."""
    pool = np.ravel(pool)
    return pool[pool != 0]


def _on_nonzeros(check: Check) -> Check:
    """``check`` (a normal-law check) run on the non-zero values of a sparse sample against the law of
    those values (:meth:`invariants.laws.Law.nonzero_law`); its results are named ``nonzero_<name>``."""
    def run(law: "Law", s: Sample, a: float) -> CheckResult:
        # the streamed moments are of every value, zeros included: the non-zero values are the pool's only
        sample = Sample(nonzero_values(s.pool), s.draws, s.bits, s.power, s.structure_draws, s.quantized)
        return check.run(law.nonzero_law(), sample, a).renamed("nonzero_")

    def detectable(law: "Law", n: int, a: float, p: float, shape: tuple[int, ...], bits: int) -> float | None:
        return check.min_detectable_rel_error(law.nonzero_law(), int(n * (1 - law.sparsity)), a, p, shape, bits)

    return FunctionCheck(f"nonzero_{check.name}", _sparse, run, detectable, check.group)


def _pattern(law: "Law", s: Sample, a: float) -> CheckResult:
    shape = tuple(np.shape(s.draws[0])) if len(s.draws) else ()
    return pattern_test(s.draws, structured_tensor(law, shape), law.label, a, s.bits)


_NORMAL = Law.normal(0.0, 1.0)
CHECKS = CHECKS + (
    FunctionCheck("sparse_zeros", _sparse,
                  lambda law, s, a: sparse_zeros_test(s.draws, law.sparsity, law.unit_axis,
                                                      max_cell_probability(law.nonzero_law().dist(), s.bits), a)),
    FunctionCheck("sparse_positions", _sparse,
                  lambda law, s, a: sparse_positions_test(s.draws, law.sparsity, law.unit_axis, a, s.power)),
    *(_on_nonzeros(c) for c in CHECKS if c.group == LAW and c.applies(_NORMAL)),
    FunctionCheck("pattern", lambda law: law.kind in FIXED_PATTERN_KINDS, _pattern, lambda *_: 0.0),
)


# ------------------------------------------------------------------------------------------ batteries


@dataclass(frozen=True)
class Battery:
    """The checks that apply to one law, in run order.  ``len(battery)`` is what a budget counts.

    Attributes:
        law: the law under test.
        checks: the applicable checks.
    """

    law: "Law"
    checks: tuple[Check, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks)

    def run(self, sample: Sample, alpha: float) -> list[CheckResult]:
        """Every check on ``sample`` at per-check ``alpha``, in order (one result per check).

        Raises:
            ValueError: as the checks (an ``alpha`` outside (0, 1), an empty sample).
        """
        return [c.run(self.law, sample, alpha) for c in self.checks]

    def passes(self, sample: Sample, alpha: float) -> bool:
        """Whether every check passes on ``sample`` at per-check ``alpha``: the decision
        ``all(r.passed for r in self.run(sample, alpha))``, stopping at the first check that fails (a
        candidate law that misses the variance never pays for the exact KS p-value), and the KS shape check
        on full-precision values decided without its p-value where the distance alone decides it
        (:func:`~invariants.stats.shape.ks_passes`: the same decisions, bit for bit).

        Raises:
            ValueError: as :meth:`run`, from the checks it reaches.
        """
        for c in self.checks:
            if c.name == "ks_shape" and not sample.low_precision:
                ok = ks_passes(sample.sorted_pool, self.law.dist(), alpha)
            else:
                ok = c.run(self.law, sample, alpha).passed
            if not ok:
                return False
        return True

    def min_detectable_rel_error(self, n: int, alpha: float, power: float, shape: tuple[int, ...],
                                 bits: int, n_pool: int | None = None) -> float | None:
        """Smallest relative variance error any of the checks detects with ``power`` at ``n`` values
        (the minimum of the checks' stated errors; ``None`` when none states one).

        ``n_pool``: a streaming sample (:attr:`Sample.moments`) whose pool holds only the first ``n_pool``
        of the ``n`` values: the checks that are not ``streamed`` state their error at ``n_pool``.
        """
        def size(c: Check) -> int:
            return n if n_pool is None or getattr(c, "streamed", False) else n_pool

        stated = [d for c in self.checks
                  if (d := c.min_detectable_rel_error(self.law, size(c), alpha, power, shape, bits)) is not None]
        return min(stated) if stated else None


def battery(law: "Law", groups: Iterable[str] = GROUPS, extra: Iterable[Check] = (),
            checks: Iterable[Check] | None = None) -> Battery:
    """The checks that apply to ``law``.

    Args:
        law: a :class:`~invariants.laws.Law`.
        groups: which groups to include (``"law"``, ``"structure"``; default both).
        extra: checks appended after the registry's (those that apply and are in ``groups``).
        checks: the registry (default :data:`CHECKS`, read at call time).

    Raises:
        ValueError: an unknown group.
    """
    groups = tuple(groups)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown check group(s) {sorted(unknown)}; expected some of {GROUPS}")
    pool = tuple(CHECKS if checks is None else checks) + tuple(extra)
    return Battery(law, tuple(c for c in pool if c.group in groups and c.applies(law)))


def family_budget(total_alpha: float, batteries: Iterable[Sized], cap: float | None = DEFAULT_ALPHA) -> AlphaBudget:
    """The :class:`~invariants.stats.budget.AlphaBudget` of a run of ``batteries``.

    ``m`` is the number of checks the batteries hold together (at least 1, so an empty run gets a
    valid budget); each check runs at ``per_check = min(cap, total_alpha / m)`` and the probability of
    any false alarm in the run is at most ``m * per_check <= total_alpha`` (union bound).

    Args:
        total_alpha: family-wise false-alarm bound, in (0, 1).
        batteries: :class:`Battery` objects (or anything with a ``len``: the number of checks each holds).
        cap: upper limit on any single check's alpha (default 1e-6); ``None`` for none.

    Raises:
        ValueError: ``total_alpha`` or ``cap`` outside (0, 1).
    """
    m = sum(len(b) for b in batteries)
    return AlphaBudget(total_alpha, max(m, 1), cap)


__all__ = ["CHECKS", "GROUPS", "LAW", "STRUCTURE", "Battery", "Check", "FunctionCheck", "Sample", "battery",
           "family_budget", "nonzero_values"]
