"""Weight-normed layers (issue 17): read through the effective weight ``w = g·v/‖v‖`` the forward uses.

Known-good: an MLP wrapped with either torch form (``torch.nn.utils.parametrizations.weight_norm``: ``_WeightNorm``
in ``torch/nn/utils/parametrizations.py``; the deprecated ``torch.nn.utils.weight_norm``: ``WeightNorm`` in
``torch/nn/utils/weight_norm.py``) is HEALTHY with every tensor read; rescaling ``v`` alone leaves ``w`` and the
function unchanged and changes no verdict.  Known-bad: ``g`` x10 on one layer (``w`` x10) is a ``peer-scale`` error.

Wav2Vec2 (transformers 5.25 ``models/wav2vec2/modeling_wav2vec2.py``): ``Wav2Vec2PositionalConvEmbedding.__init__``
wraps ``nn.Conv1d(H, H, K, groups=G)`` with ``weight_norm(name="weight", dim=2)``, after ``Conv1d.reset_parameters``
drew it ``U(±1/sqrt(fan_in))`` (``kaiming_uniform_(a=sqrt(5))``); ``Wav2Vec2PreTrainedModel._init_weights`` then
calls ``init.normal_(module.conv.weight, std=2*sqrt(1/(K*H)))``, but on a weight-normed conv ``conv.weight`` is a
tensor computed from ``g`` and ``v`` on access, so that draw reaches neither parameter: the effective weight stays
the torch default, which is what the check must find (and does: ``torch_default``).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from invariants.frameworks.torch.model import extract_params
from invariants.layers import Conv, Dense
from invariants.modelcheck import check_model
from tests.zoo._compat import available, ensure_torchvision

# the deprecated form is what is tested there
pytestmark = pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")


def _mlp(form: str) -> nn.Module:
    wrap = nn.utils.parametrizations.weight_norm if form == "parametrization" else nn.utils.weight_norm
    torch.manual_seed(0)
    return nn.Sequential(wrap(nn.Linear(32, 64)), nn.ReLU(), wrap(nn.Linear(64, 64)), nn.ReLU(), nn.Linear(64, 10))


def _g_v(layer: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    if hasattr(layer, "parametrizations"):
        return layer.parametrizations.weight.original0, layer.parametrizations.weight.original1
    return layer.weight_g, layer.weight_v


@pytest.mark.parametrize("form", ["parametrization", "hook"])
def test_weight_normed_layers_are_read_through_their_effective_weight(form):
    model = _mlp(form)
    with torch.no_grad():
        _g_v(model[0])[0].mul_(0.5)  # g != ‖v‖: the effective weight is no longer v
    params, nodes, _ = extract_params(model)
    by = {p.name: p for p in params}
    v_name = "0.parametrizations.weight.original1" if form == "parametrization" else "0.weight_v"
    g_name = "0.parametrizations.weight.original0" if form == "parametrization" else "0.weight_g"
    v = by[v_name]
    assert v.layer == Dense(32, 64) and v.role == "weight" and by[g_name].role == "norm_scale"
    with torch.no_grad():
        w = model[0].weight if form == "parametrization" else torch._weight_norm(*reversed(_g_v(model[0])), 0)
    np.testing.assert_allclose(v.value, w.numpy(), rtol=1e-6)
    assert not np.allclose(v.value, _g_v(model[0])[1].detach().numpy())
    assert any(n.weight is v and n.name == "0" for n in nodes)
    assert len(params) == len(list(model.parameters()))  # each parameter once (none as 'other' under the child)


@pytest.mark.parametrize("form", ["parametrization", "hook"])
def test_healthy_and_invariant_to_rescaling_v_but_g_times_ten_is_an_error(form):
    rep = check_model(_mlp(form))
    assert rep.ok and not rep.findings and rep.coverage.values == rep.coverage.total_values
    scaled_v = _mlp(form)
    with torch.no_grad():
        _g_v(scaled_v[2])[1].mul_(10)  # w = g·v/‖v‖ unchanged: the same function, the same training
    rep = check_model(scaled_v)
    assert rep.ok and not rep.findings
    bad = _mlp(form)
    with torch.no_grad():
        _g_v(bad[2])[0].mul_(10)  # w x10
    rep = check_model(bad)
    (f,) = [f for f in rep.findings if f.severity == "error"]
    assert f.kind == "peer-scale" and f.params[0].startswith("2.") and not rep.ok


@pytest.mark.skipif(not available("transformers"), reason="transformers not installed")
def test_wav2vec2_positional_conv_is_read():
    ensure_torchvision()
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    torch.manual_seed(0)
    model = Wav2Vec2Model(Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, conv_dim=(16, 16),
        conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4))
    g = torch.Generator().manual_seed(1)
    rep = check_model((model, torch.randn(2, 400, generator=g)))
    assert rep.ok and not [f for f in rep.findings if f.severity == "error"]
    assert [s.name for s in rep.coverage.not_analysed] == ["masked_spec_embed"]  # uniform_ in [0, 1): no layer
    row = next(r for r in rep.tensors if r.name == "encoder.pos_conv_embed.conv.parametrizations.weight.original1")
    assert row.layer == str(Conv(32, 32, (16,), groups=4)) and row.fans == (128, 128)
    assert any(m.startswith("torch_default") for m in row.matches)
