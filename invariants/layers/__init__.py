"""Layer descriptions: weight shapes in each framework's layout, textbook fans and framework fans.

**Textbook fans** come from the layer's connectivity, not from the tensor shape (Glorot & Bengio 2010,
Sec. 4.2; He et al. 2015, Sec. 2.2): ``fan_in`` = number of inputs feeding one output unit,
``fan_out`` = number of outputs fed by one input unit.  With ``K`` = product of the kernel size and
``G`` = groups:

============================  ==============================  ======================================
layer                         textbook (fan_in, fan_out)      notes
============================  ==============================  ======================================
``dense(in, out)``            ``(in, out)``
``conv{1,2,3}d``              ``((C_in/G)·K, (C_out/G)·K)``   groups divided out of both fans
``depthwise_conv{1,2,3}d``    ``(K, m·K)``                    ``G = C_in``, ``C_out = m·C_in``
``conv_transpose{1,2,3}d``    ``((C_in/G)·K, (C_out/G)·K)``   exact at stride 1; at stride ``s`` the
                                                              fan_in averages ``(C_in/G)·K/∏s``;
                                                              stride is ignored, as by Glorot and He
``embedding(V, D)``           ``(V, D)``                      a one-hot dense layer
``bilinear(in1, in2, out)``   ``(in1·in2, out)``              each output sums ``in1·in2`` products
``qkv(E)`` / ``lstm(in, H)``  per block: ``(E, E)`` /         packed projections (3 blocks) and RNN
``gru`` / ``rnn``             ``(in, H)``                     gates (4, 3, 1 blocks): each block is
                                                              audited as its own matrix
============================  ==============================  ======================================

**Layouts** (where each framework puts the axes):

- ``torch`` (also ``numpy`` here, and the reference network's ``(n_out, n_in)``): dense ``(out, in)``;
  conv ``(C_out, C_in/G, *k)``; conv transpose ``(C_in, C_out/G, *k)``; bilinear ``(out, in1, in2)``;
  embedding ``(V, D)``; packed ``(blocks·out, in)`` stacked along dim 0.
- ``jax`` (JAX, Flax): dense ``(in, out)``; conv ``(*k, C_in/G, C_out)``; conv transpose
  ``(*k, C_in, C_out)`` (no groups); packed ``(in, blocks·out)`` along the last axis.
- ``keras``: as ``jax``, except conv transpose ``(*k, C_out, C_in)`` and depthwise ``(*k, C_in, m)``.

**Framework fans** are what each framework's own fan function computes from the *shape*:

- ``torch`` (``torch.nn.init._calculate_fan_in_and_fan_out``): ``rf = ∏shape[2:]``,
  ``(shape[1]·rf, shape[0]·rf)``.
- ``jax`` (``jax.nn.initializers`` default ``in_axis=-2, out_axis=-1``) and ``keras``
  (``compute_fans``, rank >= 2): ``rf = ∏shape[:-2]``, ``(shape[-2]·rf, shape[-1]·rf)``.

Sources: the measured table in ``shared/reference/initializer-conventions.md`` §0, §3.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Sequence

LAYOUTS = ("torch", "numpy", "jax", "keras")

#: kinds accepted by :func:`parse_layer`, with the number of spatial dims
_CONV_RE = re.compile(r"^(conv|conv_transpose|depthwise_conv|depthwise)([123])d$")
_PACKED = {"qkv": ("q", "k", "v"), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ("h",)}


@dataclass(frozen=True)
class Layer:
    """A layer whose weight is initialized.

    Attributes:
        kind: ``dense``, ``conv``, ``conv_transpose``, ``depthwise``, ``embedding``, ``bilinear``,
            ``packed``.
        in_features: inputs (dense), input channels (conv), vocabulary size (embedding), first input
            size (bilinear), input size (packed).
        out_features: outputs, output channels, embedding dim, or the per-block output size (packed).
        kernel: kernel size per spatial dim (convs), else ``()``.
        groups: conv groups (``in_features`` for depthwise).
        stride: per spatial dim (informational: no fan divides by it).
        in2: bilinear second input size.
        blocks: names of packed blocks (``("q", "k", "v")``), else ``()``.
        packing: ``qkv``, ``lstm``, ``gru`` or ``rnn`` for packed layers.
    """

    kind: str
    in_features: int
    out_features: int
    kernel: tuple[int, ...] = ()
    groups: int = 1
    stride: tuple[int, ...] = ()
    in2: int | None = None
    blocks: tuple[str, ...] = ()
    packing: str = ""
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for what in ("in_features", "out_features", "groups"):
            _pos_int(getattr(self, what), what)
        for k in self.kernel + self.stride:
            _pos_int(k, "kernel size / stride")
        if self.kind in ("conv", "conv_transpose", "depthwise"):
            if not self.kernel:
                raise ValueError(f"{self.kind} needs a kernel size k")
            if self.in_features % self.groups or self.out_features % self.groups:
                raise ValueError(
                    f"groups={self.groups} must divide both channel counts ({self.in_features}, {self.out_features})"
                )

    # ------------------------------------------------------------------ semantics
    @property
    def receptive_field(self) -> int:
        """``K`` = product of the kernel size (1 for non-conv layers)."""
        return math.prod(self.kernel) if self.kernel else 1

    def textbook_fans(self) -> tuple[int, int]:
        """(fan_in, fan_out) from connectivity (see the module table); per block for packed layers."""
        k, g = self.receptive_field, self.groups
        if self.kind in ("conv", "conv_transpose", "depthwise"):
            return (self.in_features // g) * k, (self.out_features // g) * k
        if self.kind == "bilinear":
            assert self.in2 is not None
            return self.in_features * self.in2, self.out_features
        return self.in_features, self.out_features

    def shape(self, layout: str = "torch") -> tuple[int, ...]:
        """Weight shape in ``layout`` (see the module docstring).

        Raises:
            ValueError: unknown layout, or a layer the layout cannot express (grouped conv transpose
                in ``jax``/``keras``).
        """
        layout = _layout(layout)
        i, o, g, k = self.in_features, self.out_features, self.groups, self.kernel
        nb = max(1, len(self.blocks))
        if self.kind in ("dense", "packed"):
            return (nb * o, i) if layout == "torch" else (i, nb * o)
        if self.kind == "embedding":
            return (i, o)
        if self.kind == "bilinear":
            if layout != "torch":
                raise ValueError("bilinear layers exist in the torch layout only")
            return (o, i, self.in2)  # type: ignore[return-value]
        if self.kind == "conv" or (self.kind == "depthwise" and layout != "keras"):
            return (o, i // g) + k if layout == "torch" else k + (i // g, o)
        if self.kind == "depthwise":  # keras DepthwiseConv2D: (*k, C_in, m)
            return k + (i, o // i)
        # conv_transpose
        if layout == "torch":
            return (i, o // g) + k
        if g != 1:
            raise ValueError(f"{layout} transposed convolutions have no groups")
        return k + ((i, o) if layout == "jax" else (o, i))

    def framework_fans(self, layout: str = "torch") -> tuple[int, int]:
        """The fans the framework's own fan function computes on :meth:`shape` (whole packed tensor)."""
        return fans_from_shape(self.shape(layout), layout)

    def block_index(self, layout: str = "torch") -> list[tuple[str, tuple[slice, ...]]]:
        """``[(name, index)]``: numpy index of each packed block in :meth:`shape` (``[]`` if unpacked)."""
        if not self.blocks:
            return []
        layout = _layout(layout)
        o = self.out_features
        out = []
        for b, name in enumerate(self.blocks):
            sl = slice(b * o, (b + 1) * o)
            out.append((name, (sl, slice(None)) if layout == "torch" else (slice(None), sl)))
        return out

    def block_layer(self) -> "Layer":
        """The layer one packed block represents (a dense layer)."""
        return Layer("dense", self.in_features, self.out_features, text=f"dense({self.in_features},{self.out_features})")

    def describe(self) -> str:
        """Canonical text accepted by :func:`parse_layer`."""
        if self.text:
            return self.text
        return canonical(self)


