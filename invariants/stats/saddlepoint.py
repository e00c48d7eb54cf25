"""Saddlepoint tail probabilities for the mean of squared deviations ``u = (x - E x)^2 / Var x``.

The variance test of :mod:`invariants.stats.moments` reads ``mean(u)`` over ``n`` i.i.d. values of a uniform or a
truncated normal law.  The normal approximation to its law is anti-conservative at small ``n`` (``u`` is skewed:
skewness 0.64 for a uniform, 1.49 for a normal cut at +-2 std, 2.31 at +-3 std, ``sqrt(8)`` for a normal), so the
tails are computed from the exact cumulant generating function ``K(t) = log E exp(t u)`` instead:

- **Law of u.**  Standardize the entry: ``x = loc + scale z`` with ``z`` of density proportional to
  ``exp(-c z^2 / 2)`` on ``[a, b]`` (``c = 1``: a normal truncated to ``[a, b]`` std of its underlying normal,
  ``a = -inf, b = inf`` for the normal itself; ``c = 0``: a uniform, ``[a, b] = [-sqrt 3, sqrt 3]``), mean
  ``m0`` and variance ``v0``; ``u = (z - m0)^2 / v0``.  The tilted density ``exp(-c z^2 / 2 + t u)`` is the
  exponential of a quadratic in ``z``, so ``K`` and its derivatives (``K' = E_t u``, ``K'' = Var_t u`` and the third
  and fourth cumulants of ``u`` under the tilt) are computed in log space by
  Gauss-Legendre quadrature over the part of ``[a, b]`` where that quadratic is within 80 of its maximum
  (8 panels of 24 nodes: the neglected mass is below ``e^-80`` relative, the rule exact to ~1e-13).
- **Tail** (Lugannani & Rice 1980, "Saddle point approximation for the distribution of the sum of independent
  random variables", Adv. Appl. Prob. 12, 475-490; Daniels 1954, "Saddlepoint approximations in statistics",
  Ann. Math. Statist. 25, 631-650; Butler 2007, "Saddlepoint approximations with applications"): with
  ``K'(s) = y``, ``w = sign(s) sqrt(2 n (s y - K(s)))`` and ``v = s sqrt(n K''(s))``,
  ``P(mean u >= y) ~ 1 - Phi(w) + phi(w) (1/v - 1/w + R)``, with the second-order term of Daniels 1987
  ("Tail probability approximations", Int. Statist. Rev. 55, 37-48)
  ``R = (l4/8 - 5 l3^2/24)/v - l3/(2 v^2) - 1/v^3 + 1/w^3``, ``l3 = K'''/(K''^1.5 sqrt n)`` and
  ``l4 = K''''/(K''^2 n)`` at ``s``.  Without ``R`` the relative error is ``O(1/n)`` (anti-conservative by about
  1% for a normal truncated at +-2 std at ``n = 1000``: 1.011 alpha [1.00, 1.02] by importance sampling); with it
  it is ``O(n^-2)``: against the exact chi-square law of a normal's ``mean u`` it is within about 1e-9 relative
  at ``n = 1000`` and 1e-6 at ``n = 100`` (``tests/stats/test_stats_saddlepoint.py``).  At ``|w| < 1e-4`` (the
  centre, where the formula is 0/0) its limit
  ``1/2 - g / (6 sqrt(2 pi n))`` (``g`` = skewness of ``u``) is used.  Where the saddlepoint cannot be
  bracketed (a ``y`` at the edge of the support), the Chernoff bound ``exp(-n (s y - K(s)))`` at the last tilt
  tried is returned for the far tail: a rigorous upper bound.
- **Two-sided p-value** of the statistic ``|mean u - 1|``: ``P(mean u >= 1 + d) + P(mean u <= 1 - d)`` with
  ``d = |mean u - 1|`` — the probability, under the null, of a relative variance error at least as large as the
  one observed, in either direction.

``benchmarks/tail_calibration.py`` measures the resulting false-alarm rate at alpha
= 1e-6 by importance sampling (recorded in ``docs/data/benchmarks.json``, key ``tail-calibration``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, special

if TYPE_CHECKING:
    from invariants.laws import Law

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(24)
_PANELS = 8
_LOG_WEIGHTS = np.log(_WEIGHTS)[None, :]


def panel_edges(lo: float, hi: float) -> np.ndarray:
    """``np.linspace(lo, hi, _PANELS + 1)`` bit for bit (NumPy's ``i * step + lo`` with the last edge set to
    ``hi``, ``numpy/_core/function_base.py:linspace``), without its ~15 us of argument handling: the
    quadrature runs ~40,000 times in one audit test file.  A zero step or non-finite ends (NumPy's special
    cases) go to ``np.linspace`` itself."""
    lo, hi = float(lo), float(hi)
    step = (hi - lo) / _PANELS
    if step == 0 or not math.isfinite(step):
        return np.linspace(lo, hi, _PANELS + 1)
    edges = [i * step + lo for i in range(_PANELS)]
    edges.append(hi)
    return np.array(edges)
#: the part of the support kept by the quadrature: where the log-integrand is within this of its maximum
_LOG_SPAN = 80.0
#: the tilts are searched up to this size (beyond it only the Chernoff bound is returned)
_T_CAP = 2.0**50


@dataclass(frozen=True)
class SquaredDeviation:
    """The law of ``u = (x - E x)^2 / Var x`` for one entry ``x`` of a uniform or a (truncated) normal law.

    Attributes:
        curvature: 1 for a (truncated) normal, 0 for a uniform: ``z = (x - loc)/scale`` has density
            proportional to ``exp(-curvature z^2 / 2)`` on ``[a, b]``.
        a, b: the support of ``z`` (``-inf, inf`` for a normal; ``-sqrt 3, sqrt 3`` for a uniform).
        mean_z, var_z, kurtosis, skewness: ``E z``, ``Var z``, the Pearson kurtosis of ``x`` (``E u^2``) and the
            skewness of ``u``, from the same quadrature (derived, not passed).
    """

    curvature: float
    a: float
    b: float
    mean_z: float = field(init=False, compare=False)
    var_z: float = field(init=False, compare=False)
    kurtosis: float = field(init=False, compare=False)
    skewness: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if self.curvature not in (0.0, 1.0) or not self.a < self.b or (self.curvature == 0 and
                                                                       not math.isfinite(self.b - self.a)):
            raise ValueError(f"no squared-deviation law for curvature {self.curvature!r} on [{self.a!r}, {self.b!r}]")
        z, w, _ = self._nodes(-self.curvature / 2, 0.0, 0.0)
        w = w / w.sum()
        m0 = float(w @ z)
        v0 = float(w @ (z - m0) ** 2)
        if not v0 > 0:
            raise ValueError(f"the law on [{self.a!r}, {self.b!r}] has no spread")
        u = (z - m0) ** 2 / v0
        object.__setattr__(self, "mean_z", m0)
        object.__setattr__(self, "var_z", v0)
        object.__setattr__(self, "kurtosis", float(w @ u**2))
        object.__setattr__(self, "skewness", float(w @ (u - 1) ** 3) / (float(w @ u**2) - 1) ** 1.5)

    # ------------------------------------------------------------------ constructors
    @staticmethod
    def uniform() -> "SquaredDeviation":
        """Any uniform law (``u`` does not depend on its bounds)."""
        return SquaredDeviation(0.0, -math.sqrt(3.0), math.sqrt(3.0))

    @staticmethod
    def truncated_normal(a: float, b: float) -> "SquaredDeviation":
        """A normal truncated to ``[a, b]`` standard deviations of the underlying normal (``-inf, inf``: the normal)."""
        return SquaredDeviation(1.0, float(a), float(b))

    @staticmethod
    def of_law(law: "Law") -> "SquaredDeviation":
        """The law of ``u`` for a ``uniform``, ``truncated_normal`` or ``normal`` :class:`~invariants.laws.Law`.

        Raises:
            ValueError: any other kind.
        """
        if law.kind == "uniform":
            return SquaredDeviation.uniform()
        if law.kind == "normal":
            return SquaredDeviation.truncated_normal(-math.inf, math.inf)
        if law.kind == "truncated_normal":
            return SquaredDeviation.truncated_normal(*law.standard_cut_points())
        raise ValueError(f"a {law.kind} law has no squared-deviation law here")

    @staticmethod
    def from_kurtosis(kurtosis: float) -> "SquaredDeviation":
        """The symmetric member of the family with this Pearson kurtosis: the uniform at 1.8, the normal at 3,
        between them the normal truncated at ``+-c`` std (its kurtosis rises monotonically from 1.8 to 3 with ``c``).

        Raises:
            ValueError: ``kurtosis`` outside ``[1.8, 3]`` (no symmetric truncated normal has it: pass the law).
        """
        return _from_kurtosis(round(float(kurtosis), 12))

    # ------------------------------------------------------------------ cumulants
    def _nodes(self, a2: float, a1: float, a0: float) -> tuple[np.ndarray, np.ndarray, float]:
        """``(z, w, hmax)``: quadrature nodes in ``z`` and weights ``w`` of ``int exp(h(z) - hmax) dz`` for
        ``h = a2 z^2 + a1 z + a0`` (``hmax`` its maximum on ``[a, b]``), over the part of ``[a, b]`` where ``h`` is
        within :data:`_LOG_SPAN` of ``hmax``.

        Raises:
            OverflowError: an unbounded support with ``a2 >= 0`` (the integral diverges).
        """
        a, b = self.a, self.b
        cands = [v for v in (a, b) if math.isfinite(v)]
        if a2 < 0:
            top = -a1 / (2 * a2)
            if a < top < b:
                cands.append(top)
        elif not (math.isfinite(a) and math.isfinite(b)):
            raise OverflowError("the tilt makes the integral diverge")
        hmax = max(a2 * v * v + a1 * v + a0 for v in cands)
        c0 = a0 - (hmax - _LOG_SPAN)
        pieces: list[tuple[float, float]]
        if abs(a2) < 1e-300 * max(1.0, abs(a1)):
            if a1 == 0:
                pieces = [(a, b)]
            else:
                r = -c0 / a1
                pieces = [(max(a, r), b)] if a1 > 0 else [(a, min(b, r))]
        else:
            disc = a1 * a1 - 4 * a2 * c0
            if disc <= 0:
                pieces = [(a, b)]
            else:
                sq = math.sqrt(disc)
                r1, r2 = sorted(((-a1 - sq) / (2 * a2), (-a1 + sq) / (2 * a2)))
                pieces = [(max(a, r1), min(b, r2))] if a2 < 0 else [(a, min(b, r1)), (max(a, r2), b)]
        zs, ws = [], []
        for lo, hi in pieces:
            if not hi > lo:
                continue
            edges = panel_edges(lo, hi)
            half = (edges[1:] - edges[:-1])[:, None] / 2
            z = (edges[:-1, None] + half + half * _NODES[None, :]).ravel()
            zs.append(z)
            ws.append((np.log(half) + _LOG_WEIGHTS).ravel() + (a2 * z + a1) * z + a0 - hmax)
        if len(zs) == 1:
            return zs[0], np.exp(ws[0]), hmax
        return np.concatenate(zs), np.exp(np.concatenate(ws)), hmax

    def _tilted_quadrature(self, t: float) -> tuple[np.ndarray, float, float, np.ndarray, float]:
        """``(w, hmax, total, u, E_t u)`` at tilt ``t``: the quadrature weights, the log-integrand's maximum, the sum
        of the weights, ``u`` at the nodes and the tilted mean of ``u`` (what :meth:`_log_integral` builds on).
        Computed afresh on every call; :func:`quadrature` is the memoised front every reader goes through."""
        m0, v0 = self.mean_z, self.var_z
        a2, a1, a0 = -self.curvature / 2 + t / v0, -2 * t * m0 / v0, t * m0 * m0 / v0
        z, w, hmax = self._nodes(a2, a1, a0)
        total = float(w.sum())
        u = (z - m0) ** 2 / v0
        return w, hmax, total, u, float(w @ u) / total

    def tilted_mean(self, t: float) -> float:
        """``K'(t) = E_t u``, bit for bit ``cumulants(t)[1]``, without the higher cumulants (the saddlepoint
        search of :func:`_solve` reads only this: ~9 of every 10 quadratures).

        Raises:
            OverflowError: as :meth:`cumulants`.
        """
        return quadrature(self, float(t))[4]

    def _log_integral(self, t: float) -> tuple[float, float, float, float, float]:
        """``(log int exp(-c z^2/2 + t u) dz, E_t u, Var_t u, k3, k4)``: the tilted law's first four cumulants."""
        w, hmax, total, u, m = quadrature(self, t)
        dev2 = (u - m) ** 2
        var = float(w @ dev2) / total
        k3 = float(w @ (dev2 * (u - m))) / total
        k4 = float(w @ (dev2 * dev2)) / total - 3 * var * var
        return hmax + math.log(total), m, var, k3, k4

    def cumulants(self, t: float) -> tuple[float, float, float, float, float]:
        """``(K(t), K'(t), ..., K''''(t))`` of ``u`` at tilt ``t`` (``K(t) = log E exp(t u)``).

        Raises:
            OverflowError: ``t`` at or beyond the largest finite tilt (``var_z / 2`` for a normal).
        """
        log_i, *derivatives = self._log_integral(float(t))
        return (log_i - _log_base(self), *derivatives)

    # ------------------------------------------------------------------ tails
    @property
    def u_range(self) -> tuple[float, float]:
        """``(min u, max u)`` over the support (``max u = inf`` for a normal)."""
        m0, v0 = self.mean_z, self.var_z
        lo = 0.0 if self.a <= m0 <= self.b else min((self.a - m0) ** 2, (self.b - m0) ** 2) / v0
        return lo, max((self.a - m0) ** 2, (self.b - m0) ** 2) / v0

    def tail(self, y: float, n: int, upper: bool) -> float:
        """``P(mean u >= y)`` (``upper``) or ``P(mean u <= y)`` over ``n`` i.i.d. values (Lugannani-Rice)."""
        return _tail(self, float(y), int(n), bool(upper))

    def p_value(self, ratio: float, n: int) -> float:
        """Two-sided p-value of an observed ``mean u`` (= observed / expected variance) over ``n`` values."""
        d = abs(float(ratio) - 1.0)
        return min(1.0, self.tail(1.0 + d, n, True) + self.tail(1.0 - d, n, False))

    def critical_error(self, n: int, alpha: float) -> float:
        """The relative error ``d`` with ``p_value(1 + d) = alpha``: the test rejects iff ``|mean u - 1| > d``."""
        return _critical(self, int(n), float(alpha))

    def quantile(self, prob: float, n: int, upper: bool) -> float:
        """``y`` with ``P(mean u >= y) = prob`` (``upper``) or ``P(mean u <= y) = prob``."""
        return _quantile(self, float(prob), int(n), bool(upper))


