"""Width scaling of two small model families under their authors' initialization: the data of the docs page
``scaling.md`` (issue 18).

Families (factories ``f(width) -> (module, input)``, :mod:`invariants.scaling.target`):

- :func:`gpt2_family`: a GPT-2-style decoder (Radford et al. 2019; the block of OpenAI's ``gpt-2/src/model.py`` and
  Hugging Face ``GPT2Model``): token and position embeddings, ``N_LAYER`` pre-LN blocks (``LayerNorm`` → causal
  self-attention with one ``c_attn`` ``Linear(n, 3n)`` and ``c_proj``; ``LayerNorm`` → ``Linear(n, 4n)`` → GELU →
  ``Linear(4n, n)``), a final ``LayerNorm`` and an output head ``Linear(n, VOCAB)`` tied to the token embedding
  (``tied=True``) or its own, ``n_embd = width``.  ``init="gpt2"``: GPT-2's ``normal(0.02)`` for every weight and
  embedding, residual projections ``0.02/√(2·N_LAYER)`` (Hugging Face ``GPT2PreTrainedModel._init_weights``), zero
  biases: a width-independent std, so every hidden ``Linear`` multiplies its input's second moment by ``0.02²·n``
  (slope +1).  ``init="fan_in"``: the same model with ``N(0, 1/fan_in)`` weights (SP: an embedding's fan-in is 1)
  and an untied head (a head tied to an ``N(0, 1)`` embedding has ``Var·fan_in = n``: slope +1), the known-good
  counterpart.
- :func:`resnet_family`: a ResNet-style conv net (He et al. 2016, a CIFAR-size basic-block net): ``Conv2d(3, n,
  3)`` stem → BatchNorm → ReLU, ``N_BLOCKS`` basic blocks (conv-BN-ReLU-conv-BN, identity shortcut, ReLU),
  global average pooling, ``Linear(n, CLASSES)``; ``channels = width``, PyTorch's default initialization
  (``kaiming_uniform_(a=√5)``: ``Var = 1/(3·fan_in)``; BatchNorm weight 1, bias 0).

Each is checked by :func:`invariants.scaling.scale_check` at :data:`WIDTHS` with :data:`SEEDS` seeds, steps 0
and 1 under Adam, against the standard parametrization's expectation (``expect="sp"``: the parametrization
the authors use), by :mod:`invariants.scaling.study` (this module sits below the engines and runs none).
Regenerate (about 15 seconds on one core)::

    python -m invariants.scaling.study --json docs/data/scale_families.json
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

WIDTHS = (32, 64, 128, 256)
SEEDS = 16
STEPS = (0, 1)
OPTIMIZER = "adam"
EXPECT = "sp"
VOCAB, CONTEXT, BATCH, N_LAYER, N_HEAD_DIM = 64, 16, 4, 2, 16
CLASSES, N_BLOCKS, IMAGE = 10, 2, 8
GPT2_STD = 0.02
GPT2, FAN_IN = "gpt2", "fan_in"
#: the importable name of this module (``__name__`` is ``__main__`` when run with ``python -m``)
MODULE = "invariants.studies.scale_families"

#: the runs the study stores: ``(key, factory name, title)``
FAMILIES = (
    ("gpt2", "gpt2_family", "GPT-2-style decoder, GPT-2's normal(0.02) init"),
    ("gpt2_fan_in", "gpt2_fan_in_family", "GPT-2-style decoder, N(0, 1/fan_in) init (SP), untied head"),
    ("resnet", "resnet_family", "ResNet-style conv net, PyTorch default init"),
)


class Attention(nn.Module):
    """Causal self-attention with GPT-2's ``c_attn`` (q, k, v in one ``Linear``) and ``c_proj``; heads of
    :data:`N_HEAD_DIM` channels (so the head count grows with the width, as in GPT-2's sizes)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.heads = max(1, width // N_HEAD_DIM)
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, n = x.shape
        q, k, v = self.c_attn(x).split(n, dim=2)
        q, k, v = (z.view(b, t, self.heads, n // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(b, t, n))


class Block(nn.Module):
    """One pre-LN GPT-2 block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.gelu = nn.GELU(approximate="tanh")
        self.mlp_proj = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp_proj(self.gelu(self.c_fc(self.ln_2(x))))


class GPT2(nn.Module):
    """The GPT-2-style decoder of :func:`gpt2_family` (token ids ``(B, T)`` -> logits ``(B, T, VOCAB)``)."""

    def __init__(self, width: int, tied: bool = True) -> None:
        super().__init__()
        self.wte = nn.Embedding(VOCAB, width)
        self.wpe = nn.Embedding(CONTEXT, width)
        self.h = nn.ModuleList(Block(width) for _ in range(N_LAYER))
        self.ln_f = nn.LayerNorm(width)
        self.lm_head = nn.Linear(width, VOCAB, bias=False)
        if tied:
            self.lm_head.weight = self.wte.weight  # as in GPT-2

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def check_width(width: int) -> None:
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")


def gpt2(width: int, init: str = GPT2) -> tuple[nn.Module, torch.Tensor]:
    """The GPT-2-style model at ``n_embd = width`` (a multiple of :data:`N_HEAD_DIM`; head tied for ``init="gpt2"``,
    untied for ``"fan_in"``) and its token ids
    ``(BATCH, CONTEXT)`` (drawn first from torch's global RNG, so they depend on the seed, not the width).

    Raises:
        ValueError: a width that is not a positive multiple of :data:`N_HEAD_DIM`, or an unknown ``init``.
    """
    check_width(width)
    if width % N_HEAD_DIM:
        raise ValueError(f"width must be a multiple of {N_HEAD_DIM} (the head size), got {width}")
    if init not in (GPT2, FAN_IN):
        raise ValueError(f"init must be {GPT2!r} or {FAN_IN!r}, got {init!r}")
    ids = torch.randint(0, VOCAB, (BATCH, CONTEXT))
    model = GPT2(width, tied=init == GPT2)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and "ln" in name:
                continue  # LayerNorm: weight 1, bias 0 (torch's and GPT-2's default)
            if p.ndim == 1:
                p.zero_()
            elif init == FAN_IN:
                fan_in = 1 if "wte" in name or "wpe" in name else p.shape[1]
                p.normal_(0.0, 1 / math.sqrt(fan_in))
            else:
                residual = name.endswith("c_proj.weight") or name.endswith("mlp_proj.weight")
                p.normal_(0.0, GPT2_STD / math.sqrt(2 * N_LAYER) if residual else GPT2_STD)
    return model, ids


def gpt2_family(width: int) -> tuple[nn.Module, torch.Tensor]:
    """:func:`gpt2` with GPT-2's ``normal(0.02)`` init."""
    return gpt2(width, GPT2)


def gpt2_fan_in_family(width: int) -> tuple[nn.Module, torch.Tensor]:
    """:func:`gpt2` with ``N(0, 1/fan_in)`` weights (SP)."""
    return gpt2(width, FAN_IN)


class BasicBlock(nn.Module):
    """ResNet's basic block at constant width: ``relu(x + bn2(conv2(relu(bn1(conv1(x))))))``."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu2(x + self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x))))))


class ResNet(nn.Module):
    """The ResNet-style net of :func:`resnet_family` (images ``(B, 3, IMAGE, IMAGE)`` -> logits ``(B, CLASSES)``)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.blocks = nn.Sequential(*(BasicBlock(width) for _ in range(N_BLOCKS)))
        self.fc = nn.Linear(width, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.relu(self.bn(self.stem(x))))
        return self.fc(x.mean(dim=(2, 3)))


def resnet_family(width: int) -> tuple[nn.Module, torch.Tensor]:
    """The ResNet-style net with ``width`` channels (PyTorch's default init) and its images
    ``(2·BATCH, 3, IMAGE, IMAGE)``, ``N(0, 1)`` drawn first from torch's global RNG."""
    check_width(width)
    x = torch.randn(2 * BATCH, 3, IMAGE, IMAGE)
    return ResNet(width), x


__all__ = ["BasicBlock", "Block", "FAMILIES", "GPT2", "MODULE", "ResNet", "SEEDS", "STEPS", "WIDTHS",
           "gpt2", "gpt2_fan_in_family", "gpt2_family", "resnet_family"]
