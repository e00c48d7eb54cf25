"""INIT-SCALE-01: what "small" initial weights means, and how "must they be small?" depends on the
optimizer and the depth.

The sweep (depths 3-8, gains 0.1-1, SGD and Adam, up to 20000 steps; the seed's 10-layer std-0.01 net)
lives in :mod:`invariants.studies.small_init` (stored results: docs/data/small_init.json); the evidence
reruns a cheap version of the same measurement so that it can fail.
"""
from __future__ import annotations

import math
from functools import lru_cache

from invariants.claims.evidence import check, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Reading, Verdict, mutant, register
from invariants.studies import small_init as S

#: Gains of the verify-time fits (the small-s end, where the plateau law is the asymptote).
VERIFY_GAINS = (0.1, 0.15, 0.2, 0.3)


@lru_cache(maxsize=None)
def _escapes(optimizer: str, depth: int, gains: tuple, max_steps: int, width: int = S.WIDTH) -> list:
    data = S.teacher_task(width)
    return [S.escape_time(optimizer, depth, s, width, max_steps=max_steps, data=data) for s in gains]


@mutant("Adam in place of SGD (no plateau: exponent ≈ 0)", lambda: sgd_plateau_law(optimizer="adam"))
def sgd_plateau_law(optimizer: str = "sgd", depths=(3, 4), max_steps: int = 2000) -> EvidenceResult:
    """SGD's escape time T(s) from gain s: the fitted exponent of T ∝ s^p must contain −(D − 2) in its
    99 % interval (t-interval plus the integer-step quantization), for each depth.  ``optimizer`` is the
    mutation hook."""
    parts, ok = [], True
    for d in depths:
        runs = _escapes(optimizer, d, VERIFY_GAINS, max_steps)
        steps = [r.escape_step for r in runs]
        if None in steps:
            return EvidenceResult(False, f"{optimizer} D={d}: some gain did not escape within {max_steps} steps "
                                         f"({steps})")
        fit = S.fit_power(d, list(VERIFY_GAINS), steps)
        tol = fit.halfwidth + fit.quantization
        inside = abs(fit.exponent - fit.predicted) <= tol
        ok &= inside
        parts.append(f"D = {d}: T = {', '.join(map(str, steps))}; exponent {fit.exponent:.3f} ± {tol:.3f} vs "
                     f"{fit.predicted:.0f} ({'inside' if inside else 'OUTSIDE'})")
    detail = (f"{optimizer} lr {S.LR[optimizer]}, tanh width {S.WIDTH}, linear teacher, gains "
              f"{', '.join(map(str, VERIFY_GAINS))}, T = steps to half the initial loss: " + "; ".join(parts))
    return check(ok, detail, "the plateau law T ∝ s^{−(D−2)} failed: " + detail)


@mutant("a budget twice the derived threshold's (the run below s_c escapes)",
        lambda: critical_gain_threshold(budget_factor=2.0))
def critical_gain_threshold(depth: int = 4, budget: int = 300, budget_factor: float = 1.0) -> EvidenceResult:
    """The derived threshold s_c(D, N) = (K_D/N)^{1/(D−2)} (K_D fitted on :data:`VERIFY_GAINS`) predicts
    which gains SGD escapes from within N steps: a run at 0.8·s_c must not escape in N steps and one at
    1.25·s_c must.  ``budget_factor`` multiplies the N the runs get (mutation: a longer budget than the
    threshold was derived for)."""
    runs = _escapes("sgd", depth, VERIFY_GAINS, 2000)
    fit = S.fit_power(depth, list(VERIFY_GAINS), [r.escape_step for r in runs])
    s_c = S.critical_gain(fit, budget)
    n = int(budget * budget_factor)
    below, above = _escapes("sgd", depth, (0.8 * s_c, 1.25 * s_c), n)
    ok = below.escape_step is None and above.escape_step is not None
    detail = (f"SGD, D = {depth}: fitted T = {math.exp(fit.log_k):.3g}·s^{fit.exponent:.2f}, so within N = {budget} "
              f"steps s_c = (K/N)^(1/{-fit.exponent:.2f}) = {s_c:.3f}; runs of {n} steps: s = 0.8·s_c = "
              f"{0.8 * s_c:.3f} → escape step {below.escape_step}, s = 1.25·s_c = {1.25 * s_c:.3f} → escape step "
              f"{above.escape_step}")
    return check(ok, detail, "the derived threshold did not separate the runs: " + detail)


