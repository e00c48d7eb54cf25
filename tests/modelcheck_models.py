"""Small models with one init fault each (and correct ones), for the model-check tests and CLI targets.

Every factory takes no argument (so ``invariants check-model modelcheck_models:NAME`` works) and imports
its framework inside, so this module imports without torch, Keras or Flax.  The fault kinds are those of
issue 6's "Why": bit-identical tensors from a reused seeded initializer, a zeroed embedding table, a
layer left at zero between two others, identity (Dirac) init leaving most channels of a grouped conv
dead, orthogonal init over a packed gate matrix, a custom init whose std is right only at std = 1.
"""
from __future__ import annotations

import math

import numpy as np

# ------------------------------------------------------------------------------------------ torch


def _torch_he(m):
    from torch import nn

    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
    return m


def _torch_mlp(widths=(16, 64, 64, 64, 4), act=None):
    import torch
    from torch import nn

    act = act or nn.ReLU
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def torch_healthy():
    """He-initialized ReLU MLP: healthy."""
    return _torch_he(_torch_mlp())


def torch_healthy_cnn():
    """Conv net with BatchNorm, residual blocks with zero-gamma (notes only)."""
    import torch
    from torch import nn

    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.b1 = nn.BatchNorm2d(c)
            self.c2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.b2 = nn.BatchNorm2d(c)
            nn.init.zeros_(self.b2.weight)

        def forward(self, x):
            return torch.relu(x + self.b2(self.c2(torch.relu(self.b1(self.c1(x))))))

    m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), Block(8), Block(8), nn.AdaptiveAvgPool2d(1),
                      nn.Flatten(), nn.Linear(8, 4))
    return _torch_he(m)


def torch_reused_seed():
    """Two hidden layers initialized from one seeded generator: bit-identical weights."""
    import torch
    from torch import nn

    m = torch_healthy()
    for layer in (m[2], m[4]):
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=torch.Generator().manual_seed(1234))
    return m


def torch_zero_embedding():
    """A bag-of-words model whose embedding table a helper zeroed."""
    import torch
    from torch import nn

    torch.manual_seed(0)

    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(100, 32)
            self.fc = nn.Linear(32, 32)
            self.out = nn.Linear(32, 4)

        def forward(self, ids):
            return self.out(torch.relu(self.fc(self.emb(ids).mean(1))))

    m = Bag()
    nn.init.zeros_(m.emb.weight)
    return m


def torch_zero_middle():
    """He MLP with the middle layer left at zero (ReLU after it: dead for ever)."""
    from torch import nn

    m = _torch_he(_torch_mlp((16, 32, 32, 4)))
    nn.init.zeros_(m[2].weight)
    return m


def torch_zero_middle_tanh():
    """The same with tanh: tanh'(0) = 1, so the zero layer's units get gradients at once."""
    from torch import nn

    m = _torch_mlp((16, 32, 32, 4), act=nn.Tanh)
    nn.init.zeros_(m[2].weight)
    nn.init.zeros_(m[2].bias)
    return m


def torch_dirac_grouped():
    """dirac_ (identity) on a grouped conv without groups=: 12 of 16 output channels all zero."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
                      nn.Conv2d(16, 16, 3, padding=1, groups=4, bias=False), nn.ReLU(),
                      nn.Flatten(), nn.Linear(16 * 8 * 8, 4))
    _torch_he(m)
    nn.init.dirac_(m[2].weight)
    return m, torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def torch_packed_orthogonal():
    """orthogonal_ on the packed (4H, H) LSTM recurrent matrix: no gate block is orthogonal."""
    import torch
    from torch import nn

    torch.manual_seed(0)

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    m = Seq()
    nn.init.orthogonal_(m.lstm.weight_hh_l0)
    return m


def torch_gate_orthogonal():
    """Each LSTM gate block orthogonal: fine."""
    import torch
    from torch import nn

    m = torch_packed_orthogonal()
    h = m.lstm.hidden_size
    with torch.no_grad():
        for i in range(4):
            nn.init.orthogonal_(m.lstm.weight_hh_l0[i * h:(i + 1) * h])
    return m


def torch_squared_std():
    """A custom He init that squares the std: right only where std = 1."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 32), nn.ReLU(),
                      nn.Linear(32, 4))
    for layer in m:
        if isinstance(layer, nn.Linear):
            std = math.sqrt(2.0 / layer.in_features)
            with torch.no_grad():
                layer.weight.normal_(0.0, std**2)  # the bug
            nn.init.zeros_(layer.bias)
    return m


