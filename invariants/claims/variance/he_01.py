"""VAR-HE-01: He (Kaiming) rule: E[relu(y)²] = Var(y)/2 ⇒ Var(W) = 2/fan_in; leaky ReLU ⇒ 2/((1+a²)·fan_in).
"""
from __future__ import annotations

import sympy as sp

from invariants import propagation as prop
from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, register
from invariants.claims.variance.shared import QUOTE_FAN_IN, literature_check
from invariants.experiments.propagation import (
    PROP_BATCH,
    PROP_DEPTH,
    PROP_WIDTH,
    per_layer_factors,
    reference_profile,
)
from invariants.symbolic import variance as symvar


def _he_derivation() -> EvidenceResult:
    ok, detail = literature_check(("he_variance", "he_leaky_variance", "leaky_relu_gain"))
    relu = symvar.relu_second_moment_ratio()
    leaky = symvar.leaky_relu_second_moment_ratio()
    ok = ok and relu == sp.Rational(1, 2) and sp.simplify(leaky.subs(symvar.slope, 0) - relu) == 0
    return check(ok, f"E[relu(y)²]/Var y = {relu}, E[leaky(y)²]/Var y = {sp.sstr(leaky)}; {detail}",
                 f"mismatch: relu ratio {relu}, leaky ratio {leaky}; {detail}")


def _he_reference_network() -> EvidenceResult:
    he, lecun = reference_profile("he", "relu"), reference_profile("lecun", "relu")
    fh, fl = per_layer_factors(he)[0], per_layer_factors(lecun)[0]
    ok = (he.passed and lecun.passed and prop.forward_trend(he) == "steady"
          and prop.backward_trend(he) == "steady" and prop.forward_trend(lecun) == "vanishing")
    detail = (f"ReLU, width {PROP_WIDTH}, depth {PROP_DEPTH}, batch {PROP_BATCH}: He keeps q_l = 2 (measured "
              f"per-layer factor {fh:.3f}, q_{PROP_DEPTH} = {he.forward_measured[-1]:.3g}, within the derived "
              f"band ±{he.forward_band[-1]:.2f} in log), gradients steady; LeCun (1/fan_in) halves it "
              f"(measured factor {fl:.3f}, predicted 0.5): forward {prop.forward_trend(lecun)}")
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
