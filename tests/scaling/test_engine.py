"""scale_check on the same MLP in SP and μP (invariants.scaling.examples): the verdicts theory predicts for every
role, a planted fault caught with its slope, a fixed-std init named as such, and a correct model not flagged.

Each report is computed once per module (widths 64..512, steps 0 and 1); α is 1e-6 per fit, so no test flakes.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from invariants.core.cost import Limits, ResourceLimit  # noqa: E402
from invariants.core.errors import UsageError  # noqa: E402
from invariants.frameworks.errors import BadModel  # noqa: E402
from invariants.scaling import GROWING, THETA1, UNDECIDED, VANISHING, scale_check  # noqa: E402
from invariants.scaling import examples as E  # noqa: E402
from invariants.testing import assert_scales  # noqa: E402

WIDTHS = [64, 128, 256, 512]


@pytest.fixture(scope="module")
def sp_adam():
    return scale_check(E.mlp_sp, WIDTHS, steps=[0, 1], seeds=24, optimizer="adam", expect="sp")


@pytest.fixture(scope="module")
def mup_adam():
    return scale_check(E.mlp_mup, WIDTHS, steps=[0, 1], seeds=24, optimizer="adam", expect="mup")


def rows(report, kind, step):
    return {r.name: r for r in report.rows if r.kind == kind and r.step == step}


def test_sp_and_mup_get_the_verdicts_theory_predicts_for_every_role(sp_adam, mup_adam):
    for report in (sp_adam, mup_adam):
        checked = [r for r in report.rows if r.expectation.checked]
        assert len(checked) >= 18 and report.config["alpha"] <= 1e-6
        assert all(r.matches for r in checked), [(r.label, r.fit.interval_text(), r.fit.verdict) for r in checked
                                                 if not r.matches]
        assert report.status == "ok" and report.exit_code == 0 and not report.errors
    # SP with Adam: the updates of the hidden and output layers grow like width² (second moment), the input
    # layer's is Θ(1), the logits' change grows; μP: all Θ(1)
    sp, mup = rows(sp_adam, "update", 1), rows(mup_adam, "update", 1)
    assert sp["0"].fit.verdict == THETA1
    for name in ("2", "4", "6"):
        assert sp[name].fit.verdict == GROWING and abs(sp[name].fit.slope - 2.0) < 0.4, sp[name].fit
        assert mup[name].fit.verdict == THETA1
    assert rows(sp_adam, "output-change", 1)["output"].fit.verdict == GROWING
    # at initialization μP's logits vanish like 1/width (slope -1), SP's are Θ(1)
    assert rows(mup_adam, "output", 0)["output"].fit.verdict == VANISHING
    assert abs(rows(mup_adam, "gain", 0)["6"].fit.slope + 1.0) < 0.2
    assert rows(sp_adam, "output", 0)["output"].fit.verdict == THETA1
    notes = [f for f in sp_adam.findings if f.kind == "as-theory"]
    assert notes and "2 update step 1 growing" in notes[0].message


def test_sp_under_sgd_has_the_tensor_programs_slopes():
    report = scale_check(E.mlp_sp, WIDTHS, steps=[1], seeds=16, optimizer="sgd", expect="sp")
    up = rows(report, "update", 1)
    assert up["0"].fit.verdict == VANISHING and abs(up["0"].fit.slope + 1) < 0.3    # input layer: 1/width
    assert up["2"].fit.verdict == GROWING and abs(up["2"].fit.slope - 1) < 0.4     # hidden: width
    assert up["6"].fit.verdict == GROWING and abs(up["6"].fit.slope - 2) < 0.6     # output: width²
    assert not report.errors


def test_sp_claimed_as_mup_is_caught_on_its_updates(sp_adam):
    report = scale_check(E.mlp_sp, WIDTHS, steps=[1], seeds=8, optimizer="adam", expect="mup")
    bad = {f.subject for f in report.errors}
    assert {"2 update step 1", "4 update step 1", "6 update step 1"} <= bad and report.exit_code == 1


def test_a_planted_fault_is_caught_with_its_slope():
    report = scale_check(E.mlp_planted, WIDTHS, steps=[0], seeds=8)
    gain = [f for f in report.errors if f.subject == "4 gain step 0"]
    assert len(gain) == 1 and abs(gain[0].figures["slope"] - 3.0) < 0.2          # Var(W)·fan_in ∝ width³
    assert "scaled by about width^+1.5 instead of width^-0.5" in gain[0].message
    # downstream rows name it as the cause; the layers before it are clean
    assert all("inherited from layer 4" in f.message for f in report.errors if f.subject != "4 gain step 0")
    assert {f.subject.split()[0] for f in report.errors} == {"4", "5", "6", "output"}
    assert report.exit_code == 1


def test_a_fixed_std_init_is_named_with_its_sqrt_width_growth():
    report = scale_check(E.mlp_std002, WIDTHS[:3], steps=[0], seeds=8)
    gain = [f for f in report.errors if f.subject == "2 gain step 0"][0]
    assert abs(gain.figures["slope"] - 1.0) < 0.35 and abs(gain.figures["rms_slope"] - 0.5) < 0.2
    assert "normal(std=0.02)" in gain.message and "√width in RMS" in gain.message


def test_a_correct_model_is_not_flagged_on_a_few_seeds():
    for seeds in (3, 6):
        report = scale_check(E.mlp_sp, WIDTHS[:3], steps=[0], seeds=seeds)
        assert not report.errors, report.findings
        assert report.status in ("ok", "incomplete")
    few = scale_check(E.mlp_sp, WIDTHS[:3], steps=[0], seeds=3)
    assert few.status == "incomplete" and any(r.fit.verdict == UNDECIDED for r in few.rows)
    assert any(f.kind == "undecided" and "seeds at these sizes would decide" in f.message for f in few.findings)


def test_assert_scales_passes_a_good_family_and_fails_a_bad_one():
    assert_scales(E.mlp_sp, WIDTHS, seeds=16, expect="sp")
    with pytest.raises(AssertionError, match="normal\\(std=0.02\\)"):
        assert_scales(E.mlp_std002, WIDTHS[:3], seeds=6)
    with pytest.raises(AssertionError, match="incomplete"):
        assert_scales(E.mlp_sp, WIDTHS[:3], seeds=2)


def failing_at_256(width):
    if width >= 256:
        raise RuntimeError("out of memory (simulated)")
    return E.mlp_sp(width)


def test_coverage_says_what_was_not_checked():
    report = scale_check(failing_at_256, WIDTHS, steps=[0, 1], seeds=4)
    assert set(report.coverage.failed) == {256, 512}
    assert "failing_at_256(256) raised RuntimeError: out of memory (simulated)" in report.coverage.failed[256]
    assert report.coverage.sizes == [64, 128] and report.status != "ok"
    assert "act" in report.coverage.kinds and "update" in report.coverage.kinds


def test_bad_requests_are_refused_before_work():
    with pytest.raises(UsageError, match="2 distinct"):
        scale_check(E.mlp_sp, [64, 64])
    with pytest.raises(UsageError, match="at least 2 seeds"):
        scale_check(E.mlp_sp, WIDTHS, seeds=1)
    with pytest.raises(UsageError, match="optimizer"):
        scale_check(E.mlp_sp, WIDTHS, optimizer="lbfgs")
    with pytest.raises(ResourceLimit, match=r"limits=Limits\(max_bytes="):  # the API's words; the CLI's: tests/cli
        scale_check(E.mlp_sp, [64, 100_000], limits=Limits(max_bytes=2**20))
    with pytest.raises(BadModel, match="torch.nn.Module"):
        scale_check(lambda w: "not a model", WIDTHS)
    with pytest.raises(UsageError, match="integers >= 1"):
        scale_check(E.mlp_sp, [0, 64])
    with pytest.raises(BadModel, match=r"failing_at_256\(256\) raised RuntimeError: out of memory"):
        scale_check(failing_at_256, [256, 512])


class TinyGPT(torch.nn.Module):
    """Embedding, one transformer block (MultiheadAttention uses its weights functionally), LayerNorm, head."""

    def __init__(self, width):
        super().__init__()
        self.emb = torch.nn.Embedding(50, width)
        self.block = torch.nn.TransformerEncoderLayer(width, 2, 2 * width, dropout=0.0, batch_first=True)
        self.head = torch.nn.Linear(width, 50)

    def forward(self, ids):
        return self.head(self.block(self.emb(ids)))


def test_a_transformer_runs_and_its_unmeasured_parts_are_listed():
    report = scale_check(TinyGPT, [16, 32], steps=[0, 1], seeds=2)
    missing = report.coverage.not_measured
    assert "in_proj_weight" in missing["block.self_attn"]
    assert "never called as a module" in missing["block.self_attn.out_proj"]
    kinds = {(r.name, r.kind) for r in report.rows}
    assert {("emb", "preact"), ("emb", "update"), ("block.norm1", "norm"), ("head", "gain")} <= kinds
