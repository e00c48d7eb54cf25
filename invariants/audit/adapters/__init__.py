"""Framework adapters, looked up by name; a missing framework is reported, never a crash.

``get_adapter(name)`` returns the adapter or raises :class:`FrameworkUnavailable` (framework not
installed, or no adapter module yet: the message carries the ``pip install`` hint) or
:class:`UnknownFramework` (a name not in :data:`ADAPTERS`).
"""
from __future__ import annotations

import importlib
import importlib.util

from invariants.core.errors import UsageError
from invariants.audit.adapters.base import (
    Adapter,
    BadInitializer,
    Block,
    Documented,
    Expectation,
    FrameworkUnavailable,
    Sampler,
    Subject,
    check_array,
)

#: name -> (adapter module, framework import name, install hint)
ADAPTERS: dict[str, tuple[str, str, str]] = {
    "numpy": ("invariants.audit.adapters.numpy", "numpy", "pip install numpy"),
    "torch": ("invariants.audit.adapters.torch", "torch", "pip install torch==2.13.0"),
    "jax": ("invariants.audit.adapters.jax", "jax", "pip install jax jaxlib"),
    "flax": ("invariants.audit.adapters.flax", "flax", "pip install flax"),
    "keras": ("invariants.audit.adapters.keras", "keras", "pip install keras"),
}

FRAMEWORKS: tuple[str, ...] = tuple(ADAPTERS)


class UnknownFramework(UsageError):
    """A framework name that no adapter is registered for."""


def get_adapter(name: str) -> Adapter:
    """The adapter for framework ``name``.

    Each adapter module defines ``ADAPTER`` (an :class:`Adapter` instance).

    Raises:
        UnknownFramework: ``name`` is not in :data:`ADAPTERS`.
        FrameworkUnavailable: the framework is not installed, or its adapter module is missing.
    """
    if name not in ADAPTERS:
        raise UnknownFramework(f"unknown framework {name!r}; known: {', '.join(FRAMEWORKS)}")
    module_name, import_name, hint = ADAPTERS[name]
    if importlib.util.find_spec(import_name) is None:
        raise FrameworkUnavailable(name, hint)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise FrameworkUnavailable(name, f"no {name} adapter in this version of invariants") from None
        missing = exc.name or import_name
        raise FrameworkUnavailable(name, f"{hint} (import of {missing!r} failed)") from None
    except ImportError as exc:
        raise FrameworkUnavailable(name, f"{hint} (import failed: {exc})") from None
    return module.ADAPTER


__all__ = [
    "ADAPTERS",
    "FRAMEWORKS",
    "Adapter",
    "BadInitializer",
    "Block",
    "Documented",
    "Expectation",
    "FrameworkUnavailable",
    "Sampler",
    "Subject",
    "UnknownFramework",
    "check_array",
    "get_adapter",
]
