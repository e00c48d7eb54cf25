"""The perturbed forward/backward pass shared by the JAX-traced model probes (Flax, Keras on JAX).

The probe loss is ``L = sum_t <out_t, r_t>`` with fixed Gaussian ``r`` (seeded), and each node's output
``z`` gets an additive ``eps = 0``; ``dL/d eps`` at ``eps = 0`` is ``delta = dL/dz`` for every node in one
backward pass (``invariants.frameworks.model.Signal``).  Each node's first input ``x`` gets its own
``eps_x = 0`` as it enters the node (:func:`record_input`), and only the moments ``mean(x²)`` and
``mean((dL/d eps_x)²)`` leave the compiled pass (the quantities :mod:`invariants.modelcheck.signal`
compares; float32, JAX's default precision).
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np


def perturbed_pass(run: Callable[..., tuple[list[Any], dict[str, Any], dict[str, Any]]], seed: int,
                   force_jit: bool = False, weights: Any = None,
                   shapes: Any = None) -> tuple[dict[str, Any], dict[str, Any], list[Any], dict[str, Any]]:
    """One forward and backward pass of ``run`` with ``eps = 0`` at every node.

    Args:
        run: ``eps -> (floating output leaves, {node: z}, {node: input varies}, {node: x})``; ``eps`` is
            ``None`` (shape tracing) or ``{"z": {node: array shaped like z}, "x": {node: shaped like x}}``
            to add to each node's output and input (:func:`record`, :func:`record_input`).
        seed: seed of the loss's ``r`` (``numpy.random.default_rng(seed).standard_normal`` per output leaf).
        force_jit: jit the pass even when every ``z`` has at most 2 dims (Keras recurrent layers).
        weights: when given (a pytree of arrays), ``run`` is called as ``run(eps, weights)`` and the compiled
            pass takes them as arguments: closed over, they would be embedded in the program as constants,
            which XLA folds at compile time (seconds per million values) and which make every compiled
            program a different one (the persistent compile cache never hits across builds of a model).
        shapes: the shapes ``run`` will trace, when the caller can read them without tracing (Keras' symbolic
            graph): ``(output leaves, {node: z}, {node: x})`` of ``jax.ShapeDtypeStruct``.  They size ``eps``
            and ``r`` instead of a shape-only trace of ``run`` (a Keras EfficientNet-B0's forward traced a
            second time: about a tenth of its check); the pass then checks that they are the shapes it traced
            and, if any differs, runs again from a shape-only trace.  Either way the pass computes with the
            same ``eps`` and ``r`` (zeros, and draws that depend on the output shapes only), so the same result.

    Returns:
        ``(zs, inputs_vary, output_leaves, grads, inputs)``: ``grads[node] = dL/dz``, ``z``'s shape;
        ``inputs[node] = (mean(x²), mean((dL/dx)²), width, rows)`` with units on ``x``'s last axis.

    Raises:
        Exception: whatever ``run`` raises (the caller reports it).
    """
    def call(eps: Any, w: Any) -> Any:
        return run(eps) if weights is None else run(eps, w)

    if shapes is not None:
        out_shapes, z_shapes, x_shapes = shapes
        traced: list[Any] = []
        try:
            result = _pass(call, seed, force_jit, weights, out_shapes, z_shapes, x_shapes, traced)
        except Exception:  # noqa: BLE001  shapes that do not fit (or the model's own error): traced below
            traced.clear()
        if traced and traced[-1] == _specs(out_shapes, z_shapes, x_shapes):
            return result
    out_shapes, z_shapes, _, x_shapes = jax.eval_shape(lambda: call(None, weights))
    return _pass(call, seed, force_jit, weights, out_shapes, z_shapes, x_shapes, [])


def _specs(leaves: Any, zs: dict[str, Any], xs: dict[str, Any]) -> tuple[Any, ...]:
    """The shapes and dtypes of a pass's output leaves, ``z`` and ``x`` (what sizes ``r`` and ``eps``)."""
    def one(a: Any) -> tuple[tuple[int, ...], np.dtype]:
        return tuple(int(d) for d in a.shape), np.dtype(a.dtype)

    return [one(a) for a in leaves], {k: one(v) for k, v in zs.items()}, {k: one(v) for k, v in xs.items()}


