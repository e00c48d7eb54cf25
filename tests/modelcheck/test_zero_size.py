"""Zero-element layers are legal models (issue 14, gap 1): ``torch.nn.Linear(0, 4)``, a Keras or Flax Dense on a
0-feature input.  check-model accepts them, lists the empty tensor as not analysed with reason "0 elements",
and raises no finding about it (its units have no incoming weights: nothing dead, nothing to compare)."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from invariants.modelcheck import check_model
from invariants.modelcheck.coverage import EMPTY_REASON
from invariants.render import render_model


def assert_zero_skipped(report, name: str) -> None:
    text = render_model(report)
    assert report.status == "healthy", text
    assert [(s.name, s.n, s.reason) for s in report.coverage.not_analysed] == [(name, 0, "0 elements")], text
    assert all(name not in f.params for f in report.findings), text
    assert f"{name} (0 values): 0 elements" in text


def test_torch_linear_0_in_is_accepted():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Z(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.z, self.b = nn.Linear(16, 32), nn.Linear(0, 4), nn.Linear(32, 4)

        def forward(self, x):
            return self.b(torch.relu(self.a(x))) + self.z(x[:, :0])

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "Initializing zero-element tensors is a no-op"
        model = Z()
    assert EMPTY_REASON == "0 elements"
    assert_zero_skipped(check_model(model, name="Z"), "z.weight")


def test_torch_meta_model_streamed_skips_it_too():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.Linear(0, 4))
    report = check_model(model, name="meta")
    assert [(s.name, s.reason) for s in report.coverage.not_analysed] == [("1.weight", "0 elements")]


def test_flax_dense_on_zero_features_is_accepted():
    pytest.importorskip("flax")
    import jax
    import jax.numpy as jnp
    import flax.linen as nn

    class M(nn.Module):
        @nn.compact
        def __call__(self, x):
            h = nn.relu(nn.Dense(32)(x))
            # lecun_normal divides by fan_in 0: Flax itself needs a fixed init here
            return nn.Dense(4)(h) + nn.Dense(4, name="z", kernel_init=nn.initializers.zeros)(h[:, :0])

    x = jnp.asarray(np.random.default_rng(0).standard_normal((32, 16)), jnp.float32)
    m = M()
    assert_zero_skipped(check_model((m, m.init(jax.random.key(0), x), x), name="M"), "params/z/kernel")


def test_keras_dense_on_zero_features_is_accepted():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    pytest.importorskip("jax")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("the keras probe needs the jax backend")
    keras.utils.set_random_seed(0)
    x = keras.Input((16,))
    h = keras.layers.Dense(32, activation="relu")(x)
    empty = keras.layers.Lambda(lambda t: t[:, :0], output_shape=(0,))(h)
    out = keras.layers.Add()([keras.layers.Dense(4)(h), keras.layers.Dense(4, name="z")(empty)])
    assert_zero_skipped(check_model(keras.Model(x, out), name="keras"), "z/kernel")
