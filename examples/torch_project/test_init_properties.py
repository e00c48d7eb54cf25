"""A property test written with invariants' public Hypothesis strategies.

Property: our initializer draws weights whose variance is 2/fan_in (He) on *any* conv layer, grouped or
not, 1-, 2- or 3-D: the layer descriptions and seeds come from ``invariants.strategies``, the fans from
the layer's connectivity (``layer.textbook_fans()``), and the decision from an exact chi-square test.
"""
from __future__ import annotations

import torch
from hypothesis import assume, given, settings
from torch import nn

from invariants import strategies as ist
from invariants.modelcheck import current
from invariants.stats.variance import chi2_variance_test


def our_init(weight: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)


@settings(current().hypothesis_settings())  # 20 examples (fast) or 200 (thorough)
@given(layer=ist.conv_layers(max_channels=32), seed=ist.seeds())
def test_he_variance_on_any_conv(layer, seed):
    fan_in, _ = layer.textbook_fans()
    w = our_init(torch.empty(layer.shape("torch")), torch.Generator().manual_seed(seed))
    assume(w.numel() >= 2)  # a variance needs two values
    result = chi2_variance_test(w.numpy().ravel(), 2.0 / fan_in, alpha=1e-6)
    assert result.passed, f"{layer.describe()}: {result}"


@settings(current().hypothesis_settings())
@given(net=ist.reference_networks(max_depth=3))
def test_correct_reference_networks_are_healthy(net):
    from invariants.testing import assert_init_healthy

    assert_init_healthy(net)
