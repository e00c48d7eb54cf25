"""Like-for-like classes of layers: the same position in repeated blocks.

Real models repeat blocks (``encoder.layer.0 ... encoder.layer.11``, ``layer1.0.conv1 ... layer4.2.conv1``,
``conv2_block1_1_conv ... conv5_block3_1_conv``).  Checks that compare layers through depth (signal
propagation) or against their peers (a zeroed projection where its siblings are random, a fan-swapped
conv among He fan_out ones) compare a layer only with its *siblings*: layers whose path is the same once
every block index is replaced by ``#``.  An encoder layer is never compared with a decoder layer (their
paths differ in ``encoder``/``decoder``), nor a residual-branch interior with the stem.
"""
from __future__ import annotations

import re
from typing import Iterable, TypeVar

_INDEX = re.compile(r"\d+")
#: Keras's automatic layer names: the first ``Dense`` is ``dense``, the next ``dense_1``, ``dense_2``
#: (``keras.src.backend.common.global_state`` ``uniquify``): a segment's trailing ``_<n>`` is that counter
_AUTO_SUFFIX = re.compile(r"_\d+(?=$|[/.:])")

T = TypeVar("T")


def sibling_key(name: str, kind: str = "") -> str:
    """The class of layer ``name``: the path with each run of digits replaced by ``#`` (plus ``kind``, e.g.
    the layer type, so a conv and a dense at the same path pattern stay apart).  A path segment's trailing
    ``_<digits>`` is dropped first: Keras names the first layer of a type ``dense`` and the next ones
    ``dense_1``, ``dense_2``, all siblings.

    >>> sibling_key("encoder.layer.11.attention.self.query")
    'encoder.layer.#.attention.self.query'
    >>> sibling_key("conv3_block2_1_conv", "Conv2D")
    'Conv2D:conv#_block#_#_conv'
    >>> sibling_key("sequential/dense_1/kernel", "Dense") == sibling_key("sequential/dense/kernel", "Dense")
    True
    """
    key = _INDEX.sub("#", _AUTO_SUFFIX.sub("", name))
    return f"{kind}:{key}" if kind else key


def sibling_classes(items: Iterable[T], name_of, kind_of=None) -> dict[str, list[T]]:
    """``{class key: [items in the given order]}`` for items named by ``name_of(item)`` (and, when given,
    typed by ``kind_of(item)``)."""
    out: dict[str, list[T]] = {}
    for it in items:
        out.setdefault(sibling_key(name_of(it), kind_of(it) if kind_of else ""), []).append(it)
    return out


__all__ = ["sibling_classes", "sibling_key"]
