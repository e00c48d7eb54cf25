"""Study: LSTM forget-gate bias 0 vs 1 on the T-step recall task, several seeds, SGD and Adam (BIAS-FORGET-01).

``python -m invariants.studies.forget_bias --json docs/data/forget_bias.json`` regenerates the stored data.  Each run
trains the numpy LSTM of :mod:`invariants.reference.lstm` (torch's equations and default init, the effective forget
bias overwritten) and records the first step at which the 20-step running mean of the loss falls below 0.2 (or null),
the mean loss over the first ADAM_EARLY steps, and the mean loss of the last 20 steps.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from invariants.reference.lstm import train_recall

T, H, BATCH = 10, 8, 32
SEEDS = (0, 1, 2, 3, 4)
#: (optimizer, learning rate, steps)
RUNS = (("sgd", 2.0, 400), ("adam", 0.02, 200))
BIASES = (0.0, 1.0)
THRESHOLD, WINDOW, ADAM_EARLY = 0.2, 20, 60


def first_below(losses: np.ndarray, threshold: float = THRESHOLD, window: int = WINDOW) -> int | None:
    """First step (1-based, the window's last step) at which the running mean of ``window`` losses is below
    ``threshold``; None if never."""
    w = np.convolve(losses, np.ones(window) / window, "valid")
    hits = np.flatnonzero(w < threshold)
    return int(hits[0] + window) if hits.size else None


def run() -> dict:
    """All runs; JSON-serializable."""
    rows = []
    for opt, lr, steps in RUNS:
        for bias in BIASES:
            for seed in SEEDS:
                losses = train_recall(bias, opt, lr, steps, T, H, BATCH, seed)
                rows.append({"optimizer": opt, "lr": lr, "steps": steps, "forget_bias": bias, "seed": seed,
                             "first_below": first_below(losses), "early_mean": float(losses[:ADAM_EARLY].mean()),
                             "last_mean": float(losses[-WINDOW:].mean())})
    return {"T": T, "H": H, "batch": BATCH, "threshold": THRESHOLD, "window": WINDOW, "early_steps": ADAM_EARLY,
            "runs": rows}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    data = run()
    for r in data["runs"]:
        print(f"{r['optimizer']:5s} b_f={r['forget_bias']:.0f} seed {r['seed']}: first step below {THRESHOLD} "
              f"{r['first_below']}, early mean {r['early_mean']:.3f}, last {r['last_mean']:.3f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.write("\n")


if __name__ == "__main__":
    main()
