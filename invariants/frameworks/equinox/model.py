"""Equinox models: an ``eqx.Module`` -> :class:`~invariants.frameworks.model.ModelView`.

A model is an ``eqx.Module`` called on **one example** (Equinox layers take no batch axis), or
``(module, example_input)`` with a batched input (axis 0 is the batch), or ``{"model": ...,
"input": ..., "apply_kwargs": {...}}``.  Parameters are the floating arrays of the module's pytree,
named by attribute path (``"layers.0.weight"``); the module that holds them gives the semantics
(layout :data:`invariants.frameworks.equinox.layout.EQUINOX`): ``Linear`` dense ``(out, in)``;
``Conv`` ``(C_out, C_in/G, *k)`` (depthwise when ``groups = C_in``); ``ConvTranspose`` ``(C_out, C_in/G,
*k)``; ``Embedding`` ``(V, D)``; ``GRUCell``/``LSTMCell`` gates packed along dim 0 (recurrent);
``LayerNorm``/``GroupNorm``/``RMSNorm``/``BatchNorm`` scale and shift.  Equinox activations are
plain functions, invisible here, except ``MLP``'s ``activation`` (applied after every hidden layer) and
an ``eqx.nn.Lambda(activation)`` right after a node in an ``eqx.nn.Sequential``.

**Probe.** Each node module is replaced (``eqx.tree_at``, on a copy: the user's model is immutable) by
a tap that returns ``z + ε``; the model runs under ``jax.vmap`` over the batch and
``jax.value_and_grad`` with respect to ``ε`` gives ``∂L/∂z`` for ``L = Σ y·r``.  A node the model itself
calls inside its own ``jax.vmap`` (an ``Embedding`` mapped over tokens) has no per-example output to
tap: the probe then fails and says so (the parameter checks still run).  ``key=jax.random.key(seed)`` is
passed when the model's ``__call__`` takes a ``key`` (dropout).  Probe input: the given one, else from
the first node (``Linear(in)``: ``N(0, 1)`` ``(B, in)``; a conv: ``(B, C, 32)`` / ``(B, C, 16, 16)`` /
``(B, C, 8, 8, 8)``).

Each ``GroupNorm`` is wrapped too (:class:`GroupTap`) to record how many values its per-sample statistics
see.  A ``BatchNorm`` is not run on batch statistics: ``eqx.nn.BatchNorm.__call__(x, state)`` takes a ``State``
and, in training mode, averages over the ``jax.vmap`` axis named by its ``axis_name``, which the probe's vmap
does not bind; such a model's probe fails (its ``__call__`` without ``state``: a ``TypeError``; with ``state``
in ``apply_kwargs``: ``NameError: unbound axis name``) and the report says the signal was not checked.  In
inference mode (``eqx.nn.inference_mode``) it uses its running statistics (identity at init).
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable, Iterator

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from invariants.frameworks.equinox.layout import EQUINOX
from invariants.layers import GRU, LSTM, Conv, ConvTranspose, Dense, Depthwise, Embedding, Layer
from invariants.frameworks.model import (INPUT_ROUNDING_ULPS, BatchStat, ModelView, Node, Param, Probe, Signal,
                                         activation_key, units_last, varies)

_NORMS = (eqx.nn.LayerNorm, eqx.nn.GroupNorm, eqx.nn.RMSNorm, eqx.nn.BatchNorm)
_NODE_TYPES = (eqx.nn.Linear, eqx.nn.Conv, eqx.nn.ConvTranspose, eqx.nn.Embedding)
_ACTIVATIONS = {jax.nn.relu: "relu", jax.nn.tanh: "tanh", jnp.tanh: "tanh", jax.nn.sigmoid: "sigmoid",
                jax.nn.gelu: "gelu", jax.nn.silu: "silu", jax.nn.selu: "selu", jax.nn.elu: "elu",
                jax.nn.softplus: "softplus", jax.nn.leaky_relu: "leaky_relu", jax.nn.relu6: "relu6"}


def walk(obj: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """``(path, object)`` for every module and array reachable from ``obj`` (depth first, field order)."""
    yield path, obj
    if isinstance(obj, eqx.Module):
        for f in dataclasses.fields(obj):
            if not f.metadata.get("static", False):
                yield from walk(getattr(obj, f.name, None), path + (f.name,))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, path + (str(i),))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, path + (str(k),))


def get(obj: Any, path: tuple[str, ...]) -> Any:
    """The object at ``path`` (as yielded by :func:`walk`)."""
    for p in path:
        obj = obj[int(p)] if isinstance(obj, (list, tuple)) else obj[p] if isinstance(obj, dict) else getattr(obj, p)
    return obj


def layer_of(m: Any) -> Layer | None:
    """The layer of a node module's ``weight`` (Equinox layout), else ``None``."""
    w = getattr(m, "weight", None)
    if w is None or not hasattr(w, "shape"):
        return None
    shape = tuple(int(s) for s in w.shape)
    if isinstance(m, eqx.nn.Linear):
        return Dense(shape[1], shape[0])
    if isinstance(m, eqx.nn.Embedding):
        return Embedding(shape[0], shape[1])
    g = int(getattr(m, "groups", 1) or 1)
    cin, cout = shape[1] * g, shape[0]
    if isinstance(m, eqx.nn.ConvTranspose):
        return ConvTranspose(cin, cout, shape[2:], groups=g)
    if isinstance(m, eqx.nn.Conv):
        if g == cin and g > 1 and cout % cin == 0:
            return Depthwise(cin, cout, shape[2:])
        return Conv(cin, cout, shape[2:], groups=g)
    return None


