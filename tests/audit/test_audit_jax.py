"""The JAX adapter: jax.nn.initializers audited against their specs and the textbook fans.

Figures: shared/reference/initializer-conventions.md §1.2, §3, §4 rows 6-7 (jax 0.10.2).  The catalogue
runs at ``rel_error=0.05`` (a 5% variance error detected with power 0.99) to keep the file fast; every
fault checked here is a variance ratio far outside that (0.046, 1/3, 1/4, 0.7737).
"""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from invariants import audit  # noqa: E402
from invariants.core.errors import FrameworkUnavailable  # noqa: E402
from invariants.frameworks.registry import get_framework  # noqa: E402
from invariants.frameworks.errors import BadInitializer  # noqa: E402
import audit_fixtures as F  # noqa: E402
from invariants.audit.auditor import CONFORMS, DEVIATES, DOCUMENTED  # noqa: E402
from invariants.specs import (  # noqa: E402
    GLOROT_NORMAL,
    HE_UNIFORM,
    ONES,
    ZEROS,
    Constant,
    Normal,
    Orthogonal,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
)

I = jax.nn.initializers
ADAPTER = get_framework("jax", "initializers")
CFG = F.CATALOGUE_CONFIG
C2 = 0.7737413035499232  # variance of N(0,1) truncated to (-2, 2)

#: (result target, layer) -> (verdict, lowest, highest observed/expected variance ratio); others conform
EXPECTED = {
    # jax fans (9, 576) vs textbook (9, 18): 2/585 vs 2/27 = 27/585
    ("jax.nn.initializers.glorot_normal()", "depthwise_conv2d(32,k=3,m=2)"):
        (DEVIATES, 0.95 * 27 / 585, 1.05 * 27 / 585),
    # jax fans (72, 576) vs textbook (72, 144): 2/648 vs 2/216
    ("jax.nn.initializers.glorot_uniform()", "conv2d(32,64,k=3,groups=4)"): (DEVIATES, 0.95 / 3, 1.05 / 3),
    # U[0, s): variance s^2/12 vs (2s)^2/12
    ("jax.nn.initializers.uniform(scale=0.01)", "dense(300,100)"): (DOCUMENTED, 0.95 / 4, 1.05 / 4),
    ("jax.nn.initializers.truncated_normal(stddev=0.01)", "dense(300,100)"): (DOCUMENTED, 0.95 * C2, 1.05 * C2),
}


subjects, report = F.catalogue_fixtures(ADAPTER, CFG)
pytestmark = F.catalogue_group("jax")  # with its conformance checks: one worker compiles its programs


def test_catalogue_verdicts(report):
    F.assert_catalogue(report.results, EXPECTED, key=lambda r: (r.target, r.layer))
    counts = report.counts()
    assert (counts[CONFORMS], counts[DEVIATES], counts[DOCUMENTED]) == (len(report.results) - 4, 2, 2)


def test_deviations_name_the_fan_and_the_reference(report):
    by_key = {(r.target, r.layer): r for r in report.results}
    dw = by_key[("jax.nn.initializers.glorot_normal()", "depthwise_conv2d(32,k=3,m=2)")]
    assert "framework fans (9, 576)" in dw.explanation, dw.message
    assert dw.fans_textbook == (9, 18) and dw.fans_framework == (9, 576)
    gr = by_key[("jax.nn.initializers.glorot_uniform()", "conv2d(32,64,k=3,groups=4)")]
    assert "framework fans (72, 576)" in gr.explanation
    tn = by_key[("jax.nn.initializers.truncated_normal(stddev=0.01)", "dense(300,100)")]
    assert "does not apply the stddev correction" in tn.reference
    assert "without the truncation correction" in tn.explanation
    un = by_key[("jax.nn.initializers.uniform(scale=0.01)", "dense(300,100)")]
    assert "[0, scale)" in un.reference
    # the delta-orthogonal centre tap is exactly orthogonal, the other taps exactly zero
    assert by_key[("jax.nn.initializers.delta_orthogonal()[centre]", "dense(32,64)")].verdict == CONFORMS
    assert by_key[("jax.nn.initializers.delta_orthogonal()[off-centre taps]", None)].verdict == CONFORMS
    assert report.to_dict()["results"][0]["fans"]["framework"] == [300, 100]


def test_shapes_and_framework_fans(subjects):
    """Kernel shapes are the HWIO layout; framework fans are JAX's own _compute_fans (doc §1.2 numbers)."""
    for s in subjects:
        if s.layer is not None and not s.blocks:
            assert s.shape == s.layer.shape("jax"), s.name
    from invariants.frameworks.jax.initializers import compute_fans

    assert compute_fans((3, 3, 32, 64)) == (288, 576)
    assert compute_fans((3, 3, 1, 64)) == (9, 576)
    assert compute_fans((7, 3, 5), batch_axis=0) == (3, 5)
    assert compute_fans((1000, 64), in_axis=-2, out_axis=0) == (64, 64)
    assert ADAPTER.framework_fans((3, 3, 8, 64)) == (72, 576)
    # every sampler really returns its subject's shape and float32 (the auditor checked each draw too)
    for s in subjects[:1] + subjects[-6:]:
        x = s.sampler(7)
        assert x.shape == s.shape and x.dtype == np.float32, s.name


