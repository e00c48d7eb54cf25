"""The Keras 3 adapter: keras.initializers and layer defaults against the textbook fans.

Figures: shared/reference/initializer-conventions.md §1.3, §2.3, §3, §4 rows 8 and 10 (keras 3.15.1).
The adapter selects the jax backend when KERAS_BACKEND is unset.
"""
from __future__ import annotations

import importlib.util
import random

import numpy as np
import pytest

from invariants.core.errors import FrameworkUnavailable  # noqa: E402
from invariants.frameworks.registry import get_framework  # noqa: E402

# not pytest.importorskip("keras"): importing keras before the adapter has chosen a backend would use
# Keras' default backend (tensorflow, not installed); the adapter sets KERAS_BACKEND=jax when unset
try:
    ADAPTER = get_framework("keras", "initializers")
except FrameworkUnavailable as exc:  # keras not installed
    pytest.skip(str(exc), allow_module_level=True)

import keras  # noqa: E402

from invariants import audit  # noqa: E402
from invariants.frameworks.errors import BadInitializer  # noqa: E402
import audit_fixtures as F  # noqa: E402
from invariants.audit.auditor import CONFORMS, DEVIATES, DOCUMENTED  # noqa: E402
from invariants.specs import (  # noqa: E402
    GLOROT_NORMAL,
    HE_UNIFORM,
    ONES,
    Constant,
    Normal,
    Orthogonal,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
)

KI = keras.initializers
CFG = F.CATALOGUE_CONFIG
C2 = 0.7737413035499232

LSTM_K = "keras.layers.LSTM(64).cell.kernel"
LSTM_R = "keras.layers.LSTM(64).cell.recurrent_kernel"
GRU_K = "keras.layers.GRU(64).cell.kernel"
GRU_R = "keras.layers.GRU(64).cell.recurrent_kernel"
#: result target -> (verdict, lowest, highest observed/expected variance ratio); everything else conforms
EXPECTED = {
    # "normal" silently becomes a (corrected) truncated normal: right variance, wrong shape
    "keras.initializers.VarianceScaling(scale=1.0, mode='fan_in', distribution='normal')": (DEVIATES, 0.95, 1.05),
    "keras.initializers.TruncatedNormal()": (DOCUMENTED, 0.95 * C2, 1.05 * C2),
    # fans (72, 576) vs (72, 144): 216/648
    "keras.layers.Conv2D(64, 3, groups=4).kernel": (DEVIATES, 0.95 / 3, 1.05 / 3),
    # fans (288, 18) vs (9, 18): 27/306
    "keras.layers.DepthwiseConv2D(3, depth_multiplier=2).kernel": (DEVIATES, 0.95 * 27 / 306, 1.05 * 27 / 306),
    # He on the swapped fan_in 576 instead of 288
    "keras.layers.Conv2DTranspose(64, 3, kernel_initializer='he_normal').kernel": (DEVIATES, 0.95 / 2, 1.05 / 2),
    # Glorot on the packed (128, 256) kernel: 2/384 instead of 2/192 per gate; (128, 192): 2/320
    **{f"{LSTM_K}[{g}]": (DEVIATES, 0.95 / 2, 1.05 / 2) for g in "ifco"},
    **{f"{GRU_K}[{g}]": (DEVIATES, 0.95 * 0.6, 1.05 * 0.6) for g in "zrh"},
    # one orthogonal (64, 4*64) / (64, 3*64) matrix: gate blocks not orthogonal, E[w^2] ~ 1/4, 1/3 of 1/64
    **{f"{LSTM_R}[{g}]": (DEVIATES, 0.2, 0.3) for g in "ifco"},
    **{f"{GRU_R}[{g}]": (DEVIATES, 0.27, 0.4) for g in "zrh"},
}


subjects, report = F.catalogue_fixtures(ADAPTER, CFG)
pytestmark = F.catalogue_group("keras")  # with its conformance checks: one worker compiles its programs


def test_backend_is_named():
    from invariants.frameworks.keras.initializers import BACKEND

    assert BACKEND == keras.backend.backend()
    assert all(f"[{BACKEND} backend]" in s.call for s in ADAPTER.catalogue()[:3])


def test_catalogue_verdicts(report):
    F.assert_catalogue(report.results, EXPECTED)


def test_deviations_are_explained(report):
    by = {r.target: r for r in report.results}
    vs = by["keras.initializers.VarianceScaling(scale=1.0, mode='fan_in', distribution='normal')"]
    assert "truncated_normal instead of normal" in vs.explanation
    dw = by["keras.layers.DepthwiseConv2D(3, depth_multiplier=2).kernel"]
    assert dw.fans_textbook == (9, 18) and dw.fans_framework == (288, 18) and "(288, 18)" in dw.explanation
    gr = by["keras.layers.Conv2D(64, 3, groups=4).kernel"]
    assert gr.fans_framework == (72, 576) and "(72, 576)" in gr.explanation
    ct = by["keras.layers.Conv2DTranspose(64, 3, kernel_initializer='he_normal').kernel"]
    assert ct.fans_textbook == (288, 576) and ct.fans_framework == (576, 288) and "576" in ct.explanation
    assert by["keras.layers.Conv2DTranspose(64, 3).kernel"].verdict == CONFORMS  # Glorot is symmetric
    lstm = by[f"{LSTM_K}[f]"]
    assert lstm.fans_framework == (128, 256) and "(128, 256)" in lstm.explanation
    tn = by["keras.initializers.TruncatedNormal()"]
    assert "re-drawn" in tn.reference and "without the truncation correction" in tn.explanation
    # Keras 3.15 EinsumDense: per-axis fans (512, 512) for the (512, 8, 64) query kernel
    q = by["keras.layers.MultiHeadAttention(num_heads=8, key_dim=64)._query_dense.kernel"]
    assert q.fans_framework == (512, 512) and q.verdict == CONFORMS
    # unit_forget_bias: forget slice ones, the others zeros
    assert by["keras.layers.LSTM(64).cell.bias[f]"].verdict == CONFORMS
    assert by["keras.layers.LSTM(64).cell.bias[c]"].verdict == CONFORMS


