"""Public Hypothesis strategies for initialization properties.

Like ``hypothesis.extra.numpy``, these strategies generate *specifications* — layer descriptions,
shapes with chosen fan ratios, initializer specs, reference-network architectures, optimizers,
datasets and seeds — never sampled weights.  Turn a drawn seed into randomness with
``np.random.default_rng(seed)``: Hypothesis reseeds numpy's *global* RNG to 0 in every example, so code
that relies on global state sees the same numbers every time.

Example::

    from hypothesis import given
    from invariants import strategies as ist

    @given(layer=ist.layers(kinds=("conv",)), seed=ist.seeds())
    def test_my_conv_init(layer, seed):
        fan_in, fan_out = layer.textbook_fans()
        ...

Every strategy is composable (``.map``, ``st.tuples``, ``st.one_of``) and shrinks towards small,
simple values.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from hypothesis import strategies as st

from invariants.audit import specs as _specs
from invariants.audit.layers import Layer
from invariants.reference.activations import ACTIVATIONS
from invariants.reference.losses import LOSSES
from invariants.reference.network import Architecture
from invariants.reference.optimizers import OPTIMIZERS, Optimizer

__all__ = [
    "seeds", "fans", "shapes", "layers", "dense_layers", "conv_layers", "transposed_conv_layers",
    "depthwise_layers", "packed_layers", "embedding_layers", "named_specs", "variance_scaling_specs",
    "specs", "activations", "architectures", "optimizers", "datasets",
]

LAYER_KINDS = ("dense", "conv", "conv_transpose", "depthwise", "embedding", "packed")


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``np.random.default_rng`` (or ``torch.Generator().manual_seed``): 0 … 2³²−1."""
    return st.integers(0, 2**32 - 1)