def canonical(layer: Layer) -> str:
    i, o = layer.in_features, layer.out_features
    ks = ",".join(map(str, layer.kernel))
    kt = str(layer.kernel[0]) if len(set(layer.kernel)) == 1 else f"({ks})"
    extra = f",stride={layer.stride[0] if len(set(layer.stride)) == 1 else '(' + ','.join(map(str, layer.stride)) + ')'}" \
        if layer.stride and any(s != 1 for s in layer.stride) else ""
    nd = len(layer.kernel)
    if layer.kind == "dense":
        return f"dense({i},{o})"
    if layer.kind == "embedding":
        return f"embedding({i},{o})"
    if layer.kind == "bilinear":
        return f"bilinear({i},{layer.in2},{o})"
    if layer.kind == "packed":
        return f"qkv({i})" if layer.packing == "qkv" else f"{layer.packing}({i},{o})"
    if layer.kind == "depthwise":
        return f"depthwise_conv{nd}d({i},k={kt},m={o // i}{extra})"
    g = f",groups={layer.groups}" if layer.groups != 1 else ""
    return f"{layer.kind}{nd}d({i},{o},k={kt}{g}{extra})"


def fans_from_shape(shape: Sequence[int], layout: str = "torch") -> tuple[int, int]:
    """A framework's fan rule applied to a shape (see the module docstring).

    Raises:
        ValueError: fewer than 2 dims or an unknown layout.
    """
    layout = _layout(layout)
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"fans need at least 2 dims, got shape {shape}")
    if layout == "torch":
        rf = math.prod(shape[2:])
        return shape[1] * rf, shape[0] * rf
    rf = math.prod(shape[:-2])
    return shape[-2] * rf, shape[-1] * rf


