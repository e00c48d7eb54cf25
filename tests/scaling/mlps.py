"""The MLP of :mod:`invariants.scaling.examples` (``Linear(16, n)``, two ``Linear(n, n)``, ``Linear(n, 64)``, ReLU
between them, no biases) in Flax linen and Keras 3, in SP, μP and with the planted fault, for the runner
conformance tests (tests/scaling/test_runners.py).  Each factory takes the hidden width; ``lr_multipliers`` are
μP's (Tensor Programs V, Table 3), keyed by the framework's parameter names."""
from __future__ import annotations

import math

import numpy as np

D_IN, D_OUT = 16, 64
#: the fixed input (seed 0): Flax needs one to initialize; Keras gets the same for comparability
X = np.random.default_rng(0).standard_normal((64, D_IN)).astype(np.float32)


def stds(width: int, kind: str) -> tuple[float, ...]:
    """Per-layer init standard deviations (input, hidden, hidden, output)."""
    s = 1 / math.sqrt(width)
    return {"sp": (1 / math.sqrt(D_IN), s, s, s), "mup": (1 / math.sqrt(D_IN), s, s, 1 / width),
            "planted": (1 / math.sqrt(D_IN), s, float(width), s)}[kind]


def mup_rates(width: int, optimizer: str) -> tuple[float, float, float, float]:
    inp, hid, out = (width, 1.0, 1.0 / width) if optimizer == "sgd" else (1.0, 1.0 / width, 1.0 / width)
    return inp, hid, hid, out


def flax_mlp(width: int, kind: str):
    return FlaxMLP(width, kind), X


def flax_module():
    """The Flax module class (defined once, so the runner reuses its compiled steps across seeds)."""
    import flax.linen as nn

    class MLP(nn.Module):
        width: int
        kind: str

        @nn.compact
        def __call__(self, x):
            sizes = (self.width, self.width, self.width, D_OUT)
            for i, (f, s) in enumerate(zip(sizes, stds(self.width, self.kind))):
                x = nn.Dense(f, use_bias=False, kernel_init=nn.initializers.normal(s), name=f"dense{i}")(x)
                x = nn.relu(x) if i < 3 else x
            return x

        def lr_multipliers(self, optimizer):
            if self.kind != "mup":
                return {}
            return {f"dense{i}/kernel": m for i, m in enumerate(mup_rates(self.width, optimizer))}

    return MLP


try:
    FlaxMLP = flax_module()
except ImportError:  # Flax not installed: its tests skip
    FlaxMLP = None


def flax_sp(width):
    return flax_mlp(width, "sp")


def flax_mup(width):
    return flax_mlp(width, "mup")


def flax_planted(width):
    return flax_mlp(width, "planted")


def keras_mlp(width: int, kind: str):
    from invariants.frameworks.keras import choose_backend

    choose_backend()
    import keras

    layers = [keras.Input((D_IN,))]
    for i, (f, s) in enumerate(zip((width, width, width, D_OUT), stds(width, kind))):
        layers.append(keras.layers.Dense(f, use_bias=False, kernel_initializer=keras.initializers.RandomNormal(0, s)))
        if i < 3:
            layers.append(keras.layers.ReLU())
    model = keras.Sequential(layers)
    # Keras parameter names: layer position in the model's layers (the InputLayer is not one) and variable name
    rates = {optimizer: ({} if kind != "mup" else
                         {f"{2 * i}.kernel": m for i, m in enumerate(mup_rates(width, optimizer))})
             for optimizer in ("sgd", "adam")}
    model.lr_multipliers = rates.get
    return model


def keras_sp(width):
    return keras_mlp(width, "sp")


def keras_mup(width):
    return keras_mlp(width, "mup")


def keras_planted(width):
    return keras_mlp(width, "planted")


def keras_depth(width: int, depth: int, gain2: float):
    """Keras twin of :func:`invariants.scaling.examples.mlp_depth`: ``Dense(width)`` + ReLU, ``depth`` hidden
    ``Dense(width)`` with a fused ReLU, ``Dense(64)``; weights ``N(0, gain2/fan_in)``, no biases."""
    from invariants.frameworks.keras import choose_backend

    choose_backend()
    import keras

    def dense(f, fan_in, activation=None):
        return keras.layers.Dense(f, use_bias=False, activation=activation,
                                  kernel_initializer=keras.initializers.RandomNormal(0, math.sqrt(gain2 / fan_in)))

    layers = [keras.Input((D_IN,)), dense(width, D_IN), keras.layers.ReLU()]
    layers += [dense(width, width, "relu") for _ in range(depth)]
    return keras.Sequential(layers + [dense(D_OUT, width)])


def keras_depth_lecun(width, depth):
    return keras_depth(width, depth, 1.0)
