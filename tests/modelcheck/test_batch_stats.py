"""A probe batch too small for its BatchNorms leaves the signal check undecided, never an accusation.

The probe runs BatchNorm in training mode (torch train mode; Keras ``stateless_call(training=True)``), where each
channel is normalised by the statistics of the values the batch holds for it.  A new-user trial: Keras
``EfficientNetV2B0(weights=None)`` at 32px with 4 inputs (stage 6 is 1x1, 4 values per channel) got an error
"gradient grows 5.4e3x through block6*_expand_conv"; with 32 inputs the same weights are healthy.  Its init is
Keras' own (``keras/src/applications/efficientnet_v2.py``, ``CONV_KERNEL_INITIALIZER`` = ``VarianceScaling(2.0,
"fan_out", "truncated_normal")``); the batch, not the init, made the growth (:mod:`invariants.modelcheck.batchstats`).

Twin nets below: a 32px input halved five times to a 1x1 stage of 8 blocks ``conv1 -> BN -> ReLU -> conv2 -> BN
-> ReLU -> gate -> ReLU``, every kernel He-normal (``torch.nn.init.kaiming_normal_(nonlinearity="relu")``,
``keras.initializers.HeNormal``: ``Var = 2/fan_in``, the ReLU-preserving init).  Known-good: 32 inputs stay
decided (no error).  Too small: 4 inputs (4 values per channel across 16 BatchNorms, ``m_min = 10``) was an
error, now a note and an incomplete report whose coverage says "not decided"; 2 inputs (the BatchNorms pass no
gradient at all) likewise.  Known-bad: the gate kernels at 10x std with 32 inputs stay an error.

Keras' ``GroupNormalization`` (per sample, :mod:`invariants.frameworks.keras.batchstats`) at 1 value per group is
likewise not decided (``test_group_stats.py`` has the torch GroupNorm/InstanceNorm cases).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from invariants.modelcheck import check_model
from invariants.modelcheck.batchstats import NO_GRADIENT, m_min
from invariants.render import render_model
from tests.zoo._compat import available

torch = pytest.importorskip("torch")
nn = torch.nn


def test_m_min_bounds_the_compounded_bias_by_the_note_ratio():
    for crossed in (1, 5, 16, 18, 50):
        m = m_min(crossed, 10.0)
        # smallest m whose (m-2)/(m-3) per normalisation compounds to at most 10x over `crossed` of them
        assert crossed * math.log((m - 2) / (m - 3)) <= math.log(10.0)
        assert m - 1 <= 3 or crossed * math.log((m - 3) / (m - 4)) > math.log(10.0)
    assert (m_min(16, 10.0), m_min(18, 10.0)) == (10, 11)
    with pytest.raises(ValueError):
        m_min(0, 10.0)


class _Block(nn.Module):
    def __init__(self, c: int, gain: float):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)
        self.gate = nn.Conv2d(c, c, 1)
        for m in (self.conv1, self.conv2, self.gate):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        with torch.no_grad():
            self.gate.weight.mul_(gain)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = torch.relu(self.bn2(self.conv2(h)))
        return torch.relu(self.gate(h))


def _torch_net(batch: int, gain: float = 1.0, c: int = 64):
    torch.manual_seed(0)
    stem = [nn.Conv2d(3, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
    for _ in range(4):  # 32 -> 16 -> 8 -> 4 -> 2 -> 1
        stem += [nn.Conv2d(c, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
    for m in stem:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    model = nn.Sequential(nn.Sequential(*stem), nn.Sequential(*[_Block(c, gain) for _ in range(8)]), nn.Flatten(),
                          nn.Linear(c, 10))
    return model, torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def _backward(report):
    return [f for f in report.findings if f.kind == "signal-backward"]


def test_torch_probe_records_values_per_channel_of_train_mode_batch_norms_only():
    from invariants.frameworks.torch.model import view

    model, x = _torch_net(4)
    stats = view(model, "twin", x).probe.batch_stats
    assert [(b.name, b.values) for b in stats[:2]] == [("0.1", 4 * 16 * 16), ("0.4", 4 * 8 * 8)]
    assert {b.values for b in stats[5:]} == {4} and len(stats) == 5 + 16
    assert stats[5].name == "1.0.bn1" and stats[5].after == "1.0.conv1"
    model.eval()  # running statistics: nothing normalises by the batch
    assert view(model, "twin", x).probe.batch_stats == []


def test_torch_known_good_with_enough_values_stays_decided():
    report = check_model(_torch_net(32), name="twin_b32")
    assert report.status == "healthy" and not report.errors, render_model(report)
    assert report.coverage.signal is None
    assert not any(f.figures.get("not_decided") for f in report.findings)


@pytest.mark.parametrize("batch, direction", [(4, "growth"), (2, "decay")])
def test_torch_small_batch_is_not_decided_not_an_error(batch, direction):
    report = check_model(_torch_net(batch), name=f"twin_b{batch}")
    assert not report.errors and report.status == "incomplete", render_model(report)
    (note,) = [f for f in _backward(report) if f.figures.get("not_decided")]
    assert note.severity == "note" and f"{direction} towards the input" in note.message
    assert f"({batch} values per channel: {batch} inputs x 1 position" in note.message
    # 1.0.conv2 -> 1.7.conv2 (or gate): the 14 BatchNorms from block 0's bn2 to block 7's bn1 (or bn2)
    assert note.figures["crossed"] in (14, 15)
    assert note.figures["m_min"] == (m_min(note.figures["crossed"], 10.0) if direction == "growth" else NO_GRADIENT + 1)
    assert "rerun with at least" in note.message
    assert report.coverage.signal.startswith("not decided: the probe batch is too small for BatchNorm 1.")
    assert "signal propagation: not decided (" in render_model(report).splitlines()[-1]


def test_torch_known_bad_init_stays_an_error_with_a_big_batch():
    report = check_model(_torch_net(32, gain=10.0), name="twin_gate10x")
    (err,) = [f for f in _backward(report) if f.severity == "error"]
    assert "growth towards the input" in err.message and not err.figures.get("not_decided")
    assert report.status == "unhealthy"


def _bn_chain(batch: int, layers: int = 18, c: int = 32):
    """``layers`` x (1x1 conv -> BatchNorm -> ReLU) on a 1x1 input, torch's default conv init: every layer feeds a
    BatchNorm, so no weight scale can move the trend (the signal module's normalized stretch: a note, never an
    error) and the batch's bias changes nothing the check would say."""
    torch.manual_seed(0)
    body = [m for _ in range(layers) for m in (nn.Conv2d(c, c, 1), nn.BatchNorm2d(c), nn.ReLU())]
    model = nn.Sequential(nn.Conv2d(3, c, 1), *body, nn.Flatten(), nn.Linear(c, 10))
    return model, torch.randn(batch, 3, 1, 1)  # drawn after the seeded init: at 2 inputs a measured decay