def shape_fan_candidates(shape: Sequence[int]) -> list[tuple[str, int]]:
    """Labelled fans any shape-based convention could compute (for explaining a deviation)."""
    shape = tuple(int(s) for s in shape)
    out: list[tuple[str, int]] = []
    if len(shape) >= 2:
        ti, to = fans_from_shape(shape, "torch")
        ji, jo = fans_from_shape(shape, "jax")
        out += [
            (f"size(1)*rf = {ti} (torch fan_in rule)", ti),
            (f"size(0)*rf = {to} (torch fan_out rule)", to),
            (f"shape[-2]*rf = {ji} (jax/keras fan_in rule)", ji),
            (f"shape[-1]*rf = {jo} (jax/keras fan_out rule)", jo),
        ]
        out += [(f"shape[{d}] = {s}", s) for d, s in enumerate(shape)]
    return out


# ---------------------------------------------------------------------------------------- parser


def parse_layer(text: str) -> Layer:
    """Parse the CLI layer syntax.

    Forms (positional channel counts, keyword options)::

        dense(300,100)                     embedding(1000,64)          bilinear(20,50,30)
        conv2d(32,64,k=3)                  conv2d(32,64,k=3,groups=32)  conv3d(8,16,k=(2,3,4))
        conv_transpose2d(32,64,k=3,stride=2)
        depthwise_conv2d(32,k=3,m=2)       (groups = C_in = 32, C_out = m*C_in = 64)
        qkv(512)                           packed q/k/v projections of width 512: (3E, E) in torch
        lstm(32,64)  gru(32,64)  rnn(32,64)  packed gate matrix input 32 -> hidden 64

    A scalar ``k``/``stride`` applies to every spatial dim.

    Raises:
        ValueError: one line naming the problem.
    """
    if not isinstance(text, str):
        raise ValueError(f"layer must be a string, got {type(text).__name__}")
    m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", text, re.S)
    if not m:
        raise ValueError(f"cannot parse layer {text!r}; expected e.g. dense(300,100) or conv2d(32,64,k=3)")
    name, body = m.group(1).lower(), m.group(2)
    try:
        pos, kw = _args(body)
    except ValueError as exc:
        raise ValueError(f"cannot parse layer {text!r}: {exc}") from None
    try:
        layer = _build(name, pos, kw)
    except ValueError as exc:
        raise ValueError(f"invalid layer {text!r}: {exc}") from None
    return layer


