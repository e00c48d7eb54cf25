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
import math
import os
from pathlib import Path
from typing import Any

from scipy import stats

from invariants.report.markdown import code, table, text

#: where the benchmark scripts' ``--record`` writes, relative to the docs folder
BENCHMARK_DATA = "data/benchmarks.json"

SCRIPTS = {
    "efficiency": "efficiency.py",
    "calibration": "calibration.py",
    "tail-calibration": "tail_calibration.py",
    "raw-sampling": "raw_sampling.py",
    "speed": "speed.py",
    "scaleout": "scaleout.py",
    "flake": "flake_check.py",
    "portability": "portability.py",
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


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) two-sided ``level`` interval of a binomial rate from ``k`` of ``n``."""
    a = (1.0 - level) / 2.0
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.isf(a, k + 1, n - k))
    return lo, hi


def _pct_ci(k: int, n: int) -> str:
    """``k/n`` as a percentage with its 95% Clopper-Pearson interval."""
    lo, hi = clopper_pearson(k, n)
    return f"{100 * k / n:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def _ratio_ci(row: dict[str, Any], limit: float) -> str:
    """``measured / limit`` with the simulation's 95% interval (the measured quantile's, over the exact limit)."""
    lo, hi = row["ci95"]
    return f"{row['measured'] / limit:.2f} [{lo / limit:.2f}, {hi / limit:.2f}]"


def _sci(x: float) -> str:
    """``x`` as ``a·10ⁿ`` (Unicode exponent)."""
    if x == 0:
        return "0"
    x = float(f"{x:.3g}")  # round first, so that 9.998e-7 reads 10⁻⁶, not 10·10⁻⁷
    e = math.floor(math.log10(abs(x)))
    m = x / 10**e
    sup = str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"10{sup}" if f"{m:.3g}" == "1" else f"{m:.3g}·10{sup}"


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


_CHECK_WORDS = {"chi2_variance": "χ² variance", "mean": "mean", "moment_variance": "moment variance",
                "extremes": "extremes", "ks_shape": "KS shape", "support": "support"}


#: how the null law of each approximate check is computed (invariants.stats.moments)
_APPROXIMATION = {"mean": "CLT", "moment_variance": "saddlepoint"}


def _rate_over_alpha(r: dict[str, Any]) -> str:
    """A tail-calibration rate in units of its α, with its interval unless exact; ``above α`` when flagged."""
    a = r["alpha"]
    text_ = f"{r['rate'] / a:.3f}"
    if r["method"] != "exact":
        text_ += f" [{r['ci95'][0] / a:.3f}, {r['ci95'][1] / a:.3f}]"
    return text_ + (" (above α)" if r["flagged"] else "")


def _tail_rows(tail: dict[str, Any]) -> list[list[str]]:
    """Summary rows of the tail calibration: the exact checks in one row, each CLT check and law in its own."""
    checks = tail["checks"]
    sizes = sorted({r["n"] for r in checks})
    ns = " / ".join(_n(n) for n in sizes)
    exact = [r for r in checks if r["method"] == "exact"]
    rows = []
    if exact:
        worst = max(exact, key=lambda r: r["rate"] / r["alpha"])
        names = ", ".join(dict.fromkeys("mean of a normal law" if r["check"] == "mean" else
                                        _CHECK_WORDS.get(r["check"], r["check"]) for r in exact))
        above = sum(r["flagged"] for r in exact)
        rows.append([f"false-alarm probability at α = {_sci(tail['alpha'])}, checks with an exact null law ({names}; "
                     f"normal, uniform, truncated normal; n = {ns}), computed at the code's critical values",
                     f"at most {worst['rate'] / worst['alpha']:.4f} α; {above} of {len(exact)} above α"])
    pairs = dict.fromkeys((r["check"], r["law"]) for r in checks if r["method"] != "exact")
    for check, law in pairs:
        rs = sorted((r for r in checks if r["check"] == check and r["law"] == law), key=lambda r: r["n"])
        rows.append([f"same, {_CHECK_WORDS.get(check, check)} check, {law_words(law)} law "
                     f"({_APPROXIMATION.get(check, 'CLT')}; importance sampling), "
                     f"n = {' / '.join(_n(r['n']) for r in rs)}, in units of α [95% interval]",
                     " / ".join(_rate_over_alpha(r) for r in rs)])
    rows += _extra_tail_rows(tail)
    return rows


def _worst(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row whose upper interval end is largest in units of its α."""
    return max(rows, key=lambda r: r["ci95"][1] / r["alpha"])


