"""invariants.layers: layer kinds as types, their text form, and layouts as data."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from invariants import strategies as ist
from invariants.core.errors import BadInput, UsageError
from invariants.layers import (JAX, KERAS, LAYER_TYPES, LAYOUTS, QKV, TORCH, Conv, ConvTranspose, Dense, Depthwise,
                               Layout, as_layout, parse_layer)


@st.composite
def strided(draw, layers=st.one_of(ist.conv_layers(16), ist.transposed_conv_layers(16), ist.depthwise_layers(16))):
    """Conv layers with a stride (the strategies draw none); all-ones strides are stored as ``()``."""
    layer = draw(layers)
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=layer.nd, max_size=layer.nd)))
    return dataclasses.replace(layer, stride=stride)


@given(layer=st.one_of(ist.layers(ist.ALL_LAYER_KINDS), strided()))
def test_text_round_trips(layer):
    assert parse_layer(str(layer)) == layer
    assert layer.describe() == str(layer)


@given(layer=ist.layers(ist.ALL_LAYER_KINDS))
def test_shape_follows_the_layout_axes(layer):
    """The weight has one axis per layout symbol and as many values as the textbook connectivity says:
    every output unit is fed by fan_in weights (per block when packed)."""
    shape = layer.shape(TORCH)
    fan_in, _ = layer.textbook_fans()
    assert len(shape) == len(TORCH.axes(layer))
    assert int(np.prod(shape)) == max(1, len(layer.blocks)) * layer.out_features * fan_in


def test_registry_names_every_text_form():
    assert LAYER_TYPES["linear"] is Dense and LAYER_TYPES["conv2d"] is Conv
    assert LAYER_TYPES["depthwise3d"] is LAYER_TYPES["depthwise_conv1d"] is Depthwise
    assert isinstance(parse_layer("qkv(8)"), QKV)
    assert parse_layer("conv2d(4,6,k=3,stride=1)") == Conv(4, 6, (3, 3))  # stride 1 is no stride
    assert Conv(4, 6, (3, 3)) != ConvTranspose(4, 6, (3, 3))  # same fields, different kinds
    with pytest.raises(BadInput, match="unknown layer"):
        parse_layer("conv4d(1,2,k=1)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Dense(3, 4).in_features = 5  # type: ignore[misc]


def test_built_in_layouts_keep_their_names():
    assert as_layout("numpy") is TORCH and LAYOUTS["jax"] is JAX and as_layout(KERAS) is KERAS
    with pytest.raises(UsageError, match="unknown layout 'mlx'"):
        as_layout("mlx")
    with pytest.raises(BadInput, match="jax transposed convolutions have no groups"):
        ConvTranspose(4, 6, (3,), groups=2).shape(JAX)
    with pytest.raises(UsageError, match="exactly one of 'out'"):
        Layout("bad", dense=("in", "in"), conv=("out", "k"), conv_transpose=("out", "k"))


# ------------------------------------------------------------------------- a layout defined elsewhere

#: MLX (``mlx.nn``): Linear ``(out, in)``; Conv ``(C_out, *k, C_in/G)``; ConvTranspose ``(C_out, *k, C_in)``;
#: fan rule ``mlx.nn.init._calculate_fan_in_fan_out``: ``(shape[-1]·rf, shape[0]·rf)``, rf = middle dims.
MLX = Layout("mlx", dense=("out", "in"), conv=("out", "k", "in/g"), conv_transpose=("out", "k", "in"),
             fan_axes=(-1, 0))


def test_a_new_framework_defines_its_own_layout():
    conv = Conv(4, 6, (3, 5), groups=2)
    assert conv.shape(MLX) == (6, 3, 5, 2)
    assert conv.textbook_fans() == (2 * 15, 3 * 15)
    assert conv.framework_fans(MLX) == (2 * 15, 6 * 15)  # MLX's rule does not divide groups out of fan_out
    w = np.arange(6 * 3 * 5 * 2).reshape(6, 3, 5, 2)
    rows = conv.unit_rows(w, MLX)
    assert rows.shape == (6, 30) and all(np.array_equal(rows[j], w[j].ravel()) for j in range(6))
    # the same units as torch's layout (C_out, C_in/G, *k) holds them
    w_torch = np.moveaxis(w, -1, 1)
    assert np.array_equal(np.sort(conv.unit_rows(w_torch, TORCH), 1), np.sort(rows, 1))
    assert Dense(3, 5).shape(MLX) == (5, 3) and Depthwise(4, 8, (3,)).shape(MLX) == (8, 3, 1)
    assert [idx for _, idx in QKV(4).block_index(MLX)][2] == (slice(8, 12), slice(None))
    with pytest.raises(BadInput, match="bilinear layers do not exist in the mlx layout"):
        parse_layer("bilinear(2,3,4)").shape(MLX)


def test_the_mlx_layout_matches_mlx():
    nn = pytest.importorskip("mlx.nn")
    assert Conv(4, 6, (3, 3), groups=2).shape(MLX) == tuple(nn.Conv2d(4, 6, 3, groups=2).weight.shape)
    assert ConvTranspose(4, 6, (3, 3)).shape(MLX) == tuple(nn.ConvTranspose2d(4, 6, 3).weight.shape)
    assert Dense(3, 5).shape(MLX) == tuple(nn.Linear(3, 5).weight.shape)


@given(layer=ist.layers(("dense", "conv", "conv_transpose", "depthwise", "embedding")))
def test_mlx_unit_rows_partition_the_weight(layer):
    shape = layer.shape(MLX)
    rows = layer.unit_rows(np.arange(int(np.prod(shape))).reshape(shape), MLX)
    assert rows.shape[0] == layer.out_features
    assert np.array_equal(np.sort(rows.ravel()), np.arange(int(np.prod(shape))))