def quadrature(law: SquaredDeviation, t: float) -> tuple[np.ndarray, float, float, np.ndarray, float]:
    """``(w, hmax, total, u, E_t u)`` at tilt ``t``: the quadrature weights of ``int exp(h(z) − hmax) dz`` (1-D,
    one per node: 8 panels of 24 Gauss-Legendre nodes per piece of the support kept, at most two pieces), the
    log-integrand's maximum ``hmax``, ``total = sum(w)``, ``u`` at the nodes (same shape as ``w``) and the tilted
    mean of ``u`` (module docstring, "Law of u").  The last few tilts are kept: the tilt :func:`_solve` returns is
    one its search already evaluated, and :func:`_tail` then needs the full cumulants there.  Kept arrays are
    read-only (every later caller at that tilt gets the same objects).  ``t = 0`` is not kept (``0.0 == -0.0``
    would share an entry between two tilts whose zero signs could differ in the result).

    Raises:
        OverflowError: ``t`` at or beyond the largest finite tilt (``var_z / 2`` for a normal).
    """
    if t == 0:
        return law._tilted_quadrature(t)
    return _quadrature_kept(law, t)


@lru_cache(maxsize=8)
def _quadrature_kept(law: SquaredDeviation, t: float) -> tuple[np.ndarray, float, float, np.ndarray, float]:
    """The kept entries of :func:`quadrature`; their arrays are read-only, since every later caller at this tilt
    gets the same objects (one caller's in-place edit would silently change every later tail)."""
    w, hmax, total, u, mean = law._tilted_quadrature(t)
    w.flags.writeable = False
    u.flags.writeable = False
    return w, hmax, total, u, mean


