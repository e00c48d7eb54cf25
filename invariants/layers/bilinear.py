"""Bilinear layers ``bilinear(in1, in2, out)``: ``y_o = Σ_ij x1_i W_oij x2_j``.

Textbook fans ``(in1·in2, out)``: each output sums ``in1·in2`` products.  Weight ``(out, in1, in2)``
(``torch.nn.Bilinear.weight``); the other built-in layouts have no bilinear layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invariants.layers.base import Args, Layer, register


@register("bilinear")
@dataclass(frozen=True)
class Bilinear(Layer):
    """``bilinear(in_features, in2, out_features)``.

    Raises:
        BadInput: a size < 0 (0 is legal: a layer with no values).
    """

    in_features: int
    in2: int
    out_features: int
    kind: ClassVar[str] = "bilinear"
    plural: ClassVar[str] = "bilinear layers"

    def __post_init__(self) -> None:
        self.validate_sizes("in2")

    @classmethod
    def from_args(cls, args: Args) -> "Bilinear":
        args.options()
        i1, i2, o = args.ints(3, "in1, in2, out")
        return cls(i1, i2, o)

    def textbook_fans(self) -> tuple[int, int]:
        return self.in_features * self.in2, self.out_features

    def axis_sizes(self) -> dict[str, int | tuple[int, ...]]:
        return {**super().axis_sizes(), "in2": self.in2}

    def __str__(self) -> str:
        return f"bilinear({self.in_features},{self.in2},{self.out_features})"
