"""A runtime multiplier in forward (SIREN, Sitzmann et al. 2020: hidden weights U(±sqrt(6/fan_in)/ω0), ω0 = 30
multiplied in forward) undoes the stored scale; the probe sees it (F4 of the second new-user trial)."""
from __future__ import annotations

import math

import pytest


def _siren(omega: float, width: int = 256):
    torch = pytest.importorskip("torch")
    from torch import nn

    class Sine(nn.Module):
        def __init__(self, n_in: int, n_out: int, first: bool) -> None:
            super().__init__()
            self.linear = nn.Linear(n_in, n_out)
            b = 1 / n_in if first else math.sqrt(6 / n_in) / 30.0  # the paper's init, for omega_0 = 30
            with torch.no_grad():
                self.linear.weight.uniform_(-b, b)

        def forward(self, x):
            return torch.sin(omega * self.linear(x))

    torch.manual_seed(0)
    net = nn.Sequential(Sine(2, width, True), *(Sine(width, width, False) for _ in range(3)), nn.Linear(width, 1))
    return net, torch.rand(256, 2) * 2 - 1


def test_siren_is_not_accused_and_the_same_weights_without_omega_are():
    """Known-good: SIREN with ω0 = 30 in forward: no error (the shared small std is a note that names the
    amplification the probe saw).  Known-bad: the same stored weights with ω0 = 1 (the multiplier forgotten:
    the signal really shrinks): the implausible-fixed-std error stays."""
    from invariants.modelcheck import check_model

    model, x = _siren(30.0)
    rep = check_model(model, example_input=x)
    assert not [f for f in rep.findings if f.severity == "error"], [f.message for f in rep.findings]
    (note,) = [f for f in rep.findings if f.kind == "implausible-fixed-std"]
    assert note.severity == "note" and "amplified" in note.message and note.figures["effective_gain_min"] >= 1e-2
    model, x = _siren(1.0)
    rep = check_model(model, example_input=x)
    bad = [f for f in rep.findings if f.kind == "implausible-fixed-std"]
    assert bad and bad[0].severity == "error", [f.message for f in rep.findings]


def test_output_amplification_reads_both_directions():
    """Known-bad: a forward-only gain (the next node's input is large, the gradient is not) is no amplifier;
    known-good: both directions amplified are."""
    import numpy as np

    from invariants.frameworks.model import ModelView, Node, Param, Probe, Signal
    from invariants.layers import Dense
    from invariants.modelcheck.signal import output_amplification

    def view(g_next: float) -> ModelView:
        rng = np.random.default_rng(0)
        params, nodes, sigs = [], [], []
        for name, z_scale, x2, g2 in (("a", 0.01, 1.0, 1.0), ("b", 1.0, 1.0, g_next)):
            p = Param(f"{name}.weight", rng.standard_normal((8, 8)), "weight", name, "Linear", Dense(8, 8))
            params.append(p)
            nodes.append(Node(name, "Linear", Dense(8, 8), p))
            z = z_scale * np.ones((16, 8))
            sigs.append(Signal(name, z, np.ones((16, 8)), True, x2, g2, 8, 16))
        return ModelView("torch", "synthetic", params, nodes, Probe(sigs, 16, "synthetic"))

    assert "a.weight" in output_amplification(view(1e-3))  # F = 1/1e-4, B = 1/1e-3
    assert output_amplification(view(1.0)) == {}  # B = 1: forward only