def extract_params(model: Any) -> tuple[list[Param], list[Node], dict[str, tuple[str, ...]]]:
    """All floating parameters, the nodes (definition order) and ``{node name: path}``."""
    params: list[Param] = []
    nodes: list[Node] = []
    node_paths: dict[str, tuple[str, ...]] = {}
    seen: set[int] = set()
    for path, m in walk(model):
        if not isinstance(m, eqx.Module):
            continue
        owner = ".".join(path)
        made: dict[str, Param] = {}
        lay = layer_of(m) if isinstance(m, _NODE_TYPES) else None
        for f in dataclasses.fields(m):
            value = getattr(m, f.name, None)
            if not (eqx.is_array(value) and jnp.issubdtype(value.dtype, jnp.floating)) or id(value) in seen:
                continue
            seen.add(id(value))
            # a read-only view of the array's host buffer (np.asarray of a CPU jax.Array shares it), bfloat16 too
            # (an ml_dtypes.bfloat16 array: the checks read it in its dtype, as torch's)
            arr = np.asarray(value)
            role, layer = "other", None
            if isinstance(m, _NODE_TYPES):
                if f.name == "weight":
                    role, layer = ("embedding" if isinstance(m, eqx.nn.Embedding) else "weight"), lay
                elif f.name == "bias":
                    role = "bias"
            elif isinstance(m, (eqx.nn.GRUCell, eqx.nn.LSTMCell)):
                if f.name.startswith("bias"):
                    role = "bias"
                elif arr.ndim == 2:
                    gates = GRU if isinstance(m, eqx.nn.GRUCell) else LSTM
                    role, layer = "recurrent", gates(arr.shape[1], m.hidden_size)
            elif isinstance(m, _NORMS):
                role = "norm_scale" if f.name == "weight" else "norm_shift" if f.name == "bias" else "other"
            name = f"{owner}.{f.name}" if owner else f.name
            made[f.name] = Param(name, arr, role, owner=owner, owner_type=type(m).__name__, layer=layer, layout=EQUINOX)
            params.append(made[f.name])
        if lay is not None and "weight" in made:
            node_name = owner or type(m).__name__
            bias = made.get("bias")
            if bias is not None:  # conv biases are (C_out, 1, ..., 1): one value per unit
                bias = dataclasses.replace(bias, value=bias.value.reshape(-1))
            nodes.append(Node(node_name, type(m).__name__, lay, made["weight"], bias))
            node_paths[node_name] = path
    # what the extractor can see of activations: MLP's ``activation`` after every layer but the last, and
    # a Sequential's Lambda(activation) right after a node
    by_path = {p: node for node, p in ((n, node_paths[n.name]) for n in nodes)}
    for path, m in walk(model):
        if isinstance(m, eqx.nn.Sequential):
            for i, (a, b) in enumerate(zip(m.layers, m.layers[1:])):
                node = by_path.get(path + ("layers", str(i)))
                if node is not None and isinstance(b, eqx.nn.Lambda) and b.fn in _ACTIVATIONS:
                    node.activation = activation_key(_ACTIVATIONS[b.fn])
        if isinstance(m, eqx.nn.MLP):
            act = activation_key(_ACTIVATIONS.get(m.activation, "")) if m.activation in _ACTIVATIONS else None
            for node in nodes:
                p = node_paths[node.name]
                if p[:len(path) + 1] == path + ("layers",) and len(p) == len(path) + 2 \
                        and int(p[-1]) < len(m.layers) - 1:
                    node.activation = act
    return params, nodes, node_paths


class _State:
    """What the taps read and write during one probe pass (one pass at a time)."""

    eps: dict[str, Any] | None = None
    z: dict[str, Any] = {}
    inp: dict[str, Any] = {}
    #: per GroupNorm, the BatchStat of its statistics (:class:`GroupTap`)
    stats: dict[str, BatchStat] = {}


