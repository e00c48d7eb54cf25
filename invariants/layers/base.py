"""The layer base class, the registry of layer kinds and the argument checks the layer kinds share.

Each layer kind is a frozen dataclass deriving from :class:`Layer` and registered under the names its
text form accepts (:func:`register`); :func:`invariants.layers.text.parse_layer` looks the name up in
:data:`LAYER_TYPES` and lets the class build itself from the arguments (:meth:`Layer.from_args`).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, TypeVar

from invariants.core.errors import BadInput

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from invariants.layers.layout import Layout

#: text name (``"dense"``, ``"conv2d"``, ``"lstm"``, ...) -> layer class
LAYER_TYPES: dict[str, type["Layer"]] = {}

L = TypeVar("L", bound="type[Layer]")


def register(*names: str) -> Callable[[L], L]:
    """Class decorator: make ``parse_layer`` build this layer class from text named ``names``.

    Raises:
        ValueError: a name already taken by another class (two kinds cannot share a text name).
    """

    def deco(cls: L) -> L:
        for name in names:
            if LAYER_TYPES.get(name, cls) is not cls:
                raise ValueError(f"layer name {name!r} is already taken by {LAYER_TYPES[name].__name__}")
            LAYER_TYPES[name] = cls
        return cls

    return deco


def positive_int(v: object, what: str) -> int:
    """``v`` as an ``int`` when it is an integer >= 1 (numpy integers included; bools are not).

    Raises:
        BadInput: ``"{what} must be an integer >= 1, got {v!r}"``.
    """
    return _int_at_least(v, what, 1)


def size_int(v: object, what: str) -> int:
    """``v`` as an ``int`` when it is an integer >= 0: a layer size, where 0 is legal (``torch.nn.Linear(0, 4)``
    builds a ``(4, 0)`` weight with no values; the auditor and ``check-model`` skip it as "0 values").

    Raises:
        BadInput: ``"{what} must be an integer >= 0, got {v!r}"``.
    """
    return _int_at_least(v, what, 0)


def _int_at_least(v: object, what: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise BadInput(f"{what} must be an integer >= {low}, got {v!r}")
    return int(v)


@dataclass(frozen=True)
class Args:
    """The arguments of one layer text, ``name(pos..., key=value...)``, with the checks every kind uses.

    Attributes:
        name: the layer name as written (lower case), for messages.
        pos: positional values (ints or int tuples).
        kw: keyword values by lower-case key.
    """

    name: str
    pos: tuple
    kw: dict

    def ints(self, n: int, what: str) -> list[int]:
        """Exactly ``n`` positional integers. Raises BadInput naming ``what`` otherwise."""
        if len(self.pos) != n or any(isinstance(p, tuple) for p in self.pos):
            raise BadInput(f"{self.name} takes {n} integer arguments ({what})")
        return [int(p) for p in self.pos]

    def options(self, *allowed: str) -> None:
        """Raise BadInput for the first keyword (sorted) not in ``allowed``."""
        extra = sorted(set(self.kw) - set(allowed))
        if extra:
            raise BadInput(f"{self.name} has no option {extra[0]!r}"
                           + (f"; options: {', '.join(allowed)}" if allowed else ""))

    def spatial(self, value: object, nd: int, what: str, required: bool) -> tuple[int, ...]:
        """A per-spatial-dim option: a scalar applies to all ``nd`` dims, a tuple gives each.

        Raises:
            BadInput: missing when ``required``, wrong length, or a value < 1.
        """
        if value is None:
            if required:
                raise BadInput(f"missing {what}=")
            return ()
        vals = value if isinstance(value, tuple) else (value,) * nd
        if len(vals) != nd:
            raise BadInput(f"{what} needs {nd} values, got {len(vals)}")
        return tuple(positive_int(v, what) for v in vals)


class Layer:
    """A layer whose weight is initialized (base of every layer kind; not constructed itself).

    Every kind has ``in_features`` (inputs; input channels; vocabulary size; first input size),
    ``out_features`` (outputs; output channels; embedding dim; per-block output size when packed),
    ``kernel`` and ``stride`` (``()`` unless a convolution), ``groups`` and ``blocks``.
    ``str(layer)`` is its canonical text, and ``parse_layer(str(layer)) == layer``.

    Class attributes:
        kind: the weight role a :class:`~invariants.layers.layout.Layout` places axes for (``dense``,
            ``conv``, ``conv_transpose``, ``depthwise``, ``embedding``, ``bilinear``, ``packed``).
        unit_word: what its output units are called in messages.
        plural: the kind in words, plural (``"transposed convolutions"``), for messages.
        has_units: whether the weight has output units (rows) of its own (packed matrices do not:
            their blocks do).
    """

    in_features: int
    out_features: int
    #: kernel size and stride per spatial dim; ``()`` unless a convolution
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    kind: ClassVar[str] = ""
    unit_word: ClassVar[str] = "output units"
    plural: ClassVar[str] = "layers"
    has_units: ClassVar[bool] = True

    # ---------------------------------------------------------------------- construction
    @classmethod
    def from_args(cls, args: Args) -> "Layer":
        """Build the layer from its parsed text arguments. Raises BadInput naming the problem."""
        raise NotImplementedError

    def validate_sizes(self, *names: str) -> None:
        """Check ``in_features``, ``out_features`` and the size fields ``names`` are integers >= 0 (stored as
        ``int``; 0 is a legal layer with no values); for ``__post_init__``. Raises BadInput naming the
        first bad one."""
        for what in ("in_features", "out_features") + names:
            object.__setattr__(self, what, size_int(getattr(self, what), what))

    # ---------------------------------------------------------------------- semantics
    @property
    def groups(self) -> int:
        """Connection groups (1 unless a grouped or depthwise convolution)."""
        return 1

    @property
    def blocks(self) -> tuple[str, ...]:
        """Names of the packed blocks (``("q", "k", "v")``), ``()`` for a plain weight."""
        return ()

    @property
    def receptive_field(self) -> int:
        """``K`` = product of the kernel size (1 for non-conv layers)."""
        return 1

    def textbook_fans(self) -> tuple[int, int] | None:
        """(fan_in, fan_out) from connectivity (Glorot & Bengio 2010 §4.2; He et al. 2015 §2.2):
        inputs feeding one output unit, outputs fed by one input unit; per block when packed.  ``None``
        for a tensor that connects nothing (:class:`~invariants.layers.vector.Vector`,
        :class:`~invariants.layers.vector.Scalar`: a bias or norm scale has no fans)."""
        return self.in_features, self.out_features

    @property
    def n_values(self) -> int:
        """Number of values of the weight (0 for a layer with a zero size, e.g. ``dense(0,4)``)."""
        return math.prod(self.shape("torch"))

    def axis_sizes(self) -> dict[str, int | tuple[int, ...]]:
        """Size of each axis symbol a :class:`~invariants.layers.layout.Layout` can place:
        ``out``/``in`` (all channels; all blocks when packed), ``out/g``/``in/g`` (per group),
        ``k`` (the kernel size, one axis per spatial dim)."""
        g = self.groups
        return {"out": max(1, len(self.blocks)) * self.out_features, "in": self.in_features,
                "out/g": self.out_features // g, "in/g": self.in_features // g, "k": ()}

    def own_axes(self) -> tuple[tuple[str, int], ...] | None:
        """``((symbol, size), ...)`` per weight axis when the layer fixes its axes itself, the same in every
        layout (:class:`~invariants.layers.kernel.Kernel`: the text states the shape); ``None``: the
        :class:`~invariants.layers.layout.Layout` places them."""
        return None

    # ---------------------------------------------------------------------- per layout
    def shape(self, layout: "str | Layout" = "torch") -> tuple[int, ...]:
        """Weight shape in ``layout`` (a :class:`~invariants.layers.layout.Layout` or its name).

        Raises:
            UsageError: unknown layout name.
            BadInput: a layer the layout cannot express (grouped conv transpose in ``jax``/``keras``).
        """
        from invariants.layers.layout import as_layout

        return as_layout(layout).shape(self)

    def framework_fans(self, layout: "str | Layout" = "torch") -> tuple[int, int]:
        """The fans the framework's own fan rule computes on :meth:`shape` (whole packed tensor)."""
        from invariants.layers.layout import as_layout

        lay = as_layout(layout)
        return lay.fans(lay.shape(self))

    def block_index(self, layout: "str | Layout" = "torch") -> list[tuple[str, tuple[slice, ...]]]:
        """``[(name, index)]``: numpy index of each packed block in :meth:`shape` (``[]`` if unpacked)."""
        from invariants.layers.layout import as_layout

        return as_layout(layout).block_index(self)

    def unit_rows(self, w: "np.ndarray", layout: "str | Layout" = "torch") -> "np.ndarray":
        """``(out_features, k)``: row ``j`` holds every weight of ``w`` feeding output unit ``j``.

        Raises:
            BadInput: a packed layer (no units of its own) or a weight whose shape is not :meth:`shape`.
        """
        from invariants.layers.layout import as_layout

        return as_layout(layout).unit_rows(self, w)

    def describe(self) -> str:
        """Canonical text accepted by :func:`~invariants.layers.text.parse_layer` (same as ``str``)."""
        return str(self)

    def __str__(self) -> str:  # pragma: no cover - every kind defines its text
        raise NotImplementedError


