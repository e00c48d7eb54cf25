"""VAR-GLOROT-01: Glorot (Xavier) initialization: Var(W) = 2/(fan_in + fan_out), zero mean.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from scipy import stats

from invariants.claims.evidence import check
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, mutant, register
from invariants.claims.variance.shared import literature_rows
from invariants.propagation import single_threaded_blas
from invariants.reference import Architecture, forward, init_params, loss_and_grad
from invariants.specs import VarianceScaling
from invariants.stats import chi2_sample_size
from invariants.symbolic import variance as symvar

#: Per-check false-alarm rate of every statistical check in this family.
ALPHA = 1e-6
#: Samples per direction and layer shape: the exact χ² test then detects a ±10 % error in a variance
#: factor with power 0.99 at ALPHA, so a ×1.1 sampler or a wrong factor is rejected.
N_SAMPLES = chi2_sample_size(0.1, alpha=ALPHA, power=0.99)
#: (fan_in, fan_out) of the measured layers: wide, tall, square and very unequal.
LAYER_SHAPES = ((30, 90), (90, 30), (64, 64), (200, 10))

GLOROT_GAUSSIAN = VarianceScaling(1.0, "fan_avg", "normal", name="glorot_normal (untruncated)")


@mutant("Glorot & Bengio's eq. 12 mistyped as 1/(fan_in + fan_out)",
        lambda: _glorot_derivation(literature={"glorot_variance": 1 / (symvar.fan_in + symvar.fan_out)}))
def _glorot_derivation(literature=None) -> EvidenceResult:
    wanted = ("lecun_variance", "backward_variance", "glorot_variance", "glorot_uniform_bound")
    rows = literature_rows(wanted, literature)
    detail = "; ".join(f"{c.name}: derived {sp.sstr(c.derived)} vs {c.source} {sp.sstr(c.literature)}"
                       f" {'=' if c.equal else '≠'}" for c in rows)
    return check(len(rows) == len(wanted) and all(c.equal for c in rows), detail, "mismatch: " + detail)


def _orthogonal_rows(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """``rows`` ≤ ``cols`` mutually orthogonal random rows of squared norm ``cols`` (shape (rows, cols))."""
    q, _ = np.linalg.qr(rng.standard_normal((cols, rows)))
    return q.T * np.sqrt(cols)


def layer_variance_factors(spec: VarianceScaling, fan_in: int, fan_out: int,
                           seed: int) -> tuple[float, int, float, int]:
    """Measure the forward and backward variance factors of a dense layer on the reference network.

    Network (fan_in, fan_in, fan_out), identity activation, MSE, BLAS kernel; W1 = I and b = 0 so the layer under test
    W2 (fan_out × fan_in, drawn from ``spec``) sees the inputs X directly.  A batch of B = min(fan_in,
    fan_out) inputs with mutually orthogonal rows, and targets T = Z + G with G's rows mutually orthogonal
    and independent of W2, so the reference backward gives δ_2 = −G/B (up to one rounding of Z + G);
    δ_1 = δ_2 W2 and δ_2 are recovered from ∂L/∂W_l = δ_lᵀX as (∂L/∂W_l·Xᵀ)ᵀ/‖x‖².  For Gaussian weights
    of variance v, the z_(b,i) are then independent N(0, v‖x_b‖²) and the δ_1,(b,k) independent N(0, v‖δ_2,b‖²)
    (orthogonal rows make the examples independent), so with q_b = ‖x_b‖²/fan_in and
    r_b = ‖δ_2,b‖²/fan_out the sums F = Σ z²/q and B = Σ δ_1²/r over independent draws are exactly
    fan_in·v·χ²_(n_F) and fan_out·v·χ²_(n_B).

    Returns (F/n_F, n_F, B/n_B, n_B): the measured Var(z)/q and Var(δ_1)/r.
    """
    rng = np.random.default_rng(seed)
    arch = Architecture((fan_in, fan_in, fan_out), "identity", kernel="blas")
    batch = min(fan_in, fan_out)
    draws = -(-N_SAMPLES // (batch * batch))
    f_sum = b_sum = 0.0
    for _ in range(draws):
        params = init_params(arch, 0.0, 0.0)
        params["W1"] = np.eye(fan_in)
        params["W2"] = spec.sample((fan_out, fan_in), rng, fan_in=fan_in, fan_out=fan_out)
        x = _orthogonal_rows(rng, batch, fan_in)
        z = forward(arch, params, x).preacts[1]
        _, grads = loss_and_grad(arch, params, x, z + _orthogonal_rows(rng, batch, fan_out))
        # per-example deltas from the weight gradients ∂L/∂W_l = δ_lᵀ h_(l−1): h_0 = h_1 = X, X Xᵀ = fan_in·I
        delta1 = (grads["W1"] @ x.T).T / fan_in
        delta2 = (grads["W2"] @ x.T).T / fan_in
        q = np.sum(x * x, axis=1, keepdims=True) / fan_in
        r = np.sum(delta2 * delta2, axis=1, keepdims=True) / fan_out
        f_sum += float(np.sum(z * z / q))
        b_sum += float(np.sum(delta1 * delta1 / r))
    n_f, n_b = draws * batch * fan_out, draws * batch * fan_in
    return f_sum / n_f, n_f, b_sum / n_b, n_b


def _chi2_band(n: int, alpha: float) -> tuple[float, float]:
    """Two-sided (1 − alpha) interval of χ²_n / n."""
    return float(stats.chi2.ppf(alpha / 2, n)) / n, float(stats.chi2.isf(alpha / 2, n)) / n


@mutant("the layers drawn with the fan_in-only 'Xavier' 1/fan_in (LeCun's rule)",
        lambda: _glorot_layer_variances(VarianceScaling(1.0, "fan_in", "normal")))
def _glorot_layer_variances(spec: VarianceScaling | None = None) -> EvidenceResult:
    """The statement's formulas against measurements on reference networks whose layer is drawn from
    ``spec`` (default :data:`GLOROT_GAUSSIAN`; the mutation hook): per shape, exact χ² tests at ALPHA
    that Var(z) = fan_in·v·q (forward) and Var(δ_1) = fan_out·v·r (backward), with v the variance
    Glorot's rule gives; and that the average of the two measured factors is 1 (Glorot's compromise),
    within the band implied by the two χ² intervals, while each factor alone is not 1 when
    fan_in ≠ fan_out."""
    spec = GLOROT_GAUSSIAN if spec is None else spec
    parts, bad = [], []
    for i, (fi, fo) in enumerate(LAYER_SHAPES):
        v = float(symvar.glorot_variance().glorot.subs({symvar.fan_in: fi, symvar.fan_out: fo}))
        with single_threaded_blas():
            f, nf, b, nb = layer_variance_factors(spec, fi, fo, seed=1000 + i)
        (lf, hf), (lb, hb) = _chi2_band(nf, ALPHA), _chi2_band(nb, ALPHA)
        avg_lo, avg_hi = (fi * v * lf + fo * v * lb) / 2, (fi * v * hf + fo * v * hb) / 2
        avg = (f + b) / 2
        if not lf <= f / (fi * v) <= hf:
            bad.append(f"({fi}, {fo}) forward {f:.4f} vs fan_in·v = {fi * v:.4f}")
        if not lb <= b / (fo * v) <= hb:
            bad.append(f"({fi}, {fo}) backward {b:.4f} vs fan_out·v = {fo * v:.4f}")
        if not avg_lo <= avg <= avg_hi:
            bad.append(f"({fi}, {fo}) average {avg:.4f} outside [{avg_lo:.4f}, {avg_hi:.4f}]")
        parts.append(f"({fi}, {fo}) {f:.3f}/{fi * v:.3f}, {b:.3f}/{fo * v:.3f}, avg {avg:.3f}")
    detail = (f"reference layers, Var(W) = v = 2/(fan_in + fan_out), ≥ {N_SAMPLES} samples per direction: "
              f"Var(z)/q = fan_in·v, Var(δ)/r = fan_out·v (exact χ², α {ALPHA:g}, ±10 % seen at power 0.99) "
              f"and their average 1 (χ² band); measured/predicted (fan_in, fan_out): " + "; ".join(parts))
    return check(not bad, detail, "; ".join(bad) + " | " + detail)


register(Claim(
    id="VAR-GLOROT-01",
    title="Glorot (Xavier) initialization: Var(W) = 2/(fan_in + fan_out), zero mean",
    seed_quotes=(
        "One common initialization scheme for deep NNs is called Glorot (also known as Xavier) Initialization.",
        "The idea is to initialize each weight with a small Gaussian value with mean = 0.0 and variance based "
        "on the fan-in and fan-out of the weight.",
        "Xavier proposed a better random weight initialization approach which also includes the size of the "
        "network (number of input and output neurons) while initializing weights.",
    ),
    statement=(
        "For every fan_in, fan_out ≥ 1 (symbolic fans): for a dense layer y = W x with i.i.d. zero-mean weights of variance v, independent of inputs with "
        "E[x²] = q: Var(y_i) = fan_in·v·q (forward) and the back-propagated gradient's variance scales by "
        "fan_out·v (backward). Keeping both at 1 needs v = 1/fan_in and v = 1/fan_out, possible only when "
        "fan_in = fan_out; Glorot & Bengio's compromise averages the two conditions, giving "
        "Var(W) = 2/(fan_in + fan_out), i.e. U(−a, a) with a = √(6/(fan_in + fan_out)) (their eq. 16), or "
        "a zero-mean Gaussian with that variance."
    ),
    verdict=Verdict.PROVED,
    scope=("one dense layer (or a convolution with fans = channels × receptive field), any fan_in, fan_out ≥ 1, "
           "at initialization; the variance rule, not training dynamics; the sampler check draws shapes with "
           "fans in [1, 600]"),
    conditions=(
        "weights i.i.d., zero mean, independent of the layer inputs (true at initialization)",
        "the variance-preservation argument is for the linear regime (identity activation, or tanh near 0)",
        "the seed's 'Gaussian' is a framework variant: the paper's eq. 16 is uniform; PyTorch's xavier_normal_ "
        "is an untruncated normal, JAX's and Keras's glorot_normal a ±2σ truncated normal rescaled by "
        "1/0.8796 so the variance is the same",
    ),
    derivation=(
        "Var(Σ_i w_i x_i) = Σ_i E[w_i²]E[x_i²] = n·v·q because w_i is zero-mean and independent of x "
        "(cross terms vanish). Forward: n = fan_in; backward (∂L/∂x = Wᵀ ∂L/∂y): n = fan_out. Averaging the "
        "two conditions (fan_in·v + fan_out·v)/2 = 1 gives v = 2/(fan_in + fan_out) (Glorot & Bengio 2010, "
        "eq. 10–12); Var U(−a, a) = a²/3 gives the uniform bound (eq. 16). All derived by SymPy in "
        "invariants.symbolic.variance."
    ),
    references=("Glorot & Bengio 2010, AISTATS, eq. 10–12, 16",),
    evidence=(
        Evidence("symbolic", "SymPy derivation equals Glorot & Bengio eq. 12 and 16", _glorot_derivation),
        Evidence("experiment", "reference layers: Var forward = fan_in·v·q, backward = fan_out·v·r, average 1",
                 _glorot_layer_variances),
    ),
))
