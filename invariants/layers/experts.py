"""Stacked experts: the weights of ``E`` expert MLPs of a mixture of experts stored as one 3-D tensor.

``experts(E, in, out)`` is one projection of every expert: expert ``e`` is a dense map ``in -> out`` of its
own; ``experts(E, in, out, gates=2)`` packs two such maps per expert along the output axis, the gate and
the up projection of a gated MLP (``act(x·W_gate) * (x·W_up)``), stored gate first (``gate|up``,
concatenated) or alternating (``interleaved=1``: gate rows ``0, 2, 4, ...``, up rows ``1, 3, 5, ...``).

Each block (one expert, one gate) is audited as its own dense matrix with its own textbook fans ``(in, out)``
(Glorot & Bengio 2010 §4.2 for each expert's dense map), as :mod:`invariants.layers.packed` does for q/k/v
and RNN gates; the expert axis is in neither fan (a batch axis, as ``jax.nn.initializers``' ``batch_axis``).

Layout: the expert axis comes first, then the layout's dense axes: ``(E, G·out, in)`` in torch (transformers
5.25 ``MixtralExperts``/``Qwen2MoeExperts``: ``gate_up_proj`` ``(E, 2·I, H)``, ``down_proj`` ``(E, H, I)``, each
expert applied as ``nn.functional.linear(x, W[e])``: ``modeling_mixtral.py`` ``MixtralExperts.forward``),
``(E, in, G·out)`` in jax/keras (transformers' ``is_transposed`` experts: ``GptOssExperts`` ``gate_up_proj``
``(E, H, 2·I)`` interleaved, applied as ``x @ W[e]``: ``integrations/moe.py`` ``_batched_linear``).

Block names: ``e3`` (expert 3) for ``gates=1``, ``e3.gate`` / ``e3.up`` for ``gates=2``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from invariants.core.errors import BadInput
from invariants.layers.base import Args, Layer, positive_int, register
from invariants.layers.dense import Dense

if TYPE_CHECKING:  # pragma: no cover
    from invariants.layers.layout import Layout

#: block names of a gated expert, in storage order (transformers ``gate_up_proj``: ``gate, up = (x @ W).chunk(2)``)
GATED = ("gate", "up")
#: a block label of stacked experts, ``name[e3.gate]`` / ``name[e3]``: (tensor name, expert, gate or None)
_BLOCK_LABEL = re.compile(r"^(?P<tensor>.*)\[e(?P<expert>\d+)(?:\.(?P<gate>\w+))?\]$")
#: a tensor of an expert kept as its own module under ``experts.expert_<k>``: HF SwitchTransformers
#: (``modeling_switch_transformers.py``: ``SwitchTransformersExperts``, an ``nn.ModuleDict`` of
#: ``SwitchTransformersDenseActDense`` named ``expert_{idx}``: ``mlp.experts.expert_3.wi.weight``)
_MODULE_EXPERT = re.compile(r"^(?P<owner>(?:.*\.)?experts)\.expert_(?P<expert>\d+)\.(?P<rest>.+)$")


@register("experts")
@dataclass(frozen=True)
class Experts(Layer):
    """``experts(E, in, out[, gates=2][, interleaved=1])``: ``E`` experts' dense maps ``in -> out``, ``gates``
    of them per expert packed along the output axis.

    Attributes:
        n_experts: ``E`` (>= 1).
        in_features, out_features: one block's dense map (sizes may be 0: no values).
        gates: maps per expert (1, or 2: gate and up of a gated MLP).
        interleaved: with ``gates=2``, gate and up rows alternate instead of ``gate|up``.

    Raises:
        BadInput: ``E`` < 1, a size < 0, ``gates`` not 1 or 2, or ``interleaved`` without ``gates=2``.
    """

    n_experts: int
    in_features: int
    out_features: int
    gates: int = 1
    interleaved: bool = False
    kind: ClassVar[str] = "experts"
    plural: ClassVar[str] = "stacked experts"
    has_units: ClassVar[bool] = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_experts", positive_int(self.n_experts, "number of experts E"))
        self.validate_sizes()
        if self.gates not in (1, 2) or isinstance(self.gates, bool):
            raise BadInput(f"gates must be 1 or 2 (gate and up), got {self.gates!r}")
        if self.interleaved not in (0, 1, False, True):
            raise BadInput(f"interleaved must be 0 or 1, got {self.interleaved!r}")
        object.__setattr__(self, "interleaved", bool(self.interleaved))
        if self.interleaved and self.gates != 2:
            raise BadInput("interleaved needs gates=2 (gate and up rows alternating)")

    @classmethod
    def from_args(cls, args: Args) -> "Experts":
        args.options("gates", "interleaved")
        e, i, o = args.ints(3, "number of experts E, in, out")
        return cls(e, i, o, args.kw.get("gates", 1), bool(args.kw.get("interleaved", 0)))

    def __str__(self) -> str:
        opts = (f",gates={self.gates}" if self.gates != 1 else "") + (",interleaved=1" if self.interleaved else "")
        return f"experts({self.n_experts},{self.in_features},{self.out_features}{opts})"

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The maps of one expert in storage order: ``("gate", "up")``, or ``()`` for one map."""
        return GATED if self.gates == 2 else ()

    @property
    def blocks(self) -> tuple[str, ...]:
        return tuple(f"e{e}.{g}" if g else f"e{e}" for e in range(self.n_experts) for g in (self.gate_names or ("",)))

    def block_layer(self) -> Dense:
        """The layer one block represents: one expert's dense map ``in -> out``."""
        return Dense(self.in_features, self.out_features)

    def axis_sizes(self) -> dict[str, int | tuple[int, ...]]:
        return {**super().axis_sizes(), "out": self.gates * self.out_features, "batch": self.n_experts}

    def block_index(self, layout: "str | Layout" = "torch") -> list[tuple[str, tuple[slice | int, ...]]]:
        """``[(name, index)]``: block ``e{e}[.gate]`` is ``W[e]`` (the expert axis indexed away) restricted to its
        gate's output rows (``g·out : (g+1)·out``, or every ``gates``-th row from ``g`` when interleaved)."""
        from invariants.layers.layout import as_layout

        axes = as_layout(layout).axes(self)
        at_e, at_o = axes.index("batch"), axes.index("out")
        o, g_n = self.out_features, self.gates
        out = []
        for name in self.blocks:
            e, _, gate = name[1:].partition(".")
            g = self.gate_names.index(gate) if gate else 0
            idx: list[slice | int] = [slice(None)] * len(axes)
            idx[at_e] = int(e)
            idx[at_o] = slice(g, None, g_n) if self.interleaved else slice(g * o, (g + 1) * o)
            out.append((name, tuple(idx)))
        return out


