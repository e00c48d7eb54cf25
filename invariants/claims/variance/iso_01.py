"""VAR-ISO-01: dynamical isometry — the spread of the input-output Jacobian's singular values at init,
orthogonal vs Gaussian weights, linear vs tanh vs ReLU (Saxe et al. 2014; Pennington et al. 2017).
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from invariants.claims.evidence import check, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.experiments import criticality as crit
from invariants.experiments import isometry as iso

QUOTE_GLOROT = "One common initialization scheme for deep NNs is called Glorot (also known as Xavier) Initialization."
QUOTE_PROCEDURE = (
    "Weight initialization is a procedure to set the weights of a neural network to small random values that "
    "define the starting point for the optimization (learning or training) of the neural network model."
)

WIDTH, SEED = 128, 20240621
#: False-alarm rate of each statistical evidence function (Bonferroni over its checks).
ALPHA = 1e-6
#: σ_b of the tanh networks (on the critical line σ_w*(σ_b), q* small: Pennington et al.'s regime).
TANH_SIGMA_B = 0.01
#: Pennington's σ²_{JJᵀ} is a large-width law; at width 128 it is compared within this factor (not derived:
#: finite-width corrections are O(L/N) and the statistic is heavy-tailed for Gaussian weights).
SPREAD_FACTOR = 2.0


def orthogonal_product_proof(gram: str = "columns") -> EvidenceResult:
    """Induction over depth with MatrixSymbols of symbolic size n: if QᵀQ = I and J_{L−1}ᵀJ_{L−1} = g^{2(L−1)}·I
    then J_L = g·Q·J_{L−1} has J_LᵀJ_L = g^{2L}·I, so every singular value of a depth-L product of
    gain-g orthogonal layers is g^L (all 1 at g = 1).  ``gram="rows"`` (the mutant) assumes only QQᵀ = I."""
    n, L = sp.symbols("n L", positive=True, integer=True)
    g = sp.Symbol("g", positive=True)
    Q, J = sp.MatrixSymbol("Q", n, n), sp.MatrixSymbol("J", n, n)
    I = sp.Identity(n)
    hyp = {Q.T * Q: I} if gram == "columns" else {Q * Q.T: I}
    step = ((g * Q * J).T * (g * Q * J)).doit()
    for old, new in hyp.items():
        step = step.subs(old, new)
    step = step.subs(J.T * J, g ** (2 * (L - 1)) * I)
    base = ((g * Q).T * (g * Q)).doit()
    for old, new in hyp.items():
        base = base.subs(old, new)

    def is_multiple_of_identity(expr, coeff) -> bool:  # expr == coeff·I, the scalar compared after powsimp
        c, m = expr.as_coeff_mmul()
        return m.doit() == I and sp.powsimp(c - coeff) == 0

    ok_step, ok_base = is_multiple_of_identity(step, g ** (2 * L)), is_multiple_of_identity(base, g**2)
    return check(ok_base and ok_step,
                 "SymPy, symbolic n and L: J_1ᵀJ_1 = g²I and (gQJ)ᵀ(gQJ) = g²·Jᵀ(QᵀQ)J = g^{2L}·I given "
                 "JᵀJ = g^{2(L−1)}·I; by induction every singular value of J_L is g^L, exactly 1 at gain 1 "
                 "(for every width and depth)",
                 f"induction step not closed assuming {'QQᵀ' if gram == 'rows' else 'QᵀQ'} = I: JᵀJ_L = {step}")


@mutant("orthonormal rows only (QQᵀ = I): the induction step does not close", lambda: orthogonal_product_proof("rows"))
def _proof() -> EvidenceResult:
    return orthogonal_product_proof()


def linear_networks(orthogonal_kind: str = "orthogonal", depths=(8, 64)) -> EvidenceResult:
    """Deep linear networks at width 128: orthogonal (gain 1) → every singular value 1 within the a-priori
    rounding bound; Gaussian N(0, 1/N) → (1/N)·ln det JᵀJ inside the exact Chernoff band of its Bartlett law."""
    eps = np.finfo(np.float64).eps
    N = WIDTH
    bad, parts = [], []
    checks = 2 * len(depths)
    for L in depths:
        o = iso.jacobian_spectrum(orthogonal_kind, "identity", N, L, SEED + L)
        # per layer: Householder QR orthogonality defect ≤ N²·eps (generous constant, Higham 2002 Thm 19.4) and
        # product rounding ≤ 2γ_N√N; the SVD adds ≤ N·eps·‖J‖ (as in VAR-ORTHO-01)
        gamma = N * eps / (1 - N * eps)
        tol = L * (2 * gamma * math.sqrt(N) + N**2 * eps) + (N + 4) * eps
        err = float(np.max(np.abs(o.singular_values - 1)))
        if not err <= tol:
            bad.append(f"{orthogonal_kind} L={L}: max|s − 1| = {err:.3g} > {tol:.3g}")
        gss = iso.jacobian_spectrum("gaussian", "identity", N, L, SEED + 1000 + L)
        mean, sd = iso.gaussian_mean_log_s2_law(N, L)
        lo, hi = iso.gaussian_mean_log_s2_band(N, L, ALPHA / checks)
        if not lo <= gss.mean_log_s2 <= hi:
            bad.append(f"gaussian L={L}: mean ln s² = {gss.mean_log_s2:.4f} outside [{lo:.4f}, {hi:.4f}]")
        parts.append(f"L={L}: orthogonal max|s − 1| = {err:.2g} (bound {tol:.2g}); Gaussian mean ln s² "
                     f"{gss.mean_log_s2:.3f} (law {mean:.3f} ± {sd:.3f}, band [{lo:.3f}, {hi:.3f}]), mean s² "
                     f"{short(np.mean(gss.singular_values ** 2))}, σ²_JJᵀ {short(gss.spread)}")
    detail = (f"width {N}, one network per depth and kind, Chernoff band false-alarm rate {ALPHA:g} over the "
              f"Gaussian checks: " + "; ".join(parts) + f"; c_N = mean ln s² per layer = "
              f"{iso.gaussian_mean_log_s2_law(N, 1)[0]:.4f}")
    return check(not bad, detail, "; ".join(bad) + " | " + detail)


@mutant("Gaussian factors in place of the orthogonal ones", lambda: linear_networks("gaussian", depths=(8,)))
def _linear() -> EvidenceResult:
    return linear_networks()


def relu_rank(activation: str = "relu", depth: int = 32) -> EvidenceResult:
    """ReLU networks (He scaling, orthogonal and Gaussian): J = D_L W_L ⋯ D_1 W_1 has rank ≤ min_l a_l (a_l
    active units of layer l), so at least N − min_l a_l singular values are 0; a_l ~ Binomial(N, ½), so by
    Hoeffding at least N/2 − √(N ln(2/α)/2) of them, for any weights: no isometry."""
    N = WIDTH
    floor = N / 2 - math.sqrt(N * math.log(2 * 2 / ALPHA) / 2)  # Hoeffding, α/2 per network
    bad, parts = [], []
    for kind in ("orthogonal", "gaussian"):
        r = iso.jacobian_spectrum(kind, activation, N, depth, SEED + 7, sigma_w=math.sqrt(2.0))
        zeros = int(np.sum(r.singular_values <= r.singular_values[0] * 1e-10))
        parts.append(f"{kind}: {zeros} of {N} singular values 0 (≥ N − min_l a_l = {N - r.min_active})")
        if zeros < N - r.min_active or zeros < floor:
            bad.append(f"{kind}: {zeros} zero singular values, expected ≥ {N - r.min_active} and ≥ {floor:.1f}")
    detail = (f"{activation}, width {N}, depth {depth}, σ_w² = 2: " + "; ".join(parts)
              + f"; Hoeffding floor {floor:.1f} at false-alarm rate {ALPHA:g}")
    return check(not bad, detail, "; ".join(bad) + " | " + detail)


@mutant("tanh instead of ReLU (φ' > 0 everywhere): the Jacobian keeps full rank", lambda: relu_rank("tanh"))
def _relu() -> EvidenceResult:
    return relu_rank()


def _configs(tanh_orthogonal_kind: str):
    sw = crit.critical_sigma_w("tanh", TANH_SIGMA_B)
    q = crit.q_star("tanh", sw, TANH_SIGMA_B)
    q0 = (q - TANH_SIGMA_B**2) / sw**2
    return (  # (label, kind sampled, kind predicted, activation, σ_w, σ_b, q0, q for the prediction)
        ("orthogonal tanh", tanh_orthogonal_kind, "orthogonal", "tanh", sw, TANH_SIGMA_B, q0, q),
        ("Gaussian tanh", "gaussian", "gaussian", "tanh", sw, TANH_SIGMA_B, q0, q),
        ("orthogonal ReLU", "orthogonal", "orthogonal", "relu", math.sqrt(2), 0.0, 1.0, 1.0),
        ("Gaussian ReLU", "gaussian", "gaussian", "relu", math.sqrt(2), 0.0, 1.0, 1.0),
        ("Gaussian linear", "gaussian", "gaussian", "identity", 1.0, 0.0, 1.0, 1.0),
    )


def spectrum_spread(tanh_orthogonal_kind: str = "orthogonal", depths=(8, 32)) -> EvidenceResult:
    """σ²_{JJᵀ}/m₁² measured at width 128 against Pennington et al.'s L·(μ₂/μ₁² − 1 − s₁) (within
    SPREAD_FACTOR), at χ = 1 for each configuration; orthogonal tanh on the critical line stays below 1 at
    depth 32 while every other configuration's spread grows ~ L."""
    bad, parts = [], []
    for label, kind, pkind, act, sw, sb, q0, q in _configs(tanh_orthogonal_kind):
        got = []
        for L in depths:
            r = iso.jacobian_spectrum(kind, act, WIDTH, L, SEED + 31 * L, sigma_w=sw, sigma_b=sb, q0=q0)
            pred = iso.pennington_spread(pkind, act, L, q, sw)
            got.append(r.spread)
            if not pred / SPREAD_FACTOR <= r.spread <= pred * SPREAD_FACTOR:
                bad.append(f"{label} L={L}: σ²_JJᵀ {r.spread:.3g} vs predicted {pred:.3g}")
            parts.append(f"{short(r.spread)} ({short(pred)})")
        parts[-len(depths):] = [f"{label} " + ", ".join(parts[-len(depths):])]
        if label == "orthogonal tanh" and not got[-1] < 1:
            bad.append(f"orthogonal tanh: spread {got[-1]:.3g} ≥ 1 at L={depths[-1]}")
    detail = (f"σ²_JJᵀ/m₁² at width {WIDTH}, L = {', '.join(map(str, depths))}, χ = 1 (tanh: σ_b {TANH_SIGMA_B}, "
              f"σ_w* {crit.critical_sigma_w('tanh', TANH_SIGMA_B):.4f}; ReLU σ_w² 2), measured (Pennington's "
              f"large-width law): " + "; ".join(parts) + f"; each within ×{SPREAD_FACTOR:g}")
    return check(not bad, detail, "; ".join(bad) + " | " + detail)


