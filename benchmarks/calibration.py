"""Calibration: false alarms of the auditor on correct initializers, kill rates on the mutants.

1. False alarms.  The 12 correct initializers of ``tests/audit/test_audit_mutations.py`` are audited over
   independent seeds (default 834 each: 10,008 audits).  To keep the run short each audit uses a small
   layer (``dense(64,32)``, or ``conv2d(4,8,k=3)`` for the convolutional cases) and detects a 10%
   variance error (``rel_error = 0.1``: about 12,000 values for a normal law, ``min_bounded_n = 12,000``
   for bounded ones); every other setting is the auditor's default, so every check runs at
   ``alpha = 1e-6`` and an audit's family-wise false-alarm probability is at most ``m * 1e-6`` for its
   ``m`` checks (Bonferroni).  The false-alarm rate of the exact checks does not depend on n.  The run
   reports the false alarms against that budget, and the p-values of every check at levels that a run
   of this size can resolve (``p <= 0.01``, ``p <= 0.001``): an exact, continuous test must reject a
   correct initializer at its nominal rate, a conservative one (Bonferroni, union bounds) less often.
2. Kill rate.  The 33 mutants at the test suite's configuration (detects a 4% variance error,
   family-wise alpha 1e-6 per audit), each over 100 independent seeds.

Seeds start at 1000 (the test suite uses base seeds 0-2).  Explanations are skipped (they never change
a verdict; see ``_common.skip_explanations``).

Usage::

    python benchmarks/calibration.py                        # 10,008 correct audits + 33 x 100 mutants
    python benchmarks/calibration.py --per-correct 100 --per-mutant 20 --workers 2    # a quick look
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

SEED0 = 1000
SMALL = {"dense": "dense(64,32)", "conv": "conv2d(4,8,k=3)"}


def calibration_config(seed: int):
    from invariants.audit.auditor import AuditConfig

    return AuditConfig(rel_error=0.1, min_bounded_n=12_000, base_seed=seed)


def _small_layer(layer: str) -> str:
    return SMALL["dense"] if layer.startswith("dense") else SMALL["conv"]


def _job(task: tuple) -> tuple:
    kind, idx, seed = task
    C.skip_explanations()
    correct, mutants, cfg = C.mutation_catalogue()
    if kind == "correct":
        fn, spec, layer = correct[idx]
        r = C.audit_case(fn, spec, _small_layer(layer), calibration_config(seed))
    else:
        fn, spec, layer, _words = mutants[idx]
        r = C.audit_case(fn, spec, layer, cfg(seed))
    return kind, idx, seed, r


def _run(tasks: list[tuple], workers: int, label: str) -> list[tuple]:
    out: list[tuple] = []
    t0 = time.perf_counter()
    step = max(1, len(tasks) // 10)
    ctx = mp.get_context("fork")
    with ctx.Pool(workers) as pool:
        for i, res in enumerate(pool.imap_unordered(_job, tasks, chunksize=8), 1):
            out.append(res)
            if i % step == 0 or i == len(tasks):
                print(f"#   {label}: {i}/{len(tasks)} audits, {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def _audit_all(kind: str, count: int, per: int, workers: int, label: str) -> tuple[list[tuple], dict[int, list]]:
    """Audit each of ``count`` initializers of ``kind`` over ``per`` seeds from :data:`SEED0`; return the
    results and the audit reports grouped by initializer index."""
    out = _run([(kind, i, SEED0 + s) for i in range(count) for s in range(per)], workers, label)
    by: dict[int, list] = defaultdict(list)
    for _k, i, _s, r in out:
        by[i].append(r)
    return out, by


def part_correct(per: int, workers: int) -> dict:
    correct, _, _ = C.mutation_catalogue()
    out, by_init = _audit_all("correct", len(correct), per, workers, "correct initializers")
    rows = []
    tot_alarm, tot_budget, tot_checks = 0, 0.0, 0
    pv: dict[str, list[float]] = defaultdict(list)
    for i, (fn, spec, layer) in enumerate(correct):
        rs = by_init[i]
        alarms = sum(r["verdict"] != "conforms" for r in rs)
        budget = sum(r["alpha"] * r["n_checks"] for r in rs)
        ns = sorted({r["n"] for r in rs})
        tot_alarm += alarms
        tot_budget += budget
        tot_checks += sum(r["n_checks"] for r in rs)
        for r in rs:
            for name, p in r["p_values"].items():
                pv[name].append(p)
        rows.append([f"{C.name_of(fn)} / {spec}", _small_layer(layer), "/".join(map(str, ns)), len(rs), alarms,
                     f"{budget:.3g}"])
    rows.append(["total", "", "", len(out), tot_alarm, f"{tot_budget:.3g}"])
    print()
    print(f"1. False alarms on correct initializers ({len(out)} audits, {tot_checks} checks at alpha <= 1e-6)")
    print(C.table(["initializer / spec", "layer", "n", "audits", "false alarms", "expected (union bound)"], rows,
                  "llrrrr"))
    kinds = {
        "chi2_variance": "exact", "extremes": "exact (x tails, conservative)", "ks_shape": "exact n<=1e4, asymptotic above",
        "mean": "exact (normal) / CLT", "moment_variance": "CLT", "point_mass": "union bound (conservative)",
        "support": "deterministic (p 0 or 1)", "orthogonality": "deterministic tolerance", "constant": "deterministic",
        "duplicates": "union bound", "identical_draws": "union bound", "degenerate": "union bound",
    }
    prow = []
    for name in sorted(pv):
        ps = pv[name]
        m = len(ps)
        f2 = sum(p <= 0.01 for p in ps)
        f3 = sum(p <= 0.001 for p in ps)
        prow.append([name, kinds.get(name, ""), m, f"{f2} ({f2 / m:.4f})", f"{f3} ({f3 / m:.5f})",
                     f"{min(ps):.3g}", sum(p <= 1e-6 for p in ps)])
    print()
    print("   p-values of each check on correct initializers (nominal rate for an exact continuous test: "
          "0.01 and 0.001)")
    print(C.table(["check", "null distribution", "runs", "p <= 0.01", "p <= 0.001", "smallest p", "p <= 1e-6"], prow,
                  "llrrrrr"))
    return {"initializers": len(correct), "seeds_each": per, "audits": len(out), "checks": tot_checks,
            "false_alarms": tot_alarm, "expected_false_alarms": float(f"{tot_budget:.3g}"),
            "p_le_0.01": {name: round(sum(p <= 0.01 for p in ps) / len(ps), 4) for name, ps in sorted(pv.items())
                          if kinds.get(name, "").startswith(("exact", "CLT"))}}


def part_mutants(per: int, workers: int) -> dict:
    _, mutants, _ = C.mutation_catalogue()
    out, by = _audit_all("mutant", len(mutants), per, workers, "mutants")
    rows = []
    killed = 0
    for i, (fn, spec, layer, _w) in enumerate(mutants):
        rs = by[i]
        k = sum(r["verdict"] == "deviates" for r in rs)
        killed += k
        mde = max(r["mde"] for r in rs)
        rows.append([C.name_of(fn), spec, layer, rs[0]["n"], f"{mde:.3g}", f"{k}/{len(rs)}",
                     f"{sum(r['pt_equal_n'] for r in rs)}/{len(rs)}", f"{sum(r['pt_small_n'] for r in rs)}/{len(rs)}"])
    rows.append(["total", "", "", "", "", f"{killed}/{len(out)}",
                 f"{sum(r['pt_equal_n'] for *_x, r in out)}/{len(out)}",
                 f"{sum(r['pt_small_n'] for *_x, r in out)}/{len(out)}"])
    print()
    print(f"2. Kill rate: {len(mutants)} mutants x {per} seeds ({len(out)} audits; test-suite configuration)")
    print(C.table(["mutant", "expected spec", "layer", "n", "detectable error", "killed (ours)",
                   "PyTorch-style, equal n", f"PyTorch-style, n = {C.PYTORCH_N}"], rows, "lllrrrrr"))
    return {"mutants": len(mutants), "seeds_each": per, "audits": len(out), "killed": killed,
            "ks_equal_n": sum(r["pt_equal_n"] for *_x, r in out), "ks_small_n": sum(r["pt_small_n"] for *_x, r in out)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-correct", type=int, default=834, help="seeds per correct initializer (default 834)")
    ap.add_argument("--per-mutant", type=int, default=100, help="seeds per mutant (default 100)")
    ap.add_argument("--workers", type=int, default=0, help="processes (default: all cores)")
    ap.add_argument("--only", choices=["correct", "mutants"])
    C.record_arg(ap)
    args = ap.parse_args(argv)
    rec: dict = {}
    t0 = C.header("calibration: false alarms on correct initializers, kill rate on mutants")
    w = C.pool_workers(args.workers)
    if args.only in (None, "correct"):
        rec["correct"] = part_correct(args.per_correct, w)
    if args.only in (None, "mutants"):
        rec["mutants"] = part_mutants(args.per_mutant, w)
    if args.only is None:  # a partial run is not the figure the docs quote
        C.record(args.record, "calibration", rec)
    C.footer(t0, timing=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
