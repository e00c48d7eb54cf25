"""Flax linen models: ``(module, variables)`` -> :class:`~invariants.frameworks.model.ModelView`.

The target gives the module and its variables (``module.init(key, x)``; a bare ``params`` tree is
accepted too), optionally with an example input: ``(module, variables)``, ``(module, variables, x)`` or
``{"module": ..., "variables"|"params": ..., "input": x, "apply_kwargs": {...}}``.

Parameters are the leaves of ``variables["params"]``, named by path (``"params/Dense_0/kernel"``); the
leaf name gives the role (``kernel``: weight, ``embedding``: embedding, ``bias``, ``scale``: norm scale,
a ``bias`` next to a ``scale``: norm shift).  Layer semantics come from the module that owns each
kernel, observed during the probe with :func:`flax.linen.intercept_methods`: ``Dense`` (dense ``(in,
out)``), ``DenseGeneral`` (a multi-axis kernel, :func:`dense_general_kernel`; ``MultiHeadDotProductAttention``'s
projections), ``Conv`` (``(*k, C_in/G, C_out)``, ``G = feature_group_count``), ``ConvTranspose``
(``(*k, C_in, C_out)``; ``(*k, C_out, C_in)`` with ``transpose_kernel=True``), ``Embed`` (``(V, D)``).
Without a probe they are guessed from the kernel's rank (2: dense; more: an ungrouped conv).  Flax
activations are plain functions, invisible to the extractor: revival of dead units is judged from the
probe's gradients alone.

**Probe.** The same interceptor returns ``z + ε`` from each node's ``__call__`` (first call), and
``jax.grad`` with respect to ``ε`` gives ``∂L/∂z``; it also passes the node's first input as ``x + ε_x``
(moments of ``x`` and ``∂L/∂x`` only, :mod:`invariants.frameworks.jax.probe`).  ``module.apply`` runs with ``rngs={"dropout": key}``,
every non-``params`` collection mutable (updates discarded) and the target's ``apply_kwargs``; a ``BatchNorm`` on
batch statistics (``use_running_average=False``, set on the module or passed by the model from ``apply_kwargs``)
and every ``GroupNorm``/``InstanceNorm`` is recorded with its values per statistic
(:mod:`invariants.frameworks.flax.batchstats`).
Probe input: the given one, else from the first kernel in the tree (dense: ``(B, in)``; conv:
``(B, 16, 16, C)``; embedding: token ids ``(B, 8)``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

import flax.linen as nn
import jax
import jax.numpy as jnp

from invariants.layers import JAX, KERAS, Conv, ConvTranspose, Dense, Depthwise, Embedding, Kernel, Layer, Layout
from invariants.frameworks.flax.batchstats import NORMS, norm_stat
from invariants.frameworks.jax.probe import new_state, perturbed_pass, record, record_input
from invariants.frameworks.model import BatchStat, ModelView, Node, Param, Probe, Signal, units_last, varies

_NODE_TYPES = (nn.Dense, nn.DenseGeneral, nn.Conv, nn.ConvTranspose, nn.Embed)
#: the modules the probe's interceptor reads: the nodes and the normalizations whose counts it records
_WATCHED = _NODE_TYPES + NORMS


def _axes_tuple(v: Any) -> tuple[int, ...]:
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v),)


def dense_general_kernel(module: Any, shape: tuple[int, ...]) -> tuple[Kernel, bool] | None:
    """The :class:`~invariants.layers.Kernel` of a ``DenseGeneral`` kernel and whether it is a node.

    ``flax/linen/linear.py`` ``DenseGeneral.__call__`` builds the kernel ``batch_shape + in_shape + features``
    (``batch_dims`` leading, then the contracted ``axis`` sizes, then ``features``) and initializes it as the
    flat ``(prod(batch)·prod(in), prod(features))`` matrix (``kernel_init_wrap``): with no batch dims its fans
    are the textbook ``(prod(in), prod(features))`` of one dense map (``MultiHeadDotProductAttention``'s query
    ``(E, heads, head_dim)`` -> ``(E, heads·head_dim)``, its out ``(heads, head_dim, E)`` -> ``(heads·head_dim, E)``).
    A node when it has no batch dims: its units are then the output's trailing ``features`` axes.  The batch
    axes are read as input axes, as ``kernel_init_wrap`` does, so the fans are the ones Flax's initializer is
    given (``(prod(batch)·prod(in), prod(features))``), not one batch entry's.  ``None`` when ``shape`` does not
    fit the module's declared axes."""
    features, batch = _axes_tuple(module.features), _axes_tuple(module.batch_dims)
    nb, nf, nd = len(batch), len(features), len(shape)
    n_in = nd - nb - nf
    if n_in < 1 or tuple(shape[nd - nf:]) != features:
        return None
    return Kernel(tuple(shape), tuple(range(nb + n_in)), tuple(range(nb + n_in, nd))), not nb


