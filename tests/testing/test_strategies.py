"""The public strategies generate what they promise (and are used by the suite itself)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants import strategies as ist
from invariants.reference import loss_and_grad, random_params


@given(pair=ist.fans(ratio="square"), tall=ist.fans(ratio="tall"), wide=ist.fans(ratio="wide"),
       distinct=ist.fans(ratio="distinct"))
def test_fan_ratios(pair, tall, wide, distinct):
    assert pair[0] == pair[1]
    assert tall[1] >= 4 * tall[0] and wide[0] >= 4 * wide[1]
    assert distinct[0] != distinct[1]


@pytest.mark.parametrize("kind", ["any", "square", "row", "tall", "wide", "conv", "large"])
def test_shapes_have_fans(kind):
    @settings(max_examples=20)
    @given(shape=ist.shapes(kind))
    def check(shape):
        assert len(shape) >= 2 and all(s >= 1 for s in shape)
        if kind == "conv":
            assert int(np.prod(shape[2:])) > 1
        if kind == "row":
            assert shape[0] == 1

    check()


@given(layer=ist.layers())
def test_layers_have_textbook_fans_and_a_torch_shape(layer):
    fan_in, fan_out = layer.textbook_fans()
    assert fan_in >= 1 and fan_out >= 1
    shape = layer.shape("torch")
    assert int(np.prod(shape)) >= fan_in


@given(layer=ist.conv_layers(grouped=True))
def test_grouped_convs_divide_groups_out(layer):
    assert layer.groups > 1
    k = int(np.prod(layer.kernel))
    assert layer.textbook_fans() == (layer.in_features // layer.groups * k, layer.out_features // layer.groups * k)


@given(spec=ist.specs(), pair=ist.fans(64), seed=ist.seeds())
def test_specs_sample_finite_values(spec, pair, seed):
    fan_in, fan_out = pair
    if hasattr(spec, "variance") and hasattr(spec, "mode"):
        w = spec.sample((fan_out, fan_in), np.random.default_rng(seed), fan_in=fan_in, fan_out=fan_out)
        assert w.shape == (fan_out, fan_in) and np.all(np.isfinite(w))


@settings(max_examples=30)
@given(data=st.data(), arch=ist.architectures(), seed=ist.seeds())
def test_architectures_and_datasets_run(data, arch, seed):
    x, t = data.draw(ist.datasets(arch))
    params = random_params(arch, np.random.default_rng(seed))
    loss, grads = loss_and_grad(arch, params, x, t)
    assert np.isfinite(loss) and grads.keys() == params.keys()


@given(opt=ist.optimizers())
def test_optimizers_are_fresh(opt):
    assert opt.steps == 0 and not opt.state


def test_unknown_kinds_are_rejected():
    with pytest.raises(ValueError, match="unknown layer kinds"):
        ist.layers(("lstm_cell",))
    with pytest.raises(ValueError, match="unknown ratio"):
        ist.fans(ratio="diagonal")
