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


def _routed_block_model(o_factor: float):
    """Two Mixtral-shaped blocks (q, k, v, o and a router beside four experts in ``layers.i``), every projection
    normal(0, 0.02) (transformers/models/mixtral/modeling_mixtral.py ``MixtralPreTrainedModel._init_weights``) and
    the router at Switch's normal(0, 1) (modeling_switch_transformers.py ``_init_weights``: ``router.classifier``);
    ``o`` scaled by ``o_factor``."""
    torch = pytest.importorskip("torch")
    from torch import nn

    class Block(nn.Module):
        def __init__(self, d: int = 128, n_exp: int = 4) -> None:
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
            self.router = nn.Linear(d, n_exp, bias=False)
            self.experts = nn.ModuleList(nn.Sequential(nn.Linear(d, 2 * d, bias=False), nn.ReLU(),
                                                       nn.Linear(2 * d, d, bias=False)) for _ in range(n_exp))
            for lin in (self.q, self.k, self.v, self.o, *[e[i] for e in self.experts for i in (0, 2)]):
                nn.init.normal_(lin.weight, std=0.02)
            nn.init.normal_(self.router.weight, std=1.0)
            with torch.no_grad():
                self.o.weight.mul_(o_factor)

        def forward(self, x):
            a = torch.softmax(self.q(x) @ self.k(x).transpose(-1, -2) / 8, -1) @ self.v(x)
            x = x + self.o(a)
            g = torch.softmax(self.router(x), -1)
            return x + sum(g[..., i:i + 1] * e(x) for i, e in enumerate(self.experts))

    torch.manual_seed(0)
    return nn.Sequential(Block(), Block()), torch.randn(4, 16, 128)


def test_router_is_not_pooled_into_its_blocks_shared_scale():
    """invariants/modelcheck/block_roles.py (module docstring) and variance.py's router comment: the router is no
    member of its block.  Known-bad: every ``o`` at 10x std; q, k, v share normal(0, 0.02) and ``o`` is 100x it
    (pooled with the router at normal(0, 1), the block shared no rule and the model read healthy).  Known-good: the
    same model with ``o`` at 0.02: healthy, and the router (100x the projections) is never accused."""
    from invariants.modelcheck import check_model

    model, x = _routed_block_model(10.0)
    rep = check_model(model, example_input=x)
    found = [f for f in rep.findings if f.kind == "peer-scale"]
    assert sorted(f.params[0] for f in found) == ["0.o.weight", "1.o.weight"], [f.message for f in rep.findings]
    assert all(f.severity == "error" and "router" not in " ".join(f.figures["others"]) for f in found)
    assert all(50 < f.figures["ratio"] < 200 for f in found)
    model, x = _routed_block_model(1.0)
    rep = check_model(model, example_input=x)
    assert rep.status == "healthy" and not [f for f in rep.findings if f.kind == "peer-scale"], \
        [f.message for f in rep.findings]
