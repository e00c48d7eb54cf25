"""The measured reliability figures: the README's summary table and the methods page's section.

The figures come from the benchmark scripts in ``benchmarks/`` run with ``--record``, which store them
with the date, command line, machine and load average in ``docs/data/benchmarks.json`` (one section per
script: ``efficiency``, ``calibration``, ``speed``, ``scaleout``, ``flake``).  They are measurements,
not something ``invariants report`` can recompute in seconds, so the site renders the stored ones, like
the audit pages; a test checks that the README's table is :func:`summary_table` of the same file, so the
README, the docs and the last recorded run cannot disagree.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from invariants.report.markdown import code, table, text

#: where the benchmark scripts' ``--record`` writes, relative to the docs folder
BENCHMARK_DATA = "data/benchmarks.json"

SCRIPTS = {
    "efficiency": "efficiency.py",
    "calibration": "calibration.py",
    "speed": "speed.py",
    "scaleout": "scaleout.py",
    "flake": "flake_check.py",
}
_SIGN = {"+d": "+", "-d": "−"}


def load(docs_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The recorded figures (``<docs>/data/benchmarks.json``); ``{}`` when nothing was recorded."""
    path = Path(docs_dir) / BENCHMARK_DATA
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _num(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}%".replace(".0%", "%")


