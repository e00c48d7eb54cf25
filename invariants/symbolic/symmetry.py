"""SymPy proof that interchangeable hidden units stay interchangeable under training (SYM-CONST-01).

The network is fully symbolic: an MLP with sizes (n_0, n_1, ..., n_L) whose hidden layers apply an
**undefined** activation ``phi`` (``sympy.Function('phi')``) and whose output y (n_L,) feeds an
**undefined** loss ``ell(y_1, ..., y_{n_L}, t)`` with a target symbol ``t``.  Every weight, bias and
input is a free symbol, so an identity that simplifies to 0 holds for *every* activation, loss, input,
target and parameter value (with ``phi`` and ``ell`` differentiable).

For a hidden layer l and units j ≠ k, the swap σ exchanges rows j, k of W_l, entries j, k of b_l and
columns j, k of W_{l+1}.  The identities checked, for every hidden layer:

1. **invariance**: y(σθ) − y(θ) = 0 and L(σθ) − L(θ) = 0;
2. **gradient equivariance**: (∂L/∂p)(σθ) − (∂L/∂σ(p))(θ) = 0 for every parameter p, i.e.
   ∇L(σθ) = σ∇L(θ);
3. **equal gradients on the fixed set**: at a point fixed by σ (unit k's parameters set equal to unit
   j's), ∂L/∂p_j − ∂L/∂p_k = 0 for each of unit j's parameters p_j (incoming weights, bias, outgoing
   weights) and its counterpart p_k;
4. **one generic step stays on the fixed set**: with an undefined per-coordinate update
   ``U(p, c·g, s)`` (any optimizer whose update of a coordinate depends only on that coordinate's
   parameter p, gradient g and state s; c = ``clip(Σ g²)`` an undefined function of the global squared
   gradient norm, which models global-norm clipping), the stepped parameters of units j and k agree
   when θ is on the fixed set and the states agree.

Identity 3 follows from 2 (σθ = θ), and 4 from 3; they are checked separately so that each step of the
argument is machine-checked.  By induction over steps, a tie (equal rows, biases, outgoing columns and
optimizer states) survives any number of steps of such an optimizer (SGD, momentum, Nesterov, Adam,
AdamW, RMSprop, Adagrad, with L2 or decoupled weight decay and global-norm clipping).  A minibatch loss
is a sum of per-example losses of this form, and input dropout rescales x, a free symbol here, so
neither breaks the tie.  Hidden-unit dropout does: its mask multiplies unit j's output by m_j and σ
does not act on the mask.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

Params = dict[str, sp.Matrix]

phi = sp.Function("phi")
ell = sp.Function("ell")
update = sp.Function("U")
clip = sp.Function("clip")
t = sp.Symbol("t")


@dataclass(frozen=True)
class SymbolicNetwork:
    """A symbolic MLP: parameters W_l (n_l, n_{l-1}) and b_l (n_l, 1), input x (n_0, 1), output y
    (n_L, 1) and loss L = ell(y_1, ..., y_{n_L}, t)."""

    sizes: tuple[int, ...]
    params: Params
    x: sp.Matrix
    output: sp.Matrix
    loss: sp.Expr

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    def symbols(self) -> list[sp.Symbol]:
        """Every parameter symbol, in layer order (W1 row-major, b1, W2, ...)."""
        return [s for name in self.params for s in self.params[name]]


def build_network(sizes: tuple[int, ...]) -> SymbolicNetwork:
    """The symbolic MLP with these sizes; raises ``ValueError`` unless it has a hidden layer of
    width ≥ 2 (otherwise there is no pair of units to swap)."""
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) < 3 or any(n < 1 for n in sizes) or max(sizes[1:-1]) < 2:
        raise ValueError(f"need (n_in, hidden..., n_out) with a hidden layer of width >= 2, got {sizes}")
    params: Params = {}
    x = sp.Matrix(sp.symbols(f"x1:{sizes[0] + 1}"))
    h = x
    depth = len(sizes) - 1
    for l in range(1, depth + 1):
        W = sp.Matrix(sizes[l], sizes[l - 1], lambda i, k: sp.Symbol(f"W{l}_{i + 1}{k + 1}"))
        b = sp.Matrix(sp.symbols(f"b{l}_1:{sizes[l] + 1}"))
        params[f"W{l}"], params[f"b{l}"] = W, b
        z = W * h + b
        h = z.applyfunc(phi) if l < depth else z
    return SymbolicNetwork(sizes, params, x, h, ell(*h, t))


def unit_parameters(net: SymbolicNetwork, layer: int, j: int) -> list[sp.Symbol]:
    """Unit j of hidden layer ``layer``: its incoming row, its bias, its outgoing column (in order)."""
    W, b, W_next = net.params[f"W{layer}"], net.params[f"b{layer}"], net.params[f"W{layer + 1}"]
    return list(W.row(j)) + [b[j]] + list(W_next.col(j))


def swap(net: SymbolicNetwork, layer: int, j: int, k: int) -> dict[sp.Symbol, sp.Symbol]:
    """The swap σ of units j and k of ``layer`` as a substitution (apply with ``xreplace``: simultaneous)."""
    pj, pk = unit_parameters(net, layer, j), unit_parameters(net, layer, k)
    return {**dict(zip(pj, pk)), **dict(zip(pk, pj))}


def tie(net: SymbolicNetwork, layer: int, j: int, k: int) -> dict[sp.Symbol, sp.Symbol]:
    """Substitution putting θ on the fixed set of σ: unit k's parameters := unit j's."""
    return dict(zip(unit_parameters(net, layer, k), unit_parameters(net, layer, j)))


@dataclass(frozen=True)
class Identity:
    """One checked identity: ``difference`` is the simplified left-minus-right side (0 when it holds)."""

    kind: str  # "invariance" | "equivariance" | "equal-gradient" | "generic-step"
    layer: int
    what: str
    difference: sp.Expr

    @property
    def holds(self) -> bool:
        return self.difference == 0


@dataclass(frozen=True)
class SymmetryProof:
    """Every identity checked for ``sizes`` (units 0 and 1 of each hidden layer of width ≥ 2)."""

    sizes: tuple[int, ...]
    identities: tuple[Identity, ...]

    @property
    def holds(self) -> bool:
        return all(i.holds for i in self.identities)

    def failures(self) -> list[Identity]:
        return [i for i in self.identities if not i.holds]

    def counts(self) -> dict[str, int]:
        """Number of identities per kind."""
        out: dict[str, int] = {}
        for i in self.identities:
            out[i.kind] = out.get(i.kind, 0) + 1
        return out

    def summary(self) -> str:
        counts = ", ".join(f"{n} {kind}" for kind, n in self.counts().items())
        layers = sorted({i.layer for i in self.identities})
        ok = len(self.identities) - len(self.failures())
        return (f"sizes {self.sizes}, undefined phi and ell: {ok}/{len(self.identities)} identities "
                f"reduce to 0 ({counts}) for hidden layers {layers}")


def _name_derivatives(expr: sp.Expr) -> sp.Expr:
    """Rename every ``Subs(Derivative(f(..., ξ, ...), ξ), ξ, a)`` (SymPy's form for the derivative of an
    undefined function f in its k-th slot, evaluated at a) to an undefined function ``D<k>_f(..., a, ...)``.

    The rewrite is one-to-one, so it neither creates nor hides an identity; it only keeps later
    substitutions fast (SymPy substitutes into ``Subs`` objects very slowly).  Raises ``ValueError`` on a
    derivative it does not recognise (higher order or of a composite expression).
    """

    def rename(s: sp.Subs) -> sp.Expr:
        d = s.expr
        if not (isinstance(d, sp.Derivative) and isinstance(d.expr, sp.core.function.AppliedUndef)
                and len(d.variable_count) == 1 and d.variable_count[0][1] == 1 and len(s.variables) == 1):
            raise ValueError(f"unexpected derivative form {s}")
        (v,), (a,) = s.variables, s.point
        args = d.expr.args
        k = args.index(v) + 1
        return sp.Function(f"D{k}_{d.expr.func}")(*(a if arg == v else arg for arg in args))

    return expr.replace(lambda e: isinstance(e, sp.Subs), rename)


def _zero(expr: sp.Expr, thorough: bool) -> sp.Expr:
    """``expr`` reduced to 0 when it is identically 0.

    ``expand`` (deep: it also expands inside phi(...) and ell(...)) first; every identity of this module
    already reduces to 0 there.  When it does not and ``thorough`` is set, ``simplify`` gets a second
    try (slow: seconds per expression).  Either way a returned 0 proves the identity.
    """
    expr = sp.expand(expr)
    return expr if expr == 0 or not thorough else sp.simplify(expr)


def gradients(net: SymbolicNetwork) -> dict[sp.Symbol, sp.Expr]:
    """∂L/∂p for every parameter symbol p (SymPy differentiation, derivatives of phi/ell renamed)."""
    return {p: _name_derivatives(sp.diff(net.loss, p)) for p in net.symbols()}


def swap_identities(net: SymbolicNetwork, grad: dict[sp.Symbol, sp.Expr], layer: int,
                    sw: dict[sp.Symbol, sp.Symbol], tied: dict[sp.Symbol, sp.Symbol],
                    pairs: list[tuple[sp.Symbol, sp.Symbol]], thorough: bool = True) -> list[Identity]:
    """Identities 1–4 for one hidden layer, for a given swap ``sw``, fixed-set substitution ``tied``
    and the matched parameter ``pairs`` (p_j, p_k) of the two units.  Exposed so that tests can feed a
    wrong swap or tie and watch the identities fail (pass ``thorough=False`` there: it skips the slow
    ``simplify`` retry of the expressions that do not expand to 0)."""
    out: list[Identity] = []
    for i in range(net.sizes[-1]):
        diff = net.output[i].xreplace(sw) - net.output[i]
        out.append(Identity("invariance", layer, f"y_{i + 1}(σθ) = y_{i + 1}(θ)", _zero(diff, thorough)))
    out.append(Identity("invariance", layer, "L(σθ) = L(θ)", _zero(net.loss.xreplace(sw) - net.loss, thorough)))
    for p in net.symbols():
        diff = grad[p].xreplace(sw) - grad[sw.get(p, p)]
        out.append(Identity("equivariance", layer, f"∂L/∂{p}(σθ) = ∂L/∂{sw.get(p, p)}(θ)", _zero(diff, thorough)))
    for pj, pk in pairs:
        diff = (grad[pj] - grad[pk]).xreplace(tied)
        out.append(Identity("equal-gradient", layer, f"∂L/∂{pj} = ∂L/∂{pk} on the fixed set", _zero(diff, thorough)))
    # one step of a generic per-coordinate optimizer with global-norm clipping, states tied like θ
    c = clip(sum(g ** 2 for g in grad.values()))
    state = {p: sp.Symbol(f"s_{p}") for p in net.symbols()}
    state_tie = {state[pk]: state[pj] for pj, pk in pairs}
    for pj, pk in pairs:
        diff = update(pj, c * grad[pj], state[pj]) - update(pk, c * grad[pk], state[pk])
        out.append(Identity("generic-step", layer, f"U({pj}, c·g, s) = U({pk}, c·g, s) after one step",
                            _zero(diff.xreplace({**tied, **state_tie}), thorough)))
    return out


def prove_unit_swap_symmetry(sizes: tuple[int, ...] = (2, 2, 2, 1)) -> SymmetryProof:
    """Check identities 1–4 of the module docstring for units 0 and 1 of every hidden layer of width
    ≥ 2 of the MLP with these ``sizes``; raises ``ValueError`` as :func:`build_network` does.
    (2, 2, 2, 1) takes about 0.2 s; cost grows quickly with the sizes."""
    net = build_network(sizes)
    grad = gradients(net)
    out: list[Identity] = []
    for l in range(1, net.depth):
        if net.sizes[l] >= 2:
            pairs = list(zip(unit_parameters(net, l, 0), unit_parameters(net, l, 1)))
            out += swap_identities(net, grad, l, swap(net, l, 0, 1), tie(net, l, 0, 1), pairs)
    return SymmetryProof(tuple(net.sizes), tuple(out))
