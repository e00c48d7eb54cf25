"""SYM-ZERO-FWD-01: with all weights zero each layer receives its bias.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import check, property_with_coverage, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register, Reading
from invariants.experiments.networks import constant_net
from invariants.experiments.mutants import tiny_weights
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import ACTIVATIONS, Architecture, forward, get_activation, init_params


# ``init_params`` is a parameter under the global's own name so that the property's source, from which
# Hypothesis derives its derandomized examples, stays the same
@mutant("weights 10⁻³ instead of 0", lambda: _zero_fwd_property(init_params=tiny_weights))
def _zero_fwd_property(init_params=init_params) -> EvidenceResult:
    def build(seen):
        @verify_settings(20)
        @given(depth=st.integers(2, 4), widths=st.lists(st.integers(1, 8), min_size=5, max_size=5),
               activation=st.sampled_from(sorted(ACTIVATIONS)), dtype=st.sampled_from(("float32", "float64")),
               bias_mode=st.sampled_from(("zero", "random")), seed=st.integers(0, 2**32 - 1))
        def prop(depth, widths, activation, dtype, bias_mode, seed):
            seen.setdefault("biases", set()).add(bias_mode)
            rng = np.random.default_rng(seed)
            arch = Architecture(tuple(widths[: depth + 1]), activation, dtype=dtype)
            params = init_params(arch, 0.0, 0.0 if bias_mode == "zero" else
                                 (lambda name, shape: rng.normal(size=shape)))
            x = rng.normal(size=(5, arch.sizes[0])).astype(dtype)
            cache = forward(arch, params, x)
            phi = get_activation(activation).f
            for l in range(1, arch.depth + 1):
                b = np.broadcast_to(params[f"b{l}"], cache.preacts[l - 1].shape)
                assert np.array_equal(cache.preacts[l - 1], b), f"z_{l} != b_{l}"
                if l < arch.depth:
                    assert np.array_equal(cache.inputs[l], phi(b)), f"h_{l} != φ(b_{l})"
                if bias_mode == "zero":
                    assert np.all(cache.preacts[l - 1] == 0)

        return prop

    return property_with_coverage(
        build, 20, "with all weights 0 every layer's pre-activation equals its bias b_l and every "
                   "hidden output equals φ(b_l), bitwise, for any inputs; zero biases give z_l = 0")


@mutant("biases 0 instead of 0.25", lambda: _zero_fwd_fails(bias=0.0))
def _zero_fwd_fails(bias: float = 0.25) -> EvidenceResult:
    arch, params = constant_net((3, 4, 4, 1), "sigmoid", weight=0.0, bias=bias)
    cache = forward(arch, params, np.random.default_rng(3).normal(size=(4, 3)))
    z2 = cache.preacts[1]
    rng = np.random.default_rng(4)
    arch_r = Architecture((3, 4, 4, 1), "sigmoid")
    params_r = init_params(arch_r, 0.0, lambda name, shape: rng.normal(size=shape))
    h1 = forward(arch_r, params_r, np.ones((1, 3))).inputs[1][0]
    ok = np.all(z2 == bias) and np.all(z2 != 0) and len(set(h1.tolist())) == len(h1)
    return check(ok, f"biases 0.25: the inputs of layer 2 are all 0.25, not 0 (outputs sigmoid(0.25) = "
                     f"{short(cache.inputs[1][0, 0])}); random biases: the 4 first-layer outputs differ "
                     f"({', '.join(short(v) for v in h1)})",
                 "nonzero biases did not reach the next layer as expected")


register(Claim(
    id="SYM-ZERO-FWD-01",
    verdict=Verdict.VERIFIED,
    scope=("MLPs with elementwise activations (reference network), all weights 0, depth 2-4, widths 1-8, every "
           "activation, float32 and float64, zero or random biases"),
    readings=(
        Reading("with zero weights and zero biases (the usual zero init), the nodes' outputs are equal and the "
                "next layer's inputs are zero", Verdict.VERIFIED,
                ("z_l = b_l and h_l = φ(b_l) bitwise at zero weights",)),
        Reading("with zero weights and any biases, the next layer's inputs are zero", Verdict.REFUTED,
                ("z_l = b_l and h_l = φ(b_l) bitwise at zero weights",
                 "biases 0.25 reach layer 2; random biases give distinct outputs")),
    ),
    title="With all weights zero each layer receives its bias: the next layer's inputs are zero only for zero biases",
    seed_quotes=(
        "The outputs of the nodes will be the same, though they will be multiplied by the next set of weights "
        "which will be 0, and so the inputs for the next layer will be zero etc., etc.",
    ),
    statement=(
        "With every weight 0 (any biases), every layer's pre-activation equals its bias, z_l = b_l, on every "
        "input, and hidden layer l outputs φ(b_l).  So the outputs of a layer's nodes are the same exactly "
        "when b_l is constant, and the inputs of the next layer are zero (z_l = 0 for l ≥ 2) exactly when "
        "the biases are zero; with nonzero biases layer l receives b_l."
    ),
    conditions=(
        "'inputs for the next layer will be zero' holds iff b_l = 0 for l ≥ 2",
        "'outputs of the nodes will be the same' holds iff b_l is constant within the layer",
    ),
    derivation="z_l = h_{l−1} W_lᵀ + b_l = 0 + b_l for W_l = 0, whatever h_{l−1} is.",
    evidence=(
        Evidence("property", "z_l = b_l and h_l = φ(b_l) bitwise at zero weights", _zero_fwd_property),
        Evidence("counterexample", "biases 0.25 reach layer 2; random biases give distinct outputs", _zero_fwd_fails),
    ),
))
