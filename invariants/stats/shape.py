"""Shape test: Kolmogorov–Smirnov against the promised law (the statistic and p-value of
``scipy.stats.kstest``, computed from a pool sorted once: :mod:`invariants.stats.order`).

Used only for the *shape* of the distribution (normal vs uniform vs truncated normal, mixtures,
clipping); the variance and the bounds have their own exact or more powerful tests.

Detectable distance: under the alternative the empirical CDF is within ``eps_p = sqrt(log(2/(1-power))
/ (2n))`` of the true CDF with probability >= ``power`` (Dvoretzky–Kiefer–Wolfowitz inequality with
Massart's constant, Massart 1990, *Ann. Probab.* 18:1269), so any law whose CDF differs from the null's
by more than ``D_crit + eps_p`` in sup norm is rejected with probability >= ``power``; ``D_crit`` is the
``1 - alpha`` quantile of the KS statistic (``scipy.stats.kstwo``, or its Kolmogorov limit
``scipy.stats.kstwobign`` above n = 10^4).
"""
from __future__ import annotations

import functools
import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special, stats

from invariants.stats.checks import CheckResult, decide, deferred_decision
from invariants.stats.order import sorted_values
from invariants.stats.variance import DEFAULT_ALPHA, DEFAULT_POWER, check_alpha, check_power


@lru_cache(maxsize=1024)
def ks_min_detectable_distance(n: int, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER) -> float:
    """Sup-norm CDF distance detected with probability >= ``power`` by :func:`ks_test` at ``n``."""
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    n = int(n)
    # exact quantile of D_n for n <= 10^4; above, Kolmogorov's limit sqrt(n) D_n -> K (kstwobign), which
    # scipy's kstest itself uses there, and which is ~100x faster than kstwo.isf
    d_crit = float(stats.kstwo.isf(alpha, n)) if n <= 10_000 else float(stats.kstwobign.isf(alpha)) / math.sqrt(n)
    return d_crit + math.sqrt(math.log(2.0 / (1.0 - power)) / (2.0 * n))


def closed_form_cdf(dist: Any) -> Any:
    """The CDF of the frozen scipy distribution ``dist`` as one vectorized expression where it has one,
    bit for bit ``dist.cdf`` on finite float64 input, without scipy's per-call argument handling.

    Normal: ``ndtr((x - loc) / scale)``; uniform: ``clip((x - loc) / scale, 0, 1)``, as SciPy 1.17's
    ``rv_continuous.cdf`` (``scipy/stats/_distn_infrastructure.py``) computes them on the interior of the
    support (``norm_gen._cdf`` is ``ndtr``, ``uniform_gen._cdf`` the identity; 0 and 1 outside).  Any
    other distribution (or a non-scipy one such as :class:`invariants.laws.TruncNormDist`, already
    vectorized) returns ``dist.cdf`` itself.
    """
    family = getattr(getattr(dist, "dist", None), "name", None)
    if family not in ("norm", "uniform") or not hasattr(dist, "args"):
        return dist.cdf
    params = dict(zip(("loc", "scale"), dist.args))
    params.update(getattr(dist, "kwds", {}))
    if set(params) - {"loc", "scale"}:
        return dist.cdf
    loc, scale = params.get("loc", 0.0), params.get("scale", 1.0)
    if not (np.isfinite(loc) and np.isfinite(scale) and scale > 0):
        return dist.cdf  # scipy's own handling of invalid parameters (nan results)
    if family == "norm":
        return lambda x: special.ndtr((x - loc) / scale)
    # + 0.0: scipy's 0 below the support is +0, clip would keep a -0 input's sign
    return lambda x: np.clip((x - loc) / scale, 0.0, 1.0) + 0.0