def _above(rows: list[dict[str, Any]]) -> str:
    return f"{sum(r['ci95'][1] > r['alpha'] * (1 + 1e-9) for r in rows)} of {len(rows)} with an upper end above α"


def _extra_tail_rows(tail: dict[str, Any]) -> list[list[str]]:
    """Summary rows of the point-mass, Haar and low-precision sections of the tail calibration (where recorded):
    the least favourable row of each, in units of α with its interval."""
    rows = []
    pm = tail.get("point_mass")
    if pm:
        w = _worst(pm)
        rows.append(["same, point-mass check, exact cell laws (JAX/MLX 23-bit and torch/numpy 24-bit uniform lattices, "
                     "float32 rounding; normal, uniform, truncated normal) at the least favourable n ≤ "
                     f"{_n(max(max(r['sizes']) for r in pm))}, in units of α [exact bounds]",
                     f"at most {_rate_over_alpha(w)} ({w['law']}, {w['cells']}, n = {_n(w['n'])}); {_above(pm)}"])
    before = tail.get("point_mass_before_fix")
    if before:
        w = _worst(before["checks"])
        rows.append(["same, point-mass check before its cell bound covered the 23-bit lattice (main at 1a35738)",
                     f"up to {_rate_over_alpha(w)} ({w['law']}, {w['cells']}, n = {_n(w['n'])})"])
    haar = tail.get("haar")
    if haar:
        w = _worst(haar)
        rows.append(["same, Haar checks of orthogonal laws (signs, entries, sums, trace; "
                     f"{len({tuple(r['shape']) for r in haar})} shapes; float32 and float64), in units of α "
                     "[exact bounds]",
                     f"at most {_rate_over_alpha(w)} ({w['check']}); {_above(haar)}; float32 QR rounding at most "
                     f"{max(r['rounding_over_allowance'] for r in haar):.3f} × its allowance"])
    low = tail.get("low_precision")
    if low:
        w = _worst(low)
        rows.append(["same, low-precision checks (quantized variance, sign test, KS) on the laws rounded to bfloat16 "
                     "and float16 and on JAX's bfloat16/float16 normal lattices, in units of α [95% interval]",
                     f"at most {_rate_over_alpha(w)} ({w['check']}, {w['format']}, n = {_n(w['n'])}); {_above(low)}; "
                     f"CDF distance at most {max(r['cdf_distance_over_allowance'] for r in low):.3f} × the allowance"])
    lb = tail.get("low_precision_before_fix")
    if lb:
        w = max(lb["checks"], key=lambda r: r["rate"])
        rows.append(["same, quantized variance check before Bernstein's bound (z-test with the sample deviation)",
                     f"up to {_sci(w['rate'])} = {w['rate'] / w['alpha']:.3g} α [95%: {_sci(w['ci95'][0])}, "
                     f"{_sci(w['ci95'][1])}] (n = {_n(w['n'])}; n = 50: "
                     + next((f"{r['rate'] / r['alpha']:.3g} α" for r in lb["checks"] if r["n"] == 50), "–") + ")"])
    return rows


