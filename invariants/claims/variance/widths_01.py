"""VAR-WIDTHS-01: unequal widths.  Glorot's compromise costs 4·n_in·n_out/(n_in + n_out)² per layer pair, which
compounds with depth; every per-layer rule's forward/backward totals differ by exactly n_0/n_L; one-sided (fan_in or
fan_out) scaling keeps one direction and scales the other by n_L/n_0 (He et al. 2015, §2.2).

Notation (linear network, or ReLU under He et al.'s assumptions): layer l = 1..L maps width n_{l−1} to n_l with i.i.d.
zero-mean weights of variance v_l.  Per unit, the forward second moment obeys q_l = a_l·q_{l−1} with the forward factor
a_l = n_{l−1}·v_l, and the backward one p_{l−1} = b_l·p_l with b_l = n_l·v_l (Glorot & Bengio 2010, §4.2; He et al.
2015, eq. 9 and 13, where a ReLU adds a factor ½ to both).  Totals F = Π a_l = q_L/q_0 and G = Π b_l = p_0/p_L.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import sympy as sp

from invariants import propagation as prop
from invariants.claims.evidence import check, short
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Reading, Verdict, mutant, register
from invariants.claims.variance.shared import QUOTE_FAN_IN, QUOTE_GAUSSIAN

QUOTE_XAVIER_SIZE = (
    "Xavier proposed a better random weight initialization approach which also includes the size of the network "
    "(number of input and output neurons) while initializing weights."
)

#: A variance rule: (fan_in, fan_out) → Var(W), as a SymPy expression builder.
Rule = Callable[[sp.Expr, sp.Expr], sp.Expr]

RULES: dict[str, Rule] = {
    "glorot": lambda i, o: 2 / (i + o),  # Glorot & Bengio 2010, eq. 12 (fan_avg)
    "fan_in": lambda i, o: 1 / i,  # LeCun / He forward (He et al. 2015, eq. 10 with the ReLU ½ removed)
    "fan_out": lambda i, o: 1 / o,  # He et al. 2015, eq. 14 (backward), ReLU ½ removed
    "fan_geo": lambda i, o: 1 / sp.sqrt(i * o),  # geometric-mean fan: derived here as the cost-free compromise
}

_n = sp.symbols("n_0:3", positive=True)  # n_{L-1}, n_L, n_{L+1} in the induction step
_v = sp.Symbol("v", positive=True)


def pair_cost(n_in, n_out):
    """Glorot's per-layer product of forward and backward factors, ρ = 4·n_in·n_out/(n_in + n_out)² (≤ 1)."""
    return 4 * n_in * n_out / (n_in + n_out) ** 2


