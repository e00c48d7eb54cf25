"""Model extraction per framework: any supported model -> :class:`~invariants.modelcheck.model.ModelView`.

Accepted objects (what a ``module:factory`` target may return):

- a PyTorch ``nn.Module``, or ``(module, example_input)``;
- a Keras model (any ``keras.layers.Layer``), or ``(model, example_input)``;
- a Flax linen ``(module, variables)`` / ``(module, variables, example_input)`` pair (``variables`` from
  ``module.init``; a bare params tree is accepted);
- the reference network ``(Architecture, params)`` / ``(Architecture, params, x)``;
- a dict ``{"model"|"module": ..., "variables"|"params": ..., "input": ..., "apply_kwargs": ...}`` with
  the same meaning.

Frameworks are imported only when the object belongs to one (a torch model cannot exist without torch
being imported), so a missing framework costs nothing; :class:`FrameworkMissing` says what to install
when a framework is named but absent.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

from invariants.core.errors import BadInput, FrameworkUnavailable
from invariants.modelcheck.model import ModelView

#: framework -> (extractor module, import name, install hint)
FRAMEWORKS: dict[str, tuple[str, str, str]] = {
    "torch": ("invariants.modelcheck.frameworks.torch", "torch", "pip install torch==2.13.0"),
    "keras": ("invariants.modelcheck.frameworks.keras", "keras", "pip install keras jax"),
    "flax": ("invariants.modelcheck.frameworks.flax", "flax", "pip install flax"),
    "reference": ("invariants.modelcheck.frameworks.reference", "numpy", "pip install numpy"),
}


class BadModel(BadInput):
    """The target is not a model this check understands (CLI: exit code 2)."""


class FrameworkMissing(BadModel, FrameworkUnavailable):
    """The model's framework is not installed; the message names the install command (``.hint``).

    Args:
        name: the framework.
        hint: how to install it.
        message: the full message (default ``"<name> is not installed: <hint>"``).
    """

    def __init__(self, name: str, hint: str, message: str = "") -> None:
        Exception.__init__(self, message or f"{name} is not installed: {hint}")
        self.framework = name
        self.hint = hint


def extractor(framework: str) -> Any:
    """The extractor module of ``framework``.

    Raises:
        BadModel: unknown framework.
        FrameworkMissing: the framework is not installed.
    """
    if framework not in FRAMEWORKS:
        raise BadModel(f"unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
    mod, imp, hint = FRAMEWORKS[framework]
    if importlib.util.find_spec(imp) is None:
        raise FrameworkMissing(framework, hint)
    try:
        return importlib.import_module(mod)
    except ImportError as exc:
        raise FrameworkMissing(framework, hint, f"{framework} cannot be imported ({exc}): {hint}") from None


def _loaded(name: str) -> bool:
    return name in sys.modules


def _unpack(obj: Any) -> tuple[Any, Any, Any, dict[str, Any]]:
    """``(model, variables, input, apply_kwargs)`` from the accepted forms."""
    if isinstance(obj, dict) and ("model" in obj or "module" in obj):
        model = obj.get("model", obj.get("module"))
        variables = obj.get("variables", obj.get("params"))
        return model, variables, obj.get("input"), dict(obj.get("apply_kwargs") or {})
    if isinstance(obj, (tuple, list)) and 2 <= len(obj) <= 3:
        return obj[0], obj[1], obj[2] if len(obj) == 3 else None, {}
    return obj, None, None, {}


def framework_of(obj: Any) -> str:
    """``torch``, ``keras``, ``flax`` or ``reference`` for an accepted object.

    Raises:
        BadModel: anything else (the message lists the accepted forms).
    """
    model, variables, _, _ = _unpack(obj)
    from invariants.reference.network import Architecture

    if isinstance(model, Architecture):
        if not isinstance(variables, dict):
            raise BadModel("a reference network needs (Architecture, params) with params a dict of arrays")
        return "reference"
    if _loaded("torch"):
        import torch

        if isinstance(model, torch.nn.Module):
            return "torch"
    if _loaded("flax"):
        import flax.linen as fnn

        if isinstance(model, fnn.Module):
            if variables is None or not hasattr(variables, "items"):
                raise BadModel("a Flax module needs its variables: return (module, module.init(key, x)) "
                               "or {'module': ..., 'variables': ..., 'input': x}")
            return "flax"
    if _loaded("keras"):
        import keras

        if isinstance(model, keras.layers.Layer):
            return "keras"
    raise BadModel(
        f"unsupported model object {type(model).__module__}.{type(model).__qualname__}; expected a torch nn.Module, "
        "a Keras model, a Flax (module, variables) pair or a reference (Architecture, params) pair, optionally "
        "with an example input as the last element")


def model_view(obj: Any, name: str = "model", example_input: Any = None, batch: int = 32, seed: int = 0,
               framework: str | None = None) -> ModelView:
    """The :class:`ModelView` of any accepted object (see the module docstring).

    Args:
        obj: the model (or a tuple/dict with its variables and example input).
        name: display name.
        example_input: probe input (overrides one packed in ``obj``).
        batch: probe batch size when the input is inferred.
        seed: seed of the probe input, the probe loss's ``r`` and the framework RNG (dropout).
        framework: force a framework (default: detected from ``obj``).

    Raises:
        BadModel: an unsupported object or inconsistent parts.
        FrameworkMissing: the framework is named but not installed.
    """
    fw = framework or framework_of(obj)
    ext = extractor(fw)
    model, variables, x, apply_kwargs = _unpack(obj)
    if example_input is not None:
        x = example_input
    if fw == "torch" and variables is not None and x is None:
        x = variables  # (module, example_input)
    if fw == "keras" and variables is not None and x is None:
        x = variables
    try:
        if fw == "reference":
            return ext.view(model, variables, name, x, batch, seed)
        if fw == "flax":
            return ext.view(model, variables, name, x, batch, seed, apply_kwargs)
        return ext.view(model, name, x, batch, seed)
    except (BadModel, FrameworkMissing):
        raise
    except ValueError as exc:
        raise BadModel(" ".join(str(exc).split())) from None


__all__ = ["FRAMEWORKS", "BadModel", "FrameworkMissing", "extractor", "framework_of", "model_view"]
