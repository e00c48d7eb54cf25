"""VAR-FANIN-01: 'Inversely proportional to √(previous layer size)' is LeCun's rule, not Xavier's.
"""
from __future__ import annotations

import dataclasses

import sympy as sp

from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.symbolic import variance as symvar


def _fan_in_only_glorot() -> symvar.VarianceRules:
    """Mutant rules: Glorot's variance replaced by the fan_in-only 1/fan_in."""
    return dataclasses.replace(symvar.glorot_variance(), glorot=1 / symvar.fan_in)


@mutant("Glorot's rule replaced by the fan_in-only 1/fan_in", lambda: _fan_in_only_is_not_glorot(_fan_in_only_glorot()))
def _fan_in_only_is_not_glorot(rules=None) -> EvidenceResult:
    rules = symvar.glorot_variance() if rules is None else rules
    fi, fo = symvar.fan_in, symvar.fan_out
    glorot_std = sp.sqrt(rules.glorot)
    # "∝ 1/√fan_in" means std·√fan_in is a constant; for Glorot it still depends on fan_out
    dependence = sp.simplify(sp.diff(glorot_std * sp.sqrt(fi), fo))
    stds = [float(glorot_std.subs({fi: 100, fo: out})) for out in (100, 300)]
    coincide = sp.solve(sp.Eq(rules.glorot, rules.forward), fo)
    ok = dependence != 0 and stds[0] != stds[1] and coincide == [fi]
    return check(
        ok,
        f"d(std·√fan_in)/d fan_out = {sp.sstr(dependence)} ≠ 0; two layers with the same previous-layer "
        f"size 100 and fan_out 100 vs 300 get Glorot std {stds[0]:.4f} vs {stds[1]:.4f}; Glorot equals the "
        f"fan_in-only rule 1/fan_in only where fan_out = {coincide}",
        f"unexpected: derivative {dependence}, stds {stds}, coincidence {coincide}",
    )


@mutant("the heuristic's bound √3/√n instead of 1/√n (variance 1/n)",
        lambda: _fan_in_only_is_lecun(bound_scale=sp.sqrt(3)))
def _fan_in_only_is_lecun(bound_scale=1) -> EvidenceResult:
    rules = symvar.glorot_variance()
    heuristic_bound = bound_scale / sp.sqrt(symvar.fan_in)  # Glorot & Bengio 2010 eq. 1: U[−1/√n, 1/√n]
    heuristic_var = symvar.uniform_variance().subs(symvar.a, heuristic_bound)
    ratio = sp.simplify(heuristic_var / rules.forward)
    return check(
        ratio == sp.Rational(1, 3),
        f"the sentence's rule (std ∝ 1/√fan_in) is the LeCun / fan_in-only family: the heuristic "
        f"U[−1/√n, 1/√n] of Glorot & Bengio's eq. 1 has variance {sp.sstr(heuristic_var)} = "
        f"{sp.sstr(ratio)}·(1/fan_in), the rule Glorot & Bengio replaced",
        f"unexpected ratio {ratio}",
    )


register(Claim(
    id="VAR-FANIN-01",
    title="'Inversely proportional to √(previous layer size)' is LeCun's rule, not Xavier's",
    seed_quotes=(
        "According to this approach, the weights should be inversely proportional to the square root of the "
        "number of neurons in the previous layer.",
    ),
    statement=(
        "As a description of Xavier (Glorot) initialization the sentence is false: Glorot's std "
        "√(2/(fan_in + fan_out)) depends on fan_out too, so it is not proportional to 1/√fan_in across "
        "layers; it coincides with a fan_in-only rule only when fan_in = fan_out. A std ∝ 1/√fan_in is the "
        "fan_in-only variant (LeCun 1998 with std 1/√fan_in; He with √2/√fan_in; the heuristic "
        "U[−1/√n, 1/√n] that Glorot & Bengio's eq. 1 criticizes)."
    ),
    verdict=Verdict.REFUTED,
    conditions=("true for square layers (fan_in = fan_out), where the two rules agree",),
    derivation=(
        "std_Glorot·√fan_in = √(2·fan_in/(fan_in + fan_out)), whose derivative in fan_out is nonzero, so no "
        "constant c gives std = c/√fan_in for all layers; counterexample: fan_in = 100 with fan_out = 100 "
        "and 300 gives std 0.1 and 0.0707."
    ),
    references=("Glorot & Bengio 2010, eq. 1 and 12", "LeCun et al. 1998, Efficient BackProp, Sec. 4.6"),
    evidence=(
        Evidence("counterexample", "same fan_in, different fan_out, different Glorot std", _fan_in_only_is_not_glorot),
        Evidence("symbolic", "the fan_in-only rule is the LeCun family", _fan_in_only_is_lecun),
    ),
))
