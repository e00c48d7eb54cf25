"""The signal check compares like with like, at node inputs (invariants.modelcheck.signal): the classes, the
input moments the probes record and ``Node.scale_invariant``; each with a known-bad and a known-good case."""
from __future__ import annotations

import numpy as np
import pytest

from invariants.modelcheck.signal import depth_key, signal
from tests.modelcheck.signal_views import synthetic_view as _view


@pytest.mark.parametrize("name, key", [
    ("stages.2.blocks.0.mlp.fc2", "stages.#.blocks.#.mlp.fc2"),
    ("stages.0.blocks.1.mlp.fc1", "stages.#.blocks.#.mlp.fc1"),
    ("layer3.1.conv1", "layer#.#.conv1"),
    ("encoder.layer.11.attention.self.query", "encoder.layer.#.attention.self.query"),
    ("features.5.0.block.3", "features.#.#.block.3"),  # torchvision CNBlock's fc1 (block.5 is fc2)
    ("layers.3", "layers.#"), ("4", "#"), ("layer2", "layer#"), ("params/Dense_3", "params/Dense_#"),
    ("conv2_block1_1_conv", "conv#_block#_#_conv"), ("block6c_expand_conv", "block##_expand_conv"),
])
def test_depth_key(name, key):
    assert depth_key(name) == key


def test_a_small_branch_is_not_compared_with_the_stem():
    """Known-good: a LayerScale-like branch (E[g²] 1e-12) between stem-scale nodes of another class is no
    trend; known-bad: the same decay inside one class of 6 blocks is an error."""
    good = []
    for b in range(6):
        good += [(f"blocks.{b}.conv_dw", 1.0, 1e-3, 256), (f"blocks.{b}.mlp.fc2", 0.01, 1e-12, 256)]
    findings, summary = signal(_view([("stem", 1.0, 1e-3, 256)] + good + [("head", 1.0, 1.0, 256)]))
    assert not findings, [f.message for f in findings]
    assert summary["measured"] == "inputs" and "Linear:blocks.#.mlp.fc2" in summary["classes"]
    bad = [(f"blocks.{b}.mlp.fc2", 0.01, 1e-3 * 0.1 ** (6 - b), 256) for b in range(6)]
    findings, _ = signal(_view(bad + [("head", 1.0, 1.0, 256)]))
    (f,) = findings
    assert (f.kind, f.severity) == ("signal-backward", "error") and f.figures["class"].startswith("Linear:blocks.#")


def test_classes_of_different_widths_are_not_compared():
    """A fixed-std scheme moves moments with the width: two stages of different widths are two classes."""
    entries = [(f"stages.0.blocks.{b}.fc", 1.0, 1e-2, 32) for b in range(2)] + \
              [(f"stages.1.blocks.{b}.fc", 1e-4, 1e-7, 512) for b in range(2)]
    findings, summary = signal(_view(entries + [("head", 1.0, 1.0, 512)]))
    assert not findings and len(summary["classes"]) == 2


def test_zero_backward_class_is_skipped_with_a_summary_line():
    entries = [(f"blocks.{b}.fc2", 1.0, 0.0, 64) for b in range(3)] + [("head", 1.0, 1.0, 64)]
    findings, summary = signal(_view(entries))
    assert not findings and "zero" in summary["backward_summary"]


def test_a_gradient_that_underflows_to_zero_through_depth_is_an_error():
    """Known-bad: E[g²] falls 1e-2 per block through 12 blocks and is exactly 0 in the 4 below (the
    gradient underflowed): an error that says so.  Known-good: the same zeros with no decay above them
    (a stop-gradient, a frozen stem) and zeros scattered among nonzero members (zero-initialized branches)
    are not compared, as before."""
    decay = [(f"blocks.{b}.fc", 1.0, 0.0 if b < 4 else 1e-2 ** (16 - b), 64) for b in range(16)]
    findings, summary = signal(_view(decay + [("head", 1.0, 1.0, 64)]))
    (f,) = findings
    assert (f.kind, f.severity) == ("signal-backward", "error")
    assert "underflows" in f.message and "below the floating-point range" in f.message
    # blocks.0 reads the model input: the gradient there is no parameter's (left out of the backward trend)
    assert f.figures["underflow_at"] == [f"blocks.{b}.fc" for b in range(1, 4)]
    flat = [(f"blocks.{b}.fc", 1.0, 0.0 if b < 4 else 1e-2, 64) for b in range(16)]
    findings, summary = signal(_view(flat + [("head", 1.0, 1.0, 64)]))
    assert not findings and "zero" in summary["backward_summary"]
    scattered = [(f"blocks.{b}.fc", 1.0, 0.0 if b % 2 else 1e-2 ** (16 - b), 64) for b in range(16)]
    findings, summary = signal(_view(scattered + [("head", 1.0, 1.0, 64)]))
    assert not findings and "zero" in summary["backward_summary"]


