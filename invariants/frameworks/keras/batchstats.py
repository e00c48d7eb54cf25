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


def watch(layers: list[Any], last_node: Callable[[], str | None],
          paths: dict[int, str] | None = None) -> tuple[dict[str, BatchStat], Callable[[], None]]:
    """Wrap every ``BatchNormalization`` in ``layers`` (on the instance) to record, each time it is traced with
    ``training=True``, its values per channel and the node ``last_node()`` names (the node executed last).

    Returns:
        ``(records, restore)``: ``{layer path: BatchStat}`` filled as the model runs (a layer called twice
        keeps its smaller count), and the function that removes the wrappers.  The key is ``paths[id(layer)]``,
        the layer's unique path in the model (:func:`invariants.frameworks.keras.model.layer_paths`), its
        name where ``paths`` lacks it.
    """
    records: dict[str, BatchStat] = {}
    saved: list[tuple[Any, Any]] = []

    def wrap(l: Any) -> Callable[..., Any]:
        orig = l.call

        def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("training") and l.trainable and args:
                m = _values_per_channel(l, args[0])
                key = (paths or {}).get(id(l), l.name)  # bare names repeat across blocks (keras-hub)
                old = records.get(key)
                if m is not None and (old is None or m <= old.values):
                    records[key] = BatchStat(key, m, last_node())
            return orig(*args, **kwargs)

        return call

    for l in layers:
        if type(l).__name__ == "BatchNormalization":
            saved.append((l, l.__dict__.get("call")))
            object.__setattr__(l, "call", wrap(l))

    def restore() -> None:
        for l, c in saved:
            if c is None:
                l.__dict__.pop("call", None)
            else:
                object.__setattr__(l, "call", c)

    return records, restore


__all__ = ["watch"]
