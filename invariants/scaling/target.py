"""The scale check's factory: ``factory(width) -> model`` (or ``factory(width=W, depth=d)`` in depth mode).

Conventions (as ``check-model``'s ``MODULE:FACTORY``, with one size argument):

- width mode calls ``factory(n)`` with the hidden width ``n`` (an int: the actual width, not a multiplier);
- depth mode calls ``factory(width=W, depth=d)`` with keywords;
- the factory returns a model of a framework with a scaling runner (:func:`runners`,
  :meth:`invariants.frameworks.base.Framework.scaling_runner`), or ``(model, example_input)``:

  - torch: a ``torch.nn.Module``; without an input, the one inferred from the first layer
    (:func:`invariants.frameworks.torch.model.layer_input`: ``N(0, 1)`` of the first ``Linear``'s fan-in,
    token ids for an ``Embedding``, ...);
  - Flax linen: ``(module, x)`` (the variables are ``module.init(jax.random.key(seed), x)``);
  - Keras 3 (JAX backend): a built ``keras.Model`` (without an input, ``N(0, 1)`` of its input shape);

  the input's shape should not depend on the size;
- the model may carry ``lr_multipliers``: ``{parameter name: factor}``, or a function of the optimizer's name
  returning one (μP's per-layer learning rates; :mod:`invariants.scaling.examples`).

Each call is preceded by the runner's seeding (``torch.manual_seed(seed)``, ``keras.utils.set_random_seed``) so
a seed fixes the initialization.  Plain JAX (functions and parameter pytrees) has no layers to record by role
and is refused.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable

from invariants.core.errors import FrameworkUnavailable
from invariants.core.imports import import_attribute
from invariants.frameworks.errors import BadModel
from invariants.frameworks.registry import frameworks
from invariants.frameworks.runner import ScalingRunner

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
        BadModel: the factory raises (``SystemExit`` included) at that size.
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
        return obj, x

    return build


def runners() -> list[ScalingRunner]:
    """The scaling runners of the registered frameworks (:func:`invariants.frameworks.registry.frameworks`
    ``("scaling")``) whose framework is already imported (a model cannot exist before its framework is, and
    nothing else gets imported), in listing order."""
    out = []
    for fw in frameworks("scaling"):
        if fw.import_name and fw.import_name not in sys.modules:
            continue
        try:
            runner = fw.scaling_runner()
        except FrameworkUnavailable:
            continue
        if runner is not None:
            out.append(runner)
    return out


def identify(build: Callable[[int], tuple[Any, Any]], size: int, name: str) -> ScalingRunner:
    """The runner owning the factory's model at ``size``: built once inside every loaded runner's shape-only
    scope (nothing allocated), else for real.

    Raises:
        BadModel: the factory fails, or returns a model no runner owns (the message lists what runs).
    """
    obj = None
    with contextlib.ExitStack() as stack:
        for runner in runners():
            stack.enter_context(runner.shape_scope())
        try:
            obj = build(size)[0]
        except Exception:  # noqa: BLE001  a factory may refuse shape-only builds (torch's meta device): build for real
            obj = None
    owner = None if obj is None else next((r for r in runners() if r.owns(obj)), None)
    if owner is None:
        obj = build(size)[0]
        owner = next((r for r in runners() if r.owns(obj)), None)
    if owner is None:
        listed = "; ".join(fw.scaling_form or fw.name for fw in frameworks("scaling"))
        raise BadModel(f"{name} returned {type(obj).__module__}.{type(obj).__qualname__}: scale-check runs on "
                       f"{listed}; {unsupported(obj)}")
    return owner


def unsupported(obj: Any) -> str:
    """Why ``obj`` has no runner: its framework has none yet (Equinox, MLX), or it is plain JAX (or no model)."""
    top = type(obj).__module__.split(".")[0]
    fw = next((f for f in frameworks() if f.import_name == top and f.import_name != "jax"), None)
    if fw is not None and not fw.supports_scaling:
        return f"{fw.name} models have no scale-check runner in this version"
    return ("plain JAX functions and parameter pytrees have no layers to record by role (not supported: wrap them "
            "in a Flax linen module)")


__all__ = ["DEPTH", "WIDTH", "builder", "identify", "load_factory", "runners", "unsupported"]
