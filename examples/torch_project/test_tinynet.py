"""Tests of the small project, using the invariants pytest plugin (installed with ``pip install invariants``).

Run: ``pytest examples/torch_project`` (add ``--invariants-profile=thorough`` for the nightly resolution).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from invariants.testing import assert_init_healthy, assert_initializer
from tinynet import build_model, build_model_with_shared_seed, he_init_


def test_our_init_is_he_normal_on_our_conv_shape():
    def init(weight: torch.Tensor) -> torch.Tensor:  # what he_init_ does to one conv weight
        return nn.init.kaiming_normal_(weight, nonlinearity="relu")

    assert_initializer(init, expect="kaiming_normal", layer="conv2d(16,16,k=3)", framework="torch")


def test_model_init_is_healthy():
    report = assert_init_healthy(build_model())
    assert report.kinds("note") == {"zero-output-layer"}  # deliberate: a zero head


def test_a_shared_seed_is_caught():
    with pytest.raises(AssertionError, match="identical-tensors"):
        assert_init_healthy(build_model_with_shared_seed())


def test_seeded_fixtures_reproduce(rng, torch_generator, invariants_seed):
    # rng and torch_generator are seeded from this test's node id: rerunning it alone gives the same numbers
    assert rng.bit_generator.seed_seq.entropy == invariants_seed
    model = he_init_(build_model(), generator=torch_generator)
    x = torch.as_tensor(rng.standard_normal((4, 3, 8, 8)), dtype=torch.float32)
    assert model(x).shape == (4, 10)
    assert np.all(np.isfinite(model(x).detach().numpy()))
