"""Explanations that must name the actual cause (issue 14, gap 8), each with a case whose cause differs:

- a zero output layer whose input is zero (every layer zero) is not "revived at the first step": its weight
  gradient is delta x^T = 0, only its bias moves; behind a random layer it is the known zero-head practice;
- an identity (dirac) kernel's identical rows are not "duplicated rows in a random tensor";
- a grouped conv drawn on C_in*k^2 (groups ignored) is explained by that fan, not by another fan and scale.
"""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from invariants import audit  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.testing import audit_config  # noqa: E402


class TwoLayer(nn.Module):
    def __init__(self, zero_hidden: bool) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.hidden, self.out = nn.Linear(8, 16), nn.Linear(16, 4)
        for layer in ([self.hidden] if zero_hidden else []) + [self.out]:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def test_zero_output_layer_on_a_zero_input_is_not_revived():
    report = check_model(TwoLayer(zero_hidden=True))
    (f,) = [f for f in report.find("constant-tensor") if f.params == ("out.weight",)]
    assert f.severity == "error" and f.figures["revived_at_first_step"] == 0
    assert "revives them" not in f.message
    assert "their input x is zero on every probe row" in f.message
    assert "dL/dW = delta x^T = 0 and only their bias moves" in f.message


def test_zero_output_layer_behind_a_random_layer_learns_at_once():
    report = check_model(TwoLayer(zero_hidden=False))
    (f,) = report.find("zero-output-layer")
    assert f.severity == "note" and f.figures["revived_at_first_step"] == 4
    assert "learns from the gradient h^T delta at once" in f.message and "revives them" in f.message


class Identity(nn.Module):
    def __init__(self, dirac: bool) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.c0 = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.c2 = nn.Conv2d(8, 4, 3, padding=1)
        with torch.no_grad():
            if dirac:
                nn.init.dirac_(self.dw.weight, groups=8)
            else:  # a random tensor of few values whose rows coincide by chance-level coarseness
                self.dw.weight.copy_(torch.randint(0, 2, (8, 1, 3, 3)).float() - 0.5)
                self.dw.weight[1:3].copy_(self.dw.weight[0:1].expand(2, 1, 3, 3))

    def forward(self, x):
        return self.c2(torch.relu(self.dw(torch.relu(self.c0(x)))))


def test_identity_kernel_is_named_as_such():
    (f,) = check_model(Identity(dirac=True)).find("tied-units")
    assert "not a random tensor: an identity (dirac/eye) kernel" in f.message
    assert "duplicated rows in a random tensor" not in f.message and f.figures["identity_value"] == 1.0


def test_coarse_random_duplicates_keep_their_explanation():
    (f,) = check_model(Identity(dirac=False)).find("tied-units")
    assert "duplicated rows in a random tensor" in f.message and f.figures["identity_value"] is None


def test_grouped_conv_fan_fault_names_the_fan():
    cfg = audit_config("fast")

    def groups_ignored(w):  # He normal on C_in*k^2 = 32*9, the layer's channel count without groups=4
        with torch.no_grad():
            return w.normal_(0.0, math.sqrt(2.0 / (32 * 9)))

    (r,) = audit.initializer(groups_ignored, expect="kaiming_normal", layer="conv2d(32,64,k=3,groups=4)",
                             framework="torch", config=cfg).results
    assert r.verdict == "deviates"
    assert r.explanation.startswith("fan 288 (C_in*K = 32*9 = 288, groups=4 not divided out) instead of fan_in 72")
    assert "scale" not in r.explanation  # not "fan_out 144 with scale 1": a coincidence of numbers
    (ok,) = audit.initializer(nn.init.kaiming_normal_, expect="kaiming_normal", layer="conv2d(32,64,k=3,groups=4)",
                              framework="torch", config=cfg).results
    assert ok.verdict == "conforms"
