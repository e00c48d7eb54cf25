"""Which member of a chaining sibling class is a head (TRIAL2 S1, C4).

A member whose output width is no member's input width was a head (a note) even where its output goes on
into the model's real output layer: ``hidden3`` x10 before ``output`` was HEALTHY (an error on main).  A
head now needs, besides that, the layer run next (the probe's execution order; without a probe, the order
the model declares its layers in, which the finding says) not to take its output.  Known-bad: the 10x last
hidden layer before an output layer (torch, with and without a probe), a 10x conv before a flattening dense
layer (LeNet), 0.1x fc2 before a ``classifier``.  Known-good: the clean models, CleanRL PPO's two heads and
TD3's twin Q heads (tests/modelcheck/test_named_siblings.py) stay notes.
"""
from __future__ import annotations

import torch
from torch import nn

from invariants.modelcheck import check_model


def _errors(report, kind="peer-scale"):
    return [f for f in report.find(kind) if f.severity == "error"]


class H4(nn.Module):
    """hidden1 64->128, hidden2 128->128, hidden3 128->32, output 32->10 (torch defaults)."""

    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.hidden1, self.hidden2, self.hidden3 = nn.Linear(64, 128), nn.Linear(128, 128), nn.Linear(128, 32)
        self.output = nn.Linear(32, 10)
        with torch.no_grad():
            self.hidden3.weight.mul_(scale)

    def forward(self, x):
        r = torch.relu
        return self.output(r(self.hidden3(r(self.hidden2(r(self.hidden1(x)))))))


def test_a_10x_last_hidden_layer_before_the_output_layer_is_an_error():
    """Known-bad (S1): hidden3 ends the class hidden# at its own width, but its output goes into
    ``output``, run next: a hidden layer, an error -- with the probe and, from definition order, without."""
    for probe in (True, False):
        torch.manual_seed(0)
        rep = check_model((H4(10.0), torch.randn(64, 64)), probe=probe)
        (f,) = _errors(rep)
        assert f.params[0] == "hidden3.weight" and "head" not in f.message and not rep.ok


def test_the_clean_h4_is_healthy():
    torch.manual_seed(0)
    rep = check_model((H4(), torch.randn(64, 64)))
    assert rep.ok and not rep.find("peer-scale"), rep.findings


class LeNet(nn.Module):
    """The PyTorch 60-minute-blitz CIFAR net: conv2's 16 channels of 5x5 flatten into fc1's 400 inputs."""

    def __init__(self):
        super().__init__()
        self.conv1, self.pool, self.conv2 = nn.Conv2d(3, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.flatten(self.pool(torch.relu(self.conv2(x))), 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def test_a_10x_conv_before_a_flattening_dense_layer_is_an_error():
    """Known-bad (S1): conv2 x10 feeds fc1 (400 = 16 x 5 x 5 inputs); known-good: the clean LeNet."""
    torch.manual_seed(0)
    m = LeNet()
    x = torch.randn(16, 3, 32, 32)
    assert not _errors(check_model((m, x)))
    with torch.no_grad():
        m.conv2.weight.mul_(10)
    (f,) = _errors(check_model((m, x)))
    assert f.params[0] == "conv2.weight"


class Funnel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.classifier = nn.Linear(784, 256), nn.Linear(256, 64), nn.Linear(64, 10)

    def forward(self, x):
        return self.classifier(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def test_a_small_fc2_before_a_classifier_is_an_error():
    """Known-bad (S1): fc2 at 0.1x std (a pair fc1/fc2, fc2 at its own width) goes into ``classifier``."""
    torch.manual_seed(0)
    m = Funnel()
    with torch.no_grad():
        m.fc2.weight.mul_(0.1)
    (f,) = _errors(check_model((m, torch.randn(64, 784))))
    assert f.params[0] == "fc2.weight"


def test_a_head_note_says_what_it_rests_on_and_what_the_head_matches():
    """Known-good (C4): CleanRL PPO's actor head (orthogonal gain 0.01) is a note that names the layer run
    next, and says it matches orthogonal(gain=0.01) only -- as its table row does -- not 'no named scheme'."""
    from tests.modelcheck.test_named_siblings import Agent

    torch.manual_seed(0)
    rep = check_model((Agent(obs=8, act=4), torch.randn(32, 8)))
    (f,) = rep.find("peer-scale")
    assert f.severity == "note" and f.params[0] == "actor.4.weight"
    assert "ends its stack" in f.message and "the layer run next (critic.0" in f.message
    assert "matches only orthogonal(gain=0.01)" in f.message and "matches no named scheme" not in f.message


class NamedChain(nn.Module):
    """fc_in, fc_hidden, fc_out: each alone in its sibling class (no digits), one chain in execution order."""

    def __init__(self, scale_at: str | None = None, scale: float = 10.0):
        super().__init__()
        self.fc_in, self.fc_hidden, self.fc_out = nn.Linear(32, 128), nn.Linear(128, 128), nn.Linear(128, 10)
        if scale_at:
            with torch.no_grad():
                getattr(self, scale_at).weight.mul_(scale)

    def forward(self, x):
        return self.fc_out(torch.relu(self.fc_hidden(torch.relu(self.fc_in(x)))))


def test_a_chain_of_layers_named_without_digits_are_peers():
    """Known-bad (S2): fc_hidden or fc_in at 10x or 0.1x std was HEALTHY (a silent pass); now an error that
    says the chain makes them peers.  Known-good: the clean chain."""
    x = torch.randn(64, 32)
    torch.manual_seed(0)
    assert not check_model((NamedChain(), x)).find("peer-scale")
    for at in ("fc_hidden", "fc_in"):
        for scale in (10.0, 0.1):
            torch.manual_seed(0)
            (f,) = _errors(check_model((NamedChain(at, scale), x)))
            assert f.params[0] == f"{at}.weight" and "one chain of Dense layers run in the order fc_in.weight -> fc_hidden.weight" in f.message


def test_named_heads_that_do_not_chain_stay_apart():
    """Known-good: SAC's fc_mean and fc_logstd both take fc2's output (neither feeds the other): no chain,
    and a small fc_mean is not compared."""

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(11, 256), nn.Linear(256, 256)
            self.fc_mean, self.fc_logstd = nn.Linear(256, 3), nn.Linear(256, 3)
            nn.init.uniform_(self.fc_mean.weight, -3e-3, 3e-3)

        def forward(self, x):
            h = torch.relu(self.fc2(torch.relu(self.fc1(x))))
            return self.fc_mean(h), self.fc_logstd(h)

    torch.manual_seed(0)
    rep = check_model((Actor(), torch.randn(32, 11)))
    assert rep.ok and not _errors(rep), rep.findings
