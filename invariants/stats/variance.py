"""Variance tests for i.i.d. weight samples with a *known* mean, with their detectable effect sizes.

Two tests, one result type:

- :func:`chi2_variance_test` — exact for normal samples.  With a known mean ``mu`` and ``n`` i.i.d.
  ``N(mu, sigma^2)`` values, ``S = sum((x - mu)^2) / sigma^2 ~ chi2(n)`` exactly: it is a sum of ``n``
  squared independent standard normals, the definition of chi2(n) (the known-mean case has ``n``,
  not ``n - 1``, degrees of freedom).  The test is two-sided with equal tails.
- :func:`hoeffding_variance_test` — distribution-free for *bounded* samples (uniform and truncated
  normal initializers are bounded), from Hoeffding's inequality (Hoeffding 1963, *JASA* 58:13-30,
  Theorem 2) applied to ``y = (x - mu)^2 in [0, B^2]``.  Conservative: its real false-alarm rate is
  at most ``alpha``.

Every result states its false-alarm rate ``alpha`` and the smallest relative variance error it
detects with probability at least ``power`` (default 0.99) at the sample size used.  About 1.3M
normal values detect a 1% variance error at ``alpha = 1e-6`` (see :func:`chi2_sample_size`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
from scipy import optimize, stats

#: Default per-check false-alarm rate for every statistical check in this library.
DEFAULT_ALPHA = 1e-6
#: Default power at which detectable effect sizes are quoted.
DEFAULT_POWER = 0.99


@dataclass(frozen=True)
class VarianceTestResult:
    """Outcome of a variance test.

    Attributes:
        name: test identifier (``"chi2_variance"`` or ``"hoeffding_variance"``).
        statistic: the test statistic (chi2: ``S = sum((x-mean)^2)/expected_variance``;
            Hoeffding: ``|observed_variance - expected_variance|``, in units of the samples squared).
        p_value: two-sided p-value in [0, 1].
        alpha: false-alarm rate (probability of rejecting a correct variance).
        passed: ``p_value > alpha``, i.e. the expected variance is *not* rejected.
        n: number of samples.
        observed_variance: mean of squared deviations about the known mean (units of samples squared).
        expected_variance: the variance under the null hypothesis.
        ratio: ``observed_variance / expected_variance``.
        min_detectable_rel_error: ``max(up, down)``: the smallest relative variance error ``d`` such
            that both ``(1+d)`` and ``(1-d)`` times the expected variance are rejected with
            probability >= ``power``.
        min_detectable_rel_error_up: smallest ``d`` detected for a true variance ``(1+d)*expected``.
        min_detectable_rel_error_down: smallest ``d`` detected for a true variance ``(1-d)*expected``.
        power: the power at which the detectable errors are quoted.
    """

    name: str
    statistic: float
    p_value: float
    alpha: float
    passed: bool
    n: int
    observed_variance: float
    expected_variance: float
    ratio: float
    min_detectable_rel_error: float
    min_detectable_rel_error_up: float
    min_detectable_rel_error_down: float
    power: float = DEFAULT_POWER

    @classmethod
    def build(cls, name: str, statistic: float, p_value: float, alpha: float, n: int, observed: float,
              expected: float, detectable: tuple[float, float], power: float) -> "VarianceTestResult":
        """A result from its figures: passed iff p > alpha; ``detectable`` = (up, down) relative errors."""
        d_up, d_down = detectable
        return cls(name=name, statistic=statistic, p_value=p_value, alpha=alpha, passed=bool(p_value > alpha),
                   n=n, observed_variance=observed, expected_variance=expected, ratio=observed / expected,
                   min_detectable_rel_error=max(d_up, d_down), min_detectable_rel_error_up=d_up,
                   min_detectable_rel_error_down=d_down, power=power)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (JSON-serializable) of all fields."""
        return {k: (v if isinstance(v, (bool, int, str)) else float(v)) for k, v in asdict(self).items()}

    def summary(self) -> str:
        """One line: verdict, ratio, p-value, alpha, n and the detectable error."""
        verdict = "accepted" if self.passed else "REJECTED"
        return (
            f"{self.name}: {verdict} (observed/expected variance = {self.ratio:.6g}, p = {self.p_value:.3g}, "
            f"alpha = {self.alpha:.1g}, n = {self.n}; detects a variance error of "
            f"{100 * self.min_detectable_rel_error:.3g}% with power {self.power:g})"
        )


