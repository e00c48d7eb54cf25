"""Keras 3: ``keras.initializers.*``, the defaults of ``keras.layers``, and Keras models.

Calling convention ``fn(shape, dtype="float32")``; layout ``keras`` (as JAX's, except transposed conv
``(*k, C_out, C_in)`` and depthwise ``(*k, C_in, m)``); orthogonal columns on the last axis; framework
fans are Keras' own ``compute_fans`` (:mod:`invariants.frameworks.keras.initializers`).  Models: any
``keras.layers.Layer``, or ``(model, example_input)`` (:mod:`invariants.frameworks.keras.model`).

Keras needs a backend; :func:`choose_backend` picks JAX when none is set (Keras' default, TensorFlow,
is not installed alongside this project), hence the ``jax`` requirement.
"""
from __future__ import annotations

import importlib.util
import os
from typing import Any

from invariants.frameworks.base import Framework
from invariants.layers import KERAS


def choose_backend() -> None:
    """Set ``KERAS_BACKEND=jax`` unless the user set a backend or JAX is missing; call before
    ``import keras`` (once Keras is imported its backend is fixed)."""
    if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("jax") is not None:
        os.environ["KERAS_BACKEND"] = "jax"


class KerasFramework(Framework):
    """Keras 3; see the package docstring."""

    name = "keras"
    import_name = "keras"
    requirements = ("keras", "jax")
    layout = KERAS
    callable_modules = ("keras", "tensorflow")
    model_form = "a Keras model"
    order = 4
    initializers_module = "invariants.frameworks.keras.initializers"
    models_module = "invariants.frameworks.keras.model"
    scaling_module = "invariants.frameworks.keras.scaling"
    scaling_form = "Keras 3 models on the JAX backend (or (model, example_input) pairs)"
    second_is_input = True  # (model, example_input)
    model_type = "keras.layers:Layer"

    def framework_fans(self, shape: tuple[int, ...]) -> tuple[int, int] | None:
        """Keras' own ``compute_fans`` on ``shape``."""
        from invariants.frameworks.keras.initializers import framework_fans

        return framework_fans(shape)

    def generator(self, seed: int) -> Any:
        """A ``keras.random.SeedGenerator`` seeded with ``seed``."""
        self.support(self.initializers_module)  # chooses the backend before Keras is imported
        import keras

        return keras.random.SeedGenerator(int(seed))


FRAMEWORK = KerasFramework()