def expert_of(label: str) -> tuple[str, int, str | None] | None:
    """``(tensor name, expert, gate)`` of one expert's dense map: a stacked-experts block label
    (``"m.experts.gate_up_proj[e3.up]"`` -> ``("m.experts.gate_up_proj", 3, "up")``), or a tensor of an expert
    kept as its own module ``experts.expert_<k>`` (HF SwitchTransformers: ``"m.experts.expert_3.wi.weight"`` ->
    ``("m.experts.wi.weight", 3, None)``, the name every expert's copy of that projection shares); ``None`` for
    any other label (packed q/k/v or gate blocks are named by letters, never ``e<digits>``)."""
    m = _BLOCK_LABEL.match(label)
    if m is not None:
        return m["tensor"], int(m["expert"]), m["gate"]
    m = _MODULE_EXPERT.match(label)
    return None if m is None else (f"{m['owner']}.{m['rest']}", int(m["expert"]), None)


def module_wise(label: str) -> str:
    """A stacked-experts block label written as if each expert were its own module (``"m.experts.gate_up_proj[e3.up]"``
    -> ``"m.experts.3.gate_up_proj[up]"``; ``"m.experts.down_proj[e3]"`` -> ``"m.experts.3.down_proj"``): the form
    in which experts kept as a module list (``experts.3.w1``) are named, so a check that pairs copies module by
    module reads both storages alike.  Any other label (an expert kept as a module already) is returned
    unchanged."""
    m = _BLOCK_LABEL.match(label)
    if m is None:
        return label
    tensor, e, gate = m["tensor"], int(m["expert"]), m["gate"]
    owner, sep, leaf = tensor.rpartition(".") if "." in tensor else tensor.rpartition("/")
    return f"{owner}{sep}{e}{sep}{leaf}" + (f"[{gate}]" if gate else "")


__all__ = ["Experts", "GATED", "expert_of", "module_wise"]
