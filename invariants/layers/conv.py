"""Convolutions: ``conv{1,2,3}d``, ``conv_transpose{1,2,3}d`` and ``depthwise_conv{1,2,3}d``.

Textbook fans (Glorot & Bengio 2010 §4.2; He et al. 2015 §2.2), with ``K`` = product of the kernel
size and ``G`` = groups: ``((C_in/G)·K, (C_out/G)·K)``; groups are divided out of both fans.  A
depthwise conv has ``G = C_in`` and ``C_out = m·C_in``, so ``(K, m·K)``.  For a transposed conv the
formula is exact at stride 1; at stride ``s`` the fan_in averages ``(C_in/G)·K/∏s`` and, as by Glorot
and He, the stride is ignored (it is kept for the text form only).

Weight shapes per layout: see :mod:`invariants.layers.layout`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from invariants.core.errors import BadInput
from invariants.layers.base import Args, Layer, positive_int, register

SPATIAL = (1, 2, 3)


def _names(*bases: str) -> list[str]:
    return [f"{b}{nd}d" for b in bases for nd in SPATIAL]


def _tuple_text(xs: tuple[int, ...]) -> str:
    return str(xs[0]) if len(set(xs)) == 1 else "(" + ",".join(map(str, xs)) + ")"


class Spatial(Layer):
    """What every convolution shares: a ``kernel`` (size per spatial dim), a ``stride``
    (informational: no fan divides by it; all-ones is stored as ``()``) and groups dividing both
    channel counts."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    unit_word: ClassVar[str] = "output channels"

    def _check_spatial(self) -> None:
        object.__setattr__(self, "kernel", tuple(positive_int(k, "kernel size / stride") for k in self.kernel))
        stride = tuple(positive_int(s, "kernel size / stride") for s in self.stride)
        object.__setattr__(self, "stride", stride if any(s != 1 for s in stride) else ())
        if not self.kernel:
            raise BadInput(f"{self.kind} needs a kernel size k")
        g = self.groups
        if self.in_features % g or self.out_features % g:
            raise BadInput(f"groups={g} must divide both channel counts ({self.in_features}, {self.out_features})")

    @property
    def nd(self) -> int:
        """Number of spatial dims (1, 2 or 3)."""
        return len(self.kernel)

    @property
    def receptive_field(self) -> int:
        return math.prod(self.kernel)

    def textbook_fans(self) -> tuple[int, int]:
        k, g = self.receptive_field, self.groups
        return (self.in_features // g) * k, (self.out_features // g) * k

    def axis_sizes(self) -> dict[str, int | tuple[int, ...]]:
        return {**super().axis_sizes(), "k": self.kernel}

    def _stride_text(self) -> str:
        """``,stride=...`` when the stride is not all ones, else ``""``."""
        return f",stride={_tuple_text(self.stride)}" if self.stride else ""

    @staticmethod
    def _kernel_and_stride(args: Args, nd: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        k = args.spatial(args.kw.get("k", args.kw.get("kernel_size")), nd, "k", required=True)
        return k, args.spatial(args.kw.get("stride"), nd, "stride", required=False)


@dataclass(frozen=True)
class GroupedConv(Spatial):
    """A convolution with ``in_features``/``out_features`` channels and ``groups`` (base of
    :class:`Conv` and :class:`ConvTranspose`; text ``{kind}{nd}d(C_in,C_out,k=..[,groups=G][,stride=s])``).

    Raises:
        BadInput: a channel count < 0, groups < 1, no kernel, or groups not dividing both channel counts.
    """

    in_features: int
    out_features: int
    kernel: tuple[int, ...]
    groups: int = 1
    stride: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        self.validate_sizes()
        object.__setattr__(self, "groups", positive_int(self.groups, "groups"))
        self._check_spatial()

    @classmethod
    def from_args(cls, args: Args) -> "GroupedConv":
        k, stride = cls._kernel_and_stride(args, int(args.name[-2]))
        args.options("k", "kernel_size", "groups", "stride")
        i, o = args.ints(2, "in channels, out channels")
        return cls(i, o, k, groups=positive_int(args.kw.get("groups", 1), "groups"), stride=stride)

    def __str__(self) -> str:
        g = f",groups={self.groups}" if self.groups != 1 else ""
        return f"{self.kind}{self.nd}d({self.in_features},{self.out_features},k={_tuple_text(self.kernel)}{g}" \
            f"{self._stride_text()})"


@register(*_names("conv"))
@dataclass(frozen=True)
class Conv(GroupedConv):
    """``conv{nd}d(C_in, C_out, k, groups, stride)``: torch ``ConvNd``, flax ``Conv``, keras ``ConvND``."""

    kind: ClassVar[str] = "conv"
    plural: ClassVar[str] = "convolutions"


@register(*_names("conv_transpose"))
@dataclass(frozen=True)
class ConvTranspose(GroupedConv):
    """``conv_transpose{nd}d(C_in, C_out, k, groups, stride)``: torch ``ConvTransposeNd``, flax
    ``ConvTranspose``, keras ``ConvNDTranspose``."""

    kind: ClassVar[str] = "conv_transpose"
    plural: ClassVar[str] = "transposed convolutions"


@register(*_names("depthwise_conv", "depthwise"))
@dataclass(frozen=True)
class Depthwise(Spatial):
    """``depthwise_conv{nd}d(C, k, m, stride)``: ``groups = C_in = C``, ``C_out = m·C``
    (``in_features = C``, ``out_features = m·C``).

    Raises:
        BadInput: channels < 1 (they are the groups), ``out_features`` < 0, no kernel, or ``out_features``
            not a multiple of ``in_features``.
    """

    in_features: int
    out_features: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...] = ()
    kind: ClassVar[str] = "depthwise"
    plural: ClassVar[str] = "depthwise convolutions"

    def __post_init__(self) -> None:
        self.validate_sizes()
        positive_int(self.in_features, "channels (the groups of a depthwise conv)")
        self._check_spatial()

    @property
    def groups(self) -> int:
        return self.in_features

    @property
    def multiplier(self) -> int:
        """``m = C_out / C_in``."""
        return self.out_features // self.in_features

    @classmethod
    def from_args(cls, args: Args) -> "Depthwise":
        k, stride = cls._kernel_and_stride(args, int(args.name[-2]))
        args.options("k", "kernel_size", "m", "stride")
        (c,) = args.ints(1, "channels")
        return cls(c, c * positive_int(args.kw.get("m", 1), "m"), k, stride=stride)

    def __str__(self) -> str:
        return f"depthwise_conv{self.nd}d({self.in_features},k={_tuple_text(self.kernel)},m={self.multiplier}" \
            f"{self._stride_text()})"
