"""Every framework, found once: the built-in folders plus the ``invariants.frameworks`` entry points.

Built-ins are the subpackages of :mod:`invariants.frameworks` whose ``__init__`` defines ``FRAMEWORK``;
a third-party package adds one by declaring an entry point in the group :data:`ENTRY_POINT_GROUP`
that names a :class:`~invariants.frameworks.base.Framework` instance (or a subclass, instantiated
here)::

    [project.entry-points."invariants.frameworks"]
    myfw = "myfw_invariants:FRAMEWORK"

or, at run time (tests, notebooks), calls :func:`register`.  Listing and looking up never import a
framework; :func:`get_framework` checks that it is installed.
"""
from __future__ import annotations

import importlib
import pkgutil
from importlib import metadata
from typing import Any, Iterable

from invariants.core.errors import FrameworkUnavailable
from invariants.frameworks.base import Framework
from invariants.frameworks.errors import BadModel, UnknownFramework

#: entry-point group through which other packages add frameworks
ENTRY_POINT_GROUP = "invariants.frameworks"

_PACKAGE = "invariants.frameworks"
_found: dict[str, Framework] | None = None
_added: dict[str, Framework] = {}


def _builtins() -> Iterable[Framework]:
    package = importlib.import_module(_PACKAGE)
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg:
            module = importlib.import_module(f"{_PACKAGE}.{info.name}")
            fw = getattr(module, "FRAMEWORK", None)
            if isinstance(fw, Framework):
                yield fw


def _entry_points() -> Iterable[Framework]:
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj: Any = ep.load()
        except Exception:  # noqa: BLE001  a broken third-party plugin must not break the built-ins
            continue
        fw = obj() if isinstance(obj, type) and issubclass(obj, Framework) else obj
        if isinstance(fw, Framework):
            yield fw


def _all() -> dict[str, Framework]:
    global _found
    if _found is None:
        found: dict[str, Framework] = {}
        for fw in [*_builtins(), *_entry_points()]:
            found.setdefault(fw.name, fw)  # a built-in name cannot be taken over by a plugin
        _found = found
    merged = {**_found, **_added}
    return dict(sorted(merged.items(), key=lambda kv: (kv[1].order, kv[0])))


def refresh() -> None:
    """Forget what was discovered: the next call looks at the built-in folders and the entry points
    again (after a plugin was installed, or its path added, in this process)."""
    global _found
    _found = None


def register(framework: Framework) -> Framework:
    """Add (or replace) a framework at run time; returns it.  See :func:`unregister`."""
    if not isinstance(framework, Framework) or not framework.name:
        raise TypeError("register() takes a Framework instance with a name")
    _added[framework.name] = framework
    return framework


def unregister(name: str) -> None:
    """Remove a framework added with :func:`register` (built-ins and entry points stay)."""
    _added.pop(name, None)


def frameworks(kind: str = "all") -> list[Framework]:
    """The registered frameworks in listing order (``order``, then name).

    Args:
        kind: ``"all"``, ``"initializers"`` (those with initializers to audit), ``"models"`` (those
            whose models can be checked) or ``"scaling"`` (those whose models ``scale-check`` runs).

    Raises:
        ValueError: unknown ``kind``.
    """
    fws = list(_all().values())
    if kind == "all":
        return fws
    if kind == "initializers":
        return [f for f in fws if f.supports_initializers]
    if kind == "models":
        return [f for f in fws if f.supports_models]
    if kind == "scaling":
        return [f for f in fws if f.supports_scaling]
    raise ValueError(f"kind must be 'all', 'initializers', 'models' or 'scaling', got {kind!r}")


def names(kind: str = "all") -> tuple[str, ...]:
    """The names of :func:`frameworks` ``(kind)``."""
    return tuple(f.name for f in frameworks(kind))


def lookup(name: str, kind: str = "all") -> Framework:
    """The framework called ``name``, installed or not.

    Raises:
        UnknownFramework: no framework of that kind has that name (the message lists the known ones).
    """
    for fw in frameworks(kind):
        if fw.name == name:
            return fw
    raise UnknownFramework(f"unknown framework {name!r}; known: {', '.join(names(kind))}")


def get_framework(name: str, kind: str = "all") -> Framework:
    """The installed framework called ``name``; with ``kind`` ``"initializers"`` or ``"models"`` that
    support is imported now, so a broken install is reported here rather than at the first draw.

    Raises:
        UnknownFramework: no such framework (of that kind).
        FrameworkUnavailable: it is not installed, or its import fails (the message carries the install hint).
    """
    fw = lookup(name, kind)
    fw.require()
    if kind == "initializers":
        fw.support(fw.initializers_module)
    elif kind == "models":
        fw.support(fw.models_module)
    return fw


def framework_of(obj: Any) -> Framework:
    """The framework whose model ``obj`` is (any form of :func:`~invariants.frameworks.model.unpack_model`).

    Raises:
        BadModel: no framework owns it (the message lists the accepted forms), or its framework finds it
            unusable as given.
    """
    from invariants.frameworks.model import unpack_model

    fws = frameworks("models")
    for fw in fws:
        if fw.owns_model(obj):
            return fw
    model = unpack_model(obj).model
    forms = [f.model_form for f in fws if f.model_form]
    listed = ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else "".join(forms)
    raise BadModel(f"unsupported model object {type(model).__module__}.{type(model).__qualname__}; expected "
                   f"{listed}, optionally with an example input as the last element")


__all__ = [
    "ENTRY_POINT_GROUP", "FrameworkUnavailable", "framework_of", "frameworks", "get_framework", "lookup", "names",
    "refresh", "register", "unregister",
]
