"""The command line's one exception boundary and its output-path checks (issue 16, items 1 and 2).

- Ctrl-C (a ``KeyboardInterrupt`` raised by a fake initializer, model factory, evidence function or the
  auditor mid-catalogue) exits 130 with one line, and the results finished so far are written where ``--json``
  asked, marked ``interrupted`` and valid against the command's schema.
- ``SystemExit`` raised by user code is that subject's error: one line, exit 2 (never the code it asked for).
- A framework that is not installed is exit 2, never 0.
- ``check-model`` never says HEALTHY when the probe could not run or measured nothing.
- An unwritable ``--json`` / ``--out`` is refused before any work.
"""
from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
import pytest

from invariants import cli, schemas
from invariants.claims import registry
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict

ME = __name__
LAYER = ["--layer", "dense(30,10)"]


def ok(shape, rng):
    return rng.normal(0.0, math.sqrt(2.0 / shape[1]), size=shape)


def ctrl_c(shape, rng):
    raise KeyboardInterrupt


def exits(shape, rng):
    sys.exit(3)


def factory_ctrl_c():
    raise KeyboardInterrupt


def factory_exits():
    raise SystemExit("bye")


def _torch():
    return pytest.importorskip("torch")


def mlp():
    torch = _torch()
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))


def forward_exits():
    torch = _torch()

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(8, 16)

        def forward(self, x):
            sys.exit(4)

    return M()


def bare_lstm():
    torch = _torch()
    torch.manual_seed(0)
    return torch.nn.LSTM(8, 16)


def no_parameters():
    torch = _torch()
    return torch.nn.Sequential(torch.nn.ReLU())


def triple():
    torch = _torch()
    return torch.nn.Linear(8, 4), 1, 2


def nan_weights():
    model = mlp()
    with _torch().no_grad():
        model[0].weight[0, 0] = float("nan")
        model[2].weight[1, 1] = float("inf")
    return model


def one_line(rc, out, err, code, words=""):
    assert rc == code, (rc, out, err)
    assert "Traceback" not in err + out
    assert len(err.splitlines()) == 1, err
    assert err.startswith("invariants: ") and words in err, err


# ------------------------------------------------------------------------------------------ Ctrl-C


def interrupted_json(argv, schema, tmp_path, capsys):
    """Run ``argv --json PATH``; assert exit 130 with one line naming PATH; the JSON, valid against ``schema``,
    marked interrupted and not ok."""
    path = tmp_path / "partial.json"
    rc = cli.main(argv + ["--json", str(path)])
    out, err = capsys.readouterr()
    one_line(rc, out, err, 130, f"interrupted; partial results written to {str(path)!r}")
    data = json.loads(path.read_text())
    schemas.validate(data, schema)
    assert data["interrupted"] is True and data["ok"] is False
    return data


def test_ctrl_c_in_an_initializer_exits_130_and_writes_the_partial_audit(tmp_path, capsys):
    data = interrupted_json(["audit", f"{ME}:ctrl_c", "--expect", "he_normal"] + LAYER, "audit", tmp_path, capsys)
    assert data["results"] == []


def test_ctrl_c_mid_catalogue_keeps_the_tensors_audited_before(tmp_path, capsys, monkeypatch):
    import invariants.audit.auditor as auditor

    real, calls = auditor.audit_subject, []

    def second_is_interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(auditor, "audit_subject", second_is_interrupted)
    data = interrupted_json(["audit", "numpy", "--quiet", "--rel-error", "0.2"], "audit", tmp_path, capsys)
    assert len(data["results"]) >= 1
    assert data["summary"].endswith(", interrupted") and data["versions"]["frameworks"] == {"numpy": np.__version__}


def test_ctrl_c_in_a_model_factory_writes_an_interrupted_report(tmp_path, capsys):
    data = interrupted_json(["check-model", f"{ME}:factory_ctrl_c"], "check-model", tmp_path, capsys)
    assert data["status"] != "healthy"


def test_ctrl_c_in_identify_writes_an_interrupted_fingerprint(tmp_path, capsys):
    data = interrupted_json(["identify", f"{ME}:ctrl_c"], "identify", tmp_path, capsys)
    assert data["spec"] is None


