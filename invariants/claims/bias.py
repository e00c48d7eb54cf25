"""Bias claims: zero biases and symmetry breaking, whether zero-initialized biases matter, and the bias as
the weight on a constant input.

Claims: BIAS-ZERO-01 (verified, almost surely: random weights break symmetry with zero biases; floating
point makes "almost surely" fall short of "surely", quantified), BIAS-EFFECT-01 (refuted: zero-initialized
biases are trained and matter) and BIAS-INPUT-01 (conditional: the bias is exactly the weight on a
constant-1 input, but it is not itself constant).

Besides the claims, the module exposes :func:`round_significand` and :func:`tie_probability`, the exact
collision probability of two independent rounded Gaussian draws used by the BIAS-ZERO-01 caveat.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from invariants.claims.evidence import check, run_property
from invariants.claims.general import LR, SEEDS, grid_data, tied_pairs
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, register
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import (
    ACTIVATIONS,
    OPTIMIZERS,
    Architecture,
    Params,
    canonical_sum,
    forward,
    init_params,
    loss_and_grad,
    make_optimizer,
    random_params,
    train,
)
from invariants.symmetry import all_classes, symmetry_defect

#: Significand precision p (bits, implicit bit included) of the formats discussed.
PRECISION = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53}


# --------------------------------------------------------------------------- BIAS-ZERO-01


def round_significand(x: np.ndarray, bits: int) -> np.ndarray:
    """Round float64 values to ``bits`` significant bits, to nearest with ties to even (one rounding).

    ``bits=8`` gives bfloat16 values for every input in bfloat16's normal range (|x| ∈ [2^-126, 2^128));
    the exponent range itself is not limited.  The result is float64 and exactly representable in
    float32 whenever ``bits`` ≤ 24 and the exponent is in float32's normal range.
    """
    m, e = np.frexp(np.asarray(x, dtype=np.float64))  # x = m·2^e, 0.5 ≤ |m| < 1: m·2^bits is exact
    return np.ldexp(np.rint(np.ldexp(m, bits)), e - bits)


def tie_probability(bits: int, std: float = 1.0) -> float:
    """P(X = Y) for X, Y i.i.d. N(0, std²) rounded to ``bits`` significant bits (round to nearest).

    Exact sum Σ_v P(round(X) = v)² over representable v for ``bits`` ≤ 16 (each P is a difference of
    normal CDFs over v's rounding interval); for larger ``bits`` the binade-wise integral
    Σ_e ulp_e·∫_binade φ_std(x)² dx, whose relative error is O(2^-bits).  Binades below 2^-60·std (and
    above 2^10·std) are dropped; their contribution is below 1e-18 of the result.
    """
    e0 = math.floor(math.log2(std))
    total = 0.0
    for e in range(e0 - 60, e0 + 10):
        ulp = 2.0 ** (e - bits + 1)
        if bits <= 16:
            v = 2.0**e + ulp * np.arange(2 ** (bits - 1))
            lo, hi = v - ulp / 2, v + ulp / 2
            lo[0] = v[0] - ulp / 4  # spacing halves below a power of two
            p = special.ndtr(hi / std) - special.ndtr(lo / std)
            total += float(np.sum(p * p))
        else:  # ∫ φ_σ² over [a, b] = (erf(b/σ) − erf(a/σ)) / (4√π σ)
            mass = special.erf(2.0 ** (e + 1) / std) - special.erf(2.0**e / std)
            total += ulp * mass / (4 * math.sqrt(math.pi) * std)
    return 2 * total  # both signs


def _zero_bias_no_ties(make_opt=make_optimizer) -> EvidenceResult:
    """Property: random weights + zero biases → no tied units at init, nor after 20 training steps.

    ``make_opt`` is a mutation hook (a symmetrizing optimizer must make the property fail).
    """
    from invariants.experiments.training import train_checking_ties

    seen = {"examples": 0, "units": 0, "moved": 0, "hidden_biases": 0, "diverged": 0}

    @verify_settings(25)
    @given(hidden=st.lists(st.integers(2, 8), min_size=1, max_size=3), d=st.integers(1, 4),
           c=st.integers(1, 3), act=st.sampled_from(sorted(ACTIVATIONS)), opt=st.sampled_from(OPTIMIZERS),
           batch=st.sampled_from((None, 4)), seed=SEEDS)
    def prop(hidden, d, c, act, opt, batch, seed):
        rng = np.random.default_rng(seed)
        arch = Architecture((d, *hidden, c), act)
        params = random_params(arch, rng)  # Lecun-normal float64 weights, all biases exactly 0
        assert all(not np.any(params[f"b{l}"]) for l in range(1, arch.depth + 1))
        assert tied_pairs(arch, params) == 0, f"tied units at init: {arch.sizes}, seed {seed}"
        x, t = rng.normal(size=(12, d)), rng.normal(size=(12, c))
        # checked on the last finite parameters: a run that overflows says nothing after the overflow
        res = train_checking_ties(arch, params, x, t, make_opt(opt, lr=LR[opt]), 20, batch_size=batch, rng=rng)
        seen["diverged"] += res.diverged_at is not None
        classes = all_classes(arch, res.params)
        assert all(len(cl) == 1 for cs in classes.values() for cl in cs), (
            f"units became interchangeable after 20 {opt} steps: {arch.sizes}, {act}, seed {seed}")
        seen["examples"] += 1
        seen["units"] += sum(hidden)
        seen["hidden_biases"] += sum(hidden)
        seen["moved"] += sum(int(np.count_nonzero(res.params[f"b{l}"])) for l in arch.hidden_layers)

    return run_property(prop, lambda: (
        f"{seen['examples']} random networks (depth 2-4, widths 2-8, all activations, all {len(OPTIMIZERS)} "
        f"optimizers, full batch or minibatch 4), Lecun-normal float64 weights and zero biases: {seen['units']} "
        f"hidden units, 0 interchangeable pairs at init and 0 after 20 steps (or up to an overflow: "
        f"{seen['diverged']} runs); {seen['moved']} of "
        f"{seen['hidden_biases']} hidden biases moved off 0 (the others belong to units that got no gradient, "
        "e.g. dead ReLUs)."))


CAVEAT_WIDTH = 2048
CAVEAT_SEEDS = 200


def _bf16_init(rng: np.random.Generator, width: int) -> Params:
    """(1, width, 1) Lecun-normal weights rounded to bfloat16, zero biases (float64 values)."""
    return {"W1": round_significand(rng.normal(0.0, 1.0, size=(width, 1)), 8), "b1": np.zeros(width),
            "W2": round_significand(rng.normal(0.0, 1.0 / math.sqrt(width), size=(1, width)), 8),
            "b2": np.zeros(1)}


def _count_ties_fast(p: Params) -> int:
    """Tied unit pairs of a (1, n, 1) net with zero biases: equal (W1[j], W2[0, j]) pairs."""
    _, counts = np.unique(np.stack([p["W1"][:, 0], p["W2"][0]], axis=1), axis=0, return_counts=True)
    return int(np.sum(counts * (counts - 1) // 2))


def _float_rounding_caveat(width: int = CAVEAT_WIDTH, n_seeds: int = CAVEAT_SEEDS) -> EvidenceResult:
    """Experiment: rounding makes the weight distribution discrete, so ties have positive probability."""
    n_pairs = width * (width - 1) / 2
    q = {f: (tie_probability(b, 1.0), tie_probability(b, 1.0 / math.sqrt(width))) for f, b in PRECISION.items()}
    expected = {f: n_pairs * q1 * q2 for f, (q1, q2) in q.items()}
    counts, found = [], None
    for seed in range(n_seeds):
        p = _bf16_init(np.random.default_rng(seed), width)
        counts.append(_count_ties_fast(p))
        if found is None and counts[-1]:
            found = (seed, p)
    mean, e_bf = float(np.mean(counts)), expected["bfloat16"]
    se = math.sqrt(e_bf / n_seeds)  # tied-pair counts are ≈ Poisson(e_bf)
    agrees = abs(mean - e_bf) <= 4 * se
    if found is None:
        return EvidenceResult(False, f"no bfloat16 tie in {n_seeds} seeds (expected {e_bf:.2f} per seed)")
    seed, p = found
    arch = Architecture((1, width, 1), "tanh", dtype="float32")  # bfloat16 values are exact in float32
    params = init_params(arch, p, p)
    classes = all_classes(arch, params)
    ties0 = tied_pairs(arch, params)
    rng = np.random.default_rng(seed)
    res = train(arch, params, rng.normal(size=(16, 1)), rng.normal(size=(16, 1)), make_optimizer("adam", lr=0.01), 20)
    defect, ties1 = symmetry_defect(arch, res.params, classes), tied_pairs(arch, res.params)
    q_b = q["bfloat16"][0]
    ok = agrees and ties0 > 0 and defect == 0.0 and ties1 >= ties0 and expected["float32"] < 1e-6
    detail = (f"P(two rounded N(0,1) draws are equal) = {q['bfloat16'][0]:.3g} (bfloat16), {q['float16'][0]:.3g} "
              f"(float16), {q['float32'][0]:.3g} (float32), {q['float64'][0]:.2g} (float64). (1, {width}, 1) net, "
              f"zero biases, a pair ties iff W1 and W2 entries both collide: E[tied pairs] = {e_bf:.2f} in "
              f"bfloat16 (Monte Carlo over {n_seeds} seeds: {mean:.2f} ± {se:.2f}), {expected['float32']:.1e} in "
              f"float32. Seed {seed}: {ties0} tied pair(s), still tied after 20 Adam steps (defect {defect}). "
              f"Random bfloat16 biases would cut E to {e_bf * q_b:.1e}.")
    return check(ok, detail, "rounding caveat not reproduced: " + detail)


def _dead_units_merge_under_weight_decay(weight_decay: float = 1.0, steps: int = 200) -> EvidenceResult:
    """Experiment: where 'distinct units stay distinct' ends — dead ReLU units under weight decay."""
    arch = Architecture((1, 3, 1), "relu", dtype="float32")
    # units 0 and 1 are dead on x > 0 (negative incoming weight, zero bias) with the same sign pattern
    init = init_params(arch, {"W1": np.array([[-1.3], [-0.7], [0.9]]), "W2": np.array([[0.5, 0.25, 0.8]])}, 0.0)
    x = np.linspace(0.1, 1.0, 8)[:, None]
    t = 0.3 * x
    tied_at: list[int] = []
    decayed = train(arch, init, x, t, make_optimizer("sgd", lr=0.5, weight_decay=weight_decay), steps,
                    callback=lambda s, q: tied_at.append(s + 1) if tied_pairs(arch, q) else None)
    plain = train(arch, init, x, t, make_optimizer("sgd", lr=0.5), steps)

    def dead(p: Params) -> np.ndarray:  # (incoming weight, bias, outgoing weight) of units 0 and 1
        return np.stack([p["W1"][:2, 0], p["b1"][:2], p["W2"][0, :2]], axis=1)

    untouched = np.array_equal(dead(plain.params), dead(init))
    tiny = float(np.finfo(np.float32).smallest_subnormal)  # 2^-149
    merged_at_tiny = np.array_equal(dead(decayed.params), np.array([[-tiny, 0.0, tiny]] * 2))
    ok = bool(tied_at) and merged_at_tiny and untouched and tied_pairs(arch, plain.params) == 0
    detail = (f"(1, 3, 1) ReLU net, float32, units 0 and 1 dead on the data (W1 = −1.3, −0.7; W2 = 0.5, 0.25; b = 0). "
              f"Without weight decay: no gradient, units 0-1 unchanged after {steps} steps: {untouched}, tied pairs "
              f"{tied_pairs(arch, plain.params)}. SGD lr 0.5, weight decay {weight_decay} (each step halves them): "
              f"first tie at step {tied_at[0] if tied_at else None}, both at (−2^-149, 0, 2^-149), where float32 "
              f"halving stalls: {merged_at_tiny}. In exact arithmetic they only converge to the common limit 0.")
    return check(ok, detail, "dead units did not merge as described: " + detail)


register(Claim(
    id="BIAS-ZERO-01",
    title="Zero biases are fine: i.i.d. continuous random weights break symmetry almost surely",
    seed_quotes=(
        "It is possible and common to initialize the biases to be zero, since the asymmetry breaking is provided "
        "by the small random numbers in the weights.",
    ),
    statement=(
        "In an MLP with at least one hidden layer, all biases 0 and weights drawn i.i.d. from a distribution "
        "with a density (e.g. Gaussian), with probability 1 no two hidden units of a layer are interchangeable "
        "at initialization (their incoming rows differ), and in our runs (every reference optimizer, no weight "
        "decay, full batch or minibatch, 20 steps) they remain pairwise distinct under training, while the "
        "biases themselves are trained off 0. 'Almost surely' is not 'surely': stored weights are "
        "rounded, hence discrete, and ties have positive probability — negligible in float32 "
        "(≈1.4e-8 per pair of weights), but not in bfloat16 (≈9e-4 per pair of weights; E ≈ 1.7 tied unit pairs in a "
        "(1, 2048, 1) net with zero biases), and tied units then stay tied for good."
    ),
    verdict=Verdict.VERIFIED,
    conditions=(
        "weights i.i.d. from a continuous distribution (any density); the exact-arithmetic statement holds with "
        "probability 1, not for every draw",
        "floating point: a rounded Gaussian is discrete; two i.i.d. draws collide with probability "
        "q ≈ c·2^-p/(2π), c ∈ (1, 2], whatever the std (p = significand bits; exact figures in the evidence); "
        "with zero biases units j, k tie iff all their fan_in + fan_out weights collide, probability "
        "≈ q^(fan_in + fan_out) (zero biases add no protection; random biases would multiply it by q)",
        "discrete initializers have no 'almost surely' at all: e.g. Rademacher ±1 weights and zero biases allow "
        "at most 2^(fan_in + fan_out) distinct units, so a wider layer surely has a tied pair (pigeonhole)",
        "training part: checked empirically for 20 steps of the reference optimizers without weight decay; "
        "with weight decay, units that receive no gradient (dead ReLU units) contract towards the same point 0 "
        "and, in floating point, can become bitwise identical (shown; harmless to the function: they output 0)",
    ),
    derivation=(
        "Units j ≠ k are interchangeable only if their incoming rows, biases and outgoing columns all agree "
        "(invariants.symmetry). With zero biases the bias coordinates agree, but W[j, :] − W[k, :] has a density "
        "on R^fan_in, so P(W[j, :] = W[k, :]) = 0, and a finite union over pairs is still null. Ties that exist "
        "persist under any elementwise optimizer (SYM-CONST-01), which is why a tie created by rounding never "
        "heals. The training half is an observation, not a theorem: the gradient map is not injective, so "
        "distinct units could in principle merge; the runs find no case without weight decay."
    ),
    evidence=(
        Evidence("property", "random weights + zero biases: no ties at init or after training", _zero_bias_no_ties),
        Evidence("experiment", "rounding makes ties possible: exact probabilities and a bfloat16 tie",
                 _float_rounding_caveat),
        Evidence("experiment", "limit of the training part: dead ReLU units merge under weight decay",
                 _dead_units_merge_under_weight_decay),
    ),
))


# --------------------------------------------------------------------------- BIAS-EFFECT-01

OFFSET = 3.0
OFFSET_STEPS = 200


def offset_fit(steps: int = OFFSET_STEPS) -> dict:
    """Fit :func:`grid_data` shifted by :data:`OFFSET` (target mean ≈ 3) with a (2, 8, 1) tanh net from
    Lecun-normal weights (seed 0) and zero biases, by full-batch Adam (lr 0.05); also train the same
    weights without biases.  Returns losses, the trained biases and the loss with the biases reset to 0.
    """
    x, t = grid_data(offset=OFFSET)
    arch = Architecture((2, 8, 1), "tanh")
    params = random_params(arch, np.random.default_rng(0))
    res = train(arch, params, x, t, make_optimizer("adam", lr=0.05), steps)
    zeroed = {k: np.zeros_like(v) if k.startswith("b") else v for k, v in res.params.items()}
    nb_arch = Architecture((2, 8, 1), "tanh", bias=False)
    nb = train(nb_arch, {k: v for k, v in params.items() if k.startswith("W")}, x, t,
               make_optimizer("adam", lr=0.05), steps)
    return {"l0": res.losses[0], "l1": loss_and_grad(arch, res.params, x, t)[0],
            "l_zeroed": loss_and_grad(arch, zeroed, x, t)[0], "l_nobias": loss_and_grad(nb_arch, nb.params, x, t)[0],
            "b_init": {k: v for k, v in params.items() if k.startswith("b")},
            "b_final": {k: v for k, v in res.params.items() if k.startswith("b")}, "mean_t": float(np.mean(t))}


@functools.lru_cache(maxsize=1)
def _offset_fit_cached() -> dict:
    return offset_fit()


def _zero_init_biases_matter(run=None) -> EvidenceResult:
    r = _offset_fit_cached() if run is None else run
    b_max = {k: float(np.max(np.abs(v))) for k, v in r["b_final"].items()}
    ok = (all(not np.any(v) for v in r["b_init"].values()) and min(b_max.values()) > 0
          and r["l_zeroed"] > 10 * r["l1"] and r["l_nobias"] > 10 * r["l1"])
    detail = (f"targets sin(2x₁)cos(x₂) + {OFFSET} on 64 grid points (mean {r['mean_t']:.2f}), (2, 8, 1) tanh, Lecun "
              f"weights, biases initialized to 0, {OFFSET_STEPS} Adam steps: loss {r['l0']:.3f} → {r['l1']:.4f}; "
              f"trained biases max |b1| = {b_max['b1']:.3f}, b2 = {float(r['b_final']['b2'][0]):.3f}; resetting them "
              "to 0 raises "
              f"the loss to {r['l_zeroed']:.3f} (×{r['l_zeroed'] / r['l1']:.0f}); the same weights trained without "
              f"biases reach only {r['l_nobias']:.3f}")
    return check(ok, detail, "zero-initialized biases made no difference: " + detail)


def zero_weights_fit(steps: int = 40, lr: float = 0.25, activation: str = "tanh") -> dict:
    """All-zero weights and biases, MSE on the offset grid data, full-batch GD; the activation must have
    φ(0) = 0 (tanh) for the freeze to happen.  Returns the gradients at init, the final parameters and the
    losses."""
    x, t = grid_data(offset=OFFSET)
    arch = Architecture((2, 8, 1), activation)
    params = init_params(arch, 0.0, 0.0)
    _, g0 = loss_and_grad(arch, params, x, t)
    res = train(arch, params, x, t, make_optimizer("sgd", lr=lr), steps)
    return {"g0": g0, "final": res.params, "l0": res.losses[0], "l1": loss_and_grad(arch, res.params, x, t)[0],
            "mean_t": float(np.mean(t)), "var_t": float(np.var(t)), "steps": steps, "lr": lr,
            "activation": activation}


def _only_output_bias_learns(run=None) -> EvidenceResult:
    r = zero_weights_fit() if run is None else run
    others = [k for k in r["g0"] if k != "b2"]
    zero_grad = [k for k in others if not np.any(r["g0"][k])]
    still_zero = [k for k in others if not np.any(r["final"][k])]
    b2 = float(r["final"]["b2"][0])
    ok = (zero_grad == others and still_zero == others and bool(np.any(r["g0"]["b2"]))
          and abs(b2 - r["mean_t"]) < 1e-6 and r["l1"] < 0.1 * r["l0"])
    detail = (f"(2, 8, 1) {r['activation']}, all weights and biases 0, MSE, targets of mean {r['mean_t']:.3f}: "
              "gradient "
              f"at init exactly 0 for [{', '.join(zero_grad)}] of [{', '.join(others)}], "
              f"{float(r['g0']['b2'][0]):.3f} for b2; after {r['steps']} GD steps (lr {r['lr']}) still exactly 0: "
              f"[{', '.join(still_zero)}]; b2 = {b2:.6f}; loss mean(t²) = {r['l0']:.3f} → {r['l1']:.4f} "
              f"(var(t) = {r['var_t']:.4f})")
    return check(ok, detail + ": the zero-initialized output bias is the only parameter that learns",
                 "unexpected zero-weight dynamics: " + detail)


register(Claim(
    id="BIAS-EFFECT-01",
    title="Zero-initialized biases are trained and matter",
    seed_quotes=(
        "An important thing to keep in mind is that biases have no effect what so ever when initialized with 0.",
    ),
    statement=(
        "Refuted: that biases initialized to 0 have no effect. They contribute nothing to the very first forward "
        "pass (z = Wx + 0), but their gradient ∂L/∂b_l = Σ_batch δ_l is generically nonzero, so training moves "
        "them and the trained network depends on them: fitting targets of mean ≈ 3, zero-initialized biases end "
        "nonzero and resetting them to 0 multiplies the loss by ≈ 340; with all-zero weights and φ(0) = 0 the "
        "output bias is the only parameter that learns, lowering the MSE from mean(t²) to var(t)."
    ),
    verdict=Verdict.REFUTED,
    conditions=(
        "the true part: at initialization a zero bias adds nothing to the pre-activation, and zero biases do "
        "not prevent symmetry breaking by random weights (BIAS-ZERO-01)",
        "the counterexamples use MSE on targets with nonzero mean; any data whose optimum has nonzero biases "
        "would do",
    ),
    derivation=(
        "A parameter's initial value and its effect on training are different things: b_l enters the loss "
        "through z_l = W_l h_{l-1} + b_l, so ∂L/∂b_l = Σ_batch ∂L/∂z_l, which does not depend on b_l being 0. "
        "With all weights 0 and φ(0) = 0 every hidden activation is 0, so ∂L/∂W_L = δ_Lᵀh_{L-1} = 0 and "
        "δ_{L-1} = δ_L W_L ⊙ φ' = 0, freezing everything but b_L, whose gradient 2·mean(b_L − t) drives it to "
        "mean(t)."
    ),
    evidence=(
        Evidence("counterexample", "zero-initialized biases end nonzero; zeroing them multiplies the loss",
                 _zero_init_biases_matter),
        Evidence("counterexample", "all-zero weights: the output bias is the only parameter that learns",
                 _only_output_bias_learns),
    ),
))


# --------------------------------------------------------------------------- BIAS-INPUT-01

_U = 2.0**-53  # unit roundoff of float64


def gamma(n: int) -> float:
    """Higham's γ_n = n·u/(1 − n·u) for float64 (Higham 2002, *Accuracy and Stability of Numerical
    Algorithms*, Lemma 3.1); recursive summation of m terms errs by at most γ_{m−1}·Σ|terms| (eq. 4.4)."""
    return n * _U / (1 - n * _U)


def augment_first_layer(params: Params) -> Params:
    """Fold b1 into W1 as the weight on an extra, constant-1 input (last column); b1 becomes 0."""
    out = dict(params)
    out["W1"] = np.concatenate([params["W1"], params["b1"][:, None]], axis=1)
    out["b1"] = np.zeros_like(params["b1"])
    return out


def _bias_is_weight_on_constant_input(augment=augment_first_layer) -> EvidenceResult:
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


def _bias_is_not_constant(run=None) -> EvidenceResult:
    r = _offset_fit_cached() if run is None else run
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
        "Holds: a layer's bias is exactly a weight on an extra input that always equals 1: z = W x + b = "
        "[W b][x; 1] for every x, and ∂L/∂b equals the gradient of that extra weight. Fails as worded: the bias is "
        "not constant — it is a learned parameter that changes under training; only its input (the 1) is constant."
    ),
    verdict=Verdict.CONDITIONAL,
    conditions=(
        "holds: reading 'bias' as the weight attached to a constant-1 input of the layer it belongs to "
        "(z_l = W_l h_{l-1} + b_l; checked on the first layer, where the extra input can be a data column)",
        "in floating point: b·1 = b exactly, so the two forms have identical summands; only the summation order can "
        "differ, so they agree within 2·γ_{fan_in}·(Σ_k|W_jk x_k| + |b_j|) (Higham 2002, eq. 4.4), and exactly when "
        "the sums are exact or summed in the same (canonical) order",
        "fails: 'biases, which are constant' — biases are trainable and move during training (shown)",
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
                 _bias_is_weight_on_constant_input),
        Evidence("counterexample", "the bias changes under training; its input stays 1", _bias_is_not_constant),
    ),
))