def _extra_tail_blocks(tail: dict[str, Any]) -> list[str]:
    """The methods-page tables of the point-mass, Haar and low-precision sections (where recorded)."""
    def rate(r: dict[str, Any]) -> str:
        return f"{_sci(r['rate'])} [{_sci(r['ci95'][0])}, {_sci(r['ci95'][1])}]"

    blocks = []
    pm = tail.get("point_mass")
    if pm:
        blocks += ["The point-mass check (the largest multiplicity of any value against a union bound over cells) at "
                   "the sizes where its critical run length steps up (the least favourable), under exact cell laws: "
                   "a sampler whose uniform keeps 23 random bits (JAX, MLX: each value 2⁻²³) or 24 (torch, numpy), and "
                   "the law rounded to float32 (bounded binade by binade); rate between the Bonferroni and union bounds:",
                   table(["law", "cells", "least favourable n", "critical run", "rejection probability [bounds]",
                          "in units of α"],
                         [[law_words(r["law"].split("_std_")[0]) + (f", std {r['law'].split('_std_')[1]}"
                                                                     if "_std_" in r["law"] else ""),
                           r["cells"], _n(r["n"]), str(r["k"]), rate(r), _rate_over_alpha(r)] for r in pm],
                         "llrrrr")]
    haar = tail.get("haar")
    if haar:
        blocks += ["The Haar checks of orthogonal laws on exact Haar draws read at float32 and float64 precision (their "
                   "rounding allowances apply), at the critical values of their p-value functions: signs exact "
                   "(binomial), entries exact (Kolmogorov–Smirnov of the stick-breaking uniforms), sums between the "
                   "largest part and the union of the three (pair terms computed; with several draws each part's Fisher "
                   "combination from the exact law of a sum of lattice variables below and above −log p), trace under "
                   "its N(0, 1) limit with "
                   "the Markov bound it uses as the upper end:",
                   table(["check", "draw", "draws", "bits", "rejection probability [bounds]", "in units of α"],
                         [[code(r["check"]), "×".join(map(str, r["shape"])), str(r["draws"]), str(r["bits"]), rate(r),
                           _rate_over_alpha(r)] for r in haar], "llrrrr")]
    low = tail.get("low_precision")
    if low:
        blocks += ["The low-precision checks on the law rounded to nearest in the format, and on JAX's own bfloat16 "
                   "and float16 normal samplers (every point of their uniform lattice run through `erf_inv`): the "
                   "variance check by importance sampling (its verdict depends on the mean of the clipped square "
                   "only), the sign test exactly, the KS test by the bound left after the rounded law's own CDF "
                   "distance:",
                   table(["check", "law", "format", "sampler", "n", "rejection probability (95%)", "in units of α",
                          "CDF distance / allowance"],
                         [[code(r["check"]), law_words(r["law"]), r["format"], r["sampler"], _n(r["n"]), rate(r),
                           _rate_over_alpha(r), f"{r['cdf_distance_over_allowance']:.3f}"] for r in low], "llllrrrr")]
    return blocks


def law_words(law: str) -> str:
    """A tail-calibration law's record name in words, its truncation in units of the std
    (``truncated_normal_3std`` -> ``truncated normal (±3 std)``; ``truncated_normal`` is cut at ±2 std,
    benchmarks/tail_calibration.py ``LAWS``)."""
    if law.startswith("truncated_normal"):
        cut = law[len("truncated_normal_"):-len("std")] if law.endswith("std") else "2"
        return f"truncated normal (±{cut} std)"
    return law.replace("_", " ")


