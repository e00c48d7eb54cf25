"""Moment tests for non-normal laws: variance with the law's kurtosis, and the mean.

**Variance.** For i.i.d. ``x`` with known mean ``mu``, variance ``sigma^2`` and Pearson kurtosis ``kappa``
(normal 3, uniform 1.8, normal truncated at +-2 std 2.36554), ``y = (x - mu)^2`` has mean ``sigma^2`` and
variance ``(kappa - 1) sigma^4``, so by the central limit theorem

    z = (mean(y) - sigma^2) / (sigma^2 sqrt((kappa - 1) / n))  ->  N(0, 1).

The test is two-sided; ``z`` is reported as the statistic, but the p-value is not the normal one: it is
the saddlepoint (Lugannani-Rice) tail probability of ``mean(y)`` computed from the exact cumulant generating
function of ``y`` (:mod:`invariants.stats.saddlepoint`), ``p = P(|mean(y)/sigma^2 - 1| >= |observed ratio - 1|)``.
The normal approximation rejected up to 1.29x ``alpha`` at ``n = 1000`` for a normal truncated at +-2 std
(``y`` is skewed: skewness 0.64 for a uniform, 1.49 at +-2 std, ``sqrt(8)`` for a nearly normal law such as
``trunc_normal_(std=0.02)``); the saddlepoint p-value keeps the false-alarm rate at ``alpha``
(``benchmarks/tail_calibration.py``) and approaches the normal one as ``n`` grows (critical error within
0.05% of the normal one at ``n = 1e5``).  The law of ``y`` is given as a
:class:`~invariants.stats.saddlepoint.SquaredDeviation` (``shape``), or, when only the kurtosis is given, taken
as the uniform (1.8) or symmetric truncated normal with that kurtosis.  For normal samples use the exact
:func:`invariants.stats.variance.chi2_variance_test` instead.

**Detectable error.** Against a rescaled law (true variance ``(1 + d) sigma^2``, same shape) ``mean(y)/sigma^2``
is distributed as ``(1 + d) U`` with ``U`` its null law, and the test rejects iff ``|mean(y)/sigma^2 - 1| > d_c``
(``d_c`` the critical error at ``alpha``), so it rejects with probability >= ``power`` once
``d >= (1 + d_c) / L - 1`` (up) or ``d >= 1 - (1 - d_c) / H`` (down), ``L`` and ``H`` the ``1 - power`` lower and
upper quantiles of ``U`` (saddlepoint too).  In the normal approximation these are the familiar
``(z_a + z_p) s / (1 -+ z_p s)``, ``s = sqrt((kappa - 1)/n)``.

**Mean.** ``z = (mean(x) - mu) sqrt(n) / sigma``: exact for normal samples, CLT otherwise.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from invariants.stats.checks import CheckResult, decide, z_quantiles
from invariants.stats.saddlepoint import SquaredDeviation
from invariants.stats.variance import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    VarianceTestResult,
    check_alpha,
    check_count,
    check_open_unit,
    check_positive,
    check_power,
    prepare_samples,
)


def _check_kurtosis(kurtosis: float) -> float:
    kurtosis = float(kurtosis)
    if not (math.isfinite(kurtosis) and kurtosis > 1.0):
        raise ValueError(f"kurtosis must be finite and > 1, got {kurtosis!r}")
    return kurtosis


def squared_deviation_law(kurtosis: float, shape: SquaredDeviation | None = None) -> SquaredDeviation:
    """``shape``, checked against ``kurtosis``; or, when ``None``, the uniform / symmetric truncated normal law of
    that kurtosis (:meth:`SquaredDeviation.from_kurtosis`).

    Raises:
        ValueError: ``kurtosis <= 1``; ``shape`` with another kurtosis; no shape and ``kurtosis`` outside
            ``[1.8, 3]``.
    """
    kurtosis = _check_kurtosis(kurtosis)
    if shape is None:
        return SquaredDeviation.from_kurtosis(kurtosis)
    if not math.isclose(shape.kurtosis, kurtosis, rel_tol=1e-6):
        raise ValueError(f"kurtosis {kurtosis!r} is not that of {shape} ({shape.kurtosis!r})")
    return shape


def moment_min_detectable_rel_error(
    n: int, kurtosis: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
    shape: SquaredDeviation | None = None,
) -> tuple[float, float]:
    """``(d_up, d_down)`` detected with probability >= ``power`` by :func:`moment_variance_test` (module docstring).

    ``shape`` is the law of ``(x - mean)^2 / variance`` (default: from ``kurtosis``, see
    :func:`squared_deviation_law`).  ``d_up`` is ``inf`` when ``n`` is too small for any upward error to be
    detected at that power; ``d_down`` is at most 1.

    Raises:
        ValueError: ``n < 2``, ``kurtosis <= 1`` or inconsistent with ``shape``, ``alpha``/``power`` out of range.
    """
    if int(n) < 2:
        raise ValueError(f"need at least 2 samples, got n = {n}")
    shape = squared_deviation_law(kurtosis, shape)
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    return _detectable(shape, int(n), alpha, power)


@lru_cache(maxsize=4096)
def _detectable(shape: SquaredDeviation, n: int, alpha: float, power: float) -> tuple[float, float]:
    d_c = shape.critical_error(n, alpha)
    low = shape.quantile(1.0 - power, n, upper=False)
    high = shape.quantile(1.0 - power, n, upper=True)
    d_up = math.inf if low <= 0 else (1.0 + d_c) / low - 1.0
    d_down = 1.0 if d_c >= 1 else min(1.0, 1.0 - (1.0 - d_c) / high)
    return d_up, d_down


def moment_sample_size(
    rel_error: float, kurtosis: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
    shape: SquaredDeviation | None = None,
) -> int:
    """Smallest ``n`` at which :func:`moment_variance_test` detects ``+-rel_error`` with ``power``.

    Raises:
        ValueError: ``rel_error`` not in (0, 1), ``kurtosis <= 1`` or inconsistent with ``shape``,
            ``alpha``/``power`` out of range.
    """
    rel_error = check_open_unit(rel_error, "rel_error")
    shape = squared_deviation_law(kurtosis, shape)
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    za, zp = z_quantiles(alpha, power)
    # start from the normal approximation (the upward side is binding: s <= d / (za + zp + zp d)), then bisect
    s = rel_error / (za + zp + zp * rel_error)
    n0 = max(2, math.ceil((shape.kurtosis - 1.0) / s**2))

    def ok(n: int) -> bool:
        return n >= 2 and max(_detectable(shape, n, alpha, power)) <= rel_error

    lo, hi = n0, n0
    while not ok(hi):
        lo, hi = hi, math.ceil(hi * 1.1)
    while ok(lo):
        lo, hi = lo * 10 // 11, lo
        if lo < 2:
            return 2
    while hi - lo > 1:  # ok(hi) and not ok(lo)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def moment_variance_test(
    samples: Any,
    expected_variance: float,
    kurtosis: float,
    alpha: float = DEFAULT_ALPHA,
    mean: float = 0.0,
    power: float = DEFAULT_POWER,
    shape: SquaredDeviation | None = None,
) -> VarianceTestResult:
    """Two-sided variance test with known mean for a law of known kurtosis (see module docstring).

    Args:
        samples: array-like, flattened to float64.
        expected_variance: variance under H0, > 0.
        kurtosis: Pearson kurtosis of the law under H0 (> 1), e.g. 1.8 for a uniform.
        alpha: false-alarm rate in (0, 1).
        mean: the known mean.
        power: power at which the detectable errors are quoted.
        shape: the law of ``(x - mean)^2 / expected_variance`` under H0
            (:meth:`SquaredDeviation.of_law`); default: from ``kurtosis`` (:func:`squared_deviation_law`).

    Returns:
        :class:`~invariants.stats.variance.VarianceTestResult` with ``name="moment_variance"`` and
        ``statistic = z``.

    Raises:
        ValueError: fewer than 2 samples, non-finite samples, bad parameters, ``kurtosis`` inconsistent with
            ``shape``.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    shape = squared_deviation_law(kurtosis, shape)
    kurtosis = float(kurtosis)
    x = prepare_samples(samples, mean)
    return moment_variance_from_mean_square(float(np.mean(np.square(x - float(mean)))), x.size, expected_variance,
                                            kurtosis, alpha, power, shape)


