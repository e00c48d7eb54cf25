"""Support and extreme-value tests with exact null distributions, and a point-mass test.

For ``n`` i.i.d. draws from a continuous law with CDF ``F``, the sample maximum ``M`` and minimum ``m``
have the exact laws ``P(M <= t) = F(t)^n`` and ``P(m >= t) = (1 - F(t))^n`` (order statistics; e.g.
David & Nagaraja 2003, *Order Statistics*, eq. 2.1.1).  These give exact p-values for

- a maximum that is too *small* (``F(M)^n``) or a minimum too *large* (``(1 - F(m))^n``): the bounds of a
  uniform or truncated normal are narrower than promised (a ``sqrt(3)`` vs ``sqrt(6)`` bound, a missing
  gain, a missing truncation correction);
- for unbounded laws, a maximum too *large* (``1 - F(M)^n``) or a minimum too *small*: tail outliers
  (values at 10 std where a normal is promised).

For bounded laws, a value outside the support is impossible under the null (:func:`support_test`); a
tolerance of a few units in the last place of the sample dtype absorbs the rounding of the bound.

Floating-point samples take discrete values, so a continuous law still produces repeated values; the
:func:`point_mass_test` bounds the probability that any value repeats ``k`` times by
``C(n, k) p_max^(k-1)``, where ``p_max`` bounds the probability of one representable value, and so detects
clamping (a point mass at a bound) or zeroed entries.

The power of the extremes test against a *rescaled* bounded law (variance ``(1 + d)`` times the promised
one, same shape) is computed exactly by :func:`bounded_scale_min_detectable_rel_error`; it needs only a
few thousand values to detect a 1% variance error (:func:`bounded_scale_sample_size`).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, TypeVar

import numpy as np
from scipy import special

from invariants.stats.checks import CheckResult, decide
from invariants.stats.order import largest_run
from invariants.stats.variance import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    check_alpha,
    check_open_unit,
    check_power,
    smallest_sufficient_n,
)


# ------------------------------------------------------------------------------------ precision


def mantissa_bits(x: np.ndarray) -> int:
    """Stored mantissa bits of the precision the values actually carry.

    float16: 10; bfloat16 (``ml_dtypes``): 7; float32: 23, or 7 if every value is a bfloat16; float64: 52, or 23 (7) if every value is
    exactly a float32 (bfloat16) — an initializer that draws in float32 and casts up has float32 cells.
    """
    x = np.asarray(x)
    if x.dtype == np.float16:
        return 10
    if x.dtype.name == "bfloat16":  # ml_dtypes' (numpy has none)
        return 7
    if x.dtype == np.float64:
        x32 = x.astype(np.float32)
        if not np.array_equal(x32.astype(np.float64), x):
            return 52
        x = x32
    if x.dtype == np.float32:
        low = np.ascontiguousarray(x).view(np.uint32) & np.uint32(0xFFFF)
        return 7 if not np.any(low) else 23
    return int(np.finfo(x.dtype).nmant)


def ulp(value: float, bits: int) -> float:
    """Spacing of floats with ``bits`` mantissa bits at ``|value|`` (at least the smallest normal's)."""
    v = abs(float(value))
    if v == 0.0 or not math.isfinite(v):
        return 2.0 ** (-126)
    return 2.0 ** (math.floor(math.log2(v)) - bits)


def bound_tolerance(lo: float, hi: float, bits: int) -> float:
    """Slack allowed beyond a support bound: 4 ulps of the sample precision at the larger bound.

    A framework computes the bound (e.g. ``gain*sqrt(3/fan)``) in its own arithmetic and rounds the
    sample to the dtype; each step can move the largest value by an ulp or so.
    """
    big = max(abs(lo), abs(hi))
    return 4.0 * ulp(big, bits) + 1e-12 * big


# ------------------------------------------------------------------------------------ tests


def support_test(samples: Any, lo: float, hi: float, alpha: float = DEFAULT_ALPHA, bits: int | None = None) -> CheckResult:
    """Deterministic check that every value lies in ``[lo - tol, hi + tol]`` (:func:`bound_tolerance`).

    Under the null a value outside has probability 0, so ``p_value`` is 0 (any outside) or 1.
    ``statistic`` is the number of values outside.
    """
    alpha = check_alpha(alpha)
    x = np.asarray(samples)
    bits = mantissa_bits(x) if bits is None else bits
    tol = bound_tolerance(lo, hi, bits)
    xf = x.astype(np.float64, copy=False).ravel()
    below = int(np.count_nonzero(xf < lo - tol))
    above = int(np.count_nonzero(xf > hi + tol))
    mn, mx = float(xf.min()), float(xf.max())
    detail = (f"range [{mn:.7g}, {mx:.7g}] vs support [{lo:.7g}, {hi:.7g}]: {below} below, {above} above"
              f" (tolerance {tol:.2g})")
    return decide("support", below + above, 0.0 if below + above else 1.0, alpha, detail)


def _log_cdf_pow(n: int, tail_prob: float) -> float:
    """``n * log(1 - tail_prob)``, accurate for tiny ``tail_prob``."""
    if tail_prob >= 1.0:
        return -math.inf
    return n * math.log1p(-tail_prob)


def extremes_test(
    samples: Any,
    dist: Any,
    lo: float = -math.inf,
    hi: float = math.inf,
    alpha: float = DEFAULT_ALPHA,
    bits: int | None = None,
    allowance: float = 0.0,
    tail_floor: float = 0.0,
) -> CheckResult:
    """Exact test of the sample maximum and minimum against the law ``dist`` (frozen scipy distribution).

    ``allowance``: a CDF distance the sampler may have from ``dist`` (a low-precision sampler,
    :func:`invariants.stats.precision.cdf_allowance`); every tail then uses the least favourable CDF within
    it (``F(t) + allowance`` for "too small", ``F(t) - allowance`` for "too large"), so the test stays valid
    for any such sampler.  0 (default): the exact test.  ``tail_floor`` (with an allowance, unbounded laws):
    beyond the law's ``tail_floor`` quantiles the sampler may put no more mass than the law (its lattice's
    extreme atoms lie inside them, :func:`invariants.stats.precision.tail_floor`) plus
    :data:`FLOAT32_UNIFORM_ATOM` (a float32 uniform's endpoint, which a sampler computing in float32 can
    hit: one value at the clamp in 10^7 is not the fault), so the "too large" tails are nearly exact there, and two more tails count the values beyond those quantiles (binomial, at most
    ``tail_floor`` each): a point mass far out in a tail (an infinity clamped to a large value) fails them.

    Bounded laws (finite ``lo``, ``hi``): two tails, ``p_max = F(M)^n`` (maximum too small) and
    ``p_min = (1 - F(m))^n`` (minimum too large); values beyond the bounds are left to
    :func:`support_test`, and ``M``, ``m`` are moved outwards by the rounding tolerance first, which only
    makes the test more conservative.  Unbounded laws: four tails, adding ``1 - F(M)^n`` (maximum too
    large) and ``1 - (1 - F(m))^n`` (minimum too small).  ``p_value`` is the smallest tail p-value times the
    number of tails (Bonferroni).  ``statistic`` is the larger of ``|M - mean|``, ``|m - mean|`` in units of
    the law's std.
    """
    alpha = check_alpha(alpha)
    x = np.asarray(samples)
    bits = mantissa_bits(x) if bits is None else bits
    xf = x.astype(np.float64, copy=False).ravel()
    n = xf.size
    mx, mn = float(xf.max()), float(xf.min())
    bounded = math.isfinite(lo) and math.isfinite(hi)
    if bounded:
        tol = bound_tolerance(lo, hi, bits)
        t_hi, t_lo = min(mx + tol, hi), max(mn - tol, lo)
    else:
        t_hi, t_lo = mx, mn
    sf_hi = float(dist.sf(t_hi))  # P(X > M)
    cdf_lo = float(dist.cdf(t_lo))  # P(X < m)
    log_p_max_small = _log_cdf_pow(n, max(sf_hi - allowance, 0.0))  # P(all <= M)
    log_p_min_large = _log_cdf_pow(n, max(cdf_lo - allowance, 0.0))  # P(all >= m)
    tails = [math.exp(log_p_max_small), math.exp(log_p_min_large)]
    if not bounded:
        # a low-precision sampler that computes in float32 and rounds (torch's trunc_normal_) can still hit its
        # uniform's endpoint, an atom of at most 2^-24 per end mapped to the far tail: allowed below the floor
        atom = FLOAT32_UNIFORM_ATOM if tail_floor > 0 else 0.0
        up_hi = min(sf_hi + atom, 1.0) if sf_hi < tail_floor else min(sf_hi + allowance, 1.0)
        up_lo = min(cdf_lo + atom, 1.0) if cdf_lo < tail_floor else min(cdf_lo + allowance, 1.0)
        tails += [-math.expm1(_log_cdf_pow(n, up_hi)), -math.expm1(_log_cdf_pow(n, up_lo))]
        if tail_floor > 0:
            tails += _beyond_floor_tails(xf, dist, tail_floor, bits)
    p = min(1.0, len(tails) * min(tails))
    mean, std = float(dist.mean()), float(dist.std())
    stat = max(abs(mx - mean), abs(mn - mean)) / std
    what = f"support [{lo:.7g}, {hi:.7g}]" if bounded else f"law mean {mean:.4g}, std {std:.4g}"
    # each tail p-value named by the departure it tests, in the order they were appended above
    labels = ["max too small", "min too large", "max too large", "min too small",
              f"too many above the {1 - tail_floor:.3g} quantile", f"too many below the {tail_floor:.3g} quantile"]
    detail = (f"min {mn:.7g}, max {mx:.7g} over n = {n} ({what}); tail p-values: "
              + ", ".join(f"{label} {t:.2g}" for label, t in zip(labels, tails)))
    return decide("extremes", stat, p, alpha, detail)


#: mass a float32 uniform (24 random bits) can put on its endpoint lattice point, doubled for safety: the
#: largest far-tail atom a correct low-precision sampler computing in float32 makes (2^-23)
FLOAT32_UNIFORM_ATOM = 2.0 ** -23


def _beyond_floor_tails(xf: np.ndarray, dist: Any, floor: float, bits: int) -> list[float]:
    """Binomial p-values of the counts beyond the law's ``floor`` and ``1 - floor`` quantiles, each moved
    outwards by two ulps (a value's roundings), so each count is at most ``Binomial(n, floor)``."""
    from scipy import stats

    out = []
    for q, sign in ((1.0 - floor, 1.0), (floor, -1.0)):
        t = float(dist.ppf(q))
        t += sign * 2.0 * ulp(t, bits)
        k = int(np.count_nonzero(xf > t)) if sign > 0 else int(np.count_nonzero(xf < t))
        out.append(float(stats.binom.sf(k - 1, xf.size, floor)) if k else 1.0)
    return out


_F = TypeVar("_F", bound=Callable[..., Any])


def per_distribution(fn: _F) -> _F:
    """``fn`` memoized on its arguments, a frozen distribution among them.

    A law's distribution object is itself cached (:meth:`invariants.laws.Law.dist`), so every audit of one
    law passes the same object; frozen scipy distributions and :class:`invariants.laws.TruncNormDist`
    hash by identity, and the cache holds a reference, so an identity never stands for another law.  The
    value is the one ``fn`` computes, bit for bit.  Unhashable arguments are computed each time."""
    cached = functools.lru_cache(maxsize=1024)(fn)

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            hash((args, tuple(kwargs.items())))
        except TypeError:
            return fn(*args, **kwargs)
        return cached(*args, **kwargs)

    return call  # type: ignore[return-value]


@per_distribution
def max_cell_probability(dist: Any, bits: int) -> float:
    """Upper bound on the probability that one draw equals a given representable value.

    The larger of

    - ``max_x pdf(x) * ulp(x)`` over the law's range (``x`` on a fine quantile grid plus the mode), times 4
      (the generator's own grid can be coarser than the dtype's, e.g. ``k * 2^-24`` for a float32 uniform
      drawn from 24 random bits), and
    - ``2^-bits``: a sampler whose uniform keeps ``bits`` random mantissa bits (JAX's and MLX's ``[1, 2) - 1``
      uniform, ``jax/_src/random/core.py:_uniform``) has ``2^bits`` equiprobable inputs, so a monotone transform
      of it (``jax.random.normal`` is ``sqrt(2) erfinv(u)``, ``truncated_normal`` likewise) puts ``2^-bits`` on
      each of its values *whatever the density there*: ``jax.random.normal(dtype=float32)`` takes exactly
      ``2^23`` values, each with probability ``2^-23``, above the first term's ``0.88``-``0.97 x 2^-23`` for a
      normal law (``benchmarks/tail_calibration.py --checks point_mass`` measured the point-mass check at up
      to ``2.5 alpha`` before this term).
    """
    q = np.concatenate([np.linspace(1e-9, 1 - 1e-9, 20001), [0.5]])
    xs = dist.ppf(q)
    xs = xs[np.isfinite(xs)]
    pdf = dist.pdf(xs)
    e = np.floor(np.log2(np.maximum(np.abs(xs), 2.0 ** -126)))
    cells = pdf * np.exp2(e - bits)
    return float(min(1.0, max(4.0 * np.max(cells), 2.0 ** -int(bits))))


def point_mass_test(samples: Any, dist: Any, alpha: float = DEFAULT_ALPHA, bits: int | None = None,
                    allowance: float = 0.0, presorted: bool = False) -> CheckResult:
    """No value repeats more often than the law allows (a point mass: clamping, zeroed entries).

    With ``k`` the largest multiplicity of any value and ``p_max`` from :func:`max_cell_probability`,
    ``P(some value occurs >= k times) <= sum_cells C(n, k) p_c^k <= C(n, k) p_max^(k - 1)`` under the
    null (union bound; ``sum_c p_c <= 1``).  ``statistic`` is ``k``.  ``allowance`` (a low-precision
    sampler's CDF distance, :func:`invariants.stats.precision.cdf_allowance`) is added to ``p_max``: one
    lattice atom of such a sampler can carry that much more.  The largest run is read from the sorted
    pool (:func:`invariants.stats.order.largest_run`); ``presorted``: ``samples`` is already
    :func:`invariants.stats.order.sorted_values` (the battery sorts each pool once).
    """
    alpha = check_alpha(alpha)
    x = np.asarray(samples).ravel()
    bits = mantissa_bits(x) if bits is None else bits
    n = x.size
    value, k = largest_run(x if presorted else np.sort(x))
    p_cell = min(1.0, max_cell_probability(dist, bits) + allowance)
    if k < 2:
        p = 1.0
    else:
        log_comb = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
        p = math.exp(min(0.0, log_comb + (k - 1) * math.log(p_cell)))
    detail = (f"most repeated value {float(value):.7g} occurs {k} times in n = {n} "
              f"(cell probability <= {p_cell:.2g} at {bits} mantissa bits)")
    return decide("point_mass", k, p, alpha, detail)


# ------------------------------------------------------------------------------------ power


def _detects(n: int, d: float, dist: Any, mean: float, lo: float, hi: float, alpha: float, power: float,
             slack: float = 0.0) -> bool:
    # mean: float(dist.mean()), read once by the caller (scipy's moment call costs ~0.2 ms, and the
    # bisections below call this ~100 times per size)
    if d < 0:
        # narrower law: M <= hi' and m >= lo' surely, read (rounded, moved out by the tolerance) at most
        # ``slack`` further out; rejected once F(hi' + slack)^n <= alpha/2 (or the min side)
        f = math.sqrt(1.0 + d)
        hi_n, lo_n = mean + f * (hi - mean) + slack, mean + f * (lo - mean) - slack
        log_a = math.log(alpha / 2.0)
        return (_log_cdf_pow(n, float(dist.sf(hi_n))) <= log_a) or (_log_cdf_pow(n, float(dist.cdf(lo_n))) <= log_a)
    # wider law: some value falls more than ``slack`` outside [lo, hi] with probability >= power
    f = math.sqrt(1.0 + d)
    inside = float(dist.cdf(mean + (hi + slack - mean) / f)) - float(dist.cdf(mean + (lo - slack - mean) / f))
    return _log_cdf_pow(n, 1.0 - inside) <= math.log1p(-power)


def bound_slack(lo: float, hi: float, bits: int) -> float:
    """How far beyond a bound a value must lie, before rounding to ``bits`` mantissa bits, for
    :func:`support_test` to flag it surely: the test's :func:`bound_tolerance` plus half an ulp of the rounding,
    taken at twice the larger bound (the ulp doubles past a power of two), and likewise how far out the
    extremes test may read a maximum that lies at a narrower law's bound.  Negligible in float32 (~5e-7 of the
    bound); in bfloat16 (7 bits) about 3.5% of it: a rescaling that small moves no value past the tolerance."""
    big = max(abs(lo), abs(hi))
    return bound_tolerance(lo, hi, bits) + ulp(2.0 * big, bits) / 2.0


@per_distribution
def bounded_scale_min_detectable_rel_error(
    n: int, dist: Any, lo: float, hi: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
    slack: float = 0.0,
) -> tuple[float, float]:
    """``(d_up, d_down)``: smallest relative variance errors of a rescaled bounded law detected with
    probability >= ``power`` by :func:`support_test` (up) and :func:`extremes_test` (down) at ``n``.

    Exact (no approximation) for the rescaled alternative ``mean + sqrt(1 + d) (X - mean)``; the down
    side uses the extremes test's Bonferroni factor 2.  ``slack`` (same units as the bounds): how far a
    value may be read beyond where it lies before the tests see it (:func:`bound_slack` of the values'
    precision; 0: exact values and no tolerance, the textbook figure).

    Raises:
        ValueError: ``n < 1``, unbounded support, ``alpha``/``power`` out of range.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("the extremes power applies to bounded laws only")
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")

    mean = float(dist.mean())

    def solve(sign: int) -> float:
        def g(d: float) -> float:
            return -1.0 if _detects(n, sign * d, dist, mean, lo, hi, alpha, power, slack) else 1.0

        top = 0.999999 if sign < 0 else 100.0
        if g(top) > 0:
            return 1.0 if sign < 0 else math.inf
        a, b = 0.0, top
        for _ in range(48):  # bisection on a monotone step: relative precision ~1e-12
            mid = (a + b) / 2
            if g(mid) < 0:
                b = mid
            else:
                a = mid
        return b

    return solve(+1), solve(-1)


def bounded_scale_sample_size(
    rel_error: float,
    dist: Any,
    lo: float,
    hi: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    max_n: int = 2**40,
) -> int:
    """Smallest ``n`` at which :func:`bounded_scale_min_detectable_rel_error` is <= ``rel_error`` both ways.

    Raises:
        ValueError: ``rel_error`` not in (0, 1), the arguments of the power function, or no ``n <= max_n``
            suffices (a law truncated so far out that its bounds are never approached).
    """
    rel_error = check_open_unit(rel_error, "rel_error")
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)

    mean = float(dist.mean())

    def ok(n: int) -> bool:
        return (_detects(n, rel_error, dist, mean, lo, hi, alpha, power)
                and _detects(n, -rel_error, dist, mean, lo, hi, alpha, power))

    return smallest_sufficient_n(ok, max_n, "no sample size up to {max_n} detects this error by the extremes")


__all__ = [
    "bound_slack",
    "bound_tolerance",
    "bounded_scale_min_detectable_rel_error",
    "bounded_scale_sample_size",
    "extremes_test",
    "mantissa_bits",
    "max_cell_probability",
    "point_mass_test",
    "support_test",
    "ulp",
]
