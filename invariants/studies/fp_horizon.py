"""How long one ulp of asymmetry takes to become O(1), under SGD and Adam, in float32 and float64.

SYM-FP-01's verify-time task (XOR of two signs among d = 8 inputs, 64 examples, (8, 4, 2) tanh,
softmax cross-entropy, full batch; SGD lr 0.5, Adam lr 0.05) started from the constant init with unit 0's
first incoming weight nudged up by one ulp, on the exact (permutation-equivariant) kernel so that the nudge
is the only asymmetry.  Each run goes until the symmetry defect reaches ``delta`` (0.1) or ``horizon``
steps.  A 300-step horizon makes SGD look as if it kept the defect at the rounding level; over thousands
of steps it grows like ε·e^{λt} too (SYM-GROWTH-01).

Regenerate: ``python -m invariants.studies.fp_horizon --json docs/data/fp_horizon.json`` (a few minutes
on one core: the exact kernel and the float64 SGD run of ~4000 steps dominate).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from invariants.studies.fp_symmetry import run_numpy, xor_task

TASK = dict(n=64, d=8, width=4)
LR = {"sgd": 0.5, "adam": 0.05}
DELTA = 0.1
HORIZON = 10000
CHECKPOINTS = (1, 10, 100, 300, 1000, 2000, 3000, 5000)


def nudged_rows(dtypes=("float32", "float64"), optimizers=("sgd", "adam"), horizon: int = HORIZON,
                delta: float = DELTA, kernel: str = "exact") -> list[dict]:
    """One :class:`invariants.studies.fp_symmetry.Trace` (as a dict) per (dtype, optimizer); ``reached_at``
    is the first step with defect ≥ ``delta`` (``None`` if not within ``horizon``)."""
    task = xor_task(TASK["n"], TASK["d"])
    return [asdict(run_numpy(kernel, "nudged", dt, opt, TASK["width"], horizon, task, checkpoints=CHECKPOINTS,
                             lr=LR[opt], stop_at=delta))
            for dt in dtypes for opt in optimizers]


def format_table(rows: list[dict]) -> str:
    """dtype, optimizer, defect at each checkpoint reached, and the step the defect reached δ."""
    lines = [f"{'dtype':<8} {'opt':<5} " + " ".join(f"{'step ' + str(s):>10}" for s in CHECKPOINTS) + "  reached δ at"]
    for r in rows:
        cells = " ".join(f"{r['defects'][s]:>10.1e}" if s in r["defects"] else f"{'':>10}" for s in CHECKPOINTS)
        lines.append(f"{r['dtype']:<8} {r['optimizer']:<5} {cells}  {r['reached_at']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m invariants.studies.fp_horizon", description=__doc__.split("\n")[0])
    parser.add_argument("--horizon", type=int, default=HORIZON)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    rows = nudged_rows(horizon=args.horizon)
    for r in rows:  # JSON keys must be strings
        r["defects"] = {int(k): v for k, v in r["defects"].items()}
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"task": TASK, "lr": LR, "delta": DELTA, "horizon": args.horizon, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
