"""Embedding tables: ``embedding(V, D)``, a one-hot dense layer, textbook fans ``(V, D)``.

Weight ``(V, D)`` in every layout (``torch.nn.Embedding.weight``, ``flax.linen.Embed.embedding``,
``keras.layers.Embedding.embeddings``); the units are the ``D`` dimensions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invariants.layers.base import InOut, register


@register("embedding", "embed")
@dataclass(frozen=True)
class Embedding(InOut):
    """``embedding(in_features=V, out_features=D)``: a table of ``V`` vectors of dimension ``D``;
    its input is integer token ids, not a signal.

    Raises:
        BadInput: a size < 0 (0 is legal: a layer with no values).
    """

    kind: ClassVar[str] = "embedding"
    text_name: ClassVar[str] = "embedding"
    arg_names: ClassVar[str] = "vocabulary size, dim"
    unit_word: ClassVar[str] = "embedding dimensions"
