"""Exact checks of structured initializers: sparse zero counts and positions, fixed dirac/eye patterns.

**Sparse** (``torch.nn.init.sparse_``: per column; ``mlx.nn.init.sparse``: per row).  Every counted slice
of length ``n`` holds exactly ``k`` zeros at a uniformly random ``k``-subset of its positions, independently
across slices and draws, and the other entries are i.i.d. normal.  A normal draw can itself be exactly 0
(a float sampler has finitely many values: torch's Box–Muller returns 0 when its uniform is 1), with
probability at most ``p_cell`` per entry (:func:`invariants.stats.extremes.max_cell_probability`), so

- :func:`sparse_zeros_test`: a slice with *fewer* than ``k`` zeros is impossible (p = 0); ``E`` extra zeros
  among the ``N`` non-zeroed entries have p-value ``P(Binomial(N, p_cell) >= E)`` (exact tail, conservative);
- :func:`sparse_positions_test`: three exact union bounds, Bonferroni-combined (p = 3 x the smallest):
  (1) two slices of one draw with the same zero set (``P <= D C(S, 2) / C(n, k)``), (2) two draws with the
  same zero mask (``P <= C(D, 2) C(n, k)^-S``), (3) a position zeroed too often or too rarely: over the
  ``M`` slices with exactly ``k`` zeros each position's zero count is exactly ``Binomial(M, k/n)``
  (a slice's extra zeros come from its normal values, independent of where its ``k`` zeros were put, so
  dropping those slices keeps the rest uniform): the smallest of the ``2n`` exact binomial tail
  probabilities of the largest and the smallest count, times ``2n`` (Bonferroni).
  A bound that cannot reach ``alpha`` (``C(n, k)`` small) gives an honest p-value near 1, never a guess.

**Dirac / eye.**  :func:`pattern_test` compares every draw with the one allowed tensor
(:func:`invariants.laws.structured_tensor`), entry by entry: zeros exactly, the gain to the rounding of the
draw's precision; p = 0 or 1.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy import special, stats

from invariants.laws import Law
from invariants.stats.checks import CheckResult, decide
from invariants.stats.extremes import mantissa_bits
from invariants.stats.screen import Candidate
from invariants.stats.variance import DEFAULT_ALPHA, DEFAULT_POWER, check_alpha, check_power


def _slices(draw: np.ndarray, count_axis: int) -> np.ndarray:
    """The draw's zero mask as (slices, n): one row per counted slice (a column for ``count_axis=0``)."""
    mask = np.asarray(draw) == 0
    if mask.ndim != 2:
        raise ValueError(f"a sparse draw must be 2-D, got shape {mask.shape}")
    return mask.T if count_axis == 0 else mask


def zeros_per_slice(n: int, sparsity: float) -> int:
    """``k``: the zeros each slice of length ``n`` holds when a fraction ``sparsity = k/n`` is zeroed."""
    return int(round(sparsity * n))


def sparse_zeros_test(draws: Sequence[np.ndarray], sparsity: float, count_axis: int, p_cell: float,
                      alpha: float = DEFAULT_ALPHA) -> CheckResult:
    """Every slice along ``count_axis`` of every draw holds exactly ``k`` zeros (module docstring).

    ``statistic`` is the number of slices with a zero count other than ``k``.

    Raises:
        ValueError: a draw that is not 2-D, ``alpha`` outside (0, 1).
    """
    alpha = check_alpha(alpha)
    per = "column" if count_axis == 0 else "row"
    wrong, extra, nonzero, short, where = 0, 0, 0, 0, ""
    k = n = 0
    for d, draw in enumerate(draws):
        masks = _slices(draw, count_axis)
        n = masks.shape[1]
        k = zeros_per_slice(n, sparsity)
        counts = masks.sum(axis=1)
        bad = np.flatnonzero(counts != k)
        wrong += bad.size
        short += int(np.count_nonzero(counts < k))
        extra += int(np.sum(np.maximum(counts - k, 0)))
        nonzero += masks.size - k * masks.shape[0]
        if bad.size and not where:
            where = f"; draw {d}, {per} {int(bad[0])} has {int(counts[bad[0]])}"
    if short:
        p = 0.0
    elif extra:
        p = float(stats.binom.sf(extra - 1, max(nonzero, 1), min(p_cell, 1.0)))
    else:
        p = 1.0
    detail = (f"{wrong} of the {per}s of {len(draws)} draws hold other than k = {k} zeros of {n}"
              f" ({short} fewer, {extra} extra zeros in all; an extra zero from the normal has probability "
              f"<= {p_cell:.2g} per entry){where}")
    return decide("sparse_zeros", wrong, p, alpha, detail)


def _log_comb(n: int, k: int) -> float:
    return float(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))


def _n_repeated(rows: np.ndarray) -> int:
    """Rows of a boolean matrix equal to an earlier row."""
    if rows.shape[0] < 2:
        return 0
    return int(rows.shape[0] - np.unique(np.packbits(rows, axis=1), axis=0).shape[0])


def position_balance_threshold(m: int, p: float, n: int, alpha: float) -> int:
    """Smallest zero count ``t`` with ``2 n P(Binomial(m, p) >= t) <= alpha``: a position zeroed ``t`` times
    in ``m`` slices is flagged by the balance part of :func:`sparse_positions_test` at ``alpha``."""
    ts = np.arange(m + 2)
    ok = np.flatnonzero(2 * n * stats.binom.sf(ts - 1, m, p) <= alpha)
    return int(ok[0]) if ok.size else m + 1


def position_min_detectable(m: int, p: float, n: int, alpha: float = DEFAULT_ALPHA / 3,
                            power: float = DEFAULT_POWER) -> float:
    """Smallest relative excess ``delta`` of one position's zero probability (``p (1 + delta)`` instead of
    ``p = k/n``) that the balance part of :func:`sparse_positions_test` detects with probability ``power``
    over ``m`` slices (exact binomial power; ``inf`` if no excess up to certainty is detected)."""
    power = check_power(power, check_alpha(alpha))
    t = position_balance_threshold(m, p, n, alpha)
    if t > m:
        return math.inf
    lo, hi = p, 1.0
    if stats.binom.sf(t - 1, m, hi) < power:
        return math.inf
    for _ in range(60):
        mid = (lo + hi) / 2
        if stats.binom.sf(t - 1, m, mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi / p - 1.0


def sparse_positions_test(draws: Sequence[np.ndarray], sparsity: float, count_axis: int,
                          alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER) -> CheckResult:
    """The zeros sit at uniformly random, independent positions (module docstring: repeated zero sets
    within a draw, repeated masks across draws, per-position zero counts).  ``statistic`` is the number
    of the three parts that reject at ``alpha / 3``.

    Raises:
        ValueError: a draw that is not 2-D, ``alpha``/``power`` out of range.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    per = "column" if count_axis == 0 else "row"
    masks = [_slices(d, count_axis) for d in draws]
    s, n = masks[0].shape
    k = zeros_per_slice(n, sparsity)
    log_sets = _log_comb(n, k)  # log C(n, k): the number of zero sets a slice can have
    # (1) a zero set repeated within a draw
    rep_within = sum(_n_repeated(m) for m in masks)
    log_b1 = math.log(len(masks) * s * (s - 1) / 2) - log_sets if s > 1 else -math.inf
    p1 = math.exp(min(0.0, log_b1)) if rep_within else 1.0
    # (2) a mask repeated across draws
    flat = np.stack([m.ravel() for m in masks])
    rep_across = _n_repeated(flat)
    d = len(masks)
    log_b2 = math.log(d * (d - 1) / 2) - s * log_sets if d > 1 else -math.inf
    p2 = math.exp(min(0.0, log_b2)) if rep_across else 1.0
    # (3) per-position zero counts over the slices with exactly k zeros
    exact = np.concatenate([m[m.sum(axis=1) == k] for m in masks])
    mm = exact.shape[0]
    q = k / n
    counts = exact.sum(axis=0) if mm else np.zeros(n)
    hi, lo = int(counts.max()), int(counts.min())
    # each position and each tail gives an exact (discrete, so conservative) p-value; 2n of them: Bonferroni
    p3 = min(1.0, 2 * n * min(float(stats.binom.sf(hi - 1, mm, q)), float(stats.binom.cdf(lo, mm, q)))) if mm else 1.0
    parts = (p1, p2, p3)
    p = min(1.0, 3 * min(parts))
    rejects = sum(x <= alpha / 3 for x in parts)
    delta = position_min_detectable(mm, q, n, alpha / 3, power) if mm else math.inf
    detail = (f"zero sets: {rep_within} {per}s repeat another {per}'s within a draw (p <= {p1:.2g}), "
              f"{rep_across} draws repeat another draw's mask (p <= {p2:.2g}); per-position zero counts over "
              f"{mm} {per}s in [{lo}, {hi}] vs Binomial({mm}, {k}/{n}) mean {mm * q:.4g} (p <= {p3:.2g}; detects "
              f"one position zeroed {100 * delta:.3g}% more often than the others with power {power:g})")
    return decide("sparse_positions", rejects, p, alpha, detail)


def pattern_test(draws: Sequence[np.ndarray], expected: np.ndarray, what: str,
                 alpha: float = DEFAULT_ALPHA, bits: int | None = None) -> CheckResult:
    """Every draw equals ``expected`` entry by entry: every entry that should be 0 is exactly 0, and every
    other is the expected value to the rounding of the draw's precision (``|x - e| <= 2^-bits |e|``, ``bits``
    the mantissa bits the values carry, :func:`invariants.stats.extremes.mantissa_bits`: a gain of 0.1 is
    0.1 rounded to float32 or to bfloat16).  ``statistic`` is the number of wrong entries over all draws,
    p = 0 or 1.  ``what`` names the pattern in the detail.

    Raises:
        ValueError: ``alpha`` outside (0, 1).
    """
    alpha = check_alpha(alpha)
    wrong, first = 0, ""
    for d, draw in enumerate(draws):
        x = np.asarray(draw)
        if x.shape != expected.shape:
            wrong += x.size
            first = first or f"; draw {d} has shape {x.shape}, expected {expected.shape}"
            continue
        b = mantissa_bits(x) if bits is None else bits
        xf = x.astype(np.float64)
        diff = np.where(expected == 0, xf != 0, np.abs(xf - expected) > np.abs(expected) * 2.0**-b)
        wrong += int(np.count_nonzero(diff))
        if diff.any() and not first:
            first = f"; draw {d}: {int(np.count_nonzero(x))} non-zero entries, expected {int(np.count_nonzero(expected))}"
            for label, where in (("wrong value", diff & (expected != 0)), ("unexpected non-zero", diff & (expected == 0))):
                hits = np.argwhere(where)
                if len(hits):
                    at = tuple(int(i) for i in hits[0])
                    first += f"; {label} {float(x[at]):.7g} at {at} (expected {float(expected[at]):.7g})"
    detail = f"{wrong} entries differ from {what} over {len(draws)} draws{first}"
    return decide("pattern", wrong, 0.0 if wrong else 1.0, alpha, detail)


# ------------------------------------------------------------------------------------------ explanations

_FACTORS = (("2", 2.0), ("1/2", 0.5), ("sqrt(2)", math.sqrt(2.0)), ("1/sqrt(2)", 1 / math.sqrt(2.0)), ("-1", -1.0),
            ("10", 10.0), ("1/10", 0.1))


def structured_candidates(law: Law, shape: tuple[int, ...], pool: np.ndarray | None = None) -> list[Candidate]:
    """Laws a faulty structured initializer is likely to follow instead of ``law`` (a ``sparse``, ``dirac``
    or ``eye`` law on ``shape``), each with its cause in words: for sparse, the std scaled (by a common
    factor, or to the std measured on the non-zero values of ``pool``), the zeros counted along the other
    axis, one zero fewer per slice (floor for ceil), the density read as the sparsity, no zeros at all; for
    dirac, the groups ignored (``groups=1``), and the gain scaled; for eye, the gain scaled.  Each is only a
    candidate: the auditor names it only if its own checks pass.
    """
    out: list[Candidate] = []
    values = None if pool is None else np.ravel(pool)[np.ravel(pool) != 0].astype(np.float64)

    def add(label: str, make: "Callable[[], Law]") -> None:
        try:
            out.append(Candidate(label, make()))
        except ValueError:
            pass

    if law.kind == "sparse":
        n = shape[law.unit_axis]
        k = zeros_per_slice(n, law.sparsity)
        std, mean, axis = law.scale, law.loc, law.unit_axis
        for f_label, f in _FACTORS:
            if f > 0:
                add(f"non-zero std {std * f:.6g} (x {f_label}) instead of {std:.6g}",
                    lambda f=f: Law.sparse(law.sparsity, std * f, shape, axis, mean))
        if values is not None and values.size > 1:
            est = float(np.sqrt(np.mean(np.square(values - mean))))
            if est > 0:
                add(f"non-zero std {est:.4g} (measured; x {est / std:.3g}) instead of {std:.6g}",
                    lambda: Law.sparse(law.sparsity, est, shape, axis, mean))
        other = "row" if axis == 0 else "column"
        add(f"zeros counted per {other} instead of per {'column' if axis == 0 else 'row'} "
            f"(ceil(s * {shape[1 - axis]}) in each {other})",
            lambda: Law.sparse(law.sparsity, std, shape, 1 - axis, mean))
        add(f"{k - 1} zeros per slice instead of {k} (floor or round instead of ceil)",
            lambda: Law.sparse((k - 1) / n, std, shape, axis, mean))
        add(f"{n - k} zeros per slice instead of {k} (the density 1 - s used as the sparsity)",
            lambda: Law.sparse(1 - law.sparsity, std, shape, axis, mean))
        add(f"no entries zeroed: plain N({mean:.6g}, {std:.6g}^2)", lambda: Law.normal(mean, std))
        return out
    if law.kind == "dirac" and law.groups != 1:
        add(f"groups ignored: dirac with groups=1 instead of {law.groups} (one diagonal over all output channels)",
            lambda: Law.dirac(shape, 1, law.gain, law.unit_axis))
    factors = list(_FACTORS)
    if values is not None and values.size:
        common, counts = np.unique(values, return_counts=True)
        measured = float(common[np.argmax(counts)])
        if not math.isclose(measured, law.gain) and not any(math.isclose(measured, law.gain * f) for _, f in factors):
            factors.append((f"{measured / law.gain:.4g}, measured", measured / law.gain))
    for f_label, f in factors:
        g = law.gain * f
        if law.kind == "dirac":
            add(f"gain {g:.6g} (x {f_label}) instead of {law.gain:.6g}",
                lambda g=g: Law.dirac(shape, law.groups, g, law.unit_axis))
        elif law.kind == "eye":
            add(f"gain {g:.6g} (x {f_label}) instead of {law.gain:.6g}", lambda g=g: Law.eye(shape, g))
    return out


__all__ = ["pattern_test", "structured_candidates", "position_balance_threshold", "position_min_detectable", "sparse_positions_test",
           "sparse_zeros_test", "zeros_per_slice"]
