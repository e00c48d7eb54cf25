"""Tiny transformers mixture-of-experts models for the stacked/merged-experts tests (library init, seed 0).

``mixtral``: ``MixtralForCausalLM`` with 4 experts of ``intermediate_size=96`` in 2 layers of ``hidden_size=64``;
``dbrx``: ``DbrxForCausalLM`` with 4 experts of ``ffn_hidden_size=48`` (``clip_qkv`` set: transformers 5.25
``DbrxAttention.forward`` calls ``clamp(min=None, max=None)`` without it, which torch refuses).
"""
from __future__ import annotations

from typing import Any, Callable

from tests.zoo._compat import ensure_torchvision

MIXTRAL = dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2, max_position_embeddings=64)
DBRX = dict(vocab_size=128, d_model=64, n_heads=4, n_layers=2, max_seq_len=64,
            attn_config={"kv_n_heads": 2, "rope_theta": 10000.0, "clip_qkv": 8.0},
            ffn_config={"ffn_hidden_size": 48, "moe_num_experts": 4, "moe_top_k": 2})


def build(config: str, model: str, edit: "Callable[[Any], Any] | None" = None, **cfg: Any) -> Any:
    """``transformers.<model>(transformers.<config>(**cfg))`` drawn at seed 0, then ``edit(model)`` under
    ``torch.no_grad`` (a planted fault)."""
    ensure_torchvision()
    import torch
    import transformers

    torch.manual_seed(0)
    m = getattr(transformers, model)(getattr(transformers, config)(**cfg))
    if edit is not None:
        with torch.no_grad():
            edit(m)
    return m


def mixtral(edit_layer: "Callable[[Any], Any] | None" = None) -> Any:
    """Mixtral (:data:`MIXTRAL`), ``edit_layer`` applied to every decoder layer."""
    def edit(m: Any) -> None:
        for layer in m.model.layers:
            edit_layer(layer)  # type: ignore[misc]
    return build("MixtralConfig", "MixtralForCausalLM", edit if edit_layer else None, **MIXTRAL)


def dbrx(edit: "Callable[[Any], Any] | None" = None) -> Any:
    """DBRX (:data:`DBRX`), ``edit(model)`` applied once."""
    return build("DbrxConfig", "DbrxForCausalLM", edit, **DBRX)
