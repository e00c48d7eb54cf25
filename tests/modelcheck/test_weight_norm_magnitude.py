"""A weight-normed layer whose magnitude ``g`` was multiplied after the wrap is an error (issue 17, f_w2v_g10).

Textbook: ``torch/nn/utils/parametrizations.py`` ``_WeightNorm.right_inverse`` sets ``g = ‖w‖`` and ``v = w`` at
the wrap (``g/‖v‖ = 1`` in every slice).  Wav2Vec2 (transformers 5.25 ``models/wav2vec2/modeling_wav2vec2.py``):
``Wav2Vec2PositionalConvEmbedding.__init__`` wraps ``nn.Conv1d(H, H, K, groups=G)`` (drawn by
``Conv1d.reset_parameters``: ``U(±1/sqrt(fan_in))``) with ``weight_norm(dim=2)``;
``Wav2Vec2PreTrainedModel._init_weights`` ``init.normal_(module.conv.weight, std=2*sqrt(1/(K*H)))`` writes to the
computed weight, reaching neither ``g`` nor ``v`` (``test_weight_norm.py``), so the effective weight is the torch
default with ``g = ‖v‖``.  HuBERT (``modeling_hubert.py``) the same.

Known-bad: the positional conv's ``g`` x10 (effective weight 100x in variance, a lone layer with no sibling) is an
error of kind ``magnitude-scale`` naming ``g`` and the factor.  Known-good: library Wav2Vec2 and HuBERT get no error; data-dependent init
(Salimans & Kingma 2016, Sec. 3: ``g`` set per unit, a ratio that varies by slice) is not this error.
"""
from __future__ import annotations

import pytest

from tests.zoo._compat import available, ensure_torchvision

pytestmark = pytest.mark.skipif(not available("transformers"), reason="transformers not installed")

CFG = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=64, conv_dim=(16, 16),
           conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)


def _model(kind: str = "wav2vec2", edit=None):
    ensure_torchvision()
    import torch
    import transformers as T

    torch.manual_seed(0)
    m = (T.Wav2Vec2Model(T.Wav2Vec2Config(**CFG)) if kind == "wav2vec2" else T.HubertModel(T.HubertConfig(**CFG)))
    if edit is not None:
        with torch.no_grad():
            edit(m.encoder.pos_conv_embed.conv.parametrizations.weight.original0)
    return m


def _errors(model):
    from invariants.modelcheck import check_model

    return [f for f in check_model(model, probe=False).findings if f.severity == "error"]


G = "encoder.pos_conv_embed.conv.parametrizations.weight.original0"


def test_magnitude_times_ten_is_an_error_naming_g():
    (f,) = _errors(_model(edit=lambda g: g.mul_(10)))
    from invariants.modelcheck.report import KINDS

    assert f.kind in KINDS  # its own kind, listed (it has no peers: not peer-scale)
    assert f.kind == "magnitude-scale" and f.params == ("encoder.pos_conv_embed.conv.parametrizations.weight.original1", G)
    assert f.figures["magnitude"] == G and abs(f.figures["factor"] - 10) < 1e-3
    assert f.figures["direction_scheme"].startswith("torch_default") and "exactly 10x ||v|| in every slice" in f.message


@pytest.mark.parametrize("kind", ["wav2vec2", "hubert"])
def test_library_init_is_no_error(kind):
    assert not _errors(_model(kind))


def test_data_dependent_magnitudes_are_not_this_error():
    import torch

    def per_unit(g):  # g <- c_j * g with c_j in [5, 15] per slice (dim=2: one per kernel tap)
        g.mul_(torch.linspace(5.0, 15.0, g.numel()).reshape(g.shape))

    assert not [f for f in _errors(_model(edit=per_unit)) if "factor" in f.figures]
