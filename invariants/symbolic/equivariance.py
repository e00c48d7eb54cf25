"""SymPy proof, for every width, depth and batch size, that training keeps the fixed set of a parameter
symmetry (SYM-EQUIV-01; SYM-CONST-01 is its corollary for a transposition of hidden units).

The theorem.  Let a group G act on the parameters θ by orthogonal linear maps (permutations of
coordinates), and on the optimizer state the same way.  Assume (H1) the loss of every batch is
invariant, L(gθ) = L(θ) — it is when the parametrisation is, f(x; gθ) = f(x; θ), and the data pipeline
does not depend on θ — and (H2) the update rule is equivariant, U(gθ, g·s, g∇) = g·U(θ, s, ∇) (state
update included).  Then Fix(G) = {θ : gθ = θ ∀g ∈ G} (with the state in Fix) is invariant under
training, for every number of steps.  Written proof, each step checked below:

- **(S1) chain rule for orthogonal symmetries**: differentiating L(gθ) = L(θ) along δ gives
  ⟨∇L(gθ), gδ⟩ = ⟨∇L(θ), δ⟩, i.e. gᵀ∇L(gθ) = ∇L(θ); with ggᵀ = I, ∇L(gθ) = g∇L(θ).  Checked
  index-free on ``MatrixSymbol`` objects of symbolic dimension D (:func:`prove_lemma`); the mutant
  replaces g by a non-orthogonal scaling c·I (scale invariance, as a batch-normalized layer has), where
  ∇L(cθ) = ∇L(θ)/c ≠ c∇L(θ).
- **(S2) fixed points have fixed gradients**: θ = gθ ⇒ ∇L(θ) = ∇L(gθ) = g∇L(θ).
- **(S3) one step stays in Fix**: θ' = U(θ, s, ∇) = U(gθ, gs, g∇) = gθ' (and s' likewise).
- **(S4) induction** over steps: the initial state (zeros for every optimizer here) is in Fix.

The instance (:func:`prove_hidden_transposition`): G = ⟨σ⟩, σ the transposition of units j, k of a
hidden layer of an MLP of **any** width n ≥ 2, input width m, next-layer width p and batch size B (all
SymPy symbols), at **any** depth: the layers below enter only through the layer's input h (an m × B
array of free symbols) and their parameters only through ∂h/∂q (free symbols H), the layers above and
the loss only through the next pre-activation z (p × B) and the upstream gradient G = ∂L/∂z (free
symbols; G(σθ) = G(θ) because z(σθ) = z(θ), checked, and the layers above are not moved by σ).  After
relabelling, j = 1 and k = 2; units 3..n form the rest of the layer, written as ``Sum`` over a
symbolic range, and a generic rest unit u₀ = 3 + v₀ (v₀ ≥ 0), input i₀ and output o₀ stand for all.
Checked, with an undefined activation phi (any elementwise function): (I) z(σθ) = z(θ) for the plain
layer, for layer norm over the layer's units (statistics written as block sums: symmetric in units 1
and 2) and for batch norm (statistics over the batch of the unit's own pre-activations, B symbolic);
(E) for the plain layer, the explicit gradients ∂L/∂q(σθ) = ∂L/∂σ(q)(θ) of unit 1's incoming weight,
bias and outgoing weight, of a rest unit's and of a parameter of a layer below (for the normalized
layers (E) follows from (I) by (S1)); (F) equal gradients of units 1 and 2 on the fixed set; (U) one
step of a generic per-coordinate optimizer U(p, c·g, s), V(p, c·g, s) (state) with c = clip(Σ g²)
(global-norm clipping) is σ-equivariant and keeps units 1, 2 tied.  Since every permutation is a
product of transpositions and the argument is per layer, this covers every permutation of every
hidden layer.  Depth enters only through h, ∂h/∂q and G, which are free: the identities hold whatever
the other layers compute, so no induction over layers is needed beyond this per-layer argument.

Mutants (for the self-tests): ``mask=True`` multiplies each unit's output by a per-unit dropout mask
that σ does not move (hidden dropout): (I), (E), (F) fail; ``per_unit_lr=True`` gives each unit its own
learning rate in (U): the step fails to commute.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from invariants.symbolic.symmetry import Identities, Identity

#: Symbolic sizes: n = N + 2 hidden units (the swapped pair 1, 2 and N ≥ 0 others), input width m,
#: next-layer width p, batch size B.
N, M_IN, P_OUT, B = sp.symbols("N m p B", integer=True, nonnegative=True)
N_UNITS = N + 2

_u, _i, _o, _b = sp.symbols("u i o beta", integer=True)
I0, O0 = sp.symbols("i_0 o_0", integer=True, positive=True)
V0 = sp.Symbol("v_0", integer=True, nonnegative=True)
U0 = V0 + 3  # a generic unit of the rest of the layer

W, b, C = sp.IndexedBase("W"), sp.IndexedBase("b"), sp.IndexedBase("C")  # layer l, its biases, W_{l+1}
g, s = sp.IndexedBase("g"), sp.IndexedBase("s")  # per-unit norm scale and shift
h, H, G = sp.IndexedBase("h"), sp.IndexedBase("H"), sp.IndexedBase("G")  # input, ∂h/∂q, ∂L/∂z
MASK = sp.IndexedBase("M")  # per-unit dropout mask (data: σ does not move it)
phi = sp.Function("phi")
eps = sp.Symbol("epsilon", positive=True)
_e = sp.Symbol("e")  # direction parameter for derivatives through the layers below

#: Names of the indexed tensors whose unit index comes first (W[u, i], b[u], g[u], s[u] and their
#: gradients gW, gb and optimizer states SW, Sb) or second (C[o, u], gC[o, u], SC[o, u]).
UNIT_FIRST = frozenset({"W", "b", "g", "s", "gW", "gb", "SW", "Sb"})
UNIT_SECOND = frozenset({"C", "gC", "SC"})


def move_units(expr: sp.Expr, mapping: dict[int, int]) -> sp.Expr:
    """Replace the unit index of every parameter, gradient and state entry by ``mapping`` (units not in it
    stay): the swap σ = {1: 2, 2: 1} or the tie {2: 1} (unit 2's entries := unit 1's).  Inputs h, H, the
    upstream gradient G and dropout masks are not moved (σ acts on parameters only)."""

    def move(x: sp.Indexed) -> sp.Expr:
        name = x.base.label.name
        if name not in UNIT_FIRST and name not in UNIT_SECOND:
            return x
        idx = list(x.indices)
        pos = 0 if name in UNIT_FIRST else 1
        if idx[pos] in mapping:
            idx[pos] = mapping[idx[pos]]
        return x.base[tuple(idx)]

    return expr.replace(lambda x: isinstance(x, sp.Indexed), move)


SWAP = {1: 2, 2: 1}
TIE = {2: 1}


def _zero(expr: sp.Expr) -> sp.Expr:
    """Evaluate Kronecker-delta sums (``doit``) and expand; 0 proves the identity."""
    return sp.expand(sp.expand(expr).doit())


def _pre(u, hh, beta):
    return sp.Sum(W[u, _i] * hh(_i, beta), (_i, 1, M_IN)) + b[u]


def _unit_out(u, hh, beta, norm: str | None, mask: bool):
    a = _pre(u, hh, beta)
    if norm == "layer":  # statistics over the layer's units, as block sums (units 1, 2, then the rest)
        mu = (_pre(1, hh, beta) + _pre(2, hh, beta) + sp.Sum(_pre(_u, hh, beta), (_u, 3, N_UNITS))) / N_UNITS
        var = ((_pre(1, hh, beta) - mu) ** 2 + (_pre(2, hh, beta) - mu) ** 2
               + sp.Sum((_pre(_u, hh, beta) - mu) ** 2, (_u, 3, N_UNITS))) / N_UNITS
        a = g[u] * (a - mu) / sp.sqrt(var + eps) + s[u]
    elif norm == "batch":  # statistics over the batch of the unit's own pre-activations
        b2 = sp.Symbol("beta_2", integer=True)
        mu = sp.Sum(_pre(u, hh, b2), (b2, 1, B)) / B
        var = sp.Sum((_pre(u, hh, b2) - mu) ** 2, (b2, 1, B)) / B
        a = g[u] * (a - mu) / sp.sqrt(var + eps) + s[u]
    out = phi(a)
    return out * MASK[u, beta] if mask else out


def next_preactivation(o, beta, norm: str | None = None, mask: bool = False, hh=None) -> sp.Expr:
    """z[o, β] = Σ_u C[o, u]·phi(a_u[β]) without the next layer's bias (σ does not move it), in block
    form: units 1 and 2 written out, the rest as ``Sum`` over u = 3..n.  ``hh(i, β)`` is the layer's input
    (default h[i, β])."""
    hh = hh or (lambda i, beta_: h[i, beta_])
    return (C[o, 1] * _unit_out(1, hh, beta, norm, mask) + C[o, 2] * _unit_out(2, hh, beta, norm, mask)
            + sp.Sum(C[o, _u] * _unit_out(_u, hh, beta, norm, mask), (_u, 3, N_UNITS)))


def _linearized_loss(mask: bool, hh=None) -> sp.Expr:
    """Σ_β Σ_o G[o, β]·z[o, β]: its derivative in any parameter of layers ≤ l+1 is ∂L/∂q by the chain
    rule, with G = ∂L/∂z held at its value (which σ does not change)."""
    return sp.Sum(sp.Sum(G[_o, _b] * next_preactivation(_o, _b, None, mask, hh), (_o, 1, P_OUT)), (_b, 1, B))


class _Failed(Exception):
    pass


def prove_hidden_transposition(mask: bool = False, per_unit_lr: bool = False, fail_fast: bool = False) -> Identities:
    """Identities (I), (E), (F), (U) of the module docstring for symbolic n, m, p, B; ``mask`` and
    ``per_unit_lr`` are the mutants; ``fail_fast`` stops at the first identity that does not reduce to 0
    (expanding the nonzero gradient differences of the mask mutant takes minutes).  About 5 s."""
    out: list[Identity] = []
    try:
        _collect(out, mask, per_unit_lr, fail_fast)
    except _Failed:
        pass
    return Identities(("n", "m", "p", "B"), tuple(out))


class _Collector(list):
    def __init__(self, out: list, fail_fast: bool):
        super().__init__()
        self.out, self.fail_fast = out, fail_fast

    def append(self, item: Identity) -> None:
        self.out.append(item)
        if self.fail_fast and not item.holds:
            raise _Failed


def _collect(sink: list, mask: bool, per_unit_lr: bool, fail_fast: bool) -> None:
    out = _Collector(sink, fail_fast)
    beta = sp.Symbol("beta_0", integer=True, positive=True)
    for norm in (None, "layer", "batch"):
        z = next_preactivation(O0, beta, norm, mask)
        label = {None: "plain layer", "layer": "with layer norm", "batch": "with batch norm"}[norm]
        out.append(Identity("invariance", 0, f"z[o0, β](σθ) = z[o0, β](θ), {label}",
                            _zero(move_units(z, SWAP) - z)))
    L = _linearized_loss(mask)
    grads = {q: sp.diff(L, q) for q in (W[1, I0], W[2, I0], b[1], b[2], C[O0, 1], C[O0, 2],
                                         W[U0, I0], b[U0], C[O0, U0])}
    for q1, q2 in ((W[1, I0], W[2, I0]), (b[1], b[2]), (C[O0, 1], C[O0, 2])):
        out.append(Identity("equivariance", 0, f"∂L/∂{q1}(σθ) = ∂L/∂{q2}(θ)",
                            _zero(move_units(grads[q1], SWAP) - grads[q2])))
        out.append(Identity("equal-gradient", 0, f"∂L/∂{q1} = ∂L/∂{q2} on the fixed set",
                            _zero(move_units(grads[q1] - grads[q2], TIE))))
    for q in (W[U0, I0], b[U0], C[O0, U0]):
        out.append(Identity("equivariance", 0, f"∂L/∂{q}(σθ) = ∂L/∂{q}(θ) (rest unit)",
                            _zero(move_units(grads[q], SWAP) - grads[q])))
    # a parameter q below the layer: h moves along H = ∂h/∂q
    below = sp.diff(_linearized_loss(mask, lambda i, beta_: h[i, beta_] + _e * H[i, beta_]), _e).subs(_e, 0)
    out.append(Identity("equivariance", 0, "∂L/∂q(σθ) = ∂L/∂q(θ), q in a layer below",
                        _zero(move_units(below, SWAP) - below)))
    for identity in update_identities(per_unit_lr):
        out.append(identity)


def update_identities(per_unit_lr: bool = False) -> list[Identity]:
    """(U): a generic per-coordinate step θ' = U(θ, c·g, s), s' = V(θ, c·g, s), c = clip(‖g‖²), on the
    block form (unit 1's incoming weight i₀, bias and outgoing weight o₀; the rest of the squared norm R
    is σ-invariant by (E)).  ``per_unit_lr`` multiplies unit u's gradient by its own rate η_u."""
    U, V, clip = sp.Function("U"), sp.Function("V"), sp.Function("clip")
    gW, gb, gC = sp.IndexedBase("gW"), sp.IndexedBase("gb"), sp.IndexedBase("gC")
    SW, Sb, SC = sp.IndexedBase("SW"), sp.IndexedBase("Sb"), sp.IndexedBase("SC")
    eta = sp.IndexedBase("eta")  # per-unit learning rates (the mutant): not moved by σ
    R = sp.Symbol("R")

    def sq(u):
        return sp.Sum(gW[u, _i] ** 2, (_i, 1, M_IN)) + gb[u] ** 2 + sp.Sum(gC[_o, u] ** 2, (_o, 1, P_OUT))

    c = clip(sq(1) + sq(2) + R)
    out: list[Identity] = []
    for (p1, g1, s1), (p2, g2, s2) in (((W[1, I0], gW[1, I0], SW[1, I0]), (W[2, I0], gW[2, I0], SW[2, I0])),
                                       ((b[1], gb[1], Sb[1]), (b[2], gb[2], Sb[2])),
                                       ((C[O0, 1], gC[O0, 1], SC[O0, 1]), (C[O0, 2], gC[O0, 2], SC[O0, 2]))):
        r1, r2 = (eta[1], eta[2]) if per_unit_lr else (1, 1)
        for F, name in ((U, "parameter"), (V, "state")):
            step1, step2 = F(p1, r1 * c * g1, s1), F(p2, r2 * c * g2, s2)
            out.append(Identity("update", 0, f"{name} step of {p1} at σ(θ, s, ∇) = {name} step of {p2}",
                                _zero(move_units(step1, SWAP) - step2)))
            out.append(Identity("update", 0, f"{name} steps of {p1}, {p2} agree on the fixed set",
                                _zero(move_units(step1 - step2, TIE))))
    return out


