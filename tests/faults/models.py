"""Small models for the catalogue's ``check-model`` cases: each factory builds the buggy or the fixed model
(seeded, built the way the reported code builds it), returned as ``(model, example_input)``."""
from __future__ import annotations

from tests.faults.impls import HF_RANGE


def _torch():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return torch, nn


def selu_mlp(buggy: bool):
    """A self-normalizing MLP (Klambauer et al. 2017): LeCun normal weights, zero biases.  Buggy: the
    ``calculate_gain('selu') = 3/4`` init of pytorch PR #50664 (``kaiming_normal_(nonlinearity='selu')``)."""
    torch, nn = _torch()
    model = nn.Sequential(nn.Linear(64, 128), nn.SELU(), nn.Linear(128, 128), nn.SELU(), nn.Linear(128, 128),
                          nn.SELU(), nn.Linear(128, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="selu" if buggy else "linear")
            nn.init.zeros_(m.bias)
    x = torch.randn(32, 64, generator=torch.Generator().manual_seed(1))
    return model, (x,)


def mha_block(buggy: bool):
    """A self-attention block around ``nn.MultiheadAttention(64, 4)``.  Buggy: torch's own
    ``_reset_parameters`` (xavier_uniform_ over the packed (3E, E) in_proj_weight, pytorch#166378); fixed:
    xavier_uniform_ per q/k/v block."""
    torch, nn = _torch()

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = nn.LayerNorm(64)
            self.attn = nn.MultiheadAttention(64, 4, batch_first=True)
            self.head = nn.Linear(64, 10)

        def forward(self, x):
            h = self.norm(x)
            return self.head(x + self.attn(h, h, h, need_weights=False)[0])

    model = Block()
    if not buggy:
        w = model.attn.in_proj_weight
        with torch.no_grad():
            for i in range(3):
                nn.init.xavier_uniform_(w[i * 64:(i + 1) * 64])
    x = torch.randn(8, 16, 64, generator=torch.Generator().manual_seed(1))
    return model, (x,)


def hf_style_mlp(buggy: bool):
    """A pre-LayerNorm residual MLP stack initialised the HuggingFace way (``_init_weights``: Linear
    normal(0, initializer_range), biases zero, LayerNorm 1/0) with ``initializer_range = 0.05``.  Buggy: a
    hard-coded std 0.02 that ignores the config (transformers PR #48152)."""
    torch, nn = _torch()
    std = 0.02 if buggy else HF_RANGE

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm(64)
            self.fc1 = nn.Linear(64, 128)
            self.fc2 = nn.Linear(128, 64)

        def forward(self, x):
            return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln(x))))

    model = nn.Sequential(nn.Linear(32, 64), Layer(), Layer(), nn.LayerNorm(64), nn.Linear(64, 10))
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
            nn.init.zeros_(m.bias)
    x = torch.randn(32, 32, generator=torch.Generator().manual_seed(1))
    return model, (x,)


def zero_input_linear(buggy: bool):
    """A bandit policy head: ``nn.Linear(0, 5)`` (legal since pytorch#48152: only its bias is used) after a
    small MLP over another input.  The model is the same in both cases; ``buggy`` zeroes the MLP's hidden
    weight (a dead layer), so that the case has a fault to catch and the clean model shows whether the
    zero-size layer is accepted."""
    torch, nn = _torch()

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(16, 64)
            self.fc2 = nn.Linear(64, 5)
            self.logits = nn.Linear(0, 5)

        def forward(self, x):
            empty = x.new_zeros(x.shape[0], 0)
            return self.fc2(torch.relu(self.fc1(x))) + self.logits(empty)

    model = Policy()
    if buggy:
        with torch.no_grad():
            model.fc1.weight.zero_()
    x = torch.randn(32, 16, generator=torch.Generator().manual_seed(1))
    return model, (x,)


def keras_shared_seed(buggy: bool):
    """Two hidden Dense layers given seeded initializers.  Keras 3 documents that a seeded initializer returns
    the same values on every call, so the same seed (or one instance reused, the lc0 fault:
    LeelaChessZero/lc0#1883) gives the two layers bit-identical kernels."""
    from tests.zoo._compat import ensure_keras_backend

    ensure_keras_backend()
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    s1, s2 = (1, 1) if buggy else (1, 2)
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed=s1)),
        keras.layers.Dense(64, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed=s2)),
        keras.layers.Dense(10),
    ])
    x = np.random.default_rng(1).standard_normal((32, 64)).astype("float32")
    return model, x  # one array: a Keras Sequential takes its input unwrapped


__all__ = ["hf_style_mlp", "keras_shared_seed", "mha_block", "selu_mlp", "zero_input_linear"]
