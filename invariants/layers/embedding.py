"""Embedding tables: ``embedding(V, D)``, a one-hot dense layer, textbook fans ``(V, D)``.

Weight ``(V, D)`` in every layout (``torch.nn.Embedding.weight``, ``flax.linen.Embed.embedding``,
``keras.layers.Embedding.embeddings``); the units are the ``D`` dimensions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invariants.layers.base import Args, Layer, register


@register("embedding", "embed")
@dataclass(frozen=True)
class Embedding(Layer):
    """``embedding(in_features=V, out_features=D)``: a table of ``V`` vectors of dimension ``D``;
    its input is integer token ids, not a signal.

    Raises:
        BadInput: a size < 1.
    """

    in_features: int
    out_features: int
    kind: ClassVar[str] = "embedding"
    unit_word: ClassVar[str] = "embedding dimensions"

    def __post_init__(self) -> None:
        self._check_features()

    @classmethod
    def from_args(cls, args: Args) -> "Embedding":
        args.options()
        v, d = args.ints(2, "vocabulary size, dim")
        return cls(v, d)

    def __str__(self) -> str:
        return f"embedding({self.in_features},{self.out_features})"
