"""Depth mode (invariants.scaling.depth): the measured change of the output along depth against the mean-field
prediction (propagation.variance_curve) — ReLU with LeCun init halves per layer, He init is flat — and of the
gradient at the first layer against the backward prediction (propagation.gradient_curve): χ1 = 1/2 under LeCun
ReLU, 1 at He and at tanh's critical point, 1.34 in tanh's chaotic phase (exploding while the forward is flat);
a backward pass that damps the gradient is flagged."""
from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

from invariants.core.errors import UsageError  # noqa: E402
from invariants.scaling import GROWING, THETA1, VANISHING, scale_check  # noqa: E402
from invariants.scaling import examples as E  # noqa: E402
from invariants.frameworks.torch.scaling import mean_field_inputs  # noqa: E402
from invariants.scaling.depth import compare, compare_gradient, depth_scale, predicted_slope  # noqa: E402
from invariants.scaling.fit import SlopeFit  # noqa: E402

DEPTHS = [2, 4, 8, 12]


def test_lecun_relu_vanishes_at_the_mean_field_rate_and_he_does_not():
    lecun = scale_check(E.mlp_depth_lecun, DEPTHS, mode="depth", width=128, seeds=8)
    out = [r for r in lecun.rows if r.kind == "output"][0]
    assert out.fit.verdict == VANISHING and abs(out.fit.slope + 1.0) < 0.2      # halves per layer
    d = lecun.depth_scale
    assert d["agrees"] is True and abs(d["predicted_slope"] + 1.0) < 0.05
    assert abs(d["predicted_depth_scale"] - 1 / math.log(2)) < 0.1
    g = d["gradient"]  # backward: χ1 = σ_w²/2 = 1/2, the gradient halves per layer as well
    grad = [r for r in lecun.rows if r.kind == "grad"][0]
    assert grad.fit.verdict == VANISHING and g["agrees"] is True and abs(g["predicted_slope"] + 1.0) < 0.05
    assert abs(g["predicted_chi"] - 0.5) < 0.03 and "predicts gradients that vanish" in g["text"]
    assert sorted(f.kind for f in lecun.errors) == ["scaling", "scaling"] and lecun.exit_code == 1
    assert {f.kind for f in lecun.findings if f.severity == "note"} == {"depth-scale", "gradient-depth-scale"}
    assert lecun.config["n_fits"] == 2  # the gradient row enters the Bonferroni count
    he = scale_check(E.mlp_depth_he, DEPTHS, mode="depth", width=128, seeds=8)
    assert not he.errors and he.depth_scale["agrees"] is True and abs(he.depth_scale["predicted_slope"]) < 0.05
    assert he.depth_scale["gradient"]["agrees"] is True and abs(he.depth_scale["gradient"]["predicted_slope"]) < 0.05
    assert [r.kind for r in he.rows] == ["grad", "output"]


def test_tanh_gradients_explode_in_the_chaotic_phase_as_predicted_and_stay_flat_at_criticality():
    chaotic = scale_check(E.mlp_depth_tanh_chaotic, DEPTHS, mode="depth", width=128, seeds=8)
    rows = {r.kind: r for r in chaotic.rows}
    assert rows["output"].fit.verdict == THETA1 and rows["grad"].fit.verdict == GROWING  # forward hides it
    g = chaotic.depth_scale["gradient"]
    assert g["agrees"] is True and abs(g["predicted_slope"] - 0.42) < 0.03 and "explode" in g["text"]
    assert [f.subject for f in chaotic.errors] == ["first layer's pre-activation gradient step 0"]  # not "0 grad"
    critical = scale_check(E.mlp_depth_tanh_critical, DEPTHS, mode="depth", width=128, seeds=8)
    assert not critical.errors and critical.depth_scale["gradient"]["agrees"] is True
    assert abs(critical.depth_scale["gradient"]["predicted_slope"]) < 0.02


class Damp(torch.nn.Module):
    """Known-bad backward: the value passes unchanged, the gradient is halved (a half-detached residual)."""

    def forward(self, x):
        return 0.5 * x + 0.5 * x.detach()


def damped_he(width, depth):
    layers = []
    for m in E.mlp_depth_he(width, depth):
        layers += [m, Damp()] if isinstance(m, torch.nn.ReLU) else [m]
    return torch.nn.Sequential(*layers)


def test_a_gradient_that_decays_faster_than_the_mean_field_predicts_is_flagged():
    r = scale_check(damped_he, DEPTHS, mode="depth", width=64, seeds=8)
    bad = [f for f in r.errors if f.kind == "gradient-depth-scale"]
    assert len(bad) == 1 and "DISAGREES: the gradient shrinks faster" in bad[0].message
    assert "backward pass does not do what the forward one predicts" in bad[0].message
    assert r.depth_scale["agrees"] is True  # the forward pass is He's: no forward finding
    assert abs(r.depth_scale["gradient"]["measured_slope"] + 2.0) < 0.3  # χ1 = 1/4: two halvings per block


