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
- values ``= Σ_n S·P(n)``;
- time ``= C_0 + C_m·S·N + C_c·N + Σ_n S·(2·R + 6·T + 6·G)·B·P(n) / F``: a fixed term ``C_0`` =
  :data:`SECONDS_FIXED` per check (the first forward and backward pass of the process, the fits, the report),
  ``C_m`` = :data:`SECONDS_PER_MODEL` per model run (``S`` seeds × ``N`` sizes: building the model, hooking its
  modules, the optimizer, the synthetic batch), ``C_c`` = :data:`SECONDS_PER_COMPILE` per size for a runner
  that compiles (JAX's ``jit``: Flax, Keras; ``ScalingRunner.compiles``; else 0), and the floating-point
  operations over ``F`` = :data:`FLOPS`, for ``R`` recorded forwards, ``T`` training steps, ``G = 1`` when
  depth mode's gradient pass runs (a forward and a backward at initialization,
  :meth:`~invariants.frameworks.runner.ScalingRunner.gradient_moments`, for a runner that records it; else 0)
  and batch ``B`` (a forward costs ``2·B·P`` operations for a dense model, each layer's parameters once; a
  backward twice that, so a training step or the gradient pass three times a forward; convolutions cost more
  per parameter, so this term is a floor for them).  The constants are rounded fits of
  ``benchmarks/scale_cost.py`` (fresh processes, timed from the estimate line to the exit) on the shared 2-core
  development machine, where measured ÷ estimated stays within that script's band from a tiny run (about
  0.5 s, all fixed costs) to a large depth run; before, with the FLOP term alone at 2 GFLOP/s, a tiny run took
  over 100x its estimate and the large depth run of ``benchmarks/scale_cost.py`` about a ninth of it.

A size that cannot build from shapes only is estimated from the largest size that did, scaled by ``(n/n_0)²``
(a hidden weight matrix's growth); when none did, the smallest size is built once for real (the cheapest) and
scaled the same way.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from invariants.core.cost import Cost
from invariants.frameworks.runner import ScalingRunner
from invariants.scaling.target import identify

#: float32 floating-point operations per second of the runs' matrix products (module docstring)
FLOPS = 3e10
#: seconds per check whatever its size (module docstring)
SECONDS_FIXED = 0.45
#: seconds per model run, one seed at one size (module docstring)
SECONDS_PER_MODEL = 0.006
#: seconds per size for a runner that compiles (``ScalingRunner.compiles``: Flax, Keras; module docstring)
SECONDS_PER_COMPILE = 0.35
COPIES = {"sgd": 3, "adam": 5}


def seconds(models: int, flops: float, compiles: int = 0) -> float:
    """The time estimate of a check of ``models`` model runs (seeds × sizes) doing ``flops`` floating-point
    operations with ``compiles`` programs compiled: :data:`SECONDS_FIXED` + :data:`SECONDS_PER_MODEL` per model +
    :data:`SECONDS_PER_COMPILE` per compile + ``flops`` / :data:`FLOPS`."""
    return SECONDS_FIXED + SECONDS_PER_MODEL * models + SECONDS_PER_COMPILE * compiles + flops / FLOPS


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
    flops = sum(seeds * (2 * recorded + 6 * trained + backward) * batch * p for p, _ in counts.values())
    compiles = len(counts) if getattr(runner, "compiles", False) else 0
    return Cost(int(values), int(memory), float(seconds(seeds * len(counts), flops, compiles)))


def records_gradients(runner: ScalingRunner) -> bool:
    """Whether ``runner`` overrides :meth:`~invariants.frameworks.runner.ScalingRunner.gradient_moments` (the base
    records nothing, so a framework without it costs no gradient pass)."""
    return type(runner).gradient_moments is not ScalingRunner.gradient_moments


#: how to ask scale-check for less when a limit refuses it (:class:`invariants.core.cost.ResourceLimit`):
#: ``(Python API, command line)``; the cost grows with the largest size, the seeds, the steps and the batch
LESS = ("smaller or fewer sizes, fewer seeds or steps, or a smaller batch",
        "smaller or fewer --widths/--depths, fewer --seeds or --steps, or a smaller --batch")

__all__ = ["LESS", "COPIES", "FLOPS", "SECONDS_FIXED", "SECONDS_PER_COMPILE", "SECONDS_PER_MODEL", "estimate",
           "records_gradients", "seconds"]
