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

Whole networks: :func:`reference_networks` draws correctly initialized reference networks
``(arch, params)``; :func:`faulty_reference_networks` draws ``(arch, params, kind)`` with one init fault
injected and the model-check finding it must cause, for properties such as::

    @given(net=ist.faulty_reference_networks())
    def test_faults_are_found(net):
        arch, params, kind = net
        assert kind in invariants.modelcheck.check_model((arch, params)).kinds()

Every strategy is composable (``.map``, ``st.tuples``, ``st.one_of``) and shrinks towards small,
simple values.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from hypothesis import strategies as st

from invariants import specs as _specs
from invariants.layers import GRU, LSTM, QKV, RNN, Bilinear, Conv, ConvTranspose, Dense, Depthwise, Embedding, Layer
from invariants.reference.activations import ACTIVATIONS
from invariants.reference.losses import LOSSES
from invariants.reference.network import Architecture
from invariants.reference.optimizers import OPTIMIZERS, Optimizer

__all__ = [
    "seeds", "fans", "shapes", "layers", "dense_layers", "conv_layers", "transposed_conv_layers",
    "depthwise_layers", "packed_layers", "embedding_layers", "bilinear_layers", "named_specs",
    "variance_scaling_specs", "specs", "activations", "architectures", "optimizers", "datasets",
    "reference_networks", "faulty_reference_networks", "FAULT_KINDS",
]

