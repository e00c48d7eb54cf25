"""The scale check's factory: ``factory(width) -> model`` (or ``factory(width=W, depth=d)`` in depth mode).

Conventions (as ``check-model``'s ``MODULE:FACTORY``, with one size argument):

- width mode calls ``factory(n)`` with the hidden width ``n`` (an int: the actual width, not a multiplier);
- depth mode calls ``factory(width=W, depth=d)`` with keywords;
- the factory returns a ``torch.nn.Module``, or ``(module, example_input)`` when the input is not the one
  inferred from the first layer (:func:`invariants.frameworks.torch.model.layer_input`: ``N(0, 1)`` of the
  first ``Linear``'s fan-in, token ids for an ``Embedding``, ...); the input's shape should not depend on the
  size;
- the module may carry ``lr_multipliers``: ``{parameter name: factor}``, or a function of the optimizer's name
  returning one (μP's per-layer learning rates; :mod:`invariants.scaling.examples`).

Each call is preceded by ``torch.manual_seed(seed)`` so a seed fixes the initialization.
"""
from __future__ import annotations

from typing import Any, Callable

from invariants.core.imports import import_attribute
from invariants.frameworks.errors import BadModel

WIDTH, DEPTH = "width", "depth"


def load_factory(target: "str | Callable[..., Any]") -> tuple[Callable[..., Any], str]:
    """The factory and its display name from ``MODULE:FACTORY`` (or a callable).

    Raises:
        BadModel: a malformed target, an import failure, a missing attribute, or not a callable.
    """
    if callable(target):
        return target, getattr(target, "__qualname__", repr(target))
    if not isinstance(target, str) or target.count(":") != 1 or not all(target.split(":")):
        raise BadModel(f"target {target!r} is not MODULE:FACTORY (e.g. mypkg.models:build_model)")
    mod_name, attr = target.split(":")
    obj = import_attribute(mod_name, attr, BadModel)
    if not callable(obj):
        raise BadModel(f"{target} is not callable: scale-check needs a factory taking the width")
    return obj, target


def builder(factory: Callable[..., Any], name: str, mode: str = WIDTH,
            width: int | None = None) -> Callable[[int], tuple[Any, Any]]:
    """``build(size) -> (model, example_input or None)``: calls the factory at one size.

    Raises (from ``build``):
        BadModel: the factory raises (``SystemExit`` included) at that size, or returns something that is not a
            torch module (or a ``(module, input)`` pair).
    """
    def build(size: int) -> tuple[Any, Any]:
        try:
            obj = factory(size) if mode == WIDTH else factory(width=width, depth=size)
        except (Exception, SystemExit) as exc:  # noqa: BLE001  the user's factory may raise anything, even exit
            what = f"SystemExit({exc.code!r})" if isinstance(exc, SystemExit) else \
                f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            call = f"{name}({size})" if mode == WIDTH else f"{name}(width={width}, depth={size})"
            raise BadModel(f"{call} raised {what}") from None
        x = None
        if isinstance(obj, tuple) and len(obj) == 2:
            obj, x = obj
        if not is_torch_module(obj):
            raise BadModel(f"{name} returned {type(obj).__module__}.{type(obj).__qualname__}: scale-check runs on "
                           "torch.nn.Module models (or (module, example_input) pairs); JAX/Flax and Keras models "
                           "are not supported yet")
        return obj, x

    return build


def is_torch_module(obj: Any) -> bool:
    """Whether ``obj`` is a ``torch.nn.Module`` (without importing torch when it is not loaded)."""
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


__all__ = ["DEPTH", "WIDTH", "builder", "is_torch_module", "load_factory"]
