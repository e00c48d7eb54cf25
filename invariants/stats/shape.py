"""Shape test: Kolmogorov–Smirnov against the promised law (scipy.stats.kstest).

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

import math
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from invariants.stats.checks import CheckResult, decide
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


def ks_test(samples: Any, dist: Any, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER) -> CheckResult:
    """Two-sided one-sample KS test of ``samples`` against the frozen scipy distribution ``dist``.

    ``statistic`` is the KS distance ``D``; the p-value is scipy's (exact for ``n <= 10000``, asymptotic
    above).  The detail states the detectable distance (see module docstring).

    Raises:
        ValueError: fewer than 2 samples, non-finite samples, ``alpha``/``power`` out of range.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size < 2:
        raise ValueError(f"need at least 2 samples, got n = {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain non-finite values")
    res = stats.kstest(x, dist.cdf)
    d_det = ks_min_detectable_distance(x.size, alpha, power)
    detail = f"KS distance {res.statistic:.3g} (n = {x.size}); detects a CDF distance of {d_det:.3g} with power {power:g}"
    return decide("ks_shape", float(res.statistic), float(res.pvalue), alpha, detail)
