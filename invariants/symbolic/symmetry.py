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

Beyond the plain MLP, the module checks

- every **layer position** (:func:`prove_layer_positions`): first, middle and last hidden layers;
- **normalization** (:func:`prove_normalized`): layer norm and batch norm (over a batch of two
  examples), with the swap moving each unit's scale g and shift s along with it;
- the **width-1 equivalence** (:func:`prove_width_one_equivalence`): on the symmetric subspace the
  network computes exactly what the network of width 1 per hidden layer computes, and its gradients are
  the width-1 gradients divided by the number of tied units;
- the **breakers** (:func:`breakers`): per-unit dropout masks, DropConnect, per-parameter noise, a
  per-unit learning rate and an incomplete tie leave tied units with different gradients or updates
  (a nonzero expression, with a concrete numerical witness), while their uniform counterparts (input
  dropout, input augmentation, one learning rate) leave the difference exactly 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

Params = dict[str, sp.Matrix]


def _named_derivative(self: sp.Function, argindex: int = 1) -> sp.Expr:
    """∂f/∂(slot k) of an undefined function f, as the undefined function ``D<k>_f`` of the same arguments:
    the name :func:`_name_derivatives` gives SymPy's ``Subs(Derivative(f(..., ξ, ...), ξ), ξ, a)``.
    Why: SymPy builds (and later substitutes into) a ``Subs`` for every derivative of f at a composite
    argument; naming it at once makes ``sp.diff`` of a network's loss 2-4× cheaper, the same expressions
    (``srepr`` equal)."""
    return sp.Function(f"D{argindex}_{self.func}")(*self.args)


#: undefined activation and loss; ``fdiff`` only names their derivatives (:func:`_named_derivative`)
phi = sp.Function("phi", fdiff=_named_derivative)
ell = sp.Function("ell", fdiff=_named_derivative)
update = sp.Function("U")
clip = sp.Function("clip")
t = sp.Symbol("t")


@dataclass(frozen=True)
class SymbolicNetwork:
    """A symbolic MLP: parameters W_l (n_l, n_{l-1}), b_l (n_l, 1) and, with a norm, per-unit scale
    g_l and shift s_l (n_l, 1) for hidden layers; inputs x (n_0, B), outputs y (n_L, B) and loss
    L = Σ_b ell(y_{1b}, ..., y_{n_L b}, t_b) (B = 1: ell(y_1, ..., y_{n_L}, t))."""

    sizes: tuple[int, ...]
    params: Params
    x: sp.Matrix
    output: sp.Matrix
    loss: sp.Expr
    norm: str | None = None

    @property
    def depth(self) -> int:
        return len(self.sizes) - 1

    def symbols(self) -> list[sp.Symbol]:
        """Every parameter symbol, in layer order (W1 row-major, b1, [g1, s1,] W2, ...)."""
        return [s for name in self.params for s in self.params[name]]


#: ε of the symbolic normalizations: a positive symbol, so no identity depends on its value.
eps = sp.Symbol("epsilon", positive=True)


def normalize(z: sp.Matrix, g: sp.Matrix, s: sp.Matrix, norm: str) -> sp.Matrix:
    """g ⊙ (z − μ)/√(σ² + ε) + s for z (n, B): statistics over units (``layer``, per column) or over
    the batch (``batch``, per row), biased variance, as :mod:`invariants.reference.norms`."""
    n, B = z.shape
    out = sp.zeros(n, B)
    for j in range(n):
        for b in range(B):
            group = [z[i, b] for i in range(n)] if norm == "layer" else [z[j, c] for c in range(B)]
            mu = sp.Add(*group) / len(group)
            var = sp.Add(*[(v - mu) ** 2 for v in group]) / len(group)
            out[j, b] = g[j] * (z[j, b] - mu) / sp.sqrt(var + eps) + s[j]
    return out