def is_module(obj: Any) -> bool:
    return isinstance(obj, nn.Module)


def _flatten(tree: Any, prefix: str = "params") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if hasattr(tree, "items"):
        for k, v in tree.items():
            out += _flatten(v, f"{prefix}/{k}")
    else:
        out.append((prefix, tree))
    return out


def _semantics(kind: str, module: Any, shape: tuple[int, ...]) -> tuple[Layer | None, Layout, bool]:
    """(layer, layout, is node) of a kernel of ``shape`` owned by a module of type ``kind``."""
    nd = len(shape) - 2
    if kind == "Embed":
        return Embedding(shape[0], shape[1]), JAX, True
    if kind == "DenseGeneral":
        made = dense_general_kernel(module, shape)
        return (made[0], JAX, made[1]) if made is not None else (None, JAX, False)
    if len(shape) == 2 and kind in ("Dense", "?"):
        return Dense(shape[0], shape[1]), JAX, True
    if nd in (1, 2, 3) and kind in ("Conv", "?"):
        g = int(getattr(module, "feature_group_count", 1) or 1)
        cin, cout = shape[-2] * g, shape[-1]
        if g == cin and g > 1 and cout % cin == 0:
            return Depthwise(cin, cout, shape[:-2]), JAX, True
        return Conv(cin, cout, shape[:-2], groups=g), JAX, True
    if nd in (1, 2, 3) and kind == "ConvTranspose":
        if getattr(module, "transpose_kernel", False):
            return ConvTranspose(shape[-1], shape[-2], shape[:-2]), KERAS, True
        return ConvTranspose(shape[-2], shape[-1], shape[:-2]), JAX, True
    return None, JAX, False


def kernel_layer(module: Any, shape: tuple[int, ...]) -> Layer | None:
    """The layer semantics this extractor gives a kernel (or embedding table) of ``shape`` owned by the
    linen ``module``; ``None`` for one it does not know.  The catalogue's layer defaults read their layers
    here, so a Flax layer is described once."""
    return _semantics(type(module).__name__, module, tuple(int(d) for d in shape))[0]


def extract_params(variables: Any, modules: dict[str, Any] | None = None) -> tuple[list[Param], list[Node]]:
    """Params and nodes; ``modules`` maps a params path (``"Dense_0"``) to the module seen in the probe."""
    params_tree = variables["params"]
    leaves = _flatten(params_tree)
    by_owner: dict[str, dict[str, tuple[str, Any]]] = {}
    for path, leaf in leaves:
        owner, _, key = path.rpartition("/")
        by_owner.setdefault(owner, {})[key] = (path, leaf)
    params: list[Param] = []
    nodes: list[Node] = []
    for owner, entries in by_owner.items():
        short = owner[len("params/"):] if owner.startswith("params/") else owner
        module = (modules or {}).get(short)
        kind = type(module).__name__ if module is not None else "?"
        made: dict[str, Param] = {}
        for key, (path, leaf) in entries.items():
            value = np.asarray(leaf)
            shape = tuple(int(s) for s in value.shape)
            role, lay, layout, node = "other", None, JAX, False
            if key == "kernel":
                lay, layout, node = _semantics(kind, module, shape)
                role = "weight"
            elif key == "embedding":
                lay, layout, node = _semantics("Embed", module, shape)
                role = "embedding"
            elif key == "scale":
                role = "norm_scale"
            elif key == "bias":
                role = "norm_shift" if "scale" in entries else "bias"
            p = Param(path, value, role, short, kind, lay, layout)
            params.append(p)
            made[key] = p
            if node and lay is not None:
                made["_node"] = p
        if "_node" in made:
            w = made["_node"]
            nodes.append(Node(short, kind, w.layer, w, made.get("bias")))  # type: ignore[arg-type]
    return params, nodes


