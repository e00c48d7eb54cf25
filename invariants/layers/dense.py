"""Fully connected layers: ``dense(in, out)``, textbook fans ``(in, out)`` (Glorot & Bengio 2010 §4.2).

Weight ``(out, in)`` in torch/numpy (``torch.nn.Linear.weight``), ``(in, out)`` in jax/flax/keras.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invariants.layers.base import InOut, register


@register("dense", "linear")
@dataclass(frozen=True)
class Dense(InOut):
    """``dense(in_features, out_features)``: every output is a weighted sum of every input.

    Raises:
        BadInput: a size < 0 (0 is legal: a layer with no values).
    """

    kind: ClassVar[str] = "dense"
    text_name: ClassVar[str] = "dense"