def moment_variance_from_mean_square(observed: float, n: int, expected_variance: float, kurtosis: float,
                                     alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER,
                                     shape: SquaredDeviation | None = None) -> VarianceTestResult:
    """:func:`moment_variance_test` from its sufficient statistic: ``observed = mean((x - mean)^2)`` over
    ``n`` values about the known mean (units of the samples squared; e.g. from a streamed
    :class:`invariants.stats.streaming.RunningMoments`).  Same result, bit for bit, for the same ``observed``;
    ``shape`` as :func:`moment_variance_test`'s.

    Raises:
        ValueError: ``n < 2``, ``observed`` negative or not finite, bad parameters, ``kurtosis`` inconsistent
            with ``shape``.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    shape = squared_deviation_law(kurtosis, shape)
    kurtosis = float(kurtosis)
    n = check_count(n)
    if not (math.isfinite(observed) and observed >= 0.0):
        raise ValueError(f"the mean square must be finite and >= 0, got {observed!r}")
    z = (observed / expected_variance - 1.0) / math.sqrt((kurtosis - 1.0) / n)
    p = shape.p_value(observed / expected_variance, n)
    d_up, d_down = moment_min_detectable_rel_error(n, kurtosis, alpha, power, shape)
    return VarianceTestResult.build("moment_variance", z, p, alpha, n, observed, expected_variance, (d_up, d_down), power)


def mean_test(
    samples: Any, mean: float, std: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> CheckResult:
    """Two-sided z-test that the mean is ``mean`` when the std is known to be ``std``.

    ``statistic`` is ``z = (mean(x) - mean) sqrt(n) / std``; exact for normal samples, CLT otherwise.
    The detail states the smallest mean shift (in units of ``std``) detected with probability ``power``:
    ``(z_a + z_p) / sqrt(n)``.

    Raises:
        ValueError: bad arguments or non-finite samples.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    std = check_positive(std, "std")
    x = prepare_samples(samples, mean)
    return mean_test_from_mean(float(np.mean(x)), x.size, mean, std, alpha, power)


def mean_test_from_mean(m: float, n: int, mean: float, std: float, alpha: float = DEFAULT_ALPHA,
                        power: float = DEFAULT_POWER) -> CheckResult:
    """:func:`mean_test` from its sufficient statistic, the sample mean ``m`` of ``n`` values (e.g. from a
    streamed :class:`invariants.stats.streaming.RunningMoments`).  Same result, bit for bit, for the same ``m``.

    Raises:
        ValueError: ``n < 2``, ``m`` or ``mean`` not finite, bad parameters.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    std = check_positive(std, "std")
    n = check_count(n)
    if not (math.isfinite(m) and math.isfinite(float(mean))):
        raise ValueError(f"the sample mean and the law's mean must be finite, got {m!r}, {mean!r}")
    z = (m - float(mean)) * math.sqrt(n) / std
    p = float(min(1.0, 2.0 * stats.norm.sf(abs(z))))
    za, zp = z_quantiles(alpha, power)
    detail = (f"mean {m:.6g} vs {float(mean):.6g} (z = {z:.3g}); detects a shift of "
              f"{(za + zp) / math.sqrt(n):.3g} std with power {power:g}")
    return decide("mean", z, p, alpha, detail)
