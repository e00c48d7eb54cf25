"""The training loop of the coordinate check on JAX arrays, shared by the Flax and Keras scaling runners
(:mod:`invariants.frameworks.flax.scaling`, :mod:`invariants.frameworks.keras.scaling`).

It follows the torch reference runner (:mod:`invariants.frameworks.torch.scaling`) step for step: the linear
loss ``L = Σ_b ⟨f(x_b), r_b⟩ / B`` with ``r`` i.i.d. ``N(0, 1)`` of the output's shape (drawn here from
``np.random.default_rng(seed)``), SGD without momentum or Adam with torch's defaults
(:data:`invariants.frameworks.runner.ADAM`; ``torch.optim.Adam``'s update, bias corrections included), each
parameter's rate ``lr`` times its multiplier; at each recorded step the forward's running second moments,
the output's, ``f_t(x) − f_0(x)``, and ``ΔW·x_0`` of every weight layer.  Only scalars and each weight
layer's input at initialization are kept between steps.

Plain JAX (functions and parameter pytrees) has no module structure to record by role: it has no runner
(:meth:`invariants.frameworks.base.Framework.scaling_runner` is ``None``); these helpers serve the frameworks
built on it.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from invariants.frameworks.runner import (ADAM, LAYER_INPUT, OUTPUT, OUTPUT_CHANGE, PREACT, UPDATE, Key, Moments,
                                          ScalingRunner)

def second_moment(a: Any) -> Any:
    """``mean(a²)`` over every element (a JAX scalar; traced inside a gradient)."""
    return jnp.mean(jnp.square(jnp.asarray(a, jnp.float32)))


def is_floating(a: Any) -> bool:
    """Whether ``a`` is a floating JAX/numpy array (or tracer)."""
    return hasattr(a, "dtype") and hasattr(a, "shape") and jnp.issubdtype(a.dtype, jnp.floating)


def first_floating(out: Any) -> Any:
    """The first floating array of a layer's output (an array, or a tuple/list/dict holding one)."""
    if is_floating(out):
        return out
    items = out.values() if isinstance(out, dict) else out if isinstance(out, (tuple, list)) else ()
    for v in items:
        t = first_floating(v)
        if t is not None:
            return t
    return None


class Accumulator:
    """The running second moments of one forward: ``{(name, kind): [sum, calls]}`` (a layer called several
    times: the mean of its calls, as the torch runner), and the weight layers' inputs when kept."""

    def __init__(self, keep: bool) -> None:
        self.sums: dict[tuple[str, str], list[Any]] = {}
        self.inputs: dict[str, Any] = {}
        self.keep = keep

    def add(self, name: str, kind: str, a: Any) -> None:
        s = self.sums.setdefault((name, kind), [0.0, 0])
        s[0], s[1] = s[0] + second_moment(a), s[1] + 1

    def layer_input(self, name: str, a: Any) -> None:
        """A weight layer's input: its second moment (floating inputs) and, when kept, the input itself."""
        if is_floating(a):
            self.add(name, LAYER_INPUT, a)
        if self.keep and name not in self.inputs:
            self.inputs[name] = a

    def means(self) -> dict[tuple[str, str], Any]:
        return {k: s / n for k, (s, n) in self.sums.items()}


def optimizer_init(optimizer: str, params: Any) -> Any:
    """The optimizer's state (Adam: the step count and the two moments; SGD: none).

    Raises:
        ValueError: an unknown optimizer.
    """
    if optimizer == "sgd":
        return None
    if optimizer == "adam":
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return 0, zeros, zeros
    raise ValueError(f"unknown optimizer {optimizer!r} (sgd, adam)")


def optimizer_step(optimizer: str, params: Any, grads: Any, state: Any, rates: Any) -> tuple[Any, Any]:
    """One step of SGD (``p − lr·g``) or Adam (``torch.optim.Adam``: ``p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)``)
    with the per-parameter rates ``rates`` (a pytree like ``params``)."""
    tree = jax.tree_util.tree_map
    if optimizer == "sgd":
        return tree(lambda p, g, lr: p - lr * g, params, grads, rates), state
    b1, b2, eps = ADAM
    t, m, v = state
    t += 1
    m = tree(lambda m_, g: b1 * m_ + (1 - b1) * g, m, grads)
    v = tree(lambda v_, g: b2 * v_ + (1 - b2) * g * g, v, grads)
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    new = tree(lambda p, m_, v_, lr: p - (lr / c1) * m_ / (jnp.sqrt(v_) / jnp.sqrt(c2) + eps), params, m, v, rates)
    return new, (t, m, v)


#: :func:`optimizer_step` compiled (one program per parameter structure)
jitted_step = jax.jit(optimizer_step, static_argnums=0)


class Compiled:
    """The jitted recording forward, loss gradient and ``ΔW·x`` of one model structure, reused across the seeds
    of a size (the structure, not the values: the parameters, the input and ``r`` are arguments).

    Args:
        forward: ``forward(params, x, keep_inputs) -> (output, {(name, kind): mean(x²)}, {name: input})``.
        delta: ``delta(name, ΔW, x_0)``: weight layer ``name``'s forward with the weight ``ΔW`` and no bias.
        kernel: ``kernel(params, name)``: the weight of weight layer ``name``.
    """

    def __init__(self, forward: Callable[[Any, Any, bool], Any], delta: Callable[[str, Any, Any], Any],
                 kernel: Callable[[Any, str], Any]) -> None:
        def loss(p: Any, x: Any, r: Any, keep: bool) -> tuple[Any, Any]:
            y, mom, inp = forward(p, x, keep)
            return jnp.sum(y * r) / max(1, y.shape[0] if y.ndim else 1), (y, mom, inp)

        self.forward = jax.jit(forward, static_argnums=2)
        self.grad = jax.jit(jax.value_and_grad(loss, has_aux=True), static_argnums=3)
        def updates(p: Any, w0: dict[str, Any], x0: dict[str, Any]) -> dict[str, Any]:
            return {name: second_moment(delta(name, kernel(p, name) - w0[name], x)) for name, x in x0.items()}

        self.kernel = kernel
        self.updates = jax.jit(updates)
        self.output: Any = None  # the output's shape and dtype, read once


