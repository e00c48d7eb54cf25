"""Law checks at low precision (float16, bfloat16): the law a correct sampler computes in the format.

A sampler working in a format with ``p`` stored mantissa bits cannot give a continuous law's values: it
draws a uniform ``V`` resolved to the format (a lattice of spacing ``2^-p`` in probability: JAX's
``uniform`` keeps ``nmant`` random mantissa bits, so ``jax.random.normal(dtype=bfloat16)`` takes 128
values), maps it through the law's inverse CDF (or an equivalent transform) and rounds the result to the
format.  The **null hypothesis at precision p** is that the sampler's CDF ``G`` stays within

    Delta_p = 2^-p * (2 + 2 * sup_y |y| f(y))                                            (1)

of the law's CDF ``F`` everywhere, ``f`` the law's density.  Derivation: the input lattice and one
rounding of ``V`` move ``V`` by at most ``2^-p`` in probability (one lattice step; the rounding of ``V``
near 1 is half a step of ``2^-(p+1)`` spacing), which moves ``G`` by at most ``2^-p``; each rounding of
the output moves a value ``y`` by at most one ulp ``<= |y| 2^-p`` and so ``G(y)`` by at most
``sup |y| f(y) 2^-p``; two output roundings (the transform and a final scaling) give the second term.
bfloat16 N(0, 1): ``Delta = 2^-7 (2 + 2 * 0.242) = 0.0194``; float16: 0.0024; float32 and float64 are
not treated here (:func:`low_precision` is false: their checks are the exact ones of the other modules).

Every check below is valid (false-alarm rate <= alpha) under that null, whatever ``G`` is within it:

- :func:`quantized_ks_test`: the KS distance ``D`` to ``F``; ``D - Delta`` is at most the distance to ``G``,
  whose KS p-value is conservative for a discrete ``G`` (Noether 1963, *JASA* 58:1065), so
  ``p = P(D_n > D - Delta)``.  Detects a CDF distance of ``Delta + D_crit + eps`` with the power of
  :func:`invariants.stats.shape.ks_min_detectable_distance`.
- :func:`quantized_mean_test`: a sign test at the law's mean ``mu``: the count below ``mu`` is binomial with
  probability in ``[F(mu) - Delta, F(mu) + Delta]``; exact binomial tails at the interval's ends.
- :func:`quantized_variance_test`: the clipped second moment ``h(y) = min((y - mu)^2, T^2)`` (``T`` the
  bound's distance for a bounded law, 3 std for a normal); integrating by parts,
  ``|E_G phi - E_F phi| = |int (G - F)(y) dphi(y)| <= Delta TV(phi)`` for a bounded ``phi`` of total variation
  ``TV(phi)``, so ``E_G h`` lies in ``E_F h +- 2 Delta T^2`` (``TV(h) = 2 T^2``) and, with ``c = E_F h``,
  ``Var_G h <= E_G (h - c)^2 <= Var_F h + Delta (2 (T^2 - c)^2 + 2 c^2) = V``.  The deviation of the mean of
  ``h`` beyond that interval is tested by Bernstein's inequality (``|h - E_G h| <= T^2``):
  ``P(|mean h - E_G h| >= t) <= 2 exp(-n t^2 / (2 V + 2 T^2 t / 3))``, valid at every ``n``.  (A z-test with
  the sample standard deviation was used before: at ``n`` = 2 to 50 a few values close together made the
  sample deviation tiny and it rejected the bfloat16 normal law with probability 0.2 to 4e-6 at alpha = 1e-6,
  ``benchmarks/tail_calibration.py --checks low_precision``.)  The price of precision: at bfloat16 a normal
  law's variance is resolved to about 40% (a factor-2 fan or gain error is caught; a 1% one cannot be told
  from quantization), at float16 to about 5%.
- the extremes test takes ``F +- Delta`` in its tails (:func:`invariants.stats.extremes.extremes_test`'s
  ``allowance``), except beyond the law's ``2^-p / 8`` quantiles (:func:`tail_floor`), where a correct
  sampler's lattice puts no more mass than the law: there the "too large" tails stay exact and the counts
  of values beyond those quantiles are binomial tests (this is where an ``u = 1 -> inf`` value clamped to a
  large finite one shows); the point-mass and structure checks add ``Delta`` to the largest cell
  probability.
  Support (values beyond the bounds) and non-finite values keep their exact, deterministic checks: those
  are where a clamp-at-the-bound or ``u = 1 -> inf`` fault of a low-precision sampler shows.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import integrate, stats

from invariants.stats.checks import CheckResult, decide, z_quantiles
from invariants.stats.order import sorted_values
from invariants.stats.variance import check_alpha, check_power

if TYPE_CHECKING:
    from invariants.laws import Law

#: values with fewer stored mantissa bits than float32's 23 are audited at low precision
FLOAT32_BITS = 23


def low_precision(bits: int) -> bool:
    """Whether values of ``bits`` mantissa bits are audited by this module's checks (float16, bfloat16)."""
    return int(bits) < FLOAT32_BITS