def factors(widths: Sequence[int], rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer forward factors a_l = n_{l−1}·v_l and backward factors b_l = n_l·v_l (l = 1..L) of a linear
    network with these widths (n_0, ..., n_L) under the named rule of :data:`RULES` (float64 arrays of length L)."""
    w = [int(n) for n in widths]
    v = np.array([float(RULES[rule](sp.Integer(i), sp.Integer(o))) for i, o in zip(w[:-1], w[1:])])
    return np.array(w[:-1], dtype=float) * v, np.array(w[1:], dtype=float) * v


@mutant("Glorot's variance halved to 1/(n_in + n_out)", lambda: symbolic_proof(lambda i, o: 1 / (i + o)))
def symbolic_proof(rule: Rule = RULES["glorot"]) -> EvidenceResult:
    """The widths algebra for every width sequence and depth, by SymPy on generic symbols plus induction on L.

    Checks: (1) for any variance v, a/b = n_in/n_out, so F_L/G_L = n_0/n_L by induction (base L = 1; step
    (n_0/n_L)·(n_L/n_{L+1})); (2) for ``rule`` (Glorot's): a·b = 4·n_in·n_out/(n_in + n_out)² and 1 − a·b =
    (n_in − n_out)²/(n_in + n_out)² ≥ 0, zero iff n_in = n_out; a + b = 2; (3) from F·G = P and F/G = n_0/n_L:
    F = √(P·n_0/n_L), G = √(P·n_L/n_0); (4) fan_in: a = 1, b = n_out/n_in, so G_L = n_L/n_0 by the same induction;
    fan_out: b = 1, F_L = n_0/n_L; geometric-mean fan: a·b = 1 (no cost).
    """
    n0, nl, nn = _n
    ok = []
    ratio = sp.simplify((nl * _v) / (nn * _v) - nl / nn)  # a/b for the layer n_L → n_{L+1}, any v
    base = sp.simplify((n0 * _v) / (nl * _v) - n0 / nl)
    step = sp.simplify((n0 / nl) * (nl / nn) - n0 / nn)
    ok += [ratio == 0, base == 0, step == 0]
    v = rule(n0, nl)
    a, b = n0 * v, nl * v
    prod_gap = sp.simplify(a * b - pair_cost(n0, nl))
    deficit = sp.factor(sp.simplify(1 - a * b))
    target = (n0 - nl) ** 2 / (n0 + nl) ** 2
    ok += [prod_gap == 0, sp.simplify(deficit - target) == 0, sp.simplify(a + b - 2) == 0,
           sp.solve(sp.Eq(sp.simplify(1 - a * b), 0), n0) == [nl],
           pair_cost(sp.Integer(1), sp.Integer(4)) == sp.Rational(16, 25)]  # the statement's 1:4 example, ρ = 0.64
    F, G, P, r = sp.symbols("F G P r", positive=True)
    sol = sp.solve([sp.Eq(F * G, P), sp.Eq(F / G, r)], [F, G], dict=True)
    ok += [len(sol) == 1 and sp.simplify(sol[0][F] - sp.sqrt(P * r)) == 0
           and sp.simplify(sol[0][G] - sp.sqrt(P / r)) == 0]
    fi, fo, fg = (RULES[k](n0, nl) for k in ("fan_in", "fan_out", "fan_geo"))
    ok += [sp.simplify(n0 * fi - 1) == 0, sp.simplify(nl * fi - nl / n0) == 0,
           sp.simplify(nl * fo - 1) == 0, sp.simplify(n0 * fo - n0 / nl) == 0,
           sp.simplify(n0 * fg * nl * fg - 1) == 0,
           # the one-sided induction step: G_L·(n_{L+1}/n_L) = (n_L/n_0)(n_{L+1}/n_L) = n_{L+1}/n_0
           sp.simplify((nl / n0) * (nn / nl) - nn / n0) == 0]
    detail = (f"generic positive widths: a/b = n_in/n_out for any v ⇒ F_L/G_L = n_0/n_L (induction on L); Glorot "
              f"a·b = {sp.sstr(pair_cost(*_n[:2]))}, 1 − a·b = {sp.sstr(deficit)} ≥ 0 (zero iff n_in = n_out), a + b = 2; "
              "F = √(P·n_0/n_L), G = √(P·n_L/n_0) with P = Π_l ρ_l; fan_in: a = 1, G_L = n_L/n_0; fan_out: b = 1, "
              "F_L = n_0/n_L; geometric-mean fan: a·b = 1")
    return check(all(ok), detail, f"the widths algebra fails ({sum(map(bool, ok))}/{len(ok)} steps hold): {detail}")


#: The experiment's networks: alternating 1:4 widths so that Glorot's cost ρ = 0.64 per layer compounds, and
#: n_0 ≠ n_L so that the telescoped n_0/n_L is visible.  Batch, seed and false-alarm rate of each profile's band.
WIDTHS = (128, 512, 128, 512, 128, 512, 128, 512, 1024)
BATCH, SEED, ALPHA = 64, 20261205, 1e-6
#: (rule, activation): linear networks for the three rules, and He's fan_in rule (gain 2) with ReLU.
CASES = (("glorot", "identity"), ("fan_in", "identity"), ("fan_out", "identity"), ("fan_geo", "identity"),
         ("fan_in", "relu"))


def closed_form(widths: Sequence[int], rule: str, activation: str) -> tuple[np.ndarray, np.ndarray]:
    """Predicted forward curve q_l/q_0 (l = 1..L) and backward curve p_l/p_L (l = 1..L) from the per-layer
    factors.  ReLU with He's gain 2: a_l = 1 and b_l = n_l/n_{l−1} for l ≥ 2, while the first layer, whose input is
    not a ReLU output, has a_1 = 2 (He et al. 2015, §2.2, note that the first layer should have n_1·Var[w_1] = 1
    because no ReLU acts on the input, and that a factor on one layer does not matter)."""
    a, b = factors(widths, rule)
    if activation == "relu":
        a = a.copy()
        a[0] *= 2.0  # from layer 2 on, the gain 2 and E[relu(y)²]/Var(y) = ½ cancel
    q = np.cumprod(a)
    back = np.append(np.cumprod(b[1:][::-1])[::-1], 1.0)  # p_l/p_L = Π_{k=l+1}^{L} b_k
    return q, back


def _scheme(rule: str, activation: str) -> prop.Scheme:
    gain2 = 2.0 if activation == "relu" else 1.0
    fn = RULES[rule]
    return prop.Scheme(f"{rule}×{gain2:g}", lambda i, o: gain2 * float(fn(sp.Integer(i), sp.Integer(o))))


@mutant("formula: Glorot's compromise costs nothing (forward and backward factors 1)",
        lambda: reference_networks(_no_cost_formula))
def reference_networks(formula: Callable = closed_form, widths: Sequence[int] = WIDTHS) -> EvidenceResult:
    """Measured per-layer second moments of reference networks (forward q_l, backward p_l for an upstream
    δ_L ~ N(0, 1)) against the closed forms, at every layer, within the derived sampling band of
    :func:`invariants.propagation.variance_profile` (α = 1e-6 per profile; Bonferroni over its layers, both
    directions and the batch), and the closed forms equal to the mean-field recursion."""
    L = len(widths) - 1
    rows, ok = [], True
    for rule, act in CASES:
        p = prop.variance_profile(_scheme(rule, act), act, L, widths, BATCH, SEED, alpha=ALPHA)
        q_pred, b_pred = formula(widths, rule, act)
        fwd_err = np.abs(np.log(p.forward_measured) - np.log(q_pred))
        bwd_err = np.abs(np.log(p.backward_measured / p.backward_measured[-1]) - np.log(b_pred))
        inside = bool(np.all(fwd_err <= p.forward_band) and np.all(bwd_err <= p.backward_band))
        same_as_meanfield = bool(np.allclose(p.forward_predicted, q_pred, rtol=1e-9)
                                 and np.allclose(p.backward_predicted / p.backward_measured[-1], b_pred, rtol=1e-9))
        ok = ok and inside and same_as_meanfield
        rows.append(f"{rule}/{act}: q_L/q_0 measured {short(p.forward_measured[-1])} vs {short(q_pred[-1])}, "
                    f"p_1/p_L {short(p.backward_measured[0] / p.backward_measured[-1])} vs {short(b_pred[0])} "
                    f"(worst |log error| {short(max(fwd_err.max(), bwd_err.max()))}, band ≥ "
                    f"{short(min(p.forward_band.min(), p.backward_band[:-1].min()))})")
    detail = f"widths {widths}, batch {BATCH}, seed {SEED}: " + "; ".join(rows)
    return check(ok, detail, "a closed form misses the measurement: " + detail)


def _no_cost_formula(widths, rule, activation):
    """Mutant formula: Glorot's variance preserves both directions (F = G = 1), the compromise read as free."""
    q, b = closed_form(widths, rule, activation)
    return (np.ones_like(q), np.ones_like(b)) if rule == "glorot" else (q, b)


register(Claim(
    id="VAR-WIDTHS-01",
    title="Unequal widths: Glorot's compromise costs 4n_in·n_out/(n_in+n_out)² per layer, compounding with depth; "
          "forward and backward totals always differ by n_0/n_L",
    seed_quotes=(QUOTE_GAUSSIAN, QUOTE_XAVIER_SIZE, QUOTE_FAN_IN),
    statement=(
        "In a network n_0 → n_1 → … → n_L with i.i.d. zero-mean weights of variance v_l, the per-unit second moments "
        "obey q_l = a_l·q_{l−1} forward and p_{l−1} = b_l·p_l backward with a_l = n_{l−1}v_l and b_l = n_l v_l "
        "(linear layers; ReLU multiplies both by ½). (1) For every rule a_l/b_l = n_{l−1}/n_l, so the totals F = q_L/q_0 "
        "and G = p_0/p_L satisfy F/G = n_0/n_L exactly: no per-layer rule preserves both directions unless n_0 = n_L. "
        "(2) Glorot's compromise v_l = 2/(n_{l−1} + n_l) gives a_l = 2n_{l−1}/(n_{l−1}+n_l), b_l = "
        "2n_l/(n_{l−1}+n_l), a_l + b_l = 2, and a_l·b_l = ρ_l = 4n_{l−1}n_l/(n_{l−1}+n_l)² ≤ 1 with equality iff "
        "n_{l−1} = n_l; the forward factor does not telescope: F = √(P·n_0/n_L) and G = √(P·n_L/n_0) with "
        "P = Π_l ρ_l, so what compounds with depth is P (e.g. alternating 1:4 widths: ρ = 0.64 per layer), while "
        "the forward/backward imbalance stays n_0/n_L at any depth. (3) One-sided scaling (He et al. 2015, §2.2): "
        "fan_in (v_l = 1/n_{l−1}; He's 2/n_{l−1} with ReLU) keeps q_l = q_0 at every layer and scales the gradient "
        "by p_l/p_L = n_L/n_l, in total p_0/p_L = n_L/n_0; fan_out (v_l = 1/n_l) keeps p and scales the forward "
        "signal by q_L/q_0 = n_0/n_L (He's c_2/d_L when counted from layer 2). (4) The geometric-mean fan "
        "v_l = 1/√(n_{l−1}n_l) has ρ_l = 1 per layer: F = √(n_0/n_L), G = √(n_L/n_0), no compounding."
    ),
    verdict=Verdict.PROVED,
    scope=("fully connected networks of any depth L ≥ 1 and any widths n_0, …, n_L ≥ 1: exact for expected second "
           "moments of linear networks; for ReLU networks under He et al.'s assumptions (zero-mean symmetric "
           "pre-activations, gradients independent of the forward weights); at initialization"),
    conditions=(
        "weights i.i.d., zero mean, independent of the input and of the upstream gradient δ_L; zero biases",
        "the factors are for expected second moments; a finite network fluctuates around them by O(√(Σ 1/n_l)) in "
        "log (the experiment's derived band)",
        "ReLU: both factors carry E[relu'²] = E[relu²]/Var = ½, so He's gain 2 restores a_l = 1; Glorot with ReLU "
        "loses an extra ½ per layer in each direction",
    ),
    derivation=(
        "Var(z_l) = n_{l−1}·v_l·E[h_{l−1}²] (a sum of n_{l−1} independent products) and, backward, "
        "Var(δ_{l−1}) = n_l·v_l·Var(δ_l) (Glorot & Bengio 2010, §4.2). The ratio a_l/b_l = n_{l−1}/n_l does not "
        "depend on v_l, so F/G = Π n_{l−1}/n_l telescopes to n_0/n_L (induction on L). For Glorot's harmonic "
        "compromise, a_l·b_l = 4n_{l−1}n_l/(n_{l−1}+n_l)² = 1 − ((n_{l−1}−n_l)/(n_{l−1}+n_l))² (AM-GM), and F·G = "
        "Π ρ_l = P; solving F·G = P, F/G = n_0/n_L gives F = √(P n_0/n_L). With fan_in, a_l = 1 and "
        "Π b_l = Π n_l/n_{l−1} = n_L/n_0; with fan_out, b_l = 1 and Π a_l = n_0/n_L (He et al. 2015, §2.2: using "
        "eq. 14 makes the forward product Π_{l=2}^{L} n_l/n̂_l = c_2/d_L). SymPy checks each step on generic "
        "positive symbols and the induction step on (n_0, n_L, n_{L+1})."
    ),
    references=(
        "Glorot & Bengio 2010, AISTATS, §4.2 (forward and backward variance products) and eq. 12 (the compromise "
        "2/(n_i + n_{i+1}))",
        "He, Zhang, Ren, Sun 2015, ICCV, §2.2 eq. 9–10 and 13–14 (one-sided scaling, the factor c_2/d_L)",
    ),
    readings=(
        Reading("'variance based on the fan-in and fan-out' / 'Xavier' read as Glorot's compromise "
                "2/(fan_in + fan_out): preserves neither direction when widths differ; costs ρ_l per layer",
                Verdict.PROVED, ("SymPy: per-layer factors, AM-GM cost, telescoping by induction",
                                 "reference networks match the closed forms at every layer")),
        Reading("'Xavier' read as the fan_in-only rule (1/n_{l−1}): preserves the forward signal at every "
                "layer; the gradient is scaled by n_L/n_0 in total",
                Verdict.PROVED, ("SymPy: per-layer factors, AM-GM cost, telescoping by induction",
                                 "reference networks match the closed forms at every layer")),
    ),
    evidence=(
        Evidence("symbolic", "SymPy: per-layer factors, AM-GM cost, telescoping by induction", symbolic_proof),
        Evidence("experiment", "reference networks match the closed forms at every layer", reference_networks),
    ),
))