_STATE = _State()


class Tap(eqx.Module):
    """A node module whose output is recorded and shifted by ``ε`` (probe only)."""

    inner: Any
    name: str = eqx.field(static=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        if self.name in _STATE.z:
            return out
        if _STATE.eps is not None:
            out = out + _STATE.eps[self.name]
        _STATE.z[self.name] = out
        if args and hasattr(args[0], "shape"):
            _STATE.inp[self.name] = args[0]
        return out


class GroupTap(eqx.Module):
    """A ``GroupNorm`` that records how many values each of its per-sample statistics is taken over (probe
    only): ``eqx.nn.GroupNorm.__call__`` normalises one example ``(C, *spatial)`` over the ``C / groups``
    channels of a group × positions (``equinox/nn/_normalisation.py``)."""

    inner: Any
    name: str = eqx.field(static=True)

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        shape = tuple(int(d) for d in getattr(x, "shape", ()))
        if len(shape) > 1:  # (C,) has no positions: see BatchStat
            group = shape[0] // max(int(self.inner.groups), 1)
            values = group * int(np.prod(shape[1:], dtype=np.int64))
            old = _STATE.stats.get(self.name)
            if old is None or values <= old.values:
                _STATE.stats[self.name] = BatchStat(self.name, values, next(reversed(_STATE.z), None), kind="group",
                                                    channels=group, layer="GroupNorm")
        return self.inner(x, *args, **kwargs)


def infer_input(nodes: list[Node], batch: int, rng: np.random.Generator) -> tuple[Any, str]:
    """A probe input for the Equinox model whose weight layers are ``nodes`` (first layer first): ``(x,
    description)``: N(0, 1) ``(batch, in_features)`` for a ``Linear``, ``(batch, channels, spatial...)`` for a
    conv, drawn from ``rng`` (the model is vmapped over the first axis).

    Raises:
        ValueError: no layer to infer the input from, or an Embedding first (its sequence length is unknown).
    """
    if not nodes:
        raise ValueError("cannot infer a probe input (no Linear, Conv or Embedding layer)")
    lay = nodes[0].layer
    if lay.kind == "dense":
        return jnp.asarray(rng.standard_normal((batch, lay.in_features)), jnp.float32), \
            f"N(0, 1) of shape ({batch}, {lay.in_features})"
    if lay.kind == "embedding":
        raise ValueError("an Embedding-first model takes token ids of a length only it knows")
    nd = len(lay.kernel)
    side = max({1: 32, 2: 16, 3: 8}[nd], 2 * max(lay.kernel))
    shape = (batch, lay.in_features) + (side,) * nd
    return jnp.asarray(rng.standard_normal(shape), jnp.float32), f"N(0, 1) of shape {shape}"


def _takes_key(model: Any) -> bool:
    try:
        return "key" in inspect.signature(type(model).__call__).parameters
    except (TypeError, ValueError):
        return False


def tapped_forward(model: Any, node_paths: dict[str, tuple[str, ...]], apply_kwargs: dict[str, Any],
                   seed: int) -> Callable[[Any, Any], Any]:
    """``one(x_i, eps) -> (output, {node: z}, {node: first input})``: the model on one example with every node
    wrapped in a :class:`Tap` (its output recorded and shifted by ``eps[node]``; ``eps=None``: unshifted).
    ``key`` is passed (``jax.random.key(seed)``) to a model whose ``__call__`` takes one."""
    names = list(node_paths)
    groups = {".".join(p) or "GroupNorm": p for p, m in walk(model) if isinstance(m, eqx.nn.GroupNorm)}
    tapped = eqx.tree_at(lambda m: [get(m, node_paths[n]) for n in names] + [get(m, p) for p in groups.values()],
                         model, [Tap(get(model, node_paths[n]), n) for n in names]
                         + [GroupTap(get(model, p), g) for g, p in groups.items()])
    kwargs = dict(apply_kwargs)
    if _takes_key(model) and "key" not in kwargs:
        kwargs["key"] = jax.random.key(seed)

    def one(xi: Any, eps: Any) -> Any:
        _STATE.eps, _STATE.z, _STATE.inp = eps, {}, {}
        out = tapped(xi, **kwargs)
        return out, dict(_STATE.z), dict(_STATE.inp)

    return one


def layer_io_shapes(model: Any, x: Any, apply_kwargs: dict[str, Any] | None = None,
                    seed: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """``({node: output}, {node: first input})`` of every weight layer on ONE example ``x[0]``, as
    ``jax.ShapeDtypeStruct`` from ``jax.eval_shape`` of the tapped forward (shapes only, nothing computed)."""
    _, _, node_paths = extract_params(model)
    one = tapped_forward(model, node_paths, dict(apply_kwargs or {}), seed)
    try:
        _, z_s, inp_s = jax.eval_shape(lambda xi: one(xi, None), x[0])
    finally:
        _STATE.eps, _STATE.z, _STATE.inp, _STATE.stats = None, {}, {}, {}
    return z_s, inp_s


def layer_io_bytes(model: Any, x: Any, apply_kwargs: dict[str, Any] | None = None, seed: int = 0) -> int:
    """Bytes of every weight layer's output and first input on the batch ``x`` (vmapped over its first axis),
    from :func:`layer_io_shapes` (shapes only, nothing computed)."""
    leaves = jax.tree_util.tree_leaves(layer_io_shapes(model, x, apply_kwargs, seed))
    return int(x.shape[0]) * sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in leaves)


def probe(model: Any, nodes: list[Node], node_paths: dict[str, tuple[str, ...]], x: Any, batch: int, seed: int,
          desc: str, apply_kwargs: dict[str, Any]) -> Probe:
    """The forward/backward pass of the module docstring.

    Raises:
        Exception: whatever the model raises (the caller reports it).
    """
    names = list(node_paths)
    one = tapped_forward(model, node_paths, apply_kwargs, seed)
    try:
        _STATE.stats = {}
        out_s, z_s, _ = jax.eval_shape(lambda xi: one(xi, None), x[0])
        stats = list(_STATE.stats.values())  # recorded while tracing one example (GroupTap)
        rng = np.random.default_rng(seed)
        leaves = jax.tree_util.tree_leaves(out_s)
        rs = [jnp.asarray(rng.standard_normal((batch,) + tuple(o.shape)), o.dtype) for o in leaves
              if jnp.issubdtype(o.dtype, jnp.floating)]
        # host zeros: no broadcast program compiled per shape (invariants.frameworks.jax.probe.perturbed_pass)
        eps0 = {n: np.zeros((batch,) + tuple(v.shape), v.dtype) for n, v in z_s.items()}

        def loss(eps: Any) -> Any:
            out, zs, inps = jax.vmap(one)(x, eps)
            outs = [t for t in jax.tree_util.tree_leaves(out) if jnp.issubdtype(t.dtype, jnp.floating)]
            return sum(jnp.sum(t * r) for t, r in zip(outs, rs)), (zs, inps, outs)

        fn = jax.value_and_grad(loss, has_aux=True)
        if any(len(v.shape) > 1 for v in z_s.values()):
            fn = jax.jit(fn)
        (_, (zs, inps, outs)), grads = fn(eps0)
    finally:
        _STATE.eps, _STATE.z, _STATE.inp, _STATE.stats = None, {}, {}, {}
    by_name = {n.name: n for n in nodes}
    order = [n for n in names if n in zs]
    signals = []
    for n in order:
        node = by_name[n]
        z = np.asarray(zs[n])
        axis = 1 if node.layer.kind in ("conv", "conv_transpose", "depthwise") else -1
        try:
            signals.append(Signal(n, units_last(z, axis, node.n_units),
                                  units_last(np.asarray(grads[n]), axis, node.n_units),
                                  varies(np.asarray(inps[n]), INPUT_ROUNDING_ULPS) if n in inps else None))
        except ValueError:
            continue
    return Probe(signals, batch, desc, any(varies(np.asarray(o)) for o in outs), varies(np.asarray(x)),
                 batch_stats=stats)


def view(model: Any, name: str, example_input: Any = None, batch: int = 32, seed: int = 0,
         apply_kwargs: dict[str, Any] | None = None) -> ModelView:
    """The :class:`ModelView` of an Equinox module, with a probe pass when an input is known or inferable."""
    params, nodes, node_paths = extract_params(model)

    def make_input() -> tuple[Any, str]:
        if example_input is None:
            return infer_input(nodes, batch, np.random.default_rng(seed))
        x = jnp.asarray(example_input)
        return x, f"the given example input of shape {tuple(x.shape)}"

    def run(x: Any, desc: str) -> Probe:
        return probe(model, nodes, node_paths, x, int(x.shape[0]), seed, desc, dict(apply_kwargs or {}))

    return ModelView("equinox", name, params, nodes).run_probe(make_input, run,
                                                               "return (model, example_input) from the factory")


def example() -> tuple[Any, int]:
    """A small ReLU ``eqx.nn.MLP`` and its parameter count (conformance checks)."""
    model = eqx.nn.MLP(8, 4, 16, 1, key=jax.random.key(0))
    return model, sum(int(x.size) for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array)))

__all__ = ["GroupTap", "Tap", "example", "extract_params", "get", "infer_input", "layer_io_bytes", "layer_io_shapes", "layer_of", "probe",
           "tapped_forward", "view", "walk"]
