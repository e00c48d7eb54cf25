"""BIAS-INPUT-01: the bias is exactly the weight on a constant-1 input, but it is not itself constant.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import check, run_property
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register, Reading
from invariants.experiments.fits import OFFSET_STEPS, offset_fit, offset_fit_default
from invariants.experiments.mutants import frozen_biases
from invariants.experiments.rounding import gamma
from invariants.experiments.strategies import SEEDS
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import Architecture, Params, canonical_sum, forward, loss_and_grad, random_params


def augment_first_layer(params: Params) -> Params:
    """Fold b1 into W1 as the weight on an extra, constant-1 input (last column); b1 becomes 0."""
    out = dict(params)
    out["W1"] = np.concatenate([params["W1"], params["b1"][:, None]], axis=1)
    out["b1"] = np.zeros_like(params["b1"])
    return out


def _bias_nudged_by_one_ulp(params: Params) -> Params:
    """Mutant augmentation: the constant input's weight is b1 moved up by one ulp."""
    out = augment_first_layer(params)
    out["W1"] = out["W1"].copy()
    out["W1"][:, -1] = np.nextafter(out["W1"][:, -1], np.inf)
    return out


@mutant("the constant input's weight is b1 moved by one ulp",
        lambda: bias_is_weight_on_constant_input(augment=_bias_nudged_by_one_ulp))
def bias_is_weight_on_constant_input(augment=augment_first_layer) -> EvidenceResult:
    """Property: a first-layer bias ≡ a weight on a constant-1 input (forward and gradient).

    ``augment`` is a mutation hook (an augmentation that misplaces or nudges the bias must fail).
    """
    seen = {"examples": 0, "worst": 0.0}

    @verify_settings(20)
    @given(hidden=st.lists(st.integers(1, 6), min_size=0, max_size=2), d=st.integers(1, 6), c=st.integers(1, 3),
           act=st.sampled_from(("tanh", "relu", "sigmoid", "gelu")), batch=st.integers(1, 6), seed=SEEDS)
    def prop(hidden, d, c, act, batch, seed):
        rng = np.random.default_rng(seed)
        arch = Architecture((d, *hidden, c), act)
        aug_arch = Architecture((d + 1, *hidden, c), act)
        x = rng.normal(size=(batch, d))
        x1 = np.concatenate([x, np.ones((batch, 1))], axis=1)
        t = rng.normal(size=(batch, c))
        params = random_params(arch, rng, bias_std=1.0)
        aug = augment(params)
        # (1) forward, general floats: same d+1 summands (b·1 = b exactly), summed in another order
        z = forward(arch, params, x).preacts[0]
        za = forward(aug_arch, aug, x1).preacts[0]
        terms = x[:, None, :] * params["W1"][None, :, :]  # the rounded products, shared by both sides
        bound = 2 * gamma(d) * (np.sum(np.abs(terms), axis=-1) + np.abs(params["b1"]))
        gap = np.abs(z - za)
        assert np.all(gap <= bound), f"|z − z_aug| = {gap.max():.3g} exceeds the rounding bound {bound.max():.3g}"
        assert np.array_equal(za, canonical_sum(np.concatenate(
            [terms, np.broadcast_to(params["b1"], (batch, len(params["b1"])))[..., None]], axis=-1))), (
            "[W b][x; 1] is not the canonical sum of the terms W_jk·x_k and b_j")
        seen["worst"] = max(seen["worst"], float(np.max(gap / np.where(bound > 0, bound, 1.0))))
        # (2) gradient, general floats: within one network, ∂L/∂b1 and the constant-input weight's gradient
        with_both = dict(aug)
        with_both["b1"] = rng.normal(size=aug["b1"].shape)
        _, g = loss_and_grad(aug_arch, with_both, x1, t)
        assert g["b1"].tobytes() == np.ascontiguousarray(g["W1"][:, -1]).tobytes(), (
            "∂L/∂b1 differs from ∂L/∂W1[:, const] (bitwise)")
        # (3) integer-valued first layer: every sum is exact, so the two networks are bitwise identical
        ip = dict(params)
        ip["W1"] = rng.integers(-8, 9, size=params["W1"].shape).astype(float)
        ip["b1"] = rng.integers(-8, 9, size=params["b1"].shape).astype(float)
        xi = rng.integers(-8, 9, size=(batch, d)).astype(float)
        la, ga = loss_and_grad(arch, ip, xi, t)
        lb, gb = loss_and_grad(aug_arch, augment(ip), np.concatenate([xi, np.ones((batch, 1))], axis=1), t)
        assert la == lb, "integer-valued layer: losses differ"
        assert np.array_equal(ga["W1"], gb["W1"][:, :d]) and np.array_equal(ga["b1"], gb["W1"][:, d]), (
            "integer-valued layer: ∂L/∂b1 ≠ gradient of the constant-input weight")
        assert all(np.array_equal(ga[k], gb[k]) for k in ga if k not in ("W1",)), "deeper gradients differ"
        seen["examples"] += 1

    return run_property(prop, lambda: (
        f"{seen['examples']} random networks (depth 1-3, fan_in 1-6): z = W x + b and [W b][x; 1] agree within the "
        f"derived bound 2·γ_fan_in·(Σ_k|W_jk x_k| + |b_j|) (worst gap/bound {seen['worst']:.2f}), and [W b][x; 1] "
        "equals the canonical sum of the terms {W_jk x_k} ∪ {b_j} bit for bit; ∂L/∂b1 equals the constant-input "
        "weight's gradient bit for bit; with integer-valued layers the two networks agree exactly (loss and "
        "every gradient)."))


