"""The log-log slope of a second moment against width (or depth), with a t-interval over seeds, and its verdict.

Units.  Every slope here is of the *second moment* ``m = mean(x²)`` (over the batch and the coordinates of one
tensor), on log2 axes: ``slope = d log2 m / d log2 n``.  The RMS slope is half of it (``√m``).  So a tensor whose
RMS grows like ``√n`` has slope 1; one whose entries grow like ``n`` has slope 2; Θ(1) is slope 0.

Estimator.  For seed ``s`` the model is built at every size ``n_1 < ... < n_k`` (the same seed, the same input)
and ``b_s`` is the weighted least-squares slope of ``log2 m_s(n_i)`` on ``log2 n_i`` with the fixed weights
``w_i ∝ n_i``: a network's finite-width fluctuation of ``log m`` has variance ``O(depth/n)``
(:mod:`invariants.propagation`, the sampling band), so these are the inverse-variance weights, and being fixed
in advance they keep the ``b_s`` independent (weights estimated from the same seeds would not).  The seeds
are independent, so the
``b_s`` are i.i.d.; the interval is Student's ``b̄ ± t_{1-α/2, S-1} · sd(b)/√S``.  Assumption (stated in every
report): ``b_s`` is normal.  It is the slope of logs of means of many squares, so by the central limit theorem
and the delta method ``log m`` is close to normal at the widths used (its spread is ``O(√(depth/width))``,
:mod:`invariants.propagation`); the t-interval is exact for normal ``b_s`` and robust to moderate departures
(Student 1908; the interval does not assume the seeds' spread is known).  Few seeds are paid for honestly:
``t_{1-5e-7, S-1}`` is about 1.0e3 at S = 3, 15.8 at S = 8, 7.9 at S = 16 and 6.1 at S = 32.

Verdict, with ``s_min`` the smallest slope that matters (:data:`S_MIN` = 0.25 on the second moment):

- ``theta1``: the whole interval lies inside ``(-s_min, s_min)`` (an equivalence test, Schuirmann 1987's two
  one-sided tests at level α: a slope below ``s_min`` changes the second moment by less than 2x over the 16x
  width range 64..1024, and by less than 1.6x per decade);
- ``growing``: ``lo >= s_min`` (the slope is at least ``s_min`` with confidence 1-α);
- ``vanishing``: ``hi <= -s_min``;
- ``undecided``: none of these; the report says how many seeds would decide, if the seeds' spread stays.

Why ``s_min = 0.25``: the parametrizations this check tells apart differ by second-moment slopes of 1 or more
(SP vs μP updates, Yang & Hu 2021; a fixed-std init, slope 1 per hidden layer; see :mod:`invariants.scaling.theory`),
so a quarter of the smallest real difference keeps every real pattern at least ``0.75`` away from the band,
while finite-width corrections of order ``depth/width`` (about 0.05 in slope at widths >= 64 for a few layers)
stay well inside it: a correct model is not accused for its finite-width bias.
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import stats

#: smallest second-moment slope that matters (see the module docstring)
S_MIN = 0.25

THETA1, GROWING, VANISHING, UNDECIDED = "theta1", "growing", "vanishing", "undecided"
VERDICTS = (THETA1, GROWING, VANISHING, UNDECIDED)

#: the most seeds :func:`seeds_needed` searches before it says "none would decide"
MAX_SEEDS = 100_000


@dataclass(frozen=True)
class SlopeFit:
    """The slope of one tensor's second moment against size, over seeds.

    Attributes:
        slope: mean of the per-seed slopes ``b̄`` (second moment, log2 per log2 of the size).
        lo, hi: the (1-α) t-interval of the slope.
        sd: the per-seed slopes' standard deviation (``nan`` with one seed).
        seeds: the number of seeds ``S``.
        alpha: the two-sided level of the interval.
        verdict: one of :data:`VERDICTS`.
        seeds_needed: for ``undecided``, the seeds that would decide at this spread (``None``: none would,
            the slope sits on ``±s_min``); ``None`` otherwise.
        per_seed: the per-seed slopes.
        s_min: the smallest slope that matters, of the verdict.
    """

    slope: float
    lo: float
    hi: float
    sd: float
    seeds: int
    alpha: float
    verdict: str
    seeds_needed: int | None = None
    per_seed: tuple[float, ...] = field(default=(), repr=False)
    s_min: float = S_MIN

    @property
    def detectable(self) -> float:
        """The smallest ``|slope|`` this fit's spread detects as growing or vanishing with power 0.99, taking the
        seeds' spread as the true one: ``s_min + δ·sd/√S`` with ``δ`` the noncentrality at which the noncentral t
        (``S − 1`` degrees of freedom) exceeds ``t_{1-α/2}`` with probability 0.99.  ``inf`` with fewer than 2
        seeds."""
        if self.seeds < 2 or not math.isfinite(self.sd):
            return math.inf
        return self.s_min + power_noncentrality(self.alpha, self.seeds - 1) * self.sd / math.sqrt(self.seeds)

    @property
    def rms_slope(self) -> float:
        """The slope of the RMS (half the second moment's)."""
        return self.slope / 2

    def interval_text(self) -> str:
        """``+1.02 [+0.95, +1.09]`` (second moment)."""
        return f"{self.slope:+.2f} [{self.lo:+.2f}, {self.hi:+.2f}]"


def per_seed_slopes(sizes: Sequence[float], moments: np.ndarray, linear: bool = False) -> np.ndarray:
    """Weighted least-squares slope of ``log2 moments[s, i]`` on ``log2 sizes[i]`` for each seed ``s``, with the
    fixed weights ``w_i = sizes[i]`` (module docstring).  ``linear``: against ``sizes`` themselves with equal
    weights (depth mode, :mod:`invariants.scaling.depth`).

    Args:
        sizes: the ``k >= 2`` distinct sizes (widths or depths).
        moments: positive finite second moments, shape ``(S, k)``.

    Raises:
        ValueError: fewer than 2 distinct sizes, a shape mismatch, or a moment that is not positive and finite.
    """
    x = np.asarray(sizes, dtype=float) if linear else np.log2(np.asarray(sizes, dtype=float))
    m = np.asarray(moments, dtype=float)
    if m.ndim != 2 or m.shape[1] != x.size:
        raise ValueError(f"moments must have shape (seeds, {x.size}), got {m.shape}")
    if np.unique(x).size < 2:
        raise ValueError("a slope needs at least 2 distinct sizes")
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise ValueError("second moments must be positive and finite")
    w = np.ones(x.size) if linear else np.asarray(sizes, dtype=float)
    w = w / w.sum()
    xc = x - w @ x
    y = np.log2(m)
    return (y - (y @ w)[:, None]) @ (w * xc) / float(w @ xc**2)


@lru_cache(maxsize=4096)
def t_quantile(alpha: float, df: int) -> float:
    """``t_{1-α/2, df}``: the two-sided Student quantile."""
    return float(stats.t.isf(alpha / 2, df))


@lru_cache(maxsize=1024)
def power_noncentrality(alpha: float, df: int, power: float = 0.99) -> float:
    """The noncentrality ``δ`` with ``P(T_{df, δ} > t_{1-α/2, df}) = power`` (noncentral Student t)."""
    from scipy.optimize import brentq

    crit = t_quantile(alpha, df)
    return float(brentq(lambda d: stats.nct.sf(crit, df, d) - power, 0.0, 100.0 * crit + 100.0))


def classify(lo: float, hi: float, s_min: float = S_MIN) -> str:
    """The verdict of an interval ``[lo, hi]`` (module docstring)."""
    if -s_min < lo and hi < s_min:
        return THETA1
    if lo >= s_min:
        return GROWING
    if hi <= -s_min:
        return VANISHING
    return UNDECIDED


def seeds_needed(slope: float, sd: float, alpha: float, s_min: float = S_MIN) -> int | None:
    """The fewest seeds ``S`` whose interval ``slope ± t_{1-α/2,S-1}·sd/√S`` would decide, if the mean and the
    spread stayed as measured; ``None`` when none up to :data:`MAX_SEEDS` would (``|slope|`` at ``s_min``)."""
    margin = abs(abs(slope) - s_min)
    if not math.isfinite(sd) or margin <= 0:
        return None
    if sd == 0:
        return 2
    lo_s, hi_s = 2, MAX_SEEDS
    if t_quantile(alpha, hi_s - 1) * sd / math.sqrt(hi_s) >= margin:
        return None
    while lo_s < hi_s:  # the half-width decreases in S: bisect
        mid = (lo_s + hi_s) // 2
        if t_quantile(alpha, mid - 1) * sd / math.sqrt(mid) < margin:
            hi_s = mid
        else:
            lo_s = mid + 1
    return lo_s


def fit_slope(sizes: Sequence[float], moments: np.ndarray, alpha: float, s_min: float = S_MIN,
              linear: bool = False) -> SlopeFit:
    """The t-interval of the slope of ``moments`` (shape ``(seeds, sizes)``) against ``sizes``, and its verdict.

    With one seed there is no spread: the interval is unbounded and the verdict ``undecided``.

    Raises:
        ValueError: as :func:`per_seed_slopes`, or ``alpha`` outside (0, 1).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    b = per_seed_slopes(sizes, moments, linear)
    mean = float(b.mean())
    if b.size < 2:
        return SlopeFit(mean, -math.inf, math.inf, math.nan, int(b.size), alpha, UNDECIDED, None, tuple(b), s_min)
    sd = float(b.std(ddof=1))
    half = t_quantile(alpha, b.size - 1) * sd / math.sqrt(b.size)
    lo, hi = mean - half, mean + half
    verdict = classify(lo, hi, s_min)
    need = seeds_needed(mean, sd, alpha, s_min) if verdict == UNDECIDED else None
    return SlopeFit(mean, lo, hi, sd, int(b.size), alpha, verdict, need, tuple(float(v) for v in b), s_min)


__all__ = ["GROWING", "MAX_SEEDS", "S_MIN", "SlopeFit", "THETA1", "UNDECIDED", "VANISHING", "VERDICTS", "classify",
           "fit_slope", "per_seed_slopes", "power_noncentrality", "seeds_needed", "t_quantile"]
