"""Deterministic tensors equal across layers are no reused seed (stop 28's trial: HF Mamba an ``identical-tensors``
error, exit 1).  Known-good: Mamba's ``A_log = log(arange(1, N + 1))`` expanded over the channels, the same in every
layer by design (transformers ``models/mamba/modeling_mamba.py`` ``MambaMixer.__init__``; S4D-real, Gu et al. 2022),
in HF Mamba and in a minimal S4D stack.  Known-bad: a random Linear copied into every layer of the same stack stays
an error; random draws (float32 and bfloat16) are draws."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from invariants.modelcheck import check_model
from invariants.modelcheck.checks import not_a_draw


class S4DLayer(nn.Module):
    def __init__(self, d=32, n=8):
        super().__init__()
        self.lin = nn.Linear(d, d)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1, dtype=torch.float32)).repeat(d, 1))

    def forward(self, x):
        return x + self.lin(x) * (-torch.exp(self.A_log)).mean(-1)


def _stack(copied=False):
    torch.manual_seed(0)
    layers = [S4DLayer() for _ in range(3)]
    if copied:
        for layer in layers[1:]:
            layer.lin = copy.deepcopy(layers[0].lin)
    return nn.Sequential(*layers)


X = torch.randn(16, 32, generator=torch.Generator().manual_seed(1))


def test_deterministic_state_matrices_are_no_copies():
    rep = check_model(_stack(), example_input=X)
    assert not rep.find("identical-tensors"), rep


def test_a_copied_random_layer_still_is():
    rep = check_model(_stack(copied=True), example_input=X)
    (f,) = rep.find("identical-tensors")
    assert all("lin" in n for n in f.params) and not rep.ok


def test_hf_mamba_is_not_accused():
    pytest.importorskip("transformers")
    from tests.zoo._compat import ensure_torchvision

    ensure_torchvision()  # transformers' image utilities import torchvision (see that module)
    from transformers import MambaConfig, MambaForCausalLM

    torch.manual_seed(0)
    m = MambaForCausalLM(MambaConfig(vocab_size=64, hidden_size=32, state_size=8, num_hidden_layers=3))
    rep = check_model(m, example_input={"input_ids": torch.randint(1, 64, (4, 8))})
    assert not rep.find("identical-tensors") and not [f for f in rep.findings if f.severity == "error"], rep


def test_not_a_draw():
    rng = np.random.default_rng(0)
    assert not not_a_draw(rng.normal(0, 0.02, (64, 64)).astype(np.float32))
    ml_dtypes = pytest.importorskip("ml_dtypes")
    assert not not_a_draw(rng.normal(0, 0.02, (64, 64)).astype(ml_dtypes.bfloat16))
    assert not_a_draw(np.repeat(rng.normal(size=(1, 16)), 4, axis=0))  # rows repeat
    assert not_a_draw(np.log(np.arange(1, 9, dtype=np.float32)).reshape(1, 8).repeat(32, 0).T.copy())  # few values
    assert not not_a_draw(rng.normal(size=(1, 16)))