# --------------------------------------------------------------------------------------------------
# validation helpers


def check_open_unit(value: float, name: str) -> float:
    """``value`` as a float, checked to lie in the open interval (0, 1): a rate or a relative error.

    Raises:
        ValueError: ``value`` outside (0, 1); the message names it ``name``.
    """
    value = float(value)
    if not (0.0 < value < 1.0):
        raise ValueError(f"{name} must lie in (0, 1), got {value!r}")
    return value


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float, checked: a significance level in (0, 1).  Shared by every test in
    :mod:`invariants.stats`.

    Raises:
        ValueError: ``alpha`` outside (0, 1).
    """
    return check_open_unit(alpha, "alpha")


def check_power(power: float, alpha: float) -> float:
    """``power`` as a float, checked: a detection probability in (``alpha``, 1).

    Raises:
        ValueError: ``power`` outside (``alpha``, 1).
    """
    power = float(power)
    # power <= alpha is met by d = 0 (or is unreachable for a biased test): meaningless
    if not (alpha < power < 1.0):
        raise ValueError(f"power must lie in (alpha, 1) = ({alpha!r}, 1), got {power!r}")
    return power


def check_count(n: int) -> int:
    """``n`` as an int, checked: a sample size, an integer >= 2 (every variance test needs two values).

    Raises:
        ValueError: ``n`` not an integer, or < 2.
    """
    if isinstance(n, bool) or int(n) != n:
        raise ValueError(f"n must be an integer, got {n!r}")
    n = int(n)
    if n < 2:
        raise ValueError(f"need at least 2 samples, got n = {n}")
    return n


def check_positive(value: float, what: str) -> float:
    """``value`` as a float, checked finite and > 0 (``what`` names it in the error).

    Raises:
        ValueError: ``value`` not finite or <= 0.
    """
    value = float(value)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{what} must be finite and > 0, got {value!r}")
    return value


def prepare_samples(samples: Any, mean: float) -> np.ndarray:
    """``samples`` as a flat float64 array of n >= 2 finite values; ``mean`` (the law's) checked finite.

    Raises:
        ValueError: too few samples, a non-finite sample, or a non-finite ``mean``.
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    check_count(x.size)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"samples contain {int(np.count_nonzero(~np.isfinite(x)))} non-finite value(s)")
    if not math.isfinite(float(mean)):
        raise ValueError(f"mean must be finite, got {mean!r}")
    return x


# --------------------------------------------------------------------------------------------------
# chi-square test (exact for normal samples)


@lru_cache(maxsize=1024)
def _chi2_acceptance(n: int, alpha: float) -> tuple[float, float]:
    """Equal-tailed acceptance region [lo, hi] for S ~ chi2(n) at level alpha (memoized: the power and
    sample-size searches ask for one ``(n, alpha)`` many times, ~0.8 ms of scipy each)."""
    return float(stats.chi2.ppf(alpha / 2, n)), float(stats.chi2.isf(alpha / 2, n))


def chi2_two_sided_p(statistic: np.ndarray | float, n: int) -> np.ndarray | float:
    """Equal-tailed two-sided p-value ``min(1, 2*min(cdf, sf))`` of chi2(``n``) at ``statistic``.

    Vectorized over ``statistic``; ``cdf`` and ``sf`` are evaluated separately so that both tails keep
    full relative precision.
    """
    p = 2.0 * np.minimum(stats.chi2.cdf(statistic, n), stats.chi2.sf(statistic, n))
    return np.minimum(p, 1.0)


