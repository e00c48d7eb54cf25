"""Packed weights: several matrices stored as one tensor, each audited as its own dense block.

- ``qkv(E)``: the query, key and value projections of multi-head attention (3 blocks ``(E, E)``;
  ``torch.nn.MultiheadAttention.in_proj_weight`` is ``(3E, E)``).
- ``lstm(in, H)`` / ``gru(in, H)`` / ``rnn(in, H)``: the gate matrices of a recurrent layer
  (4 blocks ``i, f, g, o`` / 3 blocks ``r, z, n`` / 1 block ``h``, each ``in -> H``;
  ``torch.nn.LSTM.weight_ih_l0`` is ``(4H, in)``).

Textbook fans are per block, ``(in, H)`` (Glorot & Bengio 2010 §4.2 for each block's dense map).  The
blocks are stacked along the output axis of the layout's ``packed`` role (dim 0 in torch, the last
axis in jax/keras).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from invariants.layers.base import InOut, Layer, Square, positive_int, register
from invariants.layers.dense import Dense


class Packed(Layer):
    """Base of the packed kinds: ``gates`` names the blocks in storage order; ``text_name`` is the
    text name (``"lstm"``)."""

    kind: ClassVar[str] = "packed"
    plural: ClassVar[str] = "packed weights"
    has_units: ClassVar[bool] = False
    text_name: ClassVar[str] = ""
    gates: ClassVar[tuple[str, ...]] = ()

    @property
    def blocks(self) -> tuple[str, ...]:
        return self.gates

    def block_layer(self) -> Dense:
        """The layer one packed block represents (a dense layer ``in -> out``)."""
        return Dense(self.in_features, self.out_features)


@dataclass(frozen=True)
class Gates(InOut, Packed):
    """``{text_name}(in_features, out_features=H)``: recurrent gate matrices (base of LSTM/GRU/RNN).

    Raises:
        BadInput: a size < 0 (0 is legal: a layer with no values).
    """

    arg_names: ClassVar[str] = "input size, hidden size"


@register("lstm")
@dataclass(frozen=True)
class LSTM(Gates):
    """LSTM gates ``i, f, g, o`` (torch order)."""

    text_name: ClassVar[str] = "lstm"
    gates: ClassVar[tuple[str, ...]] = ("i", "f", "g", "o")


@register("gru")
@dataclass(frozen=True)
class GRU(Gates):
    """GRU gates ``r, z, n`` (torch order)."""

    text_name: ClassVar[str] = "gru"
    gates: ClassVar[tuple[str, ...]] = ("r", "z", "n")


@register("rnn")
@dataclass(frozen=True)
class RNN(Gates):
    """Elman RNN: one block ``h``."""

    text_name: ClassVar[str] = "rnn"
    gates: ClassVar[tuple[str, ...]] = ("h",)


@register("qkv")
@dataclass(frozen=True)
class QKV(Square, Packed):
    """``qkv(E)``: packed query/key/value projections of width ``E`` (``in = out = E``).

    Raises:
        BadInput: ``E`` < 1.
    """

    embed_dim: int
    text_name: ClassVar[str] = "qkv"
    arg_name: ClassVar[str] = "embedding dim E"
    gates: ClassVar[tuple[str, ...]] = ("q", "k", "v")

    def __post_init__(self) -> None:
        object.__setattr__(self, "embed_dim", positive_int(self.embed_dim, "in_features"))

    @property
    def side(self) -> int:
        return self.embed_dim



#: recurrent text name (``"lstm"``) -> gate-matrix class, for extractors that read the cell type
RECURRENT: dict[str, type[Gates]] = {c.text_name: c for c in (LSTM, GRU, RNN)}
