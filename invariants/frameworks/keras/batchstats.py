"""The Keras probe's record of ``BatchNormalization`` layers on batch statistics and ``GroupNormalization`` layers.

A ``BatchNormalization`` called with ``training=True`` on a trainable layer normalises each channel by the
mean and standard deviation of the values the batch holds for it (``keras/src/layers/normalization/
batch_normalization.py``, ``BatchNormalization.call``: ``if training and self.trainable``); the signal check
needs how many values that is (batch × spatial positions, :class:`~invariants.frameworks.model.BatchStat`),
because a few values make the gradient through the layer grow by the batch's sampling error, not by the
init (:mod:`invariants.modelcheck.batchstats`).  A ``GroupNormalization`` normalises each sample over the
``C / groups`` channels of a group × positions, whatever ``training`` says (``keras/src/layers/normalization/
group_normalization.py``, ``GroupNormalization._apply_normalization``; ``groups=-1`` is an InstanceNorm, one
channel per group): recorded as a per-sample group statistic (``kind="group"``).
"""
from __future__ import annotations

import math
from typing import Any, Callable

from invariants.frameworks.keras.calls import wrap_calls
from invariants.frameworks.model import BatchStat


def _values_per_channel(layer: Any, x: Any) -> int | None:
    shape = tuple(int(d) for d in getattr(x, "shape", ()))
    if len(shape) < 2:
        return None
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    return math.prod(shape) // max(math.prod(shape[int(a)] for a in axes), 1)


def _values_per_group(layer: Any, x: Any) -> tuple[int, int] | None:
    """``(values per sample and group, channels per group)`` of a built ``GroupNormalization`` on ``x``; ``None``
    without positions (:class:`~invariants.frameworks.model.BatchStat`)."""
    shape = tuple(int(d) for d in getattr(x, "shape", ()))
    if len(shape) < 3:
        return None  # (N, C): no positions (BatchStat)
    axis = int(layer.axis) % len(shape)
    groups = int(layer.groups) if int(layer.groups) > 0 else shape[axis]  # -1 before build: one per channel
    group = shape[axis] // max(groups, 1)
    positions = math.prod(d for i, d in enumerate(shape) if i not in (0, axis))
    return positions * group, group


def watch(layers: list[Any], last_node: Callable[[], str | None],
          paths: dict[int, str] | None = None) -> tuple[dict[str, BatchStat], Callable[[], None]]:
    """Wrap every ``BatchNormalization`` and ``GroupNormalization`` in ``layers`` (on the instance) to record, each
    time it is traced (a ``BatchNormalization`` with ``training=True`` only), its values per statistic and the
    node ``last_node()`` names (the node executed last).

    Returns:
        ``(records, restore)``: ``{layer path: BatchStat}`` filled as the model runs (a layer called twice
        keeps its smaller count), and the function that removes the wrappers.  The key is ``paths[id(layer)]``,
        the layer's unique path in the model (:func:`invariants.frameworks.keras.model.layer_paths`), its
        name where ``paths`` lacks it.
    """
    records: dict[str, BatchStat] = {}

    def wrap(l: Any, orig: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            made = None
            key = (paths or {}).get(id(l), l.name)  # bare names repeat across blocks (keras-hub)
            if type(l).__name__ == "GroupNormalization" and args:
                g = _values_per_group(l, args[0])
                made = None if g is None else BatchStat(key, g[0], last_node(), kind="group", channels=g[1],
                                                        layer="GroupNormalization")
            elif kwargs.get("training") and l.trainable and args:
                m = _values_per_channel(l, args[0])
                made = None if m is None else BatchStat(key, m, last_node())
            old = records.get(key)
            if made is not None and (old is None or made.values <= old.values):
                records[key] = made
            return orig(*args, **kwargs)

        return call

    return records, wrap_calls([l for l in layers if type(l).__name__ in ("BatchNormalization", "GroupNormalization")],
                               wrap)


__all__ = ["watch"]
