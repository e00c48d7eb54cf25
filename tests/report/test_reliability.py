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

def _clock(audit_s, samplers_s, raw_s, raw_range_s, ratio, ratio_range, statistics, statistics_range):
    """One clock's figures of a raw-sampling record (``benchmarks/raw_sampling.py``)."""
    return {"audit_s": audit_s, "samplers_s": samplers_s, "raw_s": raw_s, "raw_range_s": raw_range_s,
            "audit_over_raw": ratio, "audit_over_raw_range": ratio_range, "statistics_over_raw": statistics,
            "statistics_over_raw_range": statistics_range}


MEASURED = {"measured": "2026-01-01", "machine": "2 cores", "load_at_start": 0.3, "command": "python benchmarks/x.py"}
BENCH = {
    "efficiency": dict(MEASURED, limits=[
        {"law": "normal", "n": 10000, "reps": 2000, "side": "+d", "measured": 0.1079, "ci95": [0.1034, 0.1123],
         "limit": 0.1068, "limit_is": "chi2", "checks": 5, "alpha_family": 5e-6, "limit_family": 0.1018},
        {"law": "normal", "n": 10000, "reps": 2000, "side": "-d", "measured": 0.0988, "ci95": [0.0971, 0.1019],
         "limit": 0.0976, "limit_is": "chi2", "checks": 5, "alpha_family": 5e-6, "limit_family": 0.09333},
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
    "tail-calibration": dict(MEASURED, alpha=1e-6, bits=23, values_per_tail=2e8, checks=[
        {"check": "chi2_variance", "law": "normal", "n": 1000, "rate": 1e-6, "ci95": [1e-6, 1e-6], "method": "exact",
         "alpha": 1e-6, "ratio": 1.0, "flagged": False},
        {"check": "extremes", "law": "uniform", "n": 1000, "rate": 9.998e-7, "ci95": [9.998e-7, 9.998e-7],
         "method": "exact", "alpha": 1e-6, "ratio": 0.9998, "flagged": False},
        {"check": "moment_variance", "law": "uniform", "n": 1000, "rate": 1.026e-6, "ci95": [1.02e-6, 1.03e-6],
         "method": "importance sampling", "alpha": 1e-6, "ratio": 1.026, "flagged": True},
        {"check": "moment_variance", "law": "uniform", "n": 100000, "rate": 1.001e-6, "ci95": [9.7e-7, 1.03e-6],
         "method": "importance sampling", "alpha": 1e-6, "ratio": 1.001, "flagged": False},
    ]),
    "raw-sampling": dict(MEASURED, rel_error=0.01, frameworks=[
        {"framework": "numpy", "values": 9_300_000, "compile_s": 0.0, "compile_range_s": [0.0, 0.0],
         "cpu": _clock(6.0, 0.9, 0.2, [0.19, 0.21], 30.0, [28.0, 33.0], 25.5, [24.0, 27.0]),
         "wall": _clock(6.1, 0.9, 0.2, [0.19, 0.22], 30.5, [27.0, 34.0], 26.0, [24.0, 28.0])},
        {"framework": "jax", "values": 9_000_000, "compile_s": 12.5, "compile_range_s": [12.1, 13.0],
         "cpu": _clock(20.0, 15.0, 0.25, [0.2, 0.3], 80.0, [60.0, 110.0], 20.0, [15.0, 26.0]),
         "wall": _clock(20.0, 15.0, 0.25, [0.2, 0.3], 80.0, [60.0, 110.0], 20.0, [15.0, 26.0])},
    ]),
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
    # at the set's family-wise alpha (5 checks x 1e-6) first, the simulation's interval beside every ratio
    assert ("0.108 (+) / 0.0988 (−) = 1.06 [1.02, 1.10] / 1.06 [1.04, 1.09] × the limit (at α = 10⁻⁶ for the test "
            "alone: 1.01 [0.97, 1.05] / 1.01 [0.99, 1.04])") in t
    assert "n = 10⁴" in t  # the smallest simulated n is quoted
    assert "0.00095 (+) / 0.00574 (−) = 1.03 [0.93, 1.13] / 0.99 [0.99, 0.99] × the exact limit at the same" in t
    assert "100.0% [99.9, 100.0] / 90.2% [89.1, 91.2] / 36.5% [34.8, 38.1]" in t
    assert "0 (union bound 0.075; false-alarm rate per audit ≤ 3.69·10⁻⁴, 95%)" in t
    assert "at most 1.0000 α; 0 of 2 above α" in t
    assert "1.026 [1.020, 1.030] (above α) / 1.001 [0.970, 1.030]" in t
    assert "numpy 30× [28, 33], jax 80× [60, 110]" in t
    assert "jax 12.5 s [12.1, 13.0] of 20.0 s" in t
    assert "drawing time" not in t  # the old, compile-inflated denominator is gone from the summary
    assert "13× → 200× slower" in t
    assert "89 s vs 137 s (1.53×), 0 outcomes differ" in t
    assert "20 runs, 0 with failures (failure rate per run [0%, 17%], 95%)" in t


def test_a_flake_record_older_than_the_suite_says_which_suite_it_ran():
    """The flake row names the suite it ran; a record of fewer tests than the scale-out record counts says it was
    not re-run (mutation self-test: the same record on an equal suite says nothing of the kind)."""
    stale = R.summary_table(dict(BENCH, scaleout=dict(BENCH["scaleout"], tests=3000)))
    assert "on the 963-test suite of" in stale and "not re-run on the 3000 tests" in stale
    current = R.summary_table(dict(BENCH, scaleout=dict(BENCH["scaleout"], tests=963)))
    assert "on the 963-test suite of" in current and "not re-run" not in current


def test_missing_sections_say_how_to_record_them():
    t = R.summary_table({"flake": BENCH["flake"]})
    for script in ("efficiency.py", "calibration.py", "tail_calibration.py", "raw_sampling.py", "speed.py",
                   "scaleout.py"):
        assert f"`python benchmarks/{script} --record`" in t
    assert "20 runs, 0 with failures" in t


def test_methods_section_names_date_command_and_failures():
    bench = copy.deepcopy(BENCH)
    bench["flake"].update(failed_runs=1, failing_tests=["tests/test_x.py::test_y"])
    body = "\n".join(R.section(bench))
    for head in ("### Statistical efficiency", "### Calibration", "### Tail calibration",
                 "### Audit cost against raw sampling", "### Speed", "### Scale-out", "### Flakes"):
        assert head in body
    assert "*Measured 2026-01-01 with `python benchmarks/x.py`" in body
    bench["efficiency"]["parts"] = {"AB": dict(MEASURED, measured="2026-02-02", command="python benchmarks/e.py --only AB")}
    assert "*Part AB re-measured 2026-02-02 with `python benchmarks/e.py --only AB`" in "\n".join(R.section(bench))
    assert "**1 runs with failures** (`tests/test_x.py::test_y`)" in body
    assert "| normal | 10⁵ | 300 | −d | 0.0312 [0.0292, 0.0345] | 0.0318 (χ²) | 0.98 [0.92, 1.08] |" in body
    assert "| `moment_variance` | uniform | 10³ | 1.03·10⁻⁶ [1.02·10⁻⁶, 1.03·10⁻⁶] | 1.026 [1.020, 1.030] (above α) |" in body
    assert "| numpy | 9.3 M | 6.0 | 0.9 | – | 0.200 [0.190, 0.210] | 30× [28, 33] | 26× [24, 27] | 30× [27, 34] |" in body


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
    # a partial run replaces only its keys and records its own provenance under "parts"
    bench_common.record(path, "flake", {"wall_s": [1, 2]}, part="X")
    data = json.loads(path.read_text())
    assert data["flake"]["runs"] == 3 and data["flake"]["wall_s"] == [1, 2]
    assert data["flake"]["command"] == "python benchmarks/flake_check.py --runs 3 --workers=2"
    assert data["flake"]["parts"]["X"]["command"] == "python benchmarks/flake_check.py --runs 3 --workers=2"


def test_tail_sections_show_each_figure_with_its_interval():
    """The point-mass, Haar and low-precision calibrations: the least favourable row of each, in units of α with its
    interval, in the summary; every row in the methods page."""
    def row(rate, lo, hi, **kw):
        return dict(rate=rate, ci95=[lo, hi], alpha=1e-6, ratio=rate / 1e-6, flagged=lo > 1e-6, method="m", **kw)

    tail = copy.deepcopy(BENCH["tail-calibration"])
    tail["point_mass"] = [row(9.99e-7, 9.98e-7, 9.99e-7, check="point_mass", law="normal_std_0.7071", k=3, n=751,
                              cells="23-bit lattice (jax, mlx)", sizes=[4, 751, 16_000_000])]
    tail["point_mass_before_fix"] = {"checks": [row(2.62e-6, 2.61e-6, 2.62e-6, check="point_mass", law="normal", k=12,
                                                    n=4_183_307, cells="23-bit lattice (jax, mlx)", sizes=[4])]}
    tail["haar"] = [row(8.47e-7, 8.47e-7, 8.47e-7, check="haar_signs", shape=[64, 64], draws=8, bits=23,
                        rounding_over_allowance=0.02)]
    tail["low_precision"] = [row(4.4e-9, 4.1e-9, 4.7e-9, check="quantized_variance", law="normal", format="bfloat16",
                                 sampler="rounded", n=50, bits=7, cdf_distance_over_allowance=0.049,
                                 largest_atom_over_cell_bound=0.07)]
    bench = dict(BENCH, **{"tail-calibration": tail})
    t = R.summary_table(bench)
    assert "at most 0.999 [0.998, 0.999] (normal_std_0.7071, 23-bit lattice (jax, mlx), n = 751)" in t
    assert "up to 2.620 [2.610, 2.620] (above α)" in t
    assert "at most 0.847 [0.847, 0.847] (haar_signs); 0 of 1 with an upper end above α" in t
    assert "at most 0.004 [0.004, 0.005] (quantized_variance, bfloat16, n = 50)" in t
    page = "\n".join(R.section(bench))
    assert "2⁻²³" in page and "haar_signs" in page and "bfloat16" in page


def test_timings_name_the_cpu_that_measured_them():
    # verify ran about 2x slower on the AVX2 machine of 2026-12-06 than on the AVX-512 one: a timing row names its CPU,
    # and a record made before the CPU was stored says so instead of passing for this machine's figure
    bench = copy.deepcopy(BENCH)
    t = R.summary_table(bench)
    assert "15.6 s (2026-01-01, CPU not recorded)" in t
    bench["speed"]["verify"] = dict(MEASURED, cpu="AMD EPYC (x86_64, NumPy SIMD X86_V3)", exit_code=0, wall_s=14.3,
                                    runs=3, wall_range_s=[13.9, 15.1])
    bench["scaleout"]["cpu"] = "Intel Xeon (x86_64, NumPy SIMD AVX512_SKX)"
    t = R.summary_table(bench)
    assert "14.3 s [13.9, 15.1], median of 3 runs (2026-01-01, AMD EPYC (x86_64, NumPy SIMD X86_V3))" in t
    assert "0 outcomes differ (2026-01-01, Intel Xeon (x86_64, NumPy SIMD AVX512_SKX))" in t
    bench["speed"]["verify"].update(runs=1, wall_range_s=[14.3, 14.3])
    assert "14.3 s, one run (2026-01-01" in R.summary_table(bench)
    bench["speed"]["verify"]["exit_code"] = 1  # a failed verify's seconds are no timing of verify
    assert "failed (exit code 1): no timing" in R.summary_table(bench)
