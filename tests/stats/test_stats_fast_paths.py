"""The audit's shortcuts give the values and decisions of the long way, bit for bit: the saddlepoint
quadrature's panel edges (NumPy's linspace), the per-distribution memo, the cached exact KS p-value and
:meth:`Battery.passes` (the decision ``explain`` needs of a candidate law)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from invariants.laws import Law
from invariants.stats.battery import LAW, Sample, battery
from invariants.stats.extremes import max_cell_probability, per_distribution
from invariants.stats.saddlepoint import panel_edges
from invariants.stats.shape import ks_p_value


def test_panel_edges_are_numpys_linspace_bit_for_bit():
    rng = np.random.default_rng(17)
    cases = [(0.0, 1.0), (-1.7320508075688772, 1.7320508075688772), (5e-324, 1e-323), (-1e300, 1e300),
             (1.0, 1.0 + 2.0**-52), (-math.inf, math.inf)]
    for _ in range(2000):
        lo = rng.normal() * 10.0 ** rng.uniform(-300, 300)
        cases.append((lo, lo + abs(rng.normal()) * 10.0 ** rng.uniform(-320, 5)))
    for lo, hi in cases:
        if hi > lo:
            with np.errstate(invalid="ignore"):
                assert panel_edges(lo, hi).tobytes() == np.linspace(lo, hi, 9).tobytes(), (lo, hi)


def test_per_distribution_memo_returns_the_uncached_value_and_computes_unhashable_arguments():
    calls = []

    @per_distribution
    def f(dist, bits):
        calls.append(bits)
        return float(dist.ppf(0.9)) * bits

    dist = stats.norm(0.0, 2.0)
    assert f(dist, 3) == f(dist, 3) == float(dist.ppf(0.9)) * 3 and calls == [3]  # the second call is the memo
    unhashable = {"a": dist}
    with pytest.raises(TypeError):
        hash(unhashable)
    f2 = per_distribution(lambda d, b: b)
    assert f2(unhashable, 5) == f2(unhashable, 5) == 5  # no TypeError: computed each time
    law = Law.normal(0.0, 0.1)
    assert max_cell_probability(law.dist(), 23) == max_cell_probability.__wrapped__(law.dist(), 23)


def test_cached_ks_p_value_is_scipys_kstwo_sf():
    for d, n in ((0.004, 120_000), (0.02, 5000), (0.3, 50), (0.0001, 10)):
        want = float(np.clip(stats.kstwo.sf(d, n), 0.0, 1.0))
        assert ks_p_value(d, n) == want and ks_p_value(d, n) == want


@pytest.mark.parametrize("law, draw, verdict", [
    (Law.normal(0.0, 0.1), lambda rng: rng.normal(0.0, 0.1, 20_000), True),    # known good: every check passes
    (Law.normal(0.0, 0.1), lambda rng: rng.normal(0.0, 0.13, 20_000), False),  # variance 1.69x: rejected
    (Law.uniform(-0.1, 0.1), lambda rng: rng.normal(0.0, 0.1 / math.sqrt(3), 20_000), False),  # shape only
], ids=["good", "variance", "shape"])
def test_battery_passes_is_the_full_runs_decision(law, draw, verdict):
    x = draw(np.random.default_rng(3)).astype(np.float32)
    sample = Sample(x, [x.reshape(200, 100)], 23)
    checks = battery(law, groups=(LAW,))
    assert checks.passes(sample, 1e-6) is all(r.passed for r in checks.run(sample, 1e-6)) is verdict
