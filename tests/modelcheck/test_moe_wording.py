"""Wording of check-model on stacked experts (issue 17): the verdict line and the PARTLY ANALYSED list agree, and
an expert's closest scheme is quoted on its own fans.

Textbook: ``transformers/models/mixtral/modeling_mixtral.py`` ``MixtralExperts.__init__`` (``gate_up_proj``
``(E, 2·I, H)``, ``down_proj`` ``(E, H, I)``) and ``MixtralExperts.forward`` (expert ``e`` applied as
``linear(x, gate_up_proj[e])``: a dense map ``H -> 2·I`` of its own); ``MixtralPreTrainedModel._init_weights``
draws them ``normal(0, initializer_range)``.  torch's fan rule on the whole 3-D stack
(``torch.nn.init._calculate_fan_in_and_fan_out``: ``(shape[1]·rf, shape[0]·rf)``, ``rf = H``) gives
``(2I·H, E·H)``: fans of no expert.
"""
from __future__ import annotations

import pytest

from tests.modelcheck.moe_models import mixtral
from tests.zoo._compat import available

pytestmark = pytest.mark.skipif(not available("transformers"), reason="transformers not installed")


@pytest.fixture(scope="module")
def scaled_report():
    """Mixtral with every expert at 0.1x std: the experts match no scheme, so their rows quote a closest one."""
    from invariants.modelcheck import check_model

    def tenth(layer):
        layer.mlp.experts.gate_up_proj.mul_(0.1)
        layer.mlp.experts.down_proj.mul_(0.1)

    m = mixtral(tenth)
    return check_model(m, probe=False)


def test_verdict_line_counts_the_partly_analysed_tensors(scaled_report):
    """Known-bad (before): "analysed 21 of 21 tensors, 100% of ..." beside "PARTLY ANALYSED: 6 tensors" (the
    routers and expert stacks, which have no output units).  Known-good: the line says 6 of them are partly read;
    a model with no partial tensor keeps the plain line."""
    import torch

    from invariants.modelcheck import check_model
    from invariants.render.model import render_model

    text = render_model(scaled_report)
    n = len(scaled_report.coverage.partial)
    assert n == 6 and f"PARTLY ANALYSED: {n} tensors" in text
    verdict = text.strip().splitlines()[-1]
    assert f"analysed 21 of 21 tensors ({n} of them partly, not by every check), 100% of" in verdict
    torch.manual_seed(0)
    plain = check_model(torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)),
                        probe=False)
    assert not plain.coverage.partial and "partly" not in render_model(plain).strip().splitlines()[-1]


def test_an_experts_closest_scheme_is_quoted_on_its_own_fans(scaled_report):
    """Known-bad (before): "closest: variance_scaling(1/3, fan_in, ...) over the packed tensor's fans (16384,
    256)", the 3-D stack's fans.  Known-good: every expert row's closest is a scheme on its own fans (64, 96) /
    (96, 64) or a fixed std, never the whole tensor's."""
    rows = [r for r in scaled_report.tensors if "experts" in r.name]
    assert len(rows) == 24 and all(not r.matches or r.matches[0].startswith("orthogonal over") for r in rows)
    closest = [r.closest for r in rows if r.closest]
    assert closest and not [c for c in closest if "packed tensor" in c], closest