@dataclass(frozen=True)
class LemmaStep:
    """One index-free step of the abstract theorem: ``residual`` is 0 when it holds."""

    what: str
    residual: sp.Expr

    @property
    def holds(self) -> bool:
        return self.residual == sp.S.Zero or getattr(self.residual, "is_ZeroMatrix", False)


def prove_lemma(orthogonal: bool = True) -> list[LemmaStep]:
    """Steps (S1) and (S3) index-free, on matrices of symbolic dimension D ((S2) is (S1) at θ = gθ).

    (S1a) adjoint: ⟨Gʹ, gδ⟩ = ⟨gᵀGʹ, δ⟩, so differentiating L(gθ) = L(θ) along δ gives gᵀ∇L(gθ) = ∇L(θ);
    (S1b) Gʹ = g∇L(θ) solves gᵀGʹ = ∇L(θ) when gᵀg = I (and is the only solution: gᵀ is invertible);
    (S3) an equivariant U (rewriting rule U(gθ, gs, g∇) → gU(θ, s, ∇)) maps a point of Fix to a point of
    Fix.  (S3) is a written step: its SymPy form applies the equivariance hypothesis as a rewrite rule, so
    it is bookkeeping that cannot fail; (S1b) and the MLP instance
    (:func:`prove_hidden_transposition`) are the parts that can.  ``orthogonal=False`` is the mutant:
    g = c·I, a scaling (L(cθ) = L(θ) holds for the weights of a batch-normalized layer), for which
    gᵀ(g∇) = c²∇ ≠ ∇: the gradient is not g-equivariant."""
    D = sp.Symbol("D", integer=True, positive=True)
    delta, Gp, grad = (sp.MatrixSymbol(n_, D, 1) for n_ in ("delta", "G'", "nablaL"))
    c = sp.Symbol("c", positive=True)
    gm = sp.MatrixSymbol("g", D, D) if orthogonal else c * sp.Identity(D)

    def orth(e):  # the hypothesis gᵀg = I
        e = sp.expand(e).doit()
        return e.subs(gm.T * gm, sp.Identity(D)) if orthogonal else e

    s1a = ((gm * delta).T * Gp - delta.T * (gm.T * Gp)).doit()
    s1b = orth(gm.T * (gm * grad)) - grad
    Uf, gact = sp.Function("U"), sp.Function("gact")
    th, st, nb = sp.symbols("theta s nabla")
    equivariant = {Uf(gact(th), gact(st), gact(nb)): gact(Uf(th, st, nb))}
    on_fixed = {gact(th): th, gact(st): st, gact(nb): nb}
    step = Uf(gact(th), gact(st), gact(nb))
    s3 = step.xreplace(equivariant) - gact(step.xreplace(on_fixed))  # gθ' − g·U(θ, s, ∇) with θ' = U(gθ, ...)
    return [LemmaStep("(S1a) ⟨G', gδ⟩ = ⟨gᵀG', δ⟩", sp.simplify(s1a)),
            LemmaStep("(S1b) gᵀ(g∇L) = ∇L, so ∇L(gθ) = g∇L(θ)", sp.simplify(s1b)),
            LemmaStep("(S3) θ ∈ Fix ⇒ U(θ, s, ∇) = U(gθ, gs, g∇) = gU(θ, s, ∇)", sp.simplify(s3))]
