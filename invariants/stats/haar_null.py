"""The false-alarm probability of :func:`~invariants.stats.haar.haar_sums_test` under the Haar law, bounded on both
sides, for any number of draws.

The check rejects iff ``3 min(F_row, F_col, F_tot) <= alpha``, each ``F`` Fisher's combination
``P(chi2_{2D} >= -2 sum_d log p_d)`` of one part's per-draw p-values over ``D`` independent draws
(:func:`~invariants.stats.haar.sums_pvalues`).  So a part is rejected iff ``sum_d Y_d >= c/2`` with
``Y_d = -log p_d`` i.i.d. and ``c = chi2.isf(alpha/3, 2D)``, and the check's rate lies between the largest part's
rate and the sum of the three (the parts share the draw: their dependence is not used).

**One draw's p-value.**  A part with ``m`` coordinates (``m = k`` rows, ``N`` columns, ``1`` total) of a uniform
unit vector in ``R^N`` (module docstring of :mod:`invariants.stats.haar`) gives ``p = min(1, m P(T^2 >= (|z| - e)_+^2))``
for its largest ``|z|``, ``e`` the rounding allowance.  Hence ``p <= x`` iff some coordinate has
``T^2 >= q_e = (sqrt(q) + e)^2``, ``q = Beta(1/2, (N - 1)/2).isf(x / m)``, and by the Bonferroni inequalities

    m P1(q_e) - C(m, 2) P2(q_e)  <=  P(p <= x)  <=  m P1(q_e),

``P1`` the Beta tail (:func:`~invariants.stats.haar.coordinate_sf`) and ``P2`` the probability that two given
coordinates both exceed (:func:`pair_tail`: ``(T_1^2, T_2^2) ~ Dirichlet(1/2, 1/2, (N - 2)/2)``).  ``P2`` is
decreasing in ``q``, so it is computed by quadrature on a grid and each ``q_e`` takes the value at the grid point
below it (an upper bound on ``P2``, so the lower bound stays one).  The total (``m = 1``) is exact.

**D draws.**  On the lattice ``y_j = j h`` (``h = c/(2M)``, ``M`` :data:`BINS` steps) a variable ``Z`` with
``P(Z >= y_j) = max(0, max_{i >= j} lower(e^{-y_i}))`` is stochastically below ``Y`` (below ``Y`` rounded down
to the lattice), and ``W`` with ``P(W >= y_j) = min(1, upper(e^{-y_{j-1}}))`` is above it (above ``Y`` rounded
up); sums of independent copies keep the order, so ``P(sum Z >= c/2) <= P(reject) <= P(sum W >= c/2)``.  The
law of the sum is the ``D``-fold convolution (FFT, the bin ``>= M`` absorbing), exact up to floating-point
rounding (about 1e-13 of the rate).  The upper bound is also at most ``alpha/3``: ``upper(x) <= x``, so the
p-values are super-uniform and so is their Fisher combination.  With ``D = 1`` the bounds are the two
inequalities above at ``x = alpha/3``.  At ``e = 0`` the total's bounds bracket Fisher's exact ``alpha/3``.

Result (``benchmarks/tail_calibration.py --checks haar``): at ``alpha = 1e-6`` the check's rate lies in
``[0.330 alpha, alpha]`` on every calibrated shape, with 1 to 32 draws; the row and column parts alone are at
least ``0.49 alpha/3`` (the Bonferroni lower bound of a maximum over up to 256 coordinates, at the moderate
per-draw p-values a Fisher combination of 32 draws rejects on).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special, stats

from invariants.stats.haar import coordinate_sf, entry_allowance

#: lattice steps between 0 and ``c/2`` (the width of the bracket from the lattice is about ``D c / (2 BINS)`` in the
#: exponent: 0.8% of the rate at ``D = 32``, ``alpha = 1e-6``)
BINS = 2**16
#: grid points of the pair term's quadrature
PAIR_GRID = 192


def coordinate_isf(p: np.ndarray | float, n: int) -> np.ndarray:
    """``q`` with ``P(T^2 >= q) = p`` for a coordinate ``T`` of a uniform unit vector in ``R^n``
    (the inverse of :func:`~invariants.stats.haar.coordinate_sf`)."""
    return special.betainccinv(0.5, (n - 1) / 2.0, np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0))


def pair_tail(q: float, n: int) -> float:
    """``P(T_1^2 >= q, T_2^2 >= q)`` for two coordinates of a uniform unit vector in ``R^n`` (n >= 3):
    ``(T_1^2, T_2^2)`` is ``Dirichlet(1/2, 1/2, (n - 2)/2)``, so given ``T_1^2 = v``, ``T_2^2 / (1 - v)`` is
    ``Beta(1/2, (n - 2)/2)``; one quadrature over ``v``."""
    if 2 * q >= 1:
        return 0.0
    a, b = 0.5, (n - 1) / 2.0
    log_norm = special.betaln(a, b)
    b2 = (n - 2) / 2.0

    def integrand(v: float) -> float:  # the Beta(1/2, (n - 1)/2) density of T_1^2 times the conditional tail
        density = math.exp((a - 1) * math.log(v) + (b - 1) * math.log1p(-v) - log_norm)
        return density * float(special.betaincc(0.5, b2, min(1.0, q / (1.0 - v))))

    return integrate.quad(integrand, q, 1.0 - q, epsabs=0.0, epsrel=1e-9, limit=200)[0]


def pvalue_cdf_bounds(x: np.ndarray, m: int, n: int, e: float, pair_grid: int = PAIR_GRID
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on ``P(p <= x)`` for one draw's p-value of a part with ``m`` coordinates of a uniform
    unit vector in ``R^n`` and rounding allowance ``e`` (module docstring); ``x`` in ``[0, 1]``, any shape.  The
    pair term is computed at each point when there are at most ``pair_grid`` of them, else on a grid of that many
    (its value at the grid point below: an upper bound, ``P2`` decreasing)."""
    x = np.asarray(x, dtype=np.float64)
    q_e = (np.sqrt(coordinate_isf(x / m, n)) + e) ** 2
    one = np.where(q_e <= 1.0, coordinate_sf(np.minimum(q_e, 1.0), n), 0.0)
    upper = np.minimum(1.0, m * one)
    if m == 1:
        return upper, upper
    pair = np.zeros_like(q_e)
    live = q_e < 0.5  # two coordinates cannot both reach q >= 1/2 (their squares sum to at most 1)
    if np.count_nonzero(live) <= pair_grid:  # few points: each one's own quadrature
        pair[live] = [pair_tail(float(v), n) for v in q_e[live]]
    else:
        grid = np.linspace(float(q_e[live].min()), float(q_e[live].max()), pair_grid)
        at = np.array([pair_tail(float(g), n) for g in grid])
        below = np.searchsorted(grid, q_e[live], side="right") - 1  # the grid point at or below each q_e
        pair[live] = at[np.clip(below, 0, pair_grid - 1)]
    return np.maximum(m * one - m * (m - 1) / 2.0 * pair, 0.0), upper


