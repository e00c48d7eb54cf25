"""Tensors that connect nothing: ``vector(n)`` (1-D: a bias, a norm scale or shift) and ``scalar()`` (0-D).

They have **no textbook fans** (:meth:`~invariants.layers.base.Layer.textbook_fans` is ``None``): a
bias is added, not multiplied, so no input feeds it.  A fan-based spec (He, Glorot, LeCun, variance
scaling) on one uses the fans the framework itself computes on the shape, where it computes any
(:class:`~invariants.layers.layout.Layout` ``small_fans``; measured on the installed versions):

==========  ============================================  =============================================
framework   1-D ``(n,)``                                  0-D ``()``
==========  ============================================  =============================================
torch       none: ``torch.nn.init._calculate_fan_in_and_fan_out`` raises ``ValueError`` ("Fan in and fan
            out can not be computed for tensor with fewer than 2 dimensions"), so ``kaiming_*_`` and
            ``xavier_*_`` refuse a bias; ``zeros_``, ``normal_``, ``uniform_`` accept it
jax, flax   none: ``jax._src.nn.initializers._compute_fans`` raises ``ValueError`` for ``len(shape) <= 1``
            with the default ``in_axis=-2`` (every ``variance_scaling`` initializer)
keras       ``(n, n)``                                    ``(1, 1)``
            (``keras.src.initializers.random_initializers.compute_fans``; ``VarianceScaling`` then divides
            by ``max(1, fan)``)
mlx         none: ``mlx.nn.init._calculate_fan_in_fan_out`` raises ``ValueError``
==========  ============================================  =============================================

The weight is ``(n,)`` / ``()`` in every layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invariants.core.errors import BadInput
from invariants.layers.base import Args, Layer, Square, register, size_int


class Unconnected(Layer):
    """Base of :class:`Vector` and :class:`Scalar`: no textbook fans, no output units of its own."""

    has_units: ClassVar[bool] = False

    def textbook_fans(self) -> None:  # type: ignore[override]
        return None


@register("vector", "bias")
@dataclass(frozen=True)
class Vector(Square, Unconnected):
    """``vector(n)``: a 1-D tensor of ``n`` values (a bias, a norm scale); ``in_features = out_features = n``.

    Raises:
        BadInput: ``n`` < 0 (``vector(0)`` is legal: no values).
    """

    size: int
    kind: ClassVar[str] = "vector"
    text_name: ClassVar[str] = "vector"
    plural: ClassVar[str] = "vectors (1-D tensors)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", size_int(self.size, "size"))

    @property
    def side(self) -> int:
        return self.size



@register("scalar")
@dataclass(frozen=True)
class Scalar(Unconnected):
    """``scalar()``: a 0-D tensor (one value, e.g. a learned temperature); ``in_features = out_features = 1``."""

    kind: ClassVar[str] = "scalar"
    plural: ClassVar[str] = "scalars (0-D tensors)"
    in_features: ClassVar[int] = 1
    out_features: ClassVar[int] = 1

    @classmethod
    def from_args(cls, args: Args) -> "Scalar":
        args.options()
        if args.pos:
            raise BadInput("scalar takes no arguments: scalar()")
        return cls()

    def __str__(self) -> str:
        return "scalar()"