def _own_counts(tail: dict[str, Any]) -> str:
    """`` (6·10⁸ for the moment_variance rows)`` where a partial run drew another number of values per tail."""
    own = {(r["check"], r["values_per_tail"]) for r in tail["checks"]
           if r.get("values_per_tail", tail["values_per_tail"]) != tail["values_per_tail"]}
    return "".join(f" ({_sci(v)} for the {code(c)} rows)" for c, v in sorted(own))


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
    for law, what in (("normal", "the exact χ² test"), ("uniform", "the exact support (+) and extremes (−) tests")):
        if law not in lim:
            if law == "normal":
                rows.append(["smallest variance error detected, normal law", missing("efficiency")])
            continue
        up, dn = lim[law]
        if "limit_family" in up:
            rows.append([f"smallest variance error detected (power 0.99), {law} law, n = {_n(up['n'])}: the "
                         f"auditor's {up['checks']} checks at α = 10⁻⁶ each vs {what} at the set's family-wise α "
                         f"({up['checks']}·10⁻⁶) [95% interval]",
                         f"{_num(up['measured'])} (+) / {_num(dn['measured'])} (−) = {_ratio_ci(up, up['limit_family'])}"
                         f" / {_ratio_ci(dn, dn['limit_family'])} × the limit (at α = 10⁻⁶ for the test alone: "
                         f"{_ratio_ci(up, up['limit'])} / {_ratio_ci(dn, dn['limit'])})"])
        else:  # recorded before the family-wise comparison
            rows.append([f"smallest variance error detected (power 0.99, α = 10⁻⁶), {law} law, n = {_n(up['n'])}",
                         f"{_num(up['measured'])} (+) / {_num(dn['measured'])} (−) = {_ratio_ci(up, up['limit'])} / "
                         f"{_ratio_ci(dn, dn['limit'])} × the exact limit at the same per-check α"])
    if cal:
        m = cal["mutants"]
        rows.append([f"mutants killed ({m['mutants']} × {m['seeds_each']} seeds): ours / PyTorch-style KS at equal n / "
                     f"KS on 625 values [95% interval]",
                     f"{_pct_ci(m['killed'], m['audits'])} / {_pct_ci(m['ks_equal_n'], m['audits'])} / "
                     f"{_pct_ci(m['ks_small_n'], m['audits'])}"])
        c = cal["correct"]
        hi = clopper_pearson(c["false_alarms"], c["audits"])[1]
        rows.append([f"false alarms on correct initializers ({c['audits']:,} audits, {c['checks']:,} checks at "
                     f"α ≤ 10⁻⁶)", f"{c['false_alarms']} (union bound {_num(c['expected_false_alarms'], 2)}; "
                                  f"false-alarm rate per audit ≤ {_sci(hi)}, 95%)"])
    else:
        rows.append(["mutant kill rate and false alarms on correct initializers", missing("calibration")])
    tail = bench.get("tail-calibration")
    if tail:
        rows += _tail_rows(tail)
    else:
        rows.append(["false-alarm probability of each check at its α", missing("tail-calibration")])
    raw = bench.get("raw-sampling")
    if raw:
        rows.append(["catalogue audit / the framework's raw sampling of the same values, CPU time [range over "
                     "repeats]", ", ".join(f"{r['framework']} {r['cpu']['audit_over_raw']:.0f}× "
                                           f"[{r['cpu']['audit_over_raw_range'][0]:.0f}, "
                                           f"{r['cpu']['audit_over_raw_range'][1]:.0f}]"
                                           for r in raw["frameworks"]) + _where(raw)])
        comp = [r for r in raw["frameworks"] if r["compile_s"] > 0]
        if comp:
            rows.append(["JAX compiles within the audit, wall clock, fresh process [range]",
                         ", ".join(f"{r['framework']} {r['compile_s']:.1f} s [{r['compile_range_s'][0]:.1f}, "
                                   f"{r['compile_range_s'][1]:.1f}] of {r['wall']['audit_s']:.1f} s" for r in comp)])
    else:
        rows.append(["catalogue audit / raw sampling", missing("raw-sampling")])
    if spd:
        rows.append([code("invariants verify") + ", wall clock",
                     _verify_wall(spd["verify"]) + _where(spd["verify"] if "measured" in spd["verify"] else spd)])
        k = spd["kernel"]
        rows.append([f"exact / BLAS kernel, width {k[0]['width']} → {k[-1]['width']}",
                     f"{k[0]['exact_ms'] / k[0]['blas_ms']:.0f}× → {k[-1]['exact_ms'] / k[-1]['blas_ms']:.0f}× slower"
                     + _where(spd.get("kernel_run", spd))])
    else:
        rows.append(["speed", missing("speed")])
    if sco:
        rows.append([f"test suite ({sco['tests']} tests), {code('pytest -n ' + str(sco['workers']))} vs serial",
                     f"{sco['parallel_s']:.0f} s vs {sco['serial_s']:.0f} s ({sco['serial_s'] / sco['parallel_s']:.2f}×), "
                     f"{sco['differing_outcomes']} outcomes differ" + _where(sco)])
    else:
        rows.append(["test suite under pytest-xdist", missing("scaleout")])
    if flk:
        lo, hi = clopper_pearson(flk["failed_runs"], flk["runs"])
        rows.append(["flake check: whole suite in random order with fresh Hypothesis seeds",
                     f"{flk['runs']} runs, {flk['failed_runs']} with failures (failure rate per run "
                     f"[{100 * lo:.0f}%, {100 * hi:.0f}%], 95%)" + _flake_scope(flk, sco)])
    else:
        rows.append(["flake check", missing("flake")])
    port = bench.get("portability")
    if port:
        others = port["configs"][1:]
        rows.append([f"`invariants verify` under {len(others)} emulated older-CPU kernel configurations (OpenBLAS, "
                     f"NumPy SIMD, torch CPU overrides) vs native: {port['pieces']} pieces of evidence",
                     f"{sum(len(c['flipped']) for c in others)} pass/fail flips, "
                     f"{sum(c['failed'] for c in port['configs'])} failures; figures moved in up to "
                     f"{max(len(c['figures_moved']) for c in others)} claims (last digits)"])
    else:
        rows.append(["verdicts under other floating-point kernels", missing("portability")])
    return table(["what", "figure"], rows)


