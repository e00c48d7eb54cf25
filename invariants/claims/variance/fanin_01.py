"""VAR-FANIN-01: 'Inversely proportional to √(previous layer size)' is LeCun's rule, not Xavier's.
"""
from __future__ import annotations

import dataclasses

import sympy as sp

from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register, Reading
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


#: Caffe's XavierFiller (BVLC/caffe include/caffe/filler.hpp, XavierFiller::Fill): U(−scale, scale) with
#: scale = sqrt(3/n), n = fan_in, fan_out or (fan_in + fan_out)/2 by FillerParameter.variance_norm, whose
#: default is FAN_IN (src/caffe/proto/caffe.proto: ``optional VarianceNorm variance_norm = 8 [default = FAN_IN]``).
CAFFE_XAVIER_N = {
    "FAN_IN": symvar.fan_in,
    "FAN_OUT": symvar.fan_out,
    "AVERAGE": (symvar.fan_in + symvar.fan_out) / 2,
}
CAFFE_DEFAULT_VARIANCE_NORM = "FAN_IN"


@mutant("Caffe's XavierFiller with variance_norm AVERAGE (Glorot's fan average) instead of its default FAN_IN",
        lambda: _caffe_xavier_is_fan_in_only("AVERAGE"))
def _caffe_xavier_is_fan_in_only(variance_norm: str = CAFFE_DEFAULT_VARIANCE_NORM) -> EvidenceResult:
    fi, fo = symvar.fan_in, symvar.fan_out
    scale = sp.sqrt(3 / CAFFE_XAVIER_N[variance_norm])
    variance = sp.simplify(symvar.uniform_variance().subs(symvar.a, scale))
    std_times_sqrt_fan_in = sp.simplify(sp.sqrt(variance) * sp.sqrt(fi))
    free = [str(s) for s in (fi, fo) if sp.simplify(sp.diff(std_times_sqrt_fan_in, s)) != 0]
    ok = not free and sp.simplify(variance - symvar.glorot_variance().forward) == 0
    detail = (f"Caffe XavierFiller, variance_norm {variance_norm}: U(±√(3/n)) with n = "
              f"{sp.sstr(CAFFE_XAVIER_N[variance_norm])}, Var = {sp.sstr(variance)}, std·√fan_in = "
              f"{sp.sstr(std_times_sqrt_fan_in)}" + (f", which depends on {', '.join(free)}" if free else
                                                        ", a constant: std ∝ 1/√(previous layer size), "
                                                        "LeCun's 1/fan_in variance"))
    return check(ok, detail, "not a fan_in-only rule: " + detail)


register(Claim(
    id="VAR-FANIN-01",
    title="'Inversely proportional to √(previous layer size)' is LeCun's rule, not Xavier's",
    seed_quotes=(
        "According to this approach, the weights should be inversely proportional to the square root of the "
        "number of neurons in the previous layer.",
    ),
    statement=(
        "As a description of Xavier initialization as Glorot & Bengio (2010) define it, the sentence is false: Glorot's std √(2/(fan_in + fan_out)) depends on fan_out too, "
        "so it is not proportional to 1/√fan_in across layers; it coincides with a fan_in-only rule only when "
        "fan_in = fan_out. A std ∝ 1/√fan_in is the fan_in-only variant (LeCun 1998 with std 1/√fan_in; He with "
        "√2/√fan_in; the heuristic U[−1/√n, 1/√n] that Glorot & Bengio's eq. 1 criticizes; and Caffe's "
        "XavierFiller at its default variance_norm FAN_IN, which carries the Xavier name)."
    ),
    verdict=Verdict.REFUTED,
    scope="one dense or convolutional layer, any fan_in, fan_out ≥ 1 (symbolic fans); the variance rule only",
    readings=(
        Reading("'this approach' is Xavier initialization as Glorot & Bengio define it (the fan average, their "
                "eq. 12 and 16)", Verdict.REFUTED,
                ("same fan_in, different fan_out, different Glorot std",)),
        Reading("'this approach' is the fan_in-only rule that Caffe's XavierFiller (default variance_norm FAN_IN) "
                "and several tutorials call Xavier", Verdict.VERIFIED,
                ("Caffe's XavierFiller at its default is the fan_in-only rule",
                 "the fan_in-only rule is the LeCun family")),
    ),
    conditions=("true for square layers (fan_in = fan_out), where the two rules agree",
                "true of what Caffe calls Xavier by default (variance_norm FAN_IN), which is LeCun's variance "
                "1/fan_in under the Xavier name"),
    derivation=(
        "std_Glorot·√fan_in = √(2·fan_in/(fan_in + fan_out)), whose derivative in fan_out is nonzero, so no "
        "constant c gives std = c/√fan_in for all layers; counterexample: fan_in = 100 with fan_out = 100 "
        "and 300 gives std 0.1 and 0.0707. Caffe's XavierFiller draws U(±√(3/n)) with n = fan_in by default: "
        "Var = n⁻¹, std·√fan_in = 1 for every fan_in and fan_out."
    ),
    references=("Glorot & Bengio 2010, eq. 1 and 12", "LeCun et al. 1998, Efficient BackProp, Sec. 4.6",
                "BVLC/caffe include/caffe/filler.hpp, XavierFiller::Fill; src/caffe/proto/caffe.proto, "
                "FillerParameter.variance_norm [default = FAN_IN]"),
    evidence=(
        Evidence("counterexample", "same fan_in, different fan_out, different Glorot std", _fan_in_only_is_not_glorot),
        Evidence("symbolic", "the fan_in-only rule is the LeCun family", _fan_in_only_is_lecun),
        Evidence("symbolic", "Caffe's XavierFiller at its default is the fan_in-only rule", _caffe_xavier_is_fan_in_only),
    ),
))
