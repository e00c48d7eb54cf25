"""Flax ``DenseGeneral`` kernels (issue 17) read as the dense maps they are, with the fans Flax's initializer uses.

Textbook: ``flax/linen/linear.py`` ``DenseGeneral.__call__`` builds the kernel ``batch_shape + in_shape + features``
and ``kernel_init_wrap`` initializes it as the flat ``(prod(batch)·prod(in), prod(features))`` matrix, the default
``kernel_init`` being ``lecun_normal`` (variance ``1/fan_in``); ``flax/linen/attention.py``
``MultiHeadDotProductAttention.__call__`` makes its query/key/value ``DenseGeneral(axis=-1, features=(num_heads,
head_dim))`` (kernel ``(E, heads, head_dim)``: fans ``(E, heads·head_dim)``) and its output ``DenseGeneral(features=E,
axis=(-2, -1))`` (kernel ``(heads, head_dim, E)``: fans ``(heads·head_dim, E)``).

Known-good: a two-block Flax transformer is HEALTHY with no "matches none" note (before: 3 per block, the rank-3
kernels read as conv1d with fans ``(256, 1024)``).  Known-bad: one query kernel at 10x std is an error.
"""
from __future__ import annotations

import pytest

from invariants.layers import Kernel
from invariants.modelcheck import check_model

jax, nn = pytest.importorskip("jax"), pytest.importorskip("flax.linen")
from invariants.frameworks.flax.model import dense_general_kernel  # noqa: E402  (imports flax)


class Block(nn.Module):
    """A pre-norm transformer block: self-attention, then a GELU MLP, each on a residual."""

    @nn.compact
    def __call__(self, x):
        h = nn.LayerNorm()(x)
        x = x + nn.MultiHeadDotProductAttention(num_heads=4, qkv_features=64)(h, h)
        return x + nn.Dense(64)(nn.gelu(nn.Dense(256)(nn.LayerNorm()(x))))


class Transformer(nn.Module):
    @nn.compact
    def __call__(self, ids):
        x = nn.Embed(128, 64)(ids)
        for _ in range(2):
            x = Block()(x)
        return nn.Dense(128)(nn.LayerNorm()(x))


def _model():
    module = Transformer()
    ids = jax.random.randint(jax.random.key(1), (16, 16), 0, 128)
    return module, module.init(jax.random.key(0), ids), ids


def test_dense_general_kernels_are_dense_maps():
    q, q_node = dense_general_kernel(nn.DenseGeneral(features=(4, 16), axis=-1), (64, 4, 16))
    assert q == Kernel((64, 4, 16), (0,), (1, 2)) and q.textbook_fans() == (64, 64) and q_node
    out, out_node = dense_general_kernel(nn.DenseGeneral(features=64, axis=(-2, -1)), (4, 16, 64))
    assert out == Kernel((4, 16, 64), (0, 1), (2,)) and out.textbook_fans() == (64, 64) and out_node
    batched, node = dense_general_kernel(nn.DenseGeneral(features=100, batch_dims=(0,)), (8, 300, 100))
    # Flax initializes the flat (8·300, 100) matrix: its fans, not one batch entry's (300, 100); units not trailing
    assert batched.in_axes == (0, 1) and batched.textbook_fans() == (2400, 100) and not node
    assert dense_general_kernel(nn.DenseGeneral(features=(4, 16)), (64, 4, 8)) is None  # shape against features


def test_flax_transformer_is_healthy_with_its_attention_kernels_matched():
    rep = check_model(_model())
    assert rep.ok and not rep.findings
    rows = [r for r in rep.tensors if "MultiHeadDotProductAttention" in r.name]
    assert len(rows) == 8 and all(r.fans == (64, 64) and any("lecun_normal" in m for m in r.matches) for r in rows)
    assert not rep.coverage.partial  # every kernel is a node: unit checks and the signal profile read it


def test_one_query_kernel_at_ten_times_the_std_is_an_error():
    module, variables, ids = _model()
    params = jax.tree_util.tree_map(lambda a: a, variables["params"])
    q = params["Block_1"]["MultiHeadDotProductAttention_0"]["query"]
    params["Block_1"]["MultiHeadDotProductAttention_0"]["query"] = {**q, "kernel": q["kernel"] * 10}
    rep = check_model((module, {"params": params}, ids))
    errors = [f for f in rep.findings if f.severity == "error"]
    assert errors and errors[0].params[0] == "params/Block_1/MultiHeadDotProductAttention_0/query/kernel"