def test_normalized_stretch_stays_a_note_with_few_values():
    """4 values per channel over 17 BatchNorms (m_min 11) but every layer normalized: the growth is a note with
    or without the batch's bias, so the report stays healthy and decided (a review found it turned incomplete)."""
    report = check_model(_bn_chain(4), name="bn_chain_b4")
    (note,) = _backward(report)
    assert note.severity == "note" and note.figures.get("normalized") and not note.figures.get("not_decided")
    assert report.status == "healthy" and report.coverage.signal is None, render_model(report)


def test_two_values_per_channel_decide_neither_direction():
    """A BatchNorm of 2 values per channel passes no gradient: every signal finding is an undecided note, without
    the default-init sentence (the decay is the batch's), and the report is incomplete; 64 inputs decide."""
    report = check_model(_bn_chain(2), name="bn_chain_b2")
    assert not report.errors and report.status == "incomplete", render_model(report)
    assert report.coverage.signal.startswith("not decided: the probe batch is too small for BatchNorm 2 (2 values")
    assert _backward(report) and all(f.figures.get("not_decided") and "claim" not in f.figures
                                     for f in _backward(report))
    assert check_model(_bn_chain(64), name="bn_chain_b64").status == "healthy"


def test_seed_beyond_torch_range_is_reduced_not_a_crash():
    """check-model takes any integer seed: the probe's global RNGs get it mod 2**63 (torch's range), as the torch
    probe always reduced it (a review found 2**64 crashed with an overflow)."""
    model, x = _bn_chain(8, layers=2)
    big = check_model(model, example_input=x, seed=2**64 + 5, name="chain")
    same = check_model(model, example_input=x, seed=2**64 + 5, name="chain")
    assert [f.message for f in big.findings] == [f.message for f in same.findings]
    assert big.signal == same.signal


# ------------------------------------------------------------------------------------------ keras


@pytest.fixture(scope="module")
def keras():
    if not available("keras") or not available("jax"):
        pytest.skip("needs keras and jax")
    import keras as k  # the JAX backend (available() sets it unless KERAS_BACKEND says otherwise)

    if k.backend.backend() != "jax":
        pytest.skip(f"the keras probe needs the jax backend, not {k.backend.backend()}")
    return k


