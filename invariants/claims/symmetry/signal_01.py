"""SYM-SIGNAL-01: equal incoming rows and equal biases give every unit of a layer the same signal.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import property_with_coverage
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.experiments.oracles import columns_identical
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import ACTIVATIONS, Architecture, forward, random_params


def _one_ulp_apart(bias: np.ndarray) -> np.ndarray:
    """Mutant premise: the layer's last bias moved up by one ulp (biases no longer all equal)."""
    out = bias.copy()
    out[-1] = np.nextafter(out[-1], np.inf)
    return out


def _equal_biases(bias: np.ndarray) -> np.ndarray:
    return bias


@mutant("the premise 'equal biases' broken by one ulp in one unit's bias",
        lambda: _signal_property(set_biases=_one_ulp_apart))
def _signal_property(set_biases=_equal_biases) -> EvidenceResult:
    def build(seen):
        @verify_settings(25)
        @given(depth=st.integers(1, 3), widths=st.lists(st.integers(1, 8), min_size=4, max_size=4),
               activation=st.sampled_from(sorted(ACTIVATIONS)), dtype=st.sampled_from(("float32", "float64")),
               mode=st.sampled_from(("equal rows", "zero")), seed=st.integers(0, 2**32 - 1))
        def prop(depth, widths, activation, dtype, mode, seed):
            seen.setdefault("mode", set()).add(mode)
            rng = np.random.default_rng(seed)
            sizes = tuple(widths[: depth + 1]) + (widths[-1],)
            arch = Architecture(sizes, activation, dtype=dtype)
            params = random_params(arch, rng, bias_std=1.0)
            layer = int(rng.integers(1, arch.depth + 1))  # any layer, earlier ones random
            row = rng.normal(size=arch.sizes[layer - 1]) if mode == "equal rows" else np.zeros(arch.sizes[layer - 1])
            params[f"W{layer}"] = np.tile(row, (arch.sizes[layer], 1)).astype(dtype)
            params[f"b{layer}"] = set_biases(np.full(arch.sizes[layer], rng.normal()).astype(dtype))
            x = rng.normal(size=(int(rng.integers(1, 10)), arch.sizes[0])).astype(dtype)
            z = forward(arch, params, x).preacts[layer - 1]
            assert columns_identical(z), f"unequal pre-activations in layer {layer}"
            if mode == "zero":
                assert np.array_equal(z, np.broadcast_to(params[f"b{layer}"], z.shape))

        return prop

    return property_with_coverage(
        build, 25, "every unit of the layer got a bitwise-identical pre-activation on every input "
                   "(random earlier layers, any activation, float32/float64); with a zero W_l it "
                   "equals the common bias")


register(Claim(
    id="SYM-SIGNAL-01",
    verdict=Verdict.VERIFIED,
    scope=("any layer of an MLP with elementwise activations (reference network, exact kernel), whatever the "
           "earlier layers; checked on depth 1-3, widths 1-8, every activation, float32 and float64"),
    title="Equal incoming rows and equal biases give every unit of a layer the same signal",
    seed_quotes=(
        "In this case, each hidden unit will get exactly the same signal.",
        "Forward feed: If all weights are 0’s, then the input to the 2nd layer will be the same for all nodes.",
    ),
    statement=(
        "If W_l has equal rows and b_l has equal entries, every unit of layer l receives the same "
        "pre-activation z_l[j] = W_l[j,:]·h_{l−1} + b_l[j] on every input, whatever h_{l−1} is (whatever "
        "the earlier layers are); hence the units' outputs φ(z_l[j]) are equal too.  Constant init (all "
        "weights equal, zero included, biases constant per layer) is the special case; with W_1 = 0 the "
        "common value is b_1, so the 2nd layer's input h_1 = φ(b_1) has the same entry for every node."
    ),
    conditions=(
        "biases equal within the layer (zero included); with W_l = 0 and unequal biases unit j receives b_l[j]",
        "exact in real arithmetic; bitwise in floating point on a kernel that computes every output element "
        "by the same operations (the reference 'exact' kernel); a BLAS matmul may round equal rows differently",
    ),
    derivation="Each z_l[j] is the same function of the same arguments (row, bias, h_{l−1}) for every j.",
    evidence=(Evidence("property", "equal rows + equal biases ⇒ bitwise-equal pre-activations", _signal_property),),
))
