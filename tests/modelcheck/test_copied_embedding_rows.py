"""Copied token vectors in an embedding table (stop 26's trial: not flagged; copied rows were caught in Linear
and Conv only).  Known-bad: rows copied from one token are a ``copied-embedding-rows`` note naming them (tokens
indistinguishable at init), and in a tied output projection too (a note there, not a ``duplicated-units``
error: its rows are the token vectors).  Known-good: the clean table, a ``padding_idx`` row, rows zeroed on
purpose and a tied table give nothing."""
from __future__ import annotations

import torch
from torch import nn

from invariants.modelcheck import check_model


class LM(nn.Module):
    def __init__(self, tie: bool = False, pad: int | None = None):
        super().__init__()
        self.emb = nn.Embedding(500, 32, padding_idx=pad)
        self.fc = nn.Linear(32, 32)
        self.head = nn.Linear(32, 500, bias=False)
        if tie:
            self.head.weight = self.emb.weight

    def forward(self, x):
        return self.head(torch.relu(self.fc(self.emb(x))))


def lm(tie=False, pad=None, copy=False, zero=False):
    torch.manual_seed(0)
    m = LM(tie, pad)
    with torch.no_grad():
        if copy:
            m.emb.weight[490:500] = m.emb.weight[5]
        if zero:
            m.emb.weight[490:500] = 0
    return m


def test_copied_token_vectors_are_a_note():
    for tie in (False, True):
        rep = check_model(lm(tie=tie, copy=True))
        (f,) = rep.find("copied-embedding-rows")
        assert f.severity == "note" and f.params == ("emb.weight",) and f.figures["classes"] == [[5] + list(range(490, 500))]
        assert "indistinguishable" in f.message and "copied" in f.message
        assert not rep.find("duplicated-units") and rep.ok


def test_clean_padded_zeroed_and_tied_tables_are_not_flagged():
    for m in (lm(), lm(pad=0), lm(zero=True), lm(tie=True)):
        rep = check_model(m)
        assert not rep.find("copied-embedding-rows") and not rep.find("duplicated-units"), rep.findings
