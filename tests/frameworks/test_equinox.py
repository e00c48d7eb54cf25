"""Equinox: the catalogue's verdicts, the layout (conv transpose keeps (C_out, C_in/G, *k)), user JAX
initializers on Equinox weights, and the model view.  Figures: the measurements in
:mod:`invariants.frameworks.equinox.initializers` (equinox 0.13.8).  Skipped without equinox."""
from __future__ import annotations

import numpy as np
import pytest

eqx = pytest.importorskip("equinox")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import audit_fixtures as F  # noqa: E402
from invariants.frameworks.registry import lookup  # noqa: E402
from invariants.frameworks.subjects import Expectation  # noqa: E402
from invariants.audit.auditor import CONFORMS, DEVIATES, DOCUMENTED, audit_subjects  # noqa: E402
from invariants.frameworks.equinox.layout import EQUINOX  # noqa: E402
from invariants.frameworks.equinox.model import view  # noqa: E402
from invariants.layers import parse_layer  # noqa: E402
from invariants.specs import HE_NORMAL  # noqa: E402

FW = lookup("equinox")
CFG = F.CATALOGUE_CONFIG


subjects, report = F.catalogue_fixtures(FW, CFG)
pytestmark = F.catalogue_group("equinox")  # with its conformance checks: one worker compiles its programs


def test_catalogue_verdicts(report):
    by = {r.target: r for r in report.results}
    # the custom-init recipe: JAX's fans on the (out, in) weight are swapped, fan_in 100 instead of 300
    swapped = by["jax.nn.initializers.he_normal() on eqx.nn.Linear(300, 100).weight"]
    assert swapped.verdict == DEVIATES and 0.95 * 3 <= swapped.ratio <= 1.05 * 3, swapped.message
    assert swapped.fans_framework == (100, 300) and swapped.fans_textbook == (300, 100)
    # every Linear/Conv/ConvTranspose default is U(+-1/sqrt(textbook fan_in)): 1/6 of He uniform
    for target in ("eqx.nn.Linear(300, 100).weight", "eqx.nn.ConvTranspose2d(32, 64, 3, groups=4).weight",
                   "eqx.nn.Conv2d(32, 64, 3, groups=32).weight", "eqx.nn.ConvTranspose2d(32, 64, 3, stride=2).weight"):
        assert by[target].verdict == DOCUMENTED and 0.95 / 6 <= by[target].ratio <= 1.05 / 6, target
        assert "equinox/nn/_" in by[target].reference
    assert by["eqx.nn.Embedding(1000, 64).weight"].verdict == CONFORMS  # N(0, 1)
    assert by["eqx.nn.LSTMCell(32, 64).weight_hh[f]"].verdict == CONFORMS  # U(+-1/sqrt(H)) with fan_in H
    assert by["eqx.nn.GRUCell(32, 64).weight_ih[z]"].verdict == DOCUMENTED  # H is not the fan_in 32
    counts = report.counts()
    assert counts[DEVIATES] == 1 and counts["error"] == 0


@pytest.mark.parametrize("text", ["conv2d(32,64,k=3,groups=4)", "conv_transpose2d(32,64,k=3,groups=4)",
                                  "conv_transpose1d(16,32,k=5)", "lstm(32,64)"])
def test_layout_matches_the_layers(text):
    lay = parse_layer(text)
    k = jax.random.key(0)
    made = {"conv2d(32,64,k=3,groups=4)": lambda: eqx.nn.Conv2d(32, 64, 3, groups=4, key=k),
            "conv_transpose2d(32,64,k=3,groups=4)": lambda: eqx.nn.ConvTranspose2d(32, 64, 3, groups=4, key=k),
            "conv_transpose1d(16,32,k=5)": lambda: eqx.nn.ConvTranspose1d(16, 32, 5, key=k),
            "lstm(32,64)": lambda: eqx.nn.LSTMCell(32, 64, key=k)}[text]()
    w = made.weight_ih if text.startswith("lstm") else made.weight
    assert lay.shape(EQUINOX) == tuple(w.shape)
    if lay.kind != "packed":  # Equinox's own bound uses shape[1]*rf: the textbook fan_in
        assert EQUINOX.fans(tuple(w.shape))[0] == lay.textbook_fans()[0]


def _he_on_rows_in(key, shape, dtype=jnp.float32):
    """He normal with fan_in = shape[1] * rf: right for Equinox's (out, in, *k)."""
    fan_in = int(np.prod(shape[1:]))
    return jax.random.normal(key, shape, dtype) * jnp.sqrt(2.0 / fan_in)


@pytest.mark.parametrize("fn, verdict", [(_he_on_rows_in, CONFORMS),
                                         (jax.nn.initializers.variance_scaling(2.0, "fan_in", "normal"), DEVIATES)],
                         ids=["equinox-fans", "jax-fans"])
