"""A signal decay note through layers at PyTorch's default init cites claim VAR-TORCHDEFAULT-01.

Textbook: ``torch/nn/modules/linear.py`` ``Linear.reset_parameters``: ``kaiming_uniform_(self.weight, a=sqrt(5))``,
``U(±1/sqrt(fan_in))``, ``Var·fan_in = 1/3`` (the claim: 1/3 per linear layer, 1/6 per ReLU layer at zero bias).
Known-good: a 3-hidden-layer ReLU MLP at the default gets decay notes that name the claim.  Known-bad: the same
MLP drawn at a fixed ``normal(std=0.02)`` (no default: the decay is the chosen std's) gets notes without it.
"""
from __future__ import annotations

import pytest


def _mlp(std: float | None = None):
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    layers: list = []
    for _ in range(3):
        lin = nn.Linear(256, 256)
        if std is not None:
            nn.init.normal_(lin.weight, 0.0, std)
        layers += [lin, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(256, 10)), torch.randn(64, 256)


def _decay_notes(std=None):
    from invariants.modelcheck import check_model

    model, x = _mlp(std)
    rep = check_model(model, example_input=x)
    return [f for f in rep.findings if f.kind.startswith("signal") and f.severity == "note"]


def test_a_decay_at_the_torch_default_cites_the_claim():
    notes = _decay_notes()
    assert notes and all("(claim VAR-TORCHDEFAULT-01)" in f.message and f.figures["claim"] == "VAR-TORCHDEFAULT-01"
                         for f in notes)


def test_a_decay_at_another_scheme_does_not():
    notes = _decay_notes(std=0.05)  # Var*fan_in = 0.64: a decay, but not the default's
    assert notes and not [f for f in notes if "VAR-TORCHDEFAULT-01" in f.message or "claim" in f.figures]


def test_each_direction_states_its_own_factor():
    # reviewer: the forward factor (3x per linear layer) was also attached to backward notes, where the factor
    # per layer is fan_out/(3 fan_in)
    notes = _decay_notes()
    kinds = {f.kind for f in notes}
    for f in notes:
        forward = "shrinks the pre-activation variance 3x per linear layer" in f.message
        assert forward == (f.kind == "signal-forward")
        assert ("fan_out/(3 fan_in)" in f.message) == (f.kind == "signal-backward")
    assert kinds  # at least one direction decays here
