"""The reference network (:mod:`invariants.reference.network`) as a model framework.

Models: ``(Architecture, params)`` or ``(Architecture, params, x)`` with ``params`` a dict of numpy
arrays ``W1, b1, ...`` (``W_l`` of shape ``(n_l, n_{l-1})``: layout ``torch``).  The model check gets
exact unit classes and mean-field factors (:mod:`invariants.frameworks.reference.model`).  No
initializers of its own (the numpy framework's catalogue audits ``random_params``).
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

from invariants.frameworks.base import Framework
from invariants.layers import TORCH
from invariants.frameworks.model import ModelParts


class ReferenceFramework(Framework):
    """The reference network; see the package docstring."""

    name = "reference"
    import_name = "numpy"
    requirements = ("numpy",)
    layout = TORCH
    model_form = "a reference (Architecture, params) pair"
    order = 5
    models_module = "invariants.frameworks.reference.model"
    model_type = "invariants.reference.network:Architecture"
    variables_needed = "a reference network needs (Architecture, params) with params a dict of arrays"

    def view(self, module: ModuleType, parts: ModelParts, name: str, batch: int, seed: int) -> Any:
        return module.view(parts.model, parts.variables, name, parts.input, batch, seed)


FRAMEWORK = ReferenceFramework()
