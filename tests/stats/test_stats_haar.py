"""The Haar-law checks of orthogonal draws (:mod:`invariants.stats.haar`): exact nulls, and the faults they catch.

Seeds are fixed, so every outcome is deterministic; the checks run at alpha = 1e-6 (and the calibration test
looks only at the bulk of the p-values, never at a tail event).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from threadpoolctl import threadpool_limits

from invariants.stats import haar as H

A = 1e-6


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # the QR/SVD of these small matrices is ~300x slower when OpenBLAS threads contend for 2 shared cores
    with threadpool_limits(limits=1, user_api="blas"):
        yield


TESTS = (H.haar_sums_test, H.haar_signs_test, H.haar_trace_test, H.haar_entries_test)


def haar(rows: int, cols: int, rng: np.random.Generator, sign_fix: bool = True) -> np.ndarray:
    """A Haar (semi-)orthogonal rows x cols matrix: QR of a Gaussian matrix, R's diagonal signs moved into Q."""
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    if sign_fix:
        q = q * np.sign(np.diag(r))
    return q.T if rows < cols else q


def noncentred(rows: int, cols: int, rng: np.random.Generator, polar: bool = False) -> np.ndarray:
    """Left singular vectors (or the polar factor) of a non-centred U(0, 1) matrix: exactly orthogonal, not Haar."""
    u, _, vt = np.linalg.svd(rng.uniform(0, 1, (max(rows, cols), min(rows, cols))), full_matrices=False)
    q = u @ vt if polar else u
    return q.T if rows < cols else q


@pytest.mark.parametrize("rows, cols", [(16, 16), (8, 40), (40, 8), (1, 12), (64, 64)])
def test_haar_draws_pass_every_check(rows, cols):
    rng = np.random.default_rng([rows, cols])
    draws = [haar(rows, cols, rng).astype(np.float32) for _ in range(H.haar_draws(min(rows, cols)))]
    for t in TESTS:
        res = t(draws, 0, A)
        assert res.passed, res.detail


def test_unit_axis_last_flattening_and_gain():
    """A JAX/Keras conv kernel (3, 3, 8, 16): orthogonal over (-1, 16) with gain 2 passes; read with the PyTorch
    flattening (rows = dim 0: 3 x 384) it is not even the right frame."""
    rng = np.random.default_rng(5)
    draws = [2.0 * haar(72, 16, rng).reshape(3, 3, 8, 16) for _ in range(40)]
    for t in TESTS:
        assert t(draws, -1, A).passed


def test_stick_uniforms_are_uniform():
    """The stick-breaking values of uniform unit vectors are i.i.d. U(0, 1) (bulk check of 10^4 values)."""
    rng = np.random.default_rng(11)
    z = rng.standard_normal((400, 51))
    u = np.concatenate([H.stick_uniforms(v / np.linalg.norm(v)) for v in z])
    assert u.size == 400 * 25
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # rows after Householder reductions too
    frames = [haar(12, 60, rng) for _ in range(100)]
    u, rows = H.entry_uniforms(frames, limit=10_000)
    assert rows == 4 and stats.kstest(u, "uniform").pvalue > 1e-3


def test_pvalues_calibrated_in_the_bulk():
    """Under Haar each check's p-value is (super-)uniform: at most ~10% below 0.1 (bulk, fixed seed)."""
    rng = np.random.default_rng(3)
    ps = {t.__name__: [] for t in TESTS}
    for _ in range(60):
        draws = [haar(24, 24, rng) for _ in range(6)]
        for t in TESTS:
            ps[t.__name__].append(t(draws, 0, A).p_value)
    for name, p in ps.items():
        assert np.mean(np.asarray(p) < 0.1) <= 0.2, name