@lru_cache(maxsize=1024)
def _sup_y_pdf(kind: str, loc: float, scale: float, lo: float, hi: float) -> float:
    from invariants.laws import Law

    dist = Law(kind, 0.0, 1.0, lo, hi, 3.0, loc, scale).dist()
    q = np.linspace(1e-9, 1 - 1e-9, 20001)
    xs = np.asarray(dist.ppf(q), dtype=np.float64)
    xs = np.concatenate([xs[np.isfinite(xs)], [lo, hi] if math.isfinite(lo) and math.isfinite(hi) else []])
    return float(np.max(np.abs(xs) * dist.pdf(xs)))


def cdf_allowance(law: "Law", bits: int) -> float:
    """``Delta_p`` of eq. (1) (module docstring) for ``law`` at ``bits``; 0 at float32 and float64."""
    if not low_precision(bits) or not law.continuous:
        return 0.0
    return 2.0 ** -int(bits) * (2.0 + 2.0 * _sup_y_pdf(law.kind, law.loc, law.scale, law.lo, law.hi))


def tail_floor(bits: int) -> float:
    """The law quantile (each end) beyond which a low-precision sampler puts no more mass than the law:
    an eighth of the lattice step, ``2^-p / 8``; 0 at float32 and float64.

    A sampler's uniform lattice keeps its extreme atoms inside: JAX's floor lattice puts its lowest at
    the quantile ``2^-p / 4`` (bfloat16 N(0, 1): -2.89 std) and a correct float32 input rounded once
    has the law's own tails; an atom nearer the end than ``2^-p / 8`` comes from a uniform rounded *up*
    to 1 (or down to 0), the ``u = 1 -> inf`` fault, clamped."""
    return 2.0 ** -int(bits) / 8.0 if low_precision(bits) else 0.0


def _ks_sf(d: float, n: int) -> float:
    if d <= 0:
        return 1.0
    return float(stats.kstwo.sf(d, n)) if n <= 10_000 else float(stats.kstwobign.sf(d * math.sqrt(n)))


def quantized_ks_test(samples: Any, dist: Any, allowance: float, alpha: float, power: float,
                      presorted: bool = False) -> CheckResult:
    """KS test of ``samples`` against ``dist`` with the CDF ``allowance`` (module docstring); named
    ``ks_shape`` like the exact test.

    ``statistic`` is ``scipy.stats.kstest(samples, dist.cdf).statistic``, bit for bit, computed by
    :func:`invariants.stats.shape.ks_distance` from the sorted values: ``kstest`` also evaluated its own
    exact p-value ``kstwo.sf(D, n)`` (up to ~0.2 s at ``n = 10^5``), which this test never reads (its
    p-value is that of ``D - allowance``).  ``presorted``: ``samples`` is already
    :func:`invariants.stats.order.sorted_values` (the battery's pool, sorted once for every order test).

    Raises:
        ValueError: fewer than 2 samples, ``alpha``/``power`` out of range.
    """
    from invariants.stats.shape import ks_distance, ks_min_detectable_distance

    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    x = np.asarray(samples).ravel() if presorted else sorted_values(samples)
    if x.size < 2:
        raise ValueError(f"need at least 2 samples, got n = {x.size}")
    d = ks_distance(x, dist.cdf)
    p = _ks_sf(d - allowance, x.size)
    d_det = allowance + ks_min_detectable_distance(x.size, alpha, power)
    detail = (f"KS distance {d:.3g} (n = {x.size}) within the quantization allowance {allowance:.3g} of a "
              f"low-precision sampler: excess {max(d - allowance, 0.0):.3g}; detects a CDF distance of "
              f"{d_det:.3g} with power {power:g}")
    return decide("ks_shape", d, p, alpha, detail)


