"""VAR-GLOROT-01: Glorot (Xavier) initialization: Var(W) = 2/(fan_in + fan_out), zero mean.
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import given, strategies as st

from invariants import propagation as prop
from invariants.claims.evidence import check, run_property
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict, register
from invariants.hypothesis_profiles import verify_settings
from invariants.specs import VarianceScaling
from invariants.stats import chi2_sample_size, chi2_variance_test
from invariants.symbolic import variance as symvar

#: Per-check false-alarm rate of every statistical check in this family.
ALPHA = 1e-6
#: Sample size at which the χ² test detects a ±5 % variance error with power 0.99 at ALPHA, so a
#: ×1.1 mutant is rejected with power > 0.99 (and the Hypothesis property's 10 examples fail with
#: probability < 10·ALPHA on a correct sampler; the examples are derandomized, so the run is fixed).
N_SAMPLES = chi2_sample_size(0.05, alpha=ALPHA, power=0.99)

GLOROT_GAUSSIAN = VarianceScaling(1.0, "fan_avg", "normal", name="glorot_normal (untruncated)")


def _pooled_samples(spec: VarianceScaling, fan_in: int, fan_out: int, seed: int) -> np.ndarray:
    """At least N_SAMPLES entries of dense (fan_out, fan_in) weights from independent draws."""
    reps = -(-N_SAMPLES // (fan_in * fan_out))
    rng = np.random.default_rng(seed)
    return spec.sample((reps * fan_out, fan_in), rng, fan_in=fan_in, fan_out=fan_out)


def _glorot_derivation() -> EvidenceResult:
    wanted = ("lecun_variance", "backward_variance", "glorot_variance", "glorot_uniform_bound")
    rows = symvar.check_against_literature(wanted)
    detail = "; ".join(f"{c.name}: derived {sp.sstr(c.derived)} vs {c.source} {sp.sstr(c.literature)}"
                       f" {'=' if c.equal else '≠'}" for c in rows)
    return check(len(rows) == len(wanted) and all(c.equal for c in rows), detail, "mismatch: " + detail)


def _glorot_sampler_property() -> EvidenceResult:
    seen: list[str] = []

    @verify_settings(10)
    @given(fan_in=st.integers(1, 600), fan_out=st.integers(1, 600), seed=st.integers(0, 2**32 - 1))
    def prop(fan_in, fan_out, seed):
        expected = float(symvar.glorot_variance().glorot.subs({symvar.fan_in: fan_in, symvar.fan_out: fan_out}))
        w = _pooled_samples(GLOROT_GAUSSIAN, fan_in, fan_out, seed)
        good = chi2_variance_test(w, expected, alpha=ALPHA)
        bad = chi2_variance_test(w * np.sqrt(1.1), expected, alpha=ALPHA)
        assert good.passed, f"χ² rejected the derived variance at fans ({fan_in}, {fan_out}): {good.ratio:.4f}"
        assert not bad.passed, f"χ² accepted a ×1.1 variance at fans ({fan_in}, {fan_out})"
        seen.append(good.min_detectable_rel_error)

    return run_property(
        prop,
        lambda: f"10 random shapes (fan_in, fan_out ∈ [1, 600]), ≥{N_SAMPLES} pooled draws each: exact χ² test "
        f"(α={ALPHA:g}) accepts Var = 2/(fan_in+fan_out) and rejects the ×1.1 mutant; smallest detectable "
        f"relative error at power 0.99: {max(seen):.3f}",
    )


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
        Evidence("property", "sampled Glorot weights pass an exact χ² variance test; ×1.1 mutant fails",
                 _glorot_sampler_property),
    ),
))