def _limit_rows(eff: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """``{law: (+d row, −d row)}`` at the smallest simulated n of each law."""
    out = {}
    for law in ("normal", "uniform"):
        rows = [r for r in eff.get("limits", []) if r["law"] == law]
        if rows:
            n = min(r["n"] for r in rows)
            by_side = {r["side"]: r for r in rows if r["n"] == n}
            out[law] = (by_side["+d"], by_side["-d"])
    return out


def _n(n: int) -> str:
    e = len(str(n)) - 1
    return f"10{str(e).translate(str.maketrans('0123456789', '⁰¹²³⁴⁵⁶⁷⁸⁹'))}" if n == 10**e else f"{n:,}"


def summary_table(bench: dict[str, Any]) -> str:
    """The README's reliability table: one row per figure, from the recorded benchmark runs.

    A section that was never recorded gives the row ``not recorded`` with the command that records it.
    """
    rows: list[list[str]] = []

    def missing(section: str) -> str:
        return "not recorded: " + code(f"python benchmarks/{SCRIPTS[section]} --record")

    eff, cal, spd = bench.get("efficiency"), bench.get("calibration"), bench.get("speed")
    sco, flk = bench.get("scaleout"), bench.get("flake")
    lim = _limit_rows(eff) if eff else {}
    if "normal" in lim:
        up, dn = lim["normal"]
        rows.append([f"smallest variance error detected (power 0.99, α = 10⁻⁶), normal law, n = {_n(up['n'])}",
                     f"{_num(up['measured'])} (+) / {_num(dn['measured'])} (−) = {up['measured'] / up['limit']:.2f} / "
                     f"{dn['measured'] / dn['limit']:.2f} × the exact χ² limit"])
    else:
        rows.append(["smallest variance error detected, normal law", missing("efficiency")])
    if "uniform" in lim:
        up, dn = lim["uniform"]
        rows.append([f"same, uniform law: support (+) / extremes (−), n = {_n(up['n'])}",
                     f"{_num(up['measured'])} / {_num(dn['measured'])} = {up['measured'] / up['limit']:.2f} / "
                     f"{dn['measured'] / dn['limit']:.2f} × the exact limit"])
    if cal:
        m = cal["mutants"]
        rows.append([f"mutants killed ({m['mutants']} × {m['seeds_each']} seeds): ours / PyTorch-style KS at equal n / "
                     f"KS on 625 values",
                     f"{_pct(m['killed'], m['audits'])} / {_pct(m['ks_equal_n'], m['audits'])} / "
                     f"{_pct(m['ks_small_n'], m['audits'])}"])
        c = cal["correct"]
        rows.append([f"false alarms on correct initializers ({c['audits']:,} audits, {c['checks']:,} checks at "
                     f"α ≤ 10⁻⁶)", f"{c['false_alarms']} (union bound {_num(c['expected_false_alarms'], 2)})"])
    else:
        rows.append(["mutant kill rate and false alarms on correct initializers", missing("calibration")])
    if spd:
        rows.append(["catalogue audit time / the framework's own drawing time",
                     ", ".join(f"{r['framework']} {r['audit_s'] / r['drawing_s']:.1f}" for r in spd["catalogue"])])
        rows.append([code("invariants verify"), f"{spd['verify']['wall_s']:.1f} s"])
        k = spd["kernel"]
        rows.append([f"exact / BLAS kernel, width {k[0]['width']} → {k[-1]['width']}",
                     f"{k[0]['exact_ms'] / k[0]['blas_ms']:.0f}× → {k[-1]['exact_ms'] / k[-1]['blas_ms']:.0f}× slower"])
    else:
        rows.append(["speed", missing("speed")])
    if sco:
        rows.append([f"test suite ({sco['tests']} tests), {code('pytest -n ' + str(sco['workers']))} vs serial",
                     f"{sco['parallel_s']:.0f} s vs {sco['serial_s']:.0f} s ({sco['serial_s'] / sco['parallel_s']:.2f}×), "
                     f"{sco['differing_outcomes']} outcomes differ"])
    else:
        rows.append(["test suite under pytest-xdist", missing("scaleout")])
    if flk:
        rows.append(["flake check: whole suite in random order with fresh Hypothesis seeds",
                     f"{flk['runs']} runs, {flk['failed_runs']} with failures"])
    else:
        rows.append(["flake check", missing("flake")])
    return table(["what", "figure"], rows)


def _measured(sec: dict[str, Any]) -> str:
    return (f"*Measured {sec['measured']} with {code(sec['command'])} on {text(sec['machine'])}; load average "
            f"{sec['load_at_start']:.2f} at the start.*")


def _subsection(title: str, sec: dict[str, Any], *blocks: str) -> list[str]:
    """A ``### title`` subsection (Markdown lines): each block (a paragraph or a table) and then where and how
    ``sec`` was measured, each followed by a blank line."""
    lines = [f"### {title}", ""]
    for block in (*blocks, _measured(sec)):
        lines += [block, ""]
    return lines


def section(bench: dict[str, Any]) -> list[str]:
    """The methods page's "Measured reliability" section (Markdown lines)."""
    lines = [
        "## Measured reliability",
        "",
        "The error rates and costs above are derived; these are measured, by the scripts in `benchmarks/` "
        "(see `benchmarks/README.md`), and stored with `--record` in `docs/data/benchmarks.json`, from which this "
        "section and the README's table are rendered. Rerun a script with `--record` to refresh its figures.",
        "",
        summary_table(bench),
        "",
    ]
    eff = bench.get("efficiency")
    if eff:
        rows = [[r["law"], _n(r["n"]), f"{r['reps']:,}", _SIGN[r["side"]] + "d",
                 f"{_num(r['measured'], 4)} [{_num(r['ci95'][0], 4)}, {_num(r['ci95'][1], 4)}]",
                 f"{_num(r['limit'], 4)} ({'χ²' if r['limit_is'] == 'chi2' else r['limit_is']})",
                 f"{r['measured'] / r['limit']:.2f}"] for r in eff["limits"]]
        kill = eff["kill"]
        lines += _subsection(
            "Statistical efficiency", eff,
            "The smallest relative variance error that the auditor's whole battery of checks (every check at "
            "α = 10⁻⁶) detects with power 0.99, measured by simulation (the 0.99 quantile of per-sample detection "
            "thresholds, with a 95% order-statistic interval), against the exact limit at the same n: the χ² "
            "test's for a normal law, the support and extreme-value tests' for a uniform one.",
            table(["law", "n", "samples", "error", "measured (95% interval)", "exact limit", "measured / limit"],
                  rows, "lrrlllr"),
            f"At equal sample size ({kill['values'][0]:,}–{kill['values'][1]:,} values), on {kill['mutants']} faulty "
            f"initializers × {kill['seeds']} seeds, the auditor killed {kill['killed']['ours']}/{kill['mutant_audits']}, "
            f"a PyTorch-style test (Kolmogorov–Smirnov against the promised law, failed at p ≤ 10⁻⁴, as in "
            f"PyTorch's own `test_init.py`) {kill['killed']['ks_equal_n']}/{kill['mutant_audits']} on the same values "
            f"and {kill['killed']['ks_small_n']}/{kill['mutant_audits']} on one {kill['ks_small_n_values']}-value "
            f"tensor; false alarms on {kill['correct_audits']} audits of correct initializers: "
            f"{kill['false_alarms']['ours']}, {kill['false_alarms']['ks_equal_n']} and "
            f"{kill['false_alarms']['ks_small_n']}.",
        )
    haar = (eff or {}).get("haar")
    if haar:
        rows = [["non-centred SVD draws, fraction ε", _num(r["eps"]), f"{r['power']:.3f}",
                 f"{r['limit']:.3f} (exact: 1 − (1 − ε)^draws)"] for r in haar.get("mixing", [])]
        rows += [["QR without the sign correction on the first c columns", str(r["columns"]), f"{r['power']:.3f}",
                  f"{r['oracle']:.3f} (oracle binomial test, knows the columns)"] for r in haar.get("sign", [])]
        rows += [["QR of G + μ (mean μ standard deviations)", _num(r["mu"]), f"{r['power']:.3f}", "none computed"]
                 for r in haar.get("shift", [])]
        lines += [
            "### Orthogonal matrices: power of the Haar checks",
            "",
            f"Detection rate of the orthogonal battery (orthonormality and the four Haar checks, each at α = "
            f"{haar['alpha_per_check']:g}) on {haar['n']}×{haar['n']} draws, {haar['draws']} draws per audit, "
            f"{haar['reps']} audits per row; false alarms on Haar draws: {haar.get('false_alarms', '-')}/{haar['reps']}.",
            "",
            table(["departure from Haar", "parameter", "detection rate", "limit / reference"], rows, "lrrl"),
            "",
        ]
    cal = bench.get("calibration")
    if cal:
        c, m = cal["correct"], cal["mutants"]
        prow = [[code(k), f"{v:.4f}"] for k, v in c["p_le_0.01"].items()]
        lines += _subsection(
            "Calibration", cal,
            f"{c['initializers']} correct initializers × {c['seeds_each']} independent seeds = {c['audits']:,} "
            f"audits, {c['checks']:,} checks at α ≤ 10⁻⁶: **{c['false_alarms']} false alarms**, against "
            f"{_num(c['expected_false_alarms'], 2)} expected from the union bound. The exact and asymptotic "
            "checks reject at their nominal rate where a run of this size can see it (fraction of p-values ≤ 0.01, "
            "nominal 0.01; the conservative checks, built on union bounds, reject less often):",
            table(["check", "fraction p ≤ 0.01"], prow, "lr"),
            f"Faulty initializers: {m['mutants']} mutants × {m['seeds_each']} seeds = {m['audits']:,} audits at the "
            f"test suite's configuration, **{m['killed']:,} killed** ({_pct(m['killed'], m['audits'])}); the "
            f"PyTorch-style test killed {m['ks_equal_n']:,} at equal n and {m['ks_small_n']:,} on 625 values.",
        )
    spd = bench.get("speed")
    if spd:
        crow = [[r["framework"], str(r["tensors"]), f"{r['values'] / 1e6:.1f} M", f"{r['audit_s']:.1f}",
                 f"{r['drawing_s']:.2f}", f"{r['audit_s'] / r['drawing_s']:.1f}"] for r in spd["catalogue"]]
        krow = [[str(r["width"]), _num(r["exact_ms"]), _num(r["blas_ms"]), f"{r['exact_ms'] / r['blas_ms']:.0f}×"]
                for r in spd["kernel"]]
        lines += _subsection(
            "Speed", spd,
            f"Each framework's catalogue audited at the default configuration (a {100 * spd['rel_error']:g}% variance "
            "error detected with power 0.99) against the time the framework spends drawing the same tensors from "
            "the same seeds (the copy to numpy included):",
            table(["framework", "tensors", "values", "audit s", "drawing s", "audit / drawing"], crow, "lrrrrr"),
            f"`python -m invariants verify -q` (every claim's evidence, a fresh process): "
            f"{spd['verify']['wall_s']:.1f} s. The reference network's exact kernel against BLAS, one "
            f"`loss_and_grad` of a tanh MLP (w, w, w, w) on a batch of {spd['kernel'][0]['batch']}:",
            table(["width w", "exact ms", "BLAS ms", "exact / BLAS"], krow, "rrrr"),
        )
    sco = bench.get("scaleout")
    if sco:
        lines += _subsection(
            "Scale-out", sco,
            f"The whole test suite ({sco['tests']} tests) serially and under "
            + code(f"pytest -n {sco['workers']} --dist {sco['dist']}")
            + f": {sco['serial_s']:.1f} s and {sco['parallel_s']:.1f} s, a speed-up of "
            f"{sco['serial_s'] / sco['parallel_s']:.2f}; the outcomes of {sco['differing_outcomes']} test ids differ "
            "between the two runs (seeds derive from each test's identity, not from the order of execution).",
        )
    flk = bench.get("flake")
    if flk:
        lines += _subsection(
            "Flakes", flk,
            f"The whole test suite run {flk['runs']} times, each in a random order (pytest-randomly) with fresh "
            f"Hypothesis seeds for every property, the evidence of `invariants verify` included "
            f"(profile {code(flk['profile'])}): **{flk['failed_runs']} runs with failures**"
            + (f" ({', '.join(code(t) for t in flk['failing_tests'])})" if flk["failing_tests"] else "")
            + f"; {' or '.join(str(n) for n in flk['tests_passed_per_run'])} tests passed per run, "
            f"{flk['wall_s'][0]}–{flk['wall_s'][1]} s a run.",
        )
    return lines
