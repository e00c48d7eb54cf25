"""Coverage, the incomplete verdict and exit codes, layer recognition (transformers ``Conv1D``, Keras
``EinsumDense``, tied parameters), non-finite weights, and probe inputs inferred from a model's config
(issue 13, items 4, 5, 7).  Each rule: a known-bad input it rejects and a known-good one it accepts."""
from __future__ import annotations

import functools
import json
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import coverage_models as C  # noqa: E402

from invariants import cli  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.report import Coverage, Finding, ModelReport, Skipped  # noqa: E402
from invariants.render import render_model, render_model_findings  # noqa: E402


def run_cli(capsys, *argv):
    code = cli.main(["check-model", *argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


# ------------------------------------------------------------------------------------------ status


def test_status_rules_on_hand_built_reports():
    full = Coverage(3, 3, 100, 100)
    assert ModelReport("m", "torch", "fast", coverage=full).status == "healthy"
    low = Coverage(2, 3, 90, 100, [Skipped("pos", 10, "a position table")])
    rep = ModelReport("m", "torch", "fast", coverage=low)
    assert rep.status == "incomplete" and not rep.ok and rep.exit_code == 3
    no_signal = Coverage(3, 3, 100, 100, signal="not checked: the probe pass failed")
    assert ModelReport("m", "torch", "fast", coverage=no_signal).status == "incomplete"
    by_request = Coverage(3, 3, 100, 100, signal="not checked: not run, by request", probe_requested=False)
    assert ModelReport("m", "torch", "fast", coverage=by_request).status == "healthy"
    err = Finding("error", "constant-tensor", ("w",), "zero")
    bad = ModelReport("m", "torch", "fast", findings=[err], coverage=low)
    assert bad.status == "unhealthy" and bad.exit_code == 1  # errors win over coverage
    assert ModelReport("m", "torch", "fast").status == "healthy"  # no coverage measured: errors alone


def test_full_coverage_is_healthy_and_says_so(capsys):
    code, out, _ = run_cli(capsys, "coverage_models:with_tokens", "--input-shape", "8,32")
    assert code == 0
    assert "HEALTHY: 0 errors" in out and "analysed 4 of 5 tensors" in out and "signal propagation: checked" in out
    # the token is listed, with its reason, not silently passed
    assert "NOT ANALYSED: 1 tensors" in out and "cls_token" in out and "a learned token" in out


def test_low_coverage_is_incomplete_exit_3(capsys, tmp_path):
    path = tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "coverage_models:mostly_tokens", "--input-shape", "8,32", "-q", "--json", str(path))
    assert code == 3
    assert "INCOMPLETE: 0 errors" in out and "below 95%" in out and "not analysed: cls_token" in out
    data = json.loads(path.read_text())
    assert data["status"] == "incomplete" and data["exit_code"] == 3 and data["ok"] is False
    assert data["coverage"]["share"] < 0.95 and data["coverage"]["not_analysed"][0]["name"] == "cls_token"
    # the threshold is the user's: at 40% the same model is healthy
    assert run_cli(capsys, "coverage_models:mostly_tokens", "--input-shape", "8,32", "--min-coverage", "0.4")[0] == 0


def test_failed_probe_is_incomplete_never_healthy(capsys):
    report = check_model(C.forward_raises())
    assert report.status == "incomplete" and not report.errors and not report.ok
    assert report.coverage.signal.startswith("not checked: the probe pass failed") and "needs a mask" in \
        report.coverage.signal
    line = render_model_findings(report).splitlines()[-1]
    assert line.startswith("INCOMPLETE") and "signal propagation: not checked (the probe pass failed" in line
    assert run_cli(capsys, "coverage_models:forward_raises", "-q")[0] == 3


@pytest.mark.parametrize("signal", ["not decided: the probe batch is too small for BatchNorm bn (4 values)",
                                    "not checked: the probe pass failed on (2, 3): needs a mask"])
def test_the_verdict_line_gives_the_signal_reason_once(signal):
    """The signal clause of the -q verdict line gives the reason; the incomplete tail names it only (it repeated
    the whole reason).  Another reason (coverage below the threshold) is still given in the tail in full."""
    reason = signal.partition(": ")[2]
    for low, tail in ((False, ""), (True, "analysed 90.0% of the parameter values, below 95%; ")):
        cov = Coverage(3, 3, 90 if low else 100, 100, signal=signal)
        line = render_model_findings(ModelReport("m", "torch", "fast", coverage=cov)).splitlines()[-1]
        assert line.startswith("INCOMPLETE") and line.count(reason) == 1, line
        assert f"signal propagation: {signal.partition(':')[0]} ({reason})" in line
        assert line.endswith(f" -> incomplete: {tail}signal propagation {signal.partition(':')[0]}"), line


def test_errors_win_over_an_incomplete_check(capsys):
    report = check_model(C.forward_raises_zeroed())
    assert report.status == "unhealthy" and report.kinds("error") == {"constant-tensor"}
    assert run_cli(capsys, "coverage_models:forward_raises_zeroed", "-q")[0] == 1


def test_no_probe_by_request_may_be_healthy(capsys):
    code, out, _ = run_cli(capsys, "coverage_models:forward_raises", "--no-probe", "-q")
    assert code == 0 and "HEALTHY" in out and "signal propagation: not checked (not run, by request" in out
    assert "the verdict does not cover it" in out and "[probe]" not in out
    # the request does not hide an error
    assert run_cli(capsys, "coverage_models:forward_raises_zeroed", "--no-probe", "-q")[0] == 1


# ------------------------------------------------------------------------------------------ exit 2: crashes


def test_nan_weight_is_a_named_error_not_a_crash(capsys):
    report = check_model(C.nan_weight(), example_input=np.ones((4, 32), np.float32))
    (f,) = report.find("non-finite")
    assert f.severity == "error" and f.params == ("fc1.weight",)
    assert f.figures["nan"] == 1 and f.figures["inf"] == 1 and f.figures["first_index"] == [0, 0]
    assert report.status == "unhealthy" and report.coverage.total_tensors == 5
    code, out, err = run_cli(capsys, "coverage_models:nan_weight", "-q")
    assert code == 1 and "[non-finite] fc1.weight" in out and not err
    # known-good: the same model with finite weights has no such finding
    assert not check_model(C.with_tokens(0.0)).find("non-finite")


@pytest.mark.parametrize("argv, words", [
    (["coverage_models:odd_object"], "unsupported model object"),
    (["coverage_models:with_tokens", "--framework", "nosuchframework"], "nosuchframework"),
    (["coverage_models:with_tokens", "--framework", "keras"], "keras"),
    (["coverage_models:with_tokens", "--min-coverage", "1.5"], "--min-coverage"),
    (["coverage_models:with_tokens", "--input-shape", "8,32", "--input-shape", "input_ids=4,4"], "--input-shape"),
    (["coverage_models:with_tokens", "--input-shape", "4,x7"], "--input-shape"),  # not (4, 7)
    (["coverage_models:with_tokens", "--input-shape", "4,,7"], "--input-shape"),
])
def test_bad_input_or_crash_exits_2_in_one_line(argv, words, capsys):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and len(err.strip().splitlines()) == 1 and words in err and "Traceback" not in err


def test_an_internal_crash_exits_2_in_one_line(capsys, monkeypatch):
    from invariants.modelcheck import checks

    def boom(view):
        raise ZeroDivisionError("inside a check")

    monkeypatch.setattr(checks, "dead_units", boom)
    code, out, err = run_cli(capsys, "coverage_models:with_tokens", "-q")
    assert code == 2 and err.strip().count("\n") == 0 and "internal error: ZeroDivisionError" in err


# ------------------------------------------------------------------------------------------ Conv1D


def test_conv1d_is_a_dense_layer_with_transposed_layout():
    report = check_model(C.gpt_block(), example_input=torch.randn(4, 6, 64))
    rows = {r.name: r for r in report.tensors}
    assert rows["c_fc.weight"].layer == "dense(64,256)" and rows["c_fc.weight"].fans == (64, 256)
    assert rows["c_proj.weight"].fans == (256, 64)
    # c_attn packs q, k, v: three blocks, each a (64, 64) dense map
    assert {"c_attn.weight[q]", "c_attn.weight[k]", "c_attn.weight[v]"} <= set(rows)
    assert all("normal(std=0.02)" in ", ".join(r.matches) for r in report.tensors)
    assert report.coverage.share == 1.0 and not report.errors
    assert report.signal is not None and "c_fc" in report.signal["layers"]


def test_conv1d_zeroed_mlp_and_copied_projection_are_errors():
    zero = check_model(C.gpt_block_zero_fc(), example_input=torch.randn(4, 6, 64))
    assert any(f.kind in ("constant-tensor", "dead-units") and "c_fc.weight" in f.params for f in zero.errors)
    copy = check_model(C.gpt_block_copy_qk(), example_input=torch.randn(4, 6, 64))
    (f,) = copy.find("identical-tensors")
    assert set(f.params) == {"c_attn.weight[q]", "c_attn.weight[k]"} and f.severity == "error"


# ------------------------------------------------------------------------------------------ tied


def test_tied_parameters_are_checked_once_and_named():
    report = check_model(C.tied_lm())
    cov = report.coverage
    assert cov.total_tensors == 3 and cov.tied == {"wte.weight": ["head.weight"]}
    assert not report.find("identical-tensors")  # one tensor, not a copy
    text = render_model(report)
    assert "TIED" in text and "wte.weight = head.weight" in text
    # the tied head is still the output node the probe records
    assert report.signal is not None and report.signal["layers"][-1] == "head"


def test_a_copy_is_not_a_tie():
    m = C.tied_lm()
    m.head.weight = torch.nn.Parameter(m.wte.weight.detach().clone())
    report = check_model(m)
    assert report.find("identical-tensors") and not report.coverage.tied


# ------------------------------------------------------------------------------------------ probe input


def test_declared_image_size_is_used():
    report = check_model(C.fixed_size_vit())
    assert report.coverage.signal is None and "24, 24" in report.probe and "declared" in report.probe
    assert report.coverage.not_analysed[0].name == "pos"


def test_conv_side_grows_until_the_model_runs():
    report = check_model(C.deep_downsampler())
    assert report.coverage.signal is None and "(32, 3, 32, 32)" in report.probe


def test_hf_style_config_gives_keyword_inputs_and_hints():
    from invariants.frameworks.torch.model import view

    mv = view(C.hf_seq2seq(), "s2s")
    assert mv.probe is not None, mv.probe_error
    assert "input_ids and decoder_input_ids" in mv.probe.input and "(32, 12)" in mv.probe.input
    assert mv.hints == {"initializer_range": 0.02, "layer_norm_eps": 1e-6}
    assert check_model(C.hf_seq2seq()).status == "healthy"


def test_keyword_example_input_from_the_factory_and_the_cli(capsys):
    report = check_model("coverage_models:hf_seq2seq_with_kwargs")
    assert report.probe.startswith("6 inputs, the given keyword (input_ids, decoder_input_ids) example input")
    assert report.status == "healthy"
    code, out, _ = run_cli(capsys, "coverage_models:hf_seq2seq", "--input-shape", "input_ids=3,7",
                           "--input-shape", "decoder_input_ids=3,5", "-q")
    assert code == 0
    report = check_model("coverage_models:hf_seq2seq", input_shape={"input_ids": (3, 7), "decoder_input_ids": (3, 5)})
    assert report.probe.startswith("3 inputs") and report.status == "healthy"


def test_probe_without_keyword_inputs_fails_visibly():
    # known-bad: a positional tensor where only keywords are accepted -> not checked, incomplete
    report = check_model(C.hf_seq2seq(), example_input=torch.zeros(4, 5, dtype=torch.long))
    assert report.status == "incomplete" and "TypeError" in report.coverage.signal


# ------------------------------------------------------------------------------------------ Keras EinsumDense


def _keras_available() -> bool:
    from invariants.frameworks.registry import get_framework

    return get_framework("keras").available()


keras_only = pytest.mark.skipif(not _keras_available(), reason="keras is not installed")


@keras_only
def test_einsum_fans_from_the_declared_equation():
    from invariants.frameworks.keras.model import einsum_fans

    assert einsum_fans("abc,cde->abde", (32, 4, 16)) == (32, 64)  # MHA query: (d, heads, head_dim)
    assert einsum_fans("abcd,cde->abe", (4, 16, 32)) == (64, 32)  # MHA output: (heads, head_dim, d)
    assert einsum_fans("...b,bc->...c", (8, 5)) == (8, 5)
    assert einsum_fans("bhd,hde->bhe", (4, 16, 8)) == (16, 8)  # per-head matrices: h is neither fan
    assert einsum_fans("ab,bc->ac", (8, 5, 2)) is None and einsum_fans("nonsense", (2, 2)) is None


@keras_only
def test_einsum_kernel_axes_and_node():
    """The kernel's axes from the equation; a node when the output ends with its (batch, out) axes."""
    from invariants.frameworks.keras.model import einsum_kernel, trailing_units
    from invariants.layers import Kernel

    assert einsum_kernel("abc,cde->abde", (32, 4, 16)) == (Kernel((32, 4, 16), (0,), (1, 2)), True)
    assert einsum_kernel("abcd,cde->abe", (4, 16, 32)) == (Kernel((4, 16, 32), (0, 1), (2,)), True)
    assert einsum_kernel("bhd,hde->bhe", (4, 16, 8)) == (Kernel((4, 16, 8), (1,), (2,), (0,)), True)
    assert einsum_kernel("abc,ced->abde", (32, 16, 4))[1] is False  # units (e, d) are the output's (d, e) reversed
    assert trailing_units(np.zeros((2, 8, 4, 16)), 64).shape == (16, 64)
    with pytest.raises(ValueError, match="no trailing axes holding 48 units"):
        trailing_units(np.zeros((2, 8, 4, 16)), 48)


@keras_only
@pytest.mark.xdist_group("coverage-keras-mha")  # one worker: the healthy report is computed once
def test_keras_einsum_dense_dead_unit_is_named():
    """Faulty: one query unit (head 1, dim 3 = unit 19) with all-zero incoming weights is found through the
    EinsumDense node; correct: the healthy model has no unit findings and a signal row per projection."""
    healthy = _healthy_mha_report()
    text = render_model(healthy)
    assert not healthy.kinds() & {"dead-units", "interchangeable-units"}, text
    # rows keyed by the layer's path in the model (an MHA's inner names repeat in every attention layer)
    # keras numbers the MHA by the ones built before it in this process (multi_head_attention_3 under xdist)
    assert re.search(r"  multi_head_attention(_\d+)?/query ", text.split("signal at init")[1]), text
    assert re.search(r"  multi_head_attention(_\d+)?/attention_output ", text), text
    bad = check_model(_keras_mha(dead_unit=True))
    (f,) = [f for f in bad.findings if f.kind == "dead-units"]
    layer = f.message.split("layer '")[1].split("'")[0]  # keras numbers the MHA by the models built before
    assert layer.startswith("multi_head_attention") and layer.endswith("/query"), f.message
    assert "output units 19" in f.message, f.message


@functools.lru_cache(maxsize=None)
def _healthy_mha_report():
    """check-model's report on the healthy :func:`_keras_mha`, read by both EinsumDense tests (the same
    check of the same model, run once per process; the tests only read it)."""
    return check_model(_keras_mha())


def _keras_mha(zero_query: bool = False, dead_unit: bool = False):
    from invariants.frameworks.keras import choose_backend

    choose_backend()
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 32))
    mha = keras.layers.MultiHeadAttention(num_heads=4, key_dim=16)
    x = mha(inp, inp)
    model = keras.Model(inp, keras.layers.Dense(10)(x))
    if zero_query:
        mha.query_dense.kernel.assign(np.zeros(mha.query_dense.kernel.shape, "float32"))
    if dead_unit:
        w = np.array(mha.query_dense.kernel.numpy())
        w[:, 1, 3] = 0
        mha.query_dense.kernel.assign(w)
    return model


@keras_only
@pytest.mark.xdist_group("coverage-keras-mha")  # one worker: the healthy report is computed once
def test_keras_einsum_dense_kernels_are_analysed():
    report = _healthy_mha_report()
    rows = {r.name: r for r in report.tensors}
    q = next(r for n, r in rows.items() if n.endswith("query/kernel"))
    assert q.fans == (32, 64) and q.matches and q.matches[0] == "glorot_uniform"
    assert report.coverage.share == 1.0 and report.status == "healthy"
    bad = check_model(_keras_mha(zero_query=True))
    assert any(f.kind == "constant-tensor" and f.params[0].endswith("query/kernel") for f in bad.errors)
