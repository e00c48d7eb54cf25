"""scale-check calibration: false alarms of a correct model over many seeded runs, and the slope resolution
bought per second of compute.

``python benchmarks/scale_calibration.py [--runs 1000] [--record]``

1. False alarms: ``--runs`` independent scale checks (disjoint seed blocks) of the SP MLP
   (:func:`invariants.scaling.examples.mlp_sp`) at cheap widths, steps 0 and 1 with Adam, ``--expect sp``: every
   checked quantity (pre-activations, activations and the output at initialization, each layer's gain and its
   update ``ΔW·x_0`` after one step, the logits' change) has a known verdict, so any error finding is a false
   alarm.  Each run's family-wise rate is at most ``total_alpha = 1e-4`` (Bonferroni, 1e-6 per fit), so the
   expected count is at most ``runs × 1e-4`` (0.1 for 1,000 runs); the count is reported with its exact
   (Clopper-Pearson) 95% interval.  Undecided runs (exit 3: too few seeds for some row) are counted apart:
   they are not alarms, and their share is the price of the few seeds.
2. Resolution: at widths 64..512, the median half-width of the step-0 slope intervals for 4, 8, 16 and 32 seeds,
   against the seconds each run took (``--no-resolution`` skips it); and the same along depth
   (``depth_resolution``: the He-initialised ReLU MLP :func:`invariants.scaling.examples.mlp_depth_he` at width
   128, depths 2..16), for the output's forward slope and the first layer's gradient slope separately, in log2
   per layer.  Each line gives ``half-width × √seconds``: the t-interval's half-width falls like ``1/√seeds`` and
   the time grows like ``seeds``, so this product is the resolution one second of compute buys (smaller is
   better; the t quantile's fall from few seeds makes it shrink at first).  ``--only-resolution`` skips the
   false-alarm runs.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time

from _common import footer, header, record, record_arg, table
from scipy import stats

from invariants.scaling import scale_check
from invariants.scaling.examples import mlp_depth_he, mlp_sp


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def calibration(runs: int, widths: list[int], seeds: int) -> dict:
    alarms, undecided, fits, checked, open_rows = 0, 0, 0, 0, 0
    examples = []
    t0 = time.perf_counter()
    for i in range(runs):
        r = scale_check(mlp_sp, widths, steps=[0, 1], seeds=seeds, optimizer="adam", expect="sp",
                        base_seed=1_000_000 + i * seeds)
        fits += r.config["n_fits"]
        rows = [row for row in r.rows if row.expectation.checked]
        checked += len(rows)
        open_rows += sum(row.fit.verdict == "undecided" for row in rows)
        if r.errors:
            alarms += 1
            examples.append(f"run {i}: " + "; ".join(f.subject + " " + f"{f.figures['slope']:+.2f}" for f in r.errors))
        elif r.status == "incomplete":
            undecided += 1
        if (i + 1) % 100 == 0:
            print(f"#   {i + 1} runs: {alarms} false alarm(s), {undecided} undecided", flush=True)
    lo, hi = clopper_pearson(alarms, runs)
    return {"runs": runs, "widths": widths, "seeds": seeds, "fits": fits, "false_alarms": alarms,
            "false_alarm_rate_ci95": [lo, hi], "bound_per_run": 1e-4, "undecided_runs": undecided,
            "checked_rows": checked, "undecided_rows": open_rows,
            "seconds": round(time.perf_counter() - t0, 1), "examples": examples[:5]}


def resolution_line(rows: list, seeds: int, sec: float) -> dict:
    """One resolution measurement: the median half-width of ``rows``' intervals, the seconds, and their
    ``half-width × √seconds`` (the resolution per second of compute)."""
    half = statistics.median((row.fit.hi - row.fit.lo) / 2 for row in rows)
    return {"seeds": seeds, "median_half_width": round(half, 4), "seconds": round(sec, 2),
            "half_width_x_sqrt_seconds": round(half * math.sqrt(sec), 4),
            "decided": sum(row.fit.verdict != "undecided" for row in rows), "rows": len(rows)}


def resolution(widths: list[int]) -> list[dict]:
    out = []
    for seeds in (4, 8, 16, 32):
        t0 = time.perf_counter()
        r = scale_check(mlp_sp, widths, steps=[0], seeds=seeds, base_seed=5_000_000)
        out.append(resolution_line(r.rows, seeds, time.perf_counter() - t0))
    return out


def depth_resolution(depths: list[int], width: int = 128) -> list[dict]:
    """Depth mode's resolution: per seed count, one line for the output (forward) and one for the gradient at
    the first layer (backward), both from the same run (so the seconds are shared)."""
    out = []
    for seeds in (4, 8, 16, 32):
        t0 = time.perf_counter()
        r = scale_check(mlp_depth_he, depths, mode="depth", width=width, seeds=seeds, base_seed=5_000_000)
        sec = time.perf_counter() - t0
        for kind, label in (("output", "forward (output)"), ("grad", "backward (gradient)")):
            rows = [row for row in r.rows if row.kind == kind]
            if rows:
                out.append({"quantity": label, "depths": depths, "width": width, **resolution_line(rows, seeds, sec)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--widths", default="64,128,256")
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--no-resolution", action="store_true")
    ap.add_argument("--only-resolution", action="store_true", help="skip the false-alarm runs (width and depth "
                    "resolution only; recorded as a part, keeping the recorded calibration)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the calibrations already recorded (other widths/seeds) beside this one")
    record_arg(ap)
    args = ap.parse_args()
    t0 = header("scale-check calibration: false alarms of a correct (SP) model; slope resolution per second")
    payload: dict = {}
    if not args.only_resolution:
        cal = calibration(args.runs, [int(w) for w in args.widths.split(",")], args.seeds)
        lo, hi = cal["false_alarm_rate_ci95"]
        print(table(["runs", "widths", "seeds", "fits", "false alarms", "95% CI of the rate", "undecided runs",
                     "undecided rows", "s"],
                    [[cal["runs"], args.widths, cal["seeds"], cal["fits"], cal["false_alarms"], f"[{lo:.2g}, {hi:.2g}]",
                      cal["undecided_runs"], f"{cal['undecided_rows']}/{cal['checked_rows']}", cal["seconds"]]]))
        for e in cal["examples"]:
            print("#  ", e)
        payload["calibration"] = [cal]
        if args.merge and args.record:
            import json
            from pathlib import Path

            old = json.loads(Path(args.record).read_text()).get("scale_check", {}) if Path(args.record).is_file() else {}
            kept = old.get("calibration", [])
            kept = [kept] if isinstance(kept, dict) else kept
            payload["calibration"] = [c for c in kept if (c["widths"], c["seeds"]) != (cal["widths"], cal["seeds"])] + [cal]
            for key in ("resolution", "depth_resolution"):
                if key in old:
                    payload[key] = old[key]
    if not args.no_resolution:
        # warm-up: the first scale check pays torch's and scipy's first-call costs, not the seeds'
        scale_check(mlp_sp, [16, 32], seeds=2)
        scale_check(mlp_depth_he, [1, 2], mode="depth", width=16, seeds=2)
        res = resolution([64, 128, 256, 512])
        print("# width mode: SP MLP, widths 64..512, step 0 (slopes: log2 second moment per log2 width)")
        print(table(["seeds", "median half-width (slope)", "seconds", "half-width × √s", "decided rows"],
                    [[r["seeds"], r["median_half_width"], r["seconds"], r["half_width_x_sqrt_seconds"],
                      f"{r['decided']}/{r['rows']}"] for r in res]))
        payload["resolution"] = res
        dres = depth_resolution([2, 4, 8, 12, 16])
        print("# depth mode: He ReLU MLP, width 128, depths 2..16 (slopes: log2 second moment per layer)")
        print(table(["quantity", "seeds", "median half-width (slope)", "seconds", "half-width × √s", "decided rows"],
                    [[r["quantity"], r["seeds"], r["median_half_width"], r["seconds"], r["half_width_x_sqrt_seconds"],
                      f"{r['decided']}/{r['rows']}"] for r in dres]))
        payload["depth_resolution"] = dres
    footer(t0)
    record(args.record, "scale_check", payload, part="resolution" if args.only_resolution else None)


if __name__ == "__main__":
    main()