def test_user_initializer_on_equinox_layout(fn, verdict):
    from invariants.specs import KAIMING_NORMAL_TORCH

    subject = FW.subject_for(fn, parse_layer("conv2d(16,48,k=3)"), Expectation(KAIMING_NORMAL_TORCH), "user")
    assert subject.shape == (48, 16, 3, 3)
    (r,) = audit_subjects([subject], CFG).results
    assert r.verdict == verdict, r.message


def test_model_view_mlp_roles_and_probe():
    model = eqx.nn.MLP(16, 4, 32, 2, key=jax.random.key(0))
    mv = view(model, "mlp", seed=3)
    assert mv.probe_error == ""
    assert [(n.name, n.activation, n.layer.describe()) for n in mv.nodes] == [
        ("layers.0", "relu", "dense(16,32)"), ("layers.1", "relu", "dense(32,32)"), ("layers.2", None, "dense(32,4)")]
    assert {p.role for p in mv.params} == {"weight", "bias"}
    r = np.random.default_rng(3).standard_normal((32, 4))
    np.testing.assert_allclose(mv.probe.signals[-1].delta, r, rtol=1e-5, atol=1e-5)
    # z of the first layer is the layer itself applied to the inferred input
    x = np.random.default_rng(3).standard_normal((32, 16)).astype(np.float32)
    z0 = x @ np.asarray(model.layers[0].weight).T + np.asarray(model.layers[0].bias)
    np.testing.assert_allclose(mv.probe.signals[0].z, z0, rtol=1e-4, atol=1e-5)


class _CNN(eqx.Module):
    conv: eqx.nn.Conv2d
    up: eqx.nn.ConvTranspose2d
    cell: eqx.nn.GRUCell
    norm: eqx.nn.LayerNorm

    def __init__(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.conv = eqx.nn.Conv2d(3, 8, 3, key=k1)
        self.up = eqx.nn.ConvTranspose2d(8, 4, 3, groups=4, key=k2)
        self.cell = eqx.nn.GRUCell(4, 6, key=k3)
        self.norm = eqx.nn.LayerNorm(4)

    def __call__(self, x):
        y = self.up(jax.nn.relu(self.conv(x)))
        return self.norm(y.mean(axis=(1, 2)))


def test_model_view_conv_semantics():
    mv = view(_CNN(jax.random.key(1)), "cnn")
    assert mv.probe_error == ""
    assert [n.layer.describe() for n in mv.nodes] == ["conv2d(3,8,k=3)", "conv_transpose2d(8,4,k=3,groups=4)"]
    assert [n.bias.value.shape for n in mv.nodes] == [(8,), (4,)]  # (C_out, 1, 1) biases, one per unit
    assert [s.z.shape[1] for s in mv.probe.signals] == [8, 4]  # channels-first: units on axis 1
    roles = {p.name: p.role for p in mv.params}
    assert roles["cell.weight_ih"] == "recurrent" and roles["cell.bias_n"] == "bias"
    assert roles["norm.weight"] == "norm_scale" and roles["norm.bias"] == "norm_shift"


def test_model_view_inner_vmap_is_reported_not_fatal():
    class Tokens(eqx.Module):
        emb: eqx.nn.Embedding
        lin: eqx.nn.Linear

        def __call__(self, ids):
            return jax.vmap(self.lin)(jax.vmap(self.emb)(ids))

    k1, k2 = jax.random.split(jax.random.key(0))
    model = Tokens(eqx.nn.Embedding(50, 8, key=k1), eqx.nn.Linear(8, 3, key=k2))
    mv = view(model, "tok", example_input=np.zeros((4, 5), np.int32))
    assert mv.probe is None and "probe pass failed" in mv.probe_error
    assert [p.role for p in mv.params] == ["embedding", "weight", "bias"]


def test_check_model_reaches_equinox_models():
    """End to end through the model check: a healthy MLP passes, two layers built from one key are
    identical tensors, and a transposed conv's unit rows come from Equinox's layout."""
    from invariants.modelcheck import check_model

    report = check_model(eqx.nn.MLP(64, 10, 128, 2, key=jax.random.key(0)), name="mlp")
    assert report.framework == "equinox" and report.kinds("error") == set(), report.render()
    k = jax.random.key(0)
    same = eqx.nn.Sequential([eqx.nn.Linear(64, 64, key=k), eqx.nn.Lambda(jax.nn.relu), eqx.nn.Linear(64, 64, key=k)])
    assert "identical-tensors" in check_model(same).kinds("error")
    up = eqx.nn.ConvTranspose2d(16, 8, 3, key=k)
    up = eqx.tree_at(lambda m: m.weight, up, up.weight.at[3].set(0.0))  # (C_out, C_in/G, *k): channel 3
    (node,) = view(up, "up", example_input=np.ones((2, 16, 6, 6), np.float32)).nodes
    rows = node.incoming()
    assert rows.shape == (8, 16 * 9) and not rows[3].any() and rows[[0, 1, 2, 4]].all(axis=1).all()