def ks_distance(xs: np.ndarray, cdf: Any) -> float:
    """``D``: the two-sided one-sample KS distance of the sorted float values ``xs`` (shape ``(n,)``,
    ``n >= 1``) to the continuous CDF ``cdf``, bit for bit ``scipy.stats.kstest(xs, cdf).statistic``.

    Source: SciPy 1.17 ``scipy/stats/_stats_py.py``: ``ks_1samp`` (``D = max(D+, D-)`` with
    ``D+ = max(i/n - F(x_i))``, ``D- = max(F(x_i) - (i-1)/n)`` over the sorted float64 sample, as
    ``_compute_d`` computes them).  The sort is the caller's, done once.
    """
    x = np.asarray(xs, dtype=np.float64)
    n = x.shape[-1]
    cdfvals = cdf(x)
    d_plus = (np.arange(1.0, n + 1, dtype=np.float64) / n - cdfvals).max()
    d_minus = (cdfvals - np.arange(0.0, n, dtype=np.float64) / n).max()
    return float(d_plus if d_plus > d_minus else d_minus)


@lru_cache(maxsize=4096)
def ks_p_value(d: float, n: int) -> float:
    """SciPy's exact p-value of a KS distance ``d`` at ``n`` values, ``kstwo.sf(d, n)`` clipped to [0, 1]
    (``ks_1samp``'s default ``method='auto'``, which always selects it).

    Cached: it costs up to ~0.2 s at ``n = 10^5`` (SciPy's exact ``smirnov`` sum in double-double
    arithmetic when ``n D^2 >= 2.2``), and an audit meets one pool's distance again (a documented rule or
    candidate law equal to the expected one, the same pool judged twice)."""
    return float(np.clip(np.asarray(stats.kstwo.sf(d, n), dtype=np.float64), 0.0, 1.0))


#: how far beyond ``alpha`` a bound on the true KS tail must lie for :func:`ks_screen` to settle the verdict
SCREEN_MARGIN = 10.0


def ks_screen(d: float, n: int, alpha: float) -> bool | None:
    """The verdict ``ks_p_value(d, n) > alpha`` where a cheap rigorous bound on the true tail
    ``P(D_n >= d)`` settles it with a factor :data:`SCREEN_MARGIN` to spare; ``None`` in between (then only the
    exact p-value decides).  Microseconds, against up to seconds for ``kstwo.sf`` at ``n ~ 5e5``.

    - Fails when ``2 exp(-2 n d^2) <= alpha / 10``: Massart's two-sided DKW bound (Massart 1990, *Ann. Probab.*
      18:1269, Thm 1; it needs ``exp(-2 n d^2) <= 1/2``, true here).  SciPy's value there is exact
      (``n <= 140``) or ``2 smirnov(n, d)`` (Miller's approximation, ``scipy/stats/_ksstats.py:_kolmogn``), at
      most twice the one-sided tail and so at most ``2 exp(-2 n d^2)`` by the same theorem's one-sided bound.
    - Passes when ``2 bdtrc(floor(n/2 + n d) + 1, n, 1/2) >= 10 alpha``: the distance is at least the gap at the
      median, ``|F_n(m) - 1/2|``, where ``n F_n(m)`` is Binomial(n, 1/2), so ``P(D_n >= d) >= P(|B - n/2| > n d)
      = 2 P(B > n/2 + n d)`` (the ``+ 1`` absorbs the rounding of ``n/2 + n d``).  SciPy's value is then the exact
      law, Pelz-Good's expansion (absolute error far below ``9 alpha`` and the tail itself, >= 0.02 there)
      or ``2 smirnov``, an upper bound on the tail (union of the two one-sided tails).

    ``tests/stats/test_ks_screen.py`` checks every settled verdict against SciPy's exact p-value on a grid and
    on sampled pools, and that a screen without the margin is caught.
    """
    if not (0.0 < d < 1.0) or n < 1:
        return None  # nan, or SciPy's exact end cases
    if 2.0 * math.exp(-2.0 * n * d * d) <= alpha / SCREEN_MARGIN:
        return False
    if 2.0 * float(special.bdtrc(math.floor(n / 2 + n * d) + 1, n, 0.5)) >= SCREEN_MARGIN * alpha:
        return True
    return None


def ks_statistic(xs: np.ndarray, cdf: Any) -> tuple[float, float]:
    """``(D, p)``: :func:`ks_distance` and :func:`ks_p_value`, bit for bit those of
    ``scipy.stats.kstest(xs, cdf)``."""
    d = ks_distance(xs, cdf)
    return d, ks_p_value(d, int(np.asarray(xs).shape[-1]))


