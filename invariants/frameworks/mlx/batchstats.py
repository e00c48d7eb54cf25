"""The MLX probe's record of normalizations that take their statistics from the probe's own values.

What each ``mlx.nn`` normalization averages over (mlx 0.32.4, ``mlx/nn/layers/normalization.py``; inputs are
channels-last ``(N, ..., C)``):

- ``BatchNorm.__call__`` in training mode (``Module.training``, true from construction until ``eval()``):
  per channel over batch × positions (``_calc_stats``: every axis but the last); it also moves
  ``running_mean``/``running_var`` in place when ``track_running_stats``, which the probe undoes.  In eval mode it
  uses the running statistics (identity at init: mean 0, var 1) and nothing is recorded.
- ``GroupNorm.__call__``: per sample over the ``C / num_groups`` channels of a group × positions (both the
  default and the ``pytorch_compatible`` grouping).
- ``InstanceNorm.__call__``: per sample and channel over the positions.

The signal check needs how many values that is (:class:`~invariants.frameworks.model.BatchStat`,
:mod:`invariants.modelcheck.batchstats`).
"""
from __future__ import annotations

import contextlib
import math
from typing import Any, Callable, Iterator

import mlx.nn as nn

from invariants.frameworks.model import BatchStat

_NORMS = (nn.BatchNorm, nn.GroupNorm, nn.InstanceNorm)


def norm_stat(mod: Any, name: str, x: Any, after: str | None) -> BatchStat | None:
    """The :class:`BatchStat` of ``mod`` called on ``x``; ``None`` for a ``BatchNorm`` in eval mode with
    running statistics, any other module, an input without a batch axis and channels, or a per-sample norm on
    ``(N, C)`` (:class:`~invariants.frameworks.model.BatchStat`)."""
    shape = tuple(int(d) for d in getattr(x, "shape", ()))
    if len(shape) < 2:
        return None
    if isinstance(mod, nn.BatchNorm):
        if not mod.training and mod.track_running_stats:
            return None
        return BatchStat(name, math.prod(shape[:-1]), after)
    if len(shape) == 2 and isinstance(mod, (nn.GroupNorm, nn.InstanceNorm)):
        return None  # no positions: see BatchStat
    if isinstance(mod, nn.GroupNorm):
        group = shape[-1] // max(int(mod.num_groups), 1)
        return BatchStat(name, math.prod(shape[1:-1]) * group, after, kind="group", channels=group, layer="GroupNorm")
    if isinstance(mod, nn.InstanceNorm):
        return BatchStat(name, math.prod(shape[1:-1]), after, kind="group", channels=1, layer="InstanceNorm")
    return None


@contextlib.contextmanager
def watch(model: Any, last_node: Callable[[], str | None]) -> Iterator[dict[str, BatchStat]]:
    """Record every ``BatchNorm``/``GroupNorm``/``InstanceNorm`` of ``model`` called during the block
    (``{module name: BatchStat}``, a module called twice keeps its smaller count, ``last_node()`` naming the
    node executed last), each module's class swapped for a recording subclass (MLX looks ``__call__`` up on the
    class and has no hooks); on exit the classes and every ``BatchNorm``'s running statistics are restored."""
    records: dict[str, BatchStat] = {}
    swapped: list[tuple[Any, type, dict[str, Any]]] = []

    def make_call(cls: type, name: str) -> Any:
        def call(self: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
            made = norm_stat(self, name, x, last_node())
            if made is not None and (name not in records or made.values <= records[name].values):
                records[name] = made
            return cls.__call__(self, x, *args, **kwargs)
        return call

    try:
        for name, m in model.named_modules():
            # a module under two names is swapped once (named by the first): a second swap would subclass the
            # recording class, and undoing the two out of order would leave it on the user's module
            if isinstance(m, _NORMS) and all(m is not s[0] for s in swapped):
                cls = type(m)
                kept = {k: m[k] for k in ("running_mean", "running_var") if isinstance(m, nn.BatchNorm) and k in m}
                swapped.append((m, cls, kept))
                m.__class__ = type(f"Watched{cls.__name__}", (cls,), {"__call__": make_call(cls, name)})
        yield records
    finally:
        for m, cls, kept in reversed(swapped):
            m.__class__ = cls
            for k, v in kept.items():
                m[k] = v


__all__ = ["norm_stat", "watch"]
