"""PyTorch: ``torch.nn.init.*``, the defaults of ``torch.nn`` layers, and ``nn.Module`` models.

Calling convention: ``fn(tensor)`` fills a float32 tensor in place (or returns a new one); a
``generator=`` keyword gets a seeded ``torch.Generator`` (:mod:`invariants.frameworks.torch.initializers`).
Layout ``torch``: weights ``(out, in, *k)``, transposed convs ``(C_in, C_out/G, *k)``; orthogonal rows on
the first axis.  Models: any ``nn.Module``, or ``(module, example_input)``
(:mod:`invariants.frameworks.torch.model`).
"""
from __future__ import annotations

from typing import Any

from invariants.frameworks.base import Framework
from invariants.layers import TORCH


class TorchFramework(Framework):
    """PyTorch; see the package docstring."""

    name = "torch"
    import_name = "torch"
    requirements = ("torch==2.13.0",)
    layout = TORCH
    callable_modules = ("torch",)
    model_form = "a torch nn.Module"
    order = 1
    initializers_module = "invariants.frameworks.torch.initializers"
    models_module = "invariants.frameworks.torch.model"
    scaling_module = "invariants.frameworks.torch.scaling"
    scaling_form = "torch.nn.Module models (or (module, example_input) pairs)"
    second_is_input = True  # (module, example_input)
    model_type = "torch.nn:Module"

    def generator(self, seed: int) -> Any:
        """A ``torch.Generator`` seeded with ``seed`` (CPU)."""
        self.require()
        import torch

        return torch.Generator().manual_seed(int(seed))


FRAMEWORK = TorchFramework()