def build_network(sizes: tuple[int, ...], norm: str | None = None, batch: int = 1) -> SymbolicNetwork:
    """The symbolic MLP with these sizes; ``norm`` is None, ``"layer"`` or ``"batch"`` (applied to
    every hidden pre-activation) and ``batch`` the number of examples (batch norm needs ≥ 2).  Raises
    ``ValueError`` unless it has a hidden layer of width ≥ 2 (otherwise there is no pair of units to
    swap), for an unknown norm, or for batch norm with ``batch < 2``."""
    sizes = tuple(int(n) for n in sizes)
    if len(sizes) < 3 or any(n < 1 for n in sizes) or max(sizes[1:-1]) < 2:
        raise ValueError(f"need (n_in, hidden..., n_out) with a hidden layer of width >= 2, got {sizes}")
    if norm not in (None, "layer", "batch"):
        raise ValueError(f"unknown norm {norm!r}; expected None, 'layer' or 'batch'")
    if batch < 1 or (norm == "batch" and batch < 2):
        raise ValueError(f"batch must be >= 1 (>= 2 for batch norm), got {batch}")
    return build_network_unchecked(sizes, norm, batch)


def unit_parameters(net: SymbolicNetwork, layer: int, j: int) -> list[sp.Symbol]:
    """Unit j of hidden layer ``layer``: its incoming row, its bias, [its norm scale and shift,] its
    outgoing column (in order)."""
    W, b, W_next = net.params[f"W{layer}"], net.params[f"b{layer}"], net.params[f"W{layer + 1}"]
    norm = [net.params[f"g{layer}"][j], net.params[f"s{layer}"][j]] if f"g{layer}" in net.params else []
    return list(W.row(j)) + [b[j]] + norm + list(W_next.col(j))


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
class Identities:
    """The identities checked for a network of layer ``sizes``; the set holds when every one does."""

    sizes: tuple[int, ...]
    identities: tuple[Identity, ...]

    @property
    def holds(self) -> bool:
        return all(i.holds for i in self.identities)

    def failures(self) -> list[Identity]:
        return [i for i in self.identities if not i.holds]


@dataclass(frozen=True)
class SymmetryProof(Identities):
    """Every identity checked for ``sizes`` (units 0 and 1 of each hidden layer of width ≥ 2)."""

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

    if not expr.has(sp.Subs):  # phi and ell name their derivatives themselves (_named_derivative)
        return expr
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
    for i, y in enumerate(net.output):
        diff = y.xreplace(sw) - y
        out.append(Identity("invariance", layer, f"y[{i}](σθ) = y[{i}](θ)", _zero(diff, thorough)))
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


# ---- every layer position, and normalization layers ----------------------------------------------------

#: Networks whose hidden layers together take every position: (2, 2, 2, 1) has a first hidden layer
#: (inputs are data) and a last one (outputs feed the output layer); (1, 2, 2, 2, 1) adds a middle
#: layer (hidden on both sides).
POSITION_SIZES: tuple[tuple[int, ...], ...] = ((2, 2, 2, 1), (1, 2, 2, 2, 1))

#: (sizes, norm, batch) for the normalization proofs: layer norm reduces over the units a swap
#: reorders, batch norm over a batch of 2 examples (one hidden layer keeps SymPy under a second each).
NORM_CASES: tuple[tuple[tuple[int, ...], str, int], ...] = (((2, 2, 1), "layer", 1), ((1, 2, 1), "batch", 2))


def prove_for_network(net: SymbolicNetwork, thorough: bool = True) -> SymmetryProof:
    """Identities 1–4 for units 0 and 1 of every hidden layer of width ≥ 2 of ``net`` (any norm/batch)."""
    grad = gradients(net)
    out: list[Identity] = []
    for l in range(1, net.depth):
        if net.sizes[l] >= 2:
            pairs = list(zip(unit_parameters(net, l, 0), unit_parameters(net, l, 1)))
            out += swap_identities(net, grad, l, swap(net, l, 0, 1), tie(net, l, 0, 1), pairs, thorough)
    return SymmetryProof(tuple(net.sizes), tuple(out))


