"""Keras ``SeparableConv2D`` (a core layer: Xception is built of it) has layer semantics: its ``depthwise_kernel``
is a depthwise conv ``(*k, C_in, m)`` and its ``pointwise_kernel`` a 1x1 conv ``(1, 1, C_in·m, filters)``
(a new user's trial: 68 tensors of keras Xception were "not analysed", exit 3).

Textbook: ``keras/src/layers/convolutional/base_separable_conv.py`` (``BaseSeparableConv.__init__``/``build``):
``depthwise_initializer="glorot_uniform"`` and ``pointwise_initializer="glorot_uniform"``, each drawn by
``keras/src/initializers/random_initializers.py`` ``GlorotUniform`` with the fans of ``compute_fans`` on its own
shape (rank 4: ``rf = k_h·k_w``, ``fan_in = shape[-2]·rf``, ``fan_out = shape[-1]·rf``), bias zeros.
Known-good: the library init, both kernels analysed and matching Glorot uniform on those fans, no error.
Known-bad: the depthwise kernel at 10x its std gets a ``variance`` finding naming it (a note: the textbook
He fan_in of a depthwise kernel, 9, allows a variance only 5x below it), and a law 3x too wide fails.
"""
from __future__ import annotations

import pytest

from tests.zoo._compat import available

pytestmark = pytest.mark.skipif(not available("keras"), reason="keras not installed")


def _model(scale: float = 1.0):
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 16))
    sep = keras.layers.SeparableConv2D(32, 3, depth_multiplier=2, name="sep")
    x = keras.layers.GlobalAveragePooling2D()(sep(keras.layers.Conv2D(16, 3, padding="same", name="stem")(inp)))
    model = keras.Model(inp, keras.layers.Dense(10, name="head")(x))
    sep.depthwise_kernel.assign(keras.ops.multiply(sep.depthwise_kernel.value, scale))
    return model


def test_separable_kernels_have_layer_semantics_and_match_keras_glorot():
    import numpy as np
    from keras.src.initializers.random_initializers import compute_fans

    from invariants.laws import Law
    from invariants.layers import Conv, Depthwise
    from invariants.modelcheck import check_model
    from invariants.modelcheck.variance import passes

    model = _model()
    rep = check_model(model, probe=False)
    assert not rep.coverage.not_analysed and rep.ok and not rep.findings
    rows = {r.name: r for r in rep.tensors}
    assert rows["sep/depthwise_kernel"].fans == (9, 18) and rows["sep/pointwise_kernel"].fans == (32, 32)
    assert rows["sep/depthwise_kernel"].matches and rows["sep/pointwise_kernel"].matches
    sep = model.get_layer("sep")
    for var, kind in ((sep.depthwise_kernel, Depthwise), (sep.pointwise_kernel, Conv)):
        from invariants.frameworks.keras.model import param_layer

        assert isinstance(param_layer(model, var.path), kind)
        fan_in, fan_out = compute_fans(tuple(var.shape))  # (16·9, 2·9) and (32, 32)
        limit = float(np.sqrt(6 / (fan_in + fan_out)))  # GlorotUniform
        assert passes(Law.uniform(-limit, limit), np.asarray(var.value), rep.config["alpha"], 0.99)
        assert not passes(Law.uniform(-3 * limit, 3 * limit), np.asarray(var.value), rep.config["alpha"], 0.99)


def test_a_depthwise_kernel_at_ten_times_its_std_is_judged():
    from invariants.modelcheck import check_model

    rep = check_model(_model(10.0), probe=False)
    assert [(f.kind, f.params) for f in rep.findings] == [("variance", ("sep/depthwise_kernel",))]
