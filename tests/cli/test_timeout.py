"""The per-call initializer timeout on the command line and in the API (issue 16, item 3): an initializer that
hangs (a busy loop, a ``time.sleep(1e6)``) is that subject's bad input — one line naming the initializer and
the limit, exit 2 for a single target; in a catalogue that subject is an ``error`` (not checked, never a pass)
and the run goes on.  A known-good initializer passes under the same limit.  Limits are 0.2 s here."""
from __future__ import annotations

import json

import pytest

from invariants import audit, cli, schemas
from invariants.frameworks.errors import InitializerTimedOut

ME = "cli_targets"
LIMIT = ["--timeout", "0.2"]
SMALL = ["--layer", "dense(30,10)", "--rel-error", "0.2"]


def one_line(rc, out, err, words):
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in out + err and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("invariants: error: ") and all(w in err for w in words), err


@pytest.mark.parametrize("name", ["spins", "sleeps"])
@pytest.mark.parametrize("command", ["audit", "identify"])
def test_a_hanging_initializer_is_one_line_and_exit_2(command, name, capsys):
    extra = ["--expect", "he_normal"] if command == "audit" else []
    rc = cli.main([command, f"{ME}:{name}"] + extra + LIMIT)
    out, err = capsys.readouterr()
    one_line(rc, out, err, [f"{name} did not return within 0.2 s", "--timeout"])


@pytest.mark.parametrize("command", ["audit", "identify"])
def test_a_good_initializer_passes_under_the_limit_and_the_json_says_which(command, tmp_path, capsys):
    path = tmp_path / "out.json"
    extra = ["--expect", "normal(std=0.2582)"] if command == "audit" else []
    rc = cli.main([command, f"{ME}:he"] + extra + SMALL + LIMIT + ["--json", str(path)])
    capsys.readouterr()
    data = json.loads(path.read_text())
    schemas.validate(data, command)
    assert rc == 0 and data["ok"], data["summary"]
    assert data["config"]["timeout"] == 0.2 and data["config"]["timeout_enforced"] is True


@pytest.mark.parametrize("off", ["0", "none"])
def test_timeout_0_or_none_disables_it(off, tmp_path, capsys):
    path = tmp_path / "out.json"
    cli.main(["audit", f"{ME}:he", "--expect", "normal(std=0.2582)"] + SMALL + ["--timeout", off, "--json", str(path)])
    capsys.readouterr()
    data = json.loads(path.read_text())
    schemas.validate(data, "audit")
    assert data["config"]["timeout"] is None and data["config"]["timeout_enforced"] is False


def test_the_default_is_generous_and_recorded(tmp_path, capsys):
    path = tmp_path / "out.json"
    cli.main(["audit", f"{ME}:he", "--expect", "normal(std=0.2582)"] + SMALL + ["--json", str(path)])
    capsys.readouterr()
    assert json.loads(path.read_text())["config"]["timeout"] == audit.DEFAULT_TIMEOUT == 120.0


def test_in_a_catalogue_a_hang_is_an_error_result_and_the_run_goes_on(monkeypatch, tmp_path, capsys):
    from fake_catalogue import fake_catalogue

    fake_catalogue(monkeypatch, [f"{ME}:he", f"{ME}:spins", f"{ME}:he"])
    path = tmp_path / "out.json"
    rc = cli.main(["audit", "numpy", "--quiet", "--rel-error", "0.2"] + LIMIT + ["--json", str(path)])
    capsys.readouterr()
    data = json.loads(path.read_text())
    schemas.validate(data, "audit")
    verdicts = [r["verdict"] for r in data["results"]]
    assert verdicts == ["conforms", "error", "conforms"], data["summary"]
    assert "spins did not return within 0.2 s (the per-call timeout)" in data["results"][1]["message"]
    assert rc == 1 and data["ok"] is False  # never a pass


# ------------------------------------------------------------------------------------------ the API


def spins(shape, rng):
    while True:
        pass


def good(shape, rng):
    return rng.normal(0.0, 0.2582, size=shape)


def test_the_api_raises_an_api_worded_timeout():
    with pytest.raises(InitializerTimedOut) as info:
        audit.initializer(spins, expect="he_normal", layer="dense(30,10)", timeout=0.2)
    message = str(info.value)
    assert "spins did not return within 0.2 s" in message and "--" not in message
    with pytest.raises(InitializerTimedOut, match="did not return within 0.2 s"):
        audit.identify(spins, timeout=0.2)


def test_the_api_passes_a_good_initializer_under_the_limit():
    from invariants.audit.auditor import AuditConfig

    report = audit.initializer(good, expect="normal(std=0.2582)", layer="dense(30,10)",
                               config=AuditConfig(rel_error=0.2), timeout=0.2)
    assert report.ok and report.config["timeout"] == 0.2 and report.config["timeout_enforced"] is True