def _claim(cid, fn):
    return Claim(id=cid, title=f"title of {cid}", seed_quotes=("q",), statement="s", verdict=Verdict.VERIFIED,
                 evidence=(Evidence("experiment", "e", fn),))


def test_ctrl_c_in_verify_keeps_the_claims_finished(tmp_path, capsys, monkeypatch):
    def interrupted():
        raise KeyboardInterrupt

    claims = [_claim("T-A-01", lambda: EvidenceResult(True, "ok")), _claim("T-B-01", interrupted),
              _claim("T-C-01", lambda: EvidenceResult(True, "ok"))]
    monkeypatch.setattr(registry, "all_claims", lambda: list(claims))
    data = interrupted_json(["verify", "--quiet", "--jobs", "1"], "verify", tmp_path, capsys)
    assert [c["id"] for c in data["claims"]] == ["T-A-01"]


def test_ctrl_c_without_json_is_one_line(capsys):
    rc = cli.main(["audit", f"{ME}:ctrl_c", "--expect", "he_normal"] + LAYER)
    out, err = capsys.readouterr()
    one_line(rc, out, err, 130, "interrupted")
    assert err == "invariants: interrupted\n"


# -------------------------------------------------------------------------------------- SystemExit


@pytest.mark.parametrize("argv, words", [
    (["audit", f"{ME}:exits", "--expect", "he_normal"] + LAYER, "exits raised SystemExit(3) (it called sys.exit)"),
    (["identify", f"{ME}:exits"], "exits raised SystemExit(3)"),
    (["check-model", f"{ME}:factory_exits"], "factory_exits() raised SystemExit('bye')"),
], ids=["initializer", "identify", "factory"])
def test_system_exit_from_user_code_is_the_subjects_error(argv, words, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    one_line(rc, out, err, 2, words)


def test_system_exit_in_forward_is_a_failed_probe_not_an_exit(capsys):
    rc = cli.main(["check-model", f"{ME}:forward_exits", "--quiet"])
    out, _ = capsys.readouterr()
    assert rc == 3 and "SystemExit" in out and "INCOMPLETE" in out


def test_system_exit_anywhere_else_is_exit_2_in_one_line(monkeypatch, capsys):
    import invariants.cli.verify as verify_cli

    def exits(*_):
        raise SystemExit(7)

    monkeypatch.setattr(verify_cli, "load_claims", exits)
    rc = cli.main(["verify"])
    out, err = capsys.readouterr()
    one_line(rc, out, err, 2, "user code called sys.exit(7) during verify")


# ------------------------------------------------------------------------------ missing frameworks


@pytest.fixture
def no_keras(monkeypatch):
    """Keras looks uninstalled: the adapters' ``find_spec`` does not find it."""
    import invariants.frameworks.base as adapters

    real = adapters.importlib.util.find_spec
    monkeypatch.setattr(adapters.importlib.util, "find_spec", lambda name, *a: None if name == "keras" else real(name, *a))


@pytest.mark.parametrize("argv", [["audit", "keras"], ["audit", f"{ME}:ok", "--framework", "keras", "--expect",
                                                          "he_normal"], ["identify", f"{ME}:ok", "--framework", "keras"]],
                         ids=["catalogue", "audit-callable", "identify"])
def test_a_framework_that_is_not_installed_is_exit_2(argv, no_keras, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    one_line(rc, out, err, 2, "not available: pip install keras")


def test_check_model_of_a_framework_that_is_not_installed_is_exit_2(no_keras, capsys):
    rc = cli.main(["check-model", f"{ME}:mlp", "--framework", "keras"])
    out, err = capsys.readouterr()
    one_line(rc, out, err, 2, "keras is not installed")


# --------------------------------------------------------------------- check-model: never a silent pass


@pytest.mark.parametrize("target, extra, code, words", [
    ("bare_lstm", [], 3, "no layer with output units was measured"),
    ("no_parameters", [], 3, "the model has no parameters: nothing to check"),
    ("mlp", ["--input-shape", "3,5"], 3, "the probe pass failed on the given example input of shape (3, 5)"),
    ("forward_exits", [], 3, "the probe pass failed"),
    ("nan_weights", [], 1, "holds 1 NaN and 0 infinite values"),
    ("mlp", [], 0, "HEALTHY"),
], ids=["bare-lstm", "no-parameters", "input-shape-mismatch", "forward-raises", "nan-inf-weights", "healthy-twin"])
def test_check_model_says_what_it_did_not_check(target, extra, code, words, capsys, tmp_path):
    path = tmp_path / "m.json"
    rc = cli.main(["check-model", f"{ME}:{target}", "--quiet", "--json", str(path)] + extra)
    out, err = capsys.readouterr()
    assert rc == code, (out, err)
    assert "Traceback" not in out + err and words in out, out
    data = json.loads(path.read_text())
    schemas.validate(data, "check-model")
    assert data["exit_code"] == code and (data["status"] == "healthy") == (code == 0)
    if code == 3:
        assert not data["coverage"]["complete"] and "HEALTHY" not in out.replace("UNHEALTHY", "")


@pytest.mark.parametrize("argv, words", [
    (["check-model", f"{ME}:triple"], "got a 3-tuple (Linear, int, int)"),
    (["check-model", f"{ME}:mlp", "--framework", "keras"], "the object is a torch.nn.modules.container.Sequential, "
                                                             "not a keras model"),
], ids=["factory-returns-3-tuple", "keras-for-torch"])
def test_check_model_refuses_malformed_objects_in_one_line(argv, words, capsys):
    _torch()
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    one_line(rc, out, err, 2, words)


# ------------------------------------------------------------------------------------ output paths


CALLS: list[int] = []


def counted(shape, rng):
    CALLS.append(1)
    return ok(shape, rng)


@pytest.mark.parametrize("path, words", [
    ("/proc/invariants-b16.json", "cannot write '/proc/invariants-b16.json'"),
    ("/nonexistent-b16/x.json", "does not exist"),
    ("/sys/invariants-b16.json", "cannot write"),
], ids=["proc", "no-directory", "sys"])
@pytest.mark.parametrize("command", ["audit", "identify", "check-model", "verify"])
def test_an_unwritable_json_path_is_refused_before_any_work(command, path, words, capsys):
    CALLS.clear()
    argv = {"audit": ["audit", f"{ME}:counted", "--expect", "he_normal"] + LAYER,
            "identify": ["identify", f"{ME}:counted"],
            "check-model": ["check-model", f"{ME}:factory_exits"],  # would be exit 2 with another line if it ran
            "verify": ["verify", "--only", "NO-SUCH-CLAIM"]}[command]
    t0 = time.perf_counter()
    rc = cli.main(argv + ["--json", path])
    out, err = capsys.readouterr()
    one_line(rc, out, err, 2, f"--json: {words}" if "does not exist" not in words else words)
    assert CALLS == [] and time.perf_counter() - t0 < 5


def test_the_json_path_check_keeps_an_existing_file_and_leaves_no_new_one(tmp_path):
    from invariants.core.paths import check_output_file

    kept = tmp_path / "kept.json"
    kept.write_text("old")
    check_output_file(str(kept), "--json")
    assert kept.read_text() == "old"
    new = tmp_path / "new.json"
    check_output_file(str(new), "--json")
    assert not new.exists()


@pytest.mark.parametrize("out, words", [
    ("/proc/invariants-b16-docs", "--out: cannot write '/proc/invariants-b16-docs'"),
    ("/proc/version/docs", "'/proc/version' is not a directory"),
], ids=["proc", "under-a-file"])
def test_an_unwritable_report_out_is_refused_before_any_evidence(out, words, monkeypatch, capsys):
    import invariants.report.site as site

    def never(*a, **k):
        raise AssertionError("the report ran")

    monkeypatch.setattr(site, "build_site", never)
    rc = cli.main(["report", "--out", out, "--quiet"])
    o, err = capsys.readouterr()
    one_line(rc, o, err, 2, words)
