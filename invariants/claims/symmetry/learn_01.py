"""SYM-LEARN-01 (refuted): constant-init networks have tied errors but still learn.

Vocabulary, layout and the evidence conventions: see :mod:`invariants.claims.symmetry`.
"""
from __future__ import annotations

import numpy as np

from invariants.claims.evidence import check, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.experiments.networks import constant_net
from invariants.reference import make_optimizer, train
from invariants.symmetry import hidden_tied


#: Horizon of the constant-init runs, per optimizer (lr): long enough for the tied network to settle
#: (the loss curve flattens), so that "it learns" is not a statement about the first steps only.
LEARN_RUNS = {"sgd": (0.1, 1000), "adam": (0.01, 1000)}


@mutant("learning rate 0 (nothing can be learned)", lambda: _learn_counterexample(lr_scale=0.0, horizon=50))
def _learn_counterexample(lr_scale: float = 1.0, horizon: int | None = None) -> EvidenceResult:
    rng = np.random.default_rng(41)
    x = rng.uniform(-1.0, 1.0, (32, 3))
    t = 0.5 * (x @ np.array([[1.0], [-2.0], [0.5]])) + 0.3
    parts, ok = [], True
    for opt, (lr, steps) in LEARN_RUNS.items():
        steps = steps if horizon is None else horizon  # the mutant's shorter run fails just as well
        for act in ("sigmoid", "tanh"):
            arch, params = constant_net((3, 4, 4, 1), act, weight=0.5)  # exact kernel: ties are bitwise
            r = train(arch, params, x, t, make_optimizer(opt, lr=lr * lr_scale), steps)
            tied = hidden_tied(arch, r.params)  # one class per layer at the end ⇒ at every step (SYM-CONST-01)
            losses = np.array(r.losses)
            strict = len(losses) == steps and bool(np.all(np.diff(losses) < 0))
            # SGD: strictly decreasing at every step; Adam's loss may oscillate, so only the end is compared
            learned = losses[-1] < 0.5 * losses[0] and (strict or opt != "sgd")
            ok &= learned and tied
            parts.append(f"{opt} {act}: loss {short(losses[0])} → {short(losses[-1])}, strictly decreasing "
                         f"{strict}, tied {tied}")
    arch, params = constant_net((3, 4, 1), "tanh", weight=0.0)
    r = train(arch, params, x, t, make_optimizer("sgd", lr=0.1 * lr_scale), 200)
    frozen = all(np.all(r.params[k] == 0) for k in ("W1", "b1", "W2"))
    ok &= frozen and r.losses[-1] < r.losses[0]
    parts.append(f"zero init (tanh): weights stay 0, the output bias learns: loss {short(r.losses[0])} → "
                 f"{short(r.losses[-1])} in 200 SGD steps (= Var t {short(np.var(t))})")
    detail = ("constant init 0.5, 3-4-4-1, MSE on a linear target, "
              + ", ".join(f"{steps} {o} steps (lr {lr})" for o, (lr, steps) in LEARN_RUNS.items())
              + " — " + "; ".join(parts))
    return check(ok, detail, "the constant-init net did not learn as expected: " + detail)


register(Claim(
    id="SYM-LEARN-01",
    verdict=Verdict.REFUTED,
    title="Constant-init networks have tied errors but still learn",
    seed_quotes=(
        "If all of the weights are the same, they will all have the same error and the model will not learn "
        "anything – there is no source of asymmetry between the neurons.",
    ),
    statement=(
        "Refuted as stated.  'The same error' is true: tied units get equal δ at every step (SYM-CONST-01).  "
        "'Will not learn anything' is false: a constant-init network trains as a network of width 1 per "
        "hidden layer and its loss can decrease strictly (constant 0.5, sigmoid or tanh, MSE regression; "
        "under SGD at every one of 1000 steps, under Adam to below half its start over 1000 steps, to "
        "1e-3 of it), the units staying tied.  "
        "Even zero init with φ(0) = 0, the most degenerate case, learns the output bias."
    ),
    conditions=("what the tied network cannot learn is anything needing two different features in one layer "
                "(SYM-POOR-01, SYM-LINEAR-01)",),
    derivation=(
        "Symmetry restricts training to the subspace of tied units, where the network is a width-1 network; "
        "gradient descent on that network still decreases the loss unless it sits at a stationary point."
    ),
    evidence=(Evidence("counterexample", "constant-init nets reduce the loss, strictly, while tied",
                       _learn_counterexample),),
    scope=("MLPs with elementwise activations (reference network, float64), sigmoid and tanh, MSE, full batch; "
           "SGD (lr 0.1) and Adam (lr 0.01), 1000 steps; the 'same error' half holds for every optimizer of "
           "SYM-CONST-01's scope"),
))