def _verify_wall(v: dict[str, Any]) -> str:
    """``14.3 s [13.9, 15.1], median of 3 runs`` (a record of one run: ``8.9 s``)."""
    if v.get("exit_code"):
        return f"failed (exit code {v['exit_code']}): no timing"
    if "wall_range_s" not in v:
        return f"{v['wall_s']:.1f} s"
    lo, hi = v["wall_range_s"]
    return (f"{v['wall_s']:.1f} s, one run" if v["runs"] == 1
            else f"{v['wall_s']:.1f} s [{lo:.1f}, {hi:.1f}], median of {v['runs']} runs")


def _flake_scope(flk: dict[str, Any], sco: dict[str, Any] | None) -> str:
    """``, on the 972-test suite of 2026-11-30; not re-run on the 3023 tests of ...``: which suite the flake
    record ran, so that a record older than the tests it is read against does not pass for them (tests added
    since then were never run in random order under fresh seeds)."""
    ran = " or ".join(str(n) for n in flk["tests_passed_per_run"])
    out = f", on the {ran}-test suite of {flk['measured']}"
    if sco and sco.get("tests") and max(flk["tests_passed_per_run"]) < sco["tests"]:
        out += f"; not re-run on the {sco['tests']} tests of the scale-out record ({sco['measured']})"
    return out


def _where(sec: dict[str, Any]) -> str:
    """`` (2026-12-06, AMD EPYC (x86_64, NumPy SIMD X86_V3, ...))``: when and on which CPU a timing was
    measured (verify ran about 2× slower on the AVX2 machine of 2026-12-06 than on the AVX-512 one before it);
    sections recorded before the CPU was (``sec`` without ``"cpu"``) say so."""
    return f" ({sec['measured']}, {sec.get('cpu') or 'CPU not recorded'})"