#: ``(n, alpha) -> [largest D seen whose p > alpha, smallest D seen whose p <= alpha]`` (:func:`ks_passes`)
_KS_SEEN: dict[tuple[int, float], list[float]] = {}


def ks_passes(xs: np.ndarray, dist: Any, alpha: float) -> bool:
    """Whether ``ks_test(xs, dist, alpha, presorted=True).passed`` (``xs``: sorted float values, shape
    ``(n,)``; ``dist`` a frozen scipy distribution), without its p-value where the decision is known.

    The exact p-value ``kstwo.sf(D, n)`` costs ~50 ms at ``n = 65536`` and is the same for every
    continuous ``cdf`` (the KS statistic is distribution-free).  It decreases in ``D``, so one distance
    with ``p > alpha`` decides every smaller one at the same ``n`` and ``alpha`` (and one with
    ``p <= alpha`` every larger one): the bounds seen are kept per ``(n, alpha)`` and only a ``D`` between
    them pays for the p-value.  A model whose blocks repeat one shape computes a handful of p-values
    instead of one per tensor; the decisions are those of :func:`ks_test`, bit for bit.

    Raises:
        ValueError: as :func:`ks_test` (fewer than 2 values, non-finite values, ``alpha`` out of range).
    """
    xs = np.asarray(xs).ravel()
    if xs.size < 2 or not (np.isfinite(xs[0]) and np.isfinite(xs[-1])):
        return ks_test(xs, dist, alpha, presorted=True).passed  # raises as it does
    alpha = check_alpha(alpha)
    d = ks_distance(xs, closed_form_cdf(dist))
    n = int(xs.size)
    settled = ks_screen(d, n, alpha)
    if settled is not None:
        return settled
    seen = _KS_SEEN.setdefault((n, float(alpha)), [-math.inf, math.inf])
    if d <= seen[0]:
        return True
    if d >= seen[1]:
        return False
    passed = ks_p_value(d, n) > alpha
    if passed:
        seen[0] = d
    else:
        seen[1] = d
    if len(_KS_SEEN) > 4096:  # bounded memory across many sizes
        _KS_SEEN.clear()
    return passed


def ks_test(samples: Any, dist: Any, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
            presorted: bool = False) -> CheckResult:
    """Two-sided one-sample KS test of ``samples`` against the frozen scipy distribution ``dist``.

    ``statistic`` is the KS distance ``D`` and the p-value SciPy's exact one (:func:`ks_statistic`; the
    same numbers as ``scipy.stats.kstest``), computed when first read where :func:`ks_screen` settles the
    verdict (:class:`~invariants.stats.checks.DeferredCheckResult`).  ``presorted``: ``samples`` is already
    :func:`invariants.stats.order.sorted_values` (the battery sorts each pool once).  The detail states
    the detectable distance (see module docstring).

    Raises:
        ValueError: fewer than 2 samples, non-finite samples, ``alpha``/``power`` out of range.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    xs = np.asarray(samples).ravel() if presorted else sorted_values(samples)
    if xs.size < 2:
        raise ValueError(f"need at least 2 samples, got n = {xs.size}")
    # sorted: non-finite values, if any, sit at the ends (NaN last)
    if not (np.isfinite(xs[0]) and np.isfinite(xs[-1])):
        raise ValueError("samples contain non-finite values")
    d = ks_distance(xs, closed_form_cdf(dist))
    n = int(xs.size)
    d_det = ks_min_detectable_distance(n, alpha, power)
    detail = f"KS distance {d:.3g} (n = {n}); detects a CDF distance of {d_det:.3g} with power {power:g}"
    settled = ks_screen(d, n, alpha)
    if settled is None:
        return decide("ks_shape", d, ks_p_value(d, n), alpha, detail)
    # the exact p-value (up to seconds at n ~ 5e5) only when a caller reads it (a report, the JSON)
    return deferred_decision("ks_shape", d, functools.partial(ks_p_value, d, n), alpha, settled, detail)