def test_shapes_and_fans(subjects):
    names = {s.name: s for s in subjects}
    assert names["keras.layers.DepthwiseConv2D(3, depth_multiplier=2).kernel"].shape == (3, 3, 32, 2)
    assert names["keras.layers.Conv2DTranspose(64, 3).kernel"].shape == (3, 3, 64, 32)
    assert names[LSTM_K].shape == (128, 256) and names[LSTM_R].shape == (64, 256)
    assert names["keras.layers.GRU(64).cell.bias"].shape == (2, 192)
    for s in subjects:
        if s.layer is not None and "MultiHead" not in s.name:
            assert s.shape == s.layer.shape("keras"), s.name
    from invariants.frameworks.keras.initializers import compute_fans

    assert compute_fans((3, 3, 32, 2)) == (288, 18)
    assert compute_fans((3, 3, 64, 32)) == (576, 288)
    assert compute_fans((512, 8, 64)) == (4096, 32768)  # conv-style rank-3 rule (Keras <= 3.14 for EinsumDense)
    assert compute_fans((512, 8, 64), [0], [1, 2]) == (512, 512)
    # the real layer variables have the stated shapes
    layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2)
    layer.build((None, 8, 8, 32))
    assert tuple(layer.kernel.shape) == (3, 3, 32, 2)


def test_layer_sampling_restores_python_random():
    state = random.getstate()
    (subject,) = [s for s in ADAPTER.catalogue() if s.name == "keras.layers.Dense(100).kernel"]
    a, b = subject.sampler(5), subject.sampler(6)
    assert random.getstate() == state
    assert not np.array_equal(a, b) and np.array_equal(a, subject.sampler(5))


def test_wrap_reseeds_instances_classes_and_callables():
    shape = (300, 100)  # the catalogue's dense kernel: already compiled (JAX compiles per shape)
    inst = ADAPTER.wrap(KI.GlorotUniform(), shape)  # seed=None instance: rebuilt per seed
    a, b = inst(1), inst(2)
    assert not np.array_equal(a, b) and np.array_equal(a, inst(1)) and a.dtype == np.float32
    cls = ADAPTER.wrap(KI.HeNormal, shape)
    assert not np.array_equal(cls(1), cls(2))
    state = (random.getstate(), np.random.get_state()[1].copy())
    fn = ADAPTER.wrap(lambda shape, dtype=None: keras.random.normal(shape, dtype=dtype), shape)
    c, d = fn(1), fn(2)
    assert not np.array_equal(c, d) and np.array_equal(c, fn(1))
    assert random.getstate() == state[0] and np.array_equal(np.random.get_state()[1], state[1])
    const = ADAPTER.wrap(KI.Constant(0.5), shape)(0)
    assert np.all(const == 0.5)


def test_wrap_rejects_bad_initializers():
    for fn, words in ((lambda shape, dtype=None: np.zeros((3, 3), np.float32), "shape"),
                      (lambda shape, dtype=None: np.zeros(shape, np.int64), "dtype"),
                      (lambda shape, dtype=None: np.full(shape, np.nan, np.float32), "non-finite"),
                      (lambda shape, dtype=None: 1 / 0, "ZeroDivisionError")):
        with pytest.raises(BadInitializer, match=words):
            ADAPTER.wrap(fn, (4, 5))(0)


def test_known_expectations():
    k = ADAPTER.known_expectation
    assert k(KI.GlorotNormal()).spec == GLOROT_NORMAL
    assert k(KI.HeUniform).spec == HE_UNIFORM
    assert k(KI.VarianceScaling(2.0, "fan_out", "untruncated_normal")).spec == VarianceScaling(2.0, "fan_out", "normal")
    # the silent rewrite: what the object holds is a truncated normal
    assert k(KI.VarianceScaling(1.0, "fan_in", "normal")).spec.distribution == "truncated_normal"
    assert k(KI.RandomNormal(0.1, 0.2)).spec == Normal(0.1, 0.2)
    assert k(KI.RandomUniform()).spec == Uniform(-0.05, 0.05)
    assert k(KI.TruncatedNormal(stddev=0.3)).spec == TruncatedNormal(0.0, 0.3, -2.0, 2.0, "std", corrected=False)
    assert k(KI.Orthogonal(gain=2.0)).spec == Orthogonal(2.0, rows_axis="last")
    assert k(KI.Ones()).spec == ONES and k(KI.Constant(0.25)).spec == Constant(0.25)
    assert k(lambda shape, dtype=None: None) is None


def test_missing_keras_is_skipped_with_the_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "keras" else real(name, *a))
    (r,) = audit.catalogue("keras").results
    assert r.verdict == "skipped" and "pip install keras" in r.message
