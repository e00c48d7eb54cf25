"""Small torch models for the coverage, probe-input and exit-code tests (issue 13, items 4, 5, 7).

Every factory takes no argument (CLI targets ``coverage_models:NAME``) and imports torch inside.
``Conv1D`` mimics ``transformers.pytorch_utils.Conv1D`` (weight stored ``(in, out)``) so the tests run
without transformers; a config object mimics a HuggingFace ``PretrainedConfig`` (it has ``to_dict``).
"""
from __future__ import annotations

import math


def _nn():
    import torch
    from torch import nn

    return torch, nn


def conv1d_class():
    """A class named ``Conv1D`` with transformers' layout: ``weight (nx, nf)``, ``y = x @ W + b``."""
    torch, nn = _nn()

    class Conv1D(nn.Module):
        def __init__(self, nf: int, nx: int) -> None:
            super().__init__()
            self.nf, self.nx = nf, nx
            self.weight = nn.Parameter(torch.empty(nx, nf))
            self.bias = nn.Parameter(torch.zeros(nf))
            nn.init.normal_(self.weight, std=0.02)

        def forward(self, x):
            return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], self.nf)

    return Conv1D


def gpt_block(zero_fc: bool = False, copy_qk: bool = False):
    """A GPT-2-style MLP + packed attention projection on ``Conv1D`` (widths 64 -> 256 -> 64, c_attn 64 -> 192)."""
    torch, nn = _nn()
    Conv1D = conv1d_class()
    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn = Conv1D(192, 64)
            self.c_fc = Conv1D(256, 64)
            self.act = nn.GELU()
            self.c_proj = Conv1D(64, 256)

        def forward(self, x):
            q, k, v = self.c_attn(x).split(64, dim=-1)
            return x + self.c_proj(self.act(self.c_fc(x + q * k.sigmoid() + v)))

    m = Block()
    with torch.no_grad():
        if zero_fc:
            m.c_fc.weight.zero_()
        if copy_qk:
            m.c_attn.weight[:, 64:128] = m.c_attn.weight[:, :64]
    return m


def gpt_block_zero_fc():
    return gpt_block(zero_fc=True)


def gpt_block_copy_qk():
    return gpt_block(copy_qk=True)


def tied_lm():
    """Embedding -> Linear -> LM head tied to the embedding (one tensor, two names)."""
    torch, nn = _nn()
    torch.manual_seed(0)

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(100, 32)
            self.mid = nn.Linear(32, 32)
            self.head = nn.Linear(32, 100, bias=False)
            self.head.weight = self.wte.weight

        def forward(self, ids):
            return self.head(torch.tanh(self.mid(self.wte(ids))))

    return LM()


def with_tokens(share: float = 0.01):
    """An MLP with a learned ``cls_token`` holding ``share`` of its values (no layer semantics)."""
    torch, nn = _nn()
    torch.manual_seed(0)

    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(32, 64)
            self.fc2 = nn.Linear(64, 8)
            n_fc = 32 * 64 + 64 + 64 * 8 + 8
            self.cls_token = nn.Parameter(torch.randn(1, max(1, math.ceil(share * n_fc / (1 - share)))) * 0.02)

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    return M()


def mostly_tokens():
    """A model whose position table holds about half its values: below 95% coverage -> incomplete."""
    return with_tokens(0.5)


def nan_weight():
    """An MLP with one NaN and one inf in its first weight."""
    torch, _ = _nn()
    m = with_tokens(0.0)
    with torch.no_grad():
        m.fc1.weight[0, 0] = float("nan")
        m.fc1.weight[1, 2] = float("inf")
    return m


def forward_raises():
    """A model whose forward always raises: the probe cannot run (incomplete, never healthy)."""
    torch, nn = _nn()
    torch.manual_seed(0)

    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 16)

        def forward(self, x):
            raise RuntimeError("needs a mask")

    return M()


def forward_raises_zeroed():
    """As :func:`forward_raises`, with a zeroed hidden weight between two random ones: an error wins."""
    torch, nn = _nn()
    torch.manual_seed(0)

    class M(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.c = nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16)
            nn.init.zeros_(self.b.weight)

        def forward(self, x):
            raise RuntimeError("needs a mask")

    return M()


def odd_object():
    """A factory returning something that is not a model."""
    return {"weights": [1, 2, 3]}


def fixed_size_vit():
    """A patch-embedding model that accepts only its declared ``image_size`` (24), like a ViT."""
    torch, nn = _nn()
    torch.manual_seed(0)

    class ViT(nn.Module):
        image_size = 24

        def __init__(self) -> None:
            super().__init__()
            self.patch = nn.Conv2d(3, 16, 8, stride=8)
            self.pos = nn.Parameter(torch.zeros(1, 9, 16))
            self.head = nn.Linear(16, 4)

        def forward(self, x):
            if x.shape[-2:] != (24, 24):
                raise ValueError(f"input size {tuple(x.shape[-2:])} != 24x24")
            t = self.patch(x).flatten(2).transpose(1, 2) + self.pos
            return self.head(t.mean(1))

    return ViT()


def deep_downsampler():
    """Five unpadded stride-2 convs (kernel 2): a 16x16 input vanishes; 32x32 is the smallest that runs."""
    torch, nn = _nn()
    torch.manual_seed(0)
    layers = []
    c = 3
    for _ in range(5):
        layers += [nn.Conv2d(c, 8, 2, stride=2), nn.ReLU()]
        c = 8
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(8, 4))


class HFConfig:
    """The attributes of a HuggingFace config the probe reads (``to_dict`` marks it as one)."""

    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def hf_seq2seq():
    """An encoder-decoder taking keyword ``input_ids`` and ``decoder_input_ids`` only, with a config."""
    torch, nn = _nn()
    torch.manual_seed(0)

    class Seq2Seq(nn.Module):
        main_input_name = "input_ids"

        def __init__(self) -> None:
            super().__init__()
            self.config = HFConfig(vocab_size=50, is_encoder_decoder=True, max_position_embeddings=12,
                                   initializer_range=0.02, layer_norm_eps=1e-6)
            self.embed = nn.Embedding(50, 16)
            self.enc = nn.Linear(16, 16)
            self.dec = nn.Linear(16, 50)

        def forward(self, *, input_ids, decoder_input_ids):
            h = torch.tanh(self.enc(self.embed(input_ids))).mean(1, keepdim=True)
            return self.dec(self.embed(decoder_input_ids) + h)

    return Seq2Seq()


def hf_seq2seq_with_kwargs():
    """:func:`hf_seq2seq` with its keyword example input ``(model, {"input_ids": ..., "decoder_input_ids": ...})``."""
    torch, _ = _nn()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 50, (6, 5), generator=g)
    return hf_seq2seq(), {"input_ids": ids, "decoder_input_ids": ids.flip(1)}
