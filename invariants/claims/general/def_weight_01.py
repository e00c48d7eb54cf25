"""DEF-WEIGHT-01: a weight W[j,k] is the exact sensitivity of unit j's pre-activation to input k.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import run_property, check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register, Reading
from invariants.experiments.strategies import SEEDS
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import Architecture, Params, forward, get_activation, init_params, random_params


def _slightly_nonlinear_layer(arch, params, h):
    """Mutant layer: z + 10⁻³·z², no longer affine in h (nor linear in W)."""
    z = forward(arch, params, h).preacts[0]
    return z + 1e-3 * z * z


@mutant("a layer that is not affine: z + 10⁻³·z²",
        lambda: weight_is_partial_derivative(layer=_slightly_nonlinear_layer))
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


def output_sensitivity(arch: Architecture, params: Params, x: np.ndarray) -> np.ndarray:
    """∂y/∂x of a one-output reference network at the inputs ``x`` (B, n_in), by the chain rule: the row vector
    1·W_L, multiplied by φ'(z_{L−1}) ⊙ and W_{L−1}, and so on down to W_1; shape (B, n_in)."""
    cache = forward(arch, params, x)
    dphi = get_activation(arch.activation).df
    g = np.ones((x.shape[0], 1))
    for l in range(arch.depth, 0, -1):
        g = g @ params[f"W{l}"]
        if l > 1:
            g = g * dphi(cache.preacts[l - 2])
    return g


@mutant("a one-layer linear network y = W x + b, where the weight alone is the output's sensitivity",
        lambda: one_weight_does_not_decide_output_influence((2, 1), "identity"))
def one_weight_does_not_decide_output_influence(sizes=(2, 3, 1), activation="tanh") -> EvidenceResult:
    """Counterexample: the weights from input 0 into the first layer (W_1[:, 0]) are held fixed while the other
    parameters and the other input are redrawn; the network output's sensitivity to input 0 changes."""
    rng = np.random.default_rng(5)
    arch = Architecture(sizes, activation)
    x = rng.normal(size=(1, sizes[0]))
    base = random_params(arch, rng, bias_std=1.0)
    sens = [float(output_sensitivity(arch, base, x)[0, 0])]
    for _ in range(3):
        other = random_params(arch, rng, bias_std=1.0)
        other["W1"][:, 0] = base["W1"][:, 0]  # the same weights from input 0
        x2 = x.copy()
        x2[0, 1:] = rng.normal(size=sizes[0] - 1)
        sens.append(float(output_sensitivity(arch, other, x2)[0, 0]))
    # the chain rule checked against a central difference (error O(h²) for smooth φ)
    h = 1e-6
    e0 = np.zeros_like(x)
    e0[0, 0] = h
    fd = float((forward(arch, base, x + e0).output - forward(arch, base, x - e0).output)[0, 0] / (2 * h))
    spread = max(sens) - min(sens)
    ok = spread > 0.01 * max(abs(v) for v in sens) and abs(fd - sens[0]) <= 1e-6 * max(1.0, abs(fd))
    detail = (f"{sizes} {activation} net, W_1[:, 0] = ({', '.join(f'{v:.3f}' for v in base['W1'][:, 0])}) held fixed: "
              f"∂y/∂x_0 = {', '.join(f'{v:.4f}' for v in sens)} as the other parameters and input are redrawn "
              f"(central difference {fd:.4f} at the first)")
    return check(ok, detail + ": the weight scales one path; the network's sensitivity depends on every path",
                 "the output's sensitivity to the input did not depend on the other weights: " + detail)


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
    scope=("one dense layer z = W h + b of any size (checked on fan_in 1-6, width 1-6, batch 1-4), at any "
           "parameters; the network-output counterexample is a (2, 3, 1) tanh MLP"),
    readings=(
        Reading("a weight decides the influence of its input on the receiving neuron: ∂z_j/∂h_k = W[j,k]",
                Verdict.VERIFIED,
                ("weight = ∂z_j/∂h_k, contribution linear in the weight, zero weight disconnects",)),
        Reading("a weight alone decides the influence of an input on the network's output", Verdict.REFUTED,
                ("the network output's sensitivity to an input is not decided by its weight alone",)),
    ),
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
        Evidence("counterexample", "the network output's sensitivity to an input is not decided by its weight alone",
                 one_weight_does_not_decide_output_influence),
    ),
))
