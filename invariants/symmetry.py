"""Symmetry primitives: interchangeable hidden units, symmetry defect, stabilizer order.

Hidden unit j of layer l is described by its *signature*: its incoming row W_l[j, :], its bias b_l[j],
its normalization scale and shift g_l[j], s_l[j] (networks with ``norm`` set) and its outgoing column
W_{l+1}[:, j].  Two units are **interchangeable** (swapping them, with every
other unit fixed, leaves the parameters and hence the function, the loss and the whole training
trajectory unchanged) **only if all three agree** — equal incoming weights alone are not enough: units
with identical rows but different outgoing columns (or biases) receive different gradients and drift
apart.  Signatures are compared bit for bit (``-0.0`` and ``+0.0`` differ), the equality the exact
reference kernel preserves.

The **stabilizer** of θ in the group of single-layer hidden-unit permutations has order
∏_l ∏_{classes c of layer l} |c|!.  Permutations of two adjacent layers applied together can fix θ
when neither does alone, so the stabilizer in the full product group S_{n_1} × … × S_{n_{L-1}} can be
larger; :func:`stabilizer_order` reports the single-layer one, a lower bound, and says so.

The **symmetry defect** of a later state θ' relative to classes found at an earlier state is
max over classes and members of ‖sig_j(θ') − sig_rep(θ')‖_∞: exactly 0 while the classes stay tied.

A network whose hidden layers are each a single class (the **symmetric subspace**, where a constant
initialization starts and stays) computes what its **width-1 twin** computes: :class:`WidthOneTwin`
builds it (:func:`collapse_to_width_one`, :func:`width_one_scales`) and trains it step for step,
bitwise equal to the wide network for hidden widths 1, 2 and 4.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from invariants.reference.network import Architecture, Params

Classes = list[tuple[int, ...]]


def unit_signatures(arch: Architecture, params: Params, layer: int) -> np.ndarray:
    """Array (n_l, n_{l-1} + [1] + [2] + n_{l+1}): row j is unit j's incoming row, bias (if any), norm
    scale and shift (if any), outgoing column."""
    if layer not in arch.hidden_layers:
        raise ValueError(f"layer {layer} is not a hidden layer (hidden layers: {list(arch.hidden_layers)})")
    parts = [params[f"W{layer}"]]
    for name in (f"b{layer}", f"g{layer}", f"s{layer}"):
        if name in params:
            parts.append(params[name][:, None])
    parts.append(params[f"W{layer + 1}"].T)
    return np.concatenate(parts, axis=1)


def unit_classes(arch: Architecture, params: Params, layer: int) -> Classes:
    """Partition of layer ``layer``'s units into classes of bitwise-identical signatures.

    Returns tuples of unit indices, each sorted, ordered by their first member.
    """
    sig = np.ascontiguousarray(unit_signatures(arch, params, layer))
    groups: dict[bytes, list[int]] = defaultdict(list)
    for j, row in enumerate(sig):
        groups[row.tobytes()].append(j)
    return sorted(tuple(g) for g in groups.values())


def all_classes(arch: Architecture, params: Params) -> dict[int, Classes]:
    """Layer index → unit classes, for every hidden layer."""
    return {l: unit_classes(arch, params, l) for l in arch.hidden_layers}


def symmetric_classes(classes: dict[int, Classes]) -> dict[int, Classes]:
    """Only the classes with more than one member (the ties), per layer."""
    return {l: [c for c in cs if len(c) > 1] for l, cs in classes.items()}


def is_symmetric(arch: Architecture, params: Params) -> bool:
    """True when some hidden layer has two interchangeable units."""
    return any(symmetric_classes(all_classes(arch, params)).values())


def symmetry_defect(arch: Architecture, params: Params, classes: dict[int, Classes]) -> float:
    """Largest |difference| (parameter units) between members of a class, over all given classes.

    ``classes`` usually comes from :func:`all_classes` at initialization; 0.0 means every class that
    started tied is still tied bit for bit (up to ±0).
    """
    worst = 0.0
    for layer, cs in classes.items():
        sig = unit_signatures(arch, params, layer).astype(np.float64)
        for c in cs:
            if len(c) > 1:
                worst = max(worst, float(np.max(np.abs(sig[list(c)] - sig[c[0]]))))
    return worst


def stabilizer_order(classes: dict[int, Classes]) -> int:
    """∏ over layers and classes of |class|! — the order of the stabilizer within single-layer
    unit permutations (a lower bound on the stabilizer in the full product of layer permutation
    groups, see the module docstring).  1 means no two units of any layer are interchangeable."""
    return math.prod(math.factorial(len(c)) for cs in classes.values() for c in cs)


def hidden_tied(arch: Architecture, params: Params) -> bool:
    """The symmetry oracle: every hidden layer is a single class of bitwise-identical units (the
    symmetric subspace a constant initialization starts in)."""
    return all(len(cs) == 1 for cs in all_classes(arch, params).values())


def n_distinct_units(arch: Architecture, params: Params) -> dict[int, int]:
    """Hidden layer → number of unit classes (1 = all units tied, n_l = all distinct)."""
    return {l: len(cs) for l, cs in all_classes(arch, params).items()}


# ---- the width-1 twin of a symmetric network -----------------------------------------------------------


def width_one_architecture(arch: Architecture) -> Architecture:
    """``arch`` with every hidden layer of width 1 (sizes (n_0, 1, ..., 1, n_L)); raises ``ValueError``
    for a network with a norm (layer norm of one unit is degenerate) or with dropout."""
    if arch.norm is not None or arch.input_dropout or arch.hidden_dropout:
        raise ValueError("the width-1 twin is defined for networks without norm and dropout")
    sizes = (arch.sizes[0], *([1] * (arch.depth - 1)), arch.sizes[-1])
    return Architecture(**{**arch.__dict__, "sizes": sizes})


def width_one_scales(arch: Architecture) -> dict[str, tuple[int, int]]:
    """Per tensor, (n, m): the width-1 parameter is n × the tied value, the width-1 gradient m × the tied
    per-entry gradient (n = n_{l-1} for W_l, l ≥ 2, else 1; m = n_l for hidden layers, 1 for the
    output layer).  Derived and proved in :func:`invariants.symbolic.symmetry.width_one_scales`."""
    out = {}
    for l in range(1, arch.depth + 1):
        m = arch.sizes[l] if l < arch.depth else 1
        out[f"W{l}"] = (arch.sizes[l - 1] if l >= 2 else 1, m)
        if arch.bias:
            out[f"b{l}"] = (1, m)
    return out


def collapse_to_width_one(arch: Architecture, params: Params) -> Params:
    """The width-1 twin's parameters of a network in the symmetric subspace: unit 0 of every hidden
    layer, with W_l (l ≥ 2) multiplied by n_{l-1} (one weight for the n_{l-1} equal inputs it
    replaces).  Raises ``ValueError`` unless :func:`hidden_tied`.  The product is exact (bitwise)
    when n_{l-1} is a power of two."""
    if not hidden_tied(arch, params):
        raise ValueError("the network is not in the symmetric subspace (some hidden layer has distinct units)")
    scales = width_one_scales(arch)
    out: Params = {}
    for name, value in params.items():
        l = int(name[1:])
        n = scales[name][0]
        if name.startswith("W"):
            rows = slice(None) if l == arch.depth else slice(0, 1)
            cols = slice(None) if l == 1 else slice(0, 1)
            out[name] = value[rows, cols] * value.dtype.type(n)
        else:
            out[name] = value if l == arch.depth else value[:1].copy()
    return out


class WidthOneTwin:
    """The width-1 network that a symmetric network's training reduces to, with its optimizer.

    Gradient descent in the symmetric subspace of ``arch`` is gradient descent on the width-1 network
    with per-tensor learning rate lr·n/m (:func:`width_one_scales`).  The twin realizes that for every
    optimizer by feeding each tensor's own optimizer (learning rate lr·n, L2 / decoupled weight decay
    λ/n) the width-1 gradient divided by m — the tied network's per-entry gradient — so that, when every
    n and m is a power of two and every hidden width is at most 2, each step of the twin equals n × the
    tied network's step bit for bit (scaling by 2^k commutes with rounding; a sum of two equal terms is
    exact).  Wider layers sum n equal terms one by one, which rounds differently from n·term: then the
    two trajectories agree in exact arithmetic only.

    Raises ``ValueError`` for global-norm clipping (the twin's gradient norm is not the wide one's).
    """

    def __init__(self, arch: Architecture, params: Params, optimizer: str, **opt_kwargs) -> None:
        from invariants.reference.optimizers import make_optimizer

        if opt_kwargs.get("clip_norm") is not None:
            raise ValueError("global-norm clipping has no width-1 twin")
        self.arch = width_one_architecture(arch)
        self.params = collapse_to_width_one(arch, params)
        self.scales = width_one_scales(arch)
        lr, wd = opt_kwargs.pop("lr", 0.1), opt_kwargs.pop("weight_decay", 0.0)
        self.optimizers = {
            name: make_optimizer(optimizer, lr=lr * n, weight_decay=wd / n, **opt_kwargs)
            for name, (n, _) in self.scales.items()
        }

    def step(self, x: np.ndarray, t: np.ndarray) -> float:
        """One step on the batch (x, t); returns the loss before the step."""
        from invariants.reference.network import loss_and_grad

        loss, grads = loss_and_grad(self.arch, self.params, x, t)
        new = {}
        for name, value in self.params.items():
            m = self.scales[name][1]
            g = grads[name] / value.dtype.type(m)
            new[name] = self.optimizers[name].step({name: value}, {name: g})[name]
        self.params = new
        return loss


def random_symmetric_params(arch: Architecture, rng: np.random.Generator) -> Params:
    """A random point of the symmetric subspace (every hidden layer one class): W_1 one random row
    repeated, hidden-to-hidden W_l one random value, each row of W_L one random value, hidden biases
    one random value per layer, output biases random; all N(0, 1) from ``rng``, cast to ``arch.dtype``.
    Norm scales and shifts (if any) are 1 and 0."""
    from invariants.reference.network import init_params

    def weight(name, shape):
        l, (n, m) = int(name[1:]), shape
        if l == 1:
            return np.tile(rng.normal(size=m), (n, 1))
        if l < arch.depth:
            return np.full(shape, rng.normal())
        return np.repeat(rng.normal(size=(n, 1)), m, axis=1)

    def bias(name, shape):
        return rng.normal(size=shape) if int(name[1:]) == arch.depth else np.full(shape, rng.normal())

    return init_params(arch, weight, bias)