def _keras_net(keras, batch: int, gain: float = 1.0, c: int = 64):
    L = keras.layers
    keras.utils.set_random_seed(0)
    he = keras.initializers.HeNormal
    inp = keras.Input((32, 32, 3))
    h = inp
    for i in range(5):  # 32 -> 1
        h = L.ReLU()(L.BatchNormalization(name=f"stem{i}_bn")(
            L.Conv2D(c, 3, strides=2, padding="same", kernel_initializer=he(), name=f"stem{i}_conv")(h)))
    for b in range(8):
        for j in ("first", "second"):  # not conv1/conv2: Keras' flat names keep no digit of a position in a block
            h = L.ReLU()(L.BatchNormalization(name=f"block{b}_{j}_bn")(
                L.Conv2D(c, 1, use_bias=False, kernel_initializer=he(), name=f"block{b}_{j}")(h)))
        gate = L.Conv2D(c, 1, activation="relu", kernel_initializer=he(), name=f"block{b}_gate")
        h = gate(h)
        gate.kernel.assign(gate.kernel * gain)
    out = L.Dense(10, name="head")(L.Flatten()(h))
    x = np.random.default_rng(1).standard_normal((batch, 32, 32, 3)).astype("float32")
    return keras.Model(inp, out), x


def test_keras_probe_records_values_per_channel_of_training_batch_norms(keras):
    from invariants.frameworks.keras.model import view

    model, x = _keras_net(keras, 4)
    stats = view(model, "twin", x).probe.batch_stats
    assert [(b.name, b.values) for b in stats[:2]] == [("stem0_bn", 4 * 16 * 16), ("stem1_bn", 4 * 8 * 8)]
    assert {b.values for b in stats[5:]} == {4} and len(stats) == 5 + 16
    assert stats[5].name == "block0_first_bn" and stats[5].after == "block0_first"


def test_keras_small_batch_is_not_decided_and_big_batch_decides(keras):
    small = check_model(_keras_net(keras, 4), name="k_twin_b4")
    assert not small.errors and small.status == "incomplete", render_model(small)
    assert small.coverage.signal.startswith("not decided: the probe batch is too small for BatchNorm block")
    big = check_model(_keras_net(keras, 32), name="k_twin_b32")
    assert not big.errors and big.coverage.signal is None, render_model(big)
    bad = check_model(_keras_net(keras, 32, gain=10.0), name="k_twin_gate10x")
    assert any(f.kind == "signal-backward" and f.severity == "error" for f in bad.errors), render_model(bad)


def _keras_groups(keras, side: int, gain: float = 1.0, c: int = 32):
    """``Conv1x1 -> GroupNormalization(groups=-1) -> ReLU`` twice (Keras' init: ``Conv2D``'s ``glorot_uniform``,
    ``GroupNormalization``'s ones/zeros), then 12 He-normal ``Conv1x1 -> ReLU`` at ``gain`` x std."""
    L = keras.layers
    keras.utils.set_random_seed(0)
    inp = keras.Input((side, side, 3))
    h = inp
    for i in range(2):
        h = L.ReLU()(L.GroupNormalization(groups=-1, name=f"gn{i}")(L.Conv2D(c, 1, name=f"conv{i}")(h)))
    for i in range(12):
        init = keras.initializers.VarianceScaling(2.0 * gain ** 2, "fan_in", "truncated_normal")
        h = L.Conv2D(c, 1, activation="relu", kernel_initializer=init, name=f"tail{i}")(h)
    out = L.Dense(10, name="head")(L.Flatten()(h))
    x = np.random.default_rng(1).standard_normal((8, side, side, 3)).astype("float32")
    return keras.Model(inp, out), x


def test_keras_group_normalization_of_one_value_is_not_decided_and_enough_values_decide(keras):
    from invariants.frameworks.keras.model import view

    model, x = _keras_groups(keras, 4)
    stats = view(model, "k_gn", x).probe.batch_stats
    assert [(b.name, b.values, b.kind, b.channels, b.layer, b.after) for b in stats] == [
        ("gn0", 16, "group", 1, "GroupNormalization", "conv0"), ("gn1", 16, "group", 1, "GroupNormalization", "conv1")]
    # main: an error "the model output is the same for all 8 probe inputs: the signal is cut at init"
    small = check_model(_keras_groups(keras, 1), name="k_gn_1x1")
    assert not small.errors and small.status == "incomplete", render_model(small)
    assert small.coverage.signal.startswith(
        "not decided: the probe input is too small for GroupNormalization gn0 (1 value per group")
    good = check_model(_keras_groups(keras, 4), name="k_gn_4x4")
    assert good.status == "healthy" and good.coverage.signal is None, render_model(good)
    bad = check_model(_keras_groups(keras, 4, gain=3.0), name="k_gn_tail3x")
    assert any(f.kind.startswith("signal-") for f in bad.errors) and bad.coverage.signal is None, render_model(bad)
