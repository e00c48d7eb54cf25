"""Flax: the defaults of ``flax.linen`` / ``flax.nnx`` layers, and linen ``(module, variables)`` models.

Initializers follow JAX's convention ``fn(key, shape, dtype)`` (``flax.linen.initializers`` re-exports
``jax.nn.initializers``), layout ``jax``, fans JAX's: everything but the catalogue and the model check is
the JAX framework's (:mod:`invariants.frameworks.flax.initializers`, :mod:`invariants.frameworks.flax.model`).
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

from invariants.frameworks.jax import JaxFramework
from invariants.frameworks.model import ModelParts


class FlaxFramework(JaxFramework):
    """Flax; see the package docstring."""

    name = "flax"
    import_name = "flax"
    requirements = ("flax",)
    callable_modules = ("flax",)
    model_form = "a Flax (module, variables) pair"
    order = 3
    initializers_module = "invariants.frameworks.flax.initializers"
    models_module = "invariants.frameworks.flax.model"
    scaling_module = "invariants.frameworks.flax.scaling"
    scaling_form = "Flax linen modules with their example input ((module, x) pairs)"
    model_type = "flax.linen:Module"
    variables_needed = ("a Flax module needs its variables: return (module, module.init(key, x)) "
                        "or {'module': ..., 'variables': ..., 'input': x}")

    def view(self, module: ModuleType, parts: ModelParts, name: str, batch: int, seed: int) -> Any:
        return module.view(parts.model, parts.variables, name, parts.input, batch, seed, parts.apply_kwargs)


FRAMEWORK = FlaxFramework()
