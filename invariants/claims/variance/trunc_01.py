"""VAR-TRUNC-01: Truncated-normal initializers divide the std by c = 0.87962566103423975…, the std of N(0,1) on
[−2, 2].
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from scipy import stats

from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.claims.variance.shared import QUOTE_GAUSSIAN, literature_check
from invariants.specs import TRUNCATED_NORMAL_STD
from invariants.symbolic import variance as symvar


def _truncated_at(b):
    """The textbook variance of N(0, 1) truncated to [−b, b]: 1 − 2bφ(b)/(2Φ(b) − 1)."""
    return 1 - 2 * b * (sp.exp(-b * b / 2) / sp.sqrt(2 * sp.pi)) / sp.erf(b / sp.sqrt(2))


@mutant("the published variance taken at the truncation ±3 instead of ±2",
        lambda: _trunc_derivation(literature={"truncated_normal_variance": _truncated_at(3)}))
def _trunc_derivation(literature=None) -> EvidenceResult:
    ok, detail = literature_check(("truncated_normal_variance", "truncated_normal_corrected_variance"), literature)
    t = symvar.truncated_normal()
    uncorrected = float(t.uncorrected_variance / symvar.sigma**2)
    return check(
        ok and t.std_digits == "0.87962566103423975",
        f"c² = {sp.sstr(t.variance)}, c = {t.std_digits} (17 digits); corrected scale σ/c gives Var = "
        f"{sp.sstr(t.corrected_variance)}; without it Var = {uncorrected:.4f}σ² ({100 * (uncorrected - 1):.1f}%); "
        f"{detail}",
        f"mismatch: c = {t.std_digits}; {detail}",
    )


@mutant("the audit constant rounded to 16 digits, 0.8796256610342397",
        lambda: _trunc_constant(audit_constant=0.8796256610342397))
def _trunc_constant(audit_constant: float = TRUNCATED_NORMAL_STD) -> EvidenceResult:
    """``audit_constant``: the constant invariants.audit divides by (the mutation hook)."""
    c = symvar.check_truncated_normal_constant()
    exact = float(sp.N(symvar.truncated_normal().std, 40))
    scipy_c = float(stats.truncnorm.std(-2, 2))
    ok = c.same_float64 and exact == audit_constant and abs(exact - scipy_c) <= 2 * np.spacing(exact)
    return check(
        ok,
        f"exact c = {c.derived_digits}…; JAX/Keras literal {c.literature} differs by {c.abs_difference:.2g} "
        f"(17th digit) but is the same float64 {exact!r}; scipy truncnorm.std(-2, 2) = {scipy_c!r}; "
        f"invariants.audit TRUNCATED_NORMAL_STD = {audit_constant!r}",
        f"mismatch: exact {exact!r}, literal {c.literature}, scipy {scipy_c!r}, audit {audit_constant!r}",
    )


register(Claim(
    id="VAR-TRUNC-01",
    title="Truncated-normal initializers divide the std by c = 0.87962566103423975…, the std of N(0,1) on [−2, 2]",
    seed_quotes=(QUOTE_GAUSSIAN,),
    statement=(
        "For every target std σ > 0 (symbolic; the general truncation point b is derived too): N(0, 1) truncated to [−2, 2] has variance c² = 1 − 4φ(2)/(2Φ(2) − 1) = 1 − 2√2·e⁻²/(√π·erf √2) = "
        "0.7737413…, c = 0.87962566103423975 (17 significant digits). JAX/Keras variance-scaling with "
        "distribution 'truncated_normal' draws a normal of std σ/c truncated at ±2σ/c, whose variance is "
        "exactly σ²; drawing with std σ instead gives 0.7737σ² (22.6% too small). JAX's literal "
        ".87962566103423978 differs from c by 3.0e−17 (17th digit) and rounds to the same float64."
    ),
    verdict=Verdict.PROVED,
    scope="the truncated-normal initializers of JAX, Keras and TF (truncation at ±2 standard deviations), any σ > 0",
    conditions=("truncation at ±2 standard deviations of the untruncated normal (JAX, Keras, TF)",
                "PyTorch's trunc_normal_ truncates at absolute bounds [a, b] and applies no such correction"),
    derivation=(
        "Var = ∫_{−2}^{2} x² e^{−x²/2} dx / ∫_{−2}^{2} e^{−x²/2} dx (mean 0 by symmetry); SymPy evaluates both "
        "integrals with erf, for a general bound b: 1 − 2bφ(b)/(2Φ(b) − 1). Scaling a draw by t scales its "
        "variance by t², so t = σ/c gives σ²."
    ),
    references=("jax/_src/nn/initializers.py variance_scaling", "Johnson, Kotz & Balakrishnan 1994, vol. 1"),
    evidence=(
        Evidence("symbolic", "SymPy: truncated-normal variance by integration; corrected variance σ²", _trunc_derivation),
        Evidence("symbolic", "exact c vs the JAX literal, scipy and the audit constant", _trunc_constant),
    ),
))
