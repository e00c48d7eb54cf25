"""Moment tests for non-normal laws: variance with the law's kurtosis, and the mean.

**Variance.** For i.i.d. ``x`` with known mean ``mu``, variance ``sigma^2`` and Pearson kurtosis ``kappa``
(normal 3, uniform 1.8, normal truncated at +-2 std 2.36554), ``y = (x - mu)^2`` has mean ``sigma^2`` and
variance ``(kappa - 1) sigma^4``, so by the central limit theorem

    z = (mean(y) - sigma^2) / (sigma^2 sqrt((kappa - 1) / n))  ->  N(0, 1).

The test is two-sided.  ``y`` is bounded for the bounded laws it is meant for, so the normal
approximation is accurate at the sample sizes used: the first Edgeworth term changes the tail
probability at ``|z| = 5`` by a factor ``1 +- z (z^2 - 1) g / (6 sqrt(n))`` (``g`` = skewness of ``y``,
0.64 for a uniform), i.e. by about 4% at ``n = 1e5`` — the false-alarm rate stays within a few percent
of ``alpha``.  For normal samples use the exact
:func:`invariants.stats.variance.chi2_variance_test` instead.

**Detectable error.** Against a rescaled law (true variance ``(1 + d) sigma^2``, same shape) the
standard deviation of ``mean(y)/sigma^2`` is ``(1 + d) s`` with ``s = sqrt((kappa - 1)/n)``, so the test
rejects with probability >= ``power`` once ``d >= (z_a + z_p) s / (1 - z_p s)`` (up) or
``d >= (z_a + z_p) s / (1 + z_p s)`` (down), ``z_a = Phi^-1(1 - alpha/2)``, ``z_p = Phi^-1(power)``.

**Mean.** ``z = (mean(x) - mu) sqrt(n) / sigma``: exact for normal samples, CLT otherwise.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from invariants.stats.checks import CheckResult, decide, z_quantiles
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


def moment_min_detectable_rel_error(
    n: int, kurtosis: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> tuple[float, float]:
    """``(d_up, d_down)`` detected with probability >= ``power`` by :func:`moment_variance_test`.

    ``d_up`` is ``inf`` when ``n`` is too small for any upward error to be detected at that power.

    Raises:
        ValueError: ``n < 2``, ``kurtosis <= 1``, ``alpha``/``power`` out of range.
    """
    if int(n) < 2:
        raise ValueError(f"need at least 2 samples, got n = {n}")
    kurtosis = _check_kurtosis(kurtosis)
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    za, zp = z_quantiles(alpha, power)
    s = math.sqrt((kurtosis - 1.0) / int(n))
    d_up = math.inf if zp * s >= 1.0 else (za + zp) * s / (1.0 - zp * s)
    d_down = min(1.0, (za + zp) * s / (1.0 + zp * s))
    return d_up, d_down


def moment_sample_size(
    rel_error: float, kurtosis: float, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
) -> int:
    """Smallest ``n`` at which :func:`moment_variance_test` detects ``+-rel_error`` with ``power``.

    Raises:
        ValueError: ``rel_error`` not in (0, 1), ``kurtosis <= 1``, ``alpha``/``power`` out of range.
    """
    rel_error = check_open_unit(rel_error, "rel_error")
    kurtosis = _check_kurtosis(kurtosis)
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    za, zp = z_quantiles(alpha, power)
    # the upward side is binding: s <= d / (za + zp + zp d)
    s = rel_error / (za + zp + zp * rel_error)
    n = max(2, math.ceil((kurtosis - 1.0) / s**2))
    while max(moment_min_detectable_rel_error(n, kurtosis, alpha, power)) > rel_error:
        n += 1
    return n


def moment_variance_test(
    samples: Any,
    expected_variance: float,
    kurtosis: float,
    alpha: float = DEFAULT_ALPHA,
    mean: float = 0.0,
    power: float = DEFAULT_POWER,
) -> VarianceTestResult:
    """Two-sided variance test with known mean for a law of known kurtosis (see module docstring).

    Args:
        samples: array-like, flattened to float64.
        expected_variance: variance under H0, > 0.
        kurtosis: Pearson kurtosis of the law under H0 (> 1), e.g. 1.8 for a uniform.
        alpha: false-alarm rate in (0, 1).
        mean: the known mean.
        power: power at which the detectable errors are quoted.

    Returns:
        :class:`~invariants.stats.variance.VarianceTestResult` with ``name="moment_variance"`` and
        ``statistic = z``.

    Raises:
        ValueError: fewer than 2 samples, non-finite samples, bad parameters.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    kurtosis = _check_kurtosis(kurtosis)
    x = prepare_samples(samples, mean)
    return moment_variance_from_mean_square(float(np.mean(np.square(x - float(mean)))), x.size, expected_variance,
                                            kurtosis, alpha, power)


def moment_variance_from_mean_square(observed: float, n: int, expected_variance: float, kurtosis: float,
                                     alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER
                                     ) -> VarianceTestResult:
    """:func:`moment_variance_test` from its sufficient statistic: ``observed = mean((x - mean)^2)`` over
    ``n`` values about the known mean (units of the samples squared; e.g. from a streamed
    :class:`invariants.stats.streaming.RunningMoments`).  Same result, bit for bit, for the same ``observed``.

    Raises:
        ValueError: ``n < 2``, ``observed`` negative or not finite, bad parameters.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    expected_variance = check_positive(expected_variance, "expected_variance")
    kurtosis = _check_kurtosis(kurtosis)
    n = check_count(n)
    if not (math.isfinite(observed) and observed >= 0.0):
        raise ValueError(f"the mean square must be finite and >= 0, got {observed!r}")
    z = (observed / expected_variance - 1.0) / math.sqrt((kurtosis - 1.0) / n)
    p = float(min(1.0, 2.0 * stats.norm.sf(abs(z))))
    d_up, d_down = moment_min_detectable_rel_error(n, kurtosis, alpha, power)
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
