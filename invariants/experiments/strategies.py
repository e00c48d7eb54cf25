"""Hypothesis strategies that draw the configurations of the training properties."""
from __future__ import annotations

from hypothesis import strategies as st

from invariants.reference import ACTIVATIONS, OPTIMIZERS
from invariants.reference.norms import NORMS

#: Any 32-bit seed for ``numpy.random.default_rng``.
SEEDS = st.integers(0, 2**32 - 1)

#: Activations with φ' > 0 everywhere except on a null set (relu is excluded: a dead unit's δ is 0).
SMOOTH_ACTIVATIONS = ("identity", "sigmoid", "tanh", "leaky_relu", "selu", "gelu", "sin")


@st.composite
def training_configs(draw, hidden_dropout: float = 0.0):
    """A small network, constant init (0 included), data and optimizer hyper-parameters.  The property
    runs every optimizer on each drawn configuration, optimizer k with activation
    ``sorted(ACTIVATIONS)[(act_offset + k) % 8]``, so that each example covers 7 of the 8 activations.
    Input-side randomness is drawn too: input dropout, a data augmentation (:func:`augmented`) and
    minibatches; and a normalization layer (batch or layer norm) on every hidden layer."""
    depth = draw(st.integers(1, 3))
    loss = draw(st.sampled_from(("mse", "softmax_xent")))
    n_out = draw(st.integers(2 if loss == "softmax_xent" else 1, 3))
    sizes = (draw(st.integers(1, 4)), *[draw(st.integers(2, 8)) for _ in range(depth)], n_out)
    return dict(
        sizes=sizes,
        act_offset=draw(st.integers(0, len(ACTIVATIONS) - 1)),
        loss=loss,
        dtype=draw(st.sampled_from(("float32", "float64"))),
        input_dropout=draw(st.sampled_from((0.0, 0.25))),
        hidden_dropout=hidden_dropout,
        norm=draw(st.sampled_from((None, *NORMS))),
        augment=draw(st.sampled_from((None, "noise", "flip", "scale"))),
        weight=draw(st.sampled_from((0.0, 0.5, -0.3, 1.0, 0.01))),
        bias=draw(st.sampled_from((0.0, 0.1, -0.7))),
        weight_decay=draw(st.sampled_from((0.0, 1e-3, 0.1))),
        clip_norm=draw(st.sampled_from((None, 0.1, 10.0))),
        n=(n := draw(st.integers(1, 12))),
        batch_size=draw(st.one_of(st.none(), st.integers(1, n))),
        steps=draw(st.integers(1, 20)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@st.composite
def structure_configs(draw, weights=(0.0, 0.5, -0.3, 1.0)):
    """A constant-init network with at least two hidden layers, biases constant per layer (drawn per
    layer), inputs and outputs of width ≥ 2 (so that "within a row" and "across output units" mean
    something), and one optimizer."""
    depth = draw(st.integers(3, 4))
    loss = draw(st.sampled_from(("mse", "softmax_xent")))
    return dict(
        sizes=(draw(st.integers(2, 4)), *[draw(st.integers(2, 6)) for _ in range(depth - 1)], draw(st.integers(2, 3))),
        loss=loss, weight=draw(st.sampled_from(weights)),
        biases=[draw(st.sampled_from((0.0, 0.1, -0.4))) for _ in range(depth)],
        activation=draw(st.sampled_from(sorted(ACTIVATIONS))), optimizer=draw(st.sampled_from(OPTIMIZERS)),
        dtype=draw(st.sampled_from(("float32", "float64"))), steps=draw(st.integers(1, 10)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
