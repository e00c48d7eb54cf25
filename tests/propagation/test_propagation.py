"""Mean-field signal propagation: quadrature, maps, fixed points, the derived band, and its power."""
from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize

from invariants import propagation as prop
from invariants.reference import Architecture, init_params, loss_and_grad
from invariants.reference import forward as ref_forward
from invariants.reference.activations import ACTIVATIONS, get_activation
from invariants.reference.losses import mse


def _quad(f, q):
    g = lambda z: f(math.sqrt(q) * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    opts = dict(epsabs=0, epsrel=1e-13, limit=400)
    return integrate.quad(g, -np.inf, 0, **opts)[0] + integrate.quad(g, 0, np.inf, **opts)[0]


# -- quadrature ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("q", [1e-4, 0.37, 1.0, 6.0, 243.0])
def test_second_moment_matches_adaptive_quadrature(name, q):
    act = get_activation(name)
    ours = float(prop.second_moment(name, q))
    ref = _quad(lambda x: float(act.f(np.array(x))) ** 2, q)
    assert ours == pytest.approx(ref, rel=1e-10, abs=1e-300)
    d_ours = float(prop.gaussian_expectation(lambda x: act.df(x) ** 2, q))
    d_ref = _quad(lambda x: float(act.df(np.array(x))) ** 2, q)
    assert d_ours == pytest.approx(d_ref, rel=1e-8)


def test_closed_forms():
    qs = np.array([1e-200, 1e-3, 1.0, 7.5, 1e100])
    assert np.allclose(prop.second_moment("identity", qs), qs, rtol=1e-13, atol=0)
    assert np.allclose(prop.second_moment("relu", qs), qs / 2, rtol=1e-13, atol=0)
    small = np.array([1e-3, 0.5, 3.0])
    assert np.allclose(prop.second_moment("sin", small), (1 - np.exp(-2 * small)) / 2, rtol=1e-12)
    # E[tanh(z)^2] to 15 digits against mpmath
    with mpmath.workdps(30):
        ref = mpmath.quad(lambda x: mpmath.tanh(x) ** 2 * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
    assert float(prop.second_moment("tanh", 1.0)) == pytest.approx(float(ref), rel=1e-14)
    assert float(prop.second_moment("tanh", 0.0)) == 0.0


def test_gaussian_expectation_rejects_bad_q():
    with pytest.raises(ValueError):
        prop.gaussian_expectation(np.square, -1.0)
    with pytest.raises(ValueError):
        prop.gaussian_expectation(np.square, np.nan)


# -- maps and fixed points -----------------------------------------------------------------------


def test_fixed_points_against_root_finding():
    # tanh at gain 5/3: q* solves q = (25/9) E[tanh(sqrt(q) z)^2]
    fp = prop.fixed_point("tanh", 25 / 9)
    root = optimize.brentq(lambda q: 25 / 9 * _quad(lambda x: math.tanh(x) ** 2, q) - q, 0.5, 3.0, xtol=1e-14)
    assert fp.converged and fp.q_star == pytest.approx(root, rel=1e-10)
    assert fp.chi == pytest.approx(25 / 9 * _quad(lambda x: (1 - math.tanh(x) ** 2) ** 2, root), rel=1e-9)
    # tanh at the critical gain 1: q -> 0 (algebraically), chi -> 1
    crit = prop.fixed_point("tanh", 1.0)
    assert crit.converged and crit.q_star == 0.0 and crit.chi == pytest.approx(1.0)
    # SELU at LeCun: (0, 1) is the self-normalizing fixed point
    selu = prop.fixed_point("selu", 1.0)
    assert selu.q_star == pytest.approx(1.0, abs=1e-12)
    # ReLU at He: every q is fixed
    assert float(prop.variance_map("relu", 3.7, 2.0)) == pytest.approx(3.7, rel=1e-14)


def test_tanh_critical_decay_is_one_over_2l():
    q = prop.variance_curve("tanh", 1.0, 400)
    l = np.arange(1, 401)
    assert np.allclose(q[200:] * 2 * l[200:], 1.0, atol=0.05)


def test_gradient_factor_examples():
    assert float(prop.chi("identity", 5.0, 1.0)) == pytest.approx(1.0)
    assert float(prop.chi("relu", 5.0, 2.0)) == pytest.approx(1.0)
    assert float(prop.chi("tanh", 0.0, 1.0)) == pytest.approx(1.0)


def test_gradient_curve_closed_forms_and_the_mean_field_backward():
    """p_l/p_L = Π χ: ReLU at σ_w² = 1 halves per layer, He is flat; tanh at its critical point tends to χ = 1;
    the backward curve equals mean_field's grad_ratio (the same recursion with its band)."""
    assert np.allclose(prop.gradient_curve("relu", 1.0, 6), 2.0 ** -np.arange(5, -1, -1))
    assert np.allclose(prop.gradient_curve("relu", 2.0, 6), 1.0)
    # unequal fans: a layer whose fan-out is twice its fan-in doubles Var(W)·N_out (identity: χ = ratio)
    assert np.allclose(prop.gradient_curve("identity", 1.0, 3, fan_ratio=[1.0, 2.0, 2.0]), [4.0, 2.0, 1.0])
    crit = prop.fixed_point("tanh", 1.761, 0.05)
    tail = prop.gradient_curve("tanh", 1.761, 80, 0.05, q0=(crit.q_star - 0.05) / 1.761)  # q_1 = q*
    assert abs(tail[0] / tail[1] - 1.0) < 1e-3 and abs(crit.chi - 1.0) < 1e-3
    for scheme, act in (("he", "relu"), ("lecun", "tanh"), ("glorot", "gelu")):
        mf = prop.mean_field(scheme, act, 12, 64, bias_std=0.1, q0=0.7)
        sw2 = prop.get_scheme(scheme).sigma_w2(64, 64)
        assert np.allclose(prop.gradient_curve(act, sw2, 12, 0.01, 0.7), mf.grad_ratio, rtol=1e-12)
    assert float(prop.gradient_factors("relu", 3.0, 2.0 / 64, 64)) == pytest.approx(float(prop.chi("relu", 3.0, 2.0)))


def test_mean_field_band_closed_forms():
    """Identity: S_l = 2(l-1)/N exactly (g = 1); ReLU: 5(l-1)/N (Hanin & Rolnick's constant 5)."""
    N, L = 256, 20
    for act, r2 in (("identity", 2.0), ("relu", 5.0)):
        scheme = "lecun" if act == "identity" else "he"
        mf = prop.mean_field(scheme, act, L, N)
        l = np.arange(1, L + 1)
        assert np.allclose(mf.forward_sd**2, (r2 * (l - 1) + 2) / N, rtol=1e-9)
    # backward for the identity: per-step variance 2/N, anchored at the top
    mf = prop.mean_field("lecun", "identity", L, N)
    assert np.allclose(mf.backward_sd**2, 2 * (L - np.arange(1, L + 1)) / N, rtol=1e-9)
    assert np.allclose(mf.grad_ratio, 1.0)


def test_band_multiplier():
    k = prop.band_multiplier(50, 64, 1e-6)
    assert 6.3 < k < 6.6
    with pytest.raises(ValueError):
        prop.band_multiplier(50, 64, 0.0)


# -- the reference network -----------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["tanh", "relu", "selu"])
def test_backpropagate_equals_reference_backward(activation):
    """Seeded with the loss gradient, our δ_l reproduce loss_and_grad's bias and weight gradients bitwise."""
    arch = Architecture((7, 9, 8, 5), activation=activation, kernel="blas")
    rng = np.random.default_rng(3)
    params = prop.sample_params(arch, "lecun", rng, bias_std=0.1)
    x, t = rng.standard_normal((6, 7)), rng.standard_normal((6, 5))
    _, grads = loss_and_grad(arch, params, x, t)
    cache = ref_forward(arch, params, x)
    _, delta_top = mse(cache.output, t)
    deltas = prop.backpropagate(arch, params, cache.preacts, delta_top)
    for l, d in enumerate(deltas, start=1):
        assert np.array_equal(d.sum(axis=0), grads[f"b{l}"])
        assert np.array_equal(d.T @ cache.inputs[l - 1], grads[f"W{l}"])


def test_unit_inputs_and_orthogonal_sampler():
    rng = np.random.default_rng(0)
    x = prop.unit_inputs(5, 33, rng)
    assert np.allclose(np.sum(x * x, axis=1), 33.0, rtol=1e-14)
    for shape in [(6, 4), (4, 6), (5, 5)]:
        w = prop.SCHEMES["orthogonal"].sample(shape, rng)
        small = min(shape)
        gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
        assert np.allclose(gram, np.eye(small), atol=1e-12)
        assert np.mean(w * w) == pytest.approx(1 / max(shape), rel=1e-12)


def test_calibration_of_the_band():
    """Independent single-input networks: standardized log deviations have sd ≈ 1 (the band is derived
    per example).  60 networks per case, width 128, depth 20; a 3-sigma window for the sample sd."""
    for scheme, act in (("he", "relu"), ("lecun", "tanh"), ("lecun", "identity")):
        f, b = [], []
        for seed in range(60):
            p = prop.variance_profile(scheme, act, 20, 128, batch=1, seed=seed)
            f.append(p.forward_log_error[-1] / p.forward_sd[-1])
            b.append(p.backward_log_error[0] / p.backward_sd[0])
            assert p.passed
        for z in (np.array(f), np.array(b)):
            assert 0.7 < np.std(z) < 1.3, (scheme, act, np.std(z))
            assert abs(np.mean(z)) < 0.6


@settings(max_examples=6, deadline=None)
@given(pair=st.sampled_from([("lecun", "identity"), ("he", "relu"), ("lecun", "selu"), ("glorot", "tanh"),
                             ("std0.01", "relu"), ("std1", "tanh"), ("lecun", "gelu")]),
       width=st.integers(256, 300), depth=st.integers(2, 50), seed=st.integers(0, 2**32 - 1))
def test_reference_network_follows_mean_field(pair, width, depth, seed):
    p = prop.variance_profile(pair[0], pair[1], depth, width, batch=64, seed=seed)
    assert p.passed, (pair, width, depth, seed, p.worst_z())


def test_unequal_widths_glorot():
    """Glorot with alternating fans: the per-layer factors 2·n_in/(n_in+n_out) alternate (0.8, 1.2)."""
    widths = (256, 384) * 10 + (256,)
    p = prop.variance_profile("glorot", "identity", 20, widths, batch=64, seed=5)
    assert p.passed
    factors = p.forward_predicted[1:] / p.forward_predicted[:-1]
    assert np.allclose(factors[::2], 2 * 384 / 640) and np.allclose(factors[1::2], 2 * 256 / 640)


# -- power: wrong schemes are rejected ------------------------------------------------------------


@pytest.mark.parametrize("activation, nominal, factor", [("identity", "lecun", 1.25), ("identity", "lecun", 0.8),
                                                         ("relu", "he", 1.25), ("tanh", "lecun", 1.5)])
def test_band_rejects_a_mis_scaled_network(activation, nominal, factor):
    base = prop.SCHEMES[nominal]
    mutant = prop.Scheme("mutant", lambda fi, fo: factor * base.variance(fi, fo))
    p = prop.variance_profile(mutant, activation, 50, 256, batch=64, seed=11, reference_scheme=nominal)
    assert not p.passed
    ok = prop.variance_profile(base, activation, 50, 256, batch=64, seed=11)
    assert ok.passed


def test_band_rejects_lecun_prediction_for_he_network():
    p = prop.variance_profile("he", "relu", 30, 256, batch=64, seed=2, reference_scheme="lecun")
    assert not p.forward_ok


def test_trends():
    assert prop.forward_trend(prop.variance_profile("std0.01", "identity", 30, 256, seed=1)) == "vanishing"
    assert prop.forward_trend(prop.variance_profile("std1", "relu", 30, 256, seed=1)) == "exploding"
    assert prop.forward_trend(prop.variance_profile("he", "relu", 30, 256, seed=1)) == "steady"
    assert prop.backward_trend(prop.variance_profile("std0.01", "tanh", 30, 256, seed=1)) == "vanishing"
    sat = prop.variance_profile("std1", "tanh", 30, 256, seed=1).saturated_fraction
    assert sat is not None and sat.min() > 0.8


def test_profile_to_dict_is_json():
    p = prop.variance_profile("lecun", "tanh", 5, 256, batch=8, seed=0)
    d = json.loads(json.dumps(p.to_dict()))
    assert d["layer"] == [1, 2, 3, 4, 5] and len(d["forward_measured"]) == 5 and len(d["chi"]) == 4
    assert d["passed"] is True and len(d["saturated_fraction"]) == 4


@pytest.mark.parametrize("kwargs", [dict(depth=0), dict(width=(256, 256)), dict(batch=0), dict(alpha=2.0),
                                    dict(scheme="nope"), dict(activation="nope")])
def test_profile_validation(kwargs):
    args = dict(scheme="lecun", activation="tanh", depth=3, width=16, batch=4)
    args.update(kwargs)
    with pytest.raises(ValueError):
        prop.variance_profile(**args)


def test_init_params_roundtrip():
    """sample_params builds arrays of the architecture's shapes (float64)."""
    arch = Architecture((4, 3, 2), activation="relu", kernel="blas")
    params = prop.sample_params(arch, "he", np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == arch.param_shapes()
    assert init_params(arch, params, 0.0)["W1"].dtype == np.float64
