"""The KS screen (invariants/stats/shape.py:ks_screen): a verdict it settles is SciPy's exact one.

``ks_test`` decides ``kstwo.sf(D, n) > alpha`` from two rigorous bounds on the KS tail where they settle it, and
computes SciPy's exact p-value only when a caller reads it.  Checked here: every settled verdict on a grid of
``(D, n, alpha)`` (through the critical distance and the screen's own thresholds) against the exact p-value; on
sampled pools (correct and wrong laws) the verdict and the p-value read later against ``scipy.stats.kstest``,
bit for bit; a screen that takes the one-sided bound for the two-sided one, or Kolmogorov's limit law for a
bound, is caught; and
an unread p-value is never computed.
"""
from __future__ import annotations

import math
import zlib
from functools import lru_cache
from typing import Iterator

import numpy as np
import pytest
from scipy import stats

from invariants.stats import haar as H, shape
from invariants.stats.checks import CheckResult
from invariants.stats.order import sorted_values
from invariants.stats.shape import SCREEN_MARGIN, ks_p_value, ks_screen, ks_test

ALPHAS = (0.3, 0.05, 1e-3, 1e-5, 1e-8)
#: n across SciPy's methods (exact <= 140, Durbin / Pelz-Good / Miller's smirnov above); kept small: each large-n
#: exact p-value costs milliseconds
SIZES = (3, 40, 140, 141, 1000, 4_000)


@lru_cache(maxsize=None)  # kstwo.isf costs milliseconds at large n: one grid for the screen and its mutants
def _grid(n: int, alpha: float) -> tuple[float, ...]:
    """Distances around the critical one and around the screen's two thresholds at ``(n, alpha)``."""
    crit = float(stats.kstwo.isf(alpha, n))
    upper = math.sqrt(math.log(2 * SCREEN_MARGIN / alpha) / (2 * n))  # 2 exp(-2 n d^2) = alpha / margin
    ds = [crit * f for f in (0.5, 0.8, 0.95, 0.999, 1.0, 1.001, 1.05, 1.3, 2.0)]
    ds += [upper * f for f in (0.999, 1.0, 1.001)]
    ds += [x / math.sqrt(n) for x in (0.3, 0.8, 1.2, 1.6, 2.0, 2.5)]
    return tuple(d for d in ds if 0 < d < 1)


def disagreements(screen) -> Iterator[tuple[float, int, float, bool, float]]:
    """``(d, n, alpha, settled, exact p)`` wherever ``screen(d, n, alpha)`` settles a verdict other than
    ``ks_p_value(d, n) > alpha``."""
    for n in SIZES:
        for alpha in ALPHAS:
            for d in _grid(n, alpha):
                settled = screen(d, n, alpha)
                if settled is not None and settled != (ks_p_value(d, n) > alpha):
                    yield d, n, alpha, settled, ks_p_value(d, n)


def test_every_settled_verdict_is_the_exact_one():
    assert list(disagreements(ks_screen)) == []


def test_the_screen_settles_clear_cases_and_leaves_the_boundary():
    n, alpha = 20_000, 1e-5
    crit = float(stats.kstwo.isf(alpha, n))
    assert ks_screen(0.8 / math.sqrt(n), n, alpha) is True  # a typical null distance
    assert ks_screen(3 * crit, n, alpha) is False
    assert ks_screen(crit, n, alpha) is None
    assert ks_screen(float("nan"), n, alpha) is None


def _one_sided(d: float, n: int, alpha: float) -> bool | None:
    """Mutant: the fail side with the one-sided tail bound ``exp(-2 n d^2)`` (the two-sided tail is nearly twice
    it), and no margin."""
    return False if math.exp(-2.0 * n * d * d) <= alpha else ks_screen(d, n, alpha)


def _limit_law(d: float, n: int, alpha: float) -> bool | None:
    """Mutant: Kolmogorov's limit law taken for a bound (it is not one at finite n)."""
    return float(stats.kstwobign.sf(d * math.sqrt(n))) > alpha


@pytest.mark.parametrize("mutant", [_limit_law, _one_sided], ids=["limit_law", "one_sided"])
def test_a_screen_that_is_not_a_bound_is_caught(mutant):
    assert next(disagreements(mutant), None) is not None


POOLS = {
    "normal": lambda rng, n: rng.standard_normal(n),
    "scaled": lambda rng, n: 1.05 * rng.standard_normal(n),
    "shifted": lambda rng, n: rng.standard_normal(n) + 0.03,
    "uniform": lambda rng, n: rng.uniform(-math.sqrt(3), math.sqrt(3), n),
    "student": lambda rng, n: rng.standard_t(8, n) * math.sqrt(6 / 8),
}


@pytest.mark.parametrize("n", [50, 700, 9_000])
@pytest.mark.parametrize("pool", sorted(POOLS))
def test_sampled_pools_decide_and_report_as_scipy(pool, n):
    rng = np.random.default_rng(zlib.crc32(f"{pool}-{n}".encode()))
    for seed in range(3):
        x = POOLS[pool](np.random.default_rng(rng.integers(2**32) + seed), n)
        ref = stats.kstest(x, stats.norm().cdf)
        p = float(np.clip(ref.pvalue, 0.0, 1.0))
        for alpha in ALPHAS:
            res = ks_test(sorted_values(x), stats.norm(), alpha, presorted=True)
            assert res.statistic == float(ref.statistic)
            assert res.passed == (p > alpha), (pool, n, alpha, p)
            assert res.p_value == p  # read after the verdict: the exact p-value, bit for bit
            assert res == CheckResult("ks_shape", res.statistic, p, alpha, p > alpha, res.detail, None, None)


