"""Fully connected layers: ``dense(in, out)``, textbook fans ``(in, out)`` (Glorot & Bengio 2010 §4.2).

Weight ``(out, in)`` in torch/numpy (``torch.nn.Linear.weight``), ``(in, out)`` in jax/flax/keras.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invariants.layers.base import Args, Layer, register


@register("dense", "linear")
@dataclass(frozen=True)
class Dense(Layer):
    """``dense(in_features, out_features)``: every output is a weighted sum of every input.

    Raises:
        BadInput: a size < 1.
    """

    in_features: int
    out_features: int
    kind: ClassVar[str] = "dense"

    def __post_init__(self) -> None:
        self._check_features()

    @classmethod
    def from_args(cls, args: Args) -> "Dense":
        args.options()
        i, o = args.ints(2, "in, out")
        return cls(i, o)

    def __str__(self) -> str:
        return f"dense({self.in_features},{self.out_features})"
