"""MLX (CPU backend on Linux): ``mlx.nn.init.*``, the defaults of ``mlx.nn`` layers, and ``mlx.nn.Module`` models.

Calling convention: ``fn(a) -> new array`` of ``a``'s shape (one positional array; MLX's initializers and
layers draw from its global PRNG, which each draw seeds and restores:
:mod:`invariants.frameworks.mlx.initializers`).  Layout :data:`~invariants.frameworks.mlx.layout.MLX`:
dense ``(out, in)``, conv ``(C_out, *k, C_in/G)``, conv transpose ``(C_out, *k, C_in)``, bilinear ``(out,
in2, in1)``; fans ``(shape[-1]*rf, shape[0]*rf)``; orthogonal is 2-D, rows on the first axis.  Models:
any ``mlx.nn.Module``, or ``(module, example_input)`` (:mod:`invariants.frameworks.mlx.model`).
``pip install mlx`` on Linux installs no backend (``mlx-cpu``): ``import mlx.core`` then fails, and the
framework reports itself unavailable with the install hint.
"""
from __future__ import annotations

from typing import Any

from invariants.frameworks.base import Framework
from invariants.frameworks.mlx.layout import MLX


class MlxFramework(Framework):
    """MLX; see the package docstring."""

    name = "mlx"
    import_name = "mlx"
    requirements = ("mlx[cpu]",)
    layout = MLX
    callable_modules = ("mlx",)
    model_form = "an MLX mlx.nn.Module"
    order = 7
    initializers_module = "invariants.frameworks.mlx.initializers"
    models_module = "invariants.frameworks.mlx.model"
    second_is_input = True  # (module, example_input)
    model_type = "mlx.nn:Module"

    def generator(self, seed: int) -> Any:
        """An MLX PRNG key ``mx.random.key(seed)`` (MLX's initializers and layers take none: they draw from
        the global state, which the samplers seed and restore)."""
        self.require()
        import mlx.core as mx

        return mx.random.key(int(seed))


FRAMEWORK = MlxFramework()
