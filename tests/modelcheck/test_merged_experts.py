"""DBRX's experts merged into rows (issue 17): ``w1``/``v1``/``w2`` are 2-D ``(E·I, H)`` parameters.

Textbook (the library's own code, read from the installed transformers 5.25 source):

- ``transformers/models/dbrx/modeling_dbrx.py`` ``DbrxExpertGLU.__init__``: ``w1``, ``v1``, ``w2`` each
  ``(moe_num_experts·ffn_hidden_size, hidden_size)``; ``DbrxExperts.forward`` views each as ``(E, I, H)`` and
  ``DbrxExpertGLU.forward`` applies expert ``e`` as ``act(x @ w1[e].T) * (x @ v1[e].T)`` then ``@ w2[e]``: gate and
  up are dense maps ``H -> I`` stored ``(out, in)``, down a dense map ``I -> H`` stored ``(in, out)``.
- ``DbrxPreTrainedModel._init_weights``: ``init.normal_(module.w1 / v1 / w2, mean=0.0, std=initializer_range)``.

Known-good: a library-initialised DBRX has every tensor read (no "not analysed" stack), each expert's gate, up and
down a dense block matching ``normal(std=0.02)``, and no finding.  Known-bad: one expert's down map at 10x std is a
``peer-scale`` error naming that expert (the model: :func:`tests.modelcheck.moe_models.dbrx`).
"""
from __future__ import annotations

import pytest

from invariants.layers import JAX, TORCH, Experts
from tests.modelcheck.moe_models import dbrx as _dbrx
from tests.zoo._compat import available

pytestmark = pytest.mark.skipif(not available("transformers"), reason="transformers not installed")


def test_reader_views_merged_rows_as_experts():
    import numpy as np

    from invariants.frameworks.torch.experts import merged_experts
    from invariants.frameworks.torch.model import extract_params

    model = _dbrx()
    mlp = model.transformer.blocks[0].ffn.experts.mlp
    assert merged_experts(mlp) == {"w1": (Experts(4, 64, 48), TORCH), "v1": (Experts(4, 64, 48), TORCH),
                                   "w2": (Experts(4, 48, 64), JAX)}
    assert merged_experts(model.transformer.blocks[0].ffn) is None  # the wrapper holds no parameter of its own
    by = {p.name: p for p in extract_params(model)[0]}
    w2 = by["transformer.blocks.0.ffn.experts.mlp.w2"]
    assert w2.role == "weight" and w2.shape == (4, 48, 64)
    blocks = dict((lab, idx) for lab, idx, _ in w2.blocks())
    # expert 1's down map is rows 48:96 of the stored (E*I, H) tensor, as DbrxExperts.forward views it
    assert np.array_equal(w2.value[blocks["transformer.blocks.0.ffn.experts.mlp.w2[e1]"]],
                          mlp.w2.detach().numpy()[48:96])
    assert all(lay.textbook_fans() == (48, 64) for _, _, lay in w2.blocks())


def test_library_init_is_read_whole_and_one_expert_at_10x_is_an_error():
    from invariants.modelcheck import check_model

    rep = check_model(_dbrx(), probe=False)
    assert not rep.coverage.not_analysed and rep.coverage.values == rep.coverage.total_values
    assert not [f for f in rep.findings if f.severity == "error"] and rep.ok
    rows = {r.name: r for r in rep.tensors}
    assert any("normal(std=0.02)" in m for m in rows["transformer.blocks.1.ffn.experts.mlp.v1[e3]"].matches)
    bad = _dbrx(lambda m: m.transformer.blocks[0].ffn.experts.mlp.w2[48:96].mul_(10))  # expert 1's down map
    rep = check_model(bad, probe=False)
    (f,) = [f for f in rep.findings if f.severity == "error"]
    assert f.kind == "peer-scale" and f.params[0] == "transformer.blocks.0.ffn.experts.mlp.w2[e1]" and not rep.ok