def test_a_deep_tanh_mlp_whose_gradient_underflows_is_unhealthy():
    """Real torch model (issue 17): 90 tanh layers at σ_w² = 0.05 — χ₁ ≈ 0.05 per layer, so float32
    gradients underflow to exactly 0 near the input while the forward signal sits at its bias fixed point."""
    torch = pytest.importorskip("torch")
    from torch import nn

    from invariants.modelcheck import check_model

    torch.manual_seed(0)
    layers = []
    for _ in range(90):
        lin = nn.Linear(16, 16)
        nn.init.normal_(lin.weight, std=(0.05 / 16) ** 0.5)
        nn.init.normal_(lin.bias, std=0.1)
        layers += [lin, nn.Tanh()]
    report = check_model(nn.Sequential(*layers, nn.Linear(16, 4)), input_shape=(16,))
    under = [f for f in report.findings if "underflow_at" in f.figures]
    assert under and under[0].severity == "error", [f.message for f in report.findings]


def test_issue17_200_tanh_layers_of_width_64_whose_gradient_underflows_are_unhealthy():
    """Issue 17's case: 200 tanh layers of width 64 at torch's default init (χ₁ ≈ 1/3 per layer) — the
    backward signal underflows to exactly 0 near the input.  Known-bad: unhealthy with an error naming the
    underflow.  Known-good: the same depth and width at the critical init (orthogonal, zero bias: χ₁ = 1)
    is healthy."""
    torch = pytest.importorskip("torch")
    from torch import nn

    from invariants.modelcheck import check_model

    def net(critical: bool) -> "nn.Module":
        torch.manual_seed(0)
        layers = []
        for _ in range(200):
            lin = nn.Linear(64, 64)
            if critical:
                nn.init.orthogonal_(lin.weight)
                nn.init.zeros_(lin.bias)
            layers += [lin, nn.Tanh()]
        return nn.Sequential(*layers, nn.Linear(64, 4))

    bad = check_model(net(False))
    under = [f for f in bad.findings if "underflow_at" in f.figures]
    assert bad.status == "unhealthy" and under and under[0].severity == "error", [f.message for f in bad.findings]
    assert "below the floating-point range" in under[0].message
    good = check_model(net(True))
    assert good.status == "healthy", [f.message for f in good.findings]


# ------------------------------------------------------------------------------------------ torch probe


def test_torch_probe_records_input_moments_and_scale_invariance():
    torch = pytest.importorskip("torch")
    from torch import nn

    from invariants.frameworks.torch.model import view

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 16), nn.Dropout(0.0),
                          nn.LayerNorm(16), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    x = torch.randn(32, 8)
    v = view(model, "m", x)
    si = {n.name: n.scale_invariant for n in v.nodes}
    assert si == {"0": True, "3": True, "6": False, "8": None}  # BN; Dropout then LN; ReLU; nothing (output)
    s0 = v.probe.get("0")
    assert s0.input_moment == pytest.approx(float(torch.mean(x.double() ** 2)))
    assert (s0.input_width, s0.input_rows) == (8, 32)
    # E[g²] at the first input: the gradient of L = Σ y·r with respect to x, by autograd directly
    xg = x.clone().requires_grad_(True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        y = model(xg)
    r = torch.tensor(np.random.default_rng(0).standard_normal(tuple(y.shape)), dtype=y.dtype)
    (g,) = torch.autograd.grad((y * r).sum(), xg)
    assert s0.input_grad_moment == pytest.approx(float(torch.mean(g.double() ** 2)), rel=1e-5)
    assert all(s.input_moment is not None for s in v.probe.signals)


def test_a_trend_through_layers_that_all_feed_a_norm_is_a_note():
    """Known-good: the same 1e5x gradient growth where every layer feeds a norm (no weight scale can move
    it) is a note that says so; known-bad: without the norms it is an error (previous test)."""
    bad = [(f"blocks.{b}.conv", 1.0, 1e-3 * 0.1 ** (6 - b), 256) for b in range(6)]
    view = _view(bad + [("head", 1.0, 1.0, 256)])
    for n in view.nodes[:-1]:
        n.scale_invariant = True
    (f,) = signal(view)[0]
    assert (f.kind, f.severity) == ("signal-backward", "note") and f.figures["normalized"]
    assert "feeds a normalization" in f.message
