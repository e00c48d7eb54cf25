"""SYM-NEVER-01: never all-zero / all-equal weights — right for hidden layers with constant biases only.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import example, given, strategies as st

from invariants.claims.evidence import check, property_with_coverage, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.experiments.networks import make_data
from invariants.experiments.oracles import gradient_step_descends
from invariants.experiments.training import train_checking_ties
from invariants.experiments.xor import XOR_T, XOR_X, xor_run
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import (
    ACTIVATIONS,
    Architecture,
    OPTIMIZERS,
    forward,
    init_params,
    make_optimizer,
    predict,
    random_params,
    train,
)
from invariants.symmetry import all_classes, hidden_tied, n_distinct_units


def zero_layers_property(seen: dict, make_opt=make_optimizer, max_examples: int = 15):
    """Zero init of some weight layers inside an otherwise random (LeCun) network with zero biases.

    - one zero layer W_l (any l): its units differ through their random outgoing columns (or, for
      l = L, the previous layer's random rows), so after L + 2 steps every hidden unit is distinct,
      W_l has left 0 and the loss went down — provided φ'(0) ≠ 0 or l = L; with relu (φ'(0) = 0) and
      l < L the zeroed layer and everything before it stay frozen at their initial values;
    - two consecutive zero layers W_l, W_{l+1}: the units of hidden layer l have equal (zero) rows,
      biases and columns, so they stay tied at every step (bitwise).
    """

    @verify_settings(max_examples)
    @given(depth=st.integers(2, 4), widths=st.lists(st.integers(2, 6), min_size=5, max_size=5),
           activation=st.sampled_from(sorted(ACTIVATIONS)), loss=st.sampled_from(("mse", "softmax_xent")),
           optimizer=st.sampled_from(OPTIMIZERS), dtype=st.sampled_from(("float32", "float64")),
           zero_at=st.integers(1, 4), tied_at=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
    @example(depth=3, widths=[3, 4, 4, 4, 2], activation="relu", loss="mse", optimizer="adam", dtype="float32",
             zero_at=2, tied_at=1, seed=5)  # relu below a zero hidden layer: always run
    def prop(depth, widths, activation, loss, optimizer, dtype, zero_at, tied_at, seed):
        arch = Architecture(tuple(widths[: depth + 1]), activation, loss, dtype=dtype)
        x, t = make_data(arch, 8, seed)
        steps = depth + 2
        # (a) one zero layer
        l = min(zero_at, depth)
        params = random_params(arch, np.random.default_rng(seed))
        params[f"W{l}"] = np.zeros_like(params[f"W{l}"])
        run = train_checking_ties(arch, params, x, t, make_opt(optimizer, lr=0.02), steps)
        if activation == "relu" and l < depth:
            frozen = all(np.array_equal(run.params[f"W{k}"], params[f"W{k}"]) for k in range(1, l + 1))
            assert frozen, f"relu, zero W{l}: earlier layers moved"
            seen.setdefault("relu, dead below", set()).add(l)
        elif l == depth and not np.any(forward(arch, params, x).inputs[depth - 1]):
            # relu units all inactive on the batch: ∂L/∂W_L = δ_Lᵀ h_{L−1} = 0, and with W_L = 0 no error
            # reaches the layers below: only b_L can move, for ever
            frozen = all(np.array_equal(run.params[k], params[k]) for k in params if k != f"b{depth}")
            assert frozen, f"zero W{l} over a dead last hidden layer: a weight moved"
            seen.setdefault("#dead last layer", set()).add(seed)
        else:
            distinct = all(v == arch.sizes[k] for k, v in n_distinct_units(arch, run.params).items())
            assert distinct, f"zero W{l}: tied units after {steps} steps: {n_distinct_units(arch, run.params)}"
            assert np.any(run.params[f"W{l}"] != 0), f"zero W{l} stayed 0"
            if not run.losses[-1] < run.losses[0]:
                # a fixed step can overshoot (RMSprop's first step is lr/√(1−α) = 10·lr per parameter), so
                # learning is then shown by descent along the gradient, which exists whenever ∇L ≠ 0
                assert gradient_step_descends(arch, params, x, t), f"zero W{l}: no step along −∇L lowers the loss"
                seen.setdefault("#overshot", set()).add(seed)
            seen.setdefault("zero layer at", set()).add(l)
        # (b) two consecutive zero layers: hidden layer l2 between them stays tied
        l2 = min(tied_at, depth - 1)
        params = random_params(arch, np.random.default_rng(seed + 1))
        params[f"W{l2}"], params[f"W{l2 + 1}"] = np.zeros_like(params[f"W{l2}"]), np.zeros_like(params[f"W{l2 + 1}"])
        run = train_checking_ties(arch, params, x, t, make_opt(optimizer, lr=0.02), steps + 10)
        assert run.tied and len(all_classes(arch, run.params)[l2]) == 1, f"W{l2}, W{l2 + 1} zero: layer {l2} untied"
        seen.setdefault("tied layer", set()).add(l2)

    return prop


def _frozen_optimizer(name, lr, **kw):
    return make_optimizer(name, lr=0.0, **kw)


@mutant("an optimizer with learning rate 0 (the zero layer cannot leave 0)",
        lambda: _never_layers(make_opt=_frozen_optimizer))
def _never_layers(make_opt=make_optimizer) -> EvidenceResult:
    return property_with_coverage(
        lambda seen: zero_layers_property(seen, make_opt=make_opt), "15 + 1 pinned",
        "zero biases, one zero weight layer: units distinct, it moved, the loss fell in L + 2 steps "
        "(or along −∇L after an overshoot), except relu below it or a zero W_L over a dead last "
        "layer (frozen); two consecutive zero layers: the layer between stays tied for L + 12 steps")


#: Horizon of the constant-init XOR runs: the tied net's loss has flattened long before, so its failure
#: is not a short-horizon artefact.
NEVER_STEPS = 2000


@mutant("a random init in place of the constant one (units distinct, XOR solved)",
        lambda: _never_holds(init="random", steps=50))
def _never_holds(init: str = "constant", steps: int = NEVER_STEPS) -> EvidenceResult:
    arch = Architecture((2, 4, 1), "tanh")  # exact kernel: ties are bitwise
    rng = np.random.default_rng(0)
    params = init_params(arch, 0.5, 0.0) if init == "constant" else random_params(arch, rng, weight_std=1.0)
    parts, ok = [], True
    for opt, lr in (("sgd", 0.1), ("adam", 0.05)):
        r = train(arch, params, XOR_X, XOR_T, make_optimizer(opt, lr=lr), steps)
        acc = float(np.mean((predict(arch, r.params, XOR_X) > 0.5) == (XOR_T > 0.5)))
        tied = hidden_tied(arch, r.params)
        ok &= tied and acc < 1.0 and bool(np.isfinite(r.losses[-1]))
        parts.append(f"{opt} (lr {lr}): tied = {tied}, accuracy {acc:.0%}, loss {short(r.losses[0])} → "
                     f"{short(r.losses[-1])}")
    name = "constant init 0.5" if init == "constant" else f"{init} init"
    return check(ok, f"hidden layer of width 4, {name}, XOR, MSE, {steps} full-batch steps: "
                     + "; ".join(parts) + " (a tied layer is a width-1 layer, which cannot represent XOR)",
                 f"{init} init did not stay tied or solved XOR: " + "; ".join(parts))


@mutant("constant weights 0.5 in place of the zero output layer / random biases (tied, XOR unsolved)",
        lambda: _never_fails(xor_inits=("constant", "constant")))
def _never_fails(xor_inits=("zero-output", "zero-weights-random-bias")) -> EvidenceResult:
    # (a) no hidden layer: logistic regression from zero reaches the same optimum as from random init
    rng = np.random.default_rng(61)
    x = np.vstack([rng.normal(-0.5, 1.0, (32, 2)), rng.normal(0.5, 1.0, (32, 2))])
    y = np.r_[np.zeros(32, int), np.ones(32, int)]
    arch = Architecture((2, 2), "identity", "softmax_xent", kernel="blas")
    runs = {}
    for name, p in (("zero", init_params(arch, 0.0, 0.0)),
                    ("random", random_params(arch, np.random.default_rng(62), weight_std=1.0, bias_std=1.0))):
        r = train(arch, p, x, y, make_optimizer("sgd", lr=2.0), 400)
        # softmax is invariant to adding a vector to every row: compare the identifiable logit difference
        W, b = r.params["W1"], r.params["b1"]
        runs[name] = (r.losses[-1], np.r_[W[1] - W[0], b[1] - b[0]])
    gap = float(np.max(np.abs(runs["zero"][1] - runs["random"][1])))
    logistic_ok = gap < 1e-6 and abs(runs["zero"][0] - runs["random"][0]) < 1e-12
    # (b) zero output layer with random hidden layer, (c) zero weights with random biases: both train on XOR
    arch_x, zo, acc_zo = xor_run(xor_inits[0])
    _, zb, acc_zb = xor_run(xor_inits[1])
    distinct = n_distinct_units(arch_x, zo.params)[1] == 4 and n_distinct_units(arch_x, zb.params)[1] == 4
    ok = logistic_ok and acc_zo == 1.0 and acc_zb == 1.0 and distinct
    return check(ok, f"no hidden layer: logistic regression from zero and from random init converge to the same "
                     f"optimum (loss {short(runs['zero'][0])} vs {short(runs['random'][0])}, parameter gap {short(gap)}, "
                     f"400 GD steps); XOR 2-4-1 tanh: output layer zero + random hidden layer → loss "
                     f"{short(zo.losses[0])} → {short(zo.losses[-1])}, accuracy {acc_zo:.0%}; all weights zero + N(0, 1) "
                     f"biases → loss {short(zb.losses[0])} → {short(zb.losses[-1])}, accuracy {acc_zb:.0%}; 4 distinct "
                     f"hidden units in both",
                 f"counterexample failed: logistic gap {short(gap)}, zero-output accuracy {acc_zo}, zero-weight "
                 f"random-bias accuracy {acc_zb}, distinct units {distinct}")


register(Claim(
    id="SYM-NEVER-01",
    verdict=Verdict.CONDITIONAL,
    title="Never all-zero / all-equal weights: right for hidden layers with constant biases, not in general",
    seed_quotes=("Never initialize all the weights to zero.", "Never initialize all the weights to the same value."),
    statement=(
        "For a network with a hidden layer of width ≥ 2 and biases constant within each layer, initializing "
        "all weights to zero or to one common value ties that layer's units forever (SYM-CONST-01), so the "
        "rule is sound there (shown over 2000 full-batch SGD and Adam steps: the layer stays tied and XOR "
        "stays unsolved).  It is not a universal rule: without hidden layers (linear or logistic "
        "regression) zero init is standard and reaches the same optimum as a random init; zeroing only the "
        "output layer, with random hidden layers, leaves the hidden units distinct and trains (common "
        "practice for the last layer); and all-zero weights with random biases are not symmetric either and "
        "can train.  In general, zeroing one weight layer between random ones does not stop learning (its "
        "units differ through their random outgoing weights) unless φ'(0) = 0 (relu with zero biases kills "
        "it and every layer below), while zeroing two consecutive layers W_l, W_{l+1} ties hidden layer l "
        "forever."
    ),
    conditions=(
        "holds with a hidden layer of width ≥ 2 and biases constant per layer (zero biases included)",
        "holds for the hidden layer between two consecutive zero weight layers (constant biases there)",
        "fails without hidden layers, when a single layer (e.g. the last) is zero between random ones, and "
        "with random biases",
    ),
    derivation=(
        "Symmetry needs units with equal (row, bias, column) triples; a network with no hidden units has "
        "nothing to tie, a random hidden layer gives distinct rows, random biases give distinct triples."
    ),
    evidence=(
        Evidence("experiment", "constant init ties the hidden layer and fails XOR (2000 SGD and Adam steps)",
                 _never_holds),
        Evidence("counterexample", "zero init works for logistic regression, zero last layer, random biases",
                 _never_fails),
        Evidence("property", "one zero layer between random ones trains; two consecutive zero layers tie the "
                 "layer between them", _never_layers),
    ),
    scope=("MLPs with elementwise activations (reference network, exact kernel), float32/float64; the 7 "
           "reference optimizers in the zero-layer property (L + 2 and L + 12 steps: ties are bitwise and "
           "inductive); SGD and Adam over 2000 steps for the constant-init XOR failure; Adam (300 steps) and "
           "full-batch GD (400 steps) for the counterexamples that train"),
))
