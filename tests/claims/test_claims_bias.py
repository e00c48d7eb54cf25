"""Bias claims (BIAS-ZERO-01, BIAS-EFFECT-01, BIAS-INPUT-01): every oracle the evidence relies on rejects a
known-bad input (mutation self-tests); test_claims_evidence.py runs the evidence itself."""
from __future__ import annotations

import math

import numpy as np
import pytest

import invariants.reference.training as training
from invariants.claims.bias import effect_01, input_01, zero_01
from invariants.experiments import fits, rounding
from invariants.experiments.oracles import tied_pairs
from invariants.reference import Architecture, Optimizer, loss_and_grad, random_params


# --------------------------------------------------------------------------- oracles: ties


def test_tie_oracle_flags_a_copied_unit_and_not_a_one_ulp_nudge():
    arch = Architecture((3, 5, 2), "tanh")
    params = random_params(arch, np.random.default_rng(7), bias_std=0.5)
    assert tied_pairs(arch, params) == 0
    tied = {k: v.copy() for k, v in params.items()}
    tied["W1"][3], tied["b1"][3], tied["W2"][:, 3] = tied["W1"][1], tied["b1"][1], tied["W2"][:, 1]
    assert tied_pairs(arch, tied) == 1
    nudged = {k: v.copy() for k, v in tied.items()}
    nudged["W2"][0, 3] = np.nextafter(nudged["W2"][0, 3], np.inf)
    assert tied_pairs(arch, nudged) == 0


class _Symmetrizing(Optimizer):
    """Broken optimizer: after each step, copies hidden unit 0 of layer 1 onto unit 1."""

    def step(self, params, grads):
        new = {k: v.copy() for k, v in super().step(params, grads).items()}
        new["W1"][1], new["b1"][1], new["W2"][:, 1] = new["W1"][0], new["b1"][0], new["W2"][:, 0]
        return new


def test_zero_bias_property_catches_a_symmetrizing_optimizer():
    result = zero_01.zero_bias_no_ties(make_opt=lambda name, **kw: _Symmetrizing(name=name, **kw))
    assert not result.passed
    assert "came within" in result.detail  # the two units' relative distance fell to 0


# --------------------------------------------------------------------------- oracles: rounding caveat


def test_round_significand_matches_float32_and_rounds_ties_to_even():
    x = np.random.default_rng(0).normal(size=10_000) * 10.0 ** np.random.default_rng(1).integers(-8, 8, 10_000)
    assert np.array_equal(rounding.round_significand(x, 24), x.astype(np.float32).astype(np.float64))
    # bfloat16 spacing on [1, 2) is 2^-7: midpoints go to the even neighbour
    assert rounding.round_significand(np.array([1 + 2**-8]), 8)[0] == 1.0
    assert rounding.round_significand(np.array([1 + 3 * 2**-8]), 8)[0] == 1 + 2**-6
    assert rounding.round_significand(np.array([-(1 + 3 * 2**-8)]), 8)[0] == -(1 + 2**-6)
    assert rounding.round_significand(np.array([0.0]), 8)[0] == 0.0


def test_tie_probability_within_the_analytic_bracket_and_matches_monte_carlo():
    for bits in (8, 11, 24, 53):
        q = rounding.tie_probability(bits, 1.0)
        # ∫ φ² |x| dx = 1/(2π) and ulp(x)/|x| ∈ (2^-p, 2^(1-p)]
        assert 2.0**-bits / (2 * math.pi) < q <= 2.0 ** (1 - bits) / (2 * math.pi)
    x = rounding.round_significand(np.random.default_rng(3).normal(size=400_000), 8)
    _, counts = np.unique(x, return_counts=True)
    empirical = np.sum(counts * (counts - 1) / 2) / (len(x) * (len(x) - 1) / 2)
    assert abs(empirical / rounding.tie_probability(8, 1.0) - 1) < 0.03


def test_rounding_caveat_rejects_a_wrong_probability(monkeypatch):
    """If the computed collision probability were off by ×2, Monte Carlo must disagree."""
    real = rounding.tie_probability
    monkeypatch.setattr(zero_01, "tie_probability", lambda bits, std=1.0: 2 * real(bits, std))
    result = zero_01.float_rounding_caveat(n_seeds=100)
    assert not result.passed


def test_dead_unit_caveat_needs_weight_decay():
    assert not zero_01.dead_units_merge_under_weight_decay(weight_decay=0.0).passed


# --------------------------------------------------------------------------- oracles: biases matter


def _zero_bias_grads(arch, params, x, t, rng=None, masks=None):
    loss, grads = loss_and_grad(arch, params, x, t, rng=rng, masks=masks)
    return loss, {k: np.zeros_like(g) if k.startswith("b") else g for k, g in grads.items()}


def test_bias_counterexamples_fail_when_biases_are_not_trained(monkeypatch):
    monkeypatch.setattr(training, "loss_and_grad", _zero_bias_grads)
    run = fits.offset_fit(steps=50)
    assert not effect_01.zero_init_biases_matter(run).passed
    assert not input_01.bias_is_not_constant(run).passed


def test_output_bias_oracle_rejects_an_activation_with_nonzero_value_at_zero():
    # sigmoid(0) = 1/2: hidden units output 1/2, so W2 gets a gradient at the all-zero point
    assert not effect_01.only_output_bias_learns(fits.zero_weights_fit(activation="sigmoid")).passed


# --------------------------------------------------------------------------- oracles: bias as a weight


def _scaled_bias(params):
    out = input_01.augment_first_layer(params)
    out["W1"] = out["W1"].copy()
    out["W1"][:, -1] *= 1 + 1e-9
    return out


def _bias_in_first_column(params):
    out = input_01.augment_first_layer(params)
    out["W1"] = np.roll(out["W1"], 1, axis=1)
    return out


def _one_ulp_bias(params):
    out = input_01.augment_first_layer(params)
    out["W1"] = out["W1"].copy()
    out["W1"][:, -1] = np.nextafter(out["W1"][:, -1], np.inf)
    return out


@pytest.mark.parametrize("mutant", [_scaled_bias, _bias_in_first_column, _one_ulp_bias])
def test_bias_input_property_rejects_a_wrong_augmentation(mutant):
    assert not input_01.bias_is_weight_on_constant_input(augment=mutant).passed


def test_gamma_is_highams():
    assert rounding.gamma(1) == pytest.approx(2.0**-53, rel=1e-15)
    assert rounding.gamma(4) > 4 * 2.0**-53