@mutant("SGD in place of Adam (it stalls at small gain)", lambda: adam_escapes_small_init(optimizer="sgd"))
def adam_escapes_small_init(optimizer: str = "adam", max_steps: int = 200) -> EvidenceResult:
    """Adam escapes from every gain 0.1-1 at depths 4 and 8 within ``max_steps`` (the study: 3-21 steps),
    and from the seed's case, 10 tanh layers of width 64 at std 0.01 (s = 0.08).  ``optimizer`` is the
    mutation hook."""
    rows = {d: _escapes(optimizer, d, (0.1, 0.3, 1.0), max_steps) for d in (4, 8)}
    seed = S.escape_time(optimizer, 11, 0.01 * math.sqrt(64), 64, max_steps=max_steps)  # 10 tanh + output
    steps = [r.escape_step for rs in rows.values() for r in rs] + [seed.escape_step]
    ok = None not in steps
    detail = (f"{optimizer} lr {S.LR[optimizer]}: escape steps at s = 0.1, 0.3, 1 — "
              + "; ".join(f"D = {d}: {', '.join(str(r.escape_step) for r in rs)}" for d, rs in rows.items())
              + f"; seed case (10 layers of width 64, std 0.01): {seed.escape_step} (loss ratio "
              f"{short(seed.final_loss_ratio)}); horizon {max_steps} steps")
    return check(ok, detail, "Adam did not escape the small-init plateau: " + detail)


