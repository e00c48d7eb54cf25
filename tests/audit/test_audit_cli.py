"""``invariants audit`` / ``invariants identify``: exit codes, the JSON contract, one-line errors."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import audit_fixtures as F
from invariants import cli
from invariants.audit import identify
from invariants.audit.auditor import AuditConfig

FAST = ["--rel-error", "0.05"]
RESULT_KEYS = {"target", "layer", "shape", "fans", "expected", "observed", "checks", "min_detectable_rel_error",
               "resolution", "verdict", "message"}


def test_conforming_initializer_exits_0_with_json_contract(tmp_path, capsys):
    path = tmp_path / "out.json"
    rc = cli.main(["audit", "audit_fixtures:kaiming_normal", "--expect", "kaiming_normal", "--layer", "dense(300,100)",
                   "--layer", "conv2d(32,64,k=3,groups=4)", "--json", str(path)] + FAST)
    assert rc == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["verdict", "target", "layer"]
    assert "2 tensors: 2 conform" in out
    data = json.loads(path.read_text())
    assert {"ok", "summary", "findings", "versions", "config", "results"} <= set(data)
    assert data["ok"] is True and len(data["results"]) == 2 and data["findings"] == []
    assert data["config"]["rel_error"] == 0.05 and data["versions"]["frameworks"] == {"numpy": np.__version__}
    for r in data["results"]:
        assert set(r) == RESULT_KEYS
        assert set(r["fans"]) == {"textbook", "framework"} and set(r["expected"]) == {"spec", "variance"}
        assert set(r["observed"]) == {"variance", "n"}
        for c in r["checks"]:
            assert set(c) == {"name", "statistic", "p_value", "alpha", "passed"}
            assert c["alpha"] <= 1e-6 and c["passed"] is True
        assert r["verdict"] == "conforms" and r["min_detectable_rel_error"] < 0.05
        assert r["resolution"] is None  # within the draw cap: the asked resolution was reached
    grouped = data["results"][1]
    assert grouped["fans"] == {"textbook": [72, 144], "framework": [72, 576]} and grouped["shape"] == [64, 8, 3, 3]


def test_finding_exits_1_and_prints_the_explanation(capsys):
    rc = cli.main(["audit", "audit_fixtures:shape_glorot_uniform", "--expect", "glorot_uniform",
                   "--layer", "conv2d(4,4,k=3,groups=4)"] + FAST)
    assert rc == 1
    out = capsys.readouterr().out
    assert "DEVIATES" in out and "Findings:" in out and "framework fans (9, 36)" in out


def test_json_to_stdout_replaces_the_table(capsys):
    rc = cli.main(["audit", "audit_fixtures:m_fan_swap", "--expect", "kaiming_normal", "--layer", "dense(300,100)",
                   "--json", "-"] + FAST)
    assert rc == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["results"][0]["verdict"] == "deviates"
    assert "DEVIATES" in captured.err


@pytest.mark.parametrize("argv, words", [
    (["audit_fixtures:bad_shape", "--expect", "he_normal"], "returned shape (3,)"),
    (["audit_fixtures:bad_nan", "--expect", "he_normal"], "non-finite"),
    (["audit_fixtures:bad_raises", "--expect", "he_normal"], "raised RuntimeError: boom"),
    (["audit_fixtures:bad_int", "--expect", "he_normal"], "dtype int64"),
    (["audit_fixtures:bad_none", "--expect", "he_normal"], "returned None, not an array"),
    (["audit_fixtures:kaiming_normal", "--expect", "he_normal(oops"], "cannot parse spec"),
    (["audit_fixtures:kaiming_normal", "--expect", "laplace"], "unknown spec"),
    # a known family without its parameters: say so, not "unknown spec" beside a list naming it
    (["audit_fixtures:kaiming_normal", "--expect", "normal"], "spec normal needs its parameters in parentheses, "
                                                              "e.g. normal(std=0.02)"),
    (["audit_fixtures:kaiming_normal", "--expect", "uniform"], "e.g. uniform(-0.05, 0.05)"),
    (["audit_fixtures:kaiming_normal", "--expect", "normal(std=-1)"], "std must be > 0"),
    (["audit_fixtures:kaiming_normal", "--expect", "he_normal", "--layer", "conv9d(1,2)"], "unknown layer"),
    (["audit_fixtures:kaiming_normal", "--expect", "he_normal", "--layer", "dense(5)"], "2 integer arguments"),
    (["audit_fixtures:kaiming_normal"], "no --expect given"),
    (["audit_fixtures:kaiming_normal", "--expect", "he_normal", "--framework", "caffe"], "unknown framework"),
    (["no_such_module:f", "--expect", "he_normal"], "cannot import module"),
    (["audit_fixtures:nope", "--expect", "he_normal"], "no attribute"),
    (["bogus"], "unknown target"),
    (["numpy", "--expect", "he_normal"], "apply to a MODULE:ATTR target"),
    (["audit_fixtures:kaiming_normal", "--expect", "he_normal", "--rel-error", "2"], "rel_error"),
])
def test_bad_input_is_one_error_line_exit_2(argv, words, capsys):
    assert cli.main(["audit"] + argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("invariants: error: ") and words in lines[0], captured.err
    assert "Traceback" not in captured.err


def test_every_failed_check_in_the_json_is_named_on_the_terminal(capsys, tmp_path):
    """An initializer ignoring its seed fails more checks (identical_draws, ks_shape, ...) than the message details;
    the terminal names every one the JSON lists as failed."""
    path = tmp_path / "ig.json"
    rc = cli.main(["audit", "audit_fixtures:m_ignores_rng", "--expect", "he_normal", "--layer", "dense(300,100)",
                   "--json", str(path)] + FAST)
    assert rc == 1
    out = capsys.readouterr().out
    failed = {c["name"] for r in json.loads(path.read_text())["results"] for c in r["checks"] if not c["passed"]}
    assert "identical_draws" in failed and "different_seeds_differ" in failed
    assert [name for name in sorted(failed) if name not in out] == []


def test_numpy_catalogue_conforms_with_progress(capsys, tmp_path, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()  # progress is drawn on a terminal only
    monkeypatch.setattr(sys, "stderr", err)
    path = tmp_path / "numpy.json"
    assert cli.main(["audit", "numpy", "--json", str(path), "--rel-error", "0.08"]) == 0
    captured = capsys.readouterr()
    # the progress counts subjects, the summary counts subjects and tensors: the same N in both, named alike
    total = re.search(r" 1/(\d+) subjects ", err.getvalue())
    assert total, err.getvalue()[:200]
    assert re.search(rf"\b{total.group(1)} subjects, \d+ tensors:", captured.out), captured.out[-600:]
    data = json.loads(path.read_text())
    assert data["results"] and all(r["verdict"] == "conforms" for r in data["results"])


def test_missing_framework_is_exit_2_never_a_pass(monkeypatch, capsys):
    """A catalogue the command cannot run is not a pass (issue 16): one line with the install hint, exit 2; the
    Python API still returns one ``skipped`` result (a program may ask about several frameworks)."""
    import invariants.frameworks.base as adapters
    from invariants import audit

    real = adapters.importlib.util.find_spec
    monkeypatch.setattr(adapters.importlib.util, "find_spec", lambda name, *a: None if name == "keras" else real(name, *a))
    assert cli.main(["audit", "keras", "--json", "-"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "keras: not available: pip install keras" in err
    (r,) = audit.catalogue("keras").results
    assert r.verdict == "skipped" and "pip install keras" in r.message


def test_identify_cli(capsys, tmp_path):
    path = tmp_path / "fp.json"
    assert cli.main(["identify", "audit_fixtures:glorot_uniform", "--json", str(path)] + FAST) == 0
    out = capsys.readouterr().out
    assert out.startswith("identified: glorot_uniform")
    assert json.loads(path.read_text())["spec"] == "glorot_uniform"
    assert cli.main(["identify", "bogus"]) == 2


ID_CFG = AuditConfig(rel_error=0.05, total_alpha=1e-6, min_bounded_n=20_000)


@pytest.mark.parametrize("fn, text", [
    (F.kaiming_normal, "kaiming_normal_torch"),
    (F.he_normal, "he_normal"),
    (F.glorot_normal, "glorot_normal"),
    (F.lecun_uniform, "lecun_uniform"),
    (F.m_fan_swap, "variance_scaling(scale=2, mode=fan_out, distribution=normal)"),
    (F.m_missing_truncation_correction,
     "variance_scaling(scale=1, mode=fan_avg, distribution=truncated_normal, corrected=false)"),
    (F.m_geo_for_avg, "variance_scaling(scale=1, mode=fan_geo_avg, distribution=normal)"),
    (F.normal_002, "normal(mean=0, std=0.02)"),
    (F.uniform_005, "uniform(-0.05, 0.05)"),
    (F.orthogonal, "orthogonal(gain=1, rows=first)"),
    (F.ones, "ones"),
])
def test_identify_recovers_family_mode_and_scale(fn, text):
    fp = identify(fn, config=ID_CFG)
    assert fp.ok and fp.text == text, (fp.text, [e.to_dict() for e in fp.evidence[:3]])


def test_identify_warns_on_square_layers():
    fp = identify(F.kaiming_normal, layers=["dense(64,64)", "conv2d(16,16,k=3)"], config=ID_CFG)
    assert "cannot be told apart" in fp.warning


def test_a_catalogue_dtype_no_initializer_takes_is_refused_exit_2(capsys):
    """Known-bad (TRIAL1 item 2): ``audit numpy --dtype bfloat16`` printed ``0 tensors`` and exited 0.  numpy's
    catalogue takes no dtype: one line saying nothing would be audited, exit 2; the API raises the same."""
    from invariants import audit
    from invariants.core.errors import UsageError

    assert cli.main(["audit", "numpy", "--dtype", "bfloat16"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing would be audited" in err[0] and "float32 only" in err[0], err
    with pytest.raises(UsageError, match="no initializer of the numpy catalogue can be asked for a dtype"):
        audit.catalogue("numpy", dtype="float16")


@pytest.mark.parametrize("verdicts, code", [(["skipped", "skipped"], 2), ([], 2), (["skipped", "conforms"], 0)])
def test_a_catalogue_run_that_checked_nothing_exits_2(verdicts, code, monkeypatch, capsys):
    """Known-bad: a catalogue report whose every result is skipped (or that has none) is no pass: exit 2 with a
    line saying nothing was audited, after the report; known-good: one checked tensor and the exit is 0."""
    import invariants.audit as A
    from invariants.audit.auditor import AuditReport, skipped_result

    def fake(framework, cfg, **kw):
        results = [skipped_result(f"t{i}", "not audited") for i, v in enumerate(verdicts) if v == "skipped"]
        if "conforms" in verdicts:
            from dataclasses import replace
            results.append(replace(skipped_result("ok", ""), verdict="conforms"))
        return AuditReport(results=results, frameworks=(framework,))

    monkeypatch.setattr(A, "catalogue", fake)
    assert cli.main(["audit", "numpy", "-q"]) == code
    err = capsys.readouterr().err
    assert ("nothing was audited: 0 of" in err) == (code == 2), err


def test_zero_or_none_removes_a_resource_limit_as_for_timeout():
    """TRIAL1 item 14: ``--max-seconds 0`` was an error while ``--timeout 0`` means no limit.  Now 0 (any unit
    for a size), none or off remove --max-memory/--max-seconds too; a malformed value is still refused."""
    import argparse

    from invariants.cli.common import limits_of
    from invariants.core.cost import DEFAULT_MAX_BYTES, Limits
    from invariants.core.errors import UsageError

    def limits(memory, seconds):
        return limits_of(argparse.Namespace(max_memory=memory, max_seconds=seconds))

    assert limits("0", "0") == Limits(None, None) == limits("none", "off") == limits("0G", "0.0")
    assert limits(None, "0") == Limits(DEFAULT_MAX_BYTES, None) and limits("1K", "5") == Limits(1024, 5.0)
    for bad in ("-1", "never", "nan"):
        with pytest.raises(UsageError, match="--max-seconds: .* is not a positive number of seconds"):
            limits(None, bad)


def test_a_single_target_that_checked_nothing_exits_2(capsys):
    """Known-bad: every layer zero-size, the report is all ``skipped``: exit 2 and the line; known-good: one
    real layer beside it is audited and the exit is 0."""
    target = "audit_fixtures:normal_002"
    assert cli.main(["audit", target, "--expect", "normal(std=0.02)", "--layer", "dense(0,4)", "-q"]) == 2
    assert f"nothing was audited: 0 of 1 tensors of {target} were checked" in capsys.readouterr().err
    assert cli.main(["audit", target, "--expect", "normal(std=0.02)", "--layer", "dense(0,4)", "--layer",
                     "dense(30,20)", "--rel-error", "0.2", "-q"]) == 0
