"""Streaming sufficient statistics: the count, mean, second central moment and range of a sample that is
seen one batch at a time and never held whole.

The variance tests (:func:`invariants.stats.variance.chi2_variance_test`,
:func:`invariants.stats.moments.moment_variance_test`) and the mean test
(:func:`invariants.stats.moments.mean_test`) read a sample only through ``n``, ``sum(x)`` and
``sum((x - mu)^2)`` for the law's known mean ``mu``; :class:`RunningMoments` keeps exactly those, so memory
is O(1) in the sample size (the auditor's streaming path, :mod:`invariants.audit.auditor`).

Each batch is reduced in float64 (numpy's pairwise sums: relative error ``O(log(batch) eps)``) to
``(n_b, mean_b, M2_b)`` with ``M2_b = sum((x - mean_b)^2)``, and batches are merged by the update of Chan,
Golub and LeVeque (1979, "Updating formulae and a pairwise algorithm for computing sample variances",
Stanford CS report STAN-CS-79-773, eq. 2.1)::

    delta = mean_b - mean_a;  n = n_a + n_b
    mean  = mean_a + delta * n_b / n
    M2    = M2_a + M2_b + delta^2 * n_a * n_b / n

which has no cancellation between large raw power sums (unlike ``sum(x^2) - n mean^2``).  The sum of
squares about any centre ``mu`` follows exactly as ``M2 + n (mean - mu)^2``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class RunningMoments:
    """Count, mean, second central moment and range of the values :meth:`add` has seen (float64).

    Attributes:
        n: number of values.
        mean: their mean (0 while ``n == 0``).
        m2: sum of squared deviations from ``mean`` (units of the values squared).
        lo: smallest value (``inf`` while empty).
        hi: largest value (``-inf`` while empty).
    """

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    lo: float = math.inf
    hi: float = -math.inf

    def add(self, values: Any) -> "RunningMoments":
        """Fold the values of the array-like ``values`` (any shape, any real dtype) in; returns ``self``.

        Raises:
            ValueError: a non-finite value (the tests' samples must be finite).
        """
        x = np.asarray(values, dtype=np.float64).ravel()
        if not x.size:
            return self
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: refused just below
            mb = float(np.mean(x))
        if not math.isfinite(mb) or not np.all(np.isfinite(x)):
            raise ValueError(f"samples contain {int(np.count_nonzero(~np.isfinite(x)))} non-finite value(s)")
        lo, hi = float(x.min()), float(x.max())
        # squared deviations in place and numpy's pairwise sum (not np.dot: a BLAS call, whose thread pool
        # wakes per call and cost 3 ms per 30k values on a loaded 2-core machine, 200x the arithmetic)
        d = x - mb  # a new array: x may be a view of the caller's values
        self.merge(RunningMoments(int(x.size), mb, float(np.sum(np.square(d, out=d))), lo, hi))
        return self

    def merge(self, other: "RunningMoments") -> "RunningMoments":
        """Fold ``other``'s values in (Chan, Golub and LeVeque's update, module docstring); returns ``self``."""
        if other.n == 0:
            return self
        n = self.n + other.n
        delta = other.mean - self.mean
        self.m2 = self.m2 + other.m2 + delta * delta * (self.n * other.n / n)
        self.mean = self.mean + delta * (other.n / n)
        self.n = n
        self.lo, self.hi = min(self.lo, other.lo), max(self.hi, other.hi)
        return self

    @property
    def variance(self) -> float:
        """``M2 / n``: the variance about the sample mean, as ``np.var`` (``ddof=0``); ``nan`` while empty."""
        return self.m2 / self.n if self.n else math.nan

    def sum_sq_about(self, mu: float) -> float:
        """``sum((x - mu)^2)`` over every value seen: ``M2 + n (mean - mu)^2`` (units of the values squared)."""
        return self.m2 + self.n * (self.mean - float(mu)) ** 2

    def mean_sq_about(self, mu: float) -> float:
        """``mean((x - mu)^2)``: the second moment about ``mu``; ``nan`` while empty."""
        return self.sum_sq_about(mu) / self.n if self.n else math.nan


__all__ = ["RunningMoments"]