def torch_constant():
    """Every weight the constant 0.1: all hidden units interchangeable for ever."""
    from torch import nn

    m = _torch_mlp((8, 16, 16, 1), act=nn.Tanh)
    for layer in m:
        if isinstance(layer, nn.Linear):
            nn.init.constant_(layer.weight, 0.1)
            nn.init.zeros_(layer.bias)
    return m


def torch_zero_head():
    """He MLP with a zero output layer: a note."""
    from torch import nn

    m = torch_healthy()
    nn.init.zeros_(m[6].weight)
    return m


def torch_zero_residual():
    """Residual MLP whose branches end in zero layers (SkipInit-style): notes."""
    import torch
    from torch import nn

    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.fc1 = nn.Linear(d, d)
            self.fc2 = nn.Linear(d, d)

        def forward(self, x):
            return x + self.fc2(torch.relu(self.fc1(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(16, 32)
            self.blocks = nn.Sequential(Block(32), Block(32))
            self.out = nn.Linear(32, 4)

        def forward(self, x):
            return self.out(self.blocks(self.inp(x)))

    m = _torch_he(Net())
    for b in m.blocks:
        nn.init.zeros_(b.fc2.weight)
    return m


def torch_exploding():
    """std = 1 weights in a 6-layer ReLU MLP of width 64: the forward signal grows ~32x per layer."""
    from torch import nn

    m = _torch_mlp((16, 64, 64, 64, 64, 64, 4))
    for layer in m:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 1.0)
            nn.init.zeros_(layer.bias)
    return m


def torch_raises():
    raise RuntimeError("factory failed on purpose")


def not_a_model():
    return {"weights": [1, 2, 3]}


# ------------------------------------------------------------------------------------------ reference


def reference_healthy():
    from invariants.propagation import sample_params
    from invariants.reference import Architecture

    arch = Architecture((8, 32, 32, 32, 2), activation="relu")
    return arch, sample_params(arch, "he", np.random.default_rng(0))


def reference_zero_middle():
    arch, params = reference_healthy()
    params["W2"][...] = 0.0
    return arch, params


# ------------------------------------------------------------------------------------------ keras


def _keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    keras.utils.set_random_seed(0)
    return keras


def keras_healthy():
    keras = _keras()
    L = keras.layers
    return keras.Sequential([keras.Input((16,)), L.Dense(32, activation="relu", kernel_initializer="he_normal"),
                             L.Dense(32, activation="relu", kernel_initializer="he_normal"), L.Dense(4)])


def keras_glorot3(scale: float = 1.0):
    """Keras defaults, 3 Dense layers named ``dense``, ``dense_1``, ``dense_2`` (Keras's own counter), the
    square middle one (Glorot = LeCun there) optionally scaled: the new-user trial's 10x std layer."""
    keras = _keras()
    keras.utils.set_random_seed(0)
    L = keras.layers
    # the names a fresh session's counter gives (spelled out: the counter is global to the process)
    m = keras.Sequential([keras.Input((32,)), L.Dense(128, activation="relu", name="dense"),
                          L.Dense(128, activation="relu", name="dense_1"), L.Dense(10, name="dense_2")], name="seq")
    w, b = m.layers[1].get_weights()
    m.layers[1].set_weights([w * scale, b])
    return m


def keras_glorot3_10x():
    return keras_glorot3(10.0)


def keras_reused_seed():
    """keras.initializers.GlorotUniform(seed=7) given to two layers: one tensor, twice."""
    keras = _keras()
    L = keras.layers
    init = keras.initializers.GlorotUniform(seed=7)
    return keras.Sequential([keras.Input((16,)), L.Dense(32, activation="relu"),
                             L.Dense(32, activation="relu", kernel_initializer=init),
                             L.Dense(32, activation="relu", kernel_initializer=init), L.Dense(4)])


def keras_zero_embedding():
    keras = _keras()
    L = keras.layers
    return keras.Sequential([keras.Input((6,), dtype="int32"), L.Embedding(50, 8, embeddings_initializer="zeros"),
                             L.GlobalAveragePooling1D(), L.Dense(16, activation="relu"), L.Dense(4)])


def keras_zero_middle():
    keras = _keras()
    L = keras.layers
    return keras.Sequential([keras.Input((16,)), L.Dense(32, activation="relu"),
                             L.Dense(32, activation="relu", kernel_initializer="zeros"), L.Dense(4)])


def keras_lstm():
    """Keras' default LSTM: orthogonal over the packed (H, 4H) recurrent kernel (a note)."""
    keras = _keras()
    L = keras.layers
    return keras.Sequential([keras.Input((5, 4)), L.LSTM(8), L.Dense(2)])


def keras_squared_std():
    keras = _keras()
    L = keras.layers

    class SquaredStd(keras.initializers.Initializer):
        def __call__(self, shape, dtype=None):
            std = math.sqrt(2.0 / shape[0])
            return keras.random.normal(shape, stddev=std**2, dtype=dtype, seed=int(shape[0] * 7 + shape[1]))

    return keras.Sequential([keras.Input((16,)), L.Dense(64, activation="relu", kernel_initializer=SquaredStd()),
                             L.Dense(256, activation="relu", kernel_initializer=SquaredStd()),
                             L.Dense(32, activation="relu", kernel_initializer=SquaredStd()), L.Dense(4)])


# ------------------------------------------------------------------------------------------ flax


def _flax_mlp(kernel_inits=None):
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    inits = kernel_inits or [nn.initializers.he_normal()] * 3

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Dense(32, kernel_init=inits[0])(x))
            x = nn.relu(nn.Dense(32, kernel_init=inits[1])(x))
            x = nn.relu(nn.Dense(32, kernel_init=inits[2])(x))
            return nn.Dense(4)(x)

    m = MLP()
    return m, m.init(jax.random.key(0), jnp.ones((1, 16)))


def flax_healthy():
    return _flax_mlp()


def flax_reused_key():
    """One jax.random key for two kernels: bit-identical."""
    import flax.linen as nn
    import jax

    def same_key(key, shape, dtype=None):
        return nn.initializers.he_normal()(jax.random.key(42), shape, dtype or "float32")

    return _flax_mlp([nn.initializers.he_normal(), same_key, same_key])


def flax_zero_middle():
    import flax.linen as nn

    return _flax_mlp([nn.initializers.he_normal(), nn.initializers.zeros, nn.initializers.he_normal()])


def flax_dirac_grouped():
    """Identity init on a grouped conv: most channels dead."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    def dirac(key, shape, dtype=jnp.float32):  # (kh, kw, C_in/G, C_out): identity on the first C_in/G channels
        w = np.zeros(shape, dtype=np.float32)
        for i in range(min(shape[2], shape[3])):
            w[shape[0] // 2, shape[1] // 2, i, i] = 1.0
        return jnp.asarray(w, dtype)

    class CNN(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Conv(16, (3, 3), kernel_init=nn.initializers.he_normal())(x))
            x = nn.relu(nn.Conv(16, (3, 3), feature_group_count=4, use_bias=False, kernel_init=dirac)(x))
            return nn.Dense(4)(x.mean((1, 2)))

    m = CNN()
    return m, m.init(jax.random.key(0), jnp.ones((1, 8, 8, 3)))
