"""Sparse-upcycled mixtures of experts (stop 26's trial: an ``identical-tensors`` error).  Known-good: every
expert copied from one dense MLP with a router in front is an ``upcycled-experts`` note citing sparse
upcycling (Komatsuzaki et al. 2022).  Known-bad: the same copies with no router, or only some experts copied,
stay an ``identical-tensors`` error; a gated MLP's ``gate_proj`` is no router."""
from __future__ import annotations

import copy

import torch
from torch import nn

from invariants.modelcheck import check_model
from invariants.modelcheck.checks import upcycled_router


class FFN(nn.Module):
    def __init__(self, d=32, h=64):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, h), nn.Linear(h, d)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class MoE(nn.Module):
    def __init__(self, n=4, router=True, d=32):
        super().__init__()
        dense = FFN(d)
        self.experts = nn.ModuleList([copy.deepcopy(dense) for _ in range(n)])
        self.gate = nn.Linear(d, n, bias=False) if router else None

    def forward(self, x):
        if self.gate is None:
            return sum(e(x) for e in self.experts)
        w = torch.softmax(self.gate(x), -1)
        return sum(w[..., i:i + 1] * e(x) for i, e in enumerate(self.experts))


def moe(router=True, partial=False):
    torch.manual_seed(0)
    m = MoE(router=router)
    if partial:
        m.experts[3] = FFN()
    return m


def test_upcycled_experts_behind_a_router_are_a_note():
    rep = check_model(moe())
    (f,) = rep.find("upcycled-experts")
    assert f.severity == "note" and "Komatsuzaki" in f.message and f.figures["router"] == "gate.weight"
    assert not rep.find("identical-tensors") and rep.ok


def test_copies_without_a_router_or_of_some_experts_stay_an_error():
    for m in (moe(router=False), moe(partial=True)):
        rep = check_model(m)
        assert rep.find("identical-tensors") and not rep.find("upcycled-experts") and not rep.ok


def test_router_names():
    """Mixtral/DeepSeek ``gate``, Switch ``router`` beside ``experts.expert_#``, Flax's ``experts_#`` beside
    its ``gate`` are routers; a gated MLP's ``gate_proj`` and a copy outside any experts list are not."""
    owners = ["m.moe.experts.0", "m.moe.experts.1"]
    labels = ["m.moe.gate.weight", "m.moe.experts.0.w1.weight", "m.moe.experts.1.w1.weight"]
    assert upcycled_router(owners, labels) == "m.moe.gate.weight"
    switch = ["mlp.experts.expert_0", "mlp.experts.expert_1"]
    assert upcycled_router(switch, ["mlp.router.classifier.weight", "mlp.experts.expert_0.wi.weight",
                                    "mlp.experts.expert_1.wi.weight"]) == "mlp.router.classifier.weight"
    flax = ["params/moe/experts_0", "params/moe/experts_1"]
    assert upcycled_router(flax, ["params/moe/gate/kernel", "params/moe/experts_0/fc/kernel",
                                  "params/moe/experts_1/fc/kernel"]) == "params/moe/gate/kernel"
    assert upcycled_router(owners, ["m.moe.experts.0.gate_proj.weight", "m.moe.experts.1.gate_proj.weight",
                                    "m.moe.gate_proj.weight"]) is None
    assert upcycled_router(["layers.0", "layers.1"], ["layers.0.w", "layers.1.w", "head.weight"]) is None
