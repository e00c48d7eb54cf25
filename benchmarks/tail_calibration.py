"""Tail calibration: each law check's false-alarm probability at its stated alpha (default 10^-6).

Counting false alarms of whole audits cannot tell alpha = 10^-6 from 10^-5 (0 alarms in 10^4 audits has
probability 47% at 10x the rate), so this script looks at one check at a time, at the tail it claims:

1. **The code's critical values.**  Each check is run as the auditor runs it (its entry of
   :data:`invariants.stats.battery.CHECKS`, on a :class:`~invariants.stats.battery.Sample` of ``n`` values
   at float32 precision) on constructed pools whose statistic is a chosen number (a constant pool for the
   mean and variance, a stretched quantile pool for Kolmogorov-Smirnov, a clipped or extended quantile pool
   for the maximum and minimum), and the number at which the verdict flips is found by bisection (to a few
   ulps).  The accepting side of each flip is kept, so every probability below is an upper bound on the
   rejection probability of the code.
2. **Checks with an exact null law**: the rejection probability at those critical values is computed from
   that law: ``chi2_variance`` (``chi2(n)``), ``mean`` of a normal law (``N(0, 1/n)``), ``extremes``
   (``F(M)^n``, ``(1 - F(m))^n`` and their joint law, David & Nagaraja 2003 eq. 2.1.1, by
   inclusion-exclusion), ``ks_shape`` (``scipy.stats.kstwo``, Simard & L'Ecuyer 2011), ``support`` (0: a
   value of a continuous law outside its support has probability 0; the tolerance only widens it).  Flagged
   when it exceeds alpha by more than 10^-9 relative (rounding).
3. **Checks whose null is only approximate** (the CLT-based ``mean`` and the saddlepoint ``moment_variance`` of
   uniform and truncated normal laws, :mod:`invariants.stats.moments`): plain simulation would need ~10^8 statistics of
   ``n`` values each (10^12 draws), so the rate is estimated by **importance sampling with exponential
   tilting**: each tail ``P(mean g(X) >= c)`` (``g(x) = x`` or ``(x - mu)^2``) is estimated from ``R``
   samples of ``n`` values drawn from the tilted law ``f_t(x) = f(x) e^(t g(x)) / M(t)`` (``t`` such that
   ``E_t[g] = c``, drawn exactly: for a truncated normal the tilted law is another normal truncated to the same
   interval, otherwise by rejection from ``f``; ``M(t) = E_f[e^(t g)]`` by quadrature) as the mean
   of ``1{mean g >= c} * M(t)^n e^(-t sum g)``; the interval is that mean +- 1.96 standard errors (the
   estimator's CLT over ``R`` independent replicates), the two tails' variances added.  Flagged when the
   interval's lower end exceeds alpha.  ``--validate`` checks the estimator against plain Monte Carlo with a
   Clopper-Pearson interval at alpha = 10^-2, where plain simulation is feasible.  For the normal truncated at
   +-100 std (``trunc_normal_(std=0.02)``) the variance statistic is ``chi2(n)/n`` to within 1e-2000, and its
   exact rate at the code's flips is recorded beside the estimate (``chi2_reference``).

4. **Point mass** (``--checks point_mass``): the check's verdict depends on ``n`` and the largest run ``k`` only; its
   critical run is read from the check on constructed pools at the sizes where it steps up (the least favourable,
   up to ``--point-mass-max``), and the probability that some value repeats ``k`` times is computed exactly for the
   cells of real samplers: the 23-bit uniform lattice of JAX and MLX (``jax.random.normal(float32)`` takes exactly
   2^23 values of 2^-23 each; enumerated), the 24-bit one of torch and numpy, and the law rounded to float32
   (bounded binade by binade); between the Bonferroni bound ``S - S^2/2`` (multinomial counts are negatively
   associated) and the union bound ``S``.
5. **Haar checks** (``--checks haar``): on exact Haar draws read at float32 and float64 (their rounding allowances
   apply), at the critical values of :mod:`invariants.stats.haar`'s p-value functions: the diagonal signs exactly
   (binomial), the entries exactly (KS of the check's own stick-breaking uniforms), the sums between their largest
   part and the union of the three, each part's Fisher combination over the draws by the exact law of a sum of
   lattice variables bracketing ``-log p`` (:mod:`invariants.stats.haar_null`; the pair terms of the row/column
   maxima by quadrature), the trace under its
   N(0, 1) limit with the Markov bound it uses as the upper end; and the float32 QR's rounding error (torch's
   ``orthogonal_`` recipe) against the allowance.
6. **Low precision** (``--checks low_precision``): the law rounded to nearest in bfloat16 and float16, and JAX's
   own bfloat16/float16 normal lattices (every point of its uniform lattice through ``erf_inv``): the rounded law's
   CDF distance and largest atom against the checks' allowances; the variance check (Bernstein's bound: its verdict
   depends on the mean of ``h`` only) by importance sampling of the finite law, tilted exactly; the sign test
   exactly (binomial at the rounded law's ``P(X <= mean)``); the KS test by the bound ``kstwo.sf(D* - sup|G - F|)``
   (Noether 1963: conservative for a discrete law).

The structure checks (exact binomial bounds on cells, sharing the point-mass cell bound) are not simulated here.

Usage::

    python benchmarks/tail_calibration.py                    # n = 1000, 12000, 100000; 5e8 values per tail
    python benchmarks/tail_calibration.py --sizes 12000 --values 1e8 --validate
    python benchmarks/tail_calibration.py --values 6e8 --checks moment_variance \
        --laws uniform,truncated_normal,truncated_normal_3std,truncated_normal_100std --record   # a part
    python benchmarks/tail_calibration.py --checks point_mass,haar,low_precision --values 2e7 --record
    python benchmarks/tail_calibration.py --validate-only --record
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from scipy import integrate, optimize, special, stats  # noqa: E402

import _common as C  # noqa: E402
from invariants.laws import Law  # noqa: E402
from invariants.report.reliability import clopper_pearson  # noqa: E402
from invariants.stats.battery import CHECKS, Sample  # noqa: E402
from invariants.stats.haar_null import sums_rate  # noqa: E402

ALPHA = 1e-6
BITS = 23  # float32 values, the precision of almost every audited initializer
Z95 = 1.959963984540054

#: the laws calibrated: a normal, a uniform, a normal truncated at +-2 std (torch's trunc_normal_ shape), at +-3 std,
#: and at +-100 std (torch's trunc_normal_(std=0.02) with its absolute +-2 cut: nearly normal, so (x - mu)^2 is
#: nearly chi-square(1), skewness sqrt(8) -- the hardest case for a normal approximation to the variance test)
LAWS = {
    "normal": Law.normal(0.0, 1.0),
    "uniform": Law.uniform(-1.0, 1.0),
    "truncated_normal": Law.truncated_normal(0.0, 1.0, -2.0, 2.0),
    "truncated_normal_3std": Law.truncated_normal(0.0, 1.0, -3.0, 3.0),
    "truncated_normal_100std": Law.truncated_normal(0.0, 0.02, -2.0, 2.0),
}


@dataclass(frozen=True)
class Rate:
    """A rejection probability: ``rate`` with its 95% interval ``[lo, hi]`` (``lo == hi == rate`` when
    computed exactly), the method, and whether it is significantly above ``alpha`` (``flagged``)."""

    rate: float
    lo: float
    hi: float
    method: str
    alpha: float

    @property
    def flagged(self) -> bool:
        if self.method == "exact":
            return self.rate > self.alpha * (1 + 1e-9)
        return self.lo > self.alpha

    def as_dict(self) -> dict:
        return {"rate": float(f"{self.rate:.4g}"), "ci95": [float(f"{self.lo:.4g}"), float(f"{self.hi:.4g}")],
                "method": self.method, "alpha": self.alpha, "ratio": float(f"{self.rate / self.alpha:.4g}"),
                "flagged": self.flagged}


# ------------------------------------------------------------------------------ 1. the code's critical values


def check_rejects(name: str, law: Law, alpha: float, bits: int = BITS) -> Callable[[np.ndarray], bool]:
    """``pool -> bool``: whether the battery's check ``name`` rejects ``pool`` against ``law`` at ``alpha``."""
    (check,) = [c for c in CHECKS if c.name == name]

    def rejects(pool: np.ndarray) -> bool:
        return not check.run(law, Sample(pool, [pool], bits), alpha).passed

    return rejects


