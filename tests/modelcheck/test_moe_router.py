"""A mixture-of-experts router has its own role (F3 of the second new-user trial): HF SwitchTransformers draws
``router.classifier`` from normal(0, factor·1) and its attention projections from normal(0, factor·(d·d_kv)^-1/2)
(modeling_switch_transformers.py ``_init_weights``); pooling them into one variance-scaling rule accused the
library's own init."""
from __future__ import annotations

import pytest

from invariants.modelcheck.checks import moe_router


def test_moe_router_names():
    """Known-good: routers beside experts (Switch, Mixtral/Qwen-MoE, Flax); known-bad: a ``gate`` with no
    experts beside it (a GLU's gate), a gated MLP's ``gate_proj``, and experts under another parent."""
    switch = ["mlp.router.classifier.weight", "mlp.experts.expert_0.wi.weight", "mlp.experts.expert_1.wi.weight"]
    assert moe_router("mlp.router.classifier.weight", switch)
    mixtral = ["model.layers.0.mlp.gate.weight", "model.layers.0.mlp.experts.gate_up_proj"]
    assert moe_router("model.layers.0.mlp.gate.weight", mixtral)
    flax = ["params/moe/gate/kernel", "params/moe/experts_0/fc/kernel", "params/moe/experts_1/fc/kernel"]
    assert moe_router("params/moe/gate/kernel", flax)
    assert not moe_router("block.gate.weight", ["block.gate.weight", "block.proj.weight"])
    assert not moe_router("mlp.experts.0.gate_proj.weight", ["mlp.experts.0.gate_proj.weight", "mlp.experts.0.up.weight"])
    assert not moe_router("a.gate.weight", ["a.gate.weight", "b.experts.0.w.weight"])


def _moe(experts: bool):
    torch = pytest.importorskip("torch")
    from torch import nn

    torch.manual_seed(0)
    model = nn.Module()
    model.proj = nn.Linear(64, 64, bias=False)
    nn.init.normal_(model.proj.weight, std=(64 * 16) ** -0.5)  # Switch's q: (d_model*d_kv)^-1/2, no named scheme
    model.mlp = nn.Module()
    model.mlp.router = nn.Module()
    model.mlp.router.classifier = nn.Linear(64, 8, bias=False)
    nn.init.normal_(model.mlp.router.classifier.weight, std=1.0)  # Switch's router: normal(0, factor*1)
    box = nn.ModuleList(nn.Linear(64, 64) for _ in range(8))
    if experts:
        model.mlp.experts = box
    else:
        model.mlp.ffn = box
    return model


def test_router_is_not_pooled_with_projections():
    """Known-good: a Switch-style router (normal(0, 1)) beside experts, with a q-like projection at a custom std:
    no inconsistent-scale error, the router gets a note that names its role.  Known-bad: the same tensors
    with no experts beside the ``router`` (not a mixture of experts): pooled, an inconsistent-scale error."""
    from invariants.modelcheck import check_model

    rep = check_model(_moe(True), probe=False)
    assert not [f for f in rep.findings if f.kind == "inconsistent-scale"], [f.message for f in rep.findings]
    notes = [f for f in rep.findings if "router" in f.params[0]]
    assert notes and all(f.severity == "note" and "routing temperature" in f.message for f in notes)
    rep = check_model(_moe(False), probe=False)
    bad = [f for f in rep.findings if f.kind == "inconsistent-scale"]
    assert bad and bad[0].severity == "error", [f.message for f in rep.findings]


def test_hf_switch_transformers_library_init_is_healthy():
    """The trial's model: SwitchTransformersModel(d_model 64, 2+2 layers, 4 experts, sparse every layer) with
    HF's own init is healthy (it had an inconsistent-scale error pooling router.classifier with q)."""
    pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from tests.zoo._compat import ensure_torchvision

    ensure_torchvision()  # transformers' image utilities import torchvision (see that module)
    import transformers as T

    from invariants.modelcheck import check_model

    torch.manual_seed(0)
    c = T.SwitchTransformersConfig(d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
                                   num_experts=4, vocab_size=256, encoder_sparse_step=1, decoder_sparse_step=1)
    x = {"input_ids": torch.randint(0, 256, (4, 16)), "decoder_input_ids": torch.randint(0, 256, (4, 8))}
    rep = check_model(T.SwitchTransformersModel(c), example_input=x)
    assert rep.status == "healthy", [f.message for f in rep.findings if f.severity == "error"]
