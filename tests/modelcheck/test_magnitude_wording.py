"""A finding on a weight-normed layer names its magnitude ``g`` (issue 17 wording).

Textbook: ``torch/nn/utils/parametrizations.py`` ``_WeightNorm.forward``: ``torch._weight_norm(v, g, dim)`` with
``g = original0``, ``v = original1``: the weight's slice norms are ``|g|``, whatever ``v``'s scale; the deprecated
``torch/nn/utils/weight_norm.py`` ``WeightNorm.compute_weight`` the same from ``weight_g``, ``weight_v``.
Known-bad (before): ``g`` x10 on one conv of five was reported as ``...original1`` alone, sending the reader to
``v`` (rescaling ``v`` changes nothing).  Known-good: the error names ``original0`` as the magnitude that sets the
scale; ``v`` x10 stays no finding; a finding on a plain layer gets no such clause.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from invariants.modelcheck import check_model

pytestmark = pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")


def _convs(form: str, which: int | None = None, plain: bool = False) -> tuple[nn.Module, torch.Tensor]:
    wrap = (lambda m: m) if plain else (nn.utils.parametrizations.weight_norm if form == "parametrization"
                                        else nn.utils.weight_norm)
    torch.manual_seed(0)
    convs = [wrap(nn.Conv2d(3 if i == 0 else 16, 16, 3, padding=1)) for i in range(5)]
    with torch.no_grad():
        if which is not None:
            c = convs[2]
            if plain:
                c.weight.mul_(10)
            elif form == "parametrization":
                getattr(c.parametrizations.weight, f"original{which}").mul_(10)
            else:
                getattr(c, "weight_g" if which == 0 else "weight_v").mul_(10)
    seq = []
    for c in convs:
        seq += [c, nn.ReLU()]
    return nn.Sequential(*seq), torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("form,g,v", [("parametrization", "4.parametrizations.weight.original0",
                                       "4.parametrizations.weight.original1"), ("hook", "4.weight_g", "4.weight_v")])
def test_a_scale_error_through_g_names_g(form, g, v):
    model, x = _convs(form, which=0)
    (f,) = [f for f in check_model(model, example_input=x).findings if f.severity == "error"]
    assert f.params[0] == v and f.figures["magnitude"] == g
    assert f.message.startswith(f"{v} (the effective weight g*v/||v|| of a weight-normed layer") and \
        f"its magnitude g, {g}" in f.message
    model, x = _convs(form, which=1)  # v x10: w unchanged
    assert not [f for f in check_model(model, example_input=x).findings if f.severity == "error"]


def test_a_plain_layer_gets_no_magnitude_clause():
    model, x = _convs("parametrization", which=0, plain=True)
    (f,) = [f for f in check_model(model, example_input=x).findings if f.severity == "error"]
    assert f.params[0] == "4.weight" and "magnitude" not in f.figures and "g*v" not in f.message
