"""Depth mode (invariants.scaling.depth): the measured change of the output along depth against the mean-field
prediction (propagation.variance_curve) — ReLU with LeCun init halves per layer, He init is flat."""
from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from invariants.core.errors import UsageError  # noqa: E402
from invariants.scaling import THETA1, VANISHING, scale_check  # noqa: E402
from invariants.scaling import examples as E  # noqa: E402
from invariants.frameworks.torch.scaling import mean_field_inputs  # noqa: E402
from invariants.scaling.depth import compare, depth_scale, predicted_slope  # noqa: E402
from invariants.scaling.fit import SlopeFit  # noqa: E402

DEPTHS = [2, 4, 8, 12]


def test_lecun_relu_vanishes_at_the_mean_field_rate_and_he_does_not():
    lecun = scale_check(E.mlp_depth_lecun, DEPTHS, mode="depth", width=128, seeds=8)
    out = [r for r in lecun.rows if r.kind == "output"][0]
    assert out.fit.verdict == VANISHING and abs(out.fit.slope + 1.0) < 0.2      # halves per layer
    d = lecun.depth_scale
    assert d["agrees"] is True and abs(d["predicted_slope"] + 1.0) < 0.05
    assert abs(d["predicted_depth_scale"] - 1 / math.log(2)) < 0.1
    assert [f.kind for f in lecun.errors] == ["scaling"] and lecun.exit_code == 1
    he = scale_check(E.mlp_depth_he, DEPTHS, mode="depth", width=128, seeds=8)
    assert not he.errors and he.depth_scale["agrees"] is True and abs(he.depth_scale["predicted_slope"]) < 0.05
    assert [r.kind for r in he.rows] == ["output"]


def test_a_measurement_far_from_the_mean_field_disagrees():
    inputs = {d: mean_field_inputs(E.mlp_depth_lecun(64, d)) for d in DEPTHS}
    pred = predicted_slope(inputs, 1.0)
    assert abs(pred + 1.0) < 0.05

    class Row:  # a fitted output that stays flat: known-bad against a halving prediction
        fit = SlopeFit(0.0, -0.1, 0.1, 0.05, 8, 1e-6, THETA1)

    assert compare(Row(), pred, inputs, 1.0)["agrees"] is False
    Row.fit = SlopeFit(-1.0, -1.1, -0.9, 0.05, 8, 1e-6, VANISHING)  # known-good
    assert compare(Row(), pred, inputs, 1.0)["agrees"] is True
    assert depth_scale(0.0) == math.inf
    assert mean_field_inputs(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Tanh())) is None


def test_depth_mode_refuses_a_width_parametrization():
    with pytest.raises(UsageError, match="depth mode"):
        scale_check(E.mlp_depth_he, DEPTHS, mode="depth", width=64, expect="mup")