def _measured(sec: dict[str, Any]) -> str:
    """Where and how ``sec`` was measured; a part re-measured by a partial run (``sec["parts"]``) is named
    with its own date and command."""
    out = (f"*Measured {sec['measured']} with {code(sec['command'])} on {text(sec['machine'])}; load average "
           f"{sec['load_at_start']:.2f} at the start.*")
    for part, p in sorted(sec.get("parts", {}).items()):
        out += (f" *Part {part} re-measured {p['measured']} with {code(p['command'])}; load average "
                f"{p['load_at_start']:.2f} at the start.*")
    return out


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
        fam = all("limit_family" in r for r in eff["limits"])
        rows = [[r["law"], _n(r["n"]), f"{r['reps']:,}", _SIGN[r["side"]] + "d",
                 f"{_num(r['measured'], 4)} [{_num(r['ci95'][0], 4)}, {_num(r['ci95'][1], 4)}]",
                 f"{_num(r['limit'], 4)} ({'χ²' if r['limit_is'] == 'chi2' else r['limit_is']})",
                 _ratio_ci(r, r["limit"])]
                + ([f"{_num(r['limit_family'], 4)} ({r['checks']}·10⁻⁶)", _ratio_ci(r, r["limit_family"])] if fam else [])
                for r in eff["limits"]]
        heads = ["law", "n", "samples", "error", "measured (95% interval)", "exact limit, α = 10⁻⁶",
                 "measured / limit"] + (["exact limit, family-wise α", "measured / limit"] if fam else [])
        kill = eff["kill"]
        lines += _subsection(
            "Statistical efficiency", eff,
            "The smallest relative variance error that the auditor's whole battery of checks (every check at "
            "α = 10⁻⁶) detects with power 0.99, measured by simulation (the 0.99 quantile of per-sample detection "
            "thresholds, with a 95% order-statistic interval), against the exact limit at the same n: the χ² "
            "test's for a normal law, the support and extreme-value tests' for a uniform one. A set of m checks "
            "at α each has a family-wise false-alarm rate up to m·α (Bonferroni), so the fair comparison is with "
            "the single test at m·α (equal false-alarm budget; the support test's limit does not depend on α); "
            "the comparison at the same per-check α is also given. Each ratio carries the simulation's 95% "
            "interval (the measured quantile's interval over the exact limit).",
            table(heads, rows, "lrrlll" + "l" * (len(heads) - 6)),
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
    tail = bench.get("tail-calibration")
    if tail:
        trow = [[code(r["check"]), law_words(r["law"]), _n(r["n"]),
                 _sci(r["rate"]) + ("" if r["method"] == "exact" else f" [{_sci(r['ci95'][0])}, {_sci(r['ci95'][1])}]"),
                 _rate_over_alpha(r), "exact" if r["method"] == "exact" else "importance sampling"]
                for r in tail["checks"]]
        blocks = [
            f"The false-alarm probability of each law check at its stated α = {_sci(tail['alpha'])}, one check at a "
            "time (a count of whole-audit false alarms cannot tell 10⁻⁶ from 10⁻⁵). The code's critical values are "
            "found by bisection through the check itself, run as the auditor runs it on float32 values; where the "
            "null law is exact (χ² variance, the mean of a normal law, extremes, Kolmogorov–Smirnov, support) the "
            "rejection probability at those values is computed from it; where the check's null is approximate (the "
            "mean test of uniform and truncated normal laws by the central limit theorem, their moment-variance test "
            "by a saddlepoint approximation) it is estimated by "
            "importance sampling with exponential tilting (each tail from replicates of n values drawn from the "
            "tilted law, weighted by the likelihood ratio; 95% interval from the estimator's standard error), "
            f"{_sci(tail['values_per_tail'])} values per tail{_own_counts(tail)}.",
            table(["check", "law", "n", "rejection probability (95% interval)", "in units of α", "method"], trow,
                  "llrrrl"),
        ]
        blocks += _extra_tail_blocks(tail)
        val = tail.get("validation")
        if val:
            vrow = [[code(v["check"]), law_words(v["law"]), _n(v["n"]),
                     f"{v['importance']['rate']:.4g} [{v['importance']['ci95'][0]:.4g}, {v['importance']['ci95'][1]:.4g}]",
                     f"{v['monte_carlo']['rate']:.4g} [{v['monte_carlo']['ci95'][0]:.4g}, {v['monte_carlo']['ci95'][1]:.4g}]",
                     "yes" if v["intervals_overlap"] else "**no**"] for v in val]
            blocks += [f"The importance-sampling estimator against plain Monte Carlo (Clopper–Pearson interval) at "
                       f"α = {val[0]['alpha']:g}, where plain simulation resolves the rate:",
                       table(["check", "law", "n", "importance sampling", "Monte Carlo", "intervals overlap"], vrow,
                             "llrlll")]
        lines += _subsection("Tail calibration", tail, *blocks)
    raw = bench.get("raw-sampling")
    if raw:
        rrow = []
        for r in raw["frameworks"]:
            c, w = r["cpu"], r["wall"]
            rrow.append([r["framework"], f"{r['values'] / 1e6:.1f} M", f"{c['audit_s']:.1f}", f"{c['samplers_s']:.1f}",
                         f"{r['compile_s']:.1f} of {w['audit_s']:.1f}" if r["compile_s"] else "–",
                         f"{c['raw_s']:.3f} [{c['raw_range_s'][0]:.3f}, {c['raw_range_s'][1]:.3f}]",
                         f"{c['audit_over_raw']:.0f}× [{c['audit_over_raw_range'][0]:.0f}, {c['audit_over_raw_range'][1]:.0f}]",
                         f"{c['statistics_over_raw']:.0f}× [{c['statistics_over_raw_range'][0]:.0f}, "
                         f"{c['statistics_over_raw_range'][1]:.0f}]",
                         f"{w['audit_over_raw']:.0f}× [{w['audit_over_raw_range'][0]:.0f}, {w['audit_over_raw_range'][1]:.0f}]"])
        lines += _subsection(
            "Audit cost against raw sampling", raw,
            f"Each framework's catalogue audited at the default configuration (a {100 * raw['rel_error']:g}% variance "
            "error detected with power 0.99) in a fresh process, against the framework drawing the same number of "
            "values, tensor by tensor with the same sizes, with its plain sampler after a warm-up (numpy "
            "`Generator.standard_normal(out=...)`, `torch.nn.init.normal_` on a preallocated tensor, `jax.random.normal` "
            "under a compiled `jax.jit` — also for flax and equinox —, a Keras `RandomNormal` after a warm-up call, "
            "`mx.random.normal`; the copy to numpy included). The time inside the catalogue's samplers (module "
            "builds, compiles, draws) and, for JAX-based frameworks, the compiles within it are their own columns; "
            "“statistics” is the audit minus the time inside the samplers. CPU time of the process (all threads), "
            "which other processes on a shared machine do not inflate; the wall-clock ratio is given beside it, "
            "and the compiles (JAX's compile events) are wall time, next to the audit's wall time. "
            "Median [range] over fresh processes × raw passes.",
            table(["framework", "values", "audit CPU s", "inside samplers CPU s", "compiles of the audit, wall s",
                   "raw sampling CPU s",
                   "audit / raw", "statistics / raw", "audit / raw (wall)"], rrow, "lrrrrrrrr"),
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
            "error detected with power 0.99) against the time spent inside the catalogue's samplers for the same "
            "tensors and seeds — module builds and compiles included, so this is not the cost of drawing the values "
            "(that is the previous subsection's raw sampling):",
            table(["framework", "tensors", "values", "audit s", "inside samplers s", "audit / samplers"], crow,
                  "lrrrrr"),
            f"`python -m invariants verify -q` (every claim's evidence, a fresh process): "
            f"{_verify_wall(spd['verify'])}. The reference network's exact kernel against BLAS, one "
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