@lru_cache(maxsize=64)
def _log_base(law: SquaredDeviation) -> float:
    _, w, hmax = law._nodes(-law.curvature / 2, 0.0, 0.0)
    return hmax + math.log(float(w.sum()))


@lru_cache(maxsize=64)
def _from_kurtosis(kurtosis: float) -> SquaredDeviation:
    if not 1.8 - 1e-9 <= kurtosis <= 3.0 + 1e-9:
        raise ValueError(f"no uniform or symmetric truncated normal has kurtosis {kurtosis!r} (need 1.8 to 3)")
    if kurtosis <= 1.8 + 1e-9:
        return SquaredDeviation.uniform()
    if kurtosis >= 3.0 - 1e-9:
        return SquaredDeviation.truncated_normal(-math.inf, math.inf)
    c = optimize.brentq(lambda c: SquaredDeviation.truncated_normal(-c, c).kurtosis - kurtosis, 1e-3, 12.0,
                        xtol=1e-13, rtol=1e-13)
    return SquaredDeviation.truncated_normal(-c, c)


def _t_max(law: SquaredDeviation) -> float:
    return law.curvature * law.var_z / 2 if not (math.isfinite(law.a) and math.isfinite(law.b)) else math.inf


def _solve(law: SquaredDeviation, y: float) -> tuple[float, bool]:
    """``(s, found)``: the saddlepoint ``K'(s) = y``, or the last tilt tried when it lies beyond :data:`_T_CAP`."""
    up = y > 1.0
    t_max = _t_max(law)
    inner, outer = 0.0, (min(1.0, t_max / 2) if up else -1.0)
    for _ in range(200):
        try:
            m = law.tilted_mean(outer)
        except OverflowError:
            m = math.inf
        if (m >= y) if up else (m <= y):
            break
        if abs(outer) >= _T_CAP:
            return outer, False
        # double the tilt; towards a normal's largest tilt t_max, halve the distance to it instead
        inner, outer = outer, (outer * 2 if outer * 2 < t_max else (outer + t_max) / 2)
    else:
        return outer, False
    s = optimize.brentq(lambda t: law.tilted_mean(t) - y, min(inner, outer), max(inner, outer),
                        xtol=1e-300, rtol=1e-15, maxiter=200)
    return s, True


