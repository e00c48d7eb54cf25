"""JSON Schema files (draft 2020-12) of the ``--json`` outputs: one family, shipped as package data.

``common.json`` holds the keys every command's JSON starts with (``ok``, ``summary``, ``findings``,
``versions``, ``config``: :func:`invariants.core.results.common_fields`); ``verify.json``, ``audit.json``,
``identify.json``, ``check-model.json`` and ``scale-check.json`` extend it (``allOf``) with each command's own keys.  Schemas refer to
each other by their ``$id`` (``urn:invariants:schema:NAME``).  Validate with the ``jsonschema`` package::

    import jsonschema
    from invariants import schemas
    jsonschema.validate(payload, schemas.load("audit"), registry=schemas.registry())

This module reads the files only; ``jsonschema`` (and its ``referencing``) is needed for :func:`registry`.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

#: the schema names, one per command, plus the shared ``common``
NAMES = ("common", "verify", "audit", "identify", "check-model", "scale-check")


def load(name: str) -> dict[str, Any]:
    """The schema ``name`` (:data:`NAMES`) as a dict.

    Raises:
        ValueError: an unknown name.
    """
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r}; known: {', '.join(NAMES)}")
    return json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8"))


def registry() -> Any:
    """A ``referencing.Registry`` holding every schema under its ``$id`` (what ``jsonschema`` resolves the
    cross-file ``$ref`` with).

    Raises:
        ImportError: ``jsonschema`` is not installed (``pip install jsonschema``; the ``test`` extra has it).
    """
    from referencing import Registry, Resource

    return Registry().with_resources((load(n)["$id"], Resource.from_contents(load(n))) for n in NAMES)


def validate(payload: Any, name: str) -> None:
    """Validate ``payload`` against schema ``name``.

    Raises:
        jsonschema.ValidationError: the payload does not follow the schema.
        ImportError: ``jsonschema`` is not installed.
    """
    import jsonschema

    schema = load(name)
    jsonschema.validators.validator_for(schema)(schema, registry=registry()).validate(payload)


__all__ = ["NAMES", "load", "registry", "validate"]
