"""Extreme values in one weight tensor: entries many standard deviations out (a clamp at a wrong bound,
a corrupted write), as a named finding with the count and the locations.

**The rule** (exact, from the tensor's own size ``n``; per tensor ``alpha_t = total_alpha / (units)``,
split in three):

1. *Scale*, robust to the outliers: ``sigma_up = |x|_(j) / z_0.75`` with ``z_0.75 = 0.6745`` the median of
   ``|Z|`` and ``j`` the smallest order such that ``P(Binomial(n, 1/2) >= j) <= alpha_t/3`` — an exact,
   distribution-free upper confidence bound on the median of ``|x|``, hence on ``sigma`` for a normal law.
   Exact zeros (padding rows, pruned entries) are left out.
2. *Maximum*: under ``N(0, sigma_up²)`` ``P(any |x| > t) <= n · 2·Phi(-t/sigma_up) = alpha_t/3`` gives
   ``t``; every entry beyond ``t`` is counted.
3. *Count* beyond ``4 sigma_up``: ``Binomial(n, 2·Phi(-4))`` tail at ``alpha_t/3`` (a clamp at 4-7 sigma
   over many entries).

The normal is the heaviest-tailed law among the initialization schemes (uniform and truncated normals have
lighter tails and a larger median-to-std ratio), so for every scheme the rule errs only towards a miss;
a heavy-tailed *intended* init (none of the libraries' defaults) would be reported.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from invariants.frameworks.dtypes import is_bfloat16
from invariants.modelcheck.report import ERROR, Finding
from invariants.stats.budget import bonferroni

if TYPE_CHECKING:
    from invariants.modelcheck.variance import Unit

#: median of |Z| for a standard normal
MEDIAN_ABS_Z = float(stats.norm.ppf(0.75))
#: the count test's threshold, in robust standard deviations
COUNT_Z = 4.0
#: fewer nonzero values than this are not tested (the scale bound is too loose to mean anything)
MIN_VALUES = 256


def extreme_test(x: np.ndarray, alpha: float) -> dict | None:
    """The rule of the module docstring on the values ``x`` (any shape) at family alpha ``alpha``.

    Returns:
        ``None`` when nothing is extreme (or too few nonzero values), else ``{"count", "indices" (flat, into
        ``x``), "sigma_up", "threshold", "max_z", "count_4sigma", "p_count", "alpha"}``.
    """
    flat = np.asarray(x).ravel()
    if flat.dtype.kind != "f" and not is_bfloat16(flat.dtype):
        flat = flat.astype(np.float64)
    # the whole tensor is read in its own dtype (bfloat16/float16/32 -> float64 is exact, so every order
    # statistic, count and comparison below is the float64 one): one mask byte and one value per entry at
    # most, no float64 copy and no index array of the whole tensor
    a = np.abs(flat[flat != 0])
    n = a.size
    if n < MIN_VALUES or n < flat.size // 2:
        return None
    a3 = alpha / 3
    j = int(stats.binom.isf(a3, n, 0.5)) + 1  # P(Bin(n, 1/2) >= j) <= a3
    j = min(max(j, 1), n)
    # in place: only counts and the maximum are read from ``a`` after this.  bfloat16 is partitioned as its
    # bits read as uint16: numpy has no native bfloat16 sort (ml_dtypes compares through a callback, ~100x
    # slower), and non-negative IEEE floats order exactly as their bit patterns do (sign-magnitude layout;
    # a NaN, above +inf, lands last as numpy's float sort puts it)
    (a.view(np.uint16) if is_bfloat16(a.dtype) else a).partition(j - 1)
    sigma_up = float(a[j - 1]) / MEDIAN_ABS_Z
    if not sigma_up > 0:
        return None
    # thresholds as numpy float64: compared with bfloat16/float16/32 entries in float64, not rounded to their dtype
    t = np.float64(sigma_up * float(stats.norm.isf(a3 / (2 * n))))
    t4 = np.float64(COUNT_Z * sigma_up)
    n_beyond = int(np.count_nonzero(a > t))
    p4 = 2 * float(stats.norm.sf(COUNT_Z))
    k4 = int(np.count_nonzero(a > t4))
    p_count = float(stats.binom.sf(k4 - 1, n, p4)) if k4 else 1.0
    if n_beyond == 0 and p_count > a3:
        return None
    flagged = _beyond(flat, t if n_beyond else t4)
    return {"count": int(flagged.size), "indices": flagged, "sigma_up": sigma_up, "threshold": float(t),
            "max_z": float(a.max()) / sigma_up, "count_4sigma": k4, "expected_4sigma": n * p4, "p_count": p_count,
            "alpha": alpha, "n": int(n)}


#: entries compared at once by :func:`_beyond` (a bounded temporary, whatever the tensor's size)
CHUNK = 1 << 22


def _beyond(flat: np.ndarray, t: np.float64) -> np.ndarray:
    """Flat indices (ascending) of the entries of ``flat`` with ``|x| > t`` (``t > 0``), chunk by chunk."""
    parts = [np.flatnonzero(np.abs(flat[i:i + CHUNK]) > t) + i for i in range(0, flat.size, CHUNK)]
    return np.concatenate(parts) if parts else np.zeros(0, np.intp)


def _where(idx: np.ndarray, shape: tuple[int, ...], limit: int = 5) -> str:
    locs = [str(list(map(int, np.unravel_index(int(i), shape)))) for i in idx[:limit]]
    return ", ".join(locs) + (f", ... ({idx.size} in all)" if idx.size > limit else "")


def extreme_findings(units: "list[Unit]", total_alpha: float) -> list[Finding]:
    """An ``extreme-values`` error for every unit the rule flags, ``alpha_t = total_alpha / len(units)``."""
    if not units:
        return []
    alpha = bonferroni(total_alpha, len(units))
    out = []
    for u in units:
        # the whole tensor when it is in memory (a strided sample can step over a single stuck entry)
        whole = u.label == u.param.name and u.param.size > u.values.size
        x = u.param.value if whole else u.values
        r = extreme_test(x, alpha)
        if r is None:
            continue
        idx = np.asarray(r["indices"])
        vals = np.asarray(x).ravel()[idx]
        sampled = x.size < u.param.size and u.param.layer is not None and u.packed_fans is None \
            and u.label == u.param.name
        where = _where(idx, tuple(x.shape))
        mags = np.unique(np.abs(vals))
        who = "It sits" if vals.size == 1 else f"All {vals.size} sit"
        cause = (f"{who} at the magnitude {float(mags[0]):.6g}: a value stuck at a clamp bound. "
                 "An inverse-CDF truncated normal with absolute bounds (timm's trunc_normal_(std=0.02) keeps "
                 "torch's old defaults a=-2, b=2, i.e. 100 sigma, and erfinv(-1) = -inf is clamped to -2) "
                 "writes such entries; a clamp in the user's own code does too."
                 if vals.size >= 1 and mags.size == 1 else
                 "Entries stuck at a wrong clamp bound or written over; no initialization scheme has tails this heavy.")
        out.append(Finding(
            ERROR, "extreme-values", (u.label,),
            f"{u.label} has {r['count']} extreme value{'s' if r['count'] > 1 else ''} ({100 * r['count'] / r['n']:.2g}% "
            f"of {r['n']} nonzero entries) beyond {r['threshold']:.4g} = {r['threshold'] / r['sigma_up']:.3g} sigma "
            f"(largest {r['max_z']:.3g} sigma; sigma <= {r['sigma_up']:.4g} from the median |w|), where a normal "
            f"draw of this size exceeds it with probability <= {alpha / 3:.2g}; {r['count_4sigma']} entries beyond "
            f"4 sigma where {r['expected_4sigma']:.2g} are expected (binomial p = {r['p_count']:.2g}); values "
            f"{', '.join(f'{float(v):.4g}' for v in vals[:5])} at {where}{' (index into the strided sample)' if sampled else ''}. "
            f"{cause} (alpha = {alpha:.2g} per tensor).",
            {"count": r["count"], "n": r["n"], "threshold": r["threshold"], "sigma_up": r["sigma_up"],
             "max_z": r["max_z"], "count_4sigma": r["count_4sigma"], "p_count": r["p_count"], "alpha": alpha,
             "sampled": bool(sampled),
             "locations": [list(map(int, np.unravel_index(int(i), x.shape))) for i in idx[:20]]}))
    return out


__all__ = ["COUNT_Z", "MEDIAN_ABS_Z", "extreme_findings", "extreme_test"]
