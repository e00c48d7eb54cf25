"""JAX: ``jax.nn.initializers.*`` with the calling convention ``fn(key, shape, dtype) -> jax.Array``.

Layout ``jax``: dense ``(in, out)``, conv ``(*k, C_in/G, C_out)`` (HWIO); orthogonal columns on the last
axis; framework fans are JAX's own ``_compute_fans`` (:mod:`invariants.frameworks.jax.initializers`).
No model check (JAX has no layer classes; Flax and Keras models are checked by those frameworks).
"""
from __future__ import annotations

from typing import Any

from invariants.frameworks.base import Framework
from invariants.layers import JAX


class JaxFramework(Framework):
    """JAX; see the package docstring."""

    name = "jax"
    import_name = "jax"
    requirements = ("jax", "jaxlib")
    layout = JAX
    callable_modules = ("jax",)
    order = 2
    initializers_module = "invariants.frameworks.jax.initializers"

    def framework_fans(self, shape: tuple[int, ...]) -> tuple[int, int] | None:
        """JAX's own ``_compute_fans`` (default axes) on ``shape``."""
        from invariants.frameworks.jax.initializers import framework_fans

        return framework_fans(shape)

    def generator(self, seed: int) -> Any:
        """A typed PRNG key ``jax.random.key(seed)``."""
        self.require()
        import jax

        return jax.random.key(int(seed))


FRAMEWORK = JaxFramework()
