"""``invariants.frameworks.model.varies``: batch rows that differ by rounding do not vary; a signal does.

The rounding case is the one an AVX2 machine gave: torch's ``nn.LSTM`` fed a zero embedding returns batch rows
1 ulp apart, which the exact comparison read as a signal carried past the zero layer (a zero-initialized residual
branch, a note), so the zoo's planted zero embedding (tests/zoo, ``torch_lstm_lm__zero_embedding``) went unflagged.  The signal case at 61 ulps is timm's ViT with
LayerScale 1e-5 (tests/zoo ``timm_vit_layerscale``), whose logits a 1024-ulp tolerance read as constant (a false
"output does not depend on the input" error).
"""
from __future__ import annotations

import numpy as np
import pytest

from invariants.frameworks.model import varies


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_apart_by_rounding_do_not_vary(dtype):
    row = np.random.default_rng(0).normal(size=(1, 64)).astype(dtype)
    a = np.repeat(row, 8, axis=0)
    a[3] = np.nextafter(a[3], np.inf)  # every entry of one row one ulp up
    a[5, 7] = np.nextafter(np.nextafter(a[5, 7], -np.inf), -np.inf)
    assert not varies(a)
    assert not varies(np.repeat(row, 8, axis=0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_apart_by_a_signal_vary(dtype):
    a = np.random.default_rng(1).normal(size=(8, 64)).astype(dtype)
    assert varies(a)
    tiny = np.repeat(a[:1], 8, axis=0)
    tiny[2, 0] += dtype(1e-3) * np.abs(a[0]).max()  # one entry of one row, 1e-3 of the largest: above rounding
    assert varies(tiny)
    small = np.repeat(a[:1], 8, axis=0)  # 61 ulps of the largest entry: timm's ViT logits with LayerScale 1e-5
    small[4] += dtype(61 * np.finfo(dtype).eps) * np.abs(a[0]).max()
    assert varies(small)


def test_exact_comparison_where_rounding_has_no_scale():
    ints = np.zeros((4, 3), dtype=np.int64)
    assert not varies(ints)
    ints[1, 2] = 1
    assert varies(ints)
    with_inf = np.zeros((4, 3))
    with_inf[:, 0] = np.inf
    assert not varies(with_inf)
    with_inf[2, 1] = 1e-300
    assert varies(with_inf)
    assert not varies(np.ones(1)) and not varies(np.ones((1, 3)))
