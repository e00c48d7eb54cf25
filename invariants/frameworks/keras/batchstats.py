"""The Keras probe's record of ``BatchNormalization`` layers that normalise with batch statistics.

A ``BatchNormalization`` called with ``training=True`` on a trainable layer normalises each channel by the
mean and standard deviation of the values the batch holds for it (``keras/src/layers/normalization/
batch_normalization.py``, ``BatchNormalization.call``: ``if training and self.trainable``); the signal check
needs how many values that is (batch × spatial positions, :class:`~invariants.frameworks.model.BatchStat`),
because a few values make the gradient through the layer grow by the batch's sampling error, not by the
init (:mod:`invariants.modelcheck.batchstats`).
"""
from __future__ import annotations

from typing import Any, Callable

from invariants.frameworks.keras.calls import wrap_calls
from invariants.frameworks.model import BatchStat


def _values_per_channel(layer: Any, x: Any) -> int | None:
    shape = tuple(int(d) for d in getattr(x, "shape", ()))
    if len(shape) < 2:
        return None
    axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
    channels = 1
    for a in axes:
        channels *= shape[int(a)]
    total = 1
    for d in shape:
        total *= d
    return total // max(channels, 1)


def watch(layers: list[Any], last_node: Callable[[], str | None]) -> tuple[dict[str, BatchStat], Callable[[], None]]:
    """Wrap every ``BatchNormalization`` in ``layers`` (on the instance) to record, each time it is traced with
    ``training=True``, its values per channel and the node ``last_node()`` names (the node executed last).

    Returns:
        ``(records, restore)``: ``{layer name: BatchStat}`` filled as the model runs (a layer called twice
        keeps its smaller count), and the function that removes the wrappers.
    """
    records: dict[str, BatchStat] = {}

    def wrap(l: Any, orig: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("training") and l.trainable and args:
                m = _values_per_channel(l, args[0])
                old = records.get(l.name)
                if m is not None and (old is None or m <= old.values):
                    records[l.name] = BatchStat(l.name, m, last_node())
            return orig(*args, **kwargs)

        return call

    return records, wrap_calls([l for l in layers if type(l).__name__ == "BatchNormalization"], wrap)


__all__ = ["watch"]