@mutant("Gaussian weights in the network predicted as orthogonal tanh", lambda: spectrum_spread("gaussian", depths=(32,)))
def _spread() -> EvidenceResult:
    return spectrum_spread()


_C128 = iso.gaussian_mean_log_s2_law(WIDTH, 1)[0]

register(Claim(
    id="VAR-ISO-01",
    title="Dynamical isometry: only orthogonal weights keep all Jacobian singular values near 1 — exactly for "
          "linear nets, approximately for tanh at criticality, never for ReLU",
    seed_quotes=(QUOTE_GLOROT, QUOTE_PROCEDURE),
    statement=(
        "Take a deep network of L square N × N layers at a scale where the mean squared singular value of its "
        "input-output Jacobian J = D_L W_L ⋯ D_1 W_1 is 1 (χ = 1: Glorot/LeCun variance 1/N for linear, He for "
        "ReLU, the critical line for tanh). How the singular values spread around that mean depends on the weight "
        "distribution, not only on the variance the Glorot/Xavier rule fixes. (1) Linear, orthogonal (gain 1): "
        "every singular value is exactly 1, for every width and depth. (2) Linear, Gaussian N(0, 1/N): (1/N)·ln "
        "det JᵀJ, the mean log squared singular value, has exactly the law of a sum of L·N independent "
        "ln(χ²_k/N)/N (k = 1..N), mean L·c_N with c_N = (1/N)Σ_k[ψ(k/2) + ln(2/N)] "
        f"(c_128 = {_C128:.4f}, → −1), so the geometric mean of s² falls like e^(c_N·L) while the arithmetic "
        "mean stays 1 in expectation: the spread grows linearly with depth. (3) ReLU: J has rank ≤ min_l a_l (a_l "
        "active units; a_l ~ Binomial(N, ½) for symmetric weight laws and zero biases), so at least about half "
        "its singular values are exactly 0 (N − min_l a_l: 77-84 of 128 at L = 32). "
        "(4) Pennington et al.'s large-width law for the relative variance of JJᵀ's eigenvalues, "
        "σ²_JJᵀ = L·(μ₂/μ₁² − 1 − s₁), μ_k = E[φ'(h)^{2k}], s₁ = −1 (Gaussian) or 0 (orthogonal), holds at width "
        "128 within a factor 2: Gaussian linear L, ReLU L (orthogonal) and 2L (Gaussian), Gaussian tanh ≈ L, "
        "while orthogonal tanh on the critical line at small q* (σ_b = 0.01) stays at ≈ 0.011·L — near "
        "isometry. So orthogonal + tanh at criticality approaches dynamical isometry; Gaussian weights and ReLU "
        "cannot."
    ),
    verdict=Verdict.VERIFIED,
    scope=(
        "fully connected networks with square layers, Pennington et al.'s Jacobian D_L W_L ⋯ D_1 W_1, at "
        "initialization; (1) proved for every width and depth; (2)-(4) measured at width 128, depths 8-64, one "
        "network per configuration (tanh: σ_b = 0.01 on the critical line; ReLU: σ_w² = 2, σ_b = 0)"
    ),
    conditions=(
        "(4) is a large-width law compared within a factor 2, a loose tolerance not derived from sampling "
        "(finite-width corrections are O(L/N) and the statistic is heavy-tailed for Gaussian weights); (1)-(3) "
        "are exact or carry derived bands",
        "near-isometry of orthogonal tanh needs small q* (σ_b → 0 along the critical line): its spread "
        "L·(μ₂/μ₁² − 1) grows with q*",
        "only square layers; non-square orthogonal layers have orthonormal rows or columns (VAR-ORTHO-01)",
    ),
    derivation=(
        "(1) QᵀQ = I closes the induction JᵀJ = Jᵀ(QᵀQ)J (SymPy, symbolic sizes). (2) det JᵀJ = Π_l det W_lᵀW_l "
        "and Bartlett's decomposition makes det WᵀW a product of independent χ²_k/N; exact Chernoff bounds from "
        "E[(χ²_k)^t] = 2^tΓ(k/2 + t)/Γ(k/2) give the band. (3) rank(D_l) = a_l bounds rank J; the sign pattern of "
        "a Gaussian or Haar-rotated vector is uniform, so a_l ~ Binomial(N, ½). (4) free probability: the "
        "S-transform of JJᵀ multiplies over layers (Pennington et al. 2017)."
    ),
    references=(
        "Saxe, McClelland & Ganguli 2014, Exact solutions to the nonlinear dynamics of learning in deep linear "
        "neural networks, ICLR (orthogonal init, dynamical isometry)",
        "Pennington, Schoenholz & Ganguli 2017, Resurrecting the sigmoid in deep learning through dynamical "
        "isometry, NeurIPS (moments of the JJᵀ spectrum: σ²_JJᵀ = L(μ₂/μ₁² − 1 − s₁) at χ = 1; ReLU cannot, "
        "orthogonal tanh can)",
        "Bartlett 1933 / Muirhead 1982, Aspects of Multivariate Statistical Theory, Thm 3.2.14 (Bartlett decomposition)",
        "Glorot & Bengio 2010, AISTATS (variance 2/(fan_in + fan_out))",
    ),
    evidence=(
        Evidence("symbolic", "product of orthogonal layers is orthogonal (induction, every size)", _proof),
        Evidence("experiment", "deep linear networks: orthogonal exact, Gaussian spreads (Bartlett law)", _linear),
        Evidence("experiment", "ReLU Jacobians lose about half their rank", _relu),
        Evidence("experiment", "σ²_JJᵀ against Pennington's law", _spread),
    ),
))