def chi2_power(n: int, variance_ratio: float, alpha: float = DEFAULT_ALPHA) -> float:
    """Probability that :func:`chi2_variance_test` rejects when true/expected variance = ``variance_ratio``.

    Under the alternative ``S / r ~ chi2(n)``, so the power is ``cdf(lo/r) + sf(hi/r)`` with the
    acceptance region ``[lo, hi]`` of the null.
    """
    n = check_count(n)
    alpha = check_alpha(alpha)
    r = check_positive(variance_ratio, "variance_ratio")
    lo, hi = _chi2_acceptance(n, alpha)
    return float(stats.chi2.cdf(lo / r, n) + stats.chi2.sf(hi / r, n))


@lru_cache(maxsize=1024)
def _chi2_mde(n: int, alpha: float, power: float) -> tuple[float, float]:
    lo, hi = _chi2_acceptance(n, alpha)

    def excess(log_r: float) -> float:
        r = math.exp(log_r)
        return float(stats.chi2.cdf(lo / r, n) + stats.chi2.sf(hi / r, n)) - power

    # Power(r) first dips below alpha, then rises monotonically on each side of r = 1 (the ratio of
    # x*pdf(x) at hi/r and lo/r is monotone in r), so each side has exactly one root above alpha:
    # brentq's root is the smallest detectable error.  Solving in log(r) keeps full relative precision
    # in r near 0 (delta_down -> 1 for small n).
    def bracket(step: float) -> float:
        edge = step
        while excess(edge) < 0.0:
            edge *= 2.0
            if abs(edge) > 700.0:  # pragma: no cover - unreachable for n >= 2, alpha, power in range
                raise ArithmeticError("no detectable variance error found")
        return edge

    log_up = optimize.brentq(excess, 0.0, bracket(1.0), xtol=1e-14, rtol=1e-14)
    log_down = optimize.brentq(excess, bracket(-1.0), 0.0, xtol=1e-14, rtol=1e-14)
    d_up, d_down = math.expm1(log_up), -math.expm1(log_down)
    return float(d_up), float(d_down)


def chi2_min_detectable_rel_error(
    n: int, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> tuple[float, float]:
    """Smallest relative variance errors the two-sided chi2 test detects with probability >= ``power``.

    Args:
        n: number of i.i.d. normal samples (integer >= 2).
        alpha: false-alarm rate of the test, in (0, 1).
        power: required detection probability, in (alpha, 1).

    Returns:
        ``(delta_up, delta_down)``: ``delta_up > 0`` is the smallest ``d`` with a true variance
        ``(1+d)*sigma^2`` rejected with probability >= ``power``; ``delta_down`` in (0, 1) the same for
        ``(1-d)*sigma^2``.  Dimensionless (relative to the expected variance).

    Raises:
        ValueError: ``n`` not an integer >= 2, ``alpha`` not in (0, 1), ``power`` not in (alpha, 1).

    Example: ``n = 1.3e6`` gives about ``(0.0090, 0.0089)`` at ``alpha = 1e-6``, ``power = 0.99``.
    """
    n = check_count(n)
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    return _chi2_mde(n, alpha, power)


def chi2_sample_size(rel_error: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER) -> int:
    """Smallest ``n`` at which the chi2 test detects both ``+rel_error`` and ``-rel_error``.

    Args:
        rel_error: relative variance error to detect, in (0, 1) (0.01 means 1%).
        alpha: false-alarm rate, in (0, 1).
        power: required detection probability for each direction, in (alpha, 1).

    Returns:
        the smallest integer ``n >= 2`` with ``chi2_power(n, 1+rel_error)`` and
        ``chi2_power(n, 1-rel_error)`` both ``>= power``.

    Raises:
        ValueError: arguments out of range.
    """
    rel_error = check_open_unit(rel_error, "rel_error")
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)

    def ok(n: int) -> bool:
        return min(chi2_power(n, 1.0 + rel_error, alpha), chi2_power(n, 1.0 - rel_error, alpha)) >= power

    return smallest_sufficient_n(ok)


