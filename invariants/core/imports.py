"""Resolving a user's ``MODULE:ATTR`` target to the object it names, for every command that takes one
(``audit MODULE:ATTR``, ``check-model MODULE:FACTORY``)."""
from __future__ import annotations

import importlib
from typing import Any

from invariants.core.errors import BadInput


def import_attribute(mod_name: str, attr: str, error: type[BadInput]) -> Any:
    """Import module ``mod_name`` and return its attribute ``attr`` (dotted: ``Class.method`` follows each part).

    Raises:
        error: the import fails (any exception the module raises, named in the message) or an attribute along
            ``attr`` is missing.
    """
    try:
        obj: Any = importlib.import_module(mod_name)
    except Exception as exc:  # noqa: BLE001  importing the user's module may raise anything
        raise error(f"cannot import module {mod_name!r}: {type(exc).__name__}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise error(f"module {mod_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj
