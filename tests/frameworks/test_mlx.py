"""MLX (CPU): the catalogue's verdicts, the calling convention, the seeding discipline and the model view.

Figures: the measurements in :mod:`invariants.frameworks.mlx.initializers` (mlx 0.32.4).  The catalogue
runs at ``rel_error=0.05``; every fault asserted here is a variance ratio far outside that (1/3, 1/2,
0.046).  Skipped without mlx.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

mx = pytest.importorskip("mlx.core")
import mlx.nn as nn  # noqa: E402

from invariants.frameworks.errors import BadInitializer  # noqa: E402
import audit_fixtures as F  # noqa: E402
from invariants.frameworks.registry import lookup  # noqa: E402
from invariants.frameworks.subjects import Expectation  # noqa: E402
from invariants.audit.auditor import CONFORMS, DEVIATES, DOCUMENTED, audit_subjects  # noqa: E402
from invariants.frameworks.mlx import initializers as MI  # noqa: E402
from invariants.frameworks.mlx.layout import MLX  # noqa: E402
from invariants.frameworks.mlx.model import view  # noqa: E402
from invariants.core.errors import BadInput  # noqa: E402
from invariants.layers import parse_layer  # noqa: E402
from invariants.specs import KAIMING_NORMAL_TORCH  # noqa: E402

FW = lookup("mlx")
CFG = F.CATALOGUE_CONFIG

subjects, report = F.catalogue_fixtures(FW, CFG)


def test_catalogue_verdicts(report):
    by = {(r.target, r.layer): r for r in report.results}
    # MLX's fans ignore groups: fan_avg 324 = (72 + 576)/2 instead of 108 = (72 + 144)/2
    faults = {
        ("mlx.nn.init.glorot_uniform()", "conv2d(32,64,k=3,groups=4)"): 108 / 324,
        ("mlx.nn.init.glorot_normal()", "depthwise_conv2d(32,k=3,m=2)"): 13.5 / 292.5,
    }
    for key, ratio in faults.items():
        r = by[key]
        assert r.verdict == DEVIATES, r.message
        assert 0.95 * ratio <= r.ratio <= 1.05 * ratio, r.ratio
        assert f"framework fans {r.fans_framework}" in r.explanation
    documented = {key for key, r in by.items() if r.verdict == DOCUMENTED}
    # he_* at gain 1: LeCun's variance, half of He's
    for key in (("mlx.nn.init.he_normal()", "dense(300,100)"), ("mlx.nn.init.he_uniform()", "dense(300,100)")):
        assert key in documented and 0.95 / 2 <= by[key].ratio <= 1.05 / 2
        assert "gain defaults to 1.0" in by[key].reference
    # every layer default with a U(+-1/sqrt(fan_in)) rule is a documented deviation; the rest conform
    layer_docs = {k for k in documented if k[0].startswith("mlx.nn.") and not k[0].startswith("mlx.nn.init")}
    assert {k[0] for k in layer_docs} >= {"mlx.nn.Linear(300, 100).weight", "mlx.nn.Embedding(1000, 64).weight",
                                          "mlx.nn.ConvTranspose2d(32, 64, 3).weight", "mlx.nn.LSTM(32, 64).Wx[f]"}
    counts = report.counts()
    assert counts[DEVIATES] == 2 and counts["error"] == 0
    assert counts[CONFORMS] == len(report.results) - 2 - len(documented)


def test_layer_fans_are_textbook_except_groups():
    """MLX's fan rule on its own layout: textbook for dense, conv and conv transpose, blind to groups."""
    from mlx.nn.init import _calculate_fan_in_fan_out as mlx_rule

    for text in ("dense(300,100)", "conv2d(32,64,k=3)", "conv_transpose2d(32,64,k=3)", "conv3d(8,16,k=(2,3,4))",
                 "conv2d(32,64,k=3,groups=4)"):
        lay = parse_layer(text)
        shape = lay.shape(MLX)
        assert MLX.fans(shape) == tuple(mlx_rule(mx.zeros(shape)))
        if lay.groups == 1:
            assert MLX.fans(shape) == lay.textbook_fans(), text
    assert parse_layer("conv2d(32,64,k=3,groups=4)").framework_fans(MLX) == (72, 576)


def test_layout_matches_the_layers():
    assert parse_layer("conv2d(32,64,k=3,groups=4)").shape(MLX) == tuple(nn.Conv2d(32, 64, 3, groups=4).weight.shape)
    assert parse_layer("conv_transpose1d(16,32,k=5)").shape(MLX) == tuple(nn.ConvTranspose1d(16, 32, 5).weight.shape)
    assert parse_layer("bilinear(20,50,30)").shape(MLX) == tuple(nn.Bilinear(20, 50, 30).weight.shape)
    assert parse_layer("gru(32,64)").shape(MLX) == tuple(nn.GRU(32, 64).Wx.shape)
    with pytest.raises(BadInput, match="no groups"):
        parse_layer("conv_transpose2d(32,64,k=3,groups=4)").shape(MLX)


def test_seeding_is_deterministic_and_restores_the_global_state():
    sample = MI.mlx_sampler(nn.init.he_normal(), (20, 30))
    assert np.array_equal(sample(3), sample(3)) and not np.array_equal(sample(3), sample(4))
    mx.random.seed(123)
    expected = np.array(mx.random.normal((5,)))
    mx.random.seed(123)
    sample(7)  # draws from the global PRNG inside Seeded ...
    assert np.array_equal(np.array(mx.random.normal((5,))), expected)  # ... and leaves the user's stream alone


def _lecun_from_rows(a):
    """A 'he_normal' that takes fan_in from dim 0 (the output rows): the torch-transposition mistake."""
    fan_in = a.shape[0] * math.prod(a.shape[1:-1])
    return mx.random.normal(shape=a.shape, scale=math.sqrt(2 / fan_in))


def _he_normal(a):
    fan_in = a.shape[-1] * math.prod(a.shape[1:-1])
    return mx.random.normal(shape=a.shape, scale=math.sqrt(2 / fan_in))


@pytest.mark.parametrize("fn, verdict", [(_he_normal, CONFORMS), (_lecun_from_rows, DEVIATES)],
                         ids=["correct", "fan-from-rows"])
def test_user_initializer_in_mlx_convention(fn, verdict):
    subject = FW.subject_for(fn, parse_layer("dense(300,100)"), Expectation(KAIMING_NORMAL_TORCH), "user")
    (r,) = audit_subjects([subject], CFG).results
    assert r.verdict == verdict, r.message


@pytest.mark.parametrize("scale, verdict", [(1.0, CONFORMS), (1.5, DEVIATES)], ids=["correct", "std-x1.5"])
def test_a_bfloat16_draw_is_audited_in_bfloat16_with_the_same_verdict(scale, verdict):
    """MLX draws bfloat16 natively on CPU (``mx.random.normal(dtype=mx.bfloat16)``); the sampler hands the draw
    over as ``ml_dtypes.bfloat16`` (known-bad: it was widened to float32, and the audit stated float32's
    detectable error, 0.99%, for bfloat16 values), so the audit judges it at bfloat16's precision and states
    that precision's coarser figure, with the verdict the float32 reading gave: a correct std conforms,
    known-bad std x1.5 (variance x2.25) deviates."""
    from dataclasses import replace

    from invariants.frameworks.subjects import seeded_by
    from invariants.specs import Normal

    std = 0.05

    def bf16_normal(a):
        return (scale * std) * mx.random.normal(a.shape, dtype=mx.bfloat16)

    assert MI.mlx_sampler(bf16_normal, (4, 3))(0).dtype.name == "bfloat16"
    subject = FW.subject_for(bf16_normal, parse_layer("dense(300,100)"), Expectation(Normal(0.0, std)), "user")
    widened = replace(subject, sampler=seeded_by(lambda seed: subject.sampler(seed).astype(np.float32),
                                                  MI.SEEDED_INSIDE))
    (r,), (w,) = audit_subjects([subject], CFG).results, audit_subjects([widened], CFG).results
    assert r.verdict == w.verdict == verdict, (r.message, w.message)
    assert r.min_detectable_rel_error > 10 * w.min_detectable_rel_error  # bfloat16's band, not float32's figure


@pytest.mark.parametrize("fn, message", [
    (lambda a: a, "left 6 of 6 entries"),
    (lambda a: None, "returned None"),
    (lambda a: mx.zeros((3, 2)), r"shape \(3, 2\)"),
    (lambda a: mx.zeros(a.shape, dtype=mx.int32), "dtype int32"),
    (lambda a: 1 / 0, "ZeroDivisionError"),
])
def test_bad_initializers_are_bad_input(fn, message):
    with pytest.raises(BadInitializer, match=message):
        MI.mlx_sampler(fn, (2, 3), "bad")(0)


def test_known_expectations_and_factories():
    assert MI.mlx_expectation(nn.init.glorot_uniform).spec.name == "glorot_uniform"
    assert MI.mlx_expectation(nn.init.normal(0.5, 2.0)).spec.text() == "normal(mean=0.5, std=2)"
    assert MI.mlx_expectation(nn.init.he_normal()).spec.scale == 1.0  # documented gain 1
    assert MI.mlx_expectation(lambda a: a) is None
    # a factory given as the target is called with its defaults
    assert MI.mlx_sampler(nn.init.he_uniform, (4, 5))(0).shape == (4, 5)


def test_model_view_roles_nodes_and_probe():
    with MI.Seeded(0):
        model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 4))
    mv = view(model, "mlp", seed=5)
    assert mv.probe_error == ""
    assert [(p.name, p.role) for p in mv.params][:2] == [("layers.0.weight", "weight"), ("layers.0.bias", "bias")]
    assert [(n.name, n.activation) for n in mv.nodes] == [("layers.0", "relu"), ("layers.2", "tanh"),
                                                          ("layers.4", None)]
    # δ at the output is the probe loss's r exactly (L = Σ y·r, r ~ N(0, 1) from the seed)
    r = np.random.default_rng(5).standard_normal((32, 4))
    np.testing.assert_allclose(mv.probe.signals[-1].delta, r, rtol=1e-6, atol=1e-6)
    assert all(type(m).__name__ in ("Linear", "ReLU", "Tanh") for m in model.layers)  # classes restored
    assert all(s.input_varies for s in mv.probe.signals)


def test_probe_measures_node_inputs_as_torch_does():
    """The MLX probe records each node's input moments (trial item 5: MLX compared output moments over the
    hidden layers, torch input moments from the data to the last layer's input).  Known values on one
    Linear layer: E[x^2] is the probe input's, E[g^2] the mean square of g = r·W (L = Σ y·r); a token-id
    input (an Embedding) records none.  The same weights and input in torch give the same signal trend."""
    with MI.Seeded(0):
        lin = nn.Linear(16, 4)
        emb = nn.Sequential(nn.Embedding(50, 8), nn.Linear(8, 4))
    x = mx.array(np.random.default_rng(1).standard_normal((32, 16)).astype(np.float32))
    mv = view(lin, "one", example_input=x, seed=5)
    (sig,) = mv.probe.signals
    r = np.random.default_rng(5).standard_normal((32, 4))
    g = r @ np.array(lin.weight)
    assert sig.input_moment == pytest.approx(float(np.mean(np.square(np.array(x, dtype=np.float64)))), rel=1e-6)
    assert sig.input_grad_moment == pytest.approx(float(np.mean(g * g)), rel=1e-5)
    assert (sig.input_width, sig.input_rows) == (16, 32)
    sigs = view(emb, "emb", seed=5).probe.signals
    assert sigs[0].input_moment is None and sigs[1].input_moment is not None

    torch = pytest.importorskip("torch")
    from invariants.modelcheck import check_model

    with MI.Seeded(2):
        m = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
    t = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                            torch.nn.Linear(64, 4))
    with torch.no_grad():
        for tl, ml in zip(t[::2], m.layers[::2]):
            tl.weight.copy_(torch.from_numpy(np.array(ml.weight)))
            tl.bias.copy_(torch.from_numpy(np.array(ml.bias)))
    xs = np.random.default_rng(3).standard_normal((32, 16)).astype(np.float32)
    sm = check_model((m, mx.array(xs))).signal
    st = check_model((t, torch.from_numpy(xs))).signal
    np.testing.assert_allclose(sm["input_forward"], st["input_forward"], rtol=1e-4)


def test_model_view_conv_semantics():
    with MI.Seeded(1):
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=8),
                              nn.ConvTranspose2d(8, 4, 3), nn.RNN(4, 6))
    mv = view(model, "cnn")
    assert [n.layer.describe() for n in mv.nodes] == ["conv2d(3,8,k=3)", "depthwise_conv2d(8,k=3,m=1)",
                                                       "conv_transpose2d(8,4,k=3)"]
    rec = [p for p in mv.params if p.role == "recurrent"]
    assert [p.layer.describe() for p in rec] == ["dense(4,6)", "dense(6,6)"]
    assert [s.z.shape[1] for s in mv.probe.signals] == [8, 8, 4]


def test_check_model_reaches_mlx_models():
    """End to end through the model check: a healthy MLP passes, a zeroed layer is an error, and the
    conv / conv-transpose unit rows come from MLX's layout (a dead output channel is found)."""
    from invariants.modelcheck import check_model

    with MI.Seeded(0):
        healthy = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        zeroed = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        cnn = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.ConvTranspose2d(16, 8, 3))
    zeroed.layers[0].weight = mx.zeros((128, 64))
    report = check_model(healthy, name="mlp")
    assert report.framework == "mlx" and report.kinds("error") == set(), report.render()
    assert "constant-tensor" in check_model(zeroed).kinds("error")
    w = np.array(cnn.layers[2].weight)
    w[3] = 0.0  # MLX (C_out, *k, C_in): output channel 3 of the transposed conv gets no input
    cnn.layers[2].weight = mx.array(w)
    rows = [n for n in view(cnn, "cnn").nodes if n.name == "layers.2"][0].incoming()
    assert rows.shape == (8, 9 * 16) and not rows[3].any() and rows[[0, 1, 2, 4]].all(axis=1).all()
