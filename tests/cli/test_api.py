"""The Python API as people use it (issue 16, item 7): typed public signatures, tuples accepted for layers (or
refused in one API-worded line), errors that name the API's arguments and never a command-line flag, a
readable ``str(AuditReport)``, and public names that are the API (no ``Any``, ``Sequence``, ``annotations``)."""
from __future__ import annotations

import math
import typing

import pytest

from invariants import audit, testing
from invariants.core.errors import BadInput, InvariantsError, UsageError
from invariants.modelcheck import check


def he(shape, rng):
    return rng.normal(0.0, math.sqrt(2.0 / shape[1]), size=shape)


def _namespace() -> dict:
    from invariants.audit.auditor import AuditConfig, AuditReport
    from invariants.audit.fingerprint import Fingerprint
    from invariants.core.cost import Limits
    from invariants.frameworks.subjects import Expectation
    from invariants.layers import Layer
    from invariants.modelcheck.profiles import Profile
    from invariants.modelcheck.report import ModelReport
    from invariants.specs import Spec

    return {"AuditConfig": AuditConfig, "AuditReport": AuditReport, "Fingerprint": Fingerprint,
            "Expectation": Expectation, "Layer": Layer, "Profile": Profile, "ModelReport": ModelReport, "Spec": Spec,
            "LayerArg": audit.LayerArg, "Shapes": typing.Any, "Limits": Limits}


@pytest.mark.parametrize("fn", [audit.initializer, audit.catalogue, audit.identify, audit.as_layers,
                                testing.assert_initializer, testing.assert_init_healthy, check.check_model],
                         ids=lambda f: f.__name__)
def test_public_signatures_are_typed(fn):
    hints = typing.get_type_hints(fn, localns=_namespace())
    assert "return" in hints and hints["return"] is not typing.Any, fn
    untyped = [name for name in fn.__code__.co_varnames[:fn.__code__.co_argcount + fn.__code__.co_kwonlyargcount]
               if name not in hints]
    assert not untyped, untyped


def test_the_audit_package_exports_only_its_api():
    stray = [n for n, v in vars(audit).items() if not n.startswith("_") and n not in audit.__all__
             and type(v).__name__ != "module"]
    assert stray == []
    assert not {"Any", "Sequence", "annotations", "UsageError"} & set(audit.__all__)
    for name in audit.__all__:
        assert getattr(audit, name) is not None, name


@pytest.mark.parametrize("layer, described", [
    ((300, 100), ["dense(300,100)"]),
    ([(30, 10), "conv2d(4,8,k=3)"], ["dense(30,10)", "conv2d(4,8,k=3)"]),
    (((30, 10), (10, 30)), ["dense(30,10)", "dense(10,30)"]),
    ("dense(30,10)", ["dense(30,10)"]),
    (None, list(audit.DEFAULT_AUDIT_LAYERS)),
])
def test_layers_accept_text_layers_and_fan_pairs(layer, described):
    assert [lay.describe() for lay in audit.as_layers(layer)] == described


def test_a_fan_pair_audits_like_its_dense_text():
    cfg = audit.AuditConfig(rel_error=0.2)
    pair = audit.initializer(he, expect="normal(std=0.2582)", layer=(30, 10), config=cfg)
    text = audit.initializer(he, expect="normal(std=0.2582)", layer="dense(30,10)", config=cfg)
    assert [r.layer for r in pair] == [r.layer for r in text] == ["dense(30,10)"]
    assert [r.verdict for r in pair] == [r.verdict for r in text]


@pytest.mark.parametrize("layer, words", [
    ((300, 100, 3), "layer=(300, 100, 3): a tuple of integers means (fan_in, fan_out) of a dense layer and needs 2"),
    ((300, -1), "needs 2 sizes >= 0"),
    ([], "layer: no layer given (an empty list)"),
    (3.5, "layer: expected layer text such as 'dense(300,100)', a Layer, or a (fan_in, fan_out) pair, got float 3.5"),
    ({"in": 3}, "got dict"),
    ([("a", "b")], "got tuple ('a', 'b')"),
])
def test_a_malformed_layer_is_one_api_worded_line(layer, words):
    with pytest.raises(BadInput) as info:
        audit.initializer(he, expect="he_normal", layer=layer)
    message = str(info.value)
    assert words in message and "\n" not in message and "--" not in message


@pytest.mark.parametrize("call, kind, words", [
    (lambda: audit.initializer(he), audit.NoSpec, "no expect given and"),
    (lambda: audit.initializer(he, expect=3), UsageError, "expect: expected spec text such as 'he_normal'"),
    (lambda: audit.identify(he, layers=[(3, 3, 3)]), BadInput, "layers=(3, 3, 3): a tuple of integers"),
    (lambda: check.check_model("no_such_module_b16:f"), BadInput, "cannot import module 'no_such_module_b16'"),
], ids=["no-spec", "spec-not-text", "identify-layers", "model-import"])
def test_api_errors_name_the_arguments_not_cli_flags(call, kind, words):
    with pytest.raises(kind) as info:
        call()
    assert isinstance(info.value, InvariantsError)
    message = str(info.value)
    assert words in message and "--" not in message, message


def test_model_api_errors_name_the_arguments_not_cli_flags():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    for kwargs, words in [({"expect": ["Conv2d=zeros"]}, "expect 'Conv2d=zeros' selects no tensor"),
                          ({"framework": "keras"}, "framework 'keras': the object is a torch"),
                          ({"expect": ["nonsense"]}, "expect 'nonsense': expected PATTERN=SPEC")]:
        with pytest.raises(InvariantsError) as info:
            check.check_model(model, **kwargs)
        assert words in str(info.value) and "--" not in str(info.value), str(info.value)


def test_str_of_an_audit_report_is_a_summary_and_its_findings():
    report = audit.initializer(he, expect="normal(std=0.05)", layer=(30, 10), config=audit.AuditConfig(rel_error=0.2))
    text = str(report)
    assert text.splitlines()[0] == "audit: 1 tensors, 0 conform, 0 documented deviations, 1 deviate, 0 errors, 0 skipped"
    assert text.splitlines()[1].startswith("  - error [deviates] ") and "AuditReport(" not in text
    assert report.summary == text.splitlines()[0]
