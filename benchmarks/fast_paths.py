"""Compile cache and parallel verify, each measured side by side with its reference in one run (issue 17.4/17.5).

1. ``invariants audit jax`` / ``audit keras`` three times each, in fresh processes: with the compile cache
   off (``INVARIANTS_NO_COMPILE_CACHE=1``), cold (an empty cache folder) and warm (the same folder again);
   the three JSON reports must agree (timings aside): the cache holds compiled programs, never results.
2. ``invariants verify`` with ``--jobs 1`` and with the default (one worker per CPU); the two JSON reports
   must be identical (timings aside).  With ``--baseline DIR`` (a checkout, e.g. of main) the same command
   also runs from DIR first, in the same run: its report must equal this checkout's (timings aside), and
   the goal figure (issue 17.5: verify ≤ 6 s wall on 2 cores) is printed for both, with the ratios.

Wall time, CPU time (user + system of the process and its children) and the load average around each run
are printed: on a shared machine the wall time of a loaded run says little, its CPU time a little more.

Usage::

    python benchmarks/fast_paths.py [--frameworks jax,keras] [--no-verify] [--baseline DIR] [--rounds N] [--record]

``--frameworks ''`` skips the audits; ``--record`` then replaces only the ``verify`` part of the record.
``--rounds N`` runs the verify modes N times, interleaved (baseline, jobs 1, default, baseline, ...), and
reports each mode's median wall and CPU seconds, with the per-round ratios to the baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402


def _strip(obj: Any) -> Any:
    """A JSON report without its timings (keys naming seconds)."""
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if "second" not in k}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def run_cli(args: list[str], env: dict[str, str], out: Path, cwd: str | Path = C.ROOT) -> dict[str, Any]:
    """One ``python -m invariants ARGS --json OUT`` in a fresh process (in ``cwd``): wall, CPU, load, exit code,
    report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0, t0 = C.load(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "invariants", *args, "--quiet", "--json", str(out)], cwd=cwd,
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads(out.read_text()) if out.exists() else {}
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load": [load0, C.load()], "exit": proc.returncode,
            "report": _strip(report)}


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One mode's figure over its rounds: the median wall and CPU seconds (each over the rounds), the load
    range seen, the worst exit code, the first report."""
    return {"wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
            "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
            "load": [min(r["load"][0] for r in runs), max(r["load"][1] for r in runs)],
            "exit": max(r["exit"] for r in runs), "report": runs[0]["report"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frameworks", default="jax,keras")
    ap.add_argument("--no-verify", action="store_true")
    ap.add_argument("--rounds", type=int, default=1, metavar="N",
                    help="run the verify modes N times, interleaved, and report medians (default 1)")
    ap.add_argument("--baseline", metavar="DIR", help="also run verify from this checkout (e.g. /work/main) and "
                    "compare its report and time with this one's")
    C.record_arg(ap)
    args = ap.parse_args()
    t0 = C.header("compile cache (audit off / cold / warm) and verify (--jobs 1 / default)")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "INVARIANTS_"))}
    base["PYTHONPATH"] = str(C.ROOT) + os.pathsep + base.get("PYTHONPATH", "")
    rows, payload, goal = [], {"audit": [], "verify": {}}, []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for fw in [f for f in args.frameworks.split(",") if f]:
            modes = {"off": {**base, "INVARIANTS_NO_COMPILE_CACHE": "1"},
                     "cold": {**base, "INVARIANTS_CACHE_DIR": str(tmp / f"cache-{fw}")},
                     "warm": {**base, "INVARIANTS_CACHE_DIR": str(tmp / f"cache-{fw}")}}
            got = {m: run_cli(["audit", fw], env, tmp / f"{fw}-{m}.json") for m, env in modes.items()}
            same = got["off"]["report"] == got["cold"]["report"] == got["warm"]["report"]
            for m, r in got.items():
                rows.append([f"audit {fw}", m, r["wall_s"], r["cpu_s"], f"{r['load'][0]:.1f}–{r['load'][1]:.1f}",
                             r["exit"], "yes" if same else "NO"])
            payload["audit"].append({"framework": fw, "same_reports": same, **{
                m: {k: r[k] for k in ("wall_s", "cpu_s", "load")} for m, r in got.items()},
                "warm_over_off_wall": round(got["off"]["wall_s"] / got["warm"]["wall_s"], 2)})
        if not args.no_verify:
            commands = {}
            if args.baseline:
                env = {**base, "PYTHONPATH": str(Path(args.baseline).resolve()) + os.pathsep
                       + os.environ.get("PYTHONPATH", "")}
                commands["baseline"] = (["verify"], env, args.baseline)
            commands["jobs 1"] = (["verify", "--jobs", "1"], base, C.ROOT)
            commands["default"] = (["verify"], base, C.ROOT)
            # rounds interleave the modes (baseline, jobs 1, default, baseline, ...) so that a change of load
            # during the benchmark falls on every mode alike; each figure is the median over the rounds
            trials: dict[str, list] = {m: [] for m in commands}
            for n in range(args.rounds):
                for m, (argv, env, cwd) in commands.items():
                    trials[m].append(run_cli(argv, env, tmp / f"v-{m.replace(' ', '')}-{n}.json", cwd=cwd))
            got = {m: _median_run(rs) for m, rs in trials.items()}
            for rs in trials.values():
                for r in rs:  # how the run was made, not what it found (a baseline may predate numba)
                    r["report"].get("config", {}).pop("jobs", None)
                    r["report"].get("config", {}).pop("compiled", None)
                    r["report"].get("versions", {}).pop("numba", None)
            same = all(r["report"] == got["default"]["report"] for rs in trials.values() for r in rs)
            for m, r in got.items():
                rows.append(["verify", m, r["wall_s"], r["cpu_s"], f"{r['load'][0]:.1f}–{r['load'][1]:.1f}", r["exit"],
                             "yes" if same else "NO"])
            payload["verify"] = {"same_reports": same, "cores": os.cpu_count(), "rounds": args.rounds,
                                 **{m: {k: r[k] for k in ("wall_s", "cpu_s", "load")} for m, r in got.items()}}
            goal.append(f"goal (issue 17.5): verify ≤ 6 s wall on 2 cores; default workers: "
                        f"{got['default']['wall_s']} s wall, {got['default']['cpu_s']} CPU-s "
                        f"({'met' if got['default']['wall_s'] <= 6 else 'NOT met'}; {os.cpu_count()} cores"
                        + (f"; medians of {args.rounds} interleaved rounds" if args.rounds > 1 else "") + ")")
            if "baseline" in got:
                b, d = got["baseline"], got["default"]
                payload["verify"]["baseline"]["checkout"] = str(args.baseline)
                payload["verify"]["baseline_over_default"] = {"wall": round(b["wall_s"] / d["wall_s"], 2),
                                                              "cpu": round(b["cpu_s"] / d["cpu_s"], 2)}
                goal.append(f"baseline ({args.baseline}): {b['wall_s']} s wall, {b['cpu_s']} CPU-s; this checkout is "
                            f"{b['wall_s'] / d['wall_s']:.2f}x faster in wall time, {b['cpu_s'] / d['cpu_s']:.2f}x "
                            "in CPU time, same report: " + ("yes" if same else "NO"))
                if args.rounds > 1:
                    goal.append("per round, baseline ÷ default: wall " + ", ".join(
                        f"{x['wall_s'] / y['wall_s']:.2f}" for x, y in zip(trials["baseline"], trials["default"]))
                        + "; CPU " + ", ".join(f"{x['cpu_s'] / y['cpu_s']:.2f}"
                                               for x, y in zip(trials["baseline"], trials["default"])))
    print(C.table(["command", "mode", "wall s", "cpu s", "load", "exit", "same report"], rows))
    print("\n".join(goal))
    C.footer(t0)
    if payload["audit"]:
        C.record(args.record, "fast_paths", {"machine": C.machine(), **payload})
    elif payload["verify"]:  # verify alone: keep the recorded audits
        C.record(args.record, "fast_paths", {"verify": payload["verify"]}, part="verify")
    return 0 if all(r[-1] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
