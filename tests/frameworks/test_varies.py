"""``invariants.frameworks.model.varies``: exact by default; with ``rounding_ulps`` (a layer's input), batch rows
that differ by rounding do not vary and a signal does.

The rounding case is the one an AVX2 machine gave: torch's ``nn.LSTM`` fed a zero embedding returns batch rows
1.1 ulps apart, which the exact comparison read as a signal carried past the zero layer (a zero-initialized residual
branch, a note), so the zoo's planted zero embedding (tests/zoo, ``torch_lstm_lm__zero_embedding``) went unflagged.
The signal case is timm's ViT with LayerScale 1e-5 (tests/zoo ``timm_vit_layerscale``), whose logits move by 61 ulps
of their largest (about 6 at DeiT-III's 1e-6): the model output is therefore compared exactly, or a correct model
would read as "output the same for all inputs".
"""
from __future__ import annotations

import numpy as np
import pytest

from invariants.frameworks.model import INPUT_ROUNDING_ULPS, varies


def _one_row(dtype):
    row = np.random.default_rng(0).normal(size=(1, 64)).astype(dtype)
    return np.repeat(row, 8, axis=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_input_apart_by_rounding_does_not_vary(dtype):
    a = _one_row(dtype)
    a[3] = np.nextafter(a[3], np.inf)  # every entry of one row one ulp up
    a[5, 7] = np.nextafter(np.nextafter(a[5, 7], -np.inf), -np.inf)
    assert not varies(a, INPUT_ROUNDING_ULPS)
    assert varies(a)  # the exact comparison (a model output) sees it
    assert not varies(_one_row(dtype), INPUT_ROUNDING_ULPS) and not varies(_one_row(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_signal_varies_both_ways(dtype):
    a = np.random.default_rng(1).normal(size=(8, 64)).astype(dtype)
    assert varies(a) and varies(a, INPUT_ROUNDING_ULPS)
    small = _one_row(dtype)  # 61 ulps of the largest entry, in one row
    small[4] += dtype(61 * np.finfo(dtype).eps) * np.abs(small[0]).max()
    assert varies(small) and varies(small, INPUT_ROUNDING_ULPS)
    tiny = _one_row(dtype)  # 6 ulps (LayerScale 1e-6): an output still varies
    tiny[4, 0] += dtype(6 * np.finfo(dtype).eps) * np.abs(tiny[0]).max()
    assert varies(tiny)


def test_exact_comparison_where_rounding_has_no_scale():
    ints = np.zeros((4, 3), dtype=np.int64)
    assert not varies(ints, INPUT_ROUNDING_ULPS)
    ints[1, 2] = 1
    assert varies(ints, INPUT_ROUNDING_ULPS)
    with_inf = np.zeros((4, 3))
    with_inf[:, 0] = np.inf
    assert not varies(with_inf, INPUT_ROUNDING_ULPS)
    with_inf[2, 1] = 1e-300
    assert varies(with_inf, INPUT_ROUNDING_ULPS)
    assert not varies(np.ones(1)) and not varies(np.ones((1, 3)), INPUT_ROUNDING_ULPS)
