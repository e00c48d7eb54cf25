"""Model check on the reference network (no framework needed): every fault kind, healthy nets, the oracles'
mutation self-tests, the signal thresholds, the report's JSON contract and the ``check-model`` CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modelcheck_models as M
from invariants import cli
from invariants import strategies as ist
from invariants.layers import Bilinear, ConvTranspose, Dense
from invariants.hypothesis_profiles import verify_settings
from invariants.modelcheck import check_model
from invariants.modelcheck.check import check_view
from invariants.frameworks.model import ModelView, Node, Param, Probe, Signal
from invariants.modelcheck.profiles import FAST, THOROUGH, get_profile
from invariants.modelcheck.signal import signal
from invariants.propagation import sample_params
from invariants.reference import Architecture
from invariants.render import render_model
from invariants.testing import audit_config

# ------------------------------------------------------------------------------------------ properties


@settings(verify_settings(20))
@given(net=ist.reference_networks())
def test_correctly_initialized_reference_networks_are_healthy(net):
    report = check_model(net)
    assert report.ok, render_model(report)


@settings(verify_settings(25))
@given(net=ist.faulty_reference_networks())
def test_every_injected_fault_is_found(net):
    arch, params, kind = net
    report = check_model((arch, params))
    assert kind in report.kinds(), render_model(report)
    if kind != "dead-units":  # dead units that the first step revives (tanh, gelu, ...) are a note
        assert not report.ok


@settings(verify_settings(25))
@given(layer=ist.layers(("dense", "conv", "conv_transpose", "depthwise", "embedding", "bilinear")),
       layout=st.sampled_from(["torch", "jax", "keras"]))
def test_incoming_rows_partition_the_weight(layer, layout):
    if layout != "torch" and isinstance(layer, Bilinear):
        return
    shape = layer.shape(layout)
    w = np.arange(int(np.prod(shape))).reshape(shape)
    rows = layer.unit_rows(layout=layout, w=w)
    assert rows.shape[0] == layer.out_features
    assert np.array_equal(np.sort(rows.ravel()), np.arange(w.size))  # every weight feeds exactly one unit


@settings(verify_settings(20))
@given(layer=ist.conv_layers(max_channels=16))
def test_incoming_rows_agree_between_torch_and_jax_layouts(layer):
    w = np.arange(int(np.prod(layer.shape("torch")))).reshape(layer.shape("torch"))  # (C_out, C_in/G, *k)
    nd = len(layer.kernel)
    w_jax = np.transpose(w, tuple(range(2, 2 + nd)) + (1, 0))  # (*k, C_in/G, C_out)
    a, b = layer.unit_rows(layout="torch", w=w), layer.unit_rows(layout="jax", w=w_jax)
    assert np.array_equal(np.sort(a, axis=1), np.sort(b, axis=1))


def test_grouped_transposed_conv_units_by_hand():
    lay = ConvTranspose(4, 6, kernel=(1,), groups=2)  # torch weight (4, 3, 1)
    w = np.arange(12).reshape(4, 3, 1)
    rows = lay.unit_rows(layout="torch", w=w)
    # output channel 4 is channel 1 of group 1: inputs 2, 3 -> w[2:4, 1]
    assert rows[4].tolist() == [w[2, 1, 0], w[3, 1, 0]] and rows[0].tolist() == [w[0, 0, 0], w[1, 0, 0]]


# ------------------------------------------------------------------------------------------ fault kinds


def _ref(sizes=(8, 32, 32, 32, 2), activation="relu", scheme="he", seed=0):
    arch = Architecture(sizes, activation=activation)
    return arch, sample_params(arch, scheme, np.random.default_rng(seed))


def test_healthy_reference_network_and_its_table():
    report = check_model(M.reference_healthy())
    assert report.ok and not report.findings
    assert [r.name for r in report.tensors] == ["W1", "W2", "W3", "W4"] and report.model == "Architecture"
    assert all("kaiming_normal_torch" in r.matches for r in report.tensors[:3])  # 64 values in W4: many match
    assert report.tensors[3].matches
    assert all(0 < r.detectable_rel_error < 3 for r in report.tensors)
    assert "mean field" in report.signal["mean_field"]


def test_zero_middle_layer_with_relu_is_dead_for_ever():
    report = check_model(M.reference_zero_middle())
    (f,) = report.find("constant-tensor")
    assert f.severity == "error" and f.params == ("W2",)
    assert "dead for ever: relu'(0) = 0" in f.message and f.figures["dead_for_ever"] == 32
    assert "signal-forward" in report.kinds("error")  # the output no longer depends on the input


def test_zero_middle_layer_with_tanh_is_revived_but_still_an_error():
    arch, params = _ref(activation="tanh", scheme="lecun")
    params["W2"][...] = 0.0
    (f,) = check_model((arch, params)).find("constant-tensor")
    assert f.severity == "error" and f.figures["revived_at_first_step"] == 32 and f.figures["dead_for_ever"] == 0
    assert "revives them" in f.message


@pytest.mark.parametrize("activation, severity, field", [("relu", "error", "dead_for_ever"),
                                                         ("tanh", "note", "revived_at_first_step")])
def test_dead_units_and_revival(activation, severity, field):
    arch, params = _ref(activation=activation, scheme="he" if activation == "relu" else "lecun")
    params["W2"][[3, 5, 6]] = 0.0
    params["b2"][[3, 5, 6]] = 0.0
    (f,) = check_model((arch, params)).find("dead-units")
    assert f.severity == severity and f.figures["indices"] == [3, 5, 6] and f.figures[field] == 3
    assert "3 of 32 output units" in f.message


def test_relu_unit_with_positive_bias_is_revived():
    arch, params = _ref()
    params["W2"][7] = 0.0
    params["b2"][7] = 0.5  # relu'(0.5) = 1: gradient flows
    (f,) = check_model((arch, params)).find("dead-units")
    assert f.severity == "note" and "the constant 0.5" in f.message


def test_interchangeable_units_exact_and_one_ulp_mutation():
    arch, params = _ref()
    params["W2"][4] = params["W2"][1]
    params["b2"][4] = params["b2"][1]
    params["W3"][:, 4] = params["W3"][:, 1]
    (f,) = check_model((arch, params)).find("interchangeable-units")
    assert f.severity == "error" and f.figures["classes"] == [[1, 4]] and f.figures["exact"]
    params["W3"][0, 4] = np.nextafter(params["W3"][0, 4], np.inf)  # one ulp in the outgoing column
    assert not check_model((arch, params)).find("interchangeable-units")


def test_constant_init_makes_every_hidden_layer_one_class():
    arch = Architecture((4, 8, 8, 1), activation="tanh")
    from invariants.reference import init_params

    report = check_model((arch, init_params(arch, 0.1, 0.0)))
    ties = report.find("interchangeable-units")
    assert {f.params[0] for f in ties} == {"W1", "W2"} and all(f.figures["classes"] == [list(range(8))] for f in ties)


def test_identical_tensors_and_one_ulp_mutation():
    arch, params = _ref()
    params["W3"] = params["W2"].copy()
    (f,) = check_model((arch, params)).find("identical-tensors")
    assert f.params == ("W2", "W3") and f.severity == "error"
    params["W3"][5, 5] = np.nextafter(params["W3"][5, 5], np.inf)
    assert not check_model((arch, params)).find("identical-tensors")


def test_zero_output_layer_is_a_note():
    arch, params = _ref()
    params["W4"][...] = 0.0
    report = check_model((arch, params))
    assert report.ok and report.kinds() == {"zero-output-layer"}
    assert report.find("zero-output-layer")[0].params == ("W4",)


def _fan_scaled(seed: int, std):
    """A (16, 64, 256, 32, 4) ReLU reference net with ``W_l ~ N(0, std(fan_in)²)`` and zero biases."""
    arch = Architecture((16, 64, 256, 32, 4), activation="relu")
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, arch.depth + 1):
        fan_in = arch.sizes[l - 1]
        params[f"W{l}"] = rng.normal(0.0, std(fan_in), size=(arch.sizes[l], fan_in))
        params[f"b{l}"] = np.zeros(arch.sizes[l])
    return arch, params


def test_squared_std_is_found_across_layers():
    arch, params = _fan_scaled(0, lambda fan_in: 2.0 / fan_in)  # std (sqrt(2/fan_in))^2
    report = check_model((arch, params))
    (f,) = report.find("inconsistent-scale")
    assert f.severity == "error" and f.figures["squared_std_of"] == "kaiming_normal_torch"
    assert abs(f.figures["fan_in_exponent"] - 2.0) < 0.2


def test_consistent_custom_scale_is_only_a_note():
    arch, params = _fan_scaled(1, lambda fan_in: np.sqrt(5.0 / fan_in))  # scale 5: no scheme
    report = check_model((arch, params))
    assert "inconsistent-scale" not in report.kinds()
    assert any("share one rule" in f.message for f in report.find("variance"))


def test_exploding_reference_network_is_an_error_with_mean_field_figures():
    arch, params = _ref(sizes=(8, 64, 64, 64, 64, 2))
    params = {k: v * 4.0 if k[0] == "W" else v for k, v in params.items()}  # gain x16 per layer
    report = check_model((arch, params))
    (f,) = report.find("signal-forward")
    assert f.severity == "error" and f.figures["per_layer"] > 8 and "mean field" in f.message
    assert report.find("signal-backward")[0].severity == "error"


# ------------------------------------------------------------------------------------------ signal thresholds


def _stack_view(moments, width=2000, rows=64):
    params, nodes, signals = [], [], []
    rng = np.random.default_rng(0)
    for i, m in enumerate(list(moments) + [1.0]):
        lay = Dense(width, width)
        p = Param(f"w{i}", rng.normal(size=(width, 2)), "weight", f"l{i}", "dense", None)
        nodes.append(Node(f"l{i}", "dense", lay, p))
        z = rng.normal(size=(rows, width))
        z *= np.sqrt(m / np.mean(z * z))
        signals.append(Signal(f"l{i}", z, z.copy(), True))
    return ModelView("reference", "synthetic", params, nodes, Probe(signals, rows, "synthetic"))


@pytest.mark.parametrize("moments, expected", [
    ([1.0, 0.9, 1.1, 1.0], None),
    ([1.0, 0.3, 0.1, 0.05], "note"),        # 20x: above 10x beyond the band, below 100x
    ([1.0, 0.1, 0.01, 0.001], "error"),     # 1000x
    ([1.0, 30.0, 900.0, 3000.0], "error"),  # growth
])
def test_signal_thresholds(moments, expected):
    findings, summary = signal(_stack_view(moments), FAST.note_ratio, FAST.error_ratio)
    fwd = [f for f in findings if f.kind == "signal-forward"]
    assert (fwd[0].severity if fwd else None) == expected
    assert summary["stack"] == ["l0", "l1", "l2", "l3"]  # the output layer is not part of the stack


def test_signal_band_absorbs_noise_of_narrow_layers():
    # width 4: the log-moment random walk has sd sqrt(3 * 5/4) ~ 1.9, band ~ e^7.8: a 100x change is noise
    findings, _ = signal(_stack_view([1.0, 0.2, 0.05, 0.01], width=4), 10.0, 100.0)
    assert not findings


# ------------------------------------------------------------------------------------------ packed, report


def test_packed_orthogonal_from_numpy():
    from invariants.layers import parse_layer
    from invariants.propagation import haar_orthogonal

    rng = np.random.default_rng(0)
    lay = parse_layer("lstm(16,16)")
    whole = haar_orthogonal((64, 16), rng)
    view = ModelView("reference", "rnn", [Param("w_hh", whole, "recurrent", "rnn", "LSTM", lay)])
    report = check_view(view, FAST)
    (f,) = report.find("packed-orthogonal")
    assert f.severity == "note" and len(f.figures["block_errors"]) == 4
    assert all(r.matches[0].startswith("orthogonal over the packed tensor") for r in report.tensors)
    per_gate = np.concatenate([haar_orthogonal((16, 16), rng) for _ in range(4)])
    view = ModelView("reference", "rnn", [Param("w_hh", per_gate, "recurrent", "rnn", "LSTM", lay)])
    report = check_view(view, FAST)
    assert not report.findings and all(r.matches[0].startswith("orthogonal(gain=1") for r in report.tensors)


def test_report_json_contract():
    report = check_model(M.reference_zero_middle())
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert set(data) == {"model", "framework", "profile", "status", "exit_code", "healthy", "ok", "counts", "findings",
                         "tensors", "signal", "probe", "seconds", "coverage", "summary", "versions", "config",
                         "interrupted", "dtypes"}
    assert data["healthy"] is False and data["counts"]["error"] == len(report.errors)
    assert data["status"] == "unhealthy" and data["exit_code"] == 1
    # no_trend: the zeroed middle layer cuts the signal, leaving a hidden stack of one layer (no trend to measure)
    assert {"tensors", "total_tensors", "values", "total_values", "share", "min_share", "signal", "complete",
            "not_analysed", "partial", "tied", "probe_requested", "no_trend"} == set(data["coverage"])
    assert set(data["coverage"]["no_trend"]) == {"layers", "why"}
    jsonschema = pytest.importorskip("jsonschema")
    from invariants import schemas

    schemas.validate(data, "check-model")  # the published schema states no_trend's shape
    bad = json.loads(json.dumps(data))
    bad["coverage"]["no_trend"] = {"layers": "two", "why": "x"}
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(bad, "check-model")
    assert set(data["findings"][0]) == {"severity", "kind", "subject", "params", "message", "figures"}
    assert {"name", "matches", "detectable_rel_error", "gain"} <= set(data["tensors"][0])


def test_profiles():
    assert get_profile("thorough") is THOROUGH and THOROUGH.rel_error < FAST.rel_error
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("nightly")
    assert audit_config(THOROUGH, 3).base_seed == 3 and audit_config(THOROUGH).rel_error == THOROUGH.rel_error
    assert THOROUGH.hypothesis_settings().max_examples == 200


# ------------------------------------------------------------------------------------------ CLI


def test_cli_healthy_exits_0(capsys):
    assert cli.main(["check-model", "modelcheck_models:reference_healthy"]) == 0
    out = capsys.readouterr().out
    assert "HEALTHY: 0 errors" in out and "kaiming_normal_torch" in out


def test_cli_errors_exit_1_with_json(tmp_path, capsys):
    path = tmp_path / "r.json"
    assert cli.main(["check-model", "modelcheck_models:reference_zero_middle", "--json", str(path), "-q"]) == 1
    out = capsys.readouterr().out
    assert "[constant-tensor] W2" in out and "UNHEALTHY" in out
    assert json.loads(path.read_text())["counts"]["error"] >= 1


@pytest.mark.parametrize("argv, words", [
    (["nosuch_module_xyz:f"], "cannot import module"),
    (["modelcheck_models"], "MODULE:FACTORY"),
    (["modelcheck_models:missing"], "has no attribute"),
    (["modelcheck_models:torch_raises"], "raised RuntimeError"),
    (["modelcheck_models:not_a_model"], "unsupported model object"),
    (["modelcheck_models:reference_healthy", "--profile", "nightly"], "unknown profile"),
    (["modelcheck_models:reference_healthy", "--input-shape", "3,abc"], "--input-shape"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, words, capsys):
    assert cli.main(["check-model", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err


def test_cli_input_shape_reaches_the_probe(capsys):
    assert cli.main(["check-model", "modelcheck_models:reference_healthy", "--input-shape", "5,8", "-q"]) == 0
    report = check_model("modelcheck_models:reference_healthy", example_input=np.ones((5, 8)))
    assert report.probe.startswith("5 inputs")


# ------------------------------------------------------------------------------------------ strategies


@given(pair=ist.fans(ratio="large"))
def test_large_fans(pair):
    assert max(pair) >= 4096 and min(pair) >= 1


@given(layer=ist.transposed_conv_layers(grouped=True))
def test_grouped_transposed_convs(layer):
    g, k = layer.groups, int(np.prod(layer.kernel))
    assert g > 1 and layer.shape("torch") == (layer.in_features, layer.out_features // g, *layer.kernel)
    assert layer.textbook_fans() == (layer.in_features // g * k, layer.out_features // g * k)


@given(layer=ist.bilinear_layers())
def test_bilinear_layers(layer):
    assert layer.textbook_fans() == (layer.in_features * layer.in2, layer.out_features)
    with pytest.raises(ValueError):
        layer.shape("jax")