def _build(name: str, pos: list, kw: dict) -> Layer:
    def need(n: int, what: str) -> list[int]:
        if len(pos) != n or any(isinstance(p, tuple) for p in pos):
            raise ValueError(f"{name} takes {n} integer arguments ({what})")
        return [int(p) for p in pos]

    def no_kw(*allowed: str) -> None:
        extra = sorted(set(kw) - set(allowed))
        if extra:
            raise ValueError(f"{name} has no option {extra[0]!r}" + (f"; options: {', '.join(allowed)}" if allowed else ""))

    if name in ("dense", "linear"):
        no_kw()
        i, o = need(2, "in, out")
        return Layer("dense", i, o, text=f"dense({i},{o})")
    if name in ("embedding", "embed"):
        no_kw()
        v, d = need(2, "vocabulary size, dim")
        return Layer("embedding", v, d, text=f"embedding({v},{d})")
    if name == "bilinear":
        no_kw()
        i1, i2, o = need(3, "in1, in2, out")
        return Layer("bilinear", i1, o, in2=_pos_int(i2, "in2"), text=f"bilinear({i1},{i2},{o})")
    if name in _PACKED:
        no_kw()
        if name == "qkv":
            (e,) = need(1, "embedding dim E")
            return Layer("packed", e, e, blocks=_PACKED[name], packing=name, text=f"qkv({e})")
        i, h = need(2, "input size, hidden size")
        return Layer("packed", i, h, blocks=_PACKED[name], packing=name, text=f"{name}({i},{h})")
    cm = _CONV_RE.match(name)
    if cm:
        base, nd = cm.group(1), int(cm.group(2))
        k = _spatial(kw.get("k", kw.get("kernel_size")), nd, "k", required=True)
        stride = _spatial(kw.get("stride"), nd, "stride", required=False)
        if base in ("depthwise", "depthwise_conv"):
            no_kw("k", "kernel_size", "m", "stride")
            (c,) = need(1, "channels")
            mult = _pos_int(kw.get("m", 1), "m")
            layer = Layer("depthwise", c, c * mult, k, groups=c, stride=stride)
        else:
            no_kw("k", "kernel_size", "groups", "stride")
            i, o = need(2, "in channels, out channels")
            layer = Layer(base, i, o, k, groups=_pos_int(kw.get("groups", 1), "groups"), stride=stride)
        return Layer(layer.kind, layer.in_features, layer.out_features, layer.kernel, layer.groups, layer.stride,
                     text=canonical(layer))
    raise ValueError(
        f"unknown layer {name!r}; known: dense, embedding, bilinear, conv{{1,2,3}}d, conv_transpose{{1,2,3}}d, "
        "depthwise_conv{1,2,3}d, qkv, lstm, gru, rnn"
    )


def _spatial(value: object, nd: int, what: str, required: bool) -> tuple[int, ...]:
    if value is None:
        if required:
            raise ValueError(f"missing {what}=")
        return ()
    vals = value if isinstance(value, tuple) else (value,) * nd
    if len(vals) != nd:
        raise ValueError(f"{what} needs {nd} values, got {len(vals)}")
    return tuple(_pos_int(v, what) for v in vals)


def _args(body: str) -> tuple[list, dict]:
    from invariants.specs import split_args

    pos: list = []
    kw: dict = {}
    for arg in split_args(body):
        if "=" in arg:
            key, _, val = arg.partition("=")
            key = key.strip().lower()
            if key in kw:
                raise ValueError(f"option {key!r} given twice")
            kw[key] = _int_or_tuple(val)
        else:
            if kw:
                raise ValueError("positional argument after an option")
            pos.append(_int_or_tuple(arg))
    return pos, kw


def _int_or_tuple(text: str) -> int | tuple[int, ...]:
    t = text.strip()
    if t.startswith("(") and t.endswith(")"):
        inner = [p.strip() for p in t[1:-1].split(",") if p.strip()]
        return tuple(_int(p) for p in inner)
    return _int(t)


def _int(t: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", t):
        raise ValueError(f"expected an integer, got {t!r}")
    return int(t)


def _pos_int(v: object, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{what} must be an integer >= 1, got {v!r}")
    return v


def _layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    return "torch" if layout == "numpy" else layout
