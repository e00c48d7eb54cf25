"""Issue 15 results2 claims (VAR-WIDTHS-01, BIAS-FORGET-01, BIAS-PRIOR-01, NORM-SCALE-01): the numpy models the
evidence relies on agree with finite differences and with torch (every evidence passing and its mutant failing:
tests/claims/test_evidence_mutants.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from invariants.claims import get
from invariants.claims.bias import forget_01
from invariants.claims.seed import quotes_not_in_seed
from invariants.claims.variance import widths_01
from invariants.experiments import norm_scale
from invariants.reference import lstm
from invariants.studies import forget_bias

CLAIMS = ["VAR-WIDTHS-01", "BIAS-FORGET-01", "BIAS-PRIOR-01", "NORM-SCALE-01"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_claim_is_complete(claim_id):
    c = get(claim_id)
    assert c.scope and c.references and c.derivation and c.conditions
    assert not quotes_not_in_seed(list(c.seed_quotes))


# ------------------------------------------------------------------------------------------------ VAR-WIDTHS-01


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_width_totals_telescope_and_glorot_cost_compounds(seed):
    rng = np.random.default_rng(seed)
    widths = tuple(int(n) for n in rng.integers(1, 500, size=rng.integers(2, 12)))
    for rule in widths_01.RULES:
        a, b = widths_01.factors(widths, rule)
        assert np.isclose(np.prod(a) / np.prod(b), widths[0] / widths[-1], rtol=1e-9)
    a, b = widths_01.factors(widths, "glorot")
    P = np.prod([widths_01.pair_cost(i, o) for i, o in zip(widths[:-1], widths[1:])])
    assert np.allclose(a + b, 2.0) and P <= 1 + 1e-12
    assert np.isclose(np.prod(a), np.sqrt(P * widths[0] / widths[-1]), rtol=1e-9)
    a, b = widths_01.factors(widths, "fan_in")
    assert np.allclose(a, 1.0) and np.isclose(np.prod(b), widths[-1] / widths[0], rtol=1e-9)


def test_width_evidence_rejects_the_relu_formula_without_the_first_layer_gain():
    def no_first(widths, rule, act):
        q, b = widths_01.closed_form(widths, rule, "identity")
        return q, b

    assert not widths_01.reference_networks(no_first).passed


# ------------------------------------------------------------------------------------------------ BIAS-FORGET-01


def _lstm_loss(params, x, dh, dc):
    h, c, _ = lstm.forward(params, x)
    return float(np.sum(h * dh) + np.sum(c * dc))


def test_reference_lstm_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    params = lstm.torch_default(3, 4, rng)
    x = rng.standard_normal((2, 5, 3))
    dh, dc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    _, _, cache = lstm.forward(params, x)
    grads, dxs = lstm.backward(params, cache, dh, dc)
    eps = 1e-6
    for name in params:
        for idx in [tuple(rng.integers(0, s) for s in params[name].shape) for _ in range(5)]:
            up = {k: v.copy() for k, v in params.items()}
            dn = {k: v.copy() for k, v in params.items()}
            up[name][idx] += eps
            dn[name][idx] -= eps
            fd = (_lstm_loss(up, x, dh, dc) - _lstm_loss(dn, x, dh, dc)) / (2 * eps)
            assert abs(fd - grads[name][idx]) < 1e-7 * max(1.0, abs(fd)), (name, idx)
    xp, xm = x.copy(), x.copy()
    xp[1, 0, 2] += eps
    xm[1, 0, 2] -= eps
    fd = (_lstm_loss(params, xp, dh, dc) - _lstm_loss(params, xm, dh, dc)) / (2 * eps)
    assert abs(fd - dxs[0][1, 2]) < 1e-7


def test_reference_lstm_equals_torch_lstm():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    D, H = 3, 5
    net = torch.nn.LSTM(D, H, batch_first=True).double()
    params = {"W_ih": net.weight_ih_l0.detach().numpy().copy(), "W_hh": net.weight_hh_l0.detach().numpy().copy(),
              "b": (net.bias_ih_l0 + net.bias_hh_l0).detach().numpy().copy()}
    x = np.random.default_rng(1).standard_normal((4, 7, D))
    out, (h_t, c_t) = net(torch.from_numpy(x))
    h, c, _ = lstm.forward(params, x)
    assert np.allclose(h, h_t[0].detach().numpy(), atol=1e-12) and np.allclose(c, c_t[0].detach().numpy(), atol=1e-12)
    # the audit's reading of reset_parameters matches what torch does: forget biases are not 1
    bound = 1 / np.sqrt(H)
    assert np.all(np.abs(net.bias_ih_l0.detach().numpy()[H:2 * H]) <= bound)


def test_forget_audit_reads_reset_parameters_only():
    body = forget_01.reset_parameters_body(forget_01.torch_rnn_source())
    assert body.startswith("def reset_parameters") and "init.uniform_" in body and "def check_input" not in body


def test_first_below_and_stored_study_shape():
    assert forget_bias.first_below(np.r_[np.ones(30), np.zeros(30)], 0.2, 20) == 47  # window of steps 28..47 holds 3 ones
    assert forget_bias.first_below(np.ones(40), 0.2, 20) is None
    data = forget_01.stored_study()
    assert len(data["runs"]) == len(forget_bias.SEEDS) * len(forget_bias.BIASES) * len(forget_bias.RUNS)
    assert json.loads(json.dumps(data)) == data


# ------------------------------------------------------------------------------------------------ NORM-SCALE-01


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_norm_model_gradient_matches_finite_differences(norm):
    x, t, params = norm_scale.task()
    _, grads, _ = norm_scale.loss_and_grad(params, x, t, norm, 1e-5)
    rng = np.random.default_rng(0)
    eps = 1e-6
    for name in params:
        for _ in range(4):
            idx = tuple(rng.integers(0, s) for s in params[name].shape)
            up = {k: v.copy() for k, v in params.items()}
            dn = {k: v.copy() for k, v in params.items()}
            up[name][idx] += eps
            dn[name][idx] -= eps
            lu, ld = norm_scale.loss_and_grad(up, x, t, norm, 1e-5)[0], norm_scale.loss_and_grad(dn, x, t, norm, 1e-5)[0]
            fd = (lu - ld) / (2 * eps)
            assert abs(fd - grads[name][idx]) < 1e-6 * max(1.0, abs(fd)), (name, idx)


def test_scale_invariance_gradient_is_orthogonal_and_scales_as_one_over_c():
    x, t, params = norm_scale.task()
    _, g1, _ = norm_scale.loss_and_grad(params, x, t, "batch", 0.0)
    scaled = {**params, "W": params["W"] * 3.0}
    _, g3, _ = norm_scale.loss_and_grad(scaled, x, t, "batch", 0.0)
    assert np.allclose(g3["W"] * 3.0, g1["W"], rtol=1e-10, atol=1e-14)
    assert abs(np.sum(g1["W"] * params["W"])) < 1e-12 * np.linalg.norm(g1["W"]) * np.linalg.norm(params["W"]) * 100


def test_recall_evidence_says_when_the_stored_study_is_absent(monkeypatch):
    monkeypatch.setattr(forget_01, "stored_study", lambda: None)
    result = forget_01.recall_training()
    assert result.passed and "stored study not available" in result.detail


def test_storedstudy_summary_rejects_a_zero_bias_that_learned_under_sgd():
    data = forget_01.stored_study()
    tampered = json.loads(json.dumps(data))
    for r in tampered["runs"]:
        if r["optimizer"] == "sgd" and r["forget_bias"] == 0.0:
            r["first_below"], r["last_mean"] = 100, 0.01
    assert forget_01.study_summary(data)[0]
    assert not forget_01.study_summary(tampered)[0]
