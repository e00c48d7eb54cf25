"""Wrapping a Keras layer's ``call`` on the instance for the duration of a probe pass.

Keras 3 runs a layer through ``Layer.__call__``, which calls ``self.call`` (``keras/src/layers/layer.py``,
``Layer.__call__``); a ``call`` set on the instance is found before the class's, so a wrapper there sees
every call of that layer only, inside ``stateless_call`` and jit tracing alike.  It is set with
``object.__setattr__``, past ``Layer.__setattr__`` (same file), which hands every attribute to the layer's
tracker of variables and sub-layers.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable


def wrap_calls(layers: Iterable[Any], make: Callable[[Any, Callable[..., Any]], Callable[..., Any]]
               ) -> Callable[[], None]:
    """Set ``call = make(layer, layer.call)`` on each layer instance of ``layers``.

    Returns:
        the function that undoes it: each instance gets back the ``call`` it held itself before (another
        wrapper's), or none, so the class's ``call`` applies again.  Wrappers set over each other are undone
        in the reverse order.
    """
    saved: list[tuple[Any, Any]] = []
    for layer in layers:
        saved.append((layer, layer.__dict__.get("call")))
        object.__setattr__(layer, "call", make(layer, layer.call))

    def restore() -> None:
        for layer, own in reversed(saved):
            if own is None:
                layer.__dict__.pop("call", None)
            else:
                object.__setattr__(layer, "call", own)

    return restore


__all__ = ["wrap_calls"]
