"""VAR-TORCHDEFAULT-01: PyTorch's default Linear/Conv init is U(±1/√fan_in): Var = 1/(3·fan_in), not He's
2/fan_in.
"""
from __future__ import annotations

import sympy as sp

from invariants import propagation as prop
from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.claims.variance.shared import QUOTE_FAN_IN, literature_check, stated_factor_check
from invariants.experiments.propagation import PROP_WIDTH, reference_profile
from invariants.symbolic import variance as symvar


@mutant("the default's variance mistyped as He's 2/fan_in",
        lambda: _torch_default_derivation(literature={"torch_default_variance": 2 / symvar.fan_in}))
def _torch_default_derivation(literature=None) -> EvidenceResult:
    ok, detail = literature_check(("torch_default_bound", "torch_default_variance"), literature)
    t = symvar.torch_default_linear()
    ok = ok and t.gain == 1 / sp.sqrt(3) and t.ratio_to_lecun == sp.Rational(1, 3) and t.ratio_to_he == sp.Rational(1, 6)
    return check(
        ok,
        f"kaiming_uniform_(a=√5): gain √(2/(1+5)) = {sp.sstr(t.gain)}, bound = {sp.sstr(t.bound)}, "
        f"Var = {sp.sstr(t.variance)} = {t.ratio_to_lecun}·LeCun = {t.ratio_to_he}·He; {detail}",
        f"mismatch: gain {t.gain}, variance {t.variance}; {detail}",
    )


#: Per-layer factors the statement quotes: forward (pre-activation second moment) and backward (gradient)
#: per linear layer 1/3 and per ReLU layer 1/6 forward; backward fan_out·Var(W)·E[φ'²] = 1/3 and 1/6 too.
STATED_FACTORS = {"identity": (1 / 3, 1 / 3), "relu": (1 / 6, 1 / 6)}


@mutant("the nets sampled with He's 2/fan_in instead of the default", lambda: _torch_default_depth(scheme="he"))
def _torch_default_depth(scheme: str = "torch_default") -> EvidenceResult:
    """``scheme``: the scheme the nets are sampled with (the mutation hook)."""
    lin, relu = reference_profile(scheme, "identity", 20), reference_profile(scheme, "relu", 20)
    checks = [stated_factor_check(p, STATED_FACTORS[p.activation][i], d) for p in (lin, relu)
              for i, d in enumerate(("forward", "backward"))]
    (_, fl, _), (_, bl, _), (_, fr, _), (_, br, tol) = checks
    ok = (lin.passed and relu.passed and all(c[0] for c in checks)
          and all(prop.forward_trend(p) == "vanishing" for p in (lin, relu)))
    detail = (f"U(±1/√fan_in) reference nets, width {PROP_WIDTH}, depth 20: linear per-layer factor forward "
              f"{fl:.3f} / backward {bl:.3f} (stated 1/3), ReLU {fr:.3f} / {br:.3f} (stated 1/6), each within "
              f"its derived tolerance (|log| ≤ {max(c[2] for c in checks):.3f}) and "
              f"all within the mean-field band; q_20/q_1 = {lin.forward_measured[-1] / lin.forward_measured[0]:.2g}"
              f" (linear), {relu.forward_measured[-1] / relu.forward_measured[0]:.2g} (ReLU)")
    return check(ok, detail, "unexpected: " + detail)


register(Claim(
    id="VAR-TORCHDEFAULT-01",
    title="PyTorch's default Linear/Conv init is U(±1/√fan_in): Var = 1/(3·fan_in), not He's 2/fan_in",
    seed_quotes=(QUOTE_FAN_IN,),
    statement=(
        "torch.nn.Linear and torch.nn.ConvNd initialize weights with kaiming_uniform_(w, a=√5): gain "
        "√(2/(1 + a²)) = 1/√3, bound = gain·√(3/fan_in) = 1/√fan_in, so W ~ U(−1/√fan_in, 1/√fan_in) with "
        "Var(W) = 1/(3·fan_in): a third of LeCun's and a sixth of He's variance. It is std ∝ 1/√fan_in (the "
        "seed's form) but, despite the 'kaiming' name, not He's ReLU rule: at zero bias it multiplies the "
        "pre-activation variance by 1/3 per linear layer and 1/6 per ReLU layer."
    ),
    verdict=Verdict.PROVED,
    conditions=(
        "weights of nn.Linear / nn.ConvNd reset_parameters (PyTorch 1.x–2.x); fan_in = in_features, or "
        "in_channels/groups × kernel size",
        "the per-layer decay is for zero bias; PyTorch's default bias U(±1/√fan_in) has variance "
        "σ_b² = 1/(3·fan_in), which is not modelled here",
    ),
    derivation=(
        "calculate_gain('leaky_relu', √5) = √(2/(1 + 5)) = 1/√3; kaiming_uniform_ uses bound = √3·gain/√fan_in "
        "= 1/√fan_in; Var U(−b, b) = b²/3 = 1/(3·fan_in). Mean field: q_{l+1} = fan_in·Var(W)·E[φ(y)²] = q_l/3 "
        "(identity) or q_l/6 (ReLU)."
    ),
    references=("PyTorch torch/nn/modules/linear.py reset_parameters", "PyTorch nn.Linear documentation"),
    evidence=(
        Evidence("symbolic", "SymPy: gain, bound and variance of kaiming_uniform_(a=√5)", _torch_default_derivation),
        Evidence("experiment", "reference nets decay by 1/3 (linear) and 1/6 (ReLU) per layer", _torch_default_depth),
    ),
))
