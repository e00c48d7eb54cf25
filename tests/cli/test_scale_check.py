"""``invariants scale-check``: exit codes 0/1/3, the JSON against its schema (and a known-bad twin), --plot,
--quiet and JSON on stdout.  Bad inputs are in test_bad_input.py's catalogue."""
from __future__ import annotations

import copy
import json

import pytest

from invariants import cli, schemas

pytest.importorskip("torch")
jsonschema = pytest.importorskip("jsonschema")
MLP = "invariants.scaling.examples:mlp_"


def run(argv, capsys):
    rc = cli.main(["scale-check"] + argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_fixed_std_family_exits_1_and_its_json_validates(tmp_path, capsys):
    path, plot = tmp_path / "s.json", tmp_path / "s.png"
    rc, out, err = run([MLP + "std002", "--widths", "64,128,256", "--seeds", "6", "--json", str(path),
                        "--plot", str(plot)], capsys)
    assert rc == 1, out + err
    data = json.loads(path.read_text())
    schemas.validate(data, "scale-check")
    assert data["ok"] is False and data["status"] == "findings" and data["exit_code"] == 1
    assert 0 < data["config"]["alpha"] <= 1e-6 and data["config"]["n_fits"] == len(data["rows"])
    assert any("normal(std=0.02)" in f["message"] for f in data["findings"] if f["kind"] == "scaling")
    assert plot.stat().st_size > 1000 and data["plot"] == str(plot)
    assert "MISMATCH" in out and "slope log2/log2 [interval]" in out
    bad = copy.deepcopy(data)
    bad["rows"][0]["verdict"] = "huge"  # the known-bad twin
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(bad, "scale-check")
    del bad["rows"]
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(bad, "scale-check")


def test_a_correct_family_exits_0_and_few_seeds_exit_3(capsys):
    rc, out, _ = run([MLP + "sp", "--widths", "64,128,256,512", "--seeds", "16", "--quiet"], capsys)
    assert rc == 0, out
    assert out.strip().splitlines()[-1].startswith("scale-check invariants.scaling.examples:mlp_sp")
    rc, out, _ = run([MLP + "sp", "--widths", "64,128", "--seeds", "2", "--quiet"], capsys)
    assert rc == 3 and "undecided" in out


def test_json_on_stdout_with_steps_and_expectation(capsys):
    rc, out, err = run([MLP + "mup", "--widths", "64,128,256", "--seeds", "4", "--steps", "0,1", "--expect", "mup",
                        "--json", "-"], capsys)
    data = json.loads(out)
    schemas.validate(data, "scale-check")
    assert rc == data["exit_code"] and {r["kind"] for r in data["rows"]} >= {"update", "output-change", "gain"}
    assert data["config"]["steps"] == [0, 1] and data["config"]["expect"] == "mup"
    assert "scale-check" in err  # the text went to stderr


def interrupts(width):
    raise KeyboardInterrupt


def test_ctrl_c_writes_an_interrupted_report(tmp_path, capsys):
    path = tmp_path / "i.json"
    rc, out, err = run([f"{__name__}:interrupts", "--widths", "8,16", "--json", str(path)], capsys)
    assert rc == 130 and "interrupted; partial results written" in err
    data = json.loads(path.read_text())
    schemas.validate(data, "scale-check")
    assert data["interrupted"] is True and data["status"] == "incomplete" and data["rows"] == []


def test_the_estimate_is_one_line_on_stderr_before_any_model_is_trained(capsys):
    """The cost estimate is printed before the work: the first stderr line, with the JSON's figures (known-bad:
    it was never printed, only checked against the limits); ``--quiet`` prints findings only."""
    from invariants.core.cost import format_seconds
    from invariants.scaling import scale_check

    rc, out, err = run([MLP + "depth_he", "--depths", "2,4", "--width", "8", "--seeds", "3", "--json", "-"], capsys)
    est = json.loads(out)["config"]["estimated"]
    first = err.splitlines()[0]
    assert first.startswith(f"{MLP}depth_he: estimated ".replace(MLP, "scale-check " + MLP))
    assert f"{est['values']:,} values" in first and f"about {format_seconds(est['seconds'])}" in first
    assert sum(": estimated " in line for line in err.splitlines()) == 1
    rc, out, err = run([MLP + "depth_he", "--depths", "2,4", "--width", "8", "--seeds", "3", "--quiet"], capsys)
    assert ": estimated " not in err + out
    events = []
    scale_check(MLP + "depth_he", [2, 4], mode="depth", width=8, seeds=3,
                on_estimate=lambda cost: events.append(("estimate", cost.seconds)),
                progress=lambda i, total, label: events.append(("run", i)))
    assert events[0][0] == "estimate" and events[0][1] > 0 and [e for e, _ in events[1:]] == ["run"] * 6
