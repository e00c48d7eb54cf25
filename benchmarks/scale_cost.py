"""scale-check's time estimate against the time taken, from a tiny run to a large depth run.

``python benchmarks/scale_cost.py [--repeat 3] [--only CASE ...] [--fit]``

Each case runs ``python -m invariants scale-check ... --json PATH`` in a fresh process, as a user would, and
times what the user waits for once the estimate is printed (from the stderr line ``scale-check TARGET:
estimated ...`` to the process's exit: the runs, the fits, the report).  The estimate is the JSON's
``config.estimated.seconds`` (:func:`invariants.scaling.cost.estimate`: a fixed term per check, a term per
model run (seed x size) and the floating-point operations over :data:`~invariants.scaling.cost.FLOPS`).
Printed per case: the median measured seconds over ``--repeat`` processes (CPU load printed), the estimate,
measured ÷ estimated, and whether it is inside the band :data:`BAND`: the goal is that every case is.
``--fit`` also prints the least-squares constants (fixed, per model, FLOP/s; the compile term of Flax and
Keras cases taken as set) of the measured medians, the figures the module's constants were rounded from.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import ROOT, footer, header, table

#: measured ÷ estimated must stay in this band on every case (a tiny run and a large depth run included)
BAND = (0.5, 2.0)

T = "invariants.scaling.examples:"
CASES = {
    "tiny-depth": [T + "mlp_depth_he", "--depths", "2,4", "--width", "16", "--seeds", "4"],
    "tiny-width": [T + "mlp_sp", "--widths", "8,16", "--seeds", "4"],
    "deep-narrow": [T + "mlp_depth_he", "--depths", "8,16,32", "--width", "16", "--seeds", "16"],
    "depth-steps": [T + "mlp_depth_he", "--depths", "2,4,8", "--width", "128", "--seeds", "8", "--steps", "0,2"],
    "width-default": [T + "mlp_sp", "--seeds", "16"],
    "width-steps": [T + "mlp_sp", "--widths", "64,128,256,512", "--seeds", "16", "--steps", "0,1"],
    "large-depth": [T + "mlp_depth_he", "--depths", "2,4,8,12,16", "--seeds", "16"],
    "wide-depth": [T + "mlp_depth_he", "--depths", "2,4,8", "--width", "1024", "--seeds", "8"],
    "flax-steps": ["tests.scaling.mlps:flax_sp", "--widths", "64,128,256", "--seeds", "8", "--steps", "0,1"],
    "keras-steps": ["tests.scaling.mlps:keras_sp", "--widths", "64,128,256", "--seeds", "8", "--steps", "0,1"],
}


def run_once(argv: list[str]) -> tuple[float, dict]:
    """Seconds from the estimate line to the exit of one fresh ``scale-check`` process, and its JSON report."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        p = subprocess.Popen([sys.executable, "-m", "invariants", "scale-check", *argv, "--json", path],
                             stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        t_est = None
        assert p.stderr is not None
        for line in p.stderr:
            if t_est is None and ": estimated " in line:
                t_est = time.monotonic()
        p.wait()
        t_end = time.monotonic()
        if t_est is None:
            raise RuntimeError(f"scale-check {' '.join(argv)} printed no estimate (exit {p.returncode})")
        with open(path, encoding="utf-8") as fh:
            return t_end - t_est, json.load(fh)


def fit(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Least squares ``seconds ≈ fixed + per_model·models + flops/F`` over ``(models, flops, seconds)`` rows;
    returns ``(fixed, per_model, F)``."""
    import numpy as np

    a = np.array([[1.0, m, f] for m, f, _ in rows])
    y = np.array([s for _, _, s in rows])
    (c0, c1, c2), *_ = np.linalg.lstsq(a, y, rcond=None)
    return float(c0), float(c1), float(1 / c2) if c2 > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    from invariants.scaling.cost import FLOPS, SECONDS_FIXED, SECONDS_PER_COMPILE, SECONDS_PER_MODEL, seconds

    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per case (the median is kept)")
    ap.add_argument("--only", nargs="*", default=None, help="cases to run (default: all)")
    ap.add_argument("--fit", action="store_true", help="print the least-squares constants of the measured medians")
    args = ap.parse_args(argv)
    t0 = header("scale-check: measured ÷ estimated time, from the estimate line to the exit")
    print(f"# constants: fixed {SECONDS_FIXED} s, per model {SECONDS_PER_MODEL} s, per compile {SECONDS_PER_COMPILE} s, "
          f"FLOPS {FLOPS:.3g}; band {BAND}")
    out, data = [], []
    for name, case in CASES.items():
        if args.only and name not in args.only:
            continue
        runs = [run_once(case) for _ in range(args.repeat)]
        measured = statistics.median(s for s, _ in runs)
        report = runs[0][1]
        cfg = report["config"]
        est = cfg["estimated"]["seconds"]
        models = cfg["seeds"] * len(cfg["sizes"])
        compiles = len(cfg["sizes"]) if cfg["framework"] in ("flax", "keras") else 0
        flops = (est - seconds(models, 0.0, compiles)) * FLOPS
        data.append((models, flops, measured - SECONDS_PER_COMPILE * compiles))
        ratio = measured / est
        before = cfg["estimated"].get("elapsed_before")  # loading and sizing, before the line (its own clock)
        out.append([name, models, f"{flops:.3g}", f"{measured:.2f}", f"{est:.2f}", f"{ratio:.2f}",
                    "yes" if BAND[0] <= ratio <= BAND[1] else "NO", "-" if before is None else f"{before:.2f}",
                    f"{report['seconds']:.2f}"])
        print(f"# {name}: {', '.join(f'{s:.2f}' for s, _ in runs)} s", flush=True)
    # the last two columns: what the estimate does not cover (before its line) and the report's own seconds,
    # which include it (a new user compared the estimate with those)
    print(table(["case", "models", "FLOPs", "measured s", "estimated s", "measured ÷ estimated", "in band",
                 "before the line s", "report s"], out, "lrrrrrlrr"))
    if args.fit and len(data) >= 3:
        c0, c1, f = fit(data)
        print(f"least squares: fixed {c0:.3f} s, per model {c1:.4f} s, {f:.3g} FLOP/s")
    footer(t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
