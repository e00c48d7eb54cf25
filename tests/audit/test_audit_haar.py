"""The Haar-law checks in the auditor: the frameworks' orthogonal initializers pass them (no false accusation),
exactly orthogonal but non-Haar initializers fail them with the cause named (issue 14, gap 2).

PyTorch flattens around dim 0, JAX and Keras around the last dim; each is audited in its own convention.  The
catalogue tests (tests/audit/test_audit_{torch,jax,flax,keras}.py) run the same checks on every orthogonal entry
of each catalogue (flax's per-gate orthogonal LSTM kernels included).
"""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import audit_fixtures as F
from invariants.audit import initializer
from invariants.audit.auditor import CONFORMS, DEVIATES, AuditConfig
from invariants.laws import Law
from invariants.stats.battery import battery

CFG = AuditConfig(rel_error=0.05, total_alpha=1e-6, min_bounded_n=20_000)
HAAR = ("haar_sums", "haar_signs", "haar_trace", "haar_entries")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # the QR/SVD of the numpy faults is ~300x slower when OpenBLAS threads contend for 2 shared cores
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _haar_checks(res):
    by = {c.name: c for c in res.checks}
    assert set(HAAR) <= set(by), sorted(by)
    return by


def test_orthogonal_battery_counts_the_haar_checks():
    law = Law.orthogonal(1.0, (64, 256))
    assert battery(law).names[:5] == ("orthogonality",) + HAAR
    assert len(battery(law)) == 7  # + degenerate, identical_draws


@pytest.mark.parametrize("layer", ["dense(256,64)", "conv2d(8,16,k=3)", "dense(64,64)"])
def test_torch_orthogonal_conforms(layer):
    torch = pytest.importorskip("torch")
    rep = initializer(torch.nn.init.orthogonal_, expect="orthogonal", layer=layer, framework="torch", config=CFG)
    (res,) = rep.results
    assert res.verdict == CONFORMS, res.message
    assert all(c.passed for c in _haar_checks(res).values())


def test_jax_orthogonal_conforms_and_a_noncentred_jax_initializer_deviates():
    pytest.importorskip("jax")
    import jax
    import jax.numpy as jnp
    from jax.nn import initializers as I

    rep = initializer(I.orthogonal(), expect="orthogonal(rows=last)", layer="conv2d(32,64,k=3)", framework="jax",
                      config=CFG)
    (res,) = rep.results
    assert res.verdict == CONFORMS, res.message
    assert all(c.passed for c in _haar_checks(res).values())

    def noncentred(key, shape, dtype=jnp.float32):  # SVD of U(0, 1) values, JAX flattening (-1, shape[-1])
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        x = jax.random.uniform(key, (max(rows, cols), min(rows, cols)), dtype)
        u = jnp.linalg.svd(x, full_matrices=False)[0]
        return (u.T if rows < cols else u).reshape(shape)

    rep = initializer(noncentred, expect="orthogonal(rows=last)", layer="dense(64,32)", framework="jax", config=CFG)
    (res,) = rep.results
    assert res.verdict == DEVIATES
    assert _haar_checks(res)["orthogonality"].passed and not _haar_checks(res)["haar_sums"].passed
    assert "nearly constant singular vector" in res.message


def test_keras_orthogonal_conforms():
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.registry import get_framework

    try:
        get_framework("keras", "initializers")  # chooses the backend before keras is imported
    except FrameworkUnavailable as exc:
        pytest.skip(str(exc))
    import keras

    rep = initializer(keras.initializers.Orthogonal(gain=2.0), expect="orthogonal(gain=2, rows=last)",
                      layer="dense(256,64)", framework="keras", config=CFG)
    (res,) = rep.results
    assert res.verdict == CONFORMS, res.message
    assert all(c.passed for c in _haar_checks(res).values())


def test_torch_qr_without_sign_correction_deviates():
    torch = pytest.importorskip("torch")

    def no_sign_fix(t):  # torch.nn.init.orthogonal_ without `q *= d.sign()`
        rows, cols = t.shape[0], t.numel() // t.shape[0]
        q, _ = torch.linalg.qr(torch.randn(max(rows, cols), min(rows, cols)))
        with torch.no_grad():
            t.copy_((q.T if rows < cols else q).reshape(t.shape))
        return t

    rep = initializer(no_sign_fix, expect="orthogonal", layer="dense(128,128)", framework="torch", config=CFG)
    (res,) = rep.results
    assert res.verdict == DEVIATES
    by = _haar_checks(res)
    assert by["orthogonality"].passed and not by["haar_signs"].passed and not by["haar_trace"].passed
    assert "sign correction" in res.message


def test_numpy_faults_deviate_and_budget_counts_them():
    rep = initializer(F.m_orthogonal_noncentred, expect="orthogonal", layer="dense(48,16)", config=CFG)
    (res,) = rep.results
    assert res.verdict == DEVIATES and "nearly constant singular vector" in res.message
    # 5 law checks + 2 structure checks + 3 seed-determinism checks, at alpha = total / 10 (capped at 1e-6)
    assert rep.n_checks == 10 and rep.alpha == pytest.approx(1e-6 / 10)
