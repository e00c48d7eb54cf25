"""Faulty and correct models for ``check-model --expect`` (issue 14, gap 6), as CLI targets
(``tests.modelcheck.expect_models:NAME``).  Each fault was caught only by a per-tensor audit before:

- ``mha_packed``: ``nn.MultiheadAttention``'s own ``_reset_parameters`` draws ``xavier_uniform_`` over the
  packed ``(3E, E)`` ``in_proj_weight`` (fan_avg 2E), so each q/k/v projection has half the variance of
  ``xavier_uniform`` on its own ``(E, E)`` (fan_avg E); ``mha_per_block`` draws each block on its own.
- ``selu_gain``: ``kaiming_normal_(nonlinearity='selu')`` applies torch's SELU gain 3/4 on top of LeCun
  normal (variance 9/16 / fan_in), although the SELU paper (Klambauer et al. 2017) needs 1/fan_in, which
  ``nonlinearity='linear'`` gives (``selu_lecun``); torch's ``calculate_gain`` documents the trap.
- ``bert_range_ignored``: a BERT built with ``initializer_range=0.05`` whose Linear weights are drawn at
  a hard-coded 0.02 (the config value not applied); ``bert_range_applied``: the library's own init.
"""
from __future__ import annotations

import torch
from torch import nn

E = 64


class MHANet(nn.Module):
    """Self-attention block with a linear head."""

    def __init__(self, per_block: bool) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(E, 4, batch_first=True)
        self.head = nn.Linear(E, 8)
        if per_block:
            with torch.no_grad():
                for i in range(3):
                    nn.init.xavier_uniform_(self.attn.in_proj_weight[i * E:(i + 1) * E])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.attn(x, x, x)[0])


def _mha(per_block: bool):
    torch.manual_seed(0)
    return MHANet(per_block), torch.randn(8, 10, E, generator=torch.Generator().manual_seed(1))


def mha_packed():
    return _mha(False)


def mha_per_block():
    return _mha(True)


class SELUNet(nn.Module):
    """Three SELU layers and a linear head, biases zero."""

    def __init__(self, nonlinearity: str) -> None:
        super().__init__()
        self.hidden = nn.ModuleList(nn.Linear(256, 256) for _ in range(3))
        self.head = nn.Linear(256, 10)
        for m in list(self.hidden) + [self.head]:
            nn.init.kaiming_normal_(m.weight, nonlinearity=nonlinearity)
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.hidden:
            x = torch.selu(m(x))
        return self.head(x)


def selu_gain():
    torch.manual_seed(0)
    return SELUNet("selu")


def selu_lecun():
    torch.manual_seed(0)
    return SELUNet("linear")


def _bert(applied: bool):
    from tests.zoo._compat import ensure_torchvision

    ensure_torchvision()
    import transformers

    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=128, max_position_embeddings=64, initializer_range=0.05)
    model = transformers.BertModel(cfg)
    if not applied:  # a custom init that hard-codes 0.02 instead of config.initializer_range
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    m.weight.normal_(0.0, 0.02)
    ids = torch.randint(1, 512, (8, 16), generator=torch.Generator().manual_seed(1))
    return model, {"input_ids": ids}


def bert_range_ignored():
    return _bert(False)


def bert_range_applied():
    return _bert(True)
