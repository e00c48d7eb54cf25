"""Training loop for the reference network: minibatch steps with an explicit generator."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from invariants.reference.network import Architecture, Params, loss_and_grad
from invariants.reference.optimizers import Optimizer


@dataclass
class TrainResult:
    """Final parameters, the optimizer (with its state) and the loss before each step."""

    params: Params
    optimizer: Optimizer
    losses: list[float] = field(default_factory=list)


def train(arch: Architecture, params: Params, x: np.ndarray, t: np.ndarray, optimizer: Optimizer,
          steps: int, batch_size: int | None = None, rng: np.random.Generator | None = None,
          callback=None) -> TrainResult:
    """Run ``steps`` optimizer steps on (x, t).

    Minibatches (when ``batch_size`` < len(x)) and dropout masks are drawn from ``rng``; the same
    minibatch feeds every unit, so minibatch sampling itself never breaks symmetry.
    ``callback(step, params)`` is called after each step when given.
    """
    n = len(x)
    result = TrainResult(params=params, optimizer=optimizer)
    for step in range(steps):
        if batch_size is not None and batch_size < n:
            if rng is None:
                raise ValueError("minibatch sampling needs an explicit np.random.Generator (rng=...)")
            idx = rng.choice(n, size=batch_size, replace=False)
            xb, tb = x[idx], t[idx]
        else:
            xb, tb = x, t
        loss, grads = loss_and_grad(arch, result.params, xb, tb, rng=rng)
        result.losses.append(loss)
        result.params = optimizer.step(result.params, grads)
        if callback is not None:
            callback(step, result.params)
    return result