def quantized_mean_test(samples: Any, dist: Any, mean: float, std: float, allowance: float, alpha: float,
                        power: float) -> CheckResult:
    """Sign test of the law's ``mean`` with the CDF ``allowance`` (module docstring); named ``mean``.

    ``statistic`` is the share of values ``<= mean``; p-value: exact binomial tails at
    ``F(mean) +- allowance``, doubled (two-sided).
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    x = np.asarray(samples, dtype=np.float64).ravel()
    n = x.size
    k = int(np.count_nonzero(x <= mean))
    f0 = float(dist.cdf(mean))
    hi, lo = min(1.0, f0 + allowance), max(0.0, f0 - allowance)
    p_many = float(stats.binom.sf(k - 1, n, hi))  # P(K >= k) at the largest null probability
    p_few = float(stats.binom.cdf(k, n, lo))  # P(K <= k) at the smallest
    p = min(1.0, 2.0 * min(p_many, p_few))
    za, zp = z_quantiles(alpha, power)
    # a shift s of the law moves F(mean) by about f(mean) s: detected once it exceeds the allowance and the
    # binomial noise (standard deviation <= 1/(2 sqrt(n)))
    density = float(dist.pdf(mean)) * std
    shift = (allowance + (za + zp) * 0.5 / math.sqrt(n)) / density if density > 0 else math.inf
    detail = (f"{k / n:.4f} of n = {n} values <= mean {mean:.6g} vs F(mean) = {f0:.4f} +- {allowance:.3g} "
              f"(quantization allowance); detects a shift of {shift:.3g} std with power {power:g}")
    return decide("mean", k / n, p, alpha, detail)


def clip_radius(law: "Law") -> float:
    """``T`` of the clipped second moment: the bound's distance from the mean, or 3 std for a normal and for
    a truncated normal whose cut points lie 6 or more std out (:attr:`~invariants.laws.Law.truncation_negligible`:
    clipped at a far bound the test would be vacuous, its band ``2 Delta T^2`` wider than the moment)."""
    if law.bounded and not law.truncation_negligible:
        return max(law.hi - law.mean, law.mean - law.lo)
    return 3.0 * law.std


@lru_cache(maxsize=1024)
def _clipped_moments(kind: str, loc: float, scale: float, lo: float, hi: float, mean: float,
                     radius: float) -> tuple[float, float, float]:
    """``(E h, E[(X - mean)^2; |X - mean| < radius], Var h)`` for ``h = min((X - mean)^2, radius^2)``."""
    from invariants.laws import Law

    dist = Law(kind, mean, 1.0, lo, hi, 3.0, loc, scale).dist()
    a, b = max(mean - radius, lo), min(mean + radius, hi)
    inner, _ = integrate.quad(lambda y: (y - mean) ** 2 * float(dist.pdf(y)), a, b, limit=200)
    inner4, _ = integrate.quad(lambda y: (y - mean) ** 4 * float(dist.pdf(y)), a, b, limit=200)
    outside = float(dist.cdf(mean - radius)) + float(dist.sf(mean + radius))
    eh = inner + radius * radius * outside
    return eh, inner, max(inner4 + radius ** 4 * outside - eh * eh, 0.0)


def bernstein_radius(n: int, variance: float, bound: float, alpha: float) -> float:
    """The ``t`` at which Bernstein's two-sided bound ``2 exp(-n t^2 / (2 variance + 2 bound t / 3))`` equals
    ``alpha``: the root of ``n t^2 - (2 bound L / 3) t - 2 variance L = 0``, ``L = log(2 / alpha)``."""
    big_l = math.log(2.0 / alpha)
    b = 2.0 * bound * big_l / 3.0
    return (b + math.sqrt(b * b + 8.0 * n * variance * big_l)) / (2.0 * n)


def quantized_variance_test(samples: Any, law: "Law", allowance: float, alpha: float,
                            power: float) -> CheckResult:
    """Variance check at low precision: the clipped second moment against the law's, with the null
    interval ``+- 2 Delta T^2`` and Bernstein's bound beyond it (module docstring); named ``quantized_variance``.

    ``statistic`` is the observed/expected clipped-moment ratio; ``min_detectable_rel_error`` is the
    first-order relative variance error detected with ``power``:
    ``(2 Delta T^2 + t_alpha + z_p sqrt(V / n)) / E[(X - mu)^2; |X - mu| < T]``, ``t_alpha`` the deviation at
    which Bernstein's bound reaches ``alpha`` (:func:`bernstein_radius`).

    Raises:
        ValueError: ``alpha``/``power`` out of range.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    x = np.asarray(samples, dtype=np.float64).ravel()
    n = x.size
    t = clip_radius(law)
    t2 = t * t
    expected, inner, var_h = _clipped_moments(law.kind, law.loc, law.scale, law.lo, law.hi, law.mean, t)
    h = np.minimum(np.square(x - law.mean), t2)
    m = float(h.mean())
    band = 2.0 * allowance * t2
    spread = var_h + allowance * (2.0 * (t2 - expected) ** 2 + 2.0 * expected ** 2)  # V: Var_G h <= V
    excess = max(abs(m - expected) - band, 0.0)
    p = min(1.0, 2.0 * math.exp(-n * excess * excess / (2.0 * spread + 2.0 * t2 * excess / 3.0)))
    _, zp = z_quantiles(alpha, power)
    mde = (band + bernstein_radius(n, spread, t2, alpha) + zp * math.sqrt(spread / n)) / inner if inner > 0 else math.inf
    detail = (f"clipped second moment (at {t:.4g}) {m:.6g} vs {expected:.6g} +- {band:.3g} (quantization "
              f"allowance), ratio {m / expected:.4f}, n = {n}; detects a variance error of {100 * mde:.3g}% "
              f"with power {power:g}")
    return CheckResult("quantized_variance", m / expected, p, float(alpha), bool(p > alpha), detail, mde, power)


__all__ = ["FLOAT32_BITS", "bernstein_radius", "cdf_allowance", "clip_radius", "low_precision", "quantized_ks_test",
           "quantized_mean_test", "quantized_variance_test", "tail_floor"]
