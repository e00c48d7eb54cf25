"""BIAS-ZERO-01: zero biases are fine: i.i.d. continuous random weights break symmetry almost surely;
floating point makes "almost surely" fall short of "surely", quantified.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import check, run_property, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.experiments.oracles import tied_pairs
from invariants.experiments.rounding import PRECISION, round_significand, tie_probability
from invariants.experiments.strategies import SEEDS
from invariants.experiments.training import LR, train_checking_ties
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import (
    ACTIVATIONS,
    Architecture,
    OPTIMIZERS,
    Params,
    init_params,
    make_optimizer,
    random_params,
    runs,
    train,
)
from invariants.symmetry import all_classes, symmetry_defect, unit_signatures


#: "Distinct" as a measurement that can fail: the smallest pairwise ∞-distance between the signatures of
#: two units of a layer, relative to the layer's largest signature entry, must stay above this.  Rounding
#: puts merged units at ≈ 1e-16 relative (float64) and the weight-decay merge below reaches 2^-149: 1e-6
#: is ten decades above the first and far below the initial spacing of the i.i.d. rows here (0.1-0.7).
MIN_RELATIVE_DISTANCE = 1e-6


def min_relative_distance(arch: Architecture, params: Params) -> float:
    """min over hidden layers and unit pairs j < k of ‖sig_j − sig_k‖_∞ / max|sig| (0 for tied units)."""
    out = math.inf
    for l in arch.hidden_layers:
        sig = unit_signatures(arch, params, l).astype(np.float64)
        scale = float(np.max(np.abs(sig))) or 1.0
        d = np.max(np.abs(sig[:, None, :] - sig[None, :, :]), axis=2)
        d[np.diag_indices(len(sig))] = np.inf
        out = min(out, float(d.min()) / scale)
    return out


def tie_units_0_1(params: Params) -> Params:
    """Mutation: unit 1 of hidden layer 1 made a copy of unit 0 (row, bias, outgoing column)."""
    p = {k: v.copy() for k, v in params.items()}
    p["W1"][1], p["b1"][1], p["W2"][:, 1] = p["W1"][0], p["b1"][0], p["W2"][:, 0]
    return p


@mutant("units 0 and 1 tied at initialization", lambda: zero_bias_no_ties(tie=True, max_examples=3))
def zero_bias_no_ties(make_opt=make_optimizer, tie: bool = False, max_examples: int = 25) -> EvidenceResult:
    """Property: random weights + zero biases → the smallest relative distance between two units of a
    layer is above :data:`MIN_RELATIVE_DISTANCE` at init and after 20 training steps.

    ``make_opt`` and ``tie`` are mutation hooks (a symmetrizing optimizer, a tied start).
    """
    seen = {"examples": 0, "units": 0, "moved": 0, "hidden_biases": 0, "diverged": 0, "min": math.inf}

    @verify_settings(max_examples)
    @given(hidden=st.lists(st.integers(2, 8), min_size=1, max_size=3), d=st.integers(1, 4),
           c=st.integers(1, 3), act=st.sampled_from(sorted(ACTIVATIONS)), opt=st.sampled_from(OPTIMIZERS),
           batch=st.sampled_from((None, 4)), seed=SEEDS)
    def prop(hidden, d, c, act, opt, batch, seed):
        rng = np.random.default_rng(seed)
        arch = Architecture((d, *hidden, c), act)
        params = random_params(arch, rng)  # Lecun-normal float64 weights, all biases exactly 0
        if tie:
            params = tie_units_0_1(params)
        assert all(not np.any(params[f"b{l}"]) for l in range(1, arch.depth + 1))
        d0 = min_relative_distance(arch, params)
        assert d0 > MIN_RELATIVE_DISTANCE, f"units {d0:.2g} apart at init: {arch.sizes}, seed {seed}"
        x, t = rng.normal(size=(12, d)), rng.normal(size=(12, c))
        # checked on the last finite parameters: a run that overflows says nothing after the overflow
        res = train_checking_ties(arch, params, x, t, make_opt(opt, lr=LR[opt]), 20, batch_size=batch, rng=rng)
        seen["diverged"] += res.diverged_at is not None
        d1 = min_relative_distance(arch, res.params)
        assert d1 > MIN_RELATIVE_DISTANCE, (
            f"two units came within {d1:.2g} (relative) after 20 {opt} steps: {arch.sizes}, {act}, seed {seed}")
        seen["min"] = min(seen["min"], d0, d1)
        seen["examples"] += 1
        seen["units"] += sum(hidden)
        seen["hidden_biases"] += sum(hidden)
        seen["moved"] += sum(int(np.count_nonzero(res.params[f"b{l}"])) for l in arch.hidden_layers)

    return run_property(prop, lambda: (
        f"{seen['examples']} random networks (depth 2-4, widths 2-8, all activations, all {len(OPTIMIZERS)} "
        f"optimizers, full batch or minibatch 4), Lecun-normal float64 weights and zero biases: {seen['units']} "
        f"hidden units; the closest two units of a layer were {short(seen['min'])} apart relative to the layer's "
        f"scale (threshold {MIN_RELATIVE_DISTANCE:g}) at init and after 20 steps (or up to an overflow: "
        f"{seen['diverged']} runs); {seen['moved']} of "
        f"{seen['hidden_biases']} hidden biases moved off 0 (the others belong to units that got no gradient, "
        "e.g. dead ReLUs)."))


#: The long-run check: a (3, 6, 6, 1) network per reference optimizer, this many full-batch steps, the
#: distance measured after every CHECK_EVERY-th step (two units that merge approach each other over many
#: steps, as the weight-decay case below does over ~150).
LONG_STEPS = 2000
CHECK_EVERY = 10


@mutant("units 0 and 1 tied at initialization", lambda: distinct_over_long_runs(tie=True, optimizers=("sgd",)))
def distinct_over_long_runs(tie: bool = False, optimizers=OPTIMIZERS, steps: int = LONG_STEPS) -> EvidenceResult:
    """Experiment: over ``steps`` full-batch steps of each optimizer (no weight decay) the smallest relative
    distance between two units of a layer, tracked at every step, stays above
    :data:`MIN_RELATIVE_DISTANCE`.  ``tie`` is the mutation hook."""
    rows, ok = {}, True
    for act in ("tanh", "relu"):  # runs alternate between the two; those of one activation train as one stack
        picked = [(i, opt) for i, opt in enumerate(optimizers) if ("tanh", "relu")[i % 2] == act]
        if not picked:
            continue
        arch = Architecture((3, 6, 6, 1), act, kernel="blas")
        starts, xs, ts = [], [], []
        for i, _ in picked:
            rng = np.random.default_rng(100 + i)
            params = random_params(arch, rng)
            starts.append(tie_units_0_1(params) if tie else params)
            xs.append(rng.normal(size=(32, 3)))
            ts.append(rng.normal(size=(32, 1)))
        tracks = [[min_relative_distance(arch, p)] for p in starts]
        stacked, x, t = runs.stack(starts), np.stack(xs), np.stack(ts)
        opts = [make_optimizer(opt, lr=LR[opt]) for _, opt in picked]
        losses = [math.nan] * len(picked)
        for step in range(steps):  # as reference.train, full batch, distances after every CHECK_EVERY-th step
            losses, grads = runs.loss_and_grad_runs(arch, stacked, x, t)
            stacked = runs.step_each(opts, stacked, grads)
            if step % CHECK_EVERY == 0:
                for r, track in enumerate(tracks):
                    track.append(min_relative_distance(arch, {k: v[r] for k, v in stacked.items()}))
        for r, (i, opt) in enumerate(picked):
            lowest = min(tracks[r])
            ok &= lowest > MIN_RELATIVE_DISTANCE and bool(np.isfinite(losses[r]))
            rows[i] = f"{opt}/{act} {short(tracks[r][0])} → {short(lowest)}"
    rows = [rows[i] for i in sorted(rows)]
    detail = (f"(3, 6, 6, 1) nets, Lecun-normal weights, zero biases, {steps} full-batch steps, no weight decay; "
              f"closest two units of a layer, relative to its scale, at init → minimum over the run (every "
              f"{CHECK_EVERY} steps): " + "; ".join(rows) + f" (threshold {MIN_RELATIVE_DISTANCE:g})")
    return check(ok, detail, "two units came together: " + detail)


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


@mutant("a width of 64 (expected ties ≈ 0: no bfloat16 tie to show)", lambda: float_rounding_caveat(width=64))
def float_rounding_caveat(width: int = CAVEAT_WIDTH, n_seeds: int = CAVEAT_SEEDS) -> EvidenceResult:
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


@mutant("no weight decay (the dead units do not move)", lambda: dead_units_merge_under_weight_decay(0.0))
def dead_units_merge_under_weight_decay(weight_decay: float = 1.0, steps: int = 200) -> EvidenceResult:
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
        "decay, 2000 full-batch steps; 20 steps over random architectures, full batch or minibatch) they "
        "stay apart under training — the smallest distance between two units of a layer, relative to its "
        "scale, never falls below 1e-6 (measured every 10 steps; in fact it stays above 0.15, within a factor "
        "3 of its initial value) — while the biases themselves are trained off 0. 'Almost surely' is not 'surely': stored weights are "
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
        "training part: measured over 2000 steps of each reference optimizer (and 20 steps over random "
        "architectures) without weight decay; "
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
        Evidence("property", "random weights + zero biases: units apart at init and after training", zero_bias_no_ties),
        Evidence("experiment", "units stay apart over 2000 steps of every reference optimizer",
                 distinct_over_long_runs),
        Evidence("experiment", "rounding makes ties possible: exact probabilities and a bfloat16 tie",
                 float_rounding_caveat),
        Evidence("experiment", "limit of the training part: dead ReLU units merge under weight decay",
                 dead_units_merge_under_weight_decay),
    ),
    scope=("MLPs with elementwise activations (reference network), i.i.d. Gaussian weights, zero biases; float64 "
           "(training), bfloat16/float16/float32/float64 (rounding); all 7 reference optimizers without weight "
           "decay, 2000 steps; SGD with weight decay for the dead-unit limit"),
))
