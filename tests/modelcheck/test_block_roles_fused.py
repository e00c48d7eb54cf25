"""Block roles (invariants/modelcheck/block_roles.py) for stacked experts and ``/``-named blocks: misses 1, 3
and 4 of the last new-user trial, each HEALTHY before.

- HF Mixtral with one projection of every expert at 10x std (``down_proj``, or the gate or up half of
  ``gate_up_proj``): every expert's slice is one role of its block, judged against the block's other roles.
  transformers/models/mixtral/modeling_mixtral.py ``MixtralPreTrainedModel._init_weights`` draws every
  ``nn.Linear`` and both expert stacks from ``normal(0, initializer_range)``: one shared rule, 100x above it is
  the fault.
- Flax linen transformer with the attention ``out`` (or ``query``) kernel at 10x in every block: linen names
  blocks ``Blk_0`` .. ``Blk_3`` (flax/linen/module.py auto-naming), no dotted digits.  flax/linen/linear.py
  ``DenseGeneral``/``Dense`` default ``kernel_init`` is ``lecun_normal()``: q/k/v/out share fan_in variance 1.

Tiny configs, random init, no download.
"""
from __future__ import annotations

import pytest

from invariants.modelcheck.block_roles import path_blocks
from tests.zoo._compat import available


def _errors(rep):
    return [f for f in rep.findings if f.severity == "error"]


def test_path_blocks_groups_repeated_numbered_sub_networks_only():
    names = [f"params/Blk_{i}/{r}/kernel" for i in range(2)
             for r in ("Dense_0", "Dense_1", "MultiHeadDotProductAttention_0/out")]
    names += ["params/Dense_0/kernel", "params/Dense_1/kernel", "params/layers_0/kernel", "params/layers_1/kernel",
              "params/Embed_0/embedding", "model.layers.0.mlp.fc1.weight"]
    got = path_blocks(names)
    assert got["params/Blk_1/MultiHeadDotProductAttention_0/out/kernel"] == (
        "params/Blk_1", "MultiHeadDotProductAttention_0/out/kernel")
    assert got["params/Blk_0/Dense_1/kernel"] == ("params/Blk_0", "Dense_1/kernel")
    # numbered single layers (two roles or a plain MLP) are no blocks; dotted names are block_of's
    assert set(got) == set(names[:6])


# ------------------------------------------------------------------------------------------ stacked experts

needs_hf = pytest.mark.skipif(not available("transformers"), reason="needs transformers")


def _mixtral(edit=None):
    import torch

    from invariants.modelcheck import check_model
    from tests.modelcheck.moe_models import mixtral

    m = mixtral((lambda layer: edit(layer.mlp.experts)) if edit is not None else None)
    return check_model(m, example_input={"input_ids": torch.randint(0, 128, (2, 16))})


@needs_hf
@pytest.mark.parametrize("role,edit", [
    ("down_proj[e{}]", lambda e: e.down_proj.mul_(10)),
    ("gate_up_proj[e{}.gate]", lambda e: e.gate_up_proj[:, :96].mul_(10)),
    ("gate_up_proj[e{}.up]", lambda e: e.gate_up_proj[:, 96:].mul_(10)),
])
def test_one_projection_of_every_expert_at_10x_is_an_error(role, edit):
    rep = _mixtral(edit)
    want = sorted(f"model.layers.{i}.mlp.experts.{role.format(e)}" for i in range(2) for e in range(4))
    assert sorted(f.params[0] for f in _errors(rep)) == want, [f.message for f in rep.findings]
    assert {f.kind for f in _errors(rep)} == {"peer-scale"} and not rep.ok


@needs_hf
def test_mixtral_library_init_is_healthy():
    rep = _mixtral()
    assert rep.ok and not _errors(rep), [f.message for f in _errors(rep)]


# ------------------------------------------------------------------------------------------ flax blocks


def _flax(role: str | None = None):
    pytest.importorskip("flax")
    import flax.linen as fnn
    import jax
    import jax.numpy as jnp
    import numpy as np

    from invariants.modelcheck import check_model

    class Blk(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            h = fnn.LayerNorm()(x)
            x = x + fnn.MultiHeadDotProductAttention(num_heads=4, qkv_features=32)(h, h)
            h = fnn.LayerNorm()(x)
            return x + fnn.Dense(32)(fnn.gelu(fnn.Dense(128)(h)))

    class Tr(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            x = fnn.Embed(128, 32)(x)
            for _ in range(3):
                x = Blk()(x)
            return fnn.Dense(128)(fnn.LayerNorm()(x))

    m = Tr()
    x = jnp.asarray(np.random.default_rng(1).integers(0, 128, (4, 8)))
    v = m.init(jax.random.PRNGKey(0), x)
    if role is not None:
        for i in range(3):
            d = v["params"][f"Blk_{i}"]["MultiHeadDotProductAttention_0"][role]
            d["kernel"] = d["kernel"] * 10
    return check_model((m, v, x))


@pytest.mark.parametrize("role", ["out", "query"])
def test_flax_one_attention_role_at_10x_in_every_block_is_an_error(role):
    rep = _flax(role)
    want = sorted(f"params/Blk_{i}/MultiHeadDotProductAttention_0/{role}/kernel" for i in range(3))
    assert sorted(f.params[0] for f in _errors(rep)) == want, [f.message for f in rep.findings]
    assert not rep.ok


def test_flax_library_init_is_healthy():
    rep = _flax()
    assert rep.ok and not _errors(rep), [f.message for f in _errors(rep)]
