"""Weight layouts as data: where each framework puts the fan_in, fan_out, receptive-field and unit axes.

A :class:`Layout` names, per weight role (a layer class's ``kind``), the order of the weight's axes as
symbols:

- ``out`` / ``in``: all output / input channels (units, features, vocabulary); for a packed weight
  ``out`` holds every block, stacked block after block;
- ``out/g`` / ``in/g``: the channels of one group (``C_out/G``, ``C_in/G``);
- ``k``: the kernel, one axis per spatial dim;
- ``in2``: a bilinear layer's second input.

From that alone it derives the weight shape, the output-unit rows (every weight feeding one output
unit) and the packed blocks' indices, so a framework with its own layout (MLX: conv
``(C_out, *k, C_in/G)``) defines a :class:`Layout` in its own module and nothing here changes.  The
framework's shape-based fan rule is data too: ``fan_axes = (in_axis, out_axis)``, receptive field =
product of the other dims.

Built-in layouts (measured table: ``shared/reference/initializer-conventions.md`` §0, §3):

- :data:`TORCH` (also ``numpy`` and the reference network's ``(n_out, n_in)``): dense ``(out, in)``;
  conv ``(C_out, C_in/G, *k)``; conv transpose ``(C_in, C_out/G, *k)``; bilinear ``(out, in1, in2)``;
  embedding ``(V, D)``; packed ``(blocks·out, in)``.  Fans: ``torch.nn.init._calculate_fan_in_and_fan_out``,
  ``rf = ∏shape[2:]``, ``(shape[1]·rf, shape[0]·rf)``.
- :data:`JAX` (JAX, Flax): dense ``(in, out)``; conv ``(*k, C_in/G, C_out)``; conv transpose
  ``(*k, C_in, C_out)`` (no groups); packed ``(in, blocks·out)``.  Fans: ``jax.nn.initializers``
  default ``in_axis=-2, out_axis=-1``: ``rf = ∏shape[:-2]``, ``(shape[-2]·rf, shape[-1]·rf)``.
- :data:`KERAS`: as ``jax``, except conv transpose ``(*k, C_out, C_in)`` and depthwise
  ``(*k, C_in, m)``; fans as ``jax`` (``keras.src.initializers.random_initializers.compute_fans``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from invariants.core.errors import BadInput, UsageError
from invariants.laws import as_matrix

if TYPE_CHECKING:  # pragma: no cover
    from invariants.layers.base import Layer

#: axis symbols a layout may use (see the module docstring; ``batch``: a kernel's batch axis)
AXES = ("out", "in", "out/g", "in/g", "k", "in2", "batch")
#: weight roles a layout places axes for (a layer class's ``kind``)
ROLES = ("dense", "conv", "conv_transpose", "depthwise", "packed", "embedding", "bilinear", "vector", "scalar",
         "experts")

Axes = tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """Axis order of each weight role in one framework, and its shape-based fan rule.

    Attributes:
        name: the layout's name (``"torch"``), for messages.
        dense, conv, conv_transpose: axis symbols of those weights, e.g. ``("out", "in/g", "k")``.
        depthwise: depthwise conv weight axes; ``None``: as ``conv``.
        packed: packed weight axes (blocks stacked along ``out``); ``None``: as ``dense``.
        experts: stacked experts' axes (:class:`~invariants.layers.experts.Experts`); ``None``: the expert axis
            (``batch``) first, then ``dense`` (``(E, out, in)`` in torch, ``(E, in, out)`` in jax/keras).
        embedding: ``(V, D)`` table axes.
        bilinear: bilinear weight axes; ``None``: the layout has no bilinear layers.
        fan_axes: ``(in_axis, out_axis)`` of the framework's fan rule (negative counts from the end).
        vector, scalar: a 1-D ``(n,)`` and a 0-D ``()`` tensor (the same in every built-in layout).
        small_fans: whether the fan rule gives fans below 2 dims: ``(n, n)`` for ``(n,)`` and ``(1, 1)``
            for ``()`` (Keras ``compute_fans``); otherwise :meth:`fans` raises with :attr:`no_fans`.
        no_fans: why the framework computes no fans below 2 dims, with the source (one clause).
        fan_rule: the fan rule in words, with its source (the reference of a documented deviation of a
            :class:`~invariants.layers.kernel.Kernel`, whose axes no shape rule reads).

    Raises:
        UsageError: an unknown axis symbol, or a role without exactly one output axis (none for ``scalar``).
    """

    name: str
    dense: Axes
    conv: Axes
    conv_transpose: Axes
    depthwise: Axes | None = None
    packed: Axes | None = None
    embedding: Axes = ("in", "out")
    bilinear: Axes | None = None
    fan_axes: tuple[int, int] = (1, 0)
    vector: Axes = ("out",)
    scalar: Axes = ()
    small_fans: bool = False
    no_fans: str = "the framework computes no fans for a tensor with fewer than 2 dims"
    fan_rule: str = ""
    experts: Axes | None = None

    def __post_init__(self) -> None:
        if self.experts is None:
            object.__setattr__(self, "experts", ("batch",) + tuple(self.dense))
        if self.depthwise is None:
            object.__setattr__(self, "depthwise", self.conv)
        if self.packed is None:
            object.__setattr__(self, "packed", self.dense)
        for role in ROLES:
            axes = getattr(self, role)
            if axes is None:
                continue
            bad = [a for a in axes if a not in AXES]
            if bad or sum(a in ("out", "out/g") for a in axes) != (role != "scalar"):
                raise UsageError(f"layout {self.name!r}: {role} axes {axes} need symbols from {AXES} "
                                 "with exactly one of 'out', 'out/g' (none for a scalar)")

    # ---------------------------------------------------------------------- per layer
    def role(self, layer: "Layer") -> Axes:
        """The axis symbols of ``layer``'s weight role (``k`` once for all spatial dims).

        Raises:
            BadInput: the layout has no such layer, or it cannot hold the layer's groups (both
                channel axes whole, as jax's and keras' transposed convs).
        """
        role = getattr(self, layer.kind, None)
        if role is None:
            raise BadInput(f"{layer.plural} do not exist in the {self.name} layout")
        if layer.groups != 1 and "in" in role and "out" in role:
            raise BadInput(f"{self.name} {layer.plural} have no groups")
        return role

    def axes(self, layer: "Layer") -> tuple[str, ...]:
        """One symbol per weight axis of ``layer`` (``k`` repeated per spatial dim). Raises as :meth:`role`."""
        own = layer.own_axes()
        if own is not None:
            return tuple(a for a, _ in own)
        sizes = layer.axis_sizes()
        return tuple(s for a in self.role(layer) for s in ((a,) * len(sizes["k"]) if a == "k" else (a,)))  # type: ignore[arg-type]

    def shape(self, layer: "Layer") -> tuple[int, ...]:
        """Weight shape of ``layer`` in this layout. Raises BadInput as :meth:`role`."""
        own = layer.own_axes()
        if own is not None:
            return tuple(n for _, n in own)
        sizes = layer.axis_sizes()
        return tuple(n for a in self.role(layer) for n in (sizes[a] if a == "k" else (sizes[a],)))  # type: ignore[union-attr]

    def unit_rows(self, layer: "Layer", w: np.ndarray) -> np.ndarray:
        """``(out_features, k)``: row ``j`` holds every weight feeding output unit ``j``
        (``j = group·C_out/G + channel``), the rest in the weight's own axis order.

        Raises:
            BadInput: a layer without units of its own (packed), or ``w`` not of :meth:`shape`.
        """
        w = np.asarray(w)
        if not layer.has_units:
            raise BadInput(f"layer kind {layer.kind!r} has no output units to describe")
        expected = self.shape(layer)
        if tuple(w.shape) != expected:
            raise BadInput(f"{layer}: weight of shape {tuple(w.shape)} is not its {self.name} shape {expected}")
        g = layer.groups
        dims: list[int] = []
        names: list[str] = []
        for a, n in zip(self.axes(layer), w.shape):
            if g > 1 and a in ("out", "in"):  # the axis holding the groups: split it (group, channel)
                dims += [g, n // g]
                names += ["g", a[0]]
            else:
                dims.append(n)
                names.append("o" if a.startswith("out") else "i" if a.startswith("in") and a != "in2" else a)
        # unit index = (group, batch axes, output axes) in that order; the rest keeps its axis order
        front = [d for s in ("g", "batch", "o") for d, name in enumerate(names) if name == s]
        order = front + [d for d in range(len(names)) if d not in front]
        return w.reshape(dims).transpose(order).reshape(layer.out_features, -1)

    def block_index(self, layer: "Layer") -> list[tuple[str, tuple[slice, ...]]]:
        """``[(name, index)]``: numpy index of each packed block in :meth:`shape` (``[]`` if unpacked)."""
        if not layer.blocks:
            return []
        axes = self.axes(layer)
        at = axes.index("out")
        o = layer.out_features
        out = []
        for b, name in enumerate(layer.blocks):
            idx = [slice(None)] * len(axes)
            idx[at] = slice(b * o, (b + 1) * o)
            out.append((name, tuple(idx)))
        return out

    # ---------------------------------------------------------------------- per shape
    def fans(self, shape: Sequence[int]) -> tuple[int, int]:
        """The framework's fan rule on a bare shape: ``(shape[i]·rf, shape[o]·rf)`` with
        ``(i, o) = fan_axes`` and ``rf`` the product of the other dims.

        Below 2 dims: ``(n, n)`` / ``(1, 1)`` when :attr:`small_fans` (Keras), else none.

        Raises:
            BadInput: fewer than 2 dims and no :attr:`small_fans`: ``"{no_fans}; shape {shape}"``.
        """
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2:
            if self.small_fans:
                n = shape[0] if shape else 1
                return n, n
            raise BadInput(f"{self.no_fans}; shape {shape}")
        i, o = (a % len(shape) for a in self.fan_axes)
        rf = math.prod(s for d, s in enumerate(shape) if d not in (i, o))
        return shape[i] * rf, shape[o] * rf

    @property
    def unit_axis(self) -> int:
        """The axis of a bare weight shape that holds the output units: the fan rule's out axis (``0`` in
        torch, ``-1`` in jax/keras).  Orthogonal initializers keep it whole when they flatten a tensor to
        a matrix (:func:`invariants.laws.as_matrix`)."""
        return self.fan_axes[1]

    def out_matrix(self, v: np.ndarray) -> np.ndarray:
        """``v`` as a matrix with the unit axis kept and the other axes flattened
        (``(shape[0], -1)`` in torch, ``(-1, shape[-1])`` in jax/keras; :func:`invariants.laws.as_matrix`)."""
        return as_matrix(v, self.unit_axis)

#: the shape rule of JAX's ``_compute_fans`` (default axes) and of Keras' ``compute_fans`` without axes
_LAST_TWO = "rf = prod(shape[:-2]), fan_in = shape[-2]*rf, fan_out = shape[-1]*rf"

TORCH = Layout("torch", dense=("out", "in"), conv=("out", "in/g", "k"), conv_transpose=("in", "out/g", "k"),
               bilinear=("out", "in", "in2"), fan_axes=(1, 0),
               no_fans="torch computes no fans for a tensor with fewer than 2 dims "
                       "(torch.nn.init._calculate_fan_in_and_fan_out raises ValueError)",
               fan_rule="torch.nn.init._calculate_fan_in_and_fan_out reads the shape, not the layer's axes: "
                        "rf = prod(shape[2:]), fan_in = shape[1]*rf, fan_out = shape[0]*rf")
JAX = Layout("jax", dense=("in", "out"), conv=("k", "in/g", "out"), conv_transpose=("k", "in", "out"),
             fan_axes=(-2, -1),
             no_fans="jax.nn.initializers computes no fans for a shape with fewer than 2 dims "
                     "(_compute_fans raises ValueError with the default in_axis=-2)",
             fan_rule="jax.nn.initializers._compute_fans with the default in_axis=-2, out_axis=-1 reads the shape, "
                      f"not the layer's axes: {_LAST_TWO}")
KERAS = Layout("keras", dense=("in", "out"), conv=("k", "in/g", "out"), conv_transpose=("k", "out", "in"),
               depthwise=("k", "in", "out/g"), fan_axes=(-2, -1), small_fans=True,
               fan_rule="keras.initializers compute_fans called without input/output axes (a bare initializer "
                        "call; EinsumDense passes its axes from keras 3.15) reads the shape: rank 1 (n, n), "
                        f"rank 2 (shape[0], shape[1]), rank >= 3 {_LAST_TWO}")

#: old layout names -> layouts (``numpy`` is the torch layout); framework code may still pass names
LAYOUTS: dict[str, Layout] = {"torch": TORCH, "numpy": TORCH, "jax": JAX, "keras": KERAS}


def as_layout(layout: "str | Layout") -> Layout:
    """``layout`` itself, or the built-in layout of that name.

    Raises:
        UsageError: an unknown name.
    """
    if isinstance(layout, Layout):
        return layout
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; expected one of {tuple(LAYOUTS)}")
    return LAYOUTS[layout]


def fans_from_shape(shape: Sequence[int], layout: "str | Layout" = "torch") -> tuple[int, int]:
    """A framework's fan rule applied to a shape (:meth:`Layout.fans`).

    Raises:
        UsageError: unknown layout name.  BadInput: fewer than 2 dims.
    """
    return as_layout(layout).fans(shape)


def grouped_fan_candidates(layer: "Layer | None") -> list[tuple[str, int]]:
    """For a grouped (or depthwise) convolution, its fans with and without the groups divided out, labelled
    with their formula: ``fan_in (C_in/groups)*K = (32/4)*9 = 72`` (the textbook fan) and ``C_in*K = 32*9 =
    288, groups=4 not divided out`` (the grouped-conv fault: a fan computed from the layer's channel
    counts).  ``[]`` for any other layer (or ``None``)."""
    g = getattr(layer, "groups", 1) if layer is not None else 1
    if g <= 1:
        return []
    assert layer is not None
    k, ci, co = layer.receptive_field, layer.in_features, layer.out_features
    return [(f"fan_in (C_in/groups)*K = ({ci}/{g})*{k} = {ci // g * k}", ci // g * k),
            (f"fan_out (C_out/groups)*K = ({co}/{g})*{k} = {co // g * k}", co // g * k),
            (f"C_in*K = {ci}*{k} = {ci * k}, groups={g} not divided out", ci * k),
            (f"C_out*K = {co}*{k} = {co * k}, groups={g} not divided out", co * k)]


def shape_fan_candidates(shape: Sequence[int]) -> list[tuple[str, int]]:
    """Labelled fans any shape-based convention could compute (for explaining a deviation)."""
    shape = tuple(int(s) for s in shape)
    out: list[tuple[str, int]] = []
    if len(shape) == 1:
        out.append((f"shape[0] = {shape[0]} (keras fans (n, n) of a 1-D shape)", shape[0]))
    if len(shape) >= 2:
        ti, to = TORCH.fans(shape)
        ji, jo = JAX.fans(shape)
        out += [
            (f"size(1)*rf = {ti} (torch fan_in rule)", ti),
            (f"size(0)*rf = {to} (torch fan_out rule)", to),
            (f"shape[-2]*rf = {ji} (jax/keras fan_in rule)", ji),
            (f"shape[-1]*rf = {jo} (jax/keras fan_out rule)", jo),
        ]
        out += [(f"shape[{d}] = {s}", s) for d, s in enumerate(shape)]
    return out
