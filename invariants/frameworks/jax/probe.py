"""The perturbed forward/backward pass shared by the JAX-traced model probes (Flax, Keras on JAX).

The probe loss is ``L = sum_t <out_t, r_t>`` with fixed Gaussian ``r`` (seeded), and each node's output
``z`` gets an additive ``eps = 0``; ``dL/d eps`` at ``eps = 0`` is ``delta = dL/dz`` for every node in one
backward pass (``invariants.frameworks.model.Signal``).
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np


def perturbed_pass(run: Callable[[Any], tuple[list[Any], dict[str, Any], dict[str, Any]]], seed: int,
                   force_jit: bool = False) -> tuple[dict[str, Any], dict[str, Any], list[Any], dict[str, Any]]:
    """One forward and backward pass of ``run`` with ``eps = 0`` at every node.

    Args:
        run: ``eps -> (floating output leaves, {node: z}, {node: input varies})``; ``eps`` is ``None``
            (shape tracing) or ``{node: array shaped like z}`` to add to each node's output.
        seed: seed of the loss's ``r`` (``numpy.random.default_rng(seed).standard_normal`` per output leaf).
        force_jit: jit the pass even when every ``z`` has at most 2 dims (Keras recurrent layers).

    Returns:
        ``(zs, inputs_vary, output_leaves, grads)``: ``grads[node] = dL/dz``, ``z``'s shape.

    Raises:
        Exception: whatever ``run`` raises (the caller reports it).
    """
    out_shapes, z_shapes, _ = jax.eval_shape(lambda: run(None))
    rng = np.random.default_rng(seed)
    rs = [jnp.asarray(rng.standard_normal(o.shape), dtype=o.dtype) for o in out_shapes]

    def loss(eps: dict[str, Any]) -> Any:
        leaves, zs, inp = run(eps)
        return sum(jnp.sum(t * r) for t, r in zip(leaves, rs)), (zs, inp, leaves)

    eps0 = {k: jnp.zeros(v.shape, v.dtype) for k, v in z_shapes.items()}
    # jit compiles the whole pass once (convolutions compiled op by op cost seconds each); dense-only
    # models run faster op by op, whose small kernels JAX caches across models
    fn = jax.value_and_grad(loss, has_aux=True)
    if force_jit or any(len(v.shape) > 2 for v in z_shapes.values()):
        fn = jax.jit(fn)
    (_, (zs, inp, outs)), grads = fn(eps0)
    return zs, inp, outs, grads


def record(state: dict[str, Any], name: str, z: Any, args: tuple) -> Any:
    """Record node ``name``'s output on its first call in a probe ``state`` and return it (``+ eps``).

    ``state`` holds ``eps`` (``None`` or ``{node: array}``), ``z`` (``{node: output}``), ``order``
    (node names in call order) and ``inp`` (``{node: whether its first input differs across the
    batch}``).  A later call of the same node (a shared layer) is returned unchanged and unrecorded.
    """
    if name in state["z"]:
        return z
    if state["eps"] is not None and name in state["eps"]:
        z = z + state["eps"][name]
    state["z"][name] = z
    state["order"].append(name)
    if args and hasattr(args[0], "shape") and len(args[0].shape):
        state["inp"][name] = jnp.any(args[0] != args[0][:1])
    return z


__all__ = ["perturbed_pass", "record"]
