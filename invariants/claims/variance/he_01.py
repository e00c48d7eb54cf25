"""VAR-HE-01: He (Kaiming) rule: E[relu(y)²] = Var(y)/2 ⇒ Var(W) = 2/fan_in; leaky ReLU ⇒ 2/((1+a²)·fan_in).
"""
from __future__ import annotations

import sympy as sp

from invariants import propagation as prop
from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.claims.variance.shared import QUOTE_FAN_IN, literature_check, stated_factor_check
from invariants.experiments.propagation import (
    PROP_BATCH,
    PROP_DEPTH,
    PROP_WIDTH,
    reference_profile,
)
from invariants.symbolic import variance as symvar


@mutant("He's eq. 10 mistyped as LeCun's 1/fan_in",
        lambda: _he_derivation(literature={"he_variance": 1 / symvar.fan_in}))
def _he_derivation(literature=None) -> EvidenceResult:
    ok, detail = literature_check(("he_variance", "he_leaky_variance", "leaky_relu_gain"), literature)
    relu = symvar.relu_second_moment_ratio()
    leaky = symvar.leaky_relu_second_moment_ratio()
    ok = ok and relu == sp.Rational(1, 2) and sp.simplify(leaky.subs(symvar.slope, 0) - relu) == 0
    return check(ok, f"E[relu(y)²]/Var y = {relu}, E[leaky(y)²]/Var y = {sp.sstr(leaky)}; {detail}",
                 f"mismatch: relu ratio {relu}, leaky ratio {leaky}; {detail}")


#: Per-layer factors of the ReLU pre-activation second moment that the statement quotes: He keeps it (1),
#: LeCun's 1/fan_in halves it (E[relu(y)²] = Var(y)/2).
STATED_RELU_FACTORS = {"he": 1.0, "lecun": 0.5}


@mutant("He's network sampled with LeCun's 1/fan_in", lambda: _he_reference_network(he="lecun"))
def _he_reference_network(he: str = "he") -> EvidenceResult:
    """``he``: the scheme sampled for He's network (the mutation hook)."""
    he, lecun = reference_profile(he, "relu"), reference_profile("lecun", "relu")
    (ok_h, fh, tol_h), (ok_l, fl, tol_l) = (stated_factor_check(he, STATED_RELU_FACTORS["he"]),
                                            stated_factor_check(lecun, STATED_RELU_FACTORS["lecun"]))
    ok = (he.passed and lecun.passed and ok_h and ok_l and prop.forward_trend(he) == "steady"
          and prop.backward_trend(he) == "steady" and prop.forward_trend(lecun) == "vanishing")
    detail = (f"ReLU, width {PROP_WIDTH}, depth {PROP_DEPTH}, batch {PROP_BATCH}: He keeps q_l = 2 (measured "
              f"per-layer factor {fh:.3f}, stated 1, |log| ≤ {tol_h:.3f}; q_{PROP_DEPTH} = "
              f"{he.forward_measured[-1]:.3g}, within the derived band ±{he.forward_band[-1]:.2f} in log), "
              f"gradients steady; LeCun (1/fan_in) halves it (measured factor {fl:.3f}, stated 0.5, |log| ≤ "
              f"{tol_l:.3f}): forward {prop.forward_trend(lecun)}")
    return check(ok, detail, "unexpected: " + detail)


register(Claim(
    id="VAR-HE-01",
    title="He (Kaiming) rule: E[relu(y)²] = Var(y)/2 ⇒ Var(W) = 2/fan_in; leaky ReLU ⇒ 2/((1+a²)·fan_in)",
    seed_quotes=(QUOTE_FAN_IN,),
    statement=(
        "For every fan_in ≥ 1 and negative slope a ≥ 0 (symbolic): for i.i.d. zero-mean weights independent of the layer input and pre-activations y symmetric about 0, "
        "E[relu(y)²] = Var(y)/2, so a ReLU layer keeps the pre-activation variance iff Var(W) = 2/fan_in "
        "(He et al. 2015, eq. 10): std √2/√fan_in, gain √2 over LeCun. For a leaky ReLU with negative slope "
        "a, E[φ(y)²] = (1 + a²)·Var(y)/2 and Var(W) = 2/((1 + a²)·fan_in) (eq. 15), gain √(2/(1 + a²)). "
        "This rule is of the form the seed sentence describes (std ∝ 1/√fan_in), with constant √2."
    ),
    verdict=Verdict.PROVED,
    scope=("one ReLU or leaky-ReLU layer, any fan_in ≥ 1 and slope a ≥ 0, at initialization; the depth check "
           f"runs reference ReLU networks of width {PROP_WIDTH}, depth {PROP_DEPTH}"),
    conditions=(
        "weights i.i.d. zero-mean, independent of the inputs; pre-activations symmetric about 0 (zero bias "
        "or symmetric bias), as at initialization",
        "forward variance only; backward, the same rule with fan_out (He et al. 2015, eq. 14)",
    ),
    derivation=(
        "Var(y_l) = fan_in·Var(W)·E[x_l²] (weighted sum) and E[x_l²] = E[relu(y_{l−1})²] = Var(y_{l−1})/2 by "
        "symmetry, so Var(y_l) = (fan_in·Var(W)/2)·Var(y_{l−1}); the factor is 1 iff Var(W) = 2/fan_in. "
        "The leaky ReLU's negative half adds a²·Var/2. SymPy integrates both second moments."
    ),
    references=("He, Zhang, Ren, Sun 2015, ICCV, eq. 10, 14 and 15",),
    evidence=(
        Evidence("symbolic", "SymPy: ReLU/leaky second moments ⇒ He et al. eq. 10 and 15", _he_derivation),
        Evidence("property", "reference ReLU network: He steady, LeCun halves per layer", _he_reference_network),
    ),
))
