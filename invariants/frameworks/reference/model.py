"""The numpy reference network: ``(Architecture, params)`` -> :class:`~invariants.frameworks.model.ModelView`.

Exact where the other frameworks are empirical:

- interchangeable units come from :func:`invariants.symmetry.unit_classes` (incoming row, bias, norm
  scale and shift *and* outgoing column compared bit for bit), not from the probe's gradients;
- the activation is known (``arch.activation``), so whether a dead unit can be revived is decided from
  ``φ'`` at its constant pre-activation;
- the probe is the network's own forward pass on ``B`` inputs with ``‖x‖² = n_0``
  (:func:`invariants.propagation.unit_inputs`, ``q_0 = 1``) and a backward pass from ``δ_L = r``,
  ``r ~ N(0, 1)``, through the same operations as :func:`invariants.reference.loss_and_grad`
  (norms included, dropout off); and the mean-field curve of the measured per-layer gain factors
  ``σ_w,l² = Var(W_l)·n_{l-1}`` comes with it (:func:`invariants.propagation.variance_curve`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from invariants.layers import TORCH, Dense
from invariants.frameworks.model import INPUT_ROUNDING_ULPS, ModelView, Node, Param, Probe, Signal, varies
from invariants.reference import kernels
from invariants.reference.activations import get_activation
from invariants.reference.network import Architecture, forward


def is_model(obj: Any) -> bool:
    return isinstance(obj, (tuple, list)) and len(obj) in (2, 3) and isinstance(obj[0], Architecture) \
        and isinstance(obj[1], dict)


def _check(arch: Architecture, params: dict[str, np.ndarray]) -> None:
    shapes = arch.param_shapes()
    missing = sorted(set(shapes) - set(params))
    if missing:
        raise ValueError(f"reference params lack {', '.join(missing)} (expected {', '.join(shapes)})")
    for k, s in shapes.items():
        if tuple(np.shape(params[k])) != s:
            raise ValueError(f"reference param {k} has shape {tuple(np.shape(params[k]))}, expected {s}")


def view(arch: Architecture, params: dict[str, np.ndarray], name: str, x: Any = None, batch: int = 32,
         seed: int = 0) -> ModelView:
    """The view of a reference network, with its exact ties and probe.

    Raises:
        ValueError: params that do not fit the architecture.
    """
    from invariants.propagation import unit_inputs
    from invariants.symmetry import unit_classes

    _check(arch, params)
    L = arch.depth
    ps: list[Param] = []
    nodes: list[Node] = []
    for key in arch.param_shapes():
        l = int(key[1:])
        value = np.asarray(params[key])
        owner = f"layer{l}"
        if key[0] == "W":
            layer = Dense(arch.sizes[l - 1], arch.sizes[l])
            ps.append(Param(key, value, "weight", owner, "dense", layer, TORCH))
        else:
            role = {"b": "bias", "g": "norm_scale", "s": "norm_shift"}[key[0]]
            ps.append(Param(key, value, role, owner, "dense", None, TORCH))
    by = {p.name: p for p in ps}
    for l in range(1, L + 1):
        nodes.append(Node(f"layer{l}", "dense", by[f"W{l}"].layer, by[f"W{l}"], by.get(f"b{l}"),  # type: ignore[arg-type]
                          activation=(arch.activation if l < L and arch.norm is None else
                                      None if l < L else "identity")))
    mv = ModelView("reference", name, ps, nodes)
    mv.exact_ties = {f"layer{l}": unit_classes(arch, params, l) for l in arch.hidden_layers}
    rng = np.random.default_rng(seed)
    if x is None:
        x = unit_inputs(batch, arch.sizes[0], rng)
        desc = f"N(0, 1) of shape ({batch}, {arch.sizes[0]}), rows rescaled to ||x||^2 = {arch.sizes[0]} (q0 = 1)"
    else:
        x = np.asarray(x)
        desc = f"the given input of shape {x.shape}"
    try:
        mv.probe = _probe(arch, params, np.asarray(x, dtype=arch.dtype), rng, desc)
    except ValueError as exc:
        raise ValueError(f"probe input: {exc}") from None
    if arch.norm is None:
        mv.mean_field = lambda: _mean_field(arch, params)
    return mv


def _probe(arch: Architecture, params: dict[str, np.ndarray], x: np.ndarray, rng: np.random.Generator,
           desc: str) -> Probe:
    from invariants.reference.norms import norm_backward

    eval_arch = Architecture(**{**arch.__dict__, "input_dropout": 0.0, "hidden_dropout": 0.0})
    cache = forward(eval_arch, params, x)
    act = get_activation(arch.activation)
    delta = rng.standard_normal(cache.output.shape).astype(x.dtype)
    deltas: dict[int, np.ndarray] = {}
    for l in range(arch.depth, 0, -1):
        if l in cache.norms:
            delta, _, _ = norm_backward(delta, cache.norms[l], params[f"g{l}"], arch.kernel)
        deltas[l] = delta  # ∂L/∂z_l (before the norm)
        if l > 1:
            delta = kernels.matmul(delta, params[f"W{l}"], arch.kernel) * act.df(cache.preacts[l - 2])
    signals = [Signal(f"layer{l}", cache.linear[l - 1], deltas[l], varies(cache.inputs[l - 1], INPUT_ROUNDING_ULPS))
               for l in range(1, arch.depth + 1)]
    return Probe(signals, int(x.shape[0]), desc, varies(cache.output), varies(x))


def _mean_field(arch: Architecture, params: dict[str, np.ndarray]) -> dict[str, Any]:
    """Mean-field forward curve and per-layer gradient factors for the measured gains (no norm)."""
    from invariants.propagation import chi, variance_curve

    L = arch.depth
    sw2 = np.array([float(np.mean(np.square(params[f"W{l}"], dtype=np.float64))) * arch.sizes[l - 1]
                    for l in range(1, L + 1)])
    sb2 = float(np.mean([np.mean(np.square(params[f"b{l}"], dtype=np.float64)) for l in range(1, L + 1)])) \
        if arch.bias else 0.0
    q = variance_curve(arch.activation, sw2, L, sb2, 1.0)
    # χ_l for hidden layer l: σ_w,l+1²·E[φ'²] at q_l, times n_{l+1}/n_l (unequal widths)
    chis = [float(chi(arch.activation, q[l - 1], sw2[l])) * arch.sizes[l + 1] / arch.sizes[l] for l in range(1, L)]
    return {"q": [float(v) for v in q], "chi": chis, "sigma_w2": [float(v) for v in sw2], "sigma_b2": sb2}


__all__ = ["is_model", "view"]


def example() -> tuple[Any, int]:
    """``((Architecture, params), parameter count)`` of a small tanh network (conformance checks)."""
    from invariants.reference.network import random_params

    arch = Architecture((8, 16, 4), activation="tanh")
    params = random_params(arch, np.random.default_rng(0))
    return (arch, params), int(sum(np.size(v) for v in params.values()))