def test_an_unread_p_value_is_never_computed(monkeypatch):
    calls = []
    real = shape.ks_p_value
    monkeypatch.setattr(shape, "ks_p_value", lambda d, n: calls.append((d, n)) or real(d, n))
    xs = sorted_values(np.random.default_rng(7).standard_normal(4096))
    res = ks_test(xs, stats.norm(), 1e-4, presorted=True)
    assert res.passed and calls == []
    assert res.p_value == float(np.clip(stats.kstest(xs, "norm").pvalue, 0, 1)) and len(calls) == 1
    assert res.to_dict()["p_value"] == res.p_value and len(calls) == 1  # computed once, kept


_READS: list[tuple[float, int]] = []


def _counted_p(d: float, n: int) -> float:
    """``shape.ks_p_value``, each call recorded: module-level, so a deferred result holding it pickles."""
    _READS.append((d, n))
    return ks_p_value(d, n)


def test_pickling_keeps_the_p_value_deferred(monkeypatch):
    """invariants/stats/checks.py ``DeferredCheckResult.__reduce__``.  Known-bad (what it did): pickling computed
    the exact tail (seconds at n ~ 5e5) that the receiver may never read.  Known-good: the pickle carries the
    uncalled p, the copy computes the same p-value when read and equals the original, a renamed result too; a
    p that does not pickle (a lambda) is computed and the plain result pickled, equal all the same."""
    import pickle

    from invariants.stats.checks import deferred_decision

    monkeypatch.setattr(shape, "ks_p_value", _counted_p)
    _READS.clear()
    xs = sorted_values(np.random.default_rng(7).standard_normal(4096))
    res = ks_test(xs, stats.norm(), 1e-4, presorted=True)
    renamed = res.renamed("w.")
    copies = [pickle.loads(pickle.dumps(r, protocol=proto)) for r in (res, renamed) for proto in (2, 5)]
    assert _READS == [], "pickling computed the deferred p-value"
    assert all(type(c) is type(res) for c in copies)
    p = float(np.clip(stats.kstest(xs, "norm").pvalue, 0, 1))
    assert [c.p_value for c in copies] == [p] * 4 and len(_READS) == 4
    assert copies[0] == res and copies[2] == renamed and res.p_value == p
    held = deferred_decision("ks_shape", res.statistic, lambda: p, 1e-4, True)
    back = pickle.loads(pickle.dumps(held))
    assert type(back) is CheckResult and back == held and back.p_value == p


def test_copies_share_one_deferred_p_value(monkeypatch):
    """invariants/stats/checks.py ``DeferredCheckResult`` (``_SharedP``).  Known-bad (what it did): each copy
    (``copy.copy``, ``copy.deepcopy``, each result of one pickle) and each renamed twin held the uncalled p
    on its own and computed the p-value again when read.  Known-good: the first read by any of them computes it,
    once, and every copy reads the same value; a copy made after the read carries the value."""
    import copy
    import pickle

    monkeypatch.setattr(shape, "ks_p_value", _counted_p)
    _READS.clear()
    xs = sorted_values(np.random.default_rng(7).standard_normal(4096))
    res = ks_test(xs, stats.norm(), 1e-4, presorted=True)
    twins = [copy.copy(res), copy.deepcopy(res), res.renamed("w."), copy.deepcopy([res])[0]]
    twins += pickle.loads(pickle.dumps([res, copy.copy(res), res.renamed("v.")]))
    assert _READS == [] and all(type(t) is type(res) for t in twins)
    p = float(np.clip(stats.kstest(xs, "norm").pvalue, 0, 1))
    assert [t.p_value for t in twins[:4]] == [p] * 4 and res.p_value == p and len(_READS) == 1
    assert [t.p_value for t in twins[4:]] == [p] * 3 and len(_READS) == 2  # one pickle: one more computation
    later = pickle.loads(pickle.dumps(copy.deepcopy(res)))
    assert later.p_value == p and len(_READS) == 2 and later == res


def _haar(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((cols, rows)))
    return (q * np.sign(np.diag(r))).T


@pytest.mark.parametrize("kind", ["haar", "qr_without_sign_fix", "polar_of_uniform"])
def test_haar_entries_reads_as_its_exact_computation(kind, monkeypatch):
    """haar_entries_test with the screen is the test without it (kstest's statistic, the exact KS tail at the
    excess over the rounding allowance), field for field, on Haar draws and on two non-Haar ones."""
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    if kind == "haar":
        draws = [_haar(32, 64, rng) for _ in range(12)]
    elif kind == "qr_without_sign_fix":
        draws = [np.linalg.qr(rng.standard_normal((64, 32)))[0].T for _ in range(12)]
    else:
        draws = [np.linalg.svd(rng.uniform(size=(32, 64)), full_matrices=False)[2] for _ in range(12)]
    fr = [H.frame(d, 0)[0] for d in draws]
    u, _ = H.entry_uniforms(fr)
    for alpha in (0.05, 1e-4, 1e-9):
        screened = H.haar_entries_test(draws, 0, alpha)
        assert screened.statistic == float(stats.kstest(u, "uniform").statistic)
        with monkeypatch.context() as m:
            m.setattr(H, "ks_screen", lambda d, n, a: None)  # the exact p-value, computed at once
            exact = H.haar_entries_test(draws, 0, alpha)
        assert screened.passed == exact.passed and screened.p_value == exact.p_value
        assert screened == exact and screened.detail == exact.detail