def fans(max_fan: int = 1024, ratio: str = "any") -> st.SearchStrategy[tuple[int, int]]:
    """(fan_in, fan_out) pairs with a chosen relation.

    ``ratio``: ``"any"``; ``"square"`` (fan_in = fan_out — cannot tell fan modes apart);
    ``"distinct"`` (fan_in ≠ fan_out); ``"tall"`` (fan_out ≥ 4·fan_in); ``"wide"`` (fan_in ≥ 4·fan_out).
    """
    if ratio not in ("any", "square", "distinct", "tall", "wide"):
        raise ValueError(f"unknown ratio {ratio!r}; expected any, square, distinct, tall or wide")
    n = st.integers(1, max_fan)
    if ratio == "square":
        return n.map(lambda k: (k, k))
    if ratio == "tall":
        return st.integers(1, max(1, max_fan // 4)).flatmap(lambda a: st.tuples(st.just(a), st.integers(4 * a, max(4 * a, max_fan))))
    if ratio == "wide":
        return st.integers(1, max(1, max_fan // 4)).flatmap(lambda b: st.tuples(st.integers(4 * b, max(4 * b, max_fan)), st.just(b)))
    pairs = st.tuples(n, n)
    return pairs.filter(lambda p: p[0] != p[1]) if ratio == "distinct" else pairs


def shapes(kind: str = "any", max_fan: int = 512, max_rf: int = 27) -> st.SearchStrategy[tuple[int, ...]]:
    """Weight shapes (PyTorch layout, ``(out, in, *kernel)``) of several families.

    ``kind``: ``"any"``, ``"square"``, ``"row"`` (1×n), ``"tall"``, ``"wide"``, ``"conv"`` (receptive
    field > 1, up to ``max_rf``), ``"large"`` (a fan ≥ 4096).  Always ≥ 2 dims: fans are undefined
    for 0- and 1-D tensors.
    """
    dense = {
        "square": fans(max_fan, "square"),
        "row": st.integers(1, max_fan).map(lambda n: (n, 1)),  # (fan_in, fan_out) → shape (1, n)
        "tall": fans(max_fan, "tall"),
        "wide": fans(max_fan, "wide"),
        "large": st.tuples(st.integers(4096, 16384), st.integers(1, 4)),
    }
    if kind in dense:
        return dense[kind].map(lambda p: (p[1], p[0]))
    k = st.lists(st.integers(1, 5), min_size=1, max_size=3).filter(lambda ks: 1 < int(np.prod(ks)) <= max_rf)
    conv = st.tuples(st.integers(1, 64), st.integers(1, 64), k).map(lambda t: (t[1], t[0], *t[2]))
    if kind == "conv":
        return conv
    if kind == "any":
        return st.one_of(fans(max_fan).map(lambda p: (p[1], p[0])), conv)
    raise ValueError(f"unknown shape kind {kind!r}")


def _kernel(nd: int) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(1, 5), min_size=nd, max_size=nd).map(tuple)


def dense_layers(max_features: int = 512) -> st.SearchStrategy[Layer]:
    """``dense(in, out)`` layers."""
    f = st.integers(1, max_features)
    return st.builds(lambda i, o: Layer("dense", i, o), f, f)


def conv_layers(max_channels: int = 64, grouped: bool | None = None) -> st.SearchStrategy[Layer]:
    """``conv{1,2,3}d`` layers; ``grouped=True`` forces groups > 1, ``False`` forces groups = 1."""

    @st.composite
    def build(draw):
        nd = draw(st.integers(1, 3))
        groups = 1 if grouped is False else draw(st.integers(2 if grouped else 1, 8))
        cin = groups * draw(st.integers(1, max(1, max_channels // groups)))
        cout = groups * draw(st.integers(1, max(1, max_channels // groups)))
        return Layer("conv", cin, cout, kernel=draw(_kernel(nd)), groups=groups)

    return build()


def transposed_conv_layers(max_channels: int = 64) -> st.SearchStrategy[Layer]:
    """``conv_transpose{1,2,3}d`` layers (groups = 1, expressible in every layout)."""
    c = st.integers(1, max_channels)
    return st.integers(1, 3).flatmap(lambda nd: st.builds(
        lambda i, o, k: Layer("conv_transpose", i, o, kernel=k), c, c, _kernel(nd)))


def depthwise_layers(max_channels: int = 64) -> st.SearchStrategy[Layer]:
    """Depthwise convs: groups = C_in, C_out = m·C_in."""
    return st.tuples(st.integers(1, 3), st.integers(1, max_channels), st.integers(1, 4)).flatmap(
        lambda t: _kernel(t[0]).map(lambda k: Layer("depthwise", t[1], t[1] * t[2], kernel=k, groups=t[1])))


def embedding_layers(max_vocab: int = 4096, max_dim: int = 256) -> st.SearchStrategy[Layer]:
    """``embedding(V, D)`` tables."""
    return st.builds(lambda v, d: Layer("embedding", v, d), st.integers(1, max_vocab), st.integers(1, max_dim))


def packed_layers(max_features: int = 256) -> st.SearchStrategy[Layer]:
    """Packed projections: ``qkv(E)`` and RNN gate matrices ``lstm/gru/rnn(in, H)``."""
    from invariants.audit.layers import parse_layer

    f = st.integers(1, max_features)
    qkv = f.map(lambda e: parse_layer(f"qkv({e})"))
    gates = st.tuples(st.sampled_from(["lstm", "gru", "rnn"]), f, f).map(
        lambda t: parse_layer(f"{t[0]}({t[1]},{t[2]})"))
    return st.one_of(qkv, gates)


def layers(kinds: Sequence[str] = LAYER_KINDS) -> st.SearchStrategy[Layer]:
    """Layer descriptions of the given kinds (see :data:`LAYER_KINDS`); each knows its textbook fans
    (``layer.textbook_fans()``) and its weight shape per framework layout (``layer.shape("jax")``)."""
    table = {
        "dense": dense_layers(), "conv": conv_layers(), "conv_transpose": transposed_conv_layers(),
        "depthwise": depthwise_layers(), "embedding": embedding_layers(), "packed": packed_layers(),
    }
    unknown = set(kinds) - set(table)
    if unknown or not kinds:
        raise ValueError(f"unknown layer kinds {sorted(unknown)}; expected some of {LAYER_KINDS}")
    return st.one_of([table[k] for k in kinds])


def named_specs() -> st.SearchStrategy:
    """The named variance-scaling schemes (Glorot, He, LeCun × normal/uniform, PyTorch's normals)."""
    return st.sampled_from(sorted(_specs.NAMED_SPECS.values(), key=lambda s: s.name or ""))


def variance_scaling_specs() -> st.SearchStrategy:
    """Arbitrary ``VarianceScaling(scale, mode, distribution)`` specs."""
    return st.builds(
        _specs.VarianceScaling,
        scale=st.floats(0.01, 10.0, allow_nan=False),
        mode=st.sampled_from(["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]),
        distribution=st.sampled_from(["normal", "uniform", "truncated_normal"]),
    )


def specs() -> st.SearchStrategy:
    """Any initializer spec: named schemes, variance scaling, plain normal/uniform, orthogonal."""
    pos = st.floats(1e-3, 2.0, allow_nan=False)
    return st.one_of(
        named_specs(),
        variance_scaling_specs(),
        st.builds(_specs.Normal, st.just(0.0), pos),
        pos.map(lambda b: _specs.Uniform(-b, b)),
        st.builds(_specs.Orthogonal, pos),
    )


def activations(kinds: Sequence[str] | None = None) -> st.SearchStrategy[str]:
    """Activation names of the reference network."""
    return st.sampled_from(sorted(kinds or ACTIVATIONS))


@st.composite
def architectures(draw, max_depth: int = 3, max_width: int = 8, dtypes: Sequence[str] = ("float32", "float64"),
                  losses: Sequence[str] = LOSSES, bias: bool | None = None) -> Architecture:
    """Reference-network architectures: 1…``max_depth`` hidden layers of width 1…``max_width``."""
    hidden = draw(st.lists(st.integers(1, max_width), min_size=1, max_size=max_depth))
    loss = draw(st.sampled_from(list(losses)))
    n_out = draw(st.integers(2 if loss == "softmax_xent" else 1, 4))
    return Architecture(
        (draw(st.integers(1, 6)), *hidden, n_out),
        activation=draw(activations()),
        loss=loss,
        bias=draw(st.booleans()) if bias is None else bias,
        dtype=draw(st.sampled_from(list(dtypes))),
    )


def optimizers(names: Sequence[str] = OPTIMIZERS) -> st.SearchStrategy[Optimizer]:
    """Fresh optimizers with small learning rates, optional L2 weight decay and global-norm clipping."""
    return st.builds(
        Optimizer,
        name=st.sampled_from(list(names)),
        lr=st.sampled_from([1e-3, 1e-2, 0.1]),
        weight_decay=st.sampled_from([0.0, 1e-3, 1e-2]),
        clip_norm=st.sampled_from([None, 0.5, 5.0]),
    )


@st.composite
def datasets(draw, arch: Architecture, max_batch: int = 16):
    """(x, t) for ``arch``: x ~ N(0, 1) of shape (B, n_in); MSE targets N(0, 1), or integer labels.
    Drawn from a seed with ``np.random.default_rng``, never from the global RNG."""
    rng = np.random.default_rng(draw(seeds()))
    batch = draw(st.integers(1, max_batch))
    x = rng.normal(size=(batch, arch.sizes[0])).astype(arch.dtype)
    if arch.loss == "mse":
        return x, rng.normal(size=(batch, arch.sizes[-1])).astype(arch.dtype)
    return x, rng.integers(0, arch.sizes[-1], size=batch)