def smallest_sufficient_n(ok: Callable[[int], bool], max_n: int | None = None,
                          failure: str = "no sample size up to {max_n} suffices") -> int:
    """Smallest ``n >= 2`` with ``ok(n)``, for a predicate monotone in ``n`` (power at a fixed effect grows
    with the sample size): exponential search from 2, then bisection, so ``O(log n)`` calls of ``ok``.

    Raises:
        ValueError: ``failure`` (formatted with ``max_n``) once the search passes ``max_n`` without success.
    """
    lo, hi = 1, 2
    while not ok(hi):
        lo, hi = hi, hi * 2
        if max_n is not None and lo > max_n:
            raise ValueError(failure.format(max_n=max_n))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def chi2_variance_test(
    samples: Any,
    expected_variance: float,
    alpha: float = DEFAULT_ALPHA,
    mean: float = 0.0,
    power: float = DEFAULT_POWER,
) -> VarianceTestResult:
    """Exact two-sided chi-square test that i.i.d. *normal* samples with known mean have a given variance.

    Under H0 (``x_i ~ N(mean, expected_variance)`` i.i.d.) ``S = sum((x - mean)^2) / expected_variance``
    follows ``chi2(n)`` exactly; the p-value is ``min(1, 2*min(cdf(S), sf(S)))``.  Only exact for normal
    samples: for bounded non-normal initializers (uniform, truncated normal) use
    :func:`hoeffding_variance_test`.

    Args:
        samples: array-like of any shape; flattened and converted to float64 (``n = samples.size``).
        expected_variance: variance under H0, > 0, in units of the samples squared.
        alpha: false-alarm rate, in (0, 1); default 1e-6.
        mean: the known mean (default 0, as for every standard initializer).
        power: power at which :attr:`VarianceTestResult.min_detectable_rel_error` is quoted.

    Returns:
        :class:`VarianceTestResult` with ``name="chi2_variance"``.

    Raises:
        ValueError: fewer than 2 samples, non-finite samples or mean, ``expected_variance <= 0``,
            ``alpha`` not in (0, 1), ``power`` not in (alpha, 1).
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    x = prepare_samples(samples, mean)
    return chi2_variance_from_sum(float(np.sum(np.square(x - float(mean)))), x.size, expected_variance, alpha, power)


def chi2_variance_from_sum(ss: float, n: int, expected_variance: float, alpha: float = DEFAULT_ALPHA,
                           power: float = DEFAULT_POWER) -> VarianceTestResult:
    """:func:`chi2_variance_test` from its sufficient statistic: ``ss = sum((x - mean)^2)`` over ``n`` values
    about the known mean (units of the samples squared; e.g. from a streamed
    :class:`invariants.stats.streaming.RunningMoments`).  Same result, bit for bit, for the same ``ss``.

    Raises:
        ValueError: ``n`` not an integer >= 2, ``ss`` negative or not finite, ``expected_variance <= 0``,
            ``alpha`` not in (0, 1), ``power`` not in (alpha, 1).
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    n = check_count(n)
    if not (math.isfinite(ss) and ss >= 0.0):
        raise ValueError(f"the sum of squares must be finite and >= 0, got {ss!r}")
    statistic = ss / expected_variance
    p_value = float(chi2_two_sided_p(statistic, n))
    observed = ss / n
    d_up, d_down = _chi2_mde(n, alpha, power)
    return VarianceTestResult.build("chi2_variance", statistic, p_value, alpha, n, observed, expected_variance,
                                    (d_up, d_down), power)


# --------------------------------------------------------------------------------------------------
# Hoeffding test (distribution-free for bounded samples)


