"""The Flax linen runner of ``scale-check`` (:class:`FlaxRunner`, :mod:`invariants.frameworks.runner`).

The factory returns ``(module, x)``: a ``flax.linen.Module`` and its example input (linen layers infer their
input sizes, so the input cannot be guessed before the variables exist).  At seed ``s`` the variables are
``module.init(jax.random.key(s), x)``.  Recording goes through ``flax.linen.intercept_methods``: every
submodule's ``__call__`` passes through one interceptor that adds the second moment of its output (and, for
a weight layer, of its input) to a running mean and drops the tensor (streamed: no layer's activations are
kept, only each weight layer's input at initialization, for ``ΔW·x_0``).  Names are the module paths joined
with ``/`` (``Dense_0``, ``block/attn``); learning-rate multipliers key on ``path/param`` (``Dense_0/kernel``)
through the module's ``lr_multipliers`` (an attribute or method of the module class: a dict, or a function
of the optimizer's name returning one).  Training is :func:`invariants.frameworks.jax.coordcheck.run_steps`.

Roles (leaf modules, i.e. modules that call no submodule): ``preact`` for ``Dense``, ``Conv`` and ``Embed``
(``ΔW·x`` is the layer itself with the weight ``ΔW`` and no bias), ``act`` for ``PReLU`` (linen's activations
are functions such as ``nn.relu``: no module, not seen; the next layer's input is), ``norm`` for the
normalization layers, ``other`` for any other layer with parameters; ``Dropout`` passes through.  Not
supported: Flax NNX modules, models needing RNG streams at ``apply`` (dropout in training mode), mutable
collections other than ``batch_stats`` (whose updates are discarded), and depth mode's mean-field
prediction (the activations are functions, not readable from the module tree).

Cost estimate: ``jax.eval_shape`` of ``init`` (parameter shapes) and of ``apply`` with
``capture_intermediates`` (every submodule's output shape), nothing allocated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import traverse_util

from invariants.frameworks.errors import BadModel
from invariants.frameworks.jax.coordcheck import (Accumulator, Compiled, CompiledCache, JaxRunner, first_floating,
                                                  run_steps, structure)
from invariants.frameworks.runner import PREACT, Key, multipliers, role

WEIGHT_LAYERS = (nn.Dense, nn.Conv, nn.Embed)
NORMS = tuple(getattr(nn, n) for n in ("LayerNorm", "RMSNorm", "GroupNorm", "BatchNorm", "InstanceNorm")
              if hasattr(nn, n))
ACTIVATIONS = (nn.PReLU,)
PASS_THROUGH = (nn.Dropout,)


@dataclass
class FlaxModel:
    """A linen module with its variables and input, and its layer roles (read once by :func:`discover`)."""

    module: nn.Module
    variables: Any
    x: Any
    hooked: dict[str, str] = field(default_factory=dict)
    layers: dict[str, nn.Module] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def inputs(x: Any) -> tuple[tuple, dict]:
    """The example input as call arguments: a tuple as positional inputs, a dict as keyword inputs (as the
    torch runner's ``call``), anything else as the one input."""
    if isinstance(x, tuple):
        return x, {}
    if isinstance(x, dict):
        return (), dict(x)
    return (x,), {}


def apply(model: FlaxModel, params: Any, x: Any = None) -> Any:
    """``module.apply`` at ``params`` (on ``x``, default the model's input) with the other collections as
    initialized (``batch_stats`` updates discarded)."""
    rest = {k: v for k, v in model.variables.items() if k != "params"}
    mutable = ["batch_stats"] if "batch_stats" in rest else False
    args, kwargs = inputs(model.x if x is None else x)
    out = model.module.apply({"params": params, **rest}, *args, mutable=mutable, **kwargs)
    return out[0] if mutable else out


def discover(model: FlaxModel) -> None:
    """Fill ``model.hooked`` (leaf modules by role, in call order), ``layers`` and ``skipped`` from one
    ``jax.eval_shape`` pass through an interceptor (nothing computed)."""
    calls: dict[str, nn.Module] = {}

    def seen(next_fun: Callable[..., Any], args: tuple, kwargs: dict, ctx: Any) -> Any:
        if ctx.method_name == "__call__" and ctx.module.path:
            calls.setdefault("/".join(ctx.module.path), ctx.module)
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(seen):
        jax.eval_shape(lambda p: apply(model, p), model.variables["params"])
    flat = traverse_util.flatten_dict(model.variables.get("params", {}))
    for name, m in calls.items():
        if any(other.startswith(name + "/") for other in calls):
            own = sorted(k[-1] for k in flat if "/".join(k[:-1]) == name)
            if own:
                model.skipped[name] = (f"{type(m).__name__} holds parameters of its own ({', '.join(own)}) beside "
                                       "its submodules: their products and updates are not measured")
            continue
        has_params = any("/".join(k[:-1]) == name for k in flat)
        kind = role(m, name, has_params, (WEIGHT_LAYERS, ACTIVATIONS, NORMS, PASS_THROUGH), model.skipped)
        if kind is None:
            continue
        model.hooked[name] = kind
        model.layers[name] = m


def param(params: Any, name: str) -> Any:
    """The weight of weight layer ``name`` (``kernel``, or ``embedding`` of an ``Embed``)."""
    node = params
    for part in name.split("/"):
        node = node[part]
    return node["embedding"] if "embedding" in node else node["kernel"]


def forward(model: FlaxModel, params: Any, x: Any, keep: bool) -> tuple[Any, Any, Any]:
    """The recording forward (:class:`~invariants.frameworks.jax.coordcheck.Compiled`): the output, the running
    second moments by ``(name, kind)`` and, with ``keep``, the weight layers' inputs."""
    acc = Accumulator(keep)

    def hook(next_fun: Callable[..., Any], args: tuple, kwargs: dict, ctx: Any) -> Any:
        out = next_fun(*args, **kwargs)
        if ctx.method_name != "__call__" or not ctx.module.path:
            return out
        name = "/".join(ctx.module.path)
        kind = model.hooked.get(name)
        if kind is None:
            return out
        y = first_floating(out)
        if y is not None:
            acc.add(name, kind, y)
        if kind == PREACT and args:
            acc.layer_input(name, args[0])
        return out

    with nn.intercept_methods(hook):
        y = first_floating(apply(model, params, x))
    if y is None:
        raise ValueError("the model's output holds no floating array")
    return y, acc.means(), acc.inputs


def delta(model: FlaxModel, name: str, dw: Any, x0: Any) -> Any:
    """``ΔW·x_0``: weight layer ``name`` applied to ``x0`` with the weight ``dw`` and no bias."""
    layer = model.layers[name]
    if isinstance(layer, nn.Embed):
        return layer.clone(parent=None, name=None).apply({"params": {"embedding": dw}}, x0)
    return layer.clone(parent=None, name=None, use_bias=False).apply({"params": {"kernel": dw}}, x0)


def module_key(module: nn.Module, *rest: Any) -> tuple | None:
    """A :class:`~invariants.frameworks.jax.coordcheck.CompiledCache` key of a linen module and ``rest``: linen
    modules are dataclasses, so their class and fields fix the computation; ``None`` (no caching) for a module
    with an unhashable field."""
    try:
        return (type(module), hash(module), *rest)
    except TypeError:
        return None


class FlaxRunner(JaxRunner):
    """The Flax linen :class:`~invariants.frameworks.runner.ScalingRunner` (module docstring)."""

    name = "flax"

    def __init__(self) -> None:
        self.cache = CompiledCache()
        self.inits = CompiledCache()  # per model structure: the jitted init and the roles read once

    def owns(self, obj: Any) -> bool:
        return isinstance(obj, nn.Module)

    def size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> tuple[int, int] | None:
        try:
            module, x = build(n)
            if not self.owns(module) or x is None:
                return None
            args, kwargs = inputs(x)
            shapes = jax.eval_shape(lambda k: module.init(k, *args, **kwargs), jax.random.key(0))
        except Exception:  # noqa: BLE001  the estimate falls back to a real build
            return None
        params = sum(math.prod(s.shape) for s in jax.tree_util.tree_leaves(shapes))
        try:
            _, inter = jax.eval_shape(lambda v: module.apply(v, *args, capture_intermediates=True,
                                                             mutable=["intermediates"], **kwargs), shapes)
            rows = max(1, jnp.shape(jax.tree_util.tree_leaves(x)[0])[0])
            acts = sum(math.prod(s.shape) for s in jax.tree_util.tree_leaves(inter)) // rows
        except Exception:  # noqa: BLE001
            acts = 0
        return int(params), int(acts)

    def built_size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> int:
        module, x = build(n)
        model, _ = self.prepare(module, x, 1, 0)
        return sum(int(a.size) for a in jax.tree_util.tree_leaves(model.variables))

    def prepare(self, obj: Any, x: Any, batch: int, seed: int) -> tuple[Any, Any]:
        if x is None:
            raise BadModel(f"a Flax module needs its example input: return ({type(obj).__name__}(...), x) from the "
                           "factory (linen layers infer their sizes from it)")
        x = jax.tree_util.tree_map(jnp.asarray, x)
        key = module_key(obj, structure(x))  # None: initialized and read afresh

        def first() -> tuple[Any, FlaxModel]:
            init = jax.jit(lambda k, x_: obj.init(k, *inputs(x_)[0], **inputs(x_)[1]))
            template = FlaxModel(obj, init(jax.random.key(int(seed)), x), x)
            discover(template)
            return init, template

        init, template = self.inits.get(key, first)
        model = FlaxModel(obj, init(jax.random.key(int(seed)), x), x, template.hooked, template.layers,
                          template.skipped)
        return model, x

    def record(self, model: Any, x: Any, steps: list[int], optimizer: str, lr: float,
               seed: int) -> dict[Key, float]:
        params = model.variables["params"]
        mult = multipliers(model.module, optimizer)
        flat = traverse_util.flatten_dict(params)
        rates = traverse_util.unflatten_dict({k: lr * float(mult.get("/".join(k), 1.0)) for k in flat})

        key = module_key(model.module, tuple(model.hooked.items()), structure(params, x))  # None: compiled afresh
        compiled = self.cache.get(key, lambda: Compiled(lambda p, x_, keep: forward(model, p, x_, keep),
                                                        lambda n, dw, x0: delta(model, n, dw, x0), param))
        return run_steps(compiled, params, x, rates, steps, optimizer, seed)

    def weight_shape(self, model: Any, name: str) -> tuple[int, ...]:
        return tuple(param(model.variables["params"], name).shape)

    def is_lookup(self, layer: Any) -> bool:
        return isinstance(layer, nn.Embed)


#: the runner :meth:`invariants.frameworks.flax.FlaxFramework.scaling_runner` returns
RUNNER = FlaxRunner()

__all__ = ["ACTIVATIONS", "FlaxModel", "FlaxRunner", "NORMS", "PASS_THROUGH", "RUNNER", "WEIGHT_LAYERS", "apply",
           "delta", "discover", "forward", "inputs", "module_key", "param"]