register(Claim(
    id="INIT-SCALE-01",
    verdict=Verdict.VERIFIED,
    title="'Small' means a per-layer gain σ·√fan_in below 1; how small is too small depends on optimizer and depth",
    seed_quotes=(
        "The weights of artificial neural networks must be initialized to small random numbers.",
        "What we could do, instead, is to keep the weights very close to zero but make them different by "
        "initializing them to small, non-zero numbers.",
    ),
    statement=(
        "Measure an init's scale by its per-layer gain s = σ·√fan_in (Lecun's variance-preserving init is "
        "s = 1; std 0.01 at fan_in 64 is s = 0.08).  A tanh network of D weight layers started at s < 1 is "
        "≈ linear with an end-to-end gain ≈ s^D, and full-batch gradient descent must first escape a plateau "
        "that lasts T(s) ≈ K_D·s^{−(D−2)} steps (D ≥ 3; measured exponents −1.05, −1.92, −3.8, −5.7 ± 5.4 (3 escaped runs) for "
        "D = 3, 4, 6, 8 against −1, −2, −4, −6; width 8, lr 0.1).  So under SGD a budget of N steps demands "
        "s ≥ s_c(D, N) = (K_D/N)^{1/(D−2)} — for N = 20000: 0.0006 (extrapolated below the gains run), 0.015, 0.10, 0.18 at D = 3, 4, 6, 8, "
        "rising towards 1 with depth — and the seed's std 0.01 in 10 tanh layers of width 64 (s = 0.08) "
        "has not escaped after 10000 SGD steps (loss 99.6 % of its start).  Adam's normalised step has size "
        "≈ lr whenever the gradient is above its ε, so it escapes in 3-21 steps at every gain 0.1-1 and depth "
        "3-8 (|exponent| ≤ 0.51); the seed's 10-layer std-0.01 net, whose per-entry gradients (~1e-13) lie "
        "below ε = 1e-8 so that Adam first acts as SGD with rate lr/ε, escapes in 14 steps (in 4 with ε → 0).  'Must be small' is "
        "therefore wrong as a requirement and 'very close to zero' is harmful under SGD increasingly with "
        "depth (plateau ∝ s^{−(D−2)}, exponential in D), harmless to escaping under Adam."
    ),
    conditions=(
        "gains s ≤ 1 (the small side); large gains fail differently (saturation, explosion: VAR-PROP-01)",
        "the exponent D − 2 is the small-s asymptote of the deep-linear plateau; near s = 1 the escape is "
        "a few steps for both optimizers",
        "thresholds s_c are for the stated task, width and learning rate (K_D ∝ 1/(lr·c)); the exponent "
        "is the transferable part",
        "Adam's escape says nothing about where it converges; at gains where the gradient falls below "
        "Adam's eps (1e-8) it behaves like SGD with rate lr/eps, which also escapes fast",
    ),
    derivation=(
        "Near the origin tanh ≈ identity, so the network is a deep linear network with every layer of gain "
        "≈ s.  In the scalar mode picture of Saxe, McClelland & Ganguli (2014, §3, deeper multilayer "
        "dynamics) each layer's strength u along the data's leading input-output mode (strength c) obeys "
        "du/dt = lr·u^{D−1}(c − u^D); from u₀ ∝ s the time to reach u = O(1) is ∫ du/(lr·c·u^{D−1}) = "
        "(u₀^{2−D} − O(1))/((D − 2)·lr·c), "
        "i.e. T ∝ s^{−(D−2)} for D ≥ 3 (logarithmic for D = 2).  Setting T = N gives s_c.  Adam divides the "
        "bias-corrected first moment by the root of the second, so each coordinate's early steps have "
        "magnitude ≈ lr independent of the gradient's scale (Kingma & Ba 2015, §2.1: the effective step is "
        "approximately bounded by the step size), and the weights reach O(1/√fan_in) in a number of steps "
        "that does not grow as s^{−(D−2)}."
    ),
    evidence=(
        Evidence("experiment", "SGD's plateau: escape time ∝ s^{−(D−2)}", sgd_plateau_law),
        Evidence("experiment", "the derived threshold s_c(D, N) separates escaping from stalled SGD runs",
                 critical_gain_threshold),
        Evidence("experiment", "Adam escapes small inits, including the seed's std 0.01 in 10 layers",
                 adam_escapes_small_init),
    ),
    readings=(
        Reading("'small' = a fixed small std (e.g. 0.01) whatever the fans and depth, and it is required",
                Verdict.REFUTED, ("SGD's plateau: escape time ∝ s^{−(D−2)}",
                                  "Adam escapes small inits, including the seed's std 0.01 in 10 layers")),
        Reading("'small' = gain s ≤ 1 (not larger than variance-preserving), and too small stalls training",
                Verdict.CONDITIONAL, ("SGD's plateau: escape time ∝ s^{−(D−2)}",
                                      "the derived threshold s_c(D, N) separates escaping from stalled SGD runs",
                                      "Adam escapes small inits, including the seed's std 0.01 in 10 layers")),
    ),
    references=(
        "Saxe, McClelland & Ganguli, 'Exact solutions to the nonlinear dynamics of learning in deep linear "
        "neural networks' (ICLR 2014), §2-3 (learning time from small initial conditions, one hidden layer "
        "and deeper networks)",
        "LeCun, Bottou, Orr & Müller, 'Efficient BackProp' (1998), §4.6 (std 1/√fan_in)",
        "Kingma & Ba, 'Adam' (ICLR 2015), Algorithm 1 and §2.1 (bounded effective step)",
    ),
    scope=("tanh MLPs, width 8 (sweep) and 64 (seed case), depth 3-11 weight layers, zero biases, linear teacher, "
           "MSE, full batch; SGD lr 0.1 and Adam lr 0.01; gains 0.08-1; up to 20000 steps (study: "
           "docs/data/small_init.json) / 2000 (verify)"),
))
