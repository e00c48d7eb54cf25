"""The layer text syntax of the CLI and the API: ``parse_layer("conv2d(32,64,k=3)")``.

The grammar is ``name(positional..., key=value...)`` with integer or ``(int,...)`` values; the name
picks the layer class from :data:`~invariants.layers.base.LAYER_TYPES`, which builds itself from the
arguments.  ``parse_layer(str(layer)) == layer`` for every layer.
"""
from __future__ import annotations

import re

from invariants.core.errors import BadInput
from invariants.layers import bilinear, conv, dense, embedding, experts, kernel, packed, vector  # noqa: F401  (register the kinds)
from invariants.layers.base import LAYER_TYPES, Args, Layer

_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.S)


def parse_layer(text: str) -> Layer:
    """Parse the CLI layer syntax.

    Forms (positional channel counts, keyword options)::

        dense(300,100)                     embedding(1000,64)          bilinear(20,50,30)
        conv2d(32,64,k=3)                  conv2d(32,64,k=3,groups=32)  conv3d(8,16,k=(2,3,4))
        conv_transpose2d(32,64,k=3,stride=2)
        depthwise_conv2d(32,k=3,m=2)       (groups = C_in = 32, C_out = m*C_in = 64)
        qkv(512)                           packed q/k/v projections of width 512: (3E, E) in torch
        lstm(32,64)  gru(32,64)  rnn(32,64)  packed gate matrix input 32 -> hidden 64
        experts(8,64,96,gates=2)           8 stacked experts' gate|up maps 64 -> 96: (8, 192, 64) in torch
        vector(64)                         a 1-D tensor (bias, norm scale): no textbook fans
        scalar()                           a 0-D tensor
        kernel(shape=(512,8,64),in_axes=(0,),out_axes=(1,2))
                                           a multi-axis (einsum) kernel; other axes: receptive field
        dense(0,4)                         sizes may be 0: a layer with no values (nothing to audit)

    A scalar ``k``/``stride`` applies to every spatial dim; ``linear`` and ``embed`` are aliases of
    ``dense`` and ``embedding``; ``bias`` of ``vector``; ``einsum`` of ``kernel``.

    Raises:
        BadInput: one line naming the problem.
    """
    m = _CALL.match(text) if isinstance(text, str) else None
    if m is None:
        raise BadInput(f"cannot parse layer {text!r}; expected e.g. dense(300,100) or conv2d(32,64,k=3)"
                       if isinstance(text, str) else f"layer must be a string, got {type(text).__name__}")
    name, body = m.group(1).lower(), m.group(2)
    try:
        args = parse_args(name, body)
    except ValueError as exc:  # BadInput, or split_args' unbalanced parentheses
        raise BadInput(f"cannot parse layer {text!r}: {exc}") from None
    try:
        cls = LAYER_TYPES.get(name)
        if cls is None:
            raise BadInput(
                f"unknown layer {name!r}; known: dense, embedding, bilinear, conv{{1,2,3}}d, "
                "conv_transpose{1,2,3}d, depthwise_conv{1,2,3}d, qkv, lstm, gru, rnn, experts, vector, scalar, kernel")
        return cls.from_args(args)
    except ValueError as exc:
        raise BadInput(f"invalid layer {text!r}: {exc}") from None


def parse_args(name: str, body: str) -> Args:
    """The arguments between the parentheses of ``name(body)``.

    Raises:
        BadInput: a non-integer value, a repeated option, or a positional after an option.
        ValueError: unbalanced parentheses or an empty argument (:func:`invariants.specs.split_args`).
    """
    from invariants.specs import split_args

    pos: list = []
    kw: dict = {}
    for arg in split_args(body):
        if "=" in arg:
            key, _, val = arg.partition("=")
            key = key.strip().lower()
            if key in kw:
                raise BadInput(f"option {key!r} given twice")
            kw[key] = _int_or_tuple(val)
        else:
            if kw:
                raise BadInput("positional argument after an option")
            pos.append(_int_or_tuple(arg))
    return Args(name, tuple(pos), kw)


def _int_or_tuple(text: str) -> int | tuple[int, ...]:
    t = text.strip()
    if t.startswith("(") and t.endswith(")"):
        inner = [p.strip() for p in t[1:-1].split(",") if p.strip()]
        return tuple(_int(p) for p in inner)
    return _int(t)


def _int(t: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", t):
        raise BadInput(f"expected an integer, got {t!r}")
    return int(t)