def _pass(call: Callable[[Any, Any], Any], seed: int, force_jit: bool, weights: Any, out_shapes: Any,
          z_shapes: dict[str, Any], x_shapes: dict[str, Any], traced: list[Any]) -> Any:
    """:func:`perturbed_pass` with ``eps`` and ``r`` sized by the given shapes; ``traced`` gets the shapes
    ``call`` actually produced (:func:`_specs`)."""
    rng = np.random.default_rng(seed)
    rs = [jnp.asarray(rng.standard_normal(o.shape), dtype=o.dtype) for o in out_shapes]

    def loss(eps: dict[str, Any], w: Any) -> Any:
        leaves, zs, inp, xs = call(eps, w)
        traced.append(_specs(leaves, zs, xs))
        return sum(jnp.sum(t * r) for t, r in zip(leaves, rs)), (zs, inp, leaves, {k: _moment(v) for k, v in xs.items()})

    def moments(eps: dict[str, Any], w: Any) -> Any:
        (_, aux), grads = jax.value_and_grad(loss, has_aux=True)(eps, w)
        return aux, grads["z"], {k: _moment(v) for k, v in grads["x"].items()}

    # host zeros: jnp.zeros compiled one broadcast program per distinct shape (38 of the 40 programs of a
    # Keras EfficientNet-B0 probe, each a compile or a cache read); as arguments they trace to the same pass
    eps0 = {"z": {k: np.zeros(v.shape, v.dtype) for k, v in z_shapes.items()},
            "x": {k: np.zeros(v.shape, v.dtype) for k, v in x_shapes.items()}}
    # jit compiles the whole pass once (convolutions compiled op by op cost seconds each); dense-only
    # models run faster op by op, whose small kernels JAX caches across models
    fn = moments
    if force_jit or any(len(v.shape) > 2 for v in z_shapes.values()):
        fn = jax.jit(fn)
    (zs, inp, outs, xm), grads, gm = fn(eps0, weights)
    widths = {k: int(v.shape[-1]) for k, v in x_shapes.items()}
    xin = {k: (float(xm[k]), float(gm[k]), widths[k], int(np.prod(x_shapes[k].shape)) // max(widths[k], 1))
           for k in xm}
    return zs, inp, outs, grads, xin


def _moment(a: Any) -> Any:
    return jnp.mean(jnp.square(a.astype(jnp.float32)))


def _fitting(eps: Any, a: Any, name: str) -> Any:
    """``eps`` when it has ``a``'s shape and dtype (then ``a + eps`` is ``a`` perturbed, not broadcast or
    promoted: :func:`perturbed_pass` sized ``eps`` from shapes the caller gave, and checks them here).

    Raises:
        ValueError: ``eps`` does not fit ``a``.
    """
    if tuple(eps.shape) != tuple(a.shape) or np.dtype(eps.dtype) != np.dtype(a.dtype):
        raise ValueError(f"eps of {name} is {eps.dtype}{tuple(eps.shape)}, the tensor {a.dtype}{tuple(a.shape)}")
    return eps


def record(state: dict[str, Any], name: str, z: Any, args: tuple) -> Any:
    """Record node ``name``'s output on its first call in a probe ``state`` and return it (``+ eps``).

    ``state`` holds ``eps`` (``None`` or ``{"z": {node: array}, "x": ...}``), ``x`` (``{node: input}``), ``z`` (``{node: output}``), ``order``
    (node names in call order) and ``inp`` (``{node: whether its first input differs across the
    batch}``).  A later call of the same node (a shared layer) is returned unchanged and unrecorded.
    """
    if name in state["z"]:
        return z
    if state["eps"] is not None and name in state["eps"]["z"]:
        z = z + _fitting(state["eps"]["z"][name], z, name)
    state["z"][name] = z
    state["order"].append(name)
    if args and hasattr(args[0], "shape") and len(args[0].shape):
        state["inp"][name] = jnp.any(args[0] != args[0][:1])
    return z


def record_input(state: dict[str, Any], name: str, args: tuple) -> tuple:
    """``args`` with node ``name``'s first input ``x`` recorded in ``state["x"]`` (first call only) and
    ``+ eps_x`` added, so its gradient through this node is ``dL/d eps_x``; unchanged when ``x`` is not a
    floating array (token ids) or the node was called before."""
    if not args or name in state["x"] or name in state["z"]:
        return args
    x = args[0]
    if not hasattr(x, "dtype") or not hasattr(x, "shape") or not len(x.shape) \
            or not jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating):
        return args
    state["x"][name] = x
    if state["eps"] is not None and name in state["eps"]["x"]:
        x = x + _fitting(state["eps"]["x"][name], x, name)
    return (x,) + tuple(args[1:])


def new_state() -> dict[str, Any]:
    """An empty probe state (see :func:`record`)."""
    return {"eps": None, "z": {}, "x": {}, "inp": {}, "order": []}


__all__ = ["new_state", "perturbed_pass", "record", "record_input"]
