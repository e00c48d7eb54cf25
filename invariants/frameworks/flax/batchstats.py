"""The Flax probe's record of normalizations that take their statistics from the probe's own values.

What each linen normalization averages over (``flax/linen/normalization.py``):

- ``BatchNorm.__call__``: with ``use_running_average`` false (the module attribute merged with the call's
  argument, ``module.merge_param``) it normalises each feature (``axis``, default the last) by the mean and
  variance over every other axis, batch × positions; with it true it uses ``batch_stats`` (identity at init:
  mean 0, var 1), and nothing is recorded.
- ``GroupNorm.__call__``: per sample, over ``reduction_axes`` (default every axis but the batch's) and the
  ``C / num_groups`` (or ``group_size``) channels of one group.
- ``InstanceNorm.__call__``: per sample and feature (``feature_axes``, default the last), over the other
  non-batch axes.

The signal check needs how many values that is (:class:`~invariants.frameworks.model.BatchStat`,
:mod:`invariants.modelcheck.batchstats`).  ``nnx`` modules are not read: the model check takes linen modules only.
"""
from __future__ import annotations

import math
from typing import Any

import flax.linen as nn

from invariants.frameworks.model import BatchStat

#: the linen normalizations :func:`norm_stat` reads
NORMS = (nn.BatchNorm, nn.GroupNorm, nn.InstanceNorm)


def _axes(ndim: int, axes: Any) -> tuple[int, ...]:
    seq = axes if isinstance(axes, (tuple, list)) else (axes,)
    return tuple(int(a) % ndim for a in seq)


def norm_stat(mod: Any, name: str, args: tuple, kwargs: dict, after: str | None) -> BatchStat | None:
    """The :class:`BatchStat` of a linen ``BatchNorm`` (on batch statistics), ``GroupNorm`` or ``InstanceNorm``
    called with ``args``/``kwargs``; ``None`` for any other module, a ``BatchNorm`` on running averages, an
    input without a batch axis and features, or a per-sample norm whose input has no positions
    (:class:`~invariants.frameworks.model.BatchStat`)."""
    x = args[0] if args else kwargs.get("x")
    shape = tuple(int(d) for d in getattr(x, "shape", ()))
    if len(shape) < 2:
        return None
    nd = len(shape)
    if isinstance(mod, nn.BatchNorm):
        call = args[1] if len(args) > 1 else kwargs.get("use_running_average")
        running = mod.use_running_average if call is None else call
        if running is None or bool(running):
            return None  # running averages (or a call flax would reject): no statistic of the batch
        features = math.prod(shape[a] for a in _axes(nd, mod.axis))
        return BatchStat(name, math.prod(shape) // max(features, 1), after)
    if isinstance(mod, nn.GroupNorm):
        channels = shape[-1]
        group = int(mod.group_size) if mod.group_size else channels // max(int(mod.num_groups), 1)
        axes = range(1, nd) if mod.reduction_axes is None else _axes(nd, mod.reduction_axes)
        if not [a for a in axes if a != nd - 1]:
            return None  # no positions: see BatchStat
        positions = math.prod(shape[a] for a in axes if a != nd - 1)
        return BatchStat(name, positions * group, after, kind="group", channels=group, layer="GroupNorm")
    if isinstance(mod, nn.InstanceNorm):
        features = set(_axes(nd, mod.feature_axes))
        if not [a for a in range(1, nd) if a not in features]:
            return None  # no positions: see BatchStat
        positions = math.prod(shape[a] for a in range(1, nd) if a not in features)
        return BatchStat(name, positions, after, kind="group", channels=1, layer="InstanceNorm")
    return None


__all__ = ["NORMS", "norm_stat"]
