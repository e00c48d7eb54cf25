"""General claims (DEF-WEIGHT-01, DEF-LEARNABLE-01, INIT-SMALL-01, INIT-SGD-01): every oracle the evidence
relies on rejects a known-bad input (mutation self-tests); test_claims_evidence.py runs the evidence itself."""
from __future__ import annotations

import numpy as np
import pytest

import invariants.reference.training as training
from invariants.claims import get
from invariants.claims.general import def_weight_01, def_learnable_01, init_sgd_01, init_small_01
from invariants.experiments import fits, networks, oracles
from invariants.reference import Architecture, Optimizer, forward, init_params, loss_and_grad


# --------------------------------------------------------------------------- helpers


def test_grid_data_is_deterministic_and_offset():
    x1, t1 = networks.grid_data()
    x2, t2 = networks.grid_data(offset=3.0)
    assert x1.shape == (64, 2) and t1.shape == (64, 1)
    assert np.array_equal(x1, x2) and np.array_equal(t2, t1 + 3.0)


@pytest.mark.parametrize("shape", [(16, 16), (8, 2), (2, 8), (1, 16), (16, 1), (5, 3)])
def test_dct_init_has_pairwise_distinct_rows_and_orthonormal_short_side(shape):
    w = networks.dct_init(shape)
    assert w.shape == shape
    assert len({row.tobytes() for row in w}) == shape[0]
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


def test_fully_tied_oracle_flags_a_one_ulp_nudge():
    arch = Architecture((2, 4, 3, 1), "tanh")
    params = init_params(arch, 0.3, 0.1)
    assert oracles.fully_tied(arch, params) and oracles.tied_pairs(arch, params) == 6 + 3
    nudged = {k: v.copy() for k, v in params.items()}
    nudged["b2"][1] = np.nextafter(nudged["b2"][1], np.inf)
    assert not oracles.fully_tied(arch, nudged)
    assert oracles.tied_pairs(arch, nudged) == 6 + 1


# --------------------------------------------------------------------------- DEF-WEIGHT-01 mutants


def _first_layer(arch, params, h):
    return forward(arch, params, h).preacts[0]


def _one_ulp_weight(arch, params, h):
    p = dict(params)
    p["W1"] = np.nextafter(params["W1"], np.inf)
    return _first_layer(arch, p, h)


def _slightly_nonlinear(arch, params, h):
    z = _first_layer(arch, params, h)
    return z + 1e-3 * z * z


def _leaky_zero_weight(arch, params, h):
    p = dict(params)
    p["W1"] = np.where(params["W1"] == 0, 1e-6, params["W1"])
    return _first_layer(arch, p, h)


@pytest.mark.parametrize("layer", [_one_ulp_weight, _slightly_nonlinear, _leaky_zero_weight])
def test_weight_property_rejects_a_wrong_layer(layer):
    assert not def_weight_01.weight_is_partial_derivative(layer=layer).passed


# --------------------------------------------------------------------------- DEF-LEARNABLE-01 mutants


def _no_bias_grads(arch, params, x, t, rng=None, masks=None):
    loss, grads = loss_and_grad(arch, params, x, t, rng=rng, masks=masks)
    return loss, {k: np.zeros_like(g) if k.startswith("b") else g for k, g in grads.items()}


def test_learnable_evidence_catches_a_backward_that_drops_bias_gradients(monkeypatch):
    monkeypatch.setattr(def_learnable_01, "loss_and_grad", _no_bias_grads)
    assert not get("DEF-LEARNABLE-01").evidence[0].fn().passed
    monkeypatch.setattr(training, "loss_and_grad", _no_bias_grads)
    assert not def_learnable_01.training_changes_weights_and_biases(steps=20).passed


# --------------------------------------------------------------------------- INIT-SMALL-01 mutants


def test_deterministic_counterexample_rejects_a_symmetric_init():
    def units_0_and_1_tied(shape):
        # equal incoming rows AND equal outgoing columns (copying columns keeps rows 0, 1 equal)
        w = networks.dct_init(shape)
        if shape[0] > 1:
            w[1] = w[0]
        if shape[1] > 1:
            w[:, 1] = w[:, 0]
        return w

    for init in (lambda shape: np.full(shape, 0.25), units_0_and_1_tied):
        run = fits.deterministic_init_trains(init=init, steps=20)
        assert run["ties0"] > 0
        assert not init_small_01.deterministic_init_counterexample(run).passed


def test_vanishing_experiment_rejects_a_fan_scaled_std():
    assert not init_small_01.small_std_vanishes(std=1 / np.sqrt(init_small_01.SMALL_WIDTH)).passed


# --------------------------------------------------------------------------- INIT-SGD-01 mutants


def test_minibatch_property_catches_hidden_dropout():
    result = init_sgd_01.minibatch_noise_keeps_symmetry(hidden_dropout=0.3)
    assert not result.passed and "units separated" in result.detail


class _PerUnitNoise(Optimizer):
    """Broken optimizer: adds independent noise of size 1e-9 to every weight after the step."""

    def step(self, params, grads):
        new = super().step(params, grads)
        rng = np.random.default_rng(self.steps)
        return {k: v + 1e-9 * rng.normal(size=v.shape) if k.startswith("W") else v for k, v in new.items()}


def test_minibatch_property_catches_a_per_unit_noisy_optimizer():
    result = init_sgd_01.minibatch_noise_keeps_symmetry(make_opt=lambda name, **kw: _PerUnitNoise(name=name, **kw))
    assert not result.passed
