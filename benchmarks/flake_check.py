"""Flake check: the whole test suite, run repeatedly in random order with fresh Hypothesis seeds.

Each run is ``python -m pytest -p randomly --randomly-seed=S`` (pytest-randomly shuffles the test
files and the tests within each file from ``S``, and reseeds ``random`` and numpy's global generator
per test) with ``HYPOTHESIS_PROFILE=flake`` (random Hypothesis seeds for every property, the evidence
properties of ``invariants verify`` included; see :mod:`invariants.hypothesis_profiles`).  ``S`` is
drawn from the OS, different for every run.  A failure is reported with its test ids and the command
that replays the order; Hypothesis' seeds come from its own entropy, so a failing example is replayed
from the ``--hypothesis-seed`` / ``@reproduce_failure`` lines of that run's output (kept in ``--log-dir``).

Requires pytest-randomly (``pip install pytest-randomly``); with ``--workers N`` also pytest-xdist.

Usage::

    python benchmarks/flake_check.py                    # 20 runs, serial
    python benchmarks/flake_check.py --runs 30 --workers 2
    python benchmarks/flake_check.py --runs 5 -- tests/audit/test_audit_core.py    # a subset
    python benchmarks/flake_check.py --runs 5 --profile ci    # random order only, the CI examples
"""
from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="number of runs (default 20)")
    ap.add_argument("--workers", default="0", help="pytest-xdist workers per run (default 0: no xdist)")
    ap.add_argument("--log-dir", default=None, help="keep each run's output here (default: a temp dir)")
    ap.add_argument("--profile", default="flake",
                    help="Hypothesis profile (default flake: fresh seeds; 'ci' keeps the derandomized examples and "
                         "tests the order alone)")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop starting new runs after this long (0: no limit)")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    C.record_arg(ap)
    args = ap.parse_args(argv)
    import importlib.util

    if importlib.util.find_spec("pytest_randomly") is None:
        print("flake_check: pytest-randomly is not installed (pip install pytest-randomly)", file=sys.stderr)
        return 2
    log_dir = Path(args.log_dir) if args.log_dir else Path(os.environ.get("TMPDIR", "/tmp")) / f"flake_{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    seeds = "fresh Hypothesis seeds" if args.profile == "flake" else f"Hypothesis profile {args.profile}"
    t0 = C.header(f"flake check: {args.runs} runs, random order, {seeds} (logs in {log_dir})")
    env = dict(os.environ, HYPOTHESIS_PROFILE=args.profile)
    sysrand = random.SystemRandom()
    rows, failures, walls, counts = [], [], [], set()
    done = 0
    for i in range(1, args.runs + 1):
        if args.max_minutes and time.perf_counter() - t0 > 60 * args.max_minutes:
            print(f"#   time limit reached after {done} runs", flush=True)
            break
        seed = sysrand.randrange(2**32)
        cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "randomly", f"--randomly-seed={seed}",
               "-p", "no:cacheprovider"]
        if args.workers not in ("0", ""):
            cmd += ["-n", args.workers]
        cmd += list(args.pytest_args)
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=C.ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        (log_dir / f"run{i:02d}_seed{seed}.txt").write_text(proc.stdout + proc.stderr)
        lines = proc.stdout.strip().splitlines()
        last = lines[-1] if lines else proc.stderr.strip()[-200:]
        failed = sorted({m.group(1) for m in re.finditer(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)})
        done += 1
        walls.append(wall)
        counts.update(int(m.group(1)) for m in re.finditer(r"(\d+) passed", last))
        ok = proc.returncode == 0
        rows.append([i, seed, proc.returncode, f"{wall:.0f}", last.strip("= ")])
        print(f"#   run {i}/{args.runs}: seed {seed}, exit {proc.returncode}, {wall:.0f} s: {last.strip('= ')}", flush=True)
        if not ok:
            failures.append((i, seed, failed or [last], log_dir / f"run{i:02d}_seed{seed}.txt"))
    print()
    print(C.table(["run", "randomly seed", "exit", "wall s", "result"], rows, "rrrrl"))
    print()
    print(f"{done} runs, {len(failures)} with failures")
    for i, seed, failed, log in failures:
        print(f"  run {i} (seed {seed}): {', '.join(failed[:10])}")
        print(f"    order: HYPOTHESIS_PROFILE={args.profile} python -m pytest -p randomly --randomly-seed={seed}"
              + (f" -n {args.workers}" if args.workers not in ('0', '') else "")
              + f"; Hypothesis' failing example and its --hypothesis-seed are in {log}")
    if done and not args.pytest_args:  # a subset of the suite is not the figure the docs quote
        C.record(args.record, "flake", {
            "runs": done, "failed_runs": len(failures), "workers": args.workers, "profile": args.profile,
            "tests_passed_per_run": sorted(counts), "wall_s": [round(min(walls)), round(max(walls))],
            "failing_tests": sorted({t for _i, _s, failed, _log in failures for t in failed})})
    C.footer(t0, timing=False)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