def flip(rejects: Callable[[float], bool], accepted: float, rejected: float) -> float:
    """The accepting end of the interval where ``rejects`` flips, between ``accepted`` (not rejected) and
    ``rejected``, bisected to 4 ulps; raises ``ValueError`` when the ends do not bracket a flip."""
    if rejects(accepted) or not rejects(rejected):
        raise ValueError(f"no flip between {accepted!r} (must accept) and {rejected!r} (must reject)")
    for _ in range(200):
        if abs(rejected - accepted) <= 4 * np.spacing(abs(accepted)):
            break
        mid = 0.5 * (accepted + rejected)
        if rejects(mid):
            rejected = mid
        else:
            accepted = mid
    return accepted


def constant_pool_flips(rejects: Callable[[np.ndarray], bool], n: int, centre: float, g_inv: Callable[[float], float],
                        lo: float, hi: float) -> tuple[float, float]:
    """``(c_lo, c_hi)``: the accepted ends of ``mean g`` of a constant pool ``g_inv(v)`` (``n`` copies)."""
    def at(v: float) -> bool:
        return rejects(np.full(n, g_inv(v)))

    return flip(at, centre, lo), flip(at, centre, hi)


def _ideal(law: Law, n: int) -> np.ndarray:
    return np.asarray(law.dist().ppf((np.arange(n) + 0.5) / n), dtype=np.float64)


# ------------------------------------------------------------------------------ 2. exact null laws


def exact_chi2(rejects: Callable[[np.ndarray], bool], n: int, alpha: float) -> Rate:
    """``chi2_variance`` of N(0, 1): ``P(chi2(n) <= n c_lo) + P(chi2(n) >= n c_hi)``."""
    c_lo, c_hi = constant_pool_flips(rejects, n, 1.0, math.sqrt, 1e-3, 10.0)
    p = float(stats.chi2.cdf(n * c_lo, n) + stats.chi2.sf(n * c_hi, n))
    return Rate(p, p, p, "exact", alpha)


def exact_normal_mean(rejects: Callable[[np.ndarray], bool], n: int, alpha: float) -> Rate:
    """``mean`` of N(0, 1): the sample mean is exactly ``N(0, 1/n)``."""
    c_lo, c_hi = constant_pool_flips(rejects, n, 0.0, float, -1.0, 1.0)
    p = float(stats.norm.cdf(c_lo * math.sqrt(n)) + stats.norm.sf(c_hi * math.sqrt(n)))
    return Rate(p, p, p, "exact", alpha)


def _pow_n(n: int, mass: float) -> float:
    """``mass^n`` for a probability ``mass`` in [0, 1]."""
    return 0.0 if mass <= 0.0 else math.exp(n * math.log(min(mass, 1.0)))


def exact_extremes(rejects: Callable[[np.ndarray], bool], law: Law, n: int, alpha: float) -> Rate:
    """``extremes``: the verdict depends on the maximum ``M`` and minimum ``m`` only, rejecting when ``M`` or
    ``m`` is beyond its flips (``M <= c1``, ``m >= c3``; unbounded laws also ``M >= c2``, ``m <= c4``); the
    probability of that union follows from ``P(all values in [a, b]) = (F(b) - F(a))^n``."""
    dist, ideal = law.dist(), _ideal(law, n)
    top, bottom = float(ideal[-1]), float(ideal[0])

    def with_max(t: float) -> bool:
        pool = np.minimum(ideal, t)
        pool[-1] = t
        return rejects(pool)

    def with_min(t: float) -> bool:
        pool = np.maximum(ideal, t)
        pool[0] = t
        return rejects(pool)

    c1 = flip(with_max, top, law.mean)  # maximum too small
    c3 = flip(with_min, bottom, law.mean)  # minimum too large
    F = dist.cdf
    if law.bounded:
        p = _pow_n(n, float(F(c1))) + _pow_n(n, float(dist.sf(c3))) - _pow_n(n, max(float(F(c1) - F(c3)), 0.0))
        return Rate(p, p, p, "exact", alpha)
    c2 = flip(with_max, top, law.mean + 50 * law.std)  # maximum too large
    c4 = flip(with_min, bottom, law.mean - 50 * law.std)  # minimum too small
    outer = -math.expm1(n * math.log1p(-(float(F(c4)) + float(dist.sf(c2)))))  # some value beyond (c4, c2)
    p = outer + _pow_n(n, float(F(c1) - F(c4))) + _pow_n(n, float(F(c2) - F(c3))) - _pow_n(n, max(float(F(c1) - F(c3)), 0.0))
    return Rate(p, p, p, "exact", alpha)


def exact_ks(rejects: Callable[[np.ndarray], bool], law: Law, n: int, alpha: float) -> Rate:
    """``ks_shape``: pools ``F^-1((i/n)(1 - D))`` have KS distance exactly ``D`` (for ``D >= 1/(n + 1)``);
    the rejection probability is ``P(D_n >= D*)`` under ``scipy.stats.kstwo``."""
    ppf, i = law.dist().ppf, np.arange(1, n + 1) / n

    def at(d: float) -> bool:
        return rejects(np.asarray(ppf(i * (1.0 - d)), dtype=np.float64))

    d_star = flip(at, 1.5 / (n + 1), 0.5)
    p = float(stats.kstwo.sf(d_star, n))
    return Rate(p, p, p, "exact", alpha)


def exact_support(rejects: Callable[[np.ndarray], bool], law: Law, n: int, alpha: float) -> Rate:
    """``support``: a pool reaching both bounds exactly is accepted, so the rejection region lies outside
    ``[lo, hi]``, which a continuous law never reaches: probability 0."""
    pool = _ideal(law, n)
    pool[0], pool[-1] = law.lo, law.hi
    if rejects(pool):
        return Rate(1.0, 1.0, 1.0, "exact", alpha)
    return Rate(0.0, 0.0, 0.0, "exact", alpha)


# ------------------------------------------------------------------------------ 3. CLT checks: importance sampling