def prove_layer_positions() -> list[SymmetryProof]:
    """:func:`prove_unit_swap_symmetry` for each of :data:`POSITION_SIZES` (about 0.6 s together)."""
    return [prove_unit_swap_symmetry(sizes) for sizes in POSITION_SIZES]


def prove_normalized() -> list[tuple[str, SymmetryProof]]:
    """Identities 1–4 with layer norm and with batch norm (:data:`NORM_CASES`; about 1 s): the
    normalization statistics are symmetric functions of the units (layer) or act on each unit alone
    (batch), so a swap of whole units — including their scale g and shift s — is still a symmetry."""
    return [(norm, prove_for_network(build_network(sizes, norm, batch), thorough=False))
            for sizes, norm, batch in NORM_CASES]


# ---- a symmetric network is a width-1 network -----------------------------------------------------------


@dataclass(frozen=True)
class WidthOneEquivalence(Identities):
    """The identities of :func:`prove_width_one_equivalence`: ``function`` (outputs and loss) and
    ``gradient`` (one per parameter of the wide network) differences, each 0 when it holds."""


def width_one_scales(sizes: tuple[int, ...]) -> dict[str, tuple[int, int]]:
    """Per parameter tensor of the wide network, ``(value scale, gradient scale)`` = (n, m):

    the width-1 parameter equals n × the tied value (n = n_{l-1} for W_l with l ≥ 2: one width-1
    weight stands for the n_{l-1} equal inputs it replaces; n = 1 for W_1 and every bias), and the
    width-1 gradient equals m × the tied per-entry gradient (m = n_l, the number of tied units that
    share the entry's effect, for layers l < L; m = 1 for the output layer).
    """
    L = len(sizes) - 1
    out = {}
    for l in range(1, L + 1):
        m = sizes[l] if l < L else 1
        out[f"W{l}"] = (sizes[l - 1] if l >= 2 else 1, m)
        out[f"b{l}"] = (1, m)
    return out


def prove_width_one_equivalence(sizes: tuple[int, ...] = (2, 3, 3, 2),
                                scales: dict[str, tuple[int, int]] | None = None) -> WidthOneEquivalence:
    """Prove, with undefined phi and ell, that the network with these ``sizes`` restricted to its
    symmetric subspace (every hidden layer one class: rows of W_1 equal, hidden-to-hidden W_l
    constant, each row of W_L constant, biases constant per hidden layer) computes the same outputs
    and loss as the width-1 network (n_0, 1, ..., 1, n_L) with parameters scaled by
    :func:`width_one_scales`, and that every per-entry gradient of the wide network is the width-1
    gradient divided by the gradient scale m.  Hence gradient descent in the subspace *is* gradient
    descent on the width-1 network with per-tensor learning rates lr·n/m (see
    :class:`invariants.symmetry.WidthOneTwin` for the optimizer mapping).  ``scales`` overrides
    :func:`width_one_scales` (for negative controls).  About 0.8 s for (2, 3, 3, 2)."""
    wide = build_network(sizes)
    narrow_sizes = (sizes[0], *([1] * (len(sizes) - 2)), sizes[-1])
    L = len(sizes) - 1
    # tie every unit of every hidden layer to unit 0 (the representative shares unit 0's symbols,
    # which are also the width-1 network's symbols: W1_1k, b_l_1, W_l_11, W_L_i1)
    tied: dict[sp.Symbol, sp.Symbol] = {}
    for l in range(1, L + 1):
        W, b = wide.params[f"W{l}"], wide.params[f"b{l}"]
        for i in range(W.rows):
            for k in range(W.cols):
                ri = i if l == L else 0
                rk = k if l == 1 else 0
                tied[W[i, k]] = W[ri, rk]
        if l < L:
            for i in range(b.rows):
                tied[b[i]] = b[0]
    narrow = build_network_unchecked(narrow_sizes)
    scales = width_one_scales(sizes) if scales is None else scales
    scale_up = {}
    for name, (n, _) in scales.items():
        if n != 1:
            for p in narrow.params[name]:
                scale_up[p] = n * p
    out: list[Identity] = []
    for i, (yw, yn) in enumerate(zip(wide.output, narrow.output)):
        diff = yw.xreplace(tied) - yn.xreplace(scale_up)
        out.append(Identity("function", 0, f"y_{i + 1} wide = width-1", _zero(diff, False)))
    out.append(Identity("function", 0, "L wide = width-1",
                        _zero(wide.loss.xreplace(tied) - narrow.loss.xreplace(scale_up), False)))
    g_wide, g_narrow = gradients(wide), gradients(narrow)
    for name, tensor in wide.params.items():
        _, m = scales[name]
        for p in tensor:
            rep = tied.get(p, p)
            diff = m * g_wide[p].xreplace(tied) - g_narrow[rep].xreplace(scale_up)
            out.append(Identity("gradient", int(name[1:]), f"{m}·∂L/∂{p} = ∂L₁/∂{rep}", _zero(diff, False)))
    return WidthOneEquivalence(tuple(sizes), tuple(out))