def test_worked_numbers_glorot_normal():
    """Doc §4 rows 6-7: glorot_normal support +-2 sigma_p with sigma_p = sqrt(v)/c."""
    for shape, var in (((300, 100), 0.005), ((3, 3, 32, 64), 2 / 864)):
        x = np.concatenate([ADAPTER.wrap(I.glorot_normal(), shape)(s).ravel() for s in range(4)])
        bound = 2 * np.sqrt(var) / 0.87962566103423978
        assert np.abs(x).max() <= bound * (1 + 1e-6)
        assert abs(x.var() / var - 1) < 0.05


def test_wrap_rejects_bad_initializers():
    shape = (30, 20)

    def wrong_shape(key, shp, dtype):
        return jnp.zeros((shp[0] + 1,) + tuple(shp[1:]), dtype)

    def int_dtype(key, shp, dtype):
        return jnp.zeros(shp, jnp.int32)

    def with_nan(key, shp, dtype):
        return jnp.full(shp, jnp.nan, dtype)

    def raises(key, shp, dtype):
        raise RuntimeError("boom")

    def returns_key(key, shp, dtype):
        return key

    for fn, words in ((wrong_shape, "shape"), (int_dtype, "dtype"), (with_nan, "non-finite"), (raises, "boom"),
                      (returns_key, None)):
        with pytest.raises(BadInitializer, match=words):
            ADAPTER.wrap(fn, shape)(0)


def test_wrap_is_deterministic_in_the_seed():
    sample = ADAPTER.wrap(I.he_uniform(), (300, 100))  # a shape the catalogue compiled
    a, b, c = sample(3), sample(3), sample(4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.float32


def test_known_expectations():
    k = ADAPTER.known_expectation
    assert k(I.glorot_normal()).spec == GLOROT_NORMAL
    assert k(I.he_uniform()).spec == HE_UNIFORM
    assert k(I.variance_scaling(0.5, "fan_geo_avg", "normal")).spec == VarianceScaling(0.5, "fan_geo_avg", "normal")
    assert k(I.normal(0.3)).spec == Normal(0.0, 0.3)
    assert k(I.uniform(0.3)).spec == Uniform(0.0, 0.3)
    assert k(I.truncated_normal(0.3)).spec == TruncatedNormal(0.0, 0.3, -2.0, 2.0, bounds="std", corrected=False)
    assert k(I.orthogonal(2.0)).spec == Orthogonal(2.0, rows_axis="last")
    assert k(I.constant(0.25)).spec == Constant(0.25)
    assert k(I.zeros).spec == ZEROS and k(I.ones).spec == ONES
    assert k(lambda key, shape, dtype: None) is None
    # a factory (the module attribute jax.nn.initializers:glorot_normal) is audited as glorot_normal()
    assert k(I.glorot_normal).spec == GLOROT_NORMAL
    assert ADAPTER.wrap(I.glorot_normal, (300, 100))(0).shape == (300, 100)
    assert k(I.variance_scaling(1.0, "fan_in", "normal", in_axis=0, out_axis=1)) is None


def test_initializer_api_accepts_correct_and_rejects_faulty():
    # conv2d(32,64,k=3): a kernel shape the catalogue already compiled (JAX compiles per shape)
    ok = audit.initializer(I.he_normal(), layer="conv2d(32,64,k=3)", framework="jax", config=CFG)
    assert ok.ok, [r.message for r in ok.results]

    def fan_swapped(key, shape, dtype):  # He normal computed on fan_out instead of fan_in
        return I.variance_scaling(2.0, "fan_out", "truncated_normal")(key, shape, dtype)

    bad = audit.initializer(fan_swapped, expect="he_normal", layer="conv2d(32,64,k=3)", framework="jax", config=CFG)
    (r,) = bad.results
    assert not bad.ok and r.verdict == DEVIATES
    assert abs(r.ratio - 0.5) < 0.03 and "fan_out" in r.explanation  # 288/576


def test_missing_jax_is_skipped_with_the_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))
    rep = audit.catalogue("jax")
    (r,) = rep.results
    assert r.verdict == "skipped" and "pip install jax" in r.message and rep.ok


def test_broken_jax_import_is_skipped(monkeypatch):
    """Installed (find_spec succeeds) but the import fails: FrameworkUnavailable, never a crash."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "jax" else real(name, *a))
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.delitem(sys.modules, "invariants.frameworks.jax.initializers")
    with pytest.raises(FrameworkUnavailable, match="pip install jax"):
        get_framework("jax", "initializers")
