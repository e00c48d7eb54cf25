"""signal-backward compares the squared gradient norm per example, and not at the model's input (F2 of the
second new-user trial): width ratios that are no init fault do not count, gain faults still do."""
from __future__ import annotations

import pytest

from invariants.modelcheck.signal import signal
from tests.modelcheck.signal_views import synthetic_view as _view


WIDTHS = [1024, 512, 256, 128, 64, 32, 16]


def test_a_per_entry_gradient_that_moves_only_with_the_widths_is_no_trend():
    """Known-good: per-entry E[g²] ∝ 1/width (a fan_in scheme on a tapering stack: |g|² per example is
    constant), 64x apart end to end, is no finding.  Known-bad: the same per-entry moments times 1e-1 per
    layer on top of the width ratio (a gain fault) is an error."""
    good = [(f"fc{i + 1}", 1.0, 1.0 / w, w) for i, w in enumerate(WIDTHS)]
    findings, summary = signal(_view(good + [("head", 1.0, 1.0, 8)]))
    assert not [f for f in findings if f.kind == "signal-backward"], [f.message for f in findings]
    assert summary["classes"]["Linear:fc#"]["backward"]["ratio"] == pytest.approx(1.0)
    bad = [(f"fc{i + 1}", 1.0, 0.1 ** (len(WIDTHS) - i) / w, w) for i, w in enumerate(WIDTHS)]
    (f,) = [f for f in signal(_view(bad + [("head", 1.0, 1.0, 8)]))[0] if f.kind == "signal-backward"]
    assert f.severity == "error" and "vanish" in f.message and "per example" in f.message


def test_the_gradient_at_the_model_input_is_left_out():
    """Known-good: only the first node's input (the data, no parameter's gradient) has a tiny gradient: no
    finding, and the class's backward trend starts at the second node.  Known-bad: the same collapse at the
    second node's input (the first layer's output: its weight gradient) is an error."""
    n = 6
    data = [(f"fc{i + 1}", 1.0, (1e-9 if i == 0 else 1.0), 64) for i in range(n)]
    findings, summary = signal(_view(data + [("head", 1.0, 1.0, 64)]))
    assert not findings, [f.message for f in findings]
    assert summary["classes"]["Linear:fc#"]["backward_layers"][0] == "fc2"
    hidden = [(f"fc{i + 1}", 1.0, (1e-9 if i <= 1 else 1.0), 64) for i in range(n)]
    (f,) = signal(_view(hidden + [("head", 1.0, 1.0, 64)]))[0]
    assert (f.kind, f.severity) == ("signal-backward", "error") and f.figures["first"] == "fc2"


def _taper(init: str, gain: float = 1.0):
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    dims = [784, 512, 256, 128, 10]
    layers: list = []
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        lin = nn.Linear(a, b)  # PyTorch's default: U(±1/sqrt(fan_in)), Var·fan_in = 1/3
        if init == "kaiming":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        with torch.no_grad():
            lin.weight.mul_(gain)
        layers += [lin, nn.ReLU()] if i < len(dims) - 2 else [lin]
    return nn.Sequential(*layers), torch.randn(64, 784)


def test_torch_default_tapering_mlp_is_at_most_a_note_and_a_gain_fault_on_it_an_error():
    """The canonical MNIST MLP 784-512-256-128-10 at PyTorch's default init (the README: a note at 4 layers,
    an error only in deeper stacks) was a signal-backward error through the width ratio 784/128 alone.
    Known-good: at most notes; Kaiming on the same widths: no signal finding at all (|g|² per example is
    flat under a fan_in gain of 2).  Known-bad: the default weights x0.3 (Var·fan_in 0.03): an error."""
    from invariants.modelcheck import check_model

    model, x = _taper("default")
    rep = check_model(model, example_input=x)
    assert rep.status == "healthy", [f.message for f in rep.findings]
    assert all(f.severity == "note" for f in rep.findings if f.kind.startswith("signal"))
    model, x = _taper("kaiming")
    rep = check_model(model, example_input=x)
    assert not [f for f in rep.findings if f.kind.startswith("signal")], [f.message for f in rep.findings]
    model, x = _taper("default", gain=0.3)
    rep = check_model(model, example_input=x)
    bad = [f for f in rep.findings if f.kind == "signal-backward"]
    assert bad and bad[0].severity == "error", [f.message for f in rep.findings]


def test_the_last_members_own_weights_are_not_between_the_measurements():
    """Measured at inputs, the last class member's weights act on neither endpoint: a BatchNorm stack whose
    last member feeds no norm (a DCGAN discriminator's final conv) is a normalized stretch.  Known-good:
    every member but the last feeds a norm: a note marked normalized.  Known-bad: a middle member feeds no
    norm: the error stays."""
    entries = [(f"main.{i}", 1.0, 1e-3 * 10.0 ** (-2 * i), 64) for i in range(6)]

    def run(plain: int):
        view = _view(entries + [("head", 1.0, 1.0, 64)])
        for n in view.nodes:
            n.scale_invariant = n.name.startswith("main.") and n.name not in ("main.5", f"main.{plain}")
        return [f for f in signal(view)[0] if f.kind == "signal-backward"]

    (f,) = run(5)
    assert f.severity == "note" and f.figures.get("normalized") and "feeds a normalization" in f.message
    (f,) = run(3)
    assert f.severity == "error" and not f.figures.get("normalized")
