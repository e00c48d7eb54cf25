"""numpy initializers (``f(shape, rng) -> array``, torch layout ``(out, in, *k)``) for the audit tests.

Correct initializers compute the fans from the shape as PyTorch does (``fan_in = size(1)*rf``,
``fan_out = size(0)*rf``), which equals the textbook fans for dense and ungrouped conv layers.
Mutants are the faults the auditor must reject; each docstring says what is wrong.  The framework catalogue
tests share their config and fixtures here too (:func:`catalogue_fixtures`).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from invariants.audit.auditor import AuditConfig, audit_subjects

C = float(stats.truncnorm.std(-2, 2))  # 0.87962566


def fans(shape):
    rf = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * rf, shape[0] * rf


def _tn(shape, rng, std_param):
    return stats.truncnorm.rvs(-2, 2, size=shape, random_state=rng) * std_param


# ------------------------------------------------------------------------------------ correct


def kaiming_normal(shape, rng):
    """N(0, 2/fan_in), untruncated (torch.nn.init.kaiming_normal_ with relu)."""
    return rng.normal(0.0, math.sqrt(2.0 / fans(shape)[0]), size=shape)


def he_normal(shape, rng):
    """Corrected truncated normal with variance 2/fan_in (JAX/Keras he_normal)."""
    return _tn(shape, rng, math.sqrt(2.0 / fans(shape)[0]) / C)


def he_uniform(shape, rng):
    """U(+-gain*sqrt(3/fan_in)) with gain sqrt(2): the gain is NOT squared, and that is right."""
    gain = math.sqrt(2.0)
    b = gain * math.sqrt(3.0 / fans(shape)[0])
    return rng.uniform(-b, b, size=shape).astype(np.float32)


def glorot_uniform(shape, rng):
    """U(+-sqrt(6/(fan_in+fan_out))): variance 2/(fi+fo); the 6 = 3 * 2 is right."""
    fi, fo = fans(shape)
    b = math.sqrt(6.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape).astype(np.float32)


def glorot_normal(shape, rng):
    fi, fo = fans(shape)
    return _tn(shape, rng, math.sqrt(2.0 / (fi + fo)) / C).astype(np.float32)


def lecun_uniform(shape, rng):
    """variance_scaling(1, fan_in, uniform): bound sqrt(3*scale/fan_in) -- the factor 3 is right."""
    b = math.sqrt(3.0 / fans(shape)[0])
    return rng.uniform(-b, b, size=shape)


def xavier_normal(shape, rng):
    """Untruncated N(0, 2/(fi+fo)) (torch.nn.init.xavier_normal_): not truncated, and documented so."""
    fi, fo = fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fi + fo)), size=shape).astype(np.float32)


def normal_002(shape, rng):
    return rng.normal(0.0, 0.02, size=shape).astype(np.float32)


def uniform_005(shape, rng):
    return rng.uniform(-0.05, 0.05, size=shape)


def orthogonal(shape, rng, gain=1.0):
    rows, cols = shape[0], int(np.prod(shape[1:]))
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape)


def ones(shape, rng):
    return np.ones(shape, dtype=np.float32)


# ------------------------------------------------------------------------------------ mutants


def m_fan_swap(shape, rng):
    """He normal with fan_out instead of fan_in."""
    return rng.normal(0.0, math.sqrt(2.0 / fans(shape)[1]), size=shape)


def m_missing_gain(shape, rng):
    """He normal without the ReLU gain (LeCun variance)."""
    return rng.normal(0.0, math.sqrt(1.0 / fans(shape)[0]), size=shape)


def m_gain_not_squared(shape, rng):
    """Variance gain/fan_in instead of gain^2/fan_in (gain sqrt(2))."""
    return rng.normal(0.0, math.sqrt(math.sqrt(2.0) / fans(shape)[0]), size=shape)


def m_missing_truncation_correction(shape, rng):
    """Glorot 'normal' as TN(+-2)*sqrt(v): variance 0.7737 v (old Keras, TF.js)."""
    fi, fo = fans(shape)
    return _tn(shape, rng, math.sqrt(2.0 / (fi + fo)))


def m_double_truncation_correction(shape, rng):
    fi, fo = fans(shape)
    return _tn(shape, rng, math.sqrt(2.0 / (fi + fo)) / C / C)


def m_sqrt3_not_sqrt6(shape, rng):
    """Glorot uniform with bound sqrt(3/(fi+fo)): half the variance."""
    fi, fo = fans(shape)
    b = math.sqrt(3.0 / (fi + fo))
    return rng.uniform(-b, b, size=shape)


def m_sqrt6_not_sqrt3(shape, rng):
    """He uniform with bound sqrt(6*2/fan_in): twice the variance."""
    b = math.sqrt(12.0 / fans(shape)[0])
    return rng.uniform(-b, b, size=shape)


def _scaled_normal(f):
    def init(shape, rng):
        return rng.normal(0.0, math.sqrt(2.0 * f / fans(shape)[0]), size=shape)

    init.__doc__ = f"He normal with variance x {f}"
    return init


def _scaled_uniform(f):
    def init(shape, rng):
        b = math.sqrt(6.0 * f / fans(shape)[0])
        return rng.uniform(-b, b, size=shape)

    init.__doc__ = f"He uniform with variance x {f}"
    return init


m_var_plus5 = _scaled_normal(1.05)
m_var_minus5 = _scaled_normal(0.95)
m_var_times2 = _scaled_normal(2.0)
m_uniform_plus5 = _scaled_uniform(1.05)
m_uniform_minus5 = _scaled_uniform(0.95)


def m_mean_shift(shape, rng):
    """He normal shifted by 0.1 std."""
    s = math.sqrt(2.0 / fans(shape)[0])
    return rng.normal(0.1 * s, s, size=shape)


def m_uniform_mean_shift(shape, rng):
    b = math.sqrt(6.0 / fans(shape)[0])
    return rng.uniform(-b, b, size=shape) + 0.05 * b


def m_clamp_point_mass(shape, rng):
    """He normal clamped at +-2 std: the clipped mass piles up at the bounds."""
    s = math.sqrt(2.0 / fans(shape)[0])
    return np.clip(rng.normal(0.0, s, size=shape), -2 * s, 2 * s)


def m_uniform_point_mass(shape, rng):
    """He uniform with 1% of the entries set to the upper bound."""
    b = math.sqrt(6.0 / fans(shape)[0])
    x = rng.uniform(-b, b, size=shape)
    x.flat[rng.random(x.size) < 0.01] = b
    return x


def m_outliers_at_clamp(shape, rng):
    """Corrected He TN with 1 entry per 10^4 left at 3 std (a clamp that lets candidates through)."""
    x = he_normal(shape, rng)
    s = math.sqrt(2.0 / fans(shape)[0]) / C
    x.flat[rng.random(x.size) < 1e-4] = 3 * s
    return x


def m_duplicate_rows(shape, rng):
    x = glorot_uniform(shape, rng)
    x[1] = x[0]
    return x


def m_ignores_rng(shape, rng):
    """Draws from a fixed seed: every call returns the same tensor."""
    return glorot_uniform(shape, np.random.default_rng(1234))


def m_all_zero(shape, rng):
    return np.zeros(shape)


def m_heavy_tails(shape, rng):
    """Student-t (5 dof) rescaled to variance 2/fan_in: right variance, wrong shape."""
    s = math.sqrt(2.0 / fans(shape)[0])
    return rng.standard_t(5, size=shape) * s / math.sqrt(5 / 3)


def m_uniform_not_normal(shape, rng):
    """Uniform with the He normal variance."""
    b = math.sqrt(3 * 2.0 / fans(shape)[0])
    return rng.uniform(-b, b, size=shape)


def m_normal_not_uniform(shape, rng):
    """Normal with the Glorot uniform variance."""
    fi, fo = fans(shape)
    return rng.normal(0.0, math.sqrt(2.0 / (fi + fo)), size=shape)


def m_orthogonal_gain(shape, rng):
    return orthogonal(shape, rng, gain=1.01)


def m_not_orthogonal(shape, rng):
    """Normal with the orthogonal E[w^2]: right scale, not orthogonal."""
    return rng.normal(0.0, 1.0 / math.sqrt(max(shape[0], int(np.prod(shape[1:])))), size=shape)


def m_orthogonal_noncentred(shape, rng):
    """Exactly orthogonal, not Haar: left singular vectors of a non-centred U(0, 1) matrix (its top one is nearly
    constant, so one row sums to ~sqrt(300))."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    u, _, _ = np.linalg.svd(rng.uniform(0.0, 1.0, (max(rows, cols), min(rows, cols))), full_matrices=False)
    return (u.T if rows < cols else u).reshape(shape)