def _sum_tail(pmf: np.ndarray, draws: int) -> float:
    """``P(sum of draws i.i.d. copies >= M)`` for a lattice law ``pmf`` on ``0..M`` whose last bin means ``>= M``."""
    top = pmf.size - 1

    def conv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        size = 1 << (2 * pmf.size - 1).bit_length()
        full = np.fft.irfft(np.fft.rfft(a, size) * np.fft.rfft(b, size), size)[: 2 * top + 1]
        out = np.maximum(full[: top + 1], 0.0)
        out[top] = max(float(full[top:].sum()), 0.0)  # the absorbing bin: a sum at or beyond M stays there
        return out

    result, base, d = None, pmf, draws
    while d:
        if d & 1:
            result = base if result is None else conv(result, base)
        d >>= 1
        if d:
            base = conv(base, base)
    return float(result[top])  # type: ignore[index]


def fisher_rejection_bounds(m: int, n: int, e: float, draws: int, alpha_part: float, bins: int = BINS,
                            pair_grid: int = PAIR_GRID) -> tuple[float, float]:
    """``(lower, upper)`` bounds on the probability that Fisher's combination of ``draws`` i.i.d. p-values of a part
    (``m`` coordinates in ``R^n``, allowance ``e``) is at most ``alpha_part`` (module docstring)."""
    c2 = float(stats.chi2.isf(alpha_part, 2 * draws)) / 2.0
    if draws == 1:
        lo, hi = pvalue_cdf_bounds(np.array([math.exp(-c2)]), m, n, e, pair_grid)
        return float(lo[0]), float(hi[0])
    y = np.arange(bins + 1) * (c2 / bins)
    lo, hi = pvalue_cdf_bounds(np.exp(-y), m, n, e, pair_grid)
    s_lo = np.maximum.accumulate(lo[::-1])[::-1]  # max over i >= j: nonincreasing, below P(Y >= y_j)
    s_lo[0] = 1.0
    s_hi = np.concatenate([[1.0], np.minimum(1.0, hi[:-1])])  # P(W >= y_j) = upper(e^{-y_{j-1}})
    pmfs = [np.append(s[:-1] - s[1:], s[-1]) for s in (s_lo, s_hi)]
    # the p-values are super-uniform (upper(x) <= x), so Fisher's combination is too: at most alpha_part, which
    # the lattice's rounding up can exceed by about D h in the exponent
    return _sum_tail(pmfs[0], draws), min(_sum_tail(pmfs[1], draws), alpha_part)


@dataclass(frozen=True)
class SumsRate:
    """The Haar sums check's rejection probability: each part's ``(lower, upper)`` and the union's."""

    row: tuple[float, float]
    column: tuple[float, float]
    total: tuple[float, float]

    @property
    def lower(self) -> float:
        return max(self.row[0], self.column[0], self.total[0])

    @property
    def upper(self) -> float:
        return self.row[1] + self.column[1] + self.total[1]


def sums_rate(k: int, n: int, draws: int, alpha: float, bits: int, bins: int = BINS, pair_grid: int = PAIR_GRID
              ) -> SumsRate:
    """The rejection probability of :func:`~invariants.stats.haar.haar_sums_test` at ``alpha`` on ``draws``
    independent exact Haar ``k x n`` frames (``k <= n``) read at ``bits`` mantissa bits, bounded on both sides
    (module docstring).

    Raises:
        ValueError: ``k > n`` or ``n < 3`` (the pair law needs three coordinates).
    """
    if k > n or n < 3:
        raise ValueError(f"sums_rate needs 3 <= n and k <= n, got k={k}, n={n}")
    e = entry_allowance(n, bits)
    part = lambda m: fisher_rejection_bounds(m, n, e, draws, alpha / 3.0, bins, pair_grid)  # noqa: E731
    return SumsRate(part(k), part(n), part(1))


__all__ = ["BINS", "PAIR_GRID", "SumsRate", "coordinate_isf", "fisher_rejection_bounds", "pair_tail",
           "pvalue_cdf_bounds", "sums_rate"]
