"""DEF-WEIGHT-01: a weight W[j,k] is the exact sensitivity of unit j's pre-activation to input k.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import run_property
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, register
from invariants.experiments.strategies import SEEDS
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import Architecture, forward, init_params


def weight_is_partial_derivative(layer=None) -> EvidenceResult:
    """Property on the reference network's first layer z = W h + b (``layer(arch, params, h) -> z``)."""
    if layer is None:
        def layer(arch, params, h):
            return forward(arch, params, h).preacts[0]
    seen = {"examples": 0, "checks": 0}

    @verify_settings(20)
    @given(d=st.integers(1, 6), n=st.integers(1, 6), batch=st.integers(1, 4), seed=SEEDS)
    def prop(d, n, batch, seed):
        rng = np.random.default_rng(seed)
        arch = Architecture((d, n, 1), "tanh")
        # small integers: every product and partial sum is an integer < 2^53, so the float64 layer
        # is exact and linearity must hold bit for bit
        W = rng.integers(-8, 9, size=(n, d)).astype(float)
        b = rng.integers(-8, 9, size=n).astype(float)
        h = rng.integers(-8, 9, size=(batch, d)).astype(float)
        params = init_params(arch, {"W1": W, "W2": np.ones((1, n))}, {"b1": b, "b2": np.zeros(1)})
        z = layer(arch, params, h)
        for k in range(d):
            s = float(rng.integers(1, 5)) * (1 if rng.random() < 0.5 else -1)
            hk = h.copy()
            hk[:, k] += s
            dz = layer(arch, params, hk) - z
            assert np.array_equal(dz, np.broadcast_to(s * W[:, k], dz.shape)), (
                f"z(h + {s}·e_{k}) − z(h) ≠ {s}·W[:, {k}] at d={d}, n={n}, seed={seed}")
            c = float(rng.integers(-4, 5))
            scaled, removed = dict(params), dict(params)
            scaled["W1"] = W.copy()
            scaled["W1"][:, k] *= c
            removed["W1"] = W.copy()
            removed["W1"][:, k] = 0.0
            contribution = layer(arch, scaled, h) - layer(arch, removed, h)
            assert np.array_equal(contribution, c * h[:, k:k + 1] * W[:, k]), (
                f"input {k}'s contribution is not linear in W[:, {k}] (scale {c}) at seed={seed}")
            seen["checks"] += 2
        # general floats: a zero weight removes the input from the unit entirely
        Wf = rng.normal(size=(n, d))
        j, k = int(rng.integers(n)), int(rng.integers(d))
        Wf[j, k] = 0.0
        pf = init_params(arch, {"W1": Wf, "W2": np.ones((1, n))}, {"b1": rng.normal(size=n), "b2": np.zeros(1)})
        hf = rng.normal(size=(batch, d))
        hg = hf.copy()
        hg[:, k] = rng.normal(scale=1e3, size=batch)
        assert np.array_equal(layer(arch, pf, hf)[:, j], layer(arch, pf, hg)[:, j]), (
            f"W[{j},{k}] = 0 but z_{j} depends on h_{k} at seed={seed}")
        seen["examples"] += 1
        seen["checks"] += 1

    return run_property(prop, lambda: (
        f"{seen['examples']} random layers (fan_in 1-6, width 1-6, batch 1-4), {seen['checks']} exact checks: "
        "z(h + s·e_k) − z(h) = s·W[:, k] bit for bit (integer-valued float64, so exact); input k's "
        "contribution z(W with column k scaled by c) − z(W with column k zeroed) = c·W[:, k]·h_k bit for bit; "
        "and with W[j, k] = 0 (general floats) z_j is unchanged when h_k is redrawn at scale 1e3."))


register(Claim(
    id="DEF-WEIGHT-01",
    title="A weight W[j,k] is the exact sensitivity of unit j's pre-activation to input k",
    seed_quotes=(
        "Weights control the signal (or the strength of the connection) between two neurons.",
        "In other words, a weight decides how much influence the input will have on the output.",
    ),
    statement=(
        "In a dense layer z_j = Σ_k W[j,k]·h_k + b_j, input k reaches unit j only through the term "
        "W[j,k]·h_k: ∂z_j/∂h_k = W[j,k] exactly (z is affine in h), the contribution of input k is linear in "
        "W[j,k], and W[j,k] = 0 disconnects input k from unit j. On the unit's output φ(z_j) the influence "
        "is ∂φ(z_j)/∂h_k = φ'(z_j)·W[j,k]: the weight scales it, the activation's slope modulates it."
    ),
    verdict=Verdict.VERIFIED,
    scope="one dense layer z = W h + b of any size (checked on fan_in 1-6, width 1-6, batch 1-4), at any parameters",
    conditions=(
        "dense (fully connected) layer z = W h + b; W[j,k] is the weight from input k to unit j "
        "(row j, column k, the reference layout W_l of shape (n_l, n_{l-1}))",
        "'influence on the output' read as the partial derivative of the receiving unit's pre-activation; "
        "on the network's final output, input k acts through every path, so one weight alone does not "
        "decide its influence (the chain rule multiplies the weights and activation slopes along each path)",
        "exact checks use integer-valued float64 data so that every sum is exact; with general floats "
        "the identities hold up to the summation's rounding",
    ),
    derivation=(
        "z_j is an affine function of h; differentiating Σ_k W[j,k] h_k + b_j in h_k leaves W[j,k], "
        "independent of h, so finite differences are exact: z(h + s·e_k) − z(h) = s·W[:, k]. The same "
        "expression is linear in W[j,k] with coefficient h_k. The chain rule gives φ'(z_j)·W[j,k] for the "
        "unit's output. The property checks these identities on the reference network's first layer bit "
        "for bit, with values chosen so that IEEE arithmetic is exact."
    ),
    evidence=(
        Evidence("property", "weight = ∂z_j/∂h_k, contribution linear in the weight, zero weight disconnects",
                 weight_is_partial_derivative),
    ),
))