def m_orthogonal_no_sign_fix(shape, rng):
    """Exactly orthogonal, not Haar: QR of a Gaussian matrix without moving R's diagonal signs into Q (Mezzadri
    2007): LAPACK's Householder convention makes Q's diagonal mostly negative."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    q, _ = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    return (q.T if rows < cols else q).reshape(shape)


def m_sparse_zeros(shape, rng):
    """Glorot uniform with 10% of the entries zeroed."""
    x = glorot_uniform(shape, rng)
    x.flat[rng.random(x.size) < 0.1] = 0.0
    return x


def m_wrong_constant(shape, rng):
    return np.full(shape, 0.5, dtype=np.float32)


def m_absolute_bounds(shape, rng):
    """trunc_normal_(std=0.02) with absolute bounds +-2: a plain normal, not cut at +-2 std."""
    return np.clip(rng.normal(0.0, 0.02, size=shape), -2.0, 2.0)


def m_geo_for_avg(shape, rng):
    """Glorot normal (untruncated) using the geometric mean of the fans instead of the arithmetic."""
    fi, fo = fans(shape)
    return rng.normal(0.0, math.sqrt(1.0 / math.sqrt(fi * fo)), size=shape)


# shape-based initializers that are right on dense/ungrouped layers and wrong by layer semantics


def shape_glorot_uniform(shape, rng):
    """Glorot uniform with fans read off the shape (torch rule): groups are not divided out."""
    return glorot_uniform(shape, rng)


def shape_kaiming_fan_out(shape, rng):
    return rng.normal(0.0, math.sqrt(2.0 / fans(shape)[1]), size=shape)


# ------------------------------------------------------------------------------------ bad input


def bad_shape(shape, rng):
    return np.zeros((3,))


def bad_nan(shape, rng):
    x = rng.normal(size=shape)
    x.flat[0] = np.nan
    return x


def bad_raises(shape, rng):
    raise RuntimeError("boom")


def bad_int(shape, rng):
    return np.ones(shape, dtype=np.int64)


def bad_none(shape, rng):
    return None


def correct_cases(dense: str, conv: str) -> list[tuple]:
    """(initializer, expected spec, layer): the correct initializers every audit must accept."""
    return [
        (kaiming_normal, "kaiming_normal", dense),
        (kaiming_normal, "variance_scaling(scale=2, mode=fan_in, distribution=normal)", conv),
        (he_normal, "he_normal", conv),
        (he_uniform, "he_uniform", dense),
        (glorot_uniform, "glorot_uniform", conv),
        (glorot_normal, "glorot_normal", dense),
        (lecun_uniform, "lecun_uniform", dense),
        (xavier_normal, "xavier_normal", conv),
        (normal_002, "normal(std=0.02)", dense),
        (uniform_005, "uniform(-0.05, 0.05)", dense),
        (orthogonal, "orthogonal(gain=1)", dense),
        (ones, "ones", dense),
    ]


def assert_catalogue(results, expected: dict, key=lambda r: r.target) -> None:
    """Every result has its expected verdict (``conforms`` unless listed), each listed result's
    variance ratio lies in its [lo, hi] band, and every listed entry was seen.

    ``expected`` maps ``key(result)`` to (verdict, lo, hi).
    """
    seen = set()
    for r in results:
        k = key(r)
        verdict, lo, hi = expected.get(k, ("conforms", None, None))
        assert r.verdict == verdict, f"{k} ({r.layer}): {r.verdict}: {r.message}"
        if lo is not None:
            seen.add(k)
            assert lo <= r.ratio <= hi, f"{k}: ratio {r.ratio}"
    assert seen == set(expected)


#: the framework catalogue tests' config: a 5% variance error detected with power 0.99, which keeps them fast
CATALOGUE_CONFIG = AuditConfig(rel_error=0.05, min_bounded_n=20_000, min_draws=2)


def catalogue_group(framework: str):
    """The xdist group of every test that audits or samples ``framework``'s catalogue: its catalogue test module and
    its conformance checks (tests/frameworks/test_conformance.py).  Under ``--dist loadgroup`` they run on one worker,
    which compiles each JAX sampler program once: the conformance checks draw the catalogue's own shapes, and 61 of
    Flax's programs (15 of Equinox's) were compiled, or read from the persistent cache, on both workers."""
    return pytest.mark.xdist_group(f"catalogue-{framework}")


def catalogue_fixtures(adapter, config: AuditConfig = CATALOGUE_CONFIG):
    """Module-scoped ``subjects`` (``adapter.catalogue()``) and ``report`` (their audit under ``config``)
    fixtures for a framework's catalogue test; bind them as ``subjects, report = catalogue_fixtures(...)``."""

    @pytest.fixture(scope="module")
    def subjects():
        return adapter.catalogue()

    @pytest.fixture(scope="module")
    def report(subjects):
        return audit_subjects(subjects, config, catch=True)

    return subjects, report


def tn_002_uncorrected(shape, rng):
    """TN(0, 0.02^2) cut at +-2 std with std the untruncated normal's (torch.nn.init.trunc_normal_(std=0.02))."""
    return _tn(shape, rng, 0.02)