def infer_input(nodes: list[Node], batch: int, rng: np.random.Generator) -> tuple[Any, str]:
    """A probe input for the Flax model whose weight layers are ``nodes`` (first layer first): ``(x,
    description)``: token ids ``(batch, 8)`` for an ``Embed``, N(0, 1) ``(batch, in_features)`` for a
    ``Dense``, ``(batch, spatial..., channels)`` for a conv (channels last), drawn from ``rng``.

    Raises:
        ValueError: no layer to infer the input from.
    """
    if not nodes:
        raise ValueError("cannot infer a probe input (no Dense, Conv or Embed kernel)")
    lay = nodes[0].layer
    if isinstance(lay, Embedding):
        return jnp.asarray(rng.integers(0, lay.in_features, size=(batch, 8)), dtype=jnp.int32), f"token ids ({batch}, 8)"
    if isinstance(lay, Dense):
        return jnp.asarray(rng.standard_normal((batch, lay.in_features)), jnp.float32), \
            f"N(0, 1) ({batch}, {lay.in_features})"
    nd = len(lay.kernel)
    shape = (batch,) + ({1: (32,), 2: (16, 16), 3: (8, 8, 8)}[nd]) + (lay.in_features,)
    return jnp.asarray(rng.standard_normal(shape), jnp.float32), f"N(0, 1) {shape}"


def _run(module: Any, variables: Any, x: Any, seed: int, apply_kwargs: dict[str, Any], interceptor: Any) -> Any:
    mutable = [c for c in variables if c != "params"]
    xs = x if isinstance(x, tuple) else (x,)
    with nn.intercept_methods(interceptor):
        out = module.apply(variables, *xs, rngs={"dropout": jax.random.key(seed)}, mutable=mutable or False,
                           **apply_kwargs)
    return out[0] if mutable else out