@mutant("an optimizer that does not train the biases", lambda: bias_is_not_constant(offset_fit(make_opt=frozen_biases)))
def bias_is_not_constant(run=None) -> EvidenceResult:
    r = offset_fit_default() if run is None else run
    changes = {k: float(np.max(np.abs(r["b_final"][k] - r["b_init"][k]))) for k in r["b_init"]}
    ok = all(v > 0 for v in changes.values())
    detail = (f"the input of a bias is the constant 1, the bias is not: in the BIAS-EFFECT-01 fit ({OFFSET_STEPS} Adam "
              "steps) every bias starts at 0 and moves, max |Δb| = "
              + ", ".join(f"{k} {v:.3f}" for k, v in changes.items())
              + f" (b2: 0 → {float(r['b_final']['b2'][0]):.3f})")
    return check(ok, detail, "the biases did not change under training: " + detail)


register(Claim(
    id="BIAS-INPUT-01",
    title="A bias is the weight on a constant-1 input, and that weight is learned, not constant",
    seed_quotes=(
        "Biases, which are constant, are an additional input into the next layer that will always have the value "
        "of 1.",
    ),
    statement=(
        "A layer's bias is exactly a weight on an extra input that always equals 1: z = W x + b = [W b][x; 1] "
        "for every x, and ∂L/∂b equals the gradient of that extra weight; but the bias is not constant — it is a "
        "learned parameter that training changes; only its input (the 1) is constant."
    ),
    verdict=Verdict.VERIFIED,
    scope=("dense layers of MLPs with elementwise activations (reference network), depth 1-3, fan_in 1-6, every "
           "loss the reference supports for the gradient identity; the training counterexample uses full-batch "
           "Adam, 200 steps"),
    readings=(
        Reading("a bias acts as the weight of an additional input into the layer whose value is always 1",
                Verdict.VERIFIED, ("bias ≡ weight on a constant-1 input: forward and gradient",)),
        Reading("biases themselves are constant (not changed by training)", Verdict.REFUTED,
                ("the bias changes under training; its input stays 1",)),
    ),
    conditions=(
        "the bias of a layer is read as the weight attached to a constant-1 input of the layer it belongs to "
        "(z_l = W_l h_{l-1} + b_l; checked on the first layer, where the extra input can be a data column)",
        "in floating point: b·1 = b exactly, so the two forms have identical summands; only the summation order can "
        "differ, so they agree within 2·γ_{fan_in}·(Σ_k|W_jk x_k| + |b_j|) (Higham 2002, eq. 4.4), and exactly when "
        "the sums are exact or summed in the same (canonical) order",
        "'biases, which are constant' fails: biases are trainable and move during training (shown)",
    ),
    derivation=(
        "Σ_k W_jk x_k + b_j = Σ_k W_jk x_k + b_j·1, the j-th entry of [W b][x; 1]; differentiating the loss in b_j "
        "or in the weight on the constant input gives the same Σ_batch δ_j·1. Numerically the products x_k·W_jk "
        "are the same rounded numbers on both sides and 1·b_j is exact; the reference forward adds b after the "
        "canonical sum of the products, the augmented one sorts b in among them, hence the rounding bound. The "
        "bias gradient is nonzero in general (BIAS-EFFECT-01), so training changes the bias."
    ),
    evidence=(
        Evidence("property", "bias ≡ weight on a constant-1 input: forward and gradient",
                 bias_is_weight_on_constant_input),
        Evidence("counterexample", "the bias changes under training; its input stays 1", bias_is_not_constant),
    ),
))
