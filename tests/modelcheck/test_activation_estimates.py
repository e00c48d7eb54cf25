"""check-model's activation estimate for Equinox, MLX and Flax with an inferred input (stop 26: the estimate
line said it excluded them).  Known-good: the shape pass gives the exact bytes of every weight layer's output
and input on the probe batch (Equinox, MLX) or of every submodule's output (Flax), and the estimate no longer
says it excludes them.  Known-bad: a model no shape pass can trace keeps the honest "excludes" note."""
from __future__ import annotations

import pytest

from invariants.modelcheck.cost import ACTIVATION_FACTOR, activation_bytes, estimate, model_cost


def _mlp_io_bytes(widths, batch):
    """float32 bytes of each layer's input and output of an MLP of these widths, on ``batch`` inputs."""
    return 4 * batch * (sum(widths[1:]) + sum(widths[:-1]))


def test_equinox_estimate_counts_layer_inputs_and_outputs():
    jax = pytest.importorskip("jax")
    eqx = pytest.importorskip("equinox")
    m = eqx.nn.MLP(64, 10, 256, 3, key=jax.random.key(0))
    assert activation_bytes(m, batch=32) == _mlp_io_bytes([64, 256, 256, 256, 10], 32)
    cost, note = estimate(m, 1 << 16, batch=32)
    assert note is None
    assert cost.bytes == model_cost(m, 1 << 16).bytes + int(ACTIVATION_FACTOR * _mlp_io_bytes([64, 256, 256, 256, 10], 32))
    assert model_cost(m, 1 << 16).values == 64 * 256 + 2 * 256 * 256 + 256 * 10 + 3 * 256 + 10  # was 0


def test_mlx_estimate_from_the_lazy_graph():
    mx = pytest.importorskip("mlx.core")
    nn = pytest.importorskip("mlx.nn")

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(64, 256), nn.Linear(256, 256), nn.Linear(256, 10)]

        def __call__(self, x):
            for lay in self.layers[:-1]:
                x = nn.relu(lay(x))
            return self.layers[-1](x)

    mx.random.seed(0)
    assert activation_bytes(M(), batch=32) == _mlp_io_bytes([64, 256, 256, 10], 32)
    assert estimate(M(), 1 << 16, batch=32)[1] is None


def test_flax_estimate_with_an_inferred_input():
    jax = pytest.importorskip("jax")
    fnn = pytest.importorskip("flax.linen")
    import numpy as np

    class MLP(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            x = fnn.relu(fnn.Dense(256)(x))
            return fnn.Dense(10)(x)

    m = MLP()
    v = m.init(jax.random.PRNGKey(0), np.ones((1, 64), np.float32))
    inferred = activation_bytes((m, v), batch=32)
    given = activation_bytes((m, v), np.ones((32, 64), np.float32))
    assert inferred == given and inferred >= 4 * 32 * (256 + 10)
    assert estimate((m, v), 1 << 16, batch=32)[1] is None


def test_an_untraceable_model_keeps_the_excludes_note():
    """Known-bad for the shape pass: an Equinox model whose forward fails under tracing."""
    jax = pytest.importorskip("jax")
    eqx = pytest.importorskip("equinox")

    class Bad(eqx.Module):
        lin: eqx.nn.Linear

        def __call__(self, x):
            raise RuntimeError("no tracing here")

    m = Bad(eqx.nn.Linear(8, 8, key=jax.random.key(0)))
    assert activation_bytes(m, batch=4) is None
    assert "excludes the probe's activations" in estimate(m, 1 << 16, batch=4)[1]