class Square(Layer):
    """A layer given by one size (``side``) with ``in_features = out_features = side``, text
    ``{text_name}(side)`` (base of the packed q/k/v projections and of vectors)."""

    text_name: ClassVar[str] = ""
    #: how the one argument is called in messages
    arg_name: ClassVar[str] = "size"

    @classmethod
    def from_args(cls, args: Args) -> "Square":
        args.options()
        (n,) = args.ints(1, cls.arg_name)
        return cls(n)  # type: ignore[call-arg]

    def __str__(self) -> str:
        return f"{self.text_name}({self.side})"

    @property
    def side(self) -> int:  # pragma: no cover - every square kind defines it
        raise NotImplementedError

    @property
    def in_features(self) -> int:  # type: ignore[override]
        return self.side

    @property
    def out_features(self) -> int:  # type: ignore[override]
        return self.side


@dataclass(frozen=True)
class InOut(Layer):
    """A layer given by two sizes, text ``{text_name}(in_features,out_features)`` (base of
    :class:`~invariants.layers.dense.Dense`, :class:`~invariants.layers.embedding.Embedding` and the
    recurrent gate matrices).

    Raises:
        BadInput: a size < 0 (0 is legal: a layer with no values).
    """

    in_features: int
    out_features: int
    #: the text name, and how the two positional arguments are called in messages
    text_name: ClassVar[str] = ""
    arg_names: ClassVar[str] = "in, out"

    def __post_init__(self) -> None:
        self.validate_sizes()

    @classmethod
    def from_args(cls, args: Args) -> "InOut":
        args.options()
        i, o = args.ints(2, cls.arg_names)
        return cls(i, o)

    def __str__(self) -> str:
        return f"{self.text_name}({self.in_features},{self.out_features})"