def build_network_unchecked(sizes: tuple[int, ...], norm: str | None = None, batch: int = 1) -> SymbolicNetwork:
    """:func:`build_network` without its checks: also width-1 networks (no hidden layer of width ≥ 2)."""
    sizes = tuple(int(n) for n in sizes)
    params: Params = {}
    if batch == 1:
        x = sp.Matrix(sp.symbols(f"x1:{sizes[0] + 1}"))
        targets = [t]
    else:
        x = sp.Matrix(sizes[0], batch, lambda k, b: sp.Symbol(f"x{b + 1}_{k + 1}"))
        targets = list(sp.symbols(f"t1:{batch + 1}"))
    h = x
    depth = len(sizes) - 1
    for l in range(1, depth + 1):
        W = sp.Matrix(sizes[l], sizes[l - 1], lambda i, k: sp.Symbol(f"W{l}_{i + 1}{k + 1}"))
        b = sp.Matrix(sp.symbols(f"b{l}_1:{sizes[l] + 1}"))
        params[f"W{l}"], params[f"b{l}"] = W, b
        z = W * h + b * sp.ones(1, batch)
        if l < depth and norm is not None:
            g, s = sp.Matrix(sp.symbols(f"g{l}_1:{sizes[l] + 1}")), sp.Matrix(sp.symbols(f"s{l}_1:{sizes[l] + 1}"))
            params[f"g{l}"], params[f"s{l}"] = g, s
            z = normalize(z, g, s, norm)
        h = z.applyfunc(phi) if l < depth else z
    loss = sp.Add(*[ell(*h[:, b], targets[b]) for b in range(batch)])
    return SymbolicNetwork(sizes, params, x, h, loss, norm)


# ---- what breaks the tie ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Breaker:
    """An operation applied at a tied point of the (2, 2, 1) network, and the difference between the
    two tied units it leaves (gradient or updated value).  ``difference`` is the expanded expression;
    ``witness`` its value with phi = tanh, ell = squared error and fixed rational values for every
    symbol (a nonzero witness proves the difference is not identically 0)."""

    name: str
    per_unit: bool  # True: the operation treats the two units differently (expected to break the tie)
    difference: sp.Expr
    witness: float

    @property
    def breaks(self) -> bool:
        return self.difference != 0 and self.witness != 0.0


