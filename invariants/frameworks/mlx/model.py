"""MLX models: an ``mlx.nn.Module`` -> :class:`~invariants.frameworks.model.ModelView`.

Parameters are the leaves of ``module.parameters()`` (``mlx.utils.tree_flatten`` names:
``"layers.0.weight"``), owned by the module at the name's prefix (``module.named_modules()``).  Layer
semantics by module type (mlx 0.32.4; layout :data:`invariants.frameworks.mlx.layout.MLX`):
``Linear`` dense ``(out, in)``; ``Bilinear`` ``(out, in2, in1)``; ``Conv{1,2,3}d`` ``(C_out, *k, C_in/G)``
(depthwise when ``groups = C_in``); ``ConvTranspose{1,2,3}d`` ``(C_out, *k, C_in)``; ``Embedding``
``(V, D)``; ``RNN`` (``Wxh``, ``Whh``), ``GRU``/``LSTM`` (``Wx``, ``Wh``: gates packed along dim 0)
recurrent; ``*Norm`` scale (``weight``) and shift (``bias``).  Every layer kind with output units has
them on axis 0 of its weight, and MLX activations are channels-last, so a node's units are the last
axis of its output.  Values are read-only numpy views of the arrays' buffers in their own dtype, bfloat16
included (:func:`read_only`): reading a model copies none of it.

**Probe.** One forward and backward pass: each node's class is swapped, for the pass only, for a
subclass whose ``__call__`` returns ``z + ε`` (MLX looks ``__call__`` up on the class, so an instance
attribute would not be called) and adds ``ε_x`` to its first (floating) input, and ``mx.value_and_grad``
with respect to both gives ``∂L/∂z`` and ``∂L/∂x`` for ``L = Σ y·r``: the signal check compares the
input moments ``E[x²]``, ``E[g²]``, as for torch and JAX.  MLX's global PRNG (dropout) is seeded inside
:class:`~invariants.frameworks.mlx.initializers.Seeded`, which restores it.  A ``BatchNorm`` in training mode
(normalising by the batch) and every ``GroupNorm``/``InstanceNorm`` are recorded with their values per statistic,
and the running statistics a training-mode ``BatchNorm`` moves are restored
(:mod:`invariants.frameworks.mlx.batchstats`).  Probe input: the given one, else inferred from the first node
(``Linear(in)``: ``N(0, 1)`` ``(B, in)``; a conv: ``(B, 32, C)`` / ``(B, 16, 16, C)`` / ``(B, 8, 8, 8, C)``;
``Embedding(V)``: token ids ``(B, 8)``).
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten

from invariants.frameworks.mlx.batchstats import watch
from invariants.frameworks.mlx.initializers import Seeded, bfloat16_view, host
from invariants.frameworks.mlx.layout import MLX
from invariants.layers import GRU, LSTM, Bilinear, Conv, ConvTranspose, Dense, Depthwise, Embedding, Layer
from invariants.frameworks.model import INPUT_ROUNDING_ULPS, ModelView, Node, Param, Probe, Signal, activation_key, units_last, varies

_ACTIVATIONS = {nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid",
                nn.GELU: "gelu", nn.SELU: "selu", nn.ReLU6: "relu6", nn.ELU: "elu", nn.SiLU: "silu",
                nn.Softplus: "softplus"}
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_TRANSPOSES = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORMS = (nn.LayerNorm, nn.RMSNorm, nn.GroupNorm, nn.BatchNorm, nn.InstanceNorm)
_NODE_TYPES = (nn.Linear, nn.Bilinear, nn.Embedding) + _CONVS + _CONV_TRANSPOSES


def read_only(value: Any) -> Any:
    """An MLX array's values as a read-only numpy array in its own dtype, sharing the array's buffer (no copy);
    anything else as is.

    numpy reads an MLX array through the buffer protocol (``memoryview``, which evaluates a lazy array first
    and keeps it alive; strides kept).  bfloat16, whose buffer format (``"bfloat16"``) numpy does not parse,
    is reinterpreted by MLX as uint16 (``mx.view``, a same-size view of the same buffer, mlx ``ops.cpp``
    ``view``) and by numpy as ``ml_dtypes.bfloat16`` (the type JAX and the torch reader use:
    :func:`invariants.frameworks.torch.model.read_only`), so no value is converted; the checks widen a
    bounded sample when they compute (:func:`invariants.frameworks.dtypes.widen`).  Without ``ml_dtypes``
    bfloat16 is converted exactly to float32, a copy of this array.  Marked non-writeable so no check can
    alter the model.

    Shape and layout: ``value.shape``, :data:`invariants.frameworks.mlx.layout.MLX`.
    """
    if not isinstance(value, mx.array):
        return value
    if value.dtype == mx.bfloat16:
        arr = bfloat16_view(value)
        if arr is None:  # no ml_dtypes: the exact float32 conversion, correct, one copy of this array
            return host(value)
    else:
        arr = np.asarray(memoryview(value))
    arr.flags.writeable = False
    return arr


def layer_of(m: Any) -> tuple[Layer | None, str]:
    """(layer, weight role) of a module's ``weight`` by the module's type; ``(None, "other")`` if unknown."""
    w = m.get("weight") if isinstance(m, dict) else None
    if w is None:
        return None, "other"
    shape = tuple(int(s) for s in w.shape)
    if isinstance(m, nn.Linear):
        return Dense(shape[1], shape[0]), "weight"
    if isinstance(m, nn.Bilinear):
        return Bilinear(shape[2], shape[1], shape[0]), "weight"
    if isinstance(m, nn.Embedding):
        return Embedding(shape[0], shape[1]), "embedding"
    if isinstance(m, _CONV_TRANSPOSES):
        return ConvTranspose(shape[-1], shape[0], shape[1:-1]), "weight"
    if isinstance(m, _CONVS):
        g = int(getattr(m, "groups", 1) or 1)
        cin, cout = shape[-1] * g, shape[0]
        if g == cin and g > 1 and cout % cin == 0:
            return Depthwise(cin, cout, shape[1:-1]), "weight"
        return Conv(cin, cout, shape[1:-1], groups=g), "weight"
    return None, "other"


def _recurrent(m: Any, key: str, shape: tuple[int, ...]) -> tuple[str, Layer | None]:
    if key in ("b", "bias", "bhn"):
        return "bias", None
    if len(shape) != 2:
        return "other", None
    h = int(m.hidden_size)
    if isinstance(m, nn.GRU):
        return "recurrent", GRU(shape[1], h)
    if isinstance(m, nn.LSTM):
        return "recurrent", LSTM(shape[1], h)
    return "recurrent", Dense(shape[1], h)


def extract_params(model: Any) -> tuple[list[Param], list[Node], dict[str, Any]]:
    """All parameters, the nodes (definition order) and ``{node name: module}``."""
    modules = dict(model.named_modules())
    params: list[Param] = []
    nodes: list[Node] = []
    node_modules: dict[str, Any] = {}
    by_owner: dict[str, dict[str, Param]] = {}
    for path, value in tree_flatten(model.parameters()):
        owner, _, key = path.rpartition(".")
        m = modules.get(owner)
        arr = read_only(value)
        shape = tuple(int(s) for s in arr.shape)
        role, lay = "other", None
        if m is not None:
            layer, weight_role = layer_of(m)
            if layer is not None and key == "weight":
                role, lay = weight_role, layer
            elif layer is not None and key == "bias":
                role = "bias"
            elif isinstance(m, (nn.RNN, nn.GRU, nn.LSTM)):
                role, lay = _recurrent(m, key, shape)
            elif isinstance(m, _NORMS):
                role = "norm_scale" if key == "weight" else "norm_shift" if key == "bias" else "other"
        p = Param(path, arr, role, owner=owner, owner_type=type(m).__name__ if m is not None else "", layer=lay,
                  layout=MLX)
        params.append(p)
        by_owner.setdefault(owner, {})[key] = p
    for owner, m in modules.items():
        if isinstance(m, _NODE_TYPES) and "weight" in by_owner.get(owner, {}):
            w = by_owner[owner]["weight"]
            if w.layer is not None:
                name = owner or type(m).__name__
                nodes.append(Node(name, type(m).__name__, w.layer, w, by_owner[owner].get("bias")))
                node_modules[name] = m
    nodes.sort(key=lambda n: [p.name for p in params].index(n.weight.name))
    # static activation guess: a node followed by an activation module inside the same nn.Sequential
    for owner, m in modules.items():
        if isinstance(m, nn.Sequential):
            kids = list(m.layers)
            for a, b in zip(kids, kids[1:]):
                if type(b) in _ACTIVATIONS:
                    for node in nodes:
                        if node_modules[node.name] is a:
                            node.activation = activation_key(_ACTIVATIONS[type(b)])
    return params, nodes, node_modules


def float_dtype(model: Any) -> Any:
    """The dtype of the model's first floating parameter (``mx.float32`` if none): an inferred probe input
    is drawn in it, so a bfloat16 model runs its pass in bfloat16 as torch's reader does, instead of
    promoting every weight to a float32 copy (``mx.matmul`` of float32 and bfloat16 computes in float32)."""
    return next((v.dtype for _, v in tree_flatten(model.parameters()) if mx.issubdtype(v.dtype, mx.floating)),
                mx.float32)


def infer_input(nodes: list[Node], batch: int, rng: np.random.Generator, dtype: Any = mx.float32) \
        -> tuple[Any, str]:
    """A probe input for the MLX model whose weight layers are ``nodes`` (first layer first): ``(x,
    description)``, with ``x`` token ids of shape (batch, 8) for an embedding, N(0, 1) values of shape (batch,
    in_features) for a dense layer, two such inputs for a bilinear one, or (batch, spatial..., channels) (MLX's channels-last layout) for a
    convolution, drawn from ``rng`` in float32 and cast to ``dtype`` (the model's floating dtype, so that a
    bfloat16 model's pass stays in bfloat16 instead of promoting every weight to a float32 copy).

    Raises:
        ValueError: no layer to infer the input from.
    """
    if not nodes:
        raise ValueError("cannot infer a probe input (no Linear, Bilinear, Conv or Embedding layer)")
    lay = nodes[0].layer
    if lay.kind == "embedding":
        return mx.array(rng.integers(0, lay.in_features, size=(batch, 8)).astype(np.int32)), \
            f"token ids uniform in [0, {lay.in_features}) of shape ({batch}, 8)"
    if lay.kind == "dense":
        return mx.array(rng.standard_normal((batch, lay.in_features)).astype(np.float32)).astype(dtype), \
            f"N(0, 1) of shape ({batch}, {lay.in_features})"
    if lay.kind == "bilinear":
        a = rng.standard_normal((batch, lay.in_features)).astype(np.float32)
        b = rng.standard_normal((batch, int(lay.in2))).astype(np.float32)  # type: ignore[arg-type]
        return (mx.array(a).astype(dtype), mx.array(b).astype(dtype)), f"two N(0, 1) inputs {a.shape}, {b.shape}"
    nd = len(lay.kernel)
    side = max({1: 32, 2: 16, 3: 8}[nd], 2 * max(lay.kernel))
    shape = (batch,) + (side,) * nd + (lay.in_features,)
    return mx.array(rng.standard_normal(shape).astype(np.float32)).astype(dtype), f"N(0, 1) of shape {shape}"


def _arrays(out: Any) -> list[Any]:
    """Every floating array in a (nested) model output."""
    if isinstance(out, mx.array):
        return [out] if mx.issubdtype(out.dtype, mx.floating) else []
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        return [a for o in out for a in _arrays(o)]
    return []


@contextlib.contextmanager
def tapped_classes(node_modules: dict[str, Any], make_call: Callable[[type], Any]) -> Iterator[None]:
    """Every node module's class replaced, for the duration, by a subclass whose ``__call__`` is
    ``make_call(original class)`` (MLX modules have no hooks); restored on exit, whatever happens."""
    swapped: list[tuple[Any, type]] = []
    try:
        for m in node_modules.values():
            if any(m is s[0] for s in swapped):  # one module under two names: swapped once (see batchstats.watch)
                continue
            cls = type(m)
            swapped.append((m, cls))
            m.__class__ = type(f"Probed{cls.__name__}", (cls,), {"__call__": make_call(cls)})
        yield
    finally:
        for m, cls in reversed(swapped):
            m.__class__ = cls


def layer_io_bytes(model: Any, x: Any) -> int:
    """Bytes of every weight layer's output and first input on the probe input ``x`` (an array, or a tuple of
    them), from shapes only: MLX builds the forward graph lazily, and its arrays' shapes and dtypes are known
    before anything is evaluated; nothing is (no ``mx.eval``)."""
    _, _, node_modules = extract_params(model)
    names = {id(m): n for n, m in node_modules.items()}
    seen: dict[str, int] = {}

    def make_call(cls: type) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = cls.__call__(self, *args, **kwargs)
            name = names.get(id(self))
            if name is not None and name not in seen:
                arrays = [a for a in (out, args[0] if args else None) if isinstance(a, mx.array)]
                seen[name] = sum(int(np.prod(a.shape)) * a.dtype.size for a in arrays)
            return out
        return call

    with tapped_classes(node_modules, make_call):
        model(*(x if isinstance(x, tuple) else (x,)))
    return sum(seen.values())


def probe(model: Any, nodes: list[Node], node_modules: dict[str, Any], x: Any, batch: int, seed: int,
          desc: str) -> Probe:
    """The forward/backward pass of the module docstring.

    Raises:
        Exception: whatever the model raises (the caller reports it).
    """
    state: dict[str, Any] = {"eps": None, "z": {}, "x": {}, "inp": {}, "order": []}
    names = {id(m): n for n, m in node_modules.items()}

    def tapped_call(cls: type) -> Any:
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            name = names.get(id(self))
            if (name is not None and name not in state["z"] and name not in state["x"] and args
                    and isinstance(args[0], mx.array) and args[0].ndim and mx.issubdtype(args[0].dtype, mx.floating)):
                # the node's first input, + eps_x as it enters the node: E[x^2] and E[(dL/dx)^2] through it,
                # the moments the signal check compares (as the torch and JAX probes measure them)
                state["x"][name] = args[0]
                if state["eps"] is not None and name in state["eps"]["x"]:
                    args = (args[0] + state["eps"]["x"][name],) + tuple(args[1:])
            out = cls.__call__(self, *args, **kwargs)
            if name is None or name in state["z"]:
                return out
            if state["eps"] is not None and name in state["eps"]["z"]:
                out = out + state["eps"]["z"][name]
            state["z"][name] = out
            state["order"].append(name)
            if state["eps"] is None and args and isinstance(args[0], mx.array) and args[0].ndim:
                state["inp"][name] = varies(host(args[0]), INPUT_ROUNDING_ULPS)  # first (plain) pass: no array under a transform
            return out
        return call

    xs = x if isinstance(x, tuple) else (x,)
    try:
        with tapped_classes(node_modules, tapped_call), \
                watch(model, lambda: state["order"][-1] if state["order"] else None) as stats:
            with Seeded(seed):
                out0 = model(*xs)  # shapes of z and of the outputs
                outs0 = _arrays(out0)
                if not outs0:
                    raise ValueError("the model output contains no floating array")
                rng = np.random.default_rng(seed)
                rs = [mx.array(rng.standard_normal(tuple(o.shape)).astype(np.float32)).astype(o.dtype) for o in outs0]
                eps0 = {"z": {n: mx.zeros(z.shape, z.dtype) for n, z in state["z"].items()},
                        "x": {n: mx.zeros(x.shape, x.dtype) for n, x in state["x"].items()}}
                xs0 = {n: host(x) for n, x in state["x"].items()}
            seen: dict[str, Any] = {}

            def loss(eps: dict[str, Any]) -> Any:
                state["eps"], state["z"], state["x"], state["order"] = eps, {}, {}, []
                outs = _arrays(model(*xs))
                seen["z"], seen["order"], seen["outs"] = dict(state["z"]), list(state["order"]), outs
                return sum(((o * r).sum() for o, r in zip(outs, rs)), mx.array(0.0))

            with Seeded(seed):
                _, grads = mx.value_and_grad(loss)(eps0)
                mx.eval(grads)
    finally:
        state["eps"] = None
    by_name = {n.name: n for n in nodes}
    signals = []
    for n in seen["order"]:
        z = host(seen["z"][n])  # bfloat16 widened: the signal statistics sum in numpy
        node = by_name[n]
        try:
            x = xs0.get(n)
            xin = (None,) * 4 if x is None or n not in grads["x"] else (
                float(np.mean(np.square(x.astype(np.float64)))),
                float(np.mean(np.square(host(grads["x"][n]).astype(np.float64)))),
                int(x.shape[-1]), int(x.size) // max(int(x.shape[-1]), 1))  # channels-last: units on the last axis
            signals.append(Signal(n, units_last(z, -1, node.n_units), units_last(host(grads["z"][n]), -1, node.n_units),
                                  state["inp"].get(n), *xin))
        except ValueError:
            continue
    first = xs[0]
    return Probe(signals, batch, desc, any(varies(host(o)) for o in seen["outs"]), varies(host(first)),
                 batch_stats=list(stats.values()))


def view(model: Any, name: str, example_input: Any = None, batch: int = 32, seed: int = 0) -> ModelView:
    """The :class:`ModelView` of an MLX module, with a probe pass when an input is known or inferable."""
    params, nodes, node_modules = extract_params(model)

    def make_input() -> tuple[Any, str]:
        if example_input is None:
            return infer_input(nodes, batch, np.random.default_rng(seed), float_dtype(model))
        x = example_input
        x = tuple(mx.array(a) for a in x) if isinstance(x, (tuple, list)) else mx.array(x)
        first = x[0] if isinstance(x, tuple) else x
        return x, f"the given example input of shape {tuple(first.shape)}"

    def run(x: Any, desc: str) -> Probe:
        first = x[0] if isinstance(x, tuple) else x
        return probe(model, nodes, node_modules, x, int(first.shape[0]) if first.ndim else batch, seed, desc)

    return ModelView("mlx", name, params, nodes).run_probe(make_input, run,
                                                           "return (model, example_input) from the factory")


def example() -> tuple[Any, int]:
    """A small ReLU MLP built with ``mlx.nn`` and its parameter count (conformance checks)."""
    with Seeded(0):
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return model, sum(int(v.size) for _, v in tree_flatten(model.parameters()))

__all__ = ["example", "extract_params", "infer_input", "layer_io_bytes", "layer_of", "probe", "read_only",
           "tapped_classes", "view"]
