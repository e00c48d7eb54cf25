"""RES-ZERO-01: a residual branch whose last layer starts at zero is the identity yet trains; zeroing both
layers of a two-layer branch freezes it forever.

Notation (columns are examples, so the matrix calculus reads as in the papers): a block maps the stream
H (n × B) to Y = H + r(H); the branch is U = W1·H + b1·1ᵀ, A = φ(U), r = W2·A + b2·1ᵀ (W1: m × n,
W2: n × m), optionally ×α (ReZero/SkipInit) or through a final batch norm Γ·BN(·) + β (zero-γ).
G = ∂L/∂Y (n × B) is whatever the loss and the later layers make it; every statement below holds for
every G and H, so for any loss and any network around the block.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from invariants.claims.evidence import check, short
from invariants.claims.registry import (
    Claim, Evidence, EvidenceResult, Reading, Verdict, mutant, register,
)
from invariants.experiments import residual as res

QUOTE_NEVER_ZERO = "Never initialize all the weights to zero."
QUOTE_DELTA_ZERO = (
    "Main problem with initialization of all weights to zero mathematically leads to either the neuron "
    "values are zero (for multi layers) or the delta would be zero."
)

#: Horizons and learning rates of the training evidence (full batch, :func:`invariants.experiments.residual.task`).
SGD_STEPS, SGD_LR = 600, 0.2
ADAM_STEPS, ADAM_LR = 200, 0.01
#: A zero-initialised branch must bring the loss below this fraction of the best linear fit's loss.
TRAINED_FRACTION = 0.25
#: The evidence network: stream width 8, branch width 16, 2 blocks, tanh.
NET = dict(d=8, m=16, blocks=2, activation="tanh")
DATA_SIZE = 64


def _optimizer_keeps_zero() -> tuple[bool, str]:
    """Each reference update rule maps (gradient 0, state 0, weight 0) to (update 0, state 0): SymPy on
    scalar symbols (the rules are elementwise).  Adam: m̂/(√v̂ + ε) with m = v = 0."""
    lr, mom, b1, b2, eps, wd, t = sp.symbols("lr mu beta1 beta2 epsilon lambda t", positive=True)
    g = w = m = v = sp.Integer(0)
    m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
    updates = {
        "SGD+L2": lr * (g + wd * w),
        "momentum": lr * (mom * m + g),
        "Nesterov": lr * (g + mom * (mom * m + g)),
        "Adam": lr * (m_new / (1 - b1**t)) / (sp.sqrt(v_new / (1 - b2**t)) + eps),
        "AdamW": lr * wd * w + lr * (m_new / (1 - b1**t)) / (sp.sqrt(v_new / (1 - b2**t)) + eps),
        "RMSprop/Adagrad": lr * g / (sp.sqrt(v_new) + eps),
    }
    ok = all(sp.simplify(u) == 0 for u in updates.values()) and m_new == 0 and v_new == 0
    return ok, ", ".join(updates)


def zero_branch_proof(phi0: sp.Expr = sp.Integer(0)) -> EvidenceResult:
    """The index-free chain-rule proof (SymPy MatrixSymbols with symbolic sizes n, m): see the claim's
    derivation.  ``phi0`` is φ(0) (0 for tanh/ReLU; the mutant passes sigmoid's 1/2)."""
    n, m = sp.symbols("n m", positive=True, integer=True)
    W1, W2 = sp.MatrixSymbol("W1", m, n), sp.MatrixSymbol("W2", n, m)
    h, g = sp.MatrixSymbol("h", n, 1), sp.MatrixSymbol("g", n, 1)  # one example's stream input and ∂L/∂y
    a, D = sp.MatrixSymbol("a", m, 1), sp.MatrixSymbol("D", m, m)  # a = φ(u), D = diag φ'(u)
    nrm, Gam = sp.MatrixSymbol("N", n, 1), sp.MatrixSymbol("Gamma", n, n)  # BN output, diag(γ)
    alpha = sp.Symbol("alpha")
    Z = sp.ZeroMatrix
    # first-order terms of L along each parameter, one example (dL = gᵀ·dy, da = D·du, du = dW1·h; the
    # batch gradient is the sum of these; b1 is the column of W1 that meets a constant input 1, so its
    # gradient vanishes whenever W1's does)
    dW2 = sp.Trace(g.T * W2 * a).diff(W2)
    dW1 = sp.Trace(g.T * W2 * D * W1 * h).diff(W1)
    facts = {
        "W2 = 0 ⇒ y = h + b2": (h + W2 * a).subs(W2, Z(n, m)).doit() == h,
        "∂L/∂W2 = g·aᵀ": dW2 == g * a.T,
        "∂L/∂W1 = Dᵀ·W2ᵀ·g·hᵀ": dW1 == D.T * W2.T * g * h.T,
        "W2 = 0 ⇒ ∂L/∂W1 = 0": dW1.subs(W2, Z(n, m)).doit() == Z(m, n),
        "ReZero ∂L/∂α = tr(gᵀW2a), ∂L/∂W2 = αgaᵀ":
            sp.Trace(alpha * g.T * W2 * a).diff(alpha) == sp.Trace(g.T * W2 * a)
            and sp.Trace(alpha * g.T * W2 * a).diff(W2).subs(alpha, 0).doit() == Z(n, m),
        "zero-γ ∂L/∂Γ = gNᵀ, inner weights see Γᵀg = 0":
            sp.Trace(g.T * Gam * nrm).diff(Gam) == g * nrm.T
            and sp.Trace(g.T * Gam * W2 * a).diff(W2).subs(Gam, Z(n, n)).doit() == Z(n, m),
    }
    # both layers zero (W1 = 0, b1 = 0, W2 = 0): u = 0, a = φ(0)·1, so ∂L/∂W2 = φ(0)·g·1ᵀ
    both_dW2 = dW2.subs(a, phi0 * sp.OneMatrix(m, 1)).doit()
    both_dW1 = dW1.subs(W2, Z(n, m)).doit()
    facts["both zero ⇒ ∂L/∂W2 = φ(0)g1ᵀ = 0, ∂L/∂W1 = 0"] = both_dW2 == Z(n, m) and both_dW1 == Z(m, n)
    opt_ok, rules = _optimizer_keeps_zero()
    facts[f"zero gradient and state give a zero update ({rules})"] = opt_ok
    bad = [k for k, ok in facts.items() if not ok]
    return check(not bad,
                 "SymPy, symbolic n, m, any g, h (every width and batch): " + "; ".join(facts)
                 + "; by induction W1 = W2 = 0, b1 = 0 forever",
                 f"not shown (φ(0) = {phi0}): " + "; ".join(bad)
                 + (f" — ∂L/∂W2 = {both_dW2}" if both_dW2 != Z(n, m) else ""))


@mutant("φ(0) = 1/2 (sigmoid) instead of 0: W2 gets gradient φ(0)·G·1ᵀ", lambda: zero_branch_proof(sp.Rational(1, 2)))
def _proof() -> EvidenceResult:
    return zero_branch_proof()


def linear_fit_loss(data=None) -> float:
    """The smallest loss ``½·mean_b ‖x Wᵀ + b − t‖²`` of any affine map (least squares): the loss of a
    residual net whose branches are all frozen at zero can never go below it."""
    x, t = res.task(n=DATA_SIZE, d=NET["d"]) if data is None else data
    X = np.hstack([x, np.ones((x.shape[0], 1))])
    coef, *_ = np.linalg.lstsq(X, t, rcond=None)
    r = X @ coef - t
    return 0.5 * float(np.sum(r * r)) / x.shape[0]


def frozen_branches(activation: str = "tanh") -> EvidenceResult:
    """Both layers of every branch zero: the branch weights stay bitwise 0 at every step of SGD and Adam,
    and the loss never goes below the least-squares affine fit (the net is that affine model)."""
    data = res.task(n=DATA_SIZE, d=NET["d"])
    floor = linear_fit_loss(data)
    net = res.ResidualNet(**{**NET, "activation": activation}, variant="both_zero")
    parts, ok = [], True
    for opt, steps, lr in (("sgd", SGD_STEPS, SGD_LR), ("adam", ADAM_STEPS, ADAM_LR)):
        run = res.train(net, opt, steps, lr, data=data)
        moved = int(np.argmax(run.branch_max_abs > 0)) if np.any(run.branch_max_abs > 0) else None
        # an affine model's loss is ≥ the least-squares optimum, up to the rounding of the two sums
        above = float(np.min(run.losses)) >= floor * (1 - 1e-12)
        ok = ok and moved is None and above
        parts.append(f"{opt} {steps} steps: branch weights {'exactly 0 throughout' if moved is None else f'moved at step {moved}'}"
                     f", loss {short(run.losses[0])} → {short(run.losses[-1])} (floor {short(floor)})")
    return check(ok, f"{activation}, both layers zero: " + "; ".join(parts),
                 f"{activation}, both layers zero, not frozen: " + "; ".join(parts))


@mutant("sigmoid branches (φ(0) = 1/2): the zero second layer gets a gradient and moves",
        lambda: frozen_branches("sigmoid"))
def _frozen() -> EvidenceResult:
    return frozen_branches()


def distinct_units(W2: np.ndarray) -> int:
    """Number of distinct columns of a trained W2 (hidden units that stayed tied share a column)."""
    return len({c.tobytes() for c in np.ascontiguousarray(W2.T)})


def zero_init_trains(variants=("last_zero", "rezero", "zero_gamma")) -> EvidenceResult:
    """Each zero-initialised-branch variant is the identity at init (loss equals the branch-free net's),
    then under SGD and Adam brings the loss below TRAINED_FRACTION × the best affine fit's, with every
    branch's m hidden units distinct."""
    data = res.task(n=DATA_SIZE, d=NET["d"])
    floor = linear_fit_loss(data)
    base = res.train(res.ResidualNet(**NET, variant="both_zero"), "sgd", 0, SGD_LR, data=data).losses[0]
    bad, parts = [], []
    for v in variants:
        net = res.ResidualNet(**NET, variant=v)
        for opt, steps, lr in (("sgd", SGD_STEPS, SGD_LR), ("adam", ADAM_STEPS, ADAM_LR)):
            run = res.train(net, opt, steps, lr, data=data)
            units = min(distinct_units(run.params[f"W2_{k}"]) for k in range(net.blocks))
            ratio = run.losses[-1] / floor
            parts.append(f"{v}/{opt} {short(ratio)}")
            if run.losses[0] != base:
                bad.append(f"{v}: initial loss {run.losses[0]!r} ≠ branch-free {base!r} (not the identity)")
            if not ratio <= TRAINED_FRACTION or units < net.m:
                bad.append(f"{v}/{opt}: final loss {short(ratio)} × the affine floor, {units}/{net.m} distinct units")
    detail = (f"identity at init (initial loss = the branch-free net's, bitwise); final loss / best affine fit "
              f"(floor {short(floor)}; SGD {SGD_STEPS} steps lr {SGD_LR}, Adam {ADAM_STEPS} steps lr {ADAM_LR}; "
              f"needs ≤ {TRAINED_FRACTION}): " + ", ".join(parts) + f"; all {NET['m']} hidden units of every branch distinct")
    return check(not bad, detail, "; ".join(bad) + " | " + detail)


@mutant("W1's rows tied (constant first layer) with W2 = 0: the branch's units stay one class",
        lambda: zero_init_trains(("tied_first",)))
def _trains() -> EvidenceResult:
    return zero_init_trains()


register(Claim(
    id="RES-ZERO-01",
    title="A residual branch with a zero last layer is the identity yet trains; zeroing both layers freezes it",
    seed_quotes=(QUOTE_NEVER_ZERO, QUOTE_DELTA_ZERO),
    statement=(
        "In a residual block Y = H + r(H) with a two-layer branch r = W2·φ(W1·H + b1) + b2, initializing only "
        "the branch's last layer to zero — Fixup's W2 = 0 (Zhang et al. 2019), SkipInit/ReZero's scalar α = 0 "
        "on r (De & Smith 2020; Bachlechner et al. 2020), or γ = 0 in the branch's final batch norm (Goyal et al. "
        "2017) — makes the block the identity at init, yet the last layer gets the nonzero gradient G·Aᵀ "
        "(A = φ(W1·H + b1) ≠ 0 because W1 is random; α gets tr(Gᵀ·r), γ gets diag(G·Nᵀ)), the first layer "
        "follows from the next step on, and the branch's hidden units stay distinct because W1's rows differ: "
        "the network trains (under SGD and Adam the loss falls below 1/4 of the best affine fit's, which a "
        "network with inert branches cannot beat). Zeroing BOTH layers (W1 = 0, b1 = 0, W2 = 0) with φ(0) = 0 "
        "(tanh, ReLU) freezes the branch: ∂L/∂W2 = φ(0)·G·1ᵀ = 0 and ∂L/∂W1 = ((W2ᵀG) ∘ φ'(U))·Hᵀ = 0, for "
        "every width, batch, loss and surrounding network, so W1 and W2 stay exactly 0 at every step of SGD, "
        "momentum, Nesterov, Adam, AdamW, RMSprop and Adagrad (with or without weight decay): the branch stays "
        "inert forever and the block is h ↦ h + b2, b2 being the only branch parameter that learns."
    ),
    verdict=Verdict.VERIFIED,
    scope=(
        "residual blocks with a two-layer branch (MLP; the algebra only uses that W1, W2 act linearly with "
        "gradients bilinear in upstream gradient and input, so it covers convolutional branches too, which "
        "are not run); symbolic part: every width, batch, loss and surrounding network, every step, the "
        "reference optimizers (SGD, momentum, Nesterov, Adam, AdamW, RMSprop, Adagrad) without weight noise; training "
        f"part: numpy residual MLP (stream 8, branch 16, 2 blocks, tanh, {DATA_SIZE} examples), full-batch "
        f"SGD {SGD_STEPS} steps and Adam {ADAM_STEPS} steps"
    ),
    conditions=(
        "freezing needs φ(0) = 0 and b1 = 0: with φ(0) ≠ 0 (sigmoid) W2 gets φ(0)·G·1ᵀ and moves, but all its "
        "columns move alike, so the branch's units stay one class (SYM-CONST-01)",
        "freezing is exact in floating point too (products with an exact 0 are 0) but not under weight noise, "
        "dropout on weights or stochastic rounding of the update",
        "'trains' is shown for the evidence's task and horizons; Fixup's K^{-1/2} scaling of the first layer is "
        "applied, its scalar biases and multiplier are not",
    ),
    derivation=(
        "Per example, dL = gᵀ·dy, dy = dW2·a + W2·D·du, du = dW1·h (D = diag φ'(u)); SymPy's matrix calculus on "
        "MatrixSymbols of symbolic sizes gives ∂L/∂W2 = g·aᵀ and ∂L/∂W1 = D·W2ᵀ·g·hᵀ, whose sums over the batch "
        "are G·Aᵀ and ((W2ᵀG) ∘ φ'(U))·Hᵀ (b1 is W1's column on a constant input). W2 = 0 gives Y = H and "
        "∂L/∂W1 = 0 for one step, while ∂L/∂W2 = G·Aᵀ ≠ 0; for "
        "ReZero ∂L/∂α = tr(Gᵀ·W2·A) and for zero-γ ∂L/∂Γ = G·Nᵀ, and every weight inside the branch sees the "
        "factor α or Γ = 0 (the 'delta' through the zero layer is zero, as the seed says, but only for one "
        "step). With W1 = 0 and b1 = 0 as well, A = φ(0)·1·1ᵀ, so ∂L/∂W2 = φ(0)·G·1ᵀ vanishes when φ(0) = 0 "
        "and ∂L/∂W1 still contains W2 = 0; every update rule maps zero gradient and zero state to a zero "
        "update and zero state (SymPy), so by induction the branch never leaves 0."
    ),
    references=(
        "Zhang, Dauphin & Ma 2019, Fixup Initialization, ICLR, §3 (zero last layer per branch, K^{-1/(2m-2)} scaling)",
        "De & Smith 2020, Batch Normalization Biases Residual Blocks Towards the Identity Function in Deep Networks, "
        "NeurIPS (SkipInit: a learnable scalar at the end of each residual branch, initialized to 0)",
        "Bachlechner et al. 2020, ReZero is All You Need: Fast Convergence at Large Depth, arXiv:2003.04887 "
        "(x_{i+1} = x_i + α_i·F(x_i), α_i = 0 at init)",
        "Goyal et al. 2017, Accurate, Large Minibatch SGD, arXiv:1706.02677, §5.1 (zero γ of each block's last BN)",
        "He et al. 2016, Deep Residual Learning, CVPR, eq. 1",
    ),
    readings=(
        Reading("within a residual branch, not all of its layers may start at zero (both-zero branches never "
                "learn)", Verdict.VERIFIED, ("chain-rule proof for every width", "both layers zero: frozen")),
        Reading("no weight matrix may ever start at zero", Verdict.REFUTED,
                ("chain-rule proof for every width", "zero last layer, ReZero α = 0, zero γ: identity at init, then trains")),
    ),
    evidence=(
        Evidence("symbolic", "chain-rule proof for every width", _proof),
        Evidence("experiment", "both layers zero: frozen", _frozen),
        Evidence("experiment", "zero last layer, ReZero α = 0, zero γ: identity at init, then trains", _trains),
    ),
))