@lru_cache(maxsize=8192)
def _tail(law: SquaredDeviation, y: float, n: int, upper: bool) -> float:
    lo, hi = law.u_range
    if y >= hi:
        return 0.0 if upper else 1.0
    if y <= lo:
        return 1.0 if upper else 0.0
    z = (y - 1.0) * math.sqrt(n / (law.kurtosis - 1.0))  # the standardized deviation (variance of u: kappa - 1)
    if abs(z) < min(1.0, max(0.05, (1e-8 * n) ** 0.2)):
        # near the centre Lugannani-Rice cancels catastrophically: 1/w^3 - 1/v^3 with w ~ z, and w^2 = 2n(s y - K)
        # carries the quadrature's ~1e-15 error in K, so 1/w^3 is off by ~3n 1e-15 / z^5 (garbage at z = 0.002,
        # n = 20480: a uniform sample at ratio 1.0000 got p = 0).  Below z0 = (1e-8 n)^(1/5) (that error
        # <= 3e-7; z0 >= 0.05, <= 1) the one-term Edgeworth expansion instead: its O(1/n) error is immaterial
        # there (both tails >= 0.15, far from any alpha <= 1e-2); at z = 0 it is the |w| -> 0 limit of LR
        up = float(special.ndtr(-z)) + math.exp(-z * z / 2) / math.sqrt(2 * math.pi) * law.skewness * (z * z - 1) / (
            6 * math.sqrt(n))
        return min(1.0, max(0.0, up if upper else 1.0 - up))
    else:
        s, found = _solve(law, y)
        if not found:  # the Chernoff bound at the last tilt: an upper bound on the far tail
            k = law.cumulants(s)[0]
            bound = min(1.0, math.exp(-n * (s * y - k)))
            far = (y > 1.0) == upper
            return bound if far else 1.0 - bound
    k, _, k2, k3, k4 = law.cumulants(s)
    w2 = 2 * n * (s * y - k)
    w = math.copysign(math.sqrt(max(w2, 0.0)), s)
    if abs(w) < 1e-4:
        up = 0.5 - law.skewness / (6 * math.sqrt(2 * math.pi * n))
        low = 1.0 - up
    else:
        v = s * math.sqrt(n * k2)
        l3, l4 = k3 / (k2**1.5 * math.sqrt(n)), k4 / (k2 * k2 * n)  # standardized cumulants of the sum at s
        # Lugannani-Rice with its second-order term (Daniels 1987): relative error O(n^-2), not O(n^-1)
        second = (l4 / 8 - 5 * l3 * l3 / 24) / v - l3 / (2 * v * v) - 1 / v**3 + 1 / w**3
        corr = math.exp(-w * w / 2) / math.sqrt(2 * math.pi) * (1 / v - 1 / w + second)
        # each tail computed on its own side (no 1 - x cancellation in the far tail)
        if w > 0:
            up = float(special.ndtr(-w)) + corr
            low = 1.0 - up
        else:
            low = float(special.ndtr(w)) - corr
            up = 1.0 - low
    return min(1.0, max(0.0, up if upper else low))