def hoeffding_min_detectable_rel_error(
    n: int,
    expected_variance: float,
    bound: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> tuple[float, float]:
    """Relative variance errors that :func:`hoeffding_variance_test` detects with probability >= ``power``.

    Guaranteed (not approximate) for alternatives that are the null distribution rescaled, so that
    ``|x - mean|`` is bounded by ``bound * sqrt(1 +- d)``.  With ``k = bound^2 / expected_variance``,
    ``h_a = sqrt(log(2/alpha) / (2n))`` (rejection threshold) and ``h_b = sqrt(log(1/(1-power)) / (2n))``
    (one-sided Hoeffding deviation under the alternative), detection is guaranteed once
    ``d >= k*h_a + k*(1 +- d)*h_b``, i.e.::

        d_up   = k (h_a + h_b) / (1 - k h_b)        (inf if k h_b >= 1)
        d_down = k (h_a + h_b) / (1 + k h_b)        (capped at 1)

    Args:
        n: number of samples (integer >= 2).
        expected_variance: variance under H0, > 0.
        bound: almost-sure bound on ``|x - mean|`` under H0, > 0 (same units as the samples).
        alpha: false-alarm rate, in (0, 1).
        power: in (alpha, 1).

    Returns:
        ``(d_up, d_down)``, dimensionless; ``d_up`` may be ``inf`` when ``n`` is too small.

    Raises:
        ValueError: arguments out of range, or ``bound**2 < expected_variance`` (impossible).
    """
    n = check_count(n)
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    bound = check_positive(bound, "bound")
    k = bound**2 / expected_variance
    if k < 1.0:
        raise ValueError(f"bound^2 = {bound**2!r} < expected_variance = {expected_variance!r}: impossible")
    h_a = math.sqrt(math.log(2.0 / alpha) / (2 * n))
    h_b = math.sqrt(math.log(1.0 / (1.0 - power)) / (2 * n))
    d_up = math.inf if k * h_b >= 1.0 else k * (h_a + h_b) / (1.0 - k * h_b)
    d_down = min(1.0, k * (h_a + h_b) / (1.0 + k * h_b))
    return d_up, d_down


def hoeffding_variance_test(
    samples: Any,
    expected_variance: float,
    bound: float,
    alpha: float = DEFAULT_ALPHA,
    mean: float = 0.0,
    power: float = DEFAULT_POWER,
) -> VarianceTestResult:
    """Distribution-free two-sided variance test for i.i.d. samples bounded by ``|x - mean| <= bound``.

    With ``y = (x - mean)^2 in [0, bound^2]`` and ``t = |mean(y) - expected_variance|``, Hoeffding's
    inequality (Hoeffding 1963, Thm 2) gives ``P(t >= s) <= 2 exp(-2 n s^2 / bound^4)`` under H0, so
    ``p = min(1, 2 exp(-2 n t^2 / bound^4))`` is a valid (conservative) p-value.  A sample outside the
    bound is impossible under H0 and gives ``p = 0``.  Use for uniform ``U(-a, a)`` (``bound = a``) and
    truncated-normal initializers (``bound = 2 * stddev`` of the untruncated normal).

    Args:
        samples: array-like of any shape; flattened, float64.
        expected_variance: variance under H0, > 0, must be ``<= bound**2``.
        bound: almost-sure bound on ``|x - mean|`` under H0, > 0.
        alpha: false-alarm rate, in (0, 1).
        mean: known mean (default 0).
        power: power at which the detectable error is quoted (see
            :func:`hoeffding_min_detectable_rel_error`).

    Returns:
        :class:`VarianceTestResult` with ``name="hoeffding_variance"``; ``statistic = t``.

    Raises:
        ValueError: as :func:`chi2_variance_test`, plus ``bound <= 0`` or ``bound**2 < expected_variance``.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    bound = check_positive(bound, "bound")
    x = prepare_samples(samples, mean)
    n = x.size
    d_up, d_down = hoeffding_min_detectable_rel_error(n, expected_variance, bound, alpha, power)
    dev = np.abs(x - float(mean))
    observed = float(np.mean(np.square(dev)))
    t = abs(observed - expected_variance)
    # tiny relative slack: float32 -> float64 rounding must not turn a boundary value into a rejection
    if float(np.max(dev)) > bound * (1.0 + 1e-6):
        p_value = 0.0
    else:
        p_value = min(1.0, 2.0 * math.exp(-2.0 * n * t**2 / bound**4))
    return VarianceTestResult.build("hoeffding_variance", t, p_value, alpha, n, observed, expected_variance,
                                    (d_up, d_down), power)