class CompiledCache:
    """The last few compiled objects (:class:`Compiled`, a runner's jitted ``init``) by a key of the model's
    structure (bounded: a run visits its sizes in turn, seed after seed)."""

    def __init__(self, keep: int = 16) -> None:
        self.items: dict[Any, Any] = {}
        self.keep = keep

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        if key is None:
            return make()
        if key not in self.items:
            if len(self.items) >= self.keep:
                self.items.pop(next(iter(self.items)))
            self.items[key] = make()
        return self.items[key]


def structure(*trees: Any) -> tuple[Any, ...]:
    """A hashable key of pytrees' structure, shapes and dtypes (part of a :class:`CompiledCache` key)."""
    out: list[Any] = []
    for t in trees:
        leaves, treedef = jax.tree_util.tree_flatten(t)
        out.append((treedef, tuple((tuple(jnp.shape(a)), str(jnp.result_type(a))) for a in leaves)))
    return tuple(out)


def run_steps(compiled: Compiled, params: Any, x: Any, rates: Any, steps: list[int], optimizer: str,
              seed: int) -> dict[Key, float]:
    """Second moments ``{(name, kind, step): mean(x²)}`` over the training steps (module docstring).

    Args:
        compiled: the model's :class:`Compiled` functions.
        params: the trainable parameters (a pytree); x: the input; rates: the parameters' learning rates (a
            pytree like ``params``).
        steps: the steps at which to record (sorted; 0: initialization).
        optimizer: ``"sgd"`` or ``"adam"``.
        seed: seeds the loss direction ``r``.

    Raises:
        ValueError: an unknown optimizer, or an output without a floating array.
    """
    moments = Moments()
    last = steps[-1]
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"unknown optimizer {optimizer!r} (sgd, adam)")
    state = optimizer_init(optimizer, params) if last > 0 else None
    if compiled.output is None:
        compiled.output = jax.eval_shape(compiled.forward, params, x, False)[0]
    shape = compiled.output
    if shape is None or not jnp.issubdtype(shape.dtype, jnp.floating):
        raise ValueError("the model's output holds no floating array")
    r = jnp.asarray(np.random.default_rng(int(seed)).standard_normal(shape.shape), shape.dtype)
    x0: dict[str, Any] = {}
    w0: dict[str, Any] = {}
    y0 = None
    keep = last > 0  # one program per model: the inputs come back at every step, only step 0's are kept
    for step in range(last + 1):
        if step > 0 and step in steps:
            for name, v in compiled.updates(params, w0, x0).items():
                moments.add((name, UPDATE, step), float(v))
        if last == 0:
            y, mom, inp = compiled.forward(params, x, False)
            g = None
        else:
            (_, (y, mom, inp)), g = compiled.grad(params, x, r, keep)
        if step == 0:
            y0, x0 = y, inp
            w0 = {name: compiled.kernel(params, name) for name in x0}
        if step in steps:
            for (name, kind), v in sorted(mom.items()):
                moments.add((name, kind, step), float(v))
            moments.add(("output", OUTPUT, step), float(second_moment(y)))
            if step > 0:
                moments.add(("output", OUTPUT_CHANGE, step), float(second_moment(y - y0)))
        if step == last:
            break
        params, state = jitted_step(optimizer, params, g, state, rates)
    return moments.values


class JaxRunner(ScalingRunner):
    """What the Flax and Keras runners share: their models carry ``hooked`` (``{name: kind}`` in call order),
    ``layers`` (``{name: layer}``) and ``skipped`` (``{name: reason}``); weights are ``(in, out)`` for dense
    layers, ``(*k, in/groups, out)`` for convolutions and ``(vocabulary, dim)`` for lookups."""

    compiles = True  # one jitted program per size (the compile cache is keyed by the module, not the seed)

    def weight_shape(self, model: Any, name: str) -> tuple[int, ...]:
        """The shape of weight layer ``name``'s weight."""
        raise NotImplementedError

    def is_lookup(self, layer: Any) -> bool:
        """Whether the layer is an embedding lookup (no fan-in)."""
        raise NotImplementedError

    def roles(self, model: Any) -> tuple[list[str], dict[str, str]]:
        return list(model.hooked), dict(model.skipped)

    def fans(self, model: Any) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for name, layer in model.layers.items():
            if model.hooked[name] != PREACT:
                continue
            shape = self.weight_shape(model, name)
            k = math.prod(shape[:-2])
            out[name] = (1, shape[-1]) if self.is_lookup(layer) else (k * shape[-2], k * shape[-1])
        return out


def synthetic(shape: tuple[int, ...], seed: int) -> Any:
    """A fixed ``N(0, 1)`` float32 input of ``shape`` drawn from ``np.random.default_rng(seed)``."""
    return jnp.asarray(np.random.default_rng(int(seed)).standard_normal(shape), jnp.float32)


__all__ = ["Accumulator", "Compiled", "CompiledCache", "JaxRunner", "first_floating", "is_floating", "optimizer_init",
           "optimizer_step",
           "run_steps", "second_moment", "structure", "synthetic"]