@pytest.mark.parametrize("rows, cols", [(16, 16), (40, 120), (120, 40)])
@pytest.mark.parametrize("polar", [False, True])
def test_noncentred_svd_fails_the_sums(rows, cols, polar):
    rng = np.random.default_rng(1)
    draws = [noncentred(rows, cols, rng, polar).astype(np.float32) for _ in range(4)]
    res = H.haar_sums_test(draws, 0, A)
    assert not res.passed and res.p_value < 1e-30
    assert "nearly constant singular vector" in res.detail and "non-centred" in res.detail
    # the same draws are exactly orthogonal: only the Haar checks can tell
    g = [d.astype(np.float64) @ d.astype(np.float64).T if rows <= cols else d.T.astype(np.float64) @ d for d in draws]
    assert max(float(np.max(np.abs(x - np.eye(x.shape[0])))) for x in g) < 1e-5


@pytest.mark.parametrize("rows, cols", [(16, 16), (32, 128), (128, 128)])
def test_missing_sign_correction_fails_signs(rows, cols):
    rng = np.random.default_rng(2)
    draws = [haar(rows, cols, rng, sign_fix=False) for _ in range(max(4, H.haar_draws(min(rows, cols))))]
    res = H.haar_signs_test(draws, 0, A)
    assert not res.passed and "sign correction" in res.detail
    if rows == cols:  # square: the trace sees the biased diagonal too
        assert not H.haar_trace_test(draws, 0, A).passed
    # the entry law and the sums cannot see it (|entries| are Haar's; only column signs change)
    assert H.haar_sums_test(draws, 0, A).passed and H.haar_entries_test(draws, 0, A).passed


def test_identity_and_permutation_fail():
    eye = [np.eye(32) for _ in range(4)]
    assert not H.haar_sums_test(eye, 0, A).passed  # total sum sqrt(N) x its Haar scale
    assert not H.haar_entries_test(eye, 0, A).passed or not H.haar_signs_test(eye, 0, A).passed
    perm = [np.eye(32)[np.random.default_rng(i).permutation(32)] for i in range(4)]
    assert not H.haar_sums_test(perm, 0, A).passed


def test_entries_catch_a_non_haar_entry_law():
    """Orthogonalised +-1 (Rademacher) matrices of few rows: entries far from the Beta law of a coordinate."""
    rng = np.random.default_rng(4)
    x = [rng.choice([-1.0, 1.0], size=(2, 64)) for _ in range(200)]
    draws = [np.linalg.qr(m.T)[0].T for m in x]
    draws = [d * np.sign(d[:, :1]) * rng.choice([-1, 1], size=(2, 1)) for d in draws]  # keep the signs fair
    res = H.haar_entries_test(draws, 0, A)
    assert not res.passed, res.detail


def test_trace_pvalue_bounds_the_gaussian_tail():
    for n in (8, 64, 300):
        for s in (1.0, 3.0, 6.0):
            assert H.trace_pvalue(s, n) >= 2 * stats.norm.sf(s)
    assert H.trace_pvalue(6.0, 2) == 1.0  # no moment to use
    assert math.isinf(H.trace_threshold(2, 1e-7)) and H.trace_threshold(4, 1e-7) > 1000  # Chebyshev only
    assert H.trace_threshold(200, 1e-7) < 7


def test_non_square_trace_not_tested_and_low_precision_entries_said():
    rng = np.random.default_rng(6)
    res = H.haar_trace_test([haar(8, 16, rng)], 0, A)
    assert res.passed and "not tested" in res.detail
    bf16_like = [np.asarray(haar(64, 64, rng), dtype=np.float16) for _ in range(8)]
    res = H.haar_entries_test(bf16_like, 0, A)
    assert res.passed and "not tested" in res.detail


def test_power_statements():
    assert 0.05 < H.signs_min_detectable_bias(1024, 1e-7, 0.99) < 0.15
    thr = H.sums_threshold(300, 4, 1e-7, 0.99)
    assert 4 / math.sqrt(300) < thr < 0.6  # a constant singular vector gives 1
    # a draw at the stated threshold is detected: its p-value alone beats the Fisher bound
    assert H.coordinate_sf(thr**2, 300) * 300 < 1e-7
