"""Equinox: the defaults of ``equinox.nn`` layers, and ``eqx.Module`` models.

Equinox has no initializer module: a user callable follows JAX's convention ``fn(key, shape, dtype)``,
called with the shape in Equinox's layout (:mod:`invariants.frameworks.equinox.initializers`).  Layout
:data:`~invariants.frameworks.equinox.layout.EQUINOX`: dense ``(out, in)``, conv **and conv transpose**
``(C_out, C_in/G, *k)``, packed gates along dim 0; fans ``(shape[1]*rf, shape[0]*rf)``, the rule of
Equinox's own bounds.  Orthogonal columns on the last axis (``jax.nn.initializers.orthogonal``, what an
Equinox user calls).  Models: an ``eqx.Module`` called on one example, or ``(module,
batched_example_input)`` (:mod:`invariants.frameworks.equinox.model`).
"""
from __future__ import annotations

from typing import Any

from invariants.frameworks.base import Framework
from invariants.frameworks.equinox.layout import EQUINOX
from invariants.frameworks.model import ModelParts


class EquinoxFramework(Framework):
    """Equinox; see the package docstring."""

    name = "equinox"
    import_name = "equinox"
    requirements = ("equinox",)
    layout = EQUINOX
    callable_modules = ("equinox",)
    model_form = "an Equinox eqx.Module"
    order = 6
    initializers_module = "invariants.frameworks.equinox.initializers"
    models_module = "invariants.frameworks.equinox.model"
    second_is_input = True  # (module, example_input)
    model_type = "equinox:Module"

    def view(self, module: Any, parts: ModelParts, name: str, batch: int, seed: int) -> Any:
        return module.view(parts.model, name, parts.input, batch, seed, parts.apply_kwargs)

    def generator(self, seed: int) -> Any:
        """A typed PRNG key ``jax.random.key(seed)``, what every Equinox layer takes as ``key=``."""
        self.require()
        import jax

        return jax.random.key(int(seed))


FRAMEWORK = EquinoxFramework()
