"""The low-precision KS check (:func:`invariants.stats.precision.quantized_ks_test`) computes its distance from
the sorted pool: bit for bit ``scipy.stats.kstest(x, cdf).statistic``, which it called before (and whose own
exact p-value it never read), with the same verdicts on a fault and on a correct bfloat16 pool."""
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

from invariants.laws import Law
from invariants.stats.order import sorted_values
from invariants.stats.precision import cdf_allowance, quantized_ks_test

ALPHA = 1e-6


def _pool(seed: int, n: int, dtype, dist, zeros: bool, inf: bool) -> np.ndarray:
    x = dist.rvs(size=n, random_state=np.random.default_rng(seed)).astype(dtype)
    if zeros:  # ties of +0 and -0, whose order a sort leaves open
        x[: n // 3] = 0.0
        x[: n // 6] = -0.0
    if inf:
        x[0] = np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("dist", [stats.norm(0.0, 0.02), stats.uniform(-0.5, 1.0), stats.truncnorm(-2, 2)])
@pytest.mark.parametrize("n, zeros, inf", [(2, False, False), (1000, True, False), (20_001, False, True)])
def test_distance_is_scipy_kstest_bit_for_bit(dtype, dist, n, zeros, inf) -> None:
    x = _pool(n, n, dtype, dist, zeros, inf)
    law = Law.normal(0.0, 1.0)
    want = float(stats.kstest(np.asarray(x, dtype=np.float64), dist.cdf).statistic)
    for r in (quantized_ks_test(x, dist, cdf_allowance(law, 7), ALPHA, 0.99),
              quantized_ks_test(sorted_values(x), dist, cdf_allowance(law, 7), ALPHA, 0.99, presorted=True)):
        assert np.float64(r.statistic).tobytes() == np.float64(want).tobytes()


@pytest.mark.parametrize("scale, passes", [(1.0, True), (1.3, False)])
def test_mutation_pair_at_bfloat16(scale: float, passes: bool) -> None:
    law = Law.normal(0.0, 1.0)
    x = (scale * np.random.default_rng(20261206).standard_normal(100_000)).astype(ml_dtypes.bfloat16)
    r = quantized_ks_test(sorted_values(x), law.dist(), cdf_allowance(law, 7), ALPHA, 0.99, presorted=True)
    assert r.passed is passes, r.detail


def test_an_unsorted_pool_passed_as_sorted_gives_another_distance() -> None:
    # the presorted contract matters: the oracle above would see this mutant
    x = np.random.default_rng(3).standard_normal(1000).astype(ml_dtypes.bfloat16)
    dist = stats.norm()
    good = quantized_ks_test(x, dist, 0.0, ALPHA, 0.99).statistic
    bad = quantized_ks_test(np.asarray(x, dtype=np.float64), dist, 0.0, ALPHA, 0.99, presorted=True).statistic
    assert good == float(stats.kstest(np.asarray(x, dtype=np.float64), dist.cdf).statistic) != bad
