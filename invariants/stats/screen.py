"""A cheap screen for candidate laws, before their full battery of checks is run.

Explaining a deviation (the auditor), fingerprinting an initializer (``identify``) and matching a model
tensor to a named scheme (the model check) each weigh tens to hundreds of candidate laws against one
sample.  :func:`plausible` rules most of them out from the sample's second moment and range alone, in
O(1) each; only the survivors get the full :func:`invariants.stats.battery.battery`.  The screen is
loose on purpose (8 standard errors, a range gap of probability below ``e^-50``): it saves time and
never decides a verdict on its own.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

from invariants.laws import FIXED_PATTERN_KINDS
from invariants.stats.extremes import bound_tolerance

if TYPE_CHECKING:
    from invariants.laws import Law


class Candidate:
    """A candidate law that might explain a sample, with the reason in words.

    ``law`` may be given directly or as a zero-argument factory (built only if the cheap screen on
    ``variance``/``lo``/``hi``/``kurtosis`` passes; hundreds of candidates are screened per deviation).

    Attributes:
        label: the reason, in words (shown to users).
        variance, mean: the law's entry variance and mean (weight units squared, weight units).
        lo, hi: its support (``-inf``/``inf`` when unbounded).
        kurtosis: its Pearson kurtosis (3 for a normal).
        kind: the law's kind when given directly, ``""`` for a factory.
    """

    def __init__(self, label: str, law: "Law | None" = None, factory: "Callable[[], Law] | None" = None,
                 variance: float | None = None, mean: float = 0.0, lo: float = -math.inf, hi: float = math.inf,
                 kurtosis: float = 3.0) -> None:
        self.label = label
        self._law = law
        self._factory = factory
        if law is not None:
            variance, mean, lo, hi, kurtosis = law.variance, law.mean, law.lo, law.hi, law.kurtosis
        self.variance, self.mean, self.lo, self.hi, self.kurtosis = variance, mean, lo, hi, kurtosis
        self.kind = law.kind if law is not None else ""

    @property
    def law(self) -> "Law":
        """The law (built from the factory on first use)."""
        if self._law is None:
            assert self._factory is not None
            self._law = self._factory()
        return self._law


def plausible(cand: Candidate, v_hat: float, lo: float, hi: float, n: int, bits: int) -> bool:
    """Whether ``cand`` survives the cheap screen on a sample of ``n`` values.

    Args:
        cand: the candidate.
        v_hat: the sample's second moment about ``cand.mean``.
        lo, hi: the sample's smallest and largest value.
        n: sample size.
        bits: mantissa bits of the sample's dtype (the rounding tolerance of the bounds,
            :func:`invariants.stats.extremes.bound_tolerance`).

    Returns:
        False when the relative variance error exceeds 8 standard errors (``se = sqrt((kurtosis - 1) /
        n)``, the delta-method error of a second moment), when a value lies outside the candidate's
        support beyond rounding, or, for a bounded law, when the gap between the sample's extremes and the
        law's bounds has probability below ``e^-50`` (exact: ``P(max <= x) = F(x)^n``); True otherwise
        (always for constant, orthogonal, dirac and eye candidates, which have their own exact checks).
    """
    if cand.kind in ("constant", "orthogonal", *FIXED_PATTERN_KINDS):
        return True
    kurt = cand.kurtosis if math.isfinite(cand.kurtosis) else 3.0
    se = math.sqrt(max(kurt - 1.0, 1e-6) / max(n, 1))
    if not cand.variance or abs(v_hat / cand.variance - 1.0) > 8 * se + 1e-9:
        return False
    bounded = math.isfinite(cand.lo) and math.isfinite(cand.hi)
    tol = bound_tolerance(cand.lo, cand.hi, bits) if bounded else 0.0
    if bounded and (lo < cand.lo - tol or hi > cand.hi + tol):
        return False
    law = cand.law
    if law.bounded:
        # exact: P(max <= hi) = F(hi)^n; a gap this improbable (< e^-50) rules the law out
        dist = law.dist()
        sf_hi = float(dist.sf(min(hi + tol, law.hi)))
        cdf_lo = float(dist.cdf(max(lo - tol, law.lo)))
        if n * math.log1p(-min(sf_hi, 1 - 1e-16)) < -50 or n * math.log1p(-min(cdf_lo, 1 - 1e-16)) < -50:
            return False
    return True


__all__ = ["Candidate", "plausible"]