#: kinds :func:`layers` draws by default (every one has a weight shape in every layout)
LAYER_KINDS = ("dense", "conv", "conv_transpose", "depthwise", "embedding", "packed")
#: every kind :func:`layers` accepts (bilinear layers exist in the torch layout only)
ALL_LAYER_KINDS = LAYER_KINDS + ("bilinear",)


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``np.random.default_rng`` (or ``torch.Generator().manual_seed``): 0 … 2³²−1."""
    return st.integers(0, 2**32 - 1)


def fans(max_fan: int = 1024, ratio: str = "any") -> st.SearchStrategy[tuple[int, int]]:
    """(fan_in, fan_out) pairs with a chosen relation.

    ``ratio``: ``"any"``; ``"square"`` (fan_in = fan_out — cannot tell fan modes apart);
    ``"distinct"`` (fan_in ≠ fan_out); ``"tall"`` (fan_out ≥ 4·fan_in); ``"wide"`` (fan_in ≥ 4·fan_out);
    ``"large"`` (one fan in 4096…16384, the other 1…``max_fan``, either way round; ``max_fan`` does not
    cap the large fan).
    """
    if ratio not in ("any", "square", "distinct", "tall", "wide", "large"):
        raise ValueError(f"unknown ratio {ratio!r}; expected any, square, distinct, tall, wide or large")
    if ratio == "large":
        big, small = st.integers(4096, 16384), st.integers(1, max_fan)
        return st.one_of(st.tuples(big, small), st.tuples(small, big))
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
    return st.builds(Dense, f, f)


def conv_layers(max_channels: int = 64, grouped: bool | None = None) -> st.SearchStrategy[Layer]:
    """``conv{1,2,3}d`` layers; ``grouped=True`` forces groups > 1, ``False`` forces groups = 1."""

    @st.composite
    def build(draw):
        nd = draw(st.integers(1, 3))
        groups = 1 if grouped is False else draw(st.integers(2 if grouped else 1, 8))
        cin = groups * draw(st.integers(1, max(1, max_channels // groups)))
        cout = groups * draw(st.integers(1, max(1, max_channels // groups)))
        return Conv(cin, cout, kernel=draw(_kernel(nd)), groups=groups)

    return build()


def transposed_conv_layers(max_channels: int = 64, grouped: bool = False) -> st.SearchStrategy[Layer]:
    """``conv_transpose{1,2,3}d`` layers; groups = 1 (expressible in every layout) unless ``grouped``
    (groups 2…8: the torch layout only, ``(C_in, C_out/G, *k)``)."""
    if not grouped:
        c = st.integers(1, max_channels)
        return st.integers(1, 3).flatmap(lambda nd: st.builds(
            lambda i, o, k: ConvTranspose(i, o, kernel=k), c, c, _kernel(nd)))

    @st.composite
    def build(draw):
        nd, g = draw(st.integers(1, 3)), draw(st.integers(2, 8))
        cin = g * draw(st.integers(1, max(1, max_channels // g)))
        cout = g * draw(st.integers(1, max(1, max_channels // g)))
        return ConvTranspose(cin, cout, kernel=draw(_kernel(nd)), groups=g)

    return build()


def bilinear_layers(max_features: int = 64) -> st.SearchStrategy[Layer]:
    """``bilinear(in1, in2, out)`` layers (torch layout ``(out, in1, in2)``; fans ``(in1·in2, out)``)."""
    f = st.integers(1, max_features)
    return st.builds(Bilinear, f, f, f)


def depthwise_layers(max_channels: int = 64) -> st.SearchStrategy[Layer]:
    """Depthwise convs: groups = C_in, C_out = m·C_in."""
    return st.tuples(st.integers(1, 3), st.integers(1, max_channels), st.integers(1, 4)).flatmap(
        lambda t: _kernel(t[0]).map(lambda k: Depthwise(t[1], t[1] * t[2], kernel=k)))


def embedding_layers(max_vocab: int = 4096, max_dim: int = 256) -> st.SearchStrategy[Layer]:
    """``embedding(V, D)`` tables."""
    return st.builds(Embedding, st.integers(1, max_vocab), st.integers(1, max_dim))


def packed_layers(max_features: int = 256) -> st.SearchStrategy[Layer]:
    """Packed projections: ``qkv(E)`` and RNN gate matrices ``lstm/gru/rnn(in, H)``."""
    f = st.integers(1, max_features)
    gates = st.sampled_from([LSTM, GRU, RNN]).flatmap(lambda cls: st.builds(cls, f, f))
    return st.one_of(st.builds(QKV, f), gates)


def layers(kinds: Sequence[str] = LAYER_KINDS) -> st.SearchStrategy[Layer]:
    """Layer descriptions of the given kinds (see :data:`LAYER_KINDS`); each knows its textbook fans
    (``layer.textbook_fans()``) and its weight shape per framework layout (``layer.shape("jax")``)."""
    table = {
        "dense": dense_layers(), "conv": conv_layers(), "conv_transpose": transposed_conv_layers(),
        "depthwise": depthwise_layers(), "embedding": embedding_layers(), "packed": packed_layers(),
        "bilinear": bilinear_layers(),
    }
    unknown = set(kinds) - set(table)
    if unknown or not kinds:
        raise ValueError(f"unknown layer kinds {sorted(unknown)}; expected some of {ALL_LAYER_KINDS}")
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


# ---------------------------------------------------------------------------------- whole networks

#: activations of :func:`reference_networks`, each with the scheme that keeps its signal steady
HEALTHY_SCHEMES = {"relu": "he", "leaky_relu": "he", "tanh": "lecun", "identity": "lecun", "selu": "lecun",
                   "gelu": "he"}


@st.composite
def reference_networks(draw, max_depth: int = 4, max_width: int = 16, min_width: int = 4,
                       activations: Sequence[str] = tuple(HEALTHY_SCHEMES)):
    """Correctly initialized reference networks ``(arch, params)``: He weights for ReLU-like
    activations, LeCun for the others (:data:`HEALTHY_SCHEMES`, :func:`invariants.propagation.sample_params`),
    zero biases, float64; 2…``max_depth`` weight layers of width ``min_width``…``max_width``.
    ``invariants.modelcheck.check_model`` reports every one of them healthy."""
    from invariants.propagation import sample_params

    act = draw(st.sampled_from(list(activations)))
    hidden = draw(st.lists(st.integers(min_width, max_width), min_size=1, max_size=max_depth - 1))
    arch = Architecture((draw(st.integers(2, 8)), *hidden, draw(st.integers(1, 4))), activation=act, dtype="float64")
    params = sample_params(arch, HEALTHY_SCHEMES.get(act, "lecun"), np.random.default_rng(draw(seeds())))
    return arch, params


#: the faults :func:`faulty_reference_networks` injects, by the model-check finding each must produce
FAULT_KINDS = ("identical-tensors", "constant-tensor", "dead-units", "interchangeable-units", "signal-forward")


@st.composite
def faulty_reference_networks(draw, kinds: Sequence[str] = FAULT_KINDS):
    """``(arch, params, kind)``: a healthy :func:`reference_networks` draw with one fault injected, and
    the finding kind (:data:`FAULT_KINDS`) it must cause:

    - ``identical-tensors``: a hidden weight copied into another of the same shape;
    - ``constant-tensor``: a hidden (non-output) weight zeroed;
    - ``dead-units``: 1…n−1 rows of a hidden weight zeroed, with their biases;
    - ``interchangeable-units``: hidden unit ``k`` made a copy of unit ``j`` (incoming row, bias and
      outgoing column);
    - ``signal-forward``: every weight of a ReLU network of width >= 16 and 4 hidden layers multiplied
      by 10 (gain x100 per layer).
    """
    kind = draw(st.sampled_from(list(kinds)))
    rng = np.random.default_rng(draw(seeds()))
    if kind == "signal-forward":
        from invariants.propagation import sample_params

        w = draw(st.integers(16, 24))
        arch = Architecture((draw(st.integers(2, 8)), w, w, w, w, 2), activation="relu", dtype="float64")
        params = sample_params(arch, "he", rng)
        return arch, {k: v * 10.0 if k.startswith("W") else v for k, v in params.items()}, kind
    if kind == "identical-tensors":
        from invariants.propagation import sample_params

        act = draw(st.sampled_from(sorted(HEALTHY_SCHEMES)))
        w = draw(st.integers(4, 16))
        arch = Architecture((draw(st.integers(2, 8)), w, w, w, draw(st.integers(1, 4))), activation=act, dtype="float64")
        params = sample_params(arch, HEALTHY_SCHEMES[act], rng)
        params["W3"] = params["W2"].copy()  # the same (w, w) draw in two layers
        return arch, params, kind
    arch, params = draw(reference_networks(max_depth=4, min_width=4))
    params = {k: v.copy() for k, v in params.items()}
    layer = draw(st.integers(1, arch.depth - 1))
    W, b = params[f"W{layer}"], params[f"b{layer}"]
    n = W.shape[0]
    if kind == "constant-tensor":
        W[...] = 0.0
    elif kind == "dead-units":
        k = draw(st.integers(1, n - 1))
        rows = rng.choice(n, size=k, replace=False)
        W[rows] = 0.0
        b[rows] = 0.0
    else:  # interchangeable-units
        j, k = rng.choice(n, size=2, replace=False)
        W[k] = W[j]
        b[k] = b[j]
        nxt = params[f"W{layer + 1}"]
        nxt[:, k] = nxt[:, j]
    return arch, params, kind