def witness(expr: sp.Expr) -> float:
    """``expr`` at phi = tanh, ell(y_1..y_n, t) = Σ (y_i − t)², and symbol k (sorted by name) = (k + 2)/(k + 7):
    a concrete differentiable activation and loss where the identity, if it were one, would also hold."""

    def concrete(e):
        name = e.func.__name__
        if name == "phi":
            return sp.tanh(e.args[0])
        if name == "D1_phi":
            return 1 - sp.tanh(e.args[0]) ** 2
        if name == "ell":
            return sp.Add(*[(y - e.args[-1]) ** 2 for y in e.args[:-1]])
        if name.startswith("D") and name.endswith("_ell"):
            k = int(name[1:name.index("_")])
            return 2 * (e.args[k - 1] - e.args[-1])
        return e

    expr = expr.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef), concrete)
    values = {s: sp.Rational(k + 2, k + 7) for k, s in enumerate(sorted(expr.free_symbols, key=str))}
    return float(sp.N(expr.xreplace(values), 30))


def breakers(shared_draws: bool = False) -> list[Breaker]:
    """Operations that act on the two hidden units of a tied (2, 2, 1) network differently — a
    per-unit dropout mask, DropConnect masks on the incoming weights, per-parameter gradient noise, a
    per-unit learning rate, a tie of rows and biases without the outgoing columns — and their uniform
    counterparts (one mask on the inputs, i.e. input dropout or a data augmentation; one learning
    rate; noise added to the input).  Per-unit operations leave the units' gradients or updates
    different (``breaks``); uniform ones leave the difference exactly 0.  ``shared_draws`` (for the
    mutation self-tests) gives both units the same mask, noise and learning rate."""
    net = build_network((2, 2, 1))
    W1, b1, W2 = net.params["W1"], net.params["b1"], net.params["W2"]
    tied = tie(net, 1, 0, 1)
    pj, pk = W1[0, 0], W1[1, 0]  # the same incoming weight of units 0 and 1

    def grad_gap(loss, at=tied) -> sp.Expr:
        gj = _name_derivatives(sp.diff(loss, pj))
        gk = _name_derivatives(sp.diff(loss, pk))
        return sp.expand((gj - gk).xreplace(at))

    m1, m2, r1, r2, M1, M2, xi1, xi2, eta1, eta2, eta, nx = sp.symbols(
        "m1 m2 r1 r2 M11 M21 xi1 xi2 eta1 eta2 eta nu")  # masks, noises, learning rates
    if shared_draws:  # the mutation self-test: one draw shared by both units leaves no gap
        m2, M2, xi2, eta2 = m1, M1, xi1, eta1
    x1, x2 = net.x
    g = _name_derivatives(sp.diff(net.loss, pj)).xreplace(tied)
    cases = [
        ("hidden-unit dropout (mask m_j on unit j's output)", True,
         grad_gap(net.loss.xreplace({W2[0, 0]: m1 * W2[0, 0], W2[0, 1]: m2 * W2[0, 1]}))),
        ("DropConnect (mask on each incoming weight)", True,
         grad_gap(net.loss.xreplace({W1[0, 0]: M1 * W1[0, 0], W1[1, 0]: M2 * W1[1, 0]}))),
        ("per-parameter gradient noise", True, sp.expand((pj - eta * (g + xi1)) - (pj - eta * (g + xi2)))),
        ("per-unit learning rate", True, sp.expand((pj - eta1 * g) - (pj - eta2 * g))),
        ("tie of rows and biases only (outgoing columns free)", True,
         grad_gap(net.loss, {W1[1, 0]: W1[0, 0], W1[1, 1]: W1[0, 1], b1[1]: b1[0]})),
        ("input dropout / multiplicative augmentation (mask on the inputs)", False,
         grad_gap(net.loss.xreplace({x1: r1 * x1, x2: r2 * x2}))),
        ("additive input noise / augmentation", False, grad_gap(net.loss.xreplace({x1: x1 + nx}))),
        ("one learning rate and shared noise for all parameters", False,
         sp.expand((pj - eta * (g + xi1)) - (pk.xreplace(tied) - eta * (g + xi1)))),
    ]
    return [Breaker(name, per_unit, diff, 0.0 if diff == 0 else witness(diff)) for name, per_unit, diff in cases]
