"""Shapes outside the dense/conv grammar (issue 14, gap 1): ``vector(n)``, ``scalar()``, zero sizes and the
multi-axis ``kernel(shape, in_axes, out_axes)``, with each framework's fan rule as the installed code computes it."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from invariants.core.errors import BadInput
from invariants.layers import JAX, KERAS, TORCH, Dense, Kernel, Scalar, Vector, parse_layer

MHA_Q = "kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,2))"


def test_vector_and_scalar_have_no_textbook_fans_and_one_shape_everywhere():
    v, s = parse_layer("vector(64)"), parse_layer("scalar()")
    assert v == Vector(64) and s == Scalar() and parse_layer("bias(64)") == v
    assert v.textbook_fans() is None and s.textbook_fans() is None
    for layout in (TORCH, JAX, KERAS):
        assert v.shape(layout) == (64,) and s.shape(layout) == ()
    assert str(v) == "vector(64)" and str(s) == "scalar()" and v.n_values == 64 and s.n_values == 1


def test_fan_rule_below_two_dims_per_framework():
    """torch and JAX refuse (their fan functions raise ValueError); Keras gives (n, n) and (1, 1)."""
    assert KERAS.fans((64,)) == (64, 64) and KERAS.fans(()) == (1, 1)
    with pytest.raises(BadInput, match=r"torch computes no fans .*_calculate_fan_in_and_fan_out raises ValueError"):
        TORCH.fans((64,))
    with pytest.raises(BadInput, match=r"_compute_fans raises ValueError with the default in_axis=-2"):
        JAX.fans(())


def test_fan_rules_match_the_installed_frameworks():
    torch = pytest.importorskip("torch")
    for shape in ((64,), ()):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    jinit = pytest.importorskip("jax._src.nn.initializers")
    for shape in ((64,), ()):
        with pytest.raises(ValueError, match="default in_axis"):
            jinit._compute_fans(shape)
    # jax with the kernel's axes gives its textbook fans; with the default axes, the shape rule
    assert jinit._compute_fans((512, 8, 64), in_axis=0, out_axis=(1, 2)) == (512, 512)
    assert tuple(map(int, jinit._compute_fans((512, 8, 64)))) == JAX.fans((512, 8, 64)) == (4096, 32768)
    from invariants.frameworks.keras.initializers import compute_fans

    assert compute_fans((64,)) == KERAS.fans((64,)) and compute_fans(()) == KERAS.fans(())
    assert compute_fans((512, 8, 64), [0], [1, 2]) == parse_layer(MHA_Q).textbook_fans() == (512, 512)
    assert compute_fans((512, 8, 64)) == KERAS.fans((512, 8, 64)) == (4096, 32768)


def test_zero_sizes_are_legal_layers_without_values():
    assert parse_layer("dense(0,4)") == Dense(0, 4) and Dense(0, 4).shape(TORCH) == (4, 0)
    for text in ("dense(0,4)", "conv2d(0,8,k=3)", "embedding(0,16)", "bilinear(3,0,2)", "vector(0)",
                 "kernel(shape=(0,8,64),in_axes=(0,),out_axes=(1,2))"):
        layer = parse_layer(text)
        assert layer.n_values == 0 and parse_layer(str(layer)) == layer
    for bad, words in (("dense(-1,4)", "in_features must be an integer >= 0, got -1"),
                       ("conv2d(4,4,k=3,groups=0)", "groups must be an integer >= 1, got 0"),
                       ("conv2d(4,4,k=0)", "k must be an integer >= 1, got 0")):
        with pytest.raises(BadInput, match=words):
            parse_layer(bad)


def test_kernel_fans_follow_its_axes():
    q = parse_layer(MHA_Q)
    assert isinstance(q, Kernel) and q.textbook_fans() == (512, 512) and q.out_features == 512
    out = parse_layer("kernel(shape=(8,64,512),in_axes=(0,1),out_axes=(2,))")
    assert out.textbook_fans() == (512, 512)
    # an axis in neither list is receptive field: HWIO conv (3,3,8,16) = conv2d(8,16,k=3)
    conv = parse_layer("kernel(shape=(3,3,8,16),in_axes=2,out_axes=3)")
    assert conv.textbook_fans() == parse_layer("conv2d(8,16,k=3)").textbook_fans() == (72, 144)
    assert conv.receptive_field == 9 and conv.rf_axes == (0, 1)
    # a batch axis (one map per head) is in neither fan
    per_head = parse_layer("kernel(shape=(4,8,5),in_axes=(1,),out_axes=(2,),batch_axes=(0,))")
    assert per_head.textbook_fans() == (8, 5) and per_head.out_features == 20
    assert parse_layer(str(per_head)) == per_head and parse_layer("einsum(shape=(4,5),in_axes=0,out_axes=-1)") == \
        Kernel((4, 5), (0,), (1,))


def test_kernel_unit_rows_hold_the_weights_feeding_each_unit():
    """Unit (b, o) of a per-head kernel is fed by W[b, :, o]; of an attention kernel (E, H, Dh) by W[:, h, d]."""
    w = np.arange(4 * 8 * 5).reshape(4, 8, 5)
    rows = parse_layer("kernel(shape=(4,8,5),in_axes=(1,),out_axes=(2,),batch_axes=(0,))").unit_rows(w)
    assert rows.shape == (20, 8) and np.array_equal(rows[1 * 5 + 3], w[1, :, 3])
    w = np.arange(6 * 2 * 3).reshape(6, 2, 3)
    rows = parse_layer("kernel(shape=(6,2,3),in_axes=(0,),out_axes=(1,2))").unit_rows(w)
    assert rows.shape == (6, 6) and np.array_equal(rows[1 * 3 + 2], w[:, 1, 2])


@pytest.mark.parametrize("text, words", [
    ("kernel(shape=(512,8,64),in_axes=(0,0),out_axes=(1,2))", "in_axes: axis 0 is given twice"),
    ("kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,3))", "out_axes: axis 3 is out of range for a 3-D kernel"),
    ("kernel(shape=(512,8,64),in_axes=(0,),out_axes=(0,2))", "axis 0 is in both in_axes and out_axes"),
    ("kernel(shape=(512,8,64),in_axes=(-1,),out_axes=(2,))", "axis 2 is in both in_axes and out_axes"),
    ("kernel(shape=(512,8,64),in_axes=(),out_axes=(1,2))", "in_axes must name at least one axis"),
    ("kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,),batch_axes=(1,))", "axis 1 is in both out_axes and batch_axes"),
    ("kernel(shape=(512,),in_axes=(0,),out_axes=(0,))", "a kernel needs at least 2 dims"),
    ("kernel(shape=(512,8,64),out_axes=(1,2))", "missing in_axes="),
    ("kernel((512,8,64),in_axes=(0,),out_axes=(1,2))", "keyword arguments only"),
    ("kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,2),k=3)", "kernel has no option 'k'"),
    ("vector(1,2)", "vector takes 1 integer arguments"),
    ("vector(-3)", "size must be an integer >= 0"),
    ("scalar(3)", "scalar takes no arguments"),
])
def test_bad_shapes_one_line(text, words):
    with pytest.raises(BadInput) as exc:
        parse_layer(text)
    assert words in str(exc.value) and "\n" not in str(exc.value)


@st.composite
def kernels(draw):
    """A kernel of 2-4 axes (sizes 1-4) with every axis assigned to in / out / batch / receptive field."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(2, 5))
    sizes = tuple(int(s) for s in rng.integers(1, 5, nd))
    roles = rng.permutation(["in", "out"] + list(rng.choice(["in", "out", "batch", "rf"], nd - 2)))
    pick = lambda r: tuple(int(a) for a in np.flatnonzero(roles == r))  # noqa: E731
    return Kernel(sizes, pick("in"), pick("out"), pick("batch"))


@given(k=kernels())
def test_kernel_connectivity(k):
    """Every output unit is fed by fan_in weights (n_values = units x fan_in), and the text round-trips."""
    fan_in, fan_out = k.textbook_fans()
    assert k.n_values == k.out_features * fan_in == k.in_features * fan_out
    assert k.unit_rows(np.zeros(k.sizes)).shape == (k.out_features, fan_in)
    assert parse_layer(str(k)) == k and math.prod(k.shape("jax")) == k.n_values