def solve_tilt(tilted_mean: Callable[[float], float], c: float, limit: float) -> float:
    """The tilt ``t`` (``|t| <= limit``) at which the increasing ``tilted_mean(t)`` equals ``c``: the bracket doubled
    from +-1, then Brent's method; ``ValueError`` when no tilt within ``limit`` reaches ``c``."""
    span = 1.0
    while not (tilted_mean(-span) < c < tilted_mean(span)):
        span *= 2
        if span > limit:
            raise ValueError(f"mean of g cannot reach {c!r}")
    return optimize.brentq(lambda t: tilted_mean(t) - c, -span, span, xtol=1e-14, rtol=1e-14)


class Tilted:
    """The law ``f`` of ``law`` tilted by ``e^(t g(x))``, for a bounded law and a bounded ``g``."""

    def __init__(self, law: Law, g: Callable[[np.ndarray], np.ndarray]) -> None:
        if not law.bounded:
            raise ValueError("importance sampling by rejection needs a bounded law")
        self.law, self.g, self.dist = law, g, law.dist()
        grid = np.linspace(law.lo, law.hi, 100_001)
        gv = g(grid)
        self.g_min, self.g_max = float(gv.min()), float(gv.max())
        self.g0 = float(self._quad(lambda x: g(x)))  # E_f[g], the centre that keeps the exponents small

    def _quad(self, h: Callable) -> float:
        pdf, law = self.dist.pdf, self.law
        lo, hi, points = law.lo, law.hi, None
        if law.kind == "truncated_normal":
            # a wide truncation (+-100 std): integrate where the (tilted) density lives, +-30 std of the parent
            # normal (e^-450 beyond; the tilts used widen it by < 1.5x), and show quad the peak
            lo, hi = max(lo, law.loc - 30 * law.scale), min(hi, law.loc + 30 * law.scale)
            points = [law.loc] if lo < law.loc < hi else None
        return integrate.quad(lambda x: float(pdf(x)) * float(h(np.float64(x))), lo, hi, points=points,
                              epsabs=1e-14, epsrel=1e-11, limit=200)[0]

    def log_mgf(self, t: float) -> float:
        """``log E_f[e^(t (g - g0))]``."""
        return math.log(self._quad(lambda x: math.exp(t * (float(self.g(x)) - self.g0))))

    def tilted_mean(self, t: float) -> float:
        m = self._quad(lambda x: math.exp(t * (float(self.g(x)) - self.g0)))
        return self._quad(lambda x: float(self.g(x)) * math.exp(t * (float(self.g(x)) - self.g0))) / m

    def solve(self, c: float) -> float:
        """The tilt ``t`` with ``E_t[g] = c``."""
        return solve_tilt(self.tilted_mean, c, 1e4)

    def base(self, rng: np.random.Generator, size: int) -> np.ndarray:
        law = self.law
        if law.kind == "uniform":
            return rng.uniform(law.lo, law.hi, size)
        # truncated normal: exact rejection from its parent normal
        out = np.empty(0)
        while out.size < size:
            z = rng.normal(law.loc, law.scale, int(size * 1.1) + 64)
            out = np.concatenate([out, z[(z >= law.lo) & (z <= law.hi)]])
        return out[:size]

    def _gaussian_tilt(self, t: float) -> tuple[float, float] | None:
        """For a truncated normal and ``g = x`` or ``(x - mu)^2``, the tilted law is the parent normal tilted,
        i.e. another normal truncated to the same interval: its ``(mean, std)``; ``None`` otherwise."""
        law = self.law
        if law.kind != "truncated_normal":
            return None
        prec, lin = 1 / law.scale**2, law.loc / law.scale**2
        g1, g0 = float(self.g(np.float64(1.0))), float(self.g(np.float64(0.0)))
        g2 = float(self.g(np.float64(-1.0)))
        quad_coef = (g1 + g2) / 2 - g0  # g = quad_coef x^2 + lin_coef x + g0
        prec, lin = prec - 2 * t * quad_coef, lin + t * (g1 - g2) / 2
        return (lin / prec, 1 / math.sqrt(prec)) if prec > 0 else None

    def draw(self, t: float, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` exact draws of the tilted law: for a truncated normal the tilted normal restricted to the
        interval (:meth:`_gaussian_tilt`), otherwise ``f`` draws kept with probability ``e^(t (g - g_top))``."""
        gauss = self._gaussian_tilt(t)
        if gauss is not None:
            out = np.empty(0)
            while out.size < size:
                z = rng.normal(gauss[0], gauss[1], int(size * 1.1) + 64)
                out = np.concatenate([out, z[(z >= self.law.lo) & (z <= self.law.hi)]])
            return out[:size]
        top = self.g_max if t > 0 else self.g_min
        out = np.empty(0)
        while out.size < size:
            x = self.base(rng, int(size * 1.2) + 64)
            keep = rng.random(x.size) < np.exp(t * (self.g(x) - top))
            out = np.concatenate([out, x[keep]])
        return out[:size]


def is_tail(tilted: Tilted, c: float, side: int, n: int, reps: int, rng: np.random.Generator,
            chunk_values: int = 4_000_000) -> tuple[float, float]:
    """``(estimate, standard error)`` of ``P(mean g >= c)`` (``side`` +1) or ``P(mean g <= c)`` (-1) over
    ``n`` values of the untilted law, from ``reps`` tilted replicates."""
    t = tilted.solve(c)
    log_m = tilted.log_mgf(t)
    per = max(1, chunk_values // n)
    total, total_sq, done = 0.0, 0.0, 0
    while done < reps:
        r = min(per, reps - done)
        x = tilted.draw(t, rng, r * n).reshape(r, n)
        s = tilted.g(x).sum(axis=1)
        hit = side * (s / n - c) >= 0
        w = np.where(hit, np.exp(n * log_m - t * (s - n * tilted.g0)), 0.0)
        total += float(w.sum())
        total_sq += float((w * w).sum())
        done += r
    mean = total / reps
    var = max(total_sq / reps - mean * mean, 0.0) * reps / max(reps - 1, 1)  # sample variance of one replicate
    return mean, math.sqrt(var / reps) if reps > 1 else math.inf


def is_rate(tilted: Tilted, c_lo: float, c_hi: float, n: int, reps: int, alpha: float, seed: int) -> Rate:
    """Two-sided rejection probability ``P(mean g <= c_lo) + P(mean g >= c_hi)`` by importance sampling."""
    rng = np.random.default_rng(seed)
    lo_p, lo_se = is_tail(tilted, c_lo, -1, n, reps, rng)
    hi_p, hi_se = is_tail(tilted, c_hi, +1, n, reps, rng)
    p, se = lo_p + hi_p, math.hypot(lo_se, hi_se)
    return Rate(p, max(p - Z95 * se, 0.0), p + Z95 * se, f"importance sampling, {reps} x {n} values per tail", alpha)


def mc_rate(tilted: Tilted, c_lo: float, c_hi: float, n: int, reps: int, alpha: float, seed: int,
            chunk_values: int = 4_000_000) -> Rate:
    """Plain Monte Carlo of the same two-sided probability, with a Clopper-Pearson interval."""
    rng = np.random.default_rng(seed)
    per, hits, done = max(1, chunk_values // n), 0, 0
    while done < reps:
        r = min(per, reps - done)
        m = tilted.g(tilted.base(rng, r * n).reshape(r, n)).mean(axis=1)
        hits += int(np.count_nonzero((m <= c_lo) | (m >= c_hi)))
        done += r
    lo, hi = clopper_pearson(hits, reps)
    return Rate(hits / reps, lo, hi, f"Monte Carlo, {reps} x {n} values (Clopper-Pearson)", alpha)


def g_of(name: str, law: Law) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[float], float], float]:
    """``(g, g_inv, E g)`` of the CLT check ``name``: the mean test reads ``mean x``, the variance test
    ``mean (x - mu)^2``; ``g_inv(v)`` is a value whose ``g`` is ``v``."""
    mu = law.mean
    if name == "mean":
        return (lambda x: x), (lambda v: v), mu
    return (lambda x: (x - mu) ** 2), (lambda v: mu + math.sqrt(v)), law.variance


def clt_flips(rejects: Callable[[np.ndarray], bool], name: str, law: Law, n: int) -> tuple[float, float]:
    g, g_inv, centre = g_of(name, law)
    span = law.std * 50 / math.sqrt(n)
    if name == "mean":
        return constant_pool_flips(rejects, n, centre, g_inv, centre - span, centre + span)
    return constant_pool_flips(rejects, n, centre, g_inv, 0.0, law.variance * 4)


def chi2_reference(rejects: Callable[[np.ndarray], bool], law: Law, n: int, alpha: float) -> float:
    """For a normal truncated so far out that the cut is immaterial (:attr:`Law.truncation_negligible`; +-100 std
    leaves a mass below 1e-2000), ``n mean((x - mu)^2) / variance`` is ``chi2(n)``: the rejection probability at the
    code's flips from it, to check the importance-sampling estimate against a number it must reproduce."""
    c_lo, c_hi = clt_flips(rejects, "moment_variance", law, n)
    return float(stats.chi2.cdf(n * c_lo / law.variance, n) + stats.chi2.sf(n * c_hi / law.variance, n))


def clt_rate(rejects: Callable[[np.ndarray], bool], name: str, law: Law, n: int, reps: int, alpha: float,
             seed: int) -> Rate:
    """The CLT check ``name`` (``mean`` or ``moment_variance``) by importance sampling at its flips."""
    c_lo, c_hi = clt_flips(rejects, name, law, n)
    return is_rate(Tilted(law, g_of(name, law)[0]), c_lo, c_hi, n, reps, alpha, seed)


# ------------------------------------------------------------------------------ 4. point mass: exact cell laws


#: the cell laws of float32 samplers (cells of equal probability ``2^-bits``): JAX's and MLX's ``[1, 2) - 1``
#: uniform keeps 23 random bits, so ``jax.random.normal``/``truncated_normal`` (``sqrt(2) erfinv(u)``) take
#: exactly 2^23 values of probability 2^-23 each (enumerated: 8,388,608 distinct float32 outputs for N(0, 1) and
#: for the +-2 truncation); torch's and numpy's float32 uniform keep 24 bits (``uniform_``, ``trunc_normal_``)
LATTICES = {"23-bit lattice (jax, mlx)": 23, "24-bit lattice (torch, numpy uniform)": 24}
#: laws of the point-mass calibration: the scale sets where the law's density meets the binades, so the first term
#: of :func:`~invariants.stats.extremes.max_cell_probability`; 2^-1/2 is near the least favourable for a normal
POINT_MASS_LAWS = {
    "normal": Law.normal(0.0, 1.0),
    "normal_std_0.7071": Law.normal(0.0, 2 ** -0.5),
    "uniform": Law.uniform(-1.0, 1.0),
    "truncated_normal": Law.truncated_normal(0.0, 1.0, -2.0, 2.0),
    "truncated_normal_std_0.7071": Law.truncated_normal(0.0, 2 ** -0.5, -2 ** 0.5, 2 ** 0.5),
}


def critical_run(rejects: Callable[[np.ndarray], bool], n: int, guess: int | None = None, k_max: int = 200) -> int:
    """The smallest run length ``k`` (one value repeated ``k`` times among ``n`` otherwise distinct values) that the
    point-mass check rejects (its verdict depends on ``n`` and ``k`` only), found on constructed pools; ``guess``:
    tried first (two pools decide it when right)."""
    base = np.arange(n, dtype=np.float64) / n - 0.5

    def at(k: int) -> bool:
        pool = base.copy()
        pool[:k] = pool[0]
        return rejects(pool)

    if guess is not None and guess > 1 and at(guess) and not at(guess - 1):
        return guess
    lo, hi = 1, k_max  # lo accepted, hi rejected
    while hi - lo > 1:
        k = (lo + hi) // 2
        lo, hi = (lo, k) if at(k) else (k, hi)
    return hi


def lattice_rate(n: int, k: int, bits: int, alpha: float) -> Rate:
    """``P(some value occurs >= k times)`` among ``n`` draws of ``2^bits`` equiprobable cells: between
    ``S - S^2/2`` and ``S = 2^bits P(Binomial(n, 2^-bits) >= k)`` (union bound above; below, Bonferroni with the
    pair terms bounded by products, multinomial counts being negatively associated: Joag-Dev & Proschan 1983)."""
    cells = 2.0 ** bits
    s = float(cells * stats.binom.sf(k - 1, n, 1.0 / cells))
    return Rate(s, max(s - s * s / 2, 0.0), s, "exact (cells of 2^-%d)" % bits, alpha)


def rounded_rate(law: Law, n: int, k: int, alpha: float) -> Rate:
    """The same probability for the law rounded to float32 (round to nearest: cell ``[x - h/2, x + h/2]``, ``h`` the
    spacing), bounded binade by binade: in ``[2^e, 2^(e+1))`` (and its mirror) the ``2^23`` cells carry between
    ``h min f`` and ``h max f`` over the binade widened by ``h``; the union bound of the larger is the upper end, the
    Bonferroni bound of the smaller the lower end."""
    dist = law.dist()
    lo_s, hi_s = 0.0, 0.0
    for e in range(-149, 130):
        a, b = 2.0 ** e, 2.0 ** (e + 1)
        h = 2.0 ** (e - BITS)
        for sign in (1.0, -1.0):
            left, right = (a - h, b) if sign > 0 else (-b, -a + h)
            if dist.cdf(right) - dist.cdf(left) <= 0:
                continue
            ends = np.array([left, right, *([law.mean] if left <= law.mean <= right else [])])
            f = dist.pdf(ends)
            f_hi = float(f.max())
            f_lo = float(f[:2].min()) if law.kind != "uniform" or (law.lo <= left and right <= law.hi) else 0.0
            hi_s += float(2.0 ** BITS * stats.binom.sf(k - 1, n, min(h * f_hi, 1.0)))
            lo_s += float(2.0 ** BITS * stats.binom.sf(k - 1, n, min(h * f_lo, 1.0)))
    return Rate(hi_s, max(lo_s - lo_s * lo_s / 2, 0.0), hi_s, "bounds (float32 rounding, per binade)", alpha)


def boundary_sizes(law: Law, rejects: Callable[[np.ndarray], bool], n_max: int, alpha: float) -> dict[int, int]:
    """``{k: n}``: for each critical run length ``k``, the largest ``n <= n_max`` at which the check still accepts a
    run of ``k - 1``... i.e. the largest ``n`` whose critical run is ``k`` (the rate grows with ``n`` at a fixed
    ``k``, so these are the least favourable sizes).  Found from the check's documented bound
    ``C(n, k) p_cell^(k - 1) <= alpha`` by bisection, then confirmed on the check itself at ``n`` (critical run
    ``k``) and ``n + 1`` (``k + 1``); a size the check disagrees on raises ``AssertionError``."""
    from invariants.stats.extremes import max_cell_probability

    log_p = math.log(max_cell_probability(law.dist(), BITS))

    def log_bound(n: int, k: int) -> float:
        return float(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)) + (k - 1) * log_p

    out, k = {}, 2
    while True:
        if log_bound(k, k) > math.log(alpha):  # even n = k keeps k from rejecting
            k += 1
            continue
        lo, hi = k, 2 * n_max  # log_bound(lo, k) <= log alpha
        if log_bound(n_max, k) <= math.log(alpha):
            break
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if log_bound(mid, k) <= math.log(alpha) else (lo, mid)
        assert critical_run(rejects, lo, k) == k and critical_run(rejects, lo + 1, k + 1) == k + 1, (k, lo)
        out[k] = lo
        k += 1
    return out


def point_mass_calibration(n_max: int, alpha: float) -> list[dict]:
    """The point-mass check at its critical run length, at the least favourable sizes up to ``n_max``
    (:func:`boundary_sizes`), under each cell law; the largest rate over those sizes per law and cell law."""
    rows, rec = [], []
    for law_name, law in POINT_MASS_LAWS.items():
        rejects = check_rejects("point_mass", law, alpha)
        crit = {n: k for k, n in boundary_sizes(law, rejects, n_max, alpha).items()}
        sizes = sorted(crit)
        models: dict[str, Callable[[int, int], Rate]] = {
            name: (lambda n, k, b=bits: lattice_rate(n, k, b, alpha)) for name, bits in LATTICES.items()}
        models["float32 rounding"] = lambda n, k: rounded_rate(law, n, k, alpha)
        for model, rate_of in models.items():
            worst: tuple[Rate, int] | None = None
            for n in sizes:
                r = rate_of(n, crit[n])
                if worst is None or r.rate > worst[0].rate:
                    worst = (r, n)
            assert worst is not None
            r, n = worst
            rec.append(dict(r.as_dict(), check="point_mass", law=law_name, cells=model, n=n, k=crit[n],
                            sizes=sizes))
            rows.append([law_name, model, n, crit[n], f"{r.rate:.3g}", f"[{r.lo:.3g}, {r.hi:.3g}]",
                         f"{r.rate / alpha:.3f}", "FLAGGED" if r.flagged else "ok"])
            print(f"#   point_mass / {law_name} / {model}: worst n = {n} (k = {crit[n]}): {r.rate:.4g}", flush=True)
    print()
    print(f"Point-mass check: the largest rejection probability at alpha = {alpha:g} over the sizes n <= {n_max} "
          "where its critical run length steps up (the least favourable), by the sampler's cells")
    print(C.table(["law", "cells", "worst n", "critical run", "rate", "95% interval (exact bounds)", "rate / alpha",
                   "verdict"], rows, "llrrrrrl"))
    return rec

# ------------------------------------------------------------------------------ 5. Haar checks of orthogonal laws


#: ``(rows, cols)`` of the orthogonal draws calibrated (the auditor pools
#: :func:`~invariants.stats.haar.haar_draws` of them)
HAAR_SHAPES = ((16, 16), (64, 64), (64, 256), (512, 512), (1024, 512))


def _haar_frames(k: int, n: int, draws: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``draws`` exact (float64) Haar ``k x n`` frames (Mezzadri 2007: QR of a Gaussian, signs of R's diagonal)."""
    out = []
    for _ in range(draws):
        q, r = np.linalg.qr(rng.standard_normal((n, k)))
        out.append((q * np.sign(np.diag(r))).T)
    return out


def haar_rates(k: int, n: int, alpha: float, bits: int, rng: np.random.Generator) -> dict[str, Rate]:
    """The false-alarm probability of each Haar check on ``haar_draws(k)`` exact Haar ``k x n`` draws read at
    ``bits`` mantissa bits (the checks' rounding allowances apply), from the null laws the module states, at the
    critical values its p-value functions give."""
    from invariants.stats import haar as H

    draws = H.haar_draws(k)
    rates: dict[str, Rate] = {}
    # signs: Binomial(k D, 1/2), the exact two-sided test (scipy's binomtest, as the check)
    m = k * draws
    pmf = stats.binom.pmf(np.arange(m + 1), m, 0.5)
    rej = [pos for pos in range(m + 1) if float(stats.binomtest(pos, m, 0.5).pvalue) <= alpha]
    p = float(pmf[rej].sum()) if rej else 0.0
    rates["haar_signs"] = Rate(p, p, p, f"exact (Binomial({m}, 1/2))", alpha)
    # entries: the check's own uniforms count and reductions, its allowance eta; the uniforms are i.i.d. U(0, 1)
    u, rows = H.entry_uniforms(_haar_frames(k, n, draws, rng))
    eta = 2.0 * math.sqrt(n / (2 * math.pi)) * H.entry_allowance(n, bits) * (1 + 2 * (rows - 1))
    if u.size >= 2:
        # the check rejects iff kstwo.sf(max(D - eta, 0)) <= alpha: its smallest rejected D, to the ulp
        def rejected(d: float) -> bool:
            return float(stats.kstwo.sf(max(d - eta, 0.0), u.size)) <= alpha

        d_star = flip(rejected, eta, 1.0)  # the largest accepted D, to 4 ulps
        while not rejected(d_star):
            d_star = float(np.nextafter(d_star, 2.0))
        p = float(stats.kstwo.sf(d_star, u.size))
        rates["haar_entries"] = Rate(p, p, p, f"exact (KS of {u.size} uniforms)", alpha)
    # sums: each part's Fisher combination over D draws is rejected at alpha / 3; its rate is bracketed by the
    # exact law of the sum of D lattice variables below and above -log p (invariants.stats.haar_null), the
    # per-draw law by the Bonferroni inequalities (the pair terms by quadrature); the union of the 3 parts lies
    # between the largest part and their sum
    sums = sums_rate(k, n, draws, alpha, bits)
    rates["haar_sums"] = Rate(sums.upper, sums.lower, sums.upper, "exact parts, union of 3", alpha)
    e = H.entry_allowance(n, bits)
    # trace (square): |S| beyond the Markov threshold plus the allowance; S has N(0, 1)'s first N - 1 moments
    if k == n:
        allowance = math.sqrt(draws) * math.sqrt(n) * e
        s_star = H.trace_threshold(n, alpha) + allowance
        bound = H.trace_pvalue(s_star, n) if math.isfinite(s_star) else 0.0
        gauss = float(2 * stats.norm.sf(s_star)) if math.isfinite(s_star) else 0.0
        rates["haar_trace"] = Rate(gauss, 0.0, bound, "N(0, 1) limit; Markov bound above", alpha)
    return rates


def rounding_margin(k: int, n: int, seeds: int = 3) -> float:
    """The largest ``|Q32 - Q| / entry_allowance`` over the entries of ``seeds`` torch-style float32 orthogonal
    draws (``torch.nn.init.orthogonal_``: float32 Gaussian, float32 QR, signs of R's diagonal) against the exact
    Haar matrix of the float64 Gaussian they were rounded from; below 1 the checks' allowances hold."""
    from invariants.stats import haar as H

    worst = 0.0
    for seed in range(seeds):
        g = np.random.default_rng(seed).standard_normal((n, k))
        q, r = np.linalg.qr(g)
        exact = q * np.sign(np.diag(r))
        q32, r32 = np.linalg.qr(g.astype(np.float32))
        approx = (q32 * np.sign(np.diag(r32))).astype(np.float64)
        worst = max(worst, float(np.max(np.abs(approx - exact))) / H.entry_allowance(n, 23))
    return worst


def haar_calibration(alpha: float, seed: int) -> list[dict]:
    """The Haar checks' false-alarm probabilities on :data:`HAAR_SHAPES`, at float32 and float64, and the float32
    rounding error against the allowance."""
    rows, rec = [], []
    rng = np.random.default_rng(seed)
    for k0, n0 in HAAR_SHAPES:
        k, n = min(k0, n0), max(k0, n0)
        margin = rounding_margin(k, n)
        for bits in (23, 52):
            for name, r in haar_rates(k, n, alpha, bits, rng).items():
                rec.append(dict(r.as_dict(), check=name, shape=[k0, n0], draws=int(math.ceil(512 / k)), bits=bits,
                                rounding_over_allowance=round(margin, 4)))
                rows.append([name, f"{k0}x{n0}", rec[-1]["draws"], bits, f"{r.rate:.3g}", f"[{r.lo:.3g}, {r.hi:.3g}]",
                             f"{r.rate / alpha:.3f}", "FLAGGED" if r.flagged or r.hi > alpha * (1 + 1e-9) else "ok",
                             r.method])
        print(f"#   haar / {k0}x{n0}: float32 rounding error {margin:.3f} x the allowance", flush=True)
    print()
    print(f"Haar checks of orthogonal laws: rejection probability under the Haar law at alpha = {alpha:g} per check")
    print(C.table(["check", "draw", "draws", "bits", "rate", "95% interval (exact bounds)", "rate / alpha", "verdict",
                   "method"], rows, "llrrrrrll"))
    return rec


# ------------------------------------------------------------------------------ 6. low precision: the rounded laws


#: the low-precision formats calibrated: ``(mantissa bits, numpy dtype name)``
FORMATS = {"bfloat16": 7, "float16": 10}
LOW_PRECISION_LAWS = ("normal", "uniform", "truncated_normal")


def rounded_law(law: Law, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """``(values, probabilities)``: ``law`` rounded to nearest in ``fmt`` (every finite value of the format, its
    cell the half-way points to its neighbours), the law of a correct sampler computing in float32 and rounding."""
    import ml_dtypes

    dtype = ml_dtypes.bfloat16 if fmt == "bfloat16" else np.float16
    width = np.uint16
    with np.errstate(invalid="ignore"):  # the NaN patterns
        raw = np.arange(2 ** 16, dtype=np.uint32).astype(width).view(dtype).astype(np.float32).astype(np.float64)
    v = np.unique(raw[np.isfinite(raw)])
    mids = np.concatenate([[-np.inf], (v[1:] + v[:-1]) / 2, [np.inf]])
    p = np.diff(np.asarray(law.dist().cdf(mids), dtype=np.float64))
    keep = p > 0
    return v[keep], p[keep] / p[keep].sum()


def jax_lattice_law(fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """``(values, probabilities)`` of ``jax.random.normal(dtype=fmt)``: its uniform keeps the format's mantissa bits
    (``jax/_src/random/core.py:_uniform``: ``2^bits`` equiprobable points of ``[1, 2) - 1``, scaled into
    ``(-1, 1)`` in the format) and ``_normal_real`` maps them by ``sqrt(2) erf_inv(u)`` in the format: every point
    run through JAX's own operations."""
    import jax.numpy as jnp
    from jax import lax

    dtype = jnp.bfloat16 if fmt == "bfloat16" else jnp.float16
    bits = FORMATS[fmt]
    one = np.array(1.0, dtype=dtype).view(np.uint16)
    floats = jnp.asarray((np.arange(2 ** bits, dtype=np.uint16) | one).view(dtype)) - jnp.array(1.0, dtype)
    lo = jnp.asarray(np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype)), dtype)
    hi = jnp.array(1.0, dtype)
    u = lax.max(lo, floats * (hi - lo) + lo)
    x = np.asarray(jnp.array(np.sqrt(2), dtype) * lax.erf_inv(u), dtype=np.float64)
    v, counts = np.unique(x, return_counts=True)
    return v, counts / counts.sum()


class DiscreteTilted:
    """:class:`Tilted`'s interface for a finite law (``values``, ``probs``): tilting reweights the atoms exactly."""

    def __init__(self, values: np.ndarray, probs: np.ndarray, g: Callable[[np.ndarray], np.ndarray]) -> None:
        self.values, self.probs, self.g = values, probs, g
        self.gv = g(values)
        self.g0 = float(self.probs @ self.gv)

    def _weights(self, t: float) -> np.ndarray:
        e = t * (self.gv - self.g0)
        return self.probs * np.exp(e - e.max())

    def log_mgf(self, t: float) -> float:
        e = t * (self.gv - self.g0)
        return float(e.max() + math.log(float(np.sum(self.probs * np.exp(e - e.max())))))

    def tilted_mean(self, t: float) -> float:
        w = self._weights(t)
        return float(w @ self.gv / w.sum())

    def solve(self, c: float) -> float:
        """The tilt ``t`` with ``E_t[g] = c``."""
        return solve_tilt(self.tilted_mean, c, 1e6)

    def draw(self, t: float, rng: np.random.Generator, size: int) -> np.ndarray:
        w = self._weights(t)
        return self.values[rng.choice(self.values.size, size=size, p=w / w.sum())]


def low_precision_calibration(values: float, alpha: float, seed: int) -> list[dict]:
    """The low-precision checks (:mod:`invariants.stats.precision`) on the law rounded to bfloat16 and float16:
    the rounded law's CDF distance and largest atom against the checks' allowances, the variance check by importance
    sampling at its flips (its verdict is a function of the mean of ``h`` at a given ``n``), the sign test exactly
    (binomial at the rounded law's ``P(X <= mean)``), the KS test's bound (Noether: ``kstwo`` at the distance left
    after the rounding's own)."""
    from invariants.stats.extremes import max_cell_probability
    from invariants.stats.precision import cdf_allowance, clip_radius

    rows, rec = [], []
    rng_seed = seed
    for law_name in LOW_PRECISION_LAWS:
        law = LAWS[law_name]
        cases = [(fmt, bits, "rounded") for fmt, bits in FORMATS.items()]
        if law.kind == "normal":
            cases += [(fmt, bits, "jax lattice") for fmt, bits in FORMATS.items()]
        for fmt, bits, sampler in cases:
            vals, probs = rounded_law(law, fmt) if sampler == "rounded" else jax_lattice_law(fmt)
            allowance = cdf_allowance(law, bits)
            cdf_g = np.cumsum(probs)
            f = np.asarray(law.dist().cdf(vals), dtype=np.float64)
            sup = float(max(np.max(np.abs(cdf_g - f)), np.max(np.abs(cdf_g - probs - f))))  # both sides of each jump
            atom = float(probs.max()) / min(1.0, max_cell_probability(law.dist(), bits) + allowance)
            base = dict(law=law_name, format=fmt, sampler=sampler, bits=bits,
                        cdf_distance_over_allowance=round(sup / allowance, 4),
                        largest_atom_over_cell_bound=round(atom, 4))
            print(f"#   {law_name} / {fmt} / {sampler}: sup|G - F| = {sup / allowance:.3f} x the allowance, "
                  f"largest atom {atom:.3f} x the point-mass cell bound", flush=True)

            def sample(pool: np.ndarray) -> Sample:
                return Sample(pool, [pool], bits, quantized=True)

            var_name = "chi2_variance" if law.kind == "normal" else "moment_variance"
            (var_check,) = [c for c in CHECKS if c.name == var_name]
            (mean_check,) = [c for c in CHECKS if c.name == "mean"]
            (ks_check,) = [c for c in CHECKS if c.name == "ks_shape"]
            t2 = clip_radius(law) ** 2
            tilted = DiscreteTilted(vals, probs, lambda x: np.minimum((x - law.mean) ** 2, t2))
            for n in (2, 5, 10, 50, 1000, 100_000):
                def var_rejects(v: float) -> bool:
                    return not var_check.run(law, sample(np.full(n, law.mean + math.sqrt(v))), alpha).passed

                c_lo = flip(var_rejects, tilted.g0, 0.0) if var_rejects(0.0) else -math.inf
                c_hi = flip(var_rejects, tilted.g0, t2) if var_rejects(t2) else math.inf
                reps = max(200, int(values // n))
                rng = np.random.default_rng(rng_seed)
                rng_seed += 1
                p_lo, se_lo = is_tail(tilted, c_lo, -1, n, reps, rng) if math.isfinite(c_lo) else (0.0, 0.0)
                p_hi, se_hi = is_tail(tilted, c_hi, +1, n, reps, rng) if math.isfinite(c_hi) else (0.0, 0.0)
                p, se = p_lo + p_hi, math.hypot(se_lo, se_hi)
                r = Rate(p, max(p - Z95 * se, 0.0), p + Z95 * se, f"importance sampling, {reps} x {n}", alpha)
                rec.append(dict(r.as_dict(), check="quantized_variance", n=n, **base))
                rows.append(["quantized_variance", law_name, fmt, sampler, n, f"{r.rate:.3g}",
                             f"[{r.lo:.3g}, {r.hi:.3g}]", f"{r.rate / alpha:.3f}", "FLAGGED" if r.flagged else "ok"])
            for n in (10, 1000, 100_000):
                # the sign test: the count of values <= mean decides; constructed pools with k of them
                def mean_rejects(k: int) -> bool:
                    pool = np.where(np.arange(n) < k, law.mean - law.std, law.mean + law.std)
                    return not mean_check.run(law, sample(pool), alpha).passed

                q = float(probs[vals <= law.mean].sum())
                ks = np.arange(n + 1)
                rej = np.array([mean_rejects(int(k)) for k in ks]) if n <= 1000 else None
                if rej is None:  # large n: the rejected counts are the two tails; find their ends by bisection
                    mid = int(round(n * float(law.dist().cdf(law.mean))))
                    lo_k = int(flip(lambda k: mean_rejects(int(round(k))), mid, 0)) if mean_rejects(0) else -1
                    hi_k = int(flip(lambda k: mean_rejects(int(round(k))), mid, n)) if mean_rejects(n) else n + 1
                    if lo_k >= 0:  # the largest rejected count below the middle
                        lo_k = max(k for k in range(lo_k - 2, lo_k + 3) if k >= 0 and mean_rejects(k))
                    if hi_k <= n:  # the smallest rejected count above it
                        hi_k = min(k for k in range(hi_k - 2, hi_k + 3) if k <= n and mean_rejects(k))
                    p = float(stats.binom.cdf(lo_k, n, q) + stats.binom.sf(hi_k - 1, n, q))
                else:
                    p = float(stats.binom.pmf(ks[rej], n, q).sum())
                r = Rate(p, p, p, "exact (binomial at the rounded law)", alpha)
                rec.append(dict(r.as_dict(), check="mean", n=n, **base))
                rows.append(["mean (sign test)", law_name, fmt, sampler, n, f"{r.rate:.3g}", "exact",
                             f"{r.rate / alpha:.3f}", "FLAGGED" if r.flagged else "ok"])
            for n in (1000, 10_000):
                ppf, i = law.dist().ppf, np.arange(1, n + 1) / n

                def ks_rejects(d: float) -> bool:
                    pool = np.asarray(ppf(i * (1.0 - d)), dtype=np.float64)  # KS distance d (exact_ks)
                    return not ks_check.run(law, sample(pool), alpha).passed

                d_star = flip(ks_rejects, 1.5 / (n + 1), 0.9)
                p = float(stats.kstwo.sf(max(d_star - sup, 0.0), n))
                r = Rate(p, 0.0, p, "bound (Noether: KS of the rounded law)", alpha)
                rec.append(dict(r.as_dict(), check="ks_shape", n=n, **base))
                rows.append(["ks_shape", law_name, fmt, sampler, n, f"{r.rate:.3g}", f"[0, {r.hi:.3g}]",
                             f"{r.rate / alpha:.3f}", "FLAGGED" if r.hi > alpha * (1 + 1e-9) else "ok"])
    print()
    print(f"Low-precision checks on the law rounded to the format: rejection probability at alpha = {alpha:g}")
    print(C.table(["check", "law", "format", "sampler", "n", "rate", "95% interval", "rate / alpha", "verdict"], rows,
                  "llllrrrrl"))
    return rec


# ------------------------------------------------------------------------------ the run


CHECK_NAMES = ("chi2_variance", "moment_variance", "mean", "support", "extremes", "ks_shape")
#: the laws of the full run (the wider truncations are calibrated with ``--checks moment_variance``)
DEFAULT_LAWS = ("normal", "uniform", "truncated_normal")


def calibrate(sizes: list[int], values: float, alpha: float, seed: int, checks: tuple[str, ...] = CHECK_NAMES,
              laws: tuple[str, ...] = DEFAULT_LAWS) -> list[dict]:
    rows, rec = [], []
    for n in sizes:
        reps = max(200, int(values // n))
        for law_name in laws:
            law = LAWS[law_name]
            for name in checks:
                if not any(c.name == name and c.applies(law) for c in CHECKS):
                    continue
                rejects = check_rejects(name, law, alpha)
                t0 = time.perf_counter()
                if name == "chi2_variance":
                    r = exact_chi2(rejects, n, alpha)
                elif name == "mean" and law.kind == "normal":
                    r = exact_normal_mean(rejects, n, alpha)
                elif name in ("mean", "moment_variance"):
                    r = clt_rate(rejects, name, law, n, reps, alpha, seed + n)
                elif name == "support":
                    r = exact_support(rejects, law, n, alpha)
                elif name == "extremes":
                    r = exact_extremes(rejects, law, n, alpha)
                else:
                    r = exact_ks(rejects, law, n, alpha)
                dt = time.perf_counter() - t0
                rec.append(dict(r.as_dict(), check=name, law=law_name, n=n, seconds=round(dt, 1)))
                if name == "moment_variance" and law.truncation_negligible:
                    rec[-1]["chi2_reference"] = chi2_reference(rejects, law, n, alpha)
                    print(f"#     chi-square reference (truncation immaterial): {rec[-1]['chi2_reference']:.6g}")
                ci = "exact" if r.method == "exact" else f"[{r.lo:.3g}, {r.hi:.3g}]"
                rows.append([name, law_name, n, f"{r.rate:.3g}", ci, f"{r.rate / alpha:.3f}",
                             "FLAGGED" if r.flagged else "ok", r.method])
                print(f"#   {name} / {law_name} / n = {n}: {r.rate:.4g} ({ci}) in {dt:.1f} s", flush=True)
    print()
    print(f"Rejection probability under the null at alpha = {alpha:g} per check (float32 values)")
    print(C.table(["check", "law", "n", "rate", "95% interval", "rate / alpha", "verdict", "method"], rows, "llrrrrll"))
    return rec


def validate(n: int, reps: int, alpha: float, seed: int) -> list[dict]:
    """Importance sampling vs plain Monte Carlo at a level plain simulation resolves."""
    rows, rec = [], []
    for law_name in ("uniform", "truncated_normal"):
        law = LAWS[law_name]
        for name in ("moment_variance", "mean"):
            rejects = check_rejects(name, law, alpha)
            c_lo, c_hi = clt_flips(rejects, name, law, n)
            tilted = Tilted(law, g_of(name, law)[0])
            a = is_rate(tilted, c_lo, c_hi, n, max(200, reps // 20), alpha, seed)
            b = mc_rate(tilted, c_lo, c_hi, n, reps, alpha, seed + 1)
            agree = a.lo <= b.hi and b.lo <= a.hi
            rec.append({"check": name, "law": law_name, "n": n, "alpha": alpha, "importance": a.as_dict(),
                        "monte_carlo": b.as_dict(), "intervals_overlap": agree})
            rows.append([name, law_name, n, f"{a.rate:.4g} [{a.lo:.4g}, {a.hi:.4g}]",
                         f"{b.rate:.4g} [{b.lo:.4g}, {b.hi:.4g}]", "yes" if agree else "NO"])
    print()
    print(f"Validation: importance sampling vs plain Monte Carlo at alpha = {alpha:g}")
    print(C.table(["check", "law", "n", "importance sampling (95%)", "Monte Carlo (Clopper-Pearson 95%)", "agree"],
                  rows, "llrlll"))
    return rec


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` rows with those of the same check, law and n replaced by ``new`` ones, in the full run's order
    (n, then law as in :data:`LAWS`, then check as in :data:`CHECK_NAMES`)."""
    def key(r: dict) -> tuple:
        return r["check"], r["law"], r["n"]

    fresh = {key(r) for r in new}
    laws, checks = list(LAWS), list(CHECK_NAMES)
    return sorted([r for r in old if key(r) not in fresh] + new,
                  key=lambda r: (r["n"], laws.index(r["law"]), checks.index(r["check"])))


def _recorded_rows(path: str | None) -> list[dict]:
    """The rows of the recorded ``tail-calibration`` section of ``path`` (none when nothing is recorded)."""
    if path is None or not Path(path).is_file():
        return []
    return json.loads(Path(path).read_text(encoding="utf-8")).get("tail-calibration", {}).get("checks", [])


#: calibrations with their own tables and keys in the record (``--checks`` names them like the law checks)
SECTIONS: dict[str, Callable[[argparse.Namespace], list[dict]]] = {
    "point_mass": lambda a: point_mass_calibration(a.point_mass_max, a.alpha),
    "haar": lambda a: haar_calibration(a.alpha, a.seed),
    "low_precision": lambda a: low_precision_calibration(min(a.values, 2e7), a.alpha, a.seed),
}


#: recorded figures of checks before a fix (measured on an older package): a full run keeps them
NOTES = ("moment_variance_normal_approximation", "point_mass_before_fix", "low_precision_before_fix")


def _recorded_notes(path: str | None) -> dict:
    """The :data:`NOTES` entries of the recorded ``tail-calibration`` section of ``path`` (none when absent)."""
    if path is None or not Path(path).is_file():
        return {}
    tail = json.loads(Path(path).read_text(encoding="utf-8")).get("tail-calibration", {})
    return {k: tail[k] for k in NOTES if k in tail}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,12000,100000", help="values per audit, comma-separated")
    ap.add_argument("--values", type=float, default=5e8, help="values drawn per tail of each CLT check (default 5e8)")
    ap.add_argument("--alpha", type=float, default=ALPHA, help="per-check alpha (default 1e-6, the auditor's cap)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checks", default=",".join(CHECK_NAMES + tuple(SECTIONS)), help="checks to calibrate, "
                    f"comma-separated, of {', '.join(CHECK_NAMES + tuple(SECTIONS))}; a subset is recorded as a part: "
                    "its rows replace the recorded rows of the same check, law and n (a section: its key)")
    ap.add_argument("--point-mass-max", type=int, default=2**24, help="largest n of the point-mass calibration "
                    "(default 2^24, a 4096 x 4096 tensor)")
    ap.add_argument("--laws", default=",".join(DEFAULT_LAWS), help=f"laws, comma-separated, of {', '.join(LAWS)}")
    ap.add_argument("--validate", action="store_true", help="also compare importance sampling with plain Monte "
                                                            "Carlo at alpha = 1e-2 (n = 1000, 10^5 replicates)")
    ap.add_argument("--validate-only", action="store_true", help="only the comparison of --validate, recorded as "
                    "a part (the rows of the law checks are kept)")
    C.record_arg(ap)
    args = ap.parse_args(argv)
    t0 = C.header("tail calibration: each check's false-alarm probability at its stated alpha")
    if args.validate_only:
        C.record(args.record, "tail-calibration", {"validation": validate(1000, 100_000, 1e-2, args.seed)},
                 part="validation")
        C.footer(t0, timing=False)
        return 0
    checks, laws = tuple(args.checks.split(",")), tuple(args.laws.split(","))
    unknown = set(checks) - set(CHECK_NAMES) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown checks {sorted(unknown)}; expected some of {', '.join(CHECK_NAMES + tuple(SECTIONS))}")
    law_checks = tuple(c for c in checks if c in CHECK_NAMES)
    partial = set(checks) != set(CHECK_NAMES) | set(SECTIONS) or set(laws) != set(DEFAULT_LAWS)
    rec: dict = {}
    if law_checks:
        rows = calibrate([int(s) for s in args.sizes.split(",")], args.values, args.alpha, args.seed, law_checks, laws)
        if not partial:
            rec = {"alpha": args.alpha, "bits": BITS, "values_per_tail": args.values, "checks": rows,
                   **_recorded_notes(args.record)}
        else:
            # a part: replace the recorded rows it measured, keep the others; its own draw count is kept per row
            for r in rows:
                r["values_per_tail"] = args.values
            rec = {"checks": merge_rows(_recorded_rows(args.record), rows)}
    for name, run in SECTIONS.items():
        if name in checks:
            rec[name] = run(args)
    if args.validate:
        rec["validation"] = validate(1000, 100_000, 1e-2, args.seed)
    C.record(args.record, "tail-calibration", rec, part=",".join(checks) if partial else None)
    C.footer(t0, timing=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
