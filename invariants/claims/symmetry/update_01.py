"""SYM-UPDATE-01: equal gradients give equal updates only when parameters and optimizer state are equal.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from invariants.claims.evidence import check, property_with_coverage, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register, Reading
from invariants.experiments.mutants import nudging, plain_sgd
from invariants.hypothesis_profiles import verify_settings
from invariants.reference import OPTIMIZERS, make_optimizer


# ``make_optimizer`` is a parameter under the global's own name so that the property's source, from which
# Hypothesis derives its derandomized examples, stays the same
@mutant("a position-dependent optimizer (one ulp added to the first entry of every tensor)",
        lambda: _update_holds(make_optimizer=nudging))
def _update_holds(make_optimizer=make_optimizer) -> EvidenceResult:
    def build(seen):
        @verify_settings(25)
        @given(width=st.integers(1, 6), steps=st.integers(1, 10), weight_decay=st.sampled_from((0.0, 0.05)),
               clip_norm=st.sampled_from((None, 0.5)), dtype=st.sampled_from(("float32", "float64")),
               seed=st.integers(0, 2**32 - 1))
        def prop(width, steps, weight_decay, clip_norm, dtype, seed):
            seen.setdefault("dtype", set()).add(dtype)
            for name in OPTIMIZERS:
                rng = np.random.default_rng(seed)
                params = {"W": np.tile(rng.normal(size=width), (2, 1)).astype(dtype),
                          "v": rng.normal(size=3).astype(dtype)}
                opt = make_optimizer(name, lr=0.1, weight_decay=weight_decay, clip_norm=clip_norm)
                for _ in range(steps):  # rows 0 and 1 share parameter, gradient and (hence) state at every step
                    grads = {"W": np.tile(rng.normal(size=width), (2, 1)).astype(dtype),
                             "v": rng.normal(size=3).astype(dtype)}
                    new = opt.step(params, grads)
                    upd = new["W"] - params["W"]
                    assert np.array_equal(upd[0], upd[1]), f"{name}: equal coordinates updated differently"
                    params = new

        return prop

    return property_with_coverage(
        build, 25, "under each of the 7 optimizers, coordinates with equal parameter, gradient and "
                   "state got bitwise-equal updates at every step (1-10 steps, random gradients, "
                   "weight decay, global clipping)")


@mutant("every optimizer replaced by plain SGD without weight decay", lambda: _update_fails(make_optimizer=plain_sgd))
def _update_fails(make_optimizer=make_optimizer) -> EvidenceResult:
    # (a) equal gradients, different optimizer state (momentum buffers / Adam moments from earlier steps)
    diffs = {}
    for name in ("momentum", "adam"):
        opt = make_optimizer(name, lr=0.1)
        p = {"w": np.array([0.5, 0.5])}
        p = opt.step(p, {"w": np.array([1.0, -1.0])})
        new = opt.step(p, {"w": np.array([1.0, 1.0])})  # equal gradients now
        diffs[name] = new["w"] - p["w"]
    # (b) equal gradients and equal state, different weights, L2 weight decay
    opt = make_optimizer("sgd", lr=0.1, weight_decay=0.1)
    p = {"w": np.array([1.0, 2.0])}
    d_wd = opt.step(p, {"w": np.array([0.5, 0.5])})["w"] - p["w"]
    # (c) plain SGD: equal gradients suffice, whatever the weights
    opt = make_optimizer("sgd", lr=0.1, clip_norm=0.3)
    d_sgd = opt.step(p, {"w": np.array([0.5, 0.5])})["w"] - p["w"]
    ok = (all(d[0] != d[1] for d in diffs.values()) and d_wd[0] != d_wd[1] and d_sgd[0] == d_sgd[1])
    return check(ok, f"equal gradients (1, 1) after unequal ones (1, −1): momentum updates "
                     f"({short(diffs['momentum'][0])}, {short(diffs['momentum'][1])}), Adam updates "
                     f"({short(diffs['adam'][0])}, {short(diffs['adam'][1])}); SGD with L2 decay 0.1 on weights (1, 2) "
                     f"and gradients (0.5, 0.5): updates ({short(d_wd[0])}, {short(d_wd[1])}); plain SGD (with "
                     f"clipping): ({short(d_sgd[0])}, {short(d_sgd[1])}), equal",
                 "a counterexample did not produce unequal updates, or plain SGD did")


register(Claim(
    id="SYM-UPDATE-01",
    verdict=Verdict.VERIFIED,
    scope=("the 7 reference optimizers (SGD, momentum, Nesterov, Adam, AdamW, RMSprop, Adagrad), with and without "
           "weight decay and global-norm clipping, float32 and float64, 1-10 steps, any parameter tensor"),
    readings=(
        Reading("for any optimizer and any history, equal gradients give equal updates", Verdict.REFUTED,
                ("equal gradients, unequal state or weights ⇒ unequal updates",)),
        Reading("for plain SGD without weight decay (with or without global clipping)", Verdict.VERIFIED,
                ("equal (parameter, gradient, state) ⇒ equal updates, all 7 optimizers",
                 "equal gradients, unequal state or weights ⇒ unequal updates")),
        Reading("for interchangeable units (equal parameters, gradients and optimizer state), under any of the 7 "
                "optimizers", Verdict.VERIFIED, ("equal (parameter, gradient, state) ⇒ equal updates, all 7 optimizers",)),
    ),
    title="Equal gradients give equal updates only when parameters and optimizer state are equal too",
    seed_quotes=("If the gradients are equal then weights are going to be updated by the same amount.",),
    statement=(
        "For plain SGD without weight decay (with or without global-norm clipping) equal gradients give equal "
        "updates.  For the other optimizers (momentum, Nesterov, Adam, AdamW, RMSprop, Adagrad) and for any "
        "weight decay the update of a coordinate is a function of its parameter, gradient and optimizer "
        "state, so equal gradients give equal updates when the parameters and states are equal as well — as "
        "they are for interchangeable units (SYM-CONST-01) — and in general not otherwise."
    ),
    conditions=(
        "plain SGD (no decay): equal gradients suffice",
        "all 7 optimizers: equal parameter, gradient and state suffice",
        "unequal optimizer state (different gradient histories) or weight decay on unequal weights give unequal "
        "updates for equal gradients (shown)",
    ),
    derivation=(
        "Momentum/Adam/RMSprop/Adagrad updates depend on accumulated past gradients; L2 decay adds λθ and "
        "decoupled decay subtracts lr·λ·θ, both depending on the weight itself."
    ),
    evidence=(
        Evidence("property", "equal (parameter, gradient, state) ⇒ equal updates, all 7 optimizers", _update_holds),
        Evidence("counterexample", "equal gradients, unequal state or weights ⇒ unequal updates", _update_fails),
    ),
))