def probe(module: Any, variables: Any, x: Any, batch: int, seed: int, desc: str,
          apply_kwargs: dict[str, Any]) -> tuple[Probe, dict[str, Any]]:
    """One jitted forward/backward pass (``jax.value_and_grad`` w.r.t. ``ε``); returns the probe and the
    modules seen (params path -> module)."""
    seen: dict[str, Any] = {}
    widths: dict[str, int] = {}
    state = new_state()
    stats: dict[str, BatchStat] = {}

    def interceptor(next_fun: Any, args: tuple, kwargs: dict, ctx: Any) -> Any:
        mod = ctx.module
        if ctx.method_name != "__call__" or not isinstance(mod, _WATCHED):
            return next_fun(*args, **kwargs)
        path = "/".join(str(p) for p in mod.path)
        if not isinstance(mod, _NODE_TYPES):
            # a normalization on the probe's own statistics: its count (the pass is traced more than once; a
            # module called twice keeps its smaller count)
            made = norm_stat(mod, path, args, kwargs, state["order"][-1] if state["order"] else None)
            if made is not None and (path not in stats or made.values <= stats[path].values):
                stats[path] = made
            return next_fun(*args, **kwargs)
        if isinstance(mod, nn.DenseGeneral) and args and hasattr(args[0], "shape") and path not in widths:
            # its input units are every contracted axis (``axis``), not only the last one
            widths[path] = int(np.prod([args[0].shape[a] for a in _axes_tuple(mod.axis)]))
        args = record_input(state, path, args)
        out = next_fun(*args, **kwargs)
        seen.setdefault(path, mod)
        return record(state, path, out, args)

    def run(eps: Any) -> tuple[list[Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        state.update(new_state(), eps=eps)
        out = _run(module, variables, x, seed, apply_kwargs, interceptor)
        leaves = [t for t in jax.tree_util.tree_leaves(out) if jnp.issubdtype(jnp.asarray(t).dtype, jnp.floating)]
        return leaves, dict(state["z"]), dict(state["inp"]), dict(state["x"])

    zs, inp, outs, grads, xin = perturbed_pass(run, seed)
    order = list(state["order"])
    state["eps"] = None
    signals = []
    for n in order:
        z = np.asarray(zs[n])
        n_units = z.shape[-1] if z.ndim else 0
        x_moments = xin.get(n, (None,) * 4)
        if isinstance(seen.get(n), nn.DenseGeneral) and z.ndim:
            # units: the trailing ``features`` axes (a per-head projection's heads x head_dim)
            n_units = int(np.prod(_axes_tuple(seen[n].features)))
            z, g = z.reshape(-1, n_units), np.asarray(grads[n]).reshape(-1, n_units)
            grads = {**grads, n: g}
            if n in widths and x_moments[2]:
                xm, gm, w, rows = x_moments
                x_moments = (xm, gm, widths[n], w * rows // widths[n])
        try:
            signals.append(Signal(n, units_last(z, -1, n_units), units_last(np.asarray(grads[n]), -1, n_units),
                                  bool(inp[n]) if n in inp else None, *x_moments))
        except ValueError:
            continue
    first = x[0] if isinstance(x, tuple) else x
    return Probe(signals, batch, desc, any(varies(np.asarray(o)) for o in outs), varies(np.asarray(first)),
                 batch_stats=list(stats.values())), seen


def view(module: Any, variables: Any, name: str, example_input: Any = None, batch: int = 32, seed: int = 0,
         apply_kwargs: dict[str, Any] | None = None) -> ModelView:
    if not hasattr(variables, "items"):
        raise ValueError(f"flax variables must be a dict-like tree, got {type(variables).__name__}")
    if "params" not in variables:
        variables = {"params": variables}
    mv = ModelView("flax", name, *extract_params(variables))

    def make_input() -> tuple[Any, str]:
        nonlocal batch
        if example_input is None:
            return infer_input(mv.nodes, batch, np.random.default_rng(seed))
        first = example_input[0] if isinstance(example_input, tuple) else example_input
        batch = int(np.shape(first)[0])
        return example_input, f"the given example input of shape {tuple(np.shape(first))}"

    def run(x: Any, desc: str) -> Probe:
        pr, seen = probe(module, variables, x, batch, seed, desc, dict(apply_kwargs or {}))
        # the probe sees the modules actually called: extract again with them (run_probe then sorts
        # these nodes by the probe's order)
        mv.params, mv.nodes = extract_params(variables, seen)
        return pr

    mv.run_probe(make_input, run, "give {'module', 'variables', 'input'}", failure_hint="")
    if mv.probe is not None:
        by_name = {n.name: n for n in mv.nodes}
        mv.probe.signals = [s for s in mv.probe.signals
                            if s.name in by_name and s.z.shape[-1] == by_name[s.name].n_units]
    return mv


__all__ = ["dense_general_kernel", "extract_params", "infer_input", "is_module", "probe", "view"]


class ExampleMLP(nn.Module):
    """A small ReLU MLP (conformance checks)."""

    @nn.compact
    def __call__(self, x: Any) -> Any:
        return nn.Dense(4)(nn.relu(nn.Dense(16)(x)))


def example() -> tuple[Any, int]:
    """``((module, variables), parameter count)`` of :class:`ExampleMLP` (conformance checks)."""
    module = ExampleMLP()
    variables = module.init(jax.random.key(0), jnp.ones((1, 8)))
    return (module, variables), int(sum(np.size(v) for v in jax.tree_util.tree_leaves(variables["params"])))
