"""Honest coverage of random-valued biases and of layers the probe did not measure (a new user's trial:
RoBERTa with FFN biases N(0, 30²) and Mamba with random ``conv1d``/``dt_proj`` biases read "HEALTHY ... 100%
analysed; signal propagation: checked", though no check judges a bias's spread and the probe never measured
Mamba's ``conv1d`` and ``dt_proj``).

The one library default that draws biases at random is torch's ``U(-1/√fan_in, 1/√fan_in)``
(``torch/nn/modules/linear.py``, ``Linear.reset_parameters``; ``torch/nn/modules/conv.py``,
``_ConvNd.reset_parameters``): such a bias is judged and counted.  Hugging Face zeroes Linear biases
(``transformers`` ``RobertaPreTrainedModel._init_weights``): constant, judged by the constant checks.  Any other
random bias is listed as not judged and left out of the analysed share, never accused (Mamba's own
``dt_proj.bias`` is random by design: ``MambaPreTrainedModel._init_weights``)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from invariants.frameworks.torch.model import view as torch_view  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.bias_spread import judged_biases  # noqa: E402
from invariants.modelcheck.coverage import BIAS_NOT_JUDGED, NOT_MEASURED  # noqa: E402
from invariants.render.model import render_model_findings  # noqa: E402


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


X = torch.randn(32, 64, generator=torch.Generator().manual_seed(1))


def _check(model: nn.Module):
    return check_model(model, example_input=X)


def test_torch_default_biases_are_judged_and_counted():
    r = _check(_mlp())
    assert r.coverage.values == r.coverage.total_values and not r.coverage.partial
    assert "100% of" in render_model_findings(r)


def test_zero_biases_are_judged_by_the_constant_checks():
    m = _mlp()
    with torch.no_grad():
        for mod in m:
            if isinstance(mod, nn.Linear):
                mod.bias.zero_()
    r = _check(m)
    assert r.coverage.values == r.coverage.total_values and not r.coverage.partial


def test_a_huge_random_bias_is_listed_as_not_judged_not_accused():
    m = _mlp()
    with torch.no_grad():  # the trial's RoBERTa fault, N(0, 30²) instead of zeros, on the head (no layer after it
        # whose input the signal profile would read)
        m[4].bias.copy_(30 * torch.randn(10, generator=torch.Generator().manual_seed(3)))
    r = _check(m)
    assert [(s.name, s.reason) for s in r.coverage.partial] == [("4.bias", BIAS_NOT_JUDGED)]
    assert r.coverage.values == r.coverage.total_values - 10 and r.coverage.tensors == r.coverage.total_tensors
    text = render_model_findings(r)
    assert "100%" not in text and "1 random-valued biases: spread not judged (4.bias)" in text
    assert not r.errors  # no bias law holds for every library: a miss, not an accusation


def test_each_bias_is_read_once_for_random_values(monkeypatch):
    """bias_spread.bias_judgement reads random_valued once per bias and hands the coverage the not-judged names
    (the coverage read it again for every bias the judgement had not passed: twice per not-judged bias); the
    same partial list as above (known-bad: the huge head bias, known-good: the torch-default ones)."""
    import invariants.modelcheck.bias_spread as B
    import invariants.modelcheck.coverage as C

    calls: list[str] = []
    real = C.random_valued

    def counted(p):
        calls.append(p.name)
        return real(p)

    monkeypatch.setattr(B, "random_valued", counted)
    monkeypatch.setattr(C, "random_valued", counted)
    m = _mlp()
    with torch.no_grad():
        m[4].bias.copy_(30 * torch.randn(10, generator=torch.Generator().manual_seed(3)))
    r = _check(m)
    assert [s.name for s in r.coverage.partial] == ["4.bias"]
    assert sorted(n for n in calls if n.endswith("bias")) == ["0.bias", "2.bias", "4.bias"], calls


def test_a_bias_ten_times_too_narrow_for_the_torch_default_is_not_judged():
    # inside the default's support, so only the law's spread checks tell it apart
    m = _mlp()
    with torch.no_grad():
        m[0].bias.mul_(0.1)
    view = torch_view(m, "mlp", X)
    assert judged_biases(view, 1e-3, 0.99, 10**6) == {"2.bias", "4.bias"}


class _Functional(nn.Module):
    """``gate``'s weight is used without calling the module (as Mamba's fallback path reads ``conv1d`` and
    ``dt_proj``): its output is not in the probe's signal profile."""

    def __init__(self):
        super().__init__()
        self.inp, self.gate, self.out = nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x):
        h = torch.relu(self.inp(x))
        return self.out(h * torch.sigmoid(nn.functional.linear(h, self.gate.weight, self.gate.bias)))


def test_the_verdict_says_on_how_many_layers_the_signal_was_measured():
    torch.manual_seed(0)
    r = _check(_Functional())
    assert r.coverage.signal_layers == (2, 3) and r.coverage.unmeasured == ["gate"]
    assert ("gate.weight", NOT_MEASURED) in [(s.name, s.reason) for s in r.coverage.partial]
    text = render_model_findings(r)
    assert "signal propagation: checked on 2 of 3 layers" in text and "signal not measured at 1 layers: gate" in text
    assert r.to_dict()["coverage"]["unmeasured"] == ["gate"]
    # known-good: every layer called as a module, the line says checked without a count
    full = _check(_mlp())
    assert full.coverage.signal_layers is None and "signal propagation: checked\n" not in render_model_findings(full)
    assert render_model_findings(full).endswith("signal propagation: checked")
    assert "signal_layers" not in full.to_dict()["coverage"]


def test_recurrent_biases_are_judged_against_torchs_hidden_size_bound():
    # torch/nn/modules/rnn.py RNNBase.reset_parameters: every weight and bias U(±1/√hidden_size)
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = nn.LSTM(8, 16, batch_first=True), nn.Linear(16, 3)

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    torch.manual_seed(0)
    m, x = Net(), torch.randn(8, 5, 8, generator=torch.Generator().manual_seed(1))
    assert judged_biases(torch_view(m, "lstm", x), 1e-3, 0.99, 10**6) == {"lstm.bias_ih_l0", "lstm.bias_hh_l0",
                                                                           "head.bias"}
    with torch.no_grad():
        m.lstm.bias_hh_l0.mul_(4)  # beyond the bound: not the default
    assert "lstm.bias_hh_l0" not in judged_biases(torch_view(m, "lstm", x), 1e-3, 0.99, 10**6)
