"""``check-model --expect`` (issue 14, gap 6): each fault a per-tensor audit caught and check-model passed
is now caught when the expectation is stated (faulty model: an ``expectation`` error whose text names the
cause; correct model: healthy), patterns that select nothing or overlap ambiguously are usage errors, and
the coverage lists every expected tensor."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from invariants.cli import main  # noqa: E402
from invariants.core.errors import UsageError  # noqa: E402
from invariants.frameworks.model import ModelView, Param  # noqa: E402
from invariants.layers import Dense  # noqa: E402
from invariants.modelcheck import check_model  # noqa: E402
from invariants.modelcheck.expect import parse_expectations, select  # noqa: E402
from invariants.specs import KAIMING_NORMAL_TORCH, LECUN_NORMAL  # noqa: E402
from invariants.testing import assert_init_healthy  # noqa: E402
from tests.modelcheck import expect_models as M  # noqa: E402

pytestmark = pytest.mark.xdist_group("expect")
TARGET = "tests.modelcheck.expect_models:"


def _expectation_errors(report):
    return [f for f in report.errors if f.kind == "expectation"]


# ------------------------------------------------------------------------------------- the three faults


def test_packed_attention_fans_are_caught_and_explained():
    bad = check_model(M.mha_packed(), expect=["attn.in_proj_weight=xavier_uniform"])
    errs = _expectation_errors(bad)
    assert [f.params[0] for f in errs] == [f"attn.in_proj_weight[{b}]" for b in "qkv"]
    for f in errs:  # the cause: the packed tensor's fans, not a scale constant
        assert "fan_avg 128 of the whole packed tensor's fans (64, 192)" in f.message, f.message
        assert "matches glorot_uniform over the packed tensor's fans (64, 192)" in f.message, f.message
        assert 0.4 < f.figures["measured_std"] ** 2 / f.figures["expected_std"] ** 2 < 0.6
        assert "write 'attn.in_proj_weight[packed]=xavier_uniform'" in f.message
    good = check_model(M.mha_per_block(), expect=["attn.in_proj_weight=xavier_uniform"])
    assert good.ok, [str(f) for f in good.findings]
    assert all(e["met"] for e in good.coverage.expected.values()) and len(good.coverage.expected) == 3
    # torch's own draw, stated as such: one matrix on the packed tensor's fans (E, 3E)
    packed = check_model(M.mha_packed(), expect=["attn.in_proj_weight[packed]=xavier_uniform"])
    assert packed.ok and packed.coverage.expected["attn.in_proj_weight"]["fans"] == \
        "whole packed tensor's fans (64, 192)"
    assert not check_model(M.mha_per_block(), expect=["attn.in_proj_weight[packed]=xavier_uniform"]).ok


def test_selu_gain_on_top_of_lecun_is_caught_and_named():
    expect = ["Linear=lecun_normal", "*.bias=zeros"]
    bad = check_model(M.selu_gain(), expect=expect)
    errs = _expectation_errors(bad)
    assert {f.params[0] for f in errs} == {"hidden.0.weight", "hidden.1.weight", "hidden.2.weight", "head.weight"}
    for f in errs:
        assert "lecun_normal under torch = kaiming_normal_(nonlinearity='linear'): N(0, 1/fan_in), untruncated" \
            in f.message
        assert "scale 9/16 (selu gain 3/4, squared" in f.message, f.message
    good = check_model(M.selu_lecun(), expect=expect)
    assert good.ok, [str(f) for f in good.findings]
    assert len(good.coverage.expected) == 8  # 4 weights + 4 biases


def test_initializer_range_not_applied_is_caught():
    pytest.importorskip("transformers")
    expect = ["Linear=normal(std=0.05)", "*.bias=zeros"]
    model = M.bert_range_ignored()
    assert check_model(model).ok  # 0.02 is a plausible std: without the expectation nothing is wrong
    errs = _expectation_errors(check_model(model, expect=expect))
    assert errs and all("matches normal(std=0.02)" in f.message and "expected 0.05" in f.message for f in errs)
    good = check_model(M.bert_range_applied(), expect=expect)
    assert good.ok, [str(f) for f in good.findings]


# ------------------------------------------------------------------------------------- patterns


def _view(*params):
    return ModelView("torch", "m", list(params))


def _p(name, role="weight", owner_classes=("Linear", "Module"), value=None):
    v = np.zeros((2, 3)) if value is None else value
    return Param(name, v, role, owner=name.rsplit(".", 1)[0], owner_type=owner_classes[0],
                 layer=Dense(3, 2) if role == "weight" else None, owner_classes=owner_classes)


def test_precedence_exact_over_glob_over_type_and_nearer_class():
    view = _view(_p("a.weight"), _p("b.weight", owner_classes=("QLinear", "Linear", "Module")), _p("a.bias", "bias"))
    ex = parse_expectations(["Linear=he_normal", "QLinear=zeros", "*.weight=ones", "a.weight=normal(std=0.1)",
                             "*.bias=zeros"], "torch")
    got = {k: v.pattern for k, v in select(view, ex).items()}
    assert got == {"a.weight": "a.weight", "b.weight": "*.weight", "a.bias": "*.bias"}
    got = {k: v.pattern for k, v in select(view, parse_expectations(["Linear=he_normal", "QLinear=zeros"])).items()}
    assert got == {"a.weight": "Linear", "b.weight": "QLinear"}  # the subclass is more specific
    assert "a.bias" not in select(view, parse_expectations(["Linear=he_normal"]))  # a type selects weights only


def test_ambiguous_or_empty_patterns_are_usage_errors():
    view = _view(_p("a.weight"), _p("a.bias", "bias"))
    with pytest.raises(UsageError, match=r"a.weight is selected by 'a\.\*=zeros' and '\*\.weight=ones'"):
        select(view, parse_expectations(["a.*=zeros", "*.weight=ones"]))
    select(view, parse_expectations(["a.*=zeros", "*.weight=zeros"]))  # the same spec twice: fine
    with pytest.raises(UsageError, match="selects no tensor: no module of type 'Conv2d'"):
        select(view, parse_expectations(["Conv2d=zeros"]))
    with pytest.raises(UsageError, match=r"selects no tensor: no parameter name matches 'b\.\*'"):
        select(view, parse_expectations(["b.*=zeros"]))
    for bad in ("Linear", "=zeros", "Linear=foo(1)"):
        with pytest.raises(UsageError):
            parse_expectations([bad])


def test_specs_resolve_by_the_model_framework():
    (e,) = parse_expectations(["Linear=he_normal"], "torch")
    assert e.spec.law(10, 5) == KAIMING_NORMAL_TORCH.law(10, 5) and "under torch" in e.describe()
    (e,) = parse_expectations(["Linear=lecun_normal"], None)
    assert e.spec == LECUN_NORMAL


# ------------------------------------------------------------------------------------- CLI and helper


def test_cli_expect_exit_codes(capsys):
    assert main(["check-model", TARGET + "selu_gain", "-q", "--expect", "Linear=lecun_normal"]) == 1
    assert "[expectation]" in capsys.readouterr().out
    assert main(["check-model", TARGET + "selu_lecun", "-q", "--expect", "Linear=lecun_normal",
                 "--expect", "*.bias=zeros"]) == 0
    out = capsys.readouterr().out
    assert "expectations: 8 of 8 tensors met" in out
    assert main(["check-model", TARGET + "selu_lecun", "--expect", "Conv2d=zeros"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expect 'Conv2d=zeros' selects no tensor" in err
    # a known family without its parameters: the cause in one line, not "unknown spec" beside a list naming it
    assert main(["check-model", TARGET + "selu_lecun", "--expect", "Linear=normal"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs its parameters in parentheses, e.g. normal(std=0.02)" in err
    assert "unknown spec" not in err and "Traceback" not in err


def test_assert_init_healthy_expect():
    with pytest.raises(AssertionError, match="expectation"):
        assert_init_healthy(M.selu_gain(), expect=["Linear=lecun_normal"])
    report = assert_init_healthy(M.selu_lecun(), expect={"Linear": "lecun_normal", "*.bias": "zeros"})
    assert set(report.coverage.to_dict()["expected"]) == {n for n, _ in M.selu_lecun().named_parameters()}


def test_no_expectation_keeps_the_report_shape():
    report = check_model(M.selu_lecun())
    assert "expected" not in report.coverage.to_dict()


def test_constant_expectation_is_exact():
    model = M.selu_lecun()
    with torch.no_grad():
        model.head.bias[3] = 1e-7
    errs = _expectation_errors(check_model(model, expect=["*.bias=zeros"]))
    assert [f.params for f in errs] == [("head.bias",)] and "1 of 10 values differ from 0" in errs[0].message


def test_fans_needed_on_a_tensor_without_layer_semantics():
    with pytest.raises(UsageError, match="needs fans, and head.bias"):
        check_model(M.selu_lecun(), expect=["head.bias=he_normal"])
