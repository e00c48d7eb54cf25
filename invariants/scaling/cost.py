"""The cost of a scale check, estimated before any model is trained (:mod:`invariants.core.cost`).

Each size's model is built once from shapes only by its framework's runner
(:meth:`invariants.frameworks.runner.ScalingRunner.size`: torch's ``meta`` device, ``jax.eval_shape`` for
Flax, Keras' deferred variables; no memory, no values) to count its parameters ``P(n)`` and, with one
shape-only forward, the values of every module output ``A(n)`` (per example).  Then, for the optimizer's
``c`` copies of the parameters (weights, their initial copy for ``ΔW``, gradients; Adam adds its two
moments: ``c = 3`` for SGD, 5 for Adam):

- peak memory ``= 4 bytes × (c·P(n_max) + 2·B·A(n_max))`` (float32; activations kept for the backward pass
  and the layer inputs at initialization for ``ΔW·x_0``; the recorded second moments are scalars, one model
  is alive at a time);
- values ``= Σ_n S·P(n)``; time ``= Σ_n S·(2·R + 6·T + 6·G)·B·P(n) / F`` for ``S`` seeds, ``R`` recorded
  forwards, ``T`` training steps, ``G = 1`` when depth mode's gradient pass runs (a forward and a backward at
  initialization, :meth:`~invariants.frameworks.runner.ScalingRunner.gradient_moments`, for a runner that
  records it; else 0), batch ``B`` and ``F`` = :data:`FLOPS` (a forward costs ``2·B·P`` floating-point
  operations for a dense model, a backward twice that, so a training step or the gradient pass three times a
  forward; convolutions cost more per parameter, so the time is a floor for them).  Without ``G`` the
  estimate of ``--steps 0`` in depth mode was 4x low (``2`` counted of ``2 + 6``).  A size that cannot build from shapes only is estimated from the largest size that did, scaled
  by ``(n/n_0)²`` (a hidden weight matrix's growth); when none did, the smallest size is built once for real
  (the cheapest) and scaled the same way.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from invariants.core.cost import Cost
from invariants.frameworks.runner import ScalingRunner
from invariants.scaling.target import identify

#: float32 multiply-adds per second assumed for one core (a conservative CPU figure)
FLOPS = 2e9
COPIES = {"sgd": 3, "adam": 5}


def estimate(build: Callable[[int], Any], sizes: Sequence[int], seeds: int, steps: Sequence[int], batch: int,
             optimizer: str, runner: ScalingRunner | None = None, gradients: bool = False) -> Cost:
    """The :class:`~invariants.core.cost.Cost` of the run (module docstring); ``runner``: the model's
    framework runner (default: :func:`invariants.scaling.target.identify` at the smallest size);
    ``gradients``: whether the run asks for the gradient pass (depth mode), counted when the runner has one
    (:func:`records_gradients`).

    Raises:
        BadModel: the factory fails at the smallest size when it had to be built for real, or no runner
            owns its model.
    """
    if runner is None:
        runner = identify(build, min(sizes), "the factory")
    counts: dict[int, tuple[int, int]] = {}
    for n in sorted(sizes):
        c = runner.size(build, n)
        if c is not None:
            counts[n] = c
    if not counts:  # nothing builds from shapes: build the smallest size for real (the cheapest) and scale from it
        n0 = min(sizes)
        counts[n0] = (runner.built_size(build, n0), 0)
    n0 = max(counts)
    p0, a0 = counts[n0]
    for n in sizes:
        if n not in counts:
            f = (n / n0) ** 2 if n0 else 1.0
            counts[n] = (int(p0 * f), int(a0 * f))
    recorded, trained = len(set(steps)), max(steps)
    backward = 6 if gradients and records_gradients(runner) else 0
    top = counts[max(sizes)]
    memory = 4 * (COPIES.get(optimizer, 5) * top[0] + 2 * top[1] * batch)
    values = sum(seeds * p for p, _ in counts.values())
    seconds = sum(seeds * (2 * recorded + 6 * trained + backward) * batch * p / FLOPS for p, _ in counts.values())
    return Cost(int(values), int(memory), float(seconds))


def records_gradients(runner: ScalingRunner) -> bool:
    """Whether ``runner`` overrides :meth:`~invariants.frameworks.runner.ScalingRunner.gradient_moments` (the base
    records nothing, so a framework without it costs no gradient pass)."""
    return type(runner).gradient_moments is not ScalingRunner.gradient_moments


__all__ = ["COPIES", "FLOPS", "estimate", "records_gradients"]