@lru_cache(maxsize=4096)
def _critical(law: SquaredDeviation, n: int, alpha: float) -> float:
    def excess(d: float) -> float:
        return math.log(max(law.p_value(1.0 + d, n), 1e-320)) - math.log(alpha)

    guess = float(special.ndtri(1 - alpha / 2)) * math.sqrt((law.kurtosis - 1.0) / n)
    lo, hi = guess / 2, guess
    while excess(hi) > 0:
        lo, hi = hi, hi * 1.5
    while excess(lo) < 0:
        lo, hi = lo / 2, lo
    return optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=1e-12)


@lru_cache(maxsize=4096)
def _quantile(law: SquaredDeviation, prob: float, n: int, upper: bool) -> float:
    ulo, uhi = law.u_range
    s = math.sqrt((law.kurtosis - 1.0) / n)
    z = float(special.ndtri(1 - prob))

    def excess(y: float) -> float:
        return law.tail(y, n, upper) - prob

    sign = 1 if upper else -1
    step = max(abs(z), 1.0) * s
    centre = 1.0 + sign * z * s
    lo, hi = max(ulo, centre - step), min(uhi, centre + step)
    while excess(lo) * sign < 0 and lo > ulo:
        lo = max(ulo, lo - step)
        step *= 2
    while excess(hi) * sign > 0 and hi < uhi:
        hi = min(uhi, hi + step)
        step *= 2
    return optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=1e-12)