def test_a_measurement_far_from_the_mean_field_disagrees():
    inputs = {d: mean_field_inputs(E.mlp_depth_lecun(64, d)) for d in DEPTHS}
    pred = predicted_slope(inputs, 1.0)
    assert abs(pred + 1.0) < 0.05

    class Row:  # a fitted output that stays flat: known-bad against a halving prediction
        fit = SlopeFit(0.0, -0.1, 0.1, 0.05, 8, 1e-6, THETA1)

    assert compare(Row(), pred, inputs, 1.0)["agrees"] is False
    Row.fit = SlopeFit(-1.0, -1.1, -0.9, 0.05, 8, 1e-6, VANISHING)  # known-good
    assert compare(Row(), pred, inputs, 1.0)["agrees"] is True
    grad = predicted_slope(inputs, 1.0, backward=True)
    assert abs(grad + 1.0) < 0.05
    Row.name = "0"
    assert compare_gradient(Row(), grad, inputs, 1.0)["agrees"] is True  # known-good: halves as predicted
    Row.fit = SlopeFit(-2.0, -2.1, -1.9, 0.05, 8, 1e-6, VANISHING)  # known-bad: faster than predicted
    out = compare_gradient(Row(), grad, inputs, 1.0)
    assert out["agrees"] is False and "shrinks faster" in out["text"]
    assert compare_gradient(None, None, inputs, 1.0)["agrees"] is None
    assert depth_scale(0.0) == math.inf
    assert mean_field_inputs(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Tanh())) is None


def test_depth_mode_refuses_a_width_parametrization():
    with pytest.raises(UsageError, match="depth mode"):
        scale_check(E.mlp_depth_he, DEPTHS, mode="depth", width=64, expect="mup")


def test_depth_study_stores_json_with_both_comparisons():
    from invariants.scaling.study import DEPTH_FAMILIES, run_depth

    data = run_depth(depths=(1, 3), width=16, seeds=3, families=DEPTH_FAMILIES[1:2])
    fam = data["families"]["relu_lecun"]
    assert fam["target"] == "invariants.scaling.examples:mlp_depth_lecun" and "seconds" not in fam["result"]
    ds = fam["result"]["depth_scale"]
    assert ds["depths"] == [1, 3] and len(ds["gradient"]["predicted_log2"]) == 2
    # the texts the docs quote from docs/data/scale_families.json say what depth mode fits (its stored copy from
    # before this said "against size" and "per log2 size")
    assert fam["result"]["config"]["slope_units"] == "log2 second moment per layer (RMS slope = half)"
    said = [f["message"] for f in fam["result"]["findings"] if "second-moment slope" in f["message"]]
    assert said and all("against depth" in m and "against size" not in m for m in said)
    json.dumps(data, allow_nan=False)


def test_gradient_moments_is_the_linear_loss_gradient_at_the_first_pre_activation():
    from invariants.frameworks.torch.gradients import gradient_moments

    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    b = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(inplace=True), torch.nn.Linear(32, 8))
    b.load_state_dict(a.state_dict())
    x = torch.randn(4, 16)
    z1 = a[0](x)  # by hand: the same r as torchrun.record's loss, ∂L/∂z1 = (W2ᵀ r/B) ⊙ φ'(z1)
    r = torch.randn((4, 8), generator=torch.Generator().manual_seed(7))
    want = float(((r / 4) @ a[2].weight * (z1 > 0)).detach().double().pow(2).mean())
    state = torch.get_rng_state()
    got = gradient_moments(a, x, 7)
    assert got == {("0", "grad", 0): pytest.approx(want, rel=1e-5)}
    assert gradient_moments(b, x, 7) == got  # an in-place activation does not change it
    assert all(p.grad is None for p in a.parameters()) and torch.equal(torch.get_rng_state(), state)


def test_the_grad_row_says_what_it_measures_in_the_table_and_json():
    """The ``grad`` row's layer column (and JSON ``quantity``) names the first layer's pre-activation gradient; its
    position, from fans that do not change with depth, stays ``fixed`` in the JSON (its meaning unchanged) but no
    longer stands for it in the table.  Known-good: the output row has no quantity and an empty layer column."""
    from invariants.render.scale import render_scale_table
    from invariants.scaling.depth import GRAD_QUANTITY

    report = scale_check(E.mlp_depth_he, [2, 4], mode="depth", width=16, seeds=4, steps=[0], batch=8)
    grad = next(r for r in report.rows if r.kind == "grad")
    out = next(r for r in report.rows if r.kind == "output")
    assert grad.quantity == GRAD_QUANTITY and grad.to_dict()["quantity"] == GRAD_QUANTITY
    assert out.quantity is None and out.to_dict()["quantity"] is None
    lines = render_scale_table(report.rows, 200).splitlines()
    line = next(x for x in lines if " grad " in x)
    assert GRAD_QUANTITY in line and "fixed" not in line


def test_depth_mode_states_its_slopes_per_layer_in_the_table_findings_and_json():
    """Depth mode fits against depth: the table's slope column, the findings and the JSON config say log2 per layer
    and "against depth", and the config's rows name the gradient row too (they said log2 per log2 size, "against
    size" and "the model output only").  Known-good: width mode keeps its units."""
    from invariants.render.scale import render_scale_table

    report = scale_check(E.mlp_depth_he, [2, 4], mode="depth", width=16, seeds=4, steps=[0], batch=8)
    assert "log2/layer" in render_scale_table(report.rows, 200, report.mode).splitlines()[0]
    assert "per layer" in report.config["slope_units"] and "gradient" in report.config["rows"]
    said = [f.message for f in report.findings if "second-moment slope" in f.message]
    assert said and all("against depth" in d for d in said)
    assert "log2/log2" in render_scale_table(report.rows, 200).splitlines()[0]
    narrow = render_scale_table(report.rows, 80, report.mode)  # the step column stays on a narrow terminal
    assert all(len(x) <= 80 for x in narrow.splitlines()) and " step " in narrow.splitlines()[0]
