"""check-model reads MLX parameters without copies, bfloat16 in its own dtype (issue 17 item 3): read-only
numpy views of the arrays' buffers, and reports identical to a float32 reader's of the same values, fault by
fault (the torch counterpart is in test_memory.py)."""
from __future__ import annotations

import numpy as np
import pytest

mx = pytest.importorskip("mlx.core")
ml_dtypes = pytest.importorskip("ml_dtypes")
import mlx.nn as nn  # noqa: E402

from invariants.frameworks.mlx.initializers import Seeded  # noqa: E402
from invariants.frameworks.mlx.model import extract_params, read_only  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from tests.modelcheck.bf16_reports import same_report_as_float32  # noqa: E402


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_mlx_parameters_are_read_only_views_of_the_arrays_in_their_dtype(dtype):
    """Known-good: each parameter is a non-writeable view sharing the array's buffer, in the array's dtype,
    holding its values (a transposed array keeps its values through strides).  Known-bad: the old reader
    (``np.array(..., copy=True)``, bfloat16 widened) shares no memory and changes the dtype; the view
    refuses a write."""
    with Seeded(0):
        lin = nn.Linear(8, 4)
    lin.set_dtype(getattr(mx, dtype))
    params, _, _ = extract_params(nn.Sequential(lin))
    w = next(p for p in params if p.name == "layers.0.weight").value
    assert w.dtype.name == dtype and not w.flags.writeable
    exact = np.array(lin.weight.astype(mx.float32))
    assert np.array_equal(w.astype(np.float32), exact)
    bits = mx.view(lin.weight, mx.uint16 if dtype != "float32" else mx.uint32)
    assert np.shares_memory(w, np.asarray(memoryview(bits)))  # no copy of the model
    assert not np.shares_memory(np.array(lin.weight.astype(mx.float32), copy=True), np.asarray(memoryview(bits)))
    with pytest.raises(ValueError):
        w[0, 0] = 1.0
    t = lin.weight.T
    assert np.array_equal(read_only(t).astype(np.float32), exact.T)


def test_mlx_bfloat16_without_ml_dtypes_is_widened_exactly(monkeypatch):
    """An install without ml_dtypes still reads bfloat16, as an exact float32 copy."""
    import builtins

    real = builtins.__import__

    def no_ml_dtypes(name, *args, **kwargs):
        if name == "ml_dtypes":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ml_dtypes)
    a = mx.random.normal((4, 3), key=mx.random.key(1)).astype(mx.bfloat16)
    w = read_only(a)
    assert w.dtype == np.float32 and np.array_equal(w, np.array(a.astype(mx.float32)))


def _faulty(fault: str):
    """An MLX ReLU MLP (and an LSTM LM for the recurrent paths) with one planted fault, in float32."""
    with Seeded(0):
        if fault == "lstm":
            return nn.Sequential(nn.Embedding(100, 32), nn.LSTM(32, 48), nn.Linear(48, 100))
        m = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    lin = m.layers[2]
    w, b = np.array(lin.weight), np.array(lin.bias)
    if fault == "duplicated-units":
        w[1:5], b[1:5] = w[0], b[0]
    elif fault == "dead-units":
        w[3:9] = 0
    elif fault == "non-finite":
        w[0, 0] = np.nan
    elif fault == "extreme-values":
        w[0, :3] = 1.0
    elif fault == "identical-tensors":
        m.layers[4].weight = mx.array(w)
    elif fault == "constant-tensor":
        w[:] = 0.01
    lin.weight, lin.bias = mx.array(w), mx.array(b)
    return m


@pytest.mark.parametrize("fault", ["none", "duplicated-units", "dead-units", "non-finite", "extreme-values",
                                   "identical-tensors", "constant-tensor", "lstm"])
def test_mlx_bfloat16_read_in_its_own_dtype_reports_what_a_float32_reader_of_the_same_values_does(fault):
    """Every parameter check on an MLX bfloat16 model (ml_dtypes views: digests, row ties, extremes, NaN,
    constants, the battery on a widened sample) gives the report, to the byte, of the float32 model holding
    the same values (the probe is off: it computes in the model's dtype).  Known-bad: each planted fault is
    found; known-good: the clean MLP and the LSTM LM have no error."""
    bf = _faulty(fault)
    bf.set_dtype(mx.bfloat16)
    wide = _faulty(fault)
    wide.set_dtype(mx.bfloat16)
    wide.set_dtype(mx.float32)  # the same values, read as float32
    assert next(p for p in extract_params(bf)[0] if p.value.ndim == 2).value.dtype.name == "bfloat16"
    same_report_as_float32(bf, wide, fault)


def test_an_mlx_bfloat16_model_gets_its_probe_pass():
    """bfloat16 activations and gradients (a bfloat16 input keeps the pass in bfloat16) are widened for the
    signal statistics, which sum in numpy (numpy cannot read an MLX bfloat16 buffer: before, the pass
    raised).  Known-good: the MLP has a measured signal."""
    with Seeded(0):
        m = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
    m.set_dtype(mx.bfloat16)
    x = mx.random.normal((32, 64), key=mx.random.key(0)).astype(mx.bfloat16)
    report = check_model((m, x), name="m")
    assert report.coverage.probe_requested and report.to_dict()["signal"]["layers"], report.to_dict()


def test_an_inferred_probe_input_is_drawn_in_the_model_dtype():
    """An inferred input is drawn in the model's floating dtype, so a bfloat16 model's pass stays in bfloat16
    (a float32 input promoted every weight to a float32 copy: 2x the model beyond it).  Known-good: the
    signal is measured; a float32 model keeps float32."""
    from invariants.frameworks.mlx.model import infer_input, float_dtype

    with Seeded(0):
        m = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    assert float_dtype(m) == mx.float32
    m.set_dtype(mx.bfloat16)
    assert float_dtype(m) == mx.bfloat16
    _, nodes, _ = extract_params(m)
    x, _ = infer_input(nodes, 8, np.random.default_rng(0), float_dtype(m))
    assert x.dtype == mx.bfloat16
    assert check_model(m, name="m").to_dict()["signal"]["layers"]


def test_the_cost_estimate_counts_no_copy_of_an_mlx_bfloat16_model():
    """The reader copies nothing, so the estimate beyond the model is the same for bfloat16 as for float32
    (it counted a float32 copy: 4 bytes a value), and it still counts the temporaries."""
    from invariants.modelcheck.cost import PER_VALUE_TEMP, model_cost

    with Seeded(0):
        m = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256))
    c32 = model_cost(m, 2**20)
    m.set_dtype(mx.bfloat16)
    c16 = model_cost(m, 2**20)
    assert c16.bytes == c32.bytes and c16.bytes > PER_VALUE_TEMP * 256 * 256
