"""SYM-ZERO-GRAD-01: with all weights zero every hidden layer's δ is zero.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume, given, strategies as st

from invariants.claims.evidence import check, property_with_coverage, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.experiments.mutants import nudging, tiny_weights
from invariants.experiments.networks import constant_net, make_data
from invariants.experiments.oracles import zero_weight_start_is_stationary
from invariants.experiments.training import train_checking_ties
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import (
    ACTIVATIONS,
    Architecture,
    OPTIMIZERS,
    get_activation,
    init_params,
    loss_and_grad,
    make_optimizer,
    train,
)


# ``init_params`` is a parameter under the global's own name so that the property's source, from which
# Hypothesis derives its derandomized examples, stays the same
@mutant("weights 10⁻³ instead of 0", lambda: _zero_grad_property(init_params=tiny_weights))
def _zero_grad_property(init_params=init_params) -> EvidenceResult:
    def build(seen):
        @verify_settings(12)
        @given(depth=st.integers(2, 4), widths=st.lists(st.integers(1, 8), min_size=5, max_size=5),
               loss=st.sampled_from(("mse", "softmax_xent")), dtype=st.sampled_from(("float32", "float64")),
               bias_mode=st.sampled_from(("zero", "random")), weight_decay=st.sampled_from((0.0, 0.01)),
               seed=st.integers(0, 2**32 - 1))
        def prop(depth, widths, loss, dtype, bias_mode, weight_decay, seed):
            seen.setdefault("biases", set()).add(bias_mode)
            seen.setdefault("loss", set()).add(loss)
            sizes = tuple(widths[:depth]) + (max(widths[depth], 2),)
            for activation in sorted(ACTIVATIONS):  # every activation on every drawn configuration
                arch = Architecture(sizes, activation, loss, dtype=dtype)
                rng = np.random.default_rng(seed)
                params = init_params(arch, 0.0, 0.0 if bias_mode == "zero" else (lambda n, s: rng.normal(size=s)))
                x, t = make_data(arch, 6, seed)
                _, grads = loss_and_grad(arch, params, x, t)
                for l in range(1, arch.depth):  # δ_l = (δ_{l+1} W_{l+1}) ⊙ φ'(z_l) = 0 since W_{l+1} = 0
                    assert np.all(grads[f"W{l}"] == 0) and np.all(grads[f"b{l}"] == 0), (
                        f"{activation}: nonzero gradient in layer {l}")
                if get_activation(activation).zero_at_zero and bias_mode == "zero":
                    # h_l = φ(0) = 0, so ∂L/∂W_L = δ_Lᵀ h_{L-1} = 0 as well, at every step
                    for name in OPTIMIZERS:
                        opt = make_optimizer(name, lr=0.1, weight_decay=weight_decay, clip_norm=1.0)
                        result = train(arch, params, x, t, opt, 5)
                        moved = [k for k in result.params if k != f"b{arch.depth}" and np.any(result.params[k] != 0)]
                        assert not moved, f"{activation}/{name}: {moved} left zero although φ(0) = 0, biases 0"
                elif activation == "sigmoid":
                    assert np.any(grads[f"W{arch.depth}"] != 0), "sigmoid: output weights got no gradient"

        return prop

    return property_with_coverage(
        build, 12, "at zero weights ∂L/∂W_l and ∂L/∂b_l are exactly 0 for every hidden layer (all 8 "
                   "activations, zero or random biases); with φ(0) = 0 and zero biases all weights "
                   "and hidden biases stay exactly 0 for 5 steps of each of the 7 optimizers (only "
                   "the output bias moves); with sigmoid the output weights get a nonzero gradient")


def sigmoid_zero_init_property(seen: dict, make_opt=make_optimizer, max_examples: int = 10):
    """Zero weights, sigmoid (φ(0) = 1/2 ≠ 0), biases constant per layer: under each of the 7 optimizers
    the loss goes down and every weight matrix leaves 0 within L steps, while every hidden layer stays
    one class at every step (learning happens inside the symmetric subspace only)."""

    @verify_settings(max_examples)
    @given(depth=st.integers(2, 4), widths=st.lists(st.integers(2, 6), min_size=5, max_size=5),
           loss=st.sampled_from(("mse", "softmax_xent")), dtype=st.sampled_from(("float32", "float64")),
           bias=st.sampled_from((0.0, 0.2, -0.5)), seed=st.integers(0, 2**32 - 1))
    def prop(depth, widths, loss, dtype, bias, seed):
        seen.setdefault("loss", set()).add(loss)
        arch, params = constant_net(tuple(widths[: depth + 1]), "sigmoid", loss, weight=0.0, bias=bias, dtype=dtype)
        x, t = make_data(arch, 8, seed)
        # ∂L/∂W_L = σ(b_{L-1}) Σ_batch δ_L and ∂L/∂b_L = Σ_batch δ_L: if Σ_batch δ_L = 0 (the constant output
        # b_L is already the best constant fit), every gradient is 0 and the zero point is stationary:
        # nothing can move, under any optimizer.  Excluded, decided exactly from the data, not from the
        # computed gradient, whose rounding residue (~1e-9 in float32) would let such a start through
        # and then move only by rounding.  Otherwise, after one step W_L = c·1ᵀ with c ∝ Σ_batch δ_L, and
        # Σ_batch δ_{L-1} ∝ φ'·Σ_o c_o Σ_batch δ_L,o = −lr·σ(b)·φ'·‖Σ_batch δ_L‖² ≠ 0: every layer moves.
        assume(not zero_weight_start_is_stationary(arch, bias, t))
        for name in OPTIMIZERS:
            run = train_checking_ties(arch, params, x, t, make_opt(name, lr=0.05), depth + 8)
            assert run.tied, f"{name}: ties broken at step {run.first_untied}"
            assert all(np.any(run.params[f"W{l}"] != 0) for l in range(1, depth + 1)), f"{name}: a weight stayed 0"
            assert run.losses[-1] < run.losses[0], f"{name}: loss {run.losses[0]} -> {run.losses[-1]}"
            seen.setdefault("#runs", set()).add((seed, depth, name))

    return prop


@mutant("a position-dependent optimizer (one ulp added to the first entry of every tensor)",
        lambda: _zero_grad_sigmoid_property(make_opt=nudging, max_examples=2))
def _zero_grad_sigmoid_property(make_opt=make_optimizer, max_examples: int = 10) -> EvidenceResult:
    return property_with_coverage(
        lambda seen: sigmoid_zero_init_property(seen, make_opt, max_examples), max_examples,
        "zero weights, sigmoid, constant biases: under each of the 7 optimizers the loss fell and "
        "every weight matrix left 0 within L + 8 steps, with every hidden layer one class of "
        "bitwise-identical units throughout")


@mutant("sigmoid instead of tanh in the 'frozen' run (φ(0) = ½ ≠ 0)",
        lambda: _zero_grad_sigmoid_leaves(frozen_activation="sigmoid"))
def _zero_grad_sigmoid_leaves(frozen_activation: str = "tanh") -> EvidenceResult:
    arch, params = constant_net((3, 4, 4, 2), "sigmoid", weight=0.0)
    x, t = make_data(arch, 8, seed=11)
    nonzero_at = {}

    def watch(step, p):
        for k, v in p.items():
            if k.startswith("W") and np.any(v != 0):
                nonzero_at.setdefault(k, step + 1)

    train(arch, params, x, t, make_optimizer("sgd", lr=0.5), 4, callback=watch)
    arch_t, params_t = constant_net((3, 4, 4, 2), frozen_activation, weight=0.0)
    tanh = train(arch_t, params_t, x, t, make_optimizer("sgd", lr=0.5), 50)
    frozen = all(np.all(tanh.params[k] == 0) for k in ("W1", "W2", "W3", "b1", "b2"))
    ok = nonzero_at == {"W3": 1, "W2": 2, "W1": 3} and frozen and tanh.losses[-1] < tanh.losses[0]
    return check(ok, f"sigmoid from zero: W3, W2, W1 become nonzero after steps {nonzero_at.get('W3')}, "
                     f"{nonzero_at.get('W2')}, {nonzero_at.get('W1')}; tanh from zero: all weights still exactly 0 "
                     f"after 50 SGD steps while the output bias alone lowers the loss "
                     f"{short(tanh.losses[0])} → {short(tanh.losses[-1])}",
                 f"unexpected: weights became nonzero after steps {nonzero_at}, tanh frozen = {frozen}")


register(Claim(
    id="SYM-ZERO-GRAD-01",
    verdict=Verdict.VERIFIED,
    scope=("MLPs with elementwise activations (reference network, exact kernel), depth 2-4, widths 1-8, MSE and "
           "softmax cross-entropy, the 7 reference optimizers with weight decay and clipping; 'forever' checked "
           "over 5-50 steps and argued by induction (a zero gradient with zero state gives a zero update)"),
    title="All-zero weights: every hidden layer's δ is zero, so no hidden weight gets a gradient",
    seed_quotes=(
        "Main problem with initialization of all weights to zero mathematically leads to either the neuron "
        "values are zero (for multi layers) or the delta would be zero.",
        "In one of the comments by @alfa in the above answers already a hint is provided, it is mentioned that "
        "the product of weights and delta needs to be zero.",
    ),
    statement=(
        "At all-zero weights (any activation, any biases), δ_l = (δ_{l+1} W_{l+1}) ⊙ φ'(z_l) = 0 for every "
        "hidden layer l, because the product δ_{l+1} W_{l+1} is 0; hence ∂L/∂W_l = δ_lᵀ h_{l−1} = 0 and "
        "∂L/∂b_l = 0 for all l < L.  If moreover φ(0) = 0 and the hidden biases are 0, the neuron values "
        "h_l are 0 for l ≥ 1, so ∂L/∂W_L = 0 too: only the output bias receives a gradient, at every step, "
        "under any of the 7 optimizers (weight decay of 0 is 0) — the weights stay exactly zero forever.  "
        "With φ(0) ≠ 0 (sigmoid) W_L gets a nonzero gradient and the network leaves zero, one layer per step, "
        "and learns (the loss falls under each of the 7 optimizers) unless the data make the zero point "
        "stationary (Σ_batch δ_L = 0: the constant output is already the best constant fit, e.g. balanced "
        "labels with equal output biases; then every gradient is 0 and nothing moves) — but only inside the "
        "symmetric subspace: "
        "with constant biases every hidden layer stays one class of identical units (SYM-CONST-01)."
    ),
    conditions=(
        "the zero hidden deltas hold at the all-zero point for any activation and biases",
        "'forever' needs φ(0) = 0 and zero hidden biases (tanh, relu, sin, gelu, selu, identity, leaky_relu)",
        "sigmoid leaves zero only if Σ_batch δ_L ≠ 0 at the start (the zero point is not already stationary)",
    ),
    derivation=(
        "Backpropagation multiplies δ_{l+1} by W_{l+1} = 0.  With h_{L−1} = φ(0) = 0, ∂L/∂W_L = δ_Lᵀ h_{L−1} "
        "vanishes as well, so every optimizer's update of every weight is 0 (zero gradient, zero state, "
        "decay of a zero weight is zero) and the all-zero point is a fixed point for the weights."
    ),
    evidence=(
        Evidence("property", "hidden gradients vanish at zero weights; frozen forever when φ(0)=0",
                 _zero_grad_property),
        Evidence("experiment", "sigmoid leaves zero layer by layer; tanh only moves the output bias",
                 _zero_grad_sigmoid_leaves),
        Evidence("property", "sigmoid from zero learns, but only inside the symmetric subspace",
                 _zero_grad_sigmoid_property),
    ),
))
