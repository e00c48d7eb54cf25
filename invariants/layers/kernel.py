"""A general multi-axis kernel: ``kernel(shape=(512,8,64), in_axes=(0,), out_axes=(1,2))``.

The weight of an einsum layer (Keras ``EinsumDense``, Flax ``DenseGeneral``, attention projections
``(E, H, Dh)``) has several input and output axes; the layer text names them, since no shape rule can.
Each axis is one of:

- an **input** axis (``in_axes``): contracted with the layer input;
- an **output** axis (``out_axes``): indexes the output units;
- a **batch** axis (``batch_axes``, optional): shared by input and output, one independent map per
  entry (a per-head weight ``"bhd,hde->bhe"``): in neither fan, as ``jax.nn.initializers``'
  ``batch_axis``;
- every other axis is **receptive field** (``rf`` = product of their sizes), as in a convolution.

Textbook fans (Glorot & Bengio 2010 §4.2, counted per output unit / per input unit):
``fan_in = prod(in sizes)·rf``, ``fan_out = prod(out sizes)·rf`` — the semantics of Keras
``EinsumDense`` (3.15: ``keras/src/layers/core/einsum_dense.py`` ``build`` passes its ``input_axes`` /
``output_axes`` to a ``VarianceScaling`` initializer; ``compute_fans`` then multiplies those axes, with no
receptive field, which is the textbook whenever every axis is an input or output one) and of
``jax.nn.initializers.variance_scaling(in_axis=..., out_axis=..., batch_axis=...)``.

Where the framework's own fans differ (measured on the installed versions):

- a **bare call** of a framework initializer on the kernel's shape uses the shape rule, not the axes:
  Keras ``compute_fans`` without axes and JAX's ``_compute_fans`` with the default axes read the leading
  dims as receptive field (``(512, 8, 64)`` -> ``(4096, 32768)``); torch reads dim 1 / dim 0
  (``(512, 8, 64)`` -> ``(512, 32768)``);
- Keras ``EinsumDense`` puts an axis shared by input and output (a batch axis) among its
  ``output_axes``: ``fan_out`` includes it;
- Flax ``DenseGeneral`` / nnx ``LinearGeneral`` apply the initializer to the flattened
  ``(prod(batch)·prod(in), prod(out))`` matrix: batch dims multiply ``fan_in``.

The weight shape is the same in every layout (the text states it); the output units are the
``batch × out`` entries, in that order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from invariants.core.errors import BadInput
from invariants.layers.base import Args, Layer, register, size_int


def _axes(value: object, ndim: int, what: str) -> tuple[int, ...]:
    """``value`` (an int or a tuple of ints) as axes in ``[0, ndim)`` (negative counted from the end).

    Raises:
        BadInput: an axis out of range or given twice.
    """
    vals = value if isinstance(value, tuple) else (value,)
    out: list[int] = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int):
            raise BadInput(f"{what} must be integers, got {v!r}")
        if not -ndim <= v < ndim:
            raise BadInput(f"{what}: axis {v} is out of range for a {ndim}-D kernel")
        a = v % ndim
        if a in out:
            raise BadInput(f"{what}: axis {a} is given twice")
        out.append(a)
    return tuple(out)


@register("kernel", "einsum")
@dataclass(frozen=True)
class Kernel(Layer):
    """``kernel(shape=(...), in_axes=(...), out_axes=(...)[, batch_axes=(...)])``: a multi-axis weight.

    Attributes:
        sizes: the weight shape (the text's ``shape``); sizes may be 0 (no values).
        in_axes, out_axes: the input / output axes (at least one each), normalised to ``[0, ndim)``.
        batch_axes: axes in neither fan (default none).

    ``in_features = prod(batch)·prod(in)``, ``out_features = prod(batch)·prod(out)`` (the units),
    ``receptive_field`` = product of the other axes.

    Raises:
        BadInput: a size < 0, no input or no output axis, an axis out of range, duplicated, or in two lists.
    """

    sizes: tuple[int, ...]
    in_axes: tuple[int, ...]
    out_axes: tuple[int, ...]
    batch_axes: tuple[int, ...] = ()
    kind: ClassVar[str] = "kernel"
    plural: ClassVar[str] = "multi-axis kernels"

    def __post_init__(self) -> None:
        sizes = self.sizes if isinstance(self.sizes, tuple) else (self.sizes,)
        object.__setattr__(self, "sizes", tuple(size_int(s, "kernel shape") for s in sizes))
        nd = len(self.sizes)
        if nd < 2:
            raise BadInput(f"a kernel needs at least 2 dims (an input and an output axis), got shape {self.sizes}; "
                           "use vector(n) for a 1-D tensor")
        seen: dict[int, str] = {}
        for what in ("in_axes", "out_axes", "batch_axes"):
            axes = _axes(getattr(self, what), nd, what)
            if not axes and what != "batch_axes":
                raise BadInput(f"{what} must name at least one axis")
            for a in axes:
                if a in seen:
                    raise BadInput(f"axis {a} is in both {seen[a]} and {what}")
                seen[a] = what
            object.__setattr__(self, what, axes)

    def _prod(self, axes: tuple[int, ...]) -> int:
        return math.prod(self.sizes[a] for a in axes)

    @property
    def rf_axes(self) -> tuple[int, ...]:
        """The receptive-field axes: those in no list."""
        named = set(self.in_axes) | set(self.out_axes) | set(self.batch_axes)
        return tuple(a for a in range(len(self.sizes)) if a not in named)

    @property
    def in_features(self) -> int:  # type: ignore[override]
        return self._prod(self.batch_axes) * self._prod(self.in_axes)

    @property
    def out_features(self) -> int:  # type: ignore[override]
        return self._prod(self.batch_axes) * self._prod(self.out_axes)

    @property
    def receptive_field(self) -> int:
        return self._prod(self.rf_axes)

    def textbook_fans(self) -> tuple[int, int]:
        rf = self.receptive_field
        return self._prod(self.in_axes) * rf, self._prod(self.out_axes) * rf

    def own_axes(self) -> tuple[tuple[str, int], ...]:
        role = {**{a: "in" for a in self.in_axes}, **{a: "out" for a in self.out_axes},
                **{a: "batch" for a in self.batch_axes}}
        return tuple((role.get(a, "k"), n) for a, n in enumerate(self.sizes))

    @classmethod
    def from_args(cls, args: Args) -> "Kernel":
        args.options("shape", "in_axes", "out_axes", "batch_axes")
        if args.pos:
            raise BadInput("kernel takes keyword arguments only: kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,2))")
        for key in ("shape", "in_axes", "out_axes"):
            if key not in args.kw:
                raise BadInput(f"missing {key}=; e.g. kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,2))")
        return cls(args.kw["shape"], args.kw["in_axes"], args.kw["out_axes"], args.kw.get("batch_axes", ()))

    def __str__(self) -> str:
        def t(xs: tuple[int, ...]) -> str:
            return "(" + ",".join(map(str, xs)) + ("," if len(xs) == 1 else "") + ")"

        batch = f",batch_axes={t(self.batch_axes)}" if self.batch_axes else ""
        return f"kernel(shape={t(self.sizes)},in_axes={t(self.in_axes)},out_axes={t(self.out_axes)}{batch})"
