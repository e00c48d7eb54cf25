"""Model check on PyTorch models: every fault kind of issue 6, healthy models, the probe's hygiene,
the unit layout checked against torch itself, and the assertions of ``invariants.testing``."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import modelcheck_models as M  # noqa: E402
from invariants import cli  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.frameworks.torch.model import extract_params  # noqa: E402
from invariants.render import render_model  # noqa: E402
from invariants.testing import assert_init_healthy, assert_initializer  # noqa: E402

CASES = [
    # factory, error kinds (exactly), note kinds (exactly)
    ("torch_healthy", set(), set()),
    ("torch_healthy_cnn", set(), {"zero-residual-branch"}),
    ("torch_gate_orthogonal", set(), set()),
    ("torch_zero_head", set(), {"zero-output-layer"}),
    ("torch_zero_residual", set(), {"zero-residual-branch"}),
    ("torch_reused_seed", {"identical-tensors"}, set()),
    ("torch_zero_embedding", {"constant-tensor", "signal-forward"}, set()),
    ("torch_zero_middle", {"constant-tensor", "signal-forward"}, set()),
    ("torch_dirac_grouped", {"dead-units"}, set()),
    ("torch_packed_orthogonal", set(), {"packed-orthogonal"}),
    ("torch_squared_std", {"inconsistent-scale", "signal-forward", "signal-backward"}, set()),
    ("torch_constant", {"constant-tensor", "interchangeable-units"}, set()),
    ("torch_exploding", {"signal-forward", "signal-backward"}, {"variance"}),
]


@pytest.mark.parametrize("factory, errors, notes", CASES, ids=[c[0] for c in CASES])
def test_fault_kinds(factory, errors, notes):
    report = check_model(getattr(M, factory)(), name=factory)
    assert report.kinds("error") == errors, render_model(report)
    assert report.kinds("note") == notes, render_model(report)
    assert report.ok == (not errors)


def test_figures_of_the_findings():
    (f,) = check_model(M.torch_reused_seed()).find("identical-tensors")
    assert f.params == ("2.weight", "4.weight") and f.figures["values_per_copy"] == 64 * 64
    (f,) = check_model(M.torch_dirac_grouped()).find("dead-units")
    assert f.figures["dead"] == 12 and f.figures["dead_for_ever"] == 12 and f.figures["indices"] == list(range(4, 16))
    assert "relu'(0) = 0" in f.message and f.figures["activation"] == "relu"
    (f,) = check_model(M.torch_packed_orthogonal()).find("packed-orthogonal")
    assert f.params == ("lstm.weight_hh_l0",) and min(f.figures["block_errors"]) > 0.1
    (f,) = check_model(M.torch_squared_std()).find("inconsistent-scale")
    assert f.figures["squared_std_of"] == "kaiming_normal_torch"
    (f,) = check_model(M.torch_zero_embedding()).find("constant-tensor")
    assert f.params == ("emb.weight",) and f.figures["revived_at_first_step"] == 32


def test_zero_middle_tanh_layer_revives():
    (f,) = check_model(M.torch_zero_middle_tanh()).find("constant-tensor")
    assert f.figures["revived_at_first_step"] == 32 and f.figures["dead_for_ever"] == 0


def test_transformer_encoder_clones_are_found():
    torch.manual_seed(0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2, enable_nested_tensor=False)
    report = check_model(enc, example_input=torch.randn(4, 5, 16))
    (f,) = report.find("identical-tensors")  # nn.TransformerEncoder deep-copies its layer
    assert "'layers.0' and 'layers.1'" in f.message and len(f.figures["groups"]) == 6
    assert f.severity == "error"  # the public report says it is a fault, not our opinion: cite it
    assert "pytorch/pytorch#72253" in f.message and "#86274" in f.message


def test_tied_weights_are_not_copies():
    torch.manual_seed(0)
    emb = nn.Embedding(50, 16)
    head = nn.Linear(16, 50, bias=False)
    head.weight = emb.weight  # weight tying: one parameter

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.fc, self.head = emb, nn.Linear(16, 16), head

        def forward(self, ids):
            return self.head(torch.tanh(self.fc(self.emb(ids))))

    params, _, _ = extract_params(LM())
    assert [p.name for p in params if p.size == 800] == ["emb.weight"]
    assert "identical-tensors" not in check_model(LM()).kinds()


def test_probe_leaves_the_model_and_rng_untouched():
    m = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    before = {k: v.clone() for k, v in m.state_dict().items()}
    rng_state = torch.random.get_rng_state()
    report = check_model(m)
    assert report.probe.startswith("32 inputs")
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert torch.equal(rng_state, torch.random.get_rng_state())
    assert all(not m._forward_hooks for m in m.modules())
    assert all(p.grad is None for p in m.parameters())


def test_probe_failure_is_a_note_and_static_checks_still_run():
    class NeedsTwo(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)
            nn.init.zeros_(self.a.weight)

        def forward(self, x, y):
            return self.a(x) + self.b(y)

    report = check_model(NeedsTwo())
    assert "probe" in report.kinds("note") and "constant-tensor" in report.kinds("error")
    report = check_model(NeedsTwo(), example_input=(torch.randn(3, 4), torch.randn(3, 4)))
    assert "probe" not in report.kinds()


@pytest.mark.parametrize("make", [
    lambda: nn.Linear(6, 5, bias=False),
    lambda: nn.Conv2d(8, 6, 3, groups=2, bias=False),
    lambda: nn.Conv2d(4, 8, 3, groups=4, bias=False),   # depthwise, multiplier 2
    lambda: nn.ConvTranspose2d(4, 6, 3, groups=2, bias=False),
    lambda: nn.Conv1d(3, 4, 5, bias=False),
])
def test_output_units_match_torch_semantics(make):
    """Feed only unit j's incoming weights (per ``Layer.unit_rows``): torch's output is nonzero in unit j only."""
    m = make()
    (node,) = extract_params(m)[1]
    shape = tuple(m.weight.shape)
    index = np.arange(int(np.prod(shape))).reshape(shape)
    rows = node.layer.unit_rows(layout="torch", w=index)
    x = torch.randn((2, node.layer.in_features) + (7,) * len(node.layer.kernel))
    for j in range(node.n_units):
        w = np.zeros(int(np.prod(shape)), dtype=np.float32)
        w[rows[j]] = 1.0
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(w.reshape(shape)))
            y = m(x)
        y = y.movedim(1, -1) if y.ndim > 2 else y
        alive = (y.abs().reshape(-1, node.n_units).sum(0) > 0).nonzero().ravel().tolist()
        assert alive == [j]


def test_cli_torch_target(capsys):
    assert cli.main(["check-model", "modelcheck_models:torch_dirac_grouped"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "[dead-units] 12 of 16 output channels of layer '2'" in out and "dead for ever" in out
    assert "identity/dirac x 1" in out  # the variance table names the pattern
    assert cli.main(["check-model", "modelcheck_models:torch_healthy", "--input-shape", "8,16", "-q"]) == 0


# ------------------------------------------------------------------------------------------ assertions


def test_assert_init_healthy_passes_and_fails_with_figures():
    assert assert_init_healthy(M.torch_healthy()).ok
    with pytest.raises(AssertionError) as info:
        assert_init_healthy(M.torch_reused_seed())
    text = " ".join(str(info.value).split())
    assert "not healthy" in text and "[identical-tensors]" in text and "2.weight = 4.weight (64x64)" in text
    assert_init_healthy(M.torch_reused_seed(), allow=("identical-tensors",))
    with pytest.raises(AssertionError, match="zero-output-layer"):
        assert_init_healthy(M.torch_zero_head(), strict=True)


def test_assert_init_healthy_fails_an_incomplete_check():
    """A model the probe cannot run (a Linear that expects 7 features after a Linear giving 8) has no error,
    but it was not fully checked: known bad unless allow_incomplete; the complete check passes (known good)."""
    broken = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(7, 2))
    with pytest.raises(AssertionError, match="incomplete: signal propagation not checked"):
        assert_init_healthy(broken)
    assert assert_init_healthy(broken, allow_incomplete=True).status == "incomplete"
    assert assert_init_healthy(M.torch_healthy()).status == "healthy"


def test_assert_initializer_torch():
    assert_initializer(nn.init.kaiming_normal_, "kaiming_normal", layer="conv2d(16,32,k=3)")

    def wrong(t):  # He std computed from fan_out: a deviation the auditor explains
        fan_out = t.shape[0] * int(np.prod(t.shape[2:]))
        with torch.no_grad():
            return t.normal_(0.0, float(np.sqrt(2.0 / fan_out)))

    with pytest.raises(AssertionError) as info:
        assert_initializer(wrong, "kaiming_normal", layer="conv2d(16,64,k=3)")
    text = " ".join(str(info.value).split())
    assert "deviates" in text and "instead of fan_in 144" in text and "measured variance" in text


def test_signal_trend_wording_counts_the_layers_between_measurements():
    """k measurements span k - 1 layers: the per-layer factor is the geometric mean over them, and a trend over
    one layer states no separate per-layer figure (was "402x growth over 2 layers, 402x per layer")."""
    (f,) = check_model(M.torch_exploding()).find("signal-forward")
    steps = f.figures["layers"] - 1
    assert f"growth through {steps} layers, geometric mean {f.figures['per_layer']:.3g}x per layer" in f.message
    assert abs(f.figures["per_layer"] ** steps / f.figures["ratio"] - 1) < 1e-9
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(16, 256), nn.ReLU(), nn.Linear(256, 4))
    nn.init.normal_(m[0].weight, 0.0, 8.0)
    (f,) = check_model(m, input_shape=(16,)).find("signal-forward")
    assert f.figures["layers"] == 2 and "x growth through 1 layer)" in f.message and "per layer" not in f.message



def test_inferred_probe_input_is_built_once_per_check(monkeypatch):
    """invariants/modelcheck/check.py ``check_model`` under ``keep_inferred_inputs``: the cost estimate and the
    probe share one inferred input (torch's ``layer_input`` runs trial forwards to find a conv net's side).
    Known-bad (what it did): built twice in one check with an estimate.  Known-good: once per check, the same
    report as with no estimate, and a second check (the model edited between them) builds it again."""
    from invariants.frameworks.torch import model as tm

    calls = []
    real = tm.infer_input
    monkeypatch.setattr(tm, "infer_input", lambda *a, **k: calls.append(a[1:]) or real(*a, **k))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    estimates = []
    rep = check_model(net, on_estimate=lambda cost, note: estimates.append(cost)).to_dict()
    assert len(estimates) == 1 and len(calls) == 1, calls
    plain = check_model(net).to_dict()
    assert len(calls) == 2 and rep["probe"] and rep["signal"]
    assert {k: v for k, v in rep.items() if k != "seconds"} == {k: v for k, v in plain.items() if k != "seconds"}
