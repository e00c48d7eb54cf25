"""The Flax adapter: linen and nnx layer defaults against the textbook fans.

Figures: shared/reference/initializer-conventions.md §2.2, §3 (flax 0.12.8).  The nnx OptimizedLSTMCell /
GRUCell finding (orthogonal over the packed recurrent matrix) is not in that file: it is measured here.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

flax = pytest.importorskip("flax")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from flax import linen as nn  # noqa: E402
from flax import nnx  # noqa: E402

from invariants import audit  # noqa: E402
from invariants.frameworks.registry import get_framework  # noqa: E402
from invariants.frameworks.errors import BadInitializer  # noqa: E402
import audit_fixtures as F  # noqa: E402
from invariants.audit.auditor import CONFORMS, DEVIATES, DOCUMENTED  # noqa: E402
from invariants.specs import LECUN_NORMAL  # noqa: E402

ADAPTER = get_framework("flax", "initializers")
CFG = F.CATALOGUE_CONFIG

NNX_OPT = "flax.nnx.OptimizedLSTMCell(256, 64).dense_h.kernel"
NNX_GRU = "flax.nnx.GRUCell(256, 64).dense_h.kernel"
#: result target -> (verdict, lowest, highest observed/expected variance ratio); everything else conforms
EXPECTED = {
    # batch dims enter fan_in: 1/2400 instead of 1/300
    "flax.linen.DenseGeneral(100, batch_dims=(0,)).kernel": (DEVIATES, 0.95 / 8, 1.05 / 8),
    "flax.nnx.LinearGeneral(300, 100, batch_axis={0: 8}).kernel": (DEVIATES, 0.95 / 8, 1.05 / 8),
    # transpose_kernel=True: fan_in C_out*K = 576 instead of C_in*K = 288
    "flax.linen.ConvTranspose(64, (3, 3), transpose_kernel=True).kernel": (DEVIATES, 0.95 / 2, 1.05 / 2),
    "flax.nnx.ConvTranspose(32, 64, (3, 3), transpose_kernel=True).kernel": (DEVIATES, 0.95 / 2, 1.05 / 2),
    # N(0, 1/D) vs LeCun on the one-hot fan_in V: 1000/64
    "flax.linen.Embed(1000, 64).embedding": (DOCUMENTED, 0.95 * 1000 / 64, 1.05 * 1000 / 64),
    "flax.nnx.Embed(1000, 64).embedding": (DOCUMENTED, 0.95 * 1000 / 64, 1.05 * 1000 / 64),
    # one orthogonal (64, 4*64) matrix: each gate block has E[w^2] ~ 1/256 instead of 1/64, and is not orthogonal
    **{f"{NNX_OPT}[{g}]": (DEVIATES, 0.2, 0.3) for g in "ifgo"},
    **{f"{NNX_GRU}[{g}]": (DEVIATES, 0.27, 0.4) for g in "rzn"},
}


subjects, report = F.catalogue_fixtures(ADAPTER, CFG)
pytestmark = F.catalogue_group("flax")  # with its conformance checks: one worker compiles its programs


def test_catalogue_verdicts(report):
    F.assert_catalogue(report.results, EXPECTED)


def test_deviations_are_explained(report):
    by = {r.target: r for r in report.results}
    dg = by["flax.linen.DenseGeneral(100, batch_dims=(0,)).kernel"]
    assert dg.fans_textbook == (300, 100) and dg.fans_framework == (2400, 100)
    assert "framework fan_in 2400" in dg.explanation
    ct = by["flax.nnx.ConvTranspose(32, 64, (3, 3), transpose_kernel=True).kernel"]
    assert ct.fans_framework == (576, 288) and "576" in ct.explanation
    emb = by["flax.linen.Embed(1000, 64).embedding"]
    assert emb.fans_framework == (64, 64) and "out_axis=0" in emb.reference
    opt = by[f"{NNX_OPT}[f]"]
    assert any(c.name == "orthogonality" and not c.passed for c in opt.checks)
    # the per-gate orthogonal recurrent kernels of the linen cells and nnx.LSTMCell conform
    for name in ("flax.linen.LSTMCell(64).h*.kernel[f]", "flax.linen.GRUCell(64).h*.kernel[n]",
                 "flax.nnx.LSTMCell(256, 64).h*.kernel[o]"):
        assert by[name].verdict == CONFORMS, by[name].message


def test_shapes_match_the_real_variables(subjects):
    """Stated shapes: the jax layout where the layer has one, else the real variable's (checked per draw)."""
    explicit = {
        "flax.linen.DenseGeneral(100, batch_dims=(0,)).kernel": (8, 300, 100),
        "flax.linen.ConvTranspose(64, (3, 3), transpose_kernel=True).kernel": (3, 3, 64, 32),
        "flax.linen.MultiHeadDotProductAttention(num_heads=8, qkv_features=512).query.kernel": (256, 8, 64),
        "flax.linen.MultiHeadDotProductAttention(num_heads=8, qkv_features=512).out.kernel": (8, 64, 256),
        "flax.linen.LSTMCell(64).i*.kernel": (256, 256),
        "flax.nnx.GRUCell(256, 64).dense_h.kernel": (64, 192),
    }
    names = {s.name: s for s in subjects}
    for name, shape in explicit.items():
        assert names[name].shape == shape, name
    for s in subjects:
        if s.name not in explicit and s.layer is not None and "MultiHead" not in s.name and "General" not in s.name \
                and "transpose_kernel" not in s.name:
            assert s.shape == s.layer.shape("jax"), s.name
    # real variables, read directly
    p = nn.DenseGeneral(100, batch_dims=(0,)).init(jax.random.key(0), jnp.ones((8, 300)))["params"]
    assert p["kernel"].shape == (8, 300, 100)
    m = nnx.ConvTranspose(32, 64, (3, 3), transpose_kernel=True, rngs=nnx.Rngs(0))
    assert m.kernel[...].shape == (3, 3, 64, 32)


def test_packed_gate_view_is_the_real_per_gate_kernels():
    cell = nn.LSTMCell(64)
    carry = cell.initialize_carry(jax.random.key(0), (1, 256))
    params = cell.init(jax.random.key(11), carry, jnp.ones((1, 256)))["params"]
    (subject,) = [s for s in ADAPTER.catalogue() if s.name == "flax.linen.LSTMCell(64).i*.kernel"]
    view = subject.sampler(11)
    for b, gate in zip(subject.blocks, "ifgo"):
        assert np.array_equal(view[b.index], np.asarray(params[f"i{gate}"]["kernel"])), gate


def test_wrap_uses_the_jax_convention():
    sample = ADAPTER.wrap(nn.initializers.lecun_normal(), (300, 100))
    a, b = sample(1), sample(2)
    assert a.shape == (300, 100) and a.dtype == np.float32 and not np.array_equal(a, b)
    assert np.array_equal(a, sample(1))
    assert ADAPTER.known_expectation(nn.initializers.lecun_normal()).spec == LECUN_NORMAL
    with pytest.raises(BadInitializer, match="shape"):
        ADAPTER.wrap(lambda key, shape, dtype: jnp.zeros((2, 2), dtype), (3, 3))(0)
    with pytest.raises(BadInitializer, match="non-finite"):
        ADAPTER.wrap(lambda key, shape, dtype: jnp.full(shape, jnp.inf, dtype), (3, 3))(0)


def test_missing_flax_is_skipped_with_the_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "flax" else real(name, *a))
    (r,) = audit.catalogue("flax").results
    assert r.verdict == "skipped" and "pip install flax" in r.message
