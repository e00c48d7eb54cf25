"""DEF-LEARNABLE-01: weights and biases are the parameters that training updates.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import check, run_property
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.experiments.mutants import frozen_biases
from invariants.experiments.networks import grid_data
from invariants.experiments.strategies import SEEDS
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import Architecture, loss_and_grad, make_optimizer, random_params, train

#: Activations without a zero-gradient region (every unit receives a gradient at a generic point).
SMOOTH_ACTIVATIONS = ("tanh", "sigmoid", "gelu", "sin", "selu", "leaky_relu")

def _zero_output_layer(arch, rng):
    """Mutant init: random weights but W_L = 0, a non-generic point where every hidden δ vanishes."""
    params = random_params(arch, rng)
    params[f"W{arch.depth}"] = np.zeros_like(params[f"W{arch.depth}"])
    return params


# ``random_params`` is a parameter under the global's own name so that the property's source, from which
# Hypothesis derives its derandomized examples, stays the same
@mutant("a non-generic init: the output layer's weights W_L = 0, so every hidden gradient vanishes",
        lambda: _gradients_nonzero_at_random_init(random_params=_zero_output_layer))
def _gradients_nonzero_at_random_init(random_params=random_params) -> EvidenceResult:
    seen = {"examples": 0, "tensors": 0, "min_norm": np.inf}

    @verify_settings(15)
    @given(hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3), d=st.integers(1, 4),
           c=st.integers(2, 3), act=st.sampled_from(SMOOTH_ACTIVATIONS),
           loss=st.sampled_from(("mse", "softmax_xent")), seed=SEEDS)
    def prop(hidden, d, c, act, loss, seed):
        rng = np.random.default_rng(seed)
        arch = Architecture((d, *hidden, c), act, loss=loss)
        params = random_params(arch, rng)  # zero biases: the common init
        x = rng.normal(size=(8, d))
        t = rng.normal(size=(8, c)) if loss == "mse" else rng.integers(0, c, size=8)
        _, grads = loss_and_grad(arch, params, x, t)
        stepped = make_optimizer("sgd", lr=0.01).step(params, grads)
        for name, g in grads.items():
            norm = float(np.linalg.norm(g))
            assert norm > 0, f"∂L/∂{name} = 0 at a random init ({arch.sizes}, {act}, {loss}, seed={seed})"
            assert not np.array_equal(stepped[name], params[name]), f"one SGD step left {name} unchanged"
            seen["min_norm"] = min(seen["min_norm"], norm)
            seen["tensors"] += 1
        seen["examples"] += 1

    return run_property(prop, lambda: (
        f"{seen['examples']} random networks (depth 2-4, widths 1-6, activations {', '.join(SMOOTH_ACTIVATIONS)}, "
        f"mse and softmax cross-entropy), Lecun-normal weights and zero biases: all {seen['tensors']} gradient "
        f"tensors (every W_l and b_l) nonzero (smallest norm {seen['min_norm']:.2e}) and changed by one SGD step."))


@mutant("an optimizer that does not train the biases",
        lambda: training_changes_weights_and_biases(make_opt=frozen_biases))
def training_changes_weights_and_biases(steps: int = 150, make_opt=make_optimizer) -> EvidenceResult:
    x, t = grid_data()
    arch = Architecture((2, 8, 8, 1), "tanh")
    params = random_params(arch, np.random.default_rng(0))
    res = train(arch, params, x, t, make_opt("adam", lr=0.02), steps)
    final = loss_and_grad(arch, res.params, x, t)[0]
    moved = {k: float(np.max(np.abs(res.params[k] - params[k]))) for k in params}
    smallest = min(moved, key=moved.get)
    ok = all(v > 0 for v in moved.values()) and final < 0.1 * res.losses[0]
    detail = (f"(2, 8, 8, 1) tanh net on 64 grid points, Lecun weights and zero biases, {steps} full-batch Adam "
              f"steps: loss {res.losses[0]:.4f} → {final:.5f}; every tensor moved (max |Δ| per tensor: "
              + ", ".join(f"{k} {v:.2g}" for k, v in moved.items()) + f"; least: {smallest})")
    return check(ok, detail, "training did not move every tensor or reduce the loss ×10: " + detail)


register(Claim(
    id="DEF-LEARNABLE-01",
    title="Weights and biases are the parameters that training updates",
    seed_quotes=(
        "Weights and biases (commonly referred to as w and b) are the learnable parameters of a some machine "
        "learning models, including neural networks.",
    ),
    statement=(
        "In a multilayer perceptron the learnable parameters are exactly the weights W_l and the biases b_l: "
        "the loss is differentiable in each of them (almost everywhere for ReLU-type activations), the gradient with respect to every W_l and every b_l is "
        "nonzero at a generic (e.g. random) initialization, even with zero biases, so gradient-based training "
        "updates all of them and lowers the loss."
    ),
    verdict=Verdict.VERIFIED,
    scope=("MLPs with elementwise activations without a zero-gradient region (reference network), depth 2-4, "
           "widths 1-6, MSE and softmax cross-entropy, one SGD step; a (2, 8, 8, 1) tanh net trained by "
           "full-batch Adam for 150 steps"),
    conditions=(
        "multilayer perceptron (the reference network); other models have further learnable parameters "
        "(e.g. normalization gains and shifts, embeddings)",
        "'nonzero at a generic initialization': at special points a gradient can vanish, e.g. all-zero "
        "weights with φ(0) = 0 freeze every parameter except the output bias (BIAS-EFFECT-01), and dead ReLU "
        "units receive none; the property therefore uses activations without a zero-gradient region",
    ),
    derivation=(
        "∂L/∂W_l = δ_lᵀ h_{l-1} and ∂L/∂b_l = Σ_batch δ_l; for an analytic activation these are real-analytic "
        "functions of the parameters that are not identically zero, so they vanish only on a null set of "
        "initializations; a gradient step θ ← θ − lr·∇L then changes every tensor, and for small enough lr "
        "lowers L (descent lemma). The property checks nonzero gradients on random networks; the experiment "
        "trains one."
    ),
    evidence=(
        Evidence("property", "every gradient tensor is nonzero at a random init", _gradients_nonzero_at_random_init),
        Evidence("experiment", "training moves every W_l and b_l and reduces the loss",
                 training_changes_weights_and_biases),
    ),
))
