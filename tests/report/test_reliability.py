"""The recorded benchmark figures: the README's reliability table is rendered from
``docs/data/benchmarks.json`` (so the README, the methods page and the last recorded run agree), the
renderer handles missing sections, and the benchmarks' ``--record`` keeps other sections and leaves
output paths out of the recorded command.  Fast: nothing is measured here.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from invariants.report import reliability as R

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

MEASURED = {"measured": "2026-01-01", "machine": "2 cores", "load_at_start": 0.3, "command": "python benchmarks/x.py"}
BENCH = {
    "efficiency": dict(MEASURED, limits=[
        {"law": "normal", "n": 10000, "reps": 2000, "side": "+d", "measured": 0.1079, "ci95": [0.1034, 0.1123],
         "limit": 0.1068, "limit_is": "chi2"},
        {"law": "normal", "n": 10000, "reps": 2000, "side": "-d", "measured": 0.0988, "ci95": [0.0971, 0.1019],
         "limit": 0.0976, "limit_is": "chi2"},
        {"law": "normal", "n": 100000, "reps": 300, "side": "+d", "measured": 0.0317, "ci95": [0.0307, 0.0339],
         "limit": 0.0327, "limit_is": "chi2"},
        {"law": "normal", "n": 100000, "reps": 300, "side": "-d", "measured": 0.0312, "ci95": [0.0292, 0.0345],
         "limit": 0.0318, "limit_is": "chi2"},
        {"law": "uniform", "n": 10000, "reps": 2000, "side": "+d", "measured": 9.5e-4, "ci95": [8.58e-4, 1.04e-3],
         "limit": 9.22e-4, "limit_is": "support"},
        {"law": "uniform", "n": 10000, "reps": 2000, "side": "-d", "measured": 5.74e-3, "ci95": [5.73e-3, 5.75e-3],
         "limit": 5.79e-3, "limit_is": "extremes"},
    ], kill={"mutants": 33, "seeds": 20, "mutant_audits": 660, "values": [20016, 120000],
             "killed": {"ours": 660, "ks_equal_n": 600, "ks_small_n": 240}, "ks_small_n_values": 625,
             "correct_audits": 240, "false_alarms": {"ours": 0, "ks_equal_n": 0, "ks_small_n": 0}}),
    "calibration": dict(MEASURED, correct={
        "initializers": 12, "seeds_each": 834, "audits": 10008, "checks": 75060, "false_alarms": 0,
        "expected_false_alarms": 0.0751, "p_le_0.01": {"chi2_variance": 0.0096, "extremes": 0.0101}},
        mutants={"mutants": 33, "seeds_each": 100, "audits": 3300, "killed": 3300, "ks_equal_n": 2976,
                 "ks_small_n": 1203}),
    "speed": dict(MEASURED, rel_error=0.01,
                  catalogue=[{"framework": "numpy", "tensors": 21, "values": 8_300_000, "audit_s": 2.0, "drawing_s": 0.28},
                             {"framework": "torch", "tensors": 55, "values": 17_400_000, "audit_s": 8.1,
                              "drawing_s": 1.52}],
                  verify={"exit_code": 0, "wall_s": 15.6},
                  kernel=[{"width": 16, "batch": 32, "exact_ms": 0.78, "blas_ms": 0.058},
                          {"width": 256, "batch": 32, "exact_ms": 300.0, "blas_ms": 1.5}]),
    "scaleout": dict(MEASURED, workers="2", dist="loadfile", tests=964, serial_s=137.0, parallel_s=89.4,
                     differing_outcomes=0, failing=0, serial_exit=0, parallel_exit=0),
    "flake": dict(MEASURED, runs=20, failed_runs=0, workers="2", profile="flake", tests_passed_per_run=[963],
                  wall_s=[98, 121], failing_tests=[]),
}


def _readme_table() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("| what | figure |")
    end = text.index("\n\n", start)
    return text[start:end]


def test_readme_table_is_rendered_from_the_recorded_figures():
    bench = R.load(DOCS)
    assert _readme_table() == R.summary_table(bench), (
        "README.md's reliability table differs from docs/data/benchmarks.json; paste "
        "`python -c 'from invariants.report import reliability as R; print(R.summary_table(R.load(\"docs\")))'`")


def test_readme_check_rejects_a_changed_figure():
    """Mutation self-test: one recorded number changed gives a different table."""
    bench = copy.deepcopy(R.load(DOCS))
    bench["flake"] = dict(BENCH["flake"], failed_runs=bench.get("flake", {}).get("failed_runs", 0) + 1)
    assert R.summary_table(bench) != _readme_table()


def test_summary_computes_ratios_from_the_record():
    t = R.summary_table(BENCH)
    assert "0.108 (+) / 0.0988 (−) = 1.01 / 1.01 × the exact χ² limit" in t
    assert "n = 10⁴" in t  # the smallest simulated n is quoted
    assert "100% / 90.2% / 36.5%" in t
    assert "0 (union bound 0.075)" in t
    assert "numpy 7.1, torch 5.3" in t
    assert "13× → 200× slower" in t
    assert "89 s vs 137 s (1.53×), 0 outcomes differ" in t
    assert "20 runs, 0 with failures" in t


def test_missing_sections_say_how_to_record_them():
    t = R.summary_table({"flake": BENCH["flake"]})
    for script in ("efficiency.py", "calibration.py", "speed.py", "scaleout.py"):
        assert f"`python benchmarks/{script} --record`" in t
    assert "20 runs, 0 with failures" in t


def test_methods_section_names_date_command_and_failures():
    bench = copy.deepcopy(BENCH)
    bench["flake"].update(failed_runs=1, failing_tests=["tests/test_x.py::test_y"])
    body = "\n".join(R.section(bench))
    for head in ("### Statistical efficiency", "### Calibration", "### Speed", "### Scale-out", "### Flakes"):
        assert head in body
    assert "*Measured 2026-01-01 with `python benchmarks/x.py`" in body
    assert "**1 runs with failures** (`tests/test_x.py::test_y`)" in body
    assert "| normal | 10⁵ | 300 | −d | 0.0312 [0.0292, 0.0345] | 0.0318 (χ²) | 0.98 |" in body


@pytest.fixture()
def bench_common(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_common", REPO / "benchmarks" / "_common.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_record_keeps_other_sections_and_drops_output_paths(bench_common, tmp_path, monkeypatch):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"speed": {"x": 1}}))
    monkeypatch.setattr(sys, "argv", ["benchmarks/flake_check.py", "--runs", "3", "--log-dir", "/tmp/l",
                                      "--record", str(path), "--workers=2"])
    bench_common.record(path, "flake", {"runs": 3})
    data = json.loads(path.read_text())
    assert data["speed"] == {"x": 1}
    assert data["flake"]["runs"] == 3
    assert data["flake"]["command"] == "python benchmarks/flake_check.py --runs 3 --workers=2"
    assert {"measured", "machine", "load_at_start"} <= set(data["flake"])
    bench_common.record(None, "flake", {"runs": 4})  # no path: nothing recorded
    assert json.loads(path.read_text())["flake"]["runs"] == 3
