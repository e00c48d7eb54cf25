"""SYM-SIGNAL-02: all-ones weights give the first hidden layer the sum of the inputs; deeper layers not.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

from invariants.claims.evidence import check, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register, Reading
from invariants.experiments.networks import constant_net
from invariants.reference import forward


def _ones_forward(bias: float, activation: str = "sigmoid"):
    """All-ones 3-4-4-1 net (sigmoid unless mutated) on dyadic inputs (multiples of 1/8, so every sum is exact)."""
    arch, params = constant_net((3, 4, 4, 1), activation, weight=1.0, bias=bias)
    x = np.random.default_rng(7).integers(-16, 17, size=(16, 3)) / 8.0
    return arch, x, forward(arch, params, x)


@mutant("biases 0.25 instead of 0 (z_1 = Σx + 0.25)", lambda: _signal2_holds(bias=0.25))
def _signal2_holds(bias: float = 0.0) -> EvidenceResult:
    _, x, cache = _ones_forward(bias)
    s = np.array([math.fsum(r) for r in x])
    z1 = cache.preacts[0]
    ok = np.array_equal(z1, np.repeat(s[:, None], 4, axis=1)) and np.array_equal(cache.inputs[1], special.expit(z1))
    return check(ok, f"weights 1, biases 0: on 16 dyadic inputs every first-layer unit's signal equals Σ_k x_k "
                     f"bitwise (e.g. x = {x[0].tolist()} → {float(z1[0, 0])!r}) and its output sigmoid(Σ_k x_k)",
                 "a first-layer signal differs from the sum of the inputs")


@mutant("identity instead of sigmoid: layer 2 gets 4·Σx, not 4·sigmoid(Σx)",
        lambda: _signal2_fails(activation="identity"))
def _signal2_fails(activation: str = "sigmoid") -> EvidenceResult:
    _, x, cache = _ones_forward(0.0, activation)
    s = np.array([math.fsum(r) for r in x])
    z2 = cache.preacts[1][:, 0]
    expected = 4 * special.expit(s)  # exact: z_1 = Σx exactly, and 4· is exact
    # z_2 = fl(fl(fl(h + h) + h) + h): h + h is exact, the other two additions round once each, so the
    # relative error is at most (3/4 + 1)·2^-53 ≈ 1.9e-16 < rtol
    deeper = (not np.allclose(z2, s)) and np.allclose(z2, expected, rtol=4e-16, atol=0)
    _, _, cache_b = _ones_forward(0.5)
    z1b = cache_b.preacts[0][:, 0]
    biased = np.array_equal(z1b, s + 0.5) and not np.any(z1b == s)
    return check(deeper and biased,
                 f"layer 2 gets n_1·sigmoid(Σx) = 4·sigmoid(Σx), not Σx (x = {x[0].tolist()}: Σx = {float(s[0])!r}, "
                 f"z_2 = {short(z2[0])}); with bias 0.5 the first layer gets Σx + 0.5 ({float(z1b[0])!r})",
                 f"deeper-layer or biased signals unexpectedly equal the input sum (z_2 = {short(z2[0])}, Σx = "
                 f"{short(s[0])}, biased z_1 = {short(z1b[0])})")


register(Claim(
    id="SYM-SIGNAL-02",
    verdict=Verdict.VERIFIED,
    scope=("MLPs with elementwise activations (reference network), weights all 1; checked exactly on a "
           "(3, 4, 4, 1) sigmoid net with 16 dyadic inputs, biases 0 and 0.5; the layer-2 formula holds for any "
           "widths by the derivation"),
    title="All-ones weights: the first hidden layer's signal is the sum of the inputs; deeper layers' is not",
    seed_quotes=(
        "E.g. if all weights are initialized to 1, each unit gets signal equal to sum of inputs (and outputs "
        "sigmoid(sum(inputs)) ).",
    ),
    statement=(
        "With every weight 1 and zero biases, each unit of the first hidden layer receives z_1 = Σ_k x_k "
        "and, with sigmoid, outputs sigmoid(Σ_k x_k).  It does not hold for deeper layers — a unit of layer "
        "l ≥ 2 receives n_{l−1}·φ(z_{l−1}) (layer 2: n_1·sigmoid(Σ_k x_k)), not the sum of the network's "
        "inputs — and with a nonzero bias (z_1 = Σ_k x_k + b)."
    ),
    conditions=(
        "holds for the first hidden layer with zero biases (exactly in real arithmetic; in floating point "
        "up to the rounding of the summation, bitwise when the sum is exact, e.g. dyadic inputs)",
        "'outputs sigmoid(...)' needs a sigmoid activation",
        "for layers l ≥ 2 the signal is n_{l−1}·φ(z_{l−1}) instead, and a nonzero bias b adds b",
    ),
    readings=(  # the seed says "each unit", not which layer
        Reading("each unit of the first hidden layer (zero biases) gets the sum of the inputs and outputs "
                "sigmoid(sum)", Verdict.VERIFIED,
                ("first layer: signal = Σx, output sigmoid(Σx), bitwise on dyadic inputs",)),
        Reading("each unit of every layer gets the sum of the network's inputs", Verdict.REFUTED,
                ("layer 2 gets 4·sigmoid(Σx); bias 0.5 shifts it",)),
    ),
    derivation="z_1[j] = Σ_k 1·x_k + b_1[j]; z_l[j] = Σ_i 1·φ(z_{l−1}[i]) + b_l[j] = n_{l−1} φ(z_{l−1}[0]) + b_l[j].",
    evidence=(
        Evidence("experiment", "first layer: signal = Σx, output sigmoid(Σx), bitwise on dyadic inputs",
                 _signal2_holds),
        Evidence("counterexample", "layer 2 gets 4·sigmoid(Σx); bias 0.5 shifts it", _signal2_fails),
    ),
))
