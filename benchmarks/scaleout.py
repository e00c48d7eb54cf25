"""Scale-out: the test suite serially and under pytest-xdist, with identical results.

Runs ``python -m pytest`` once serially and once with ``-n WORKERS`` (pytest-xdist), both in the
default file order (``-p no:randomly``) and with JUnit XML reports, then compares the outcome of every
test id (passed / failed / error / skipped) between the two runs and prints the wall times and the
speed-up.  Results are identical when no test depends on execution order or on state shared with
another test: every seed in the suite derives from the test's identity (Hypothesis' derandomized
``ci`` profile hashes the test function; the audits use fixed base seeds), not from the order of
execution.

``--dist`` picks xdist's scheduling (default ``loadgroup``, the README's and CI's: the tests that share an
expensive fixture, a framework's catalogue audit, a zoo model's report or the built docs site, run on one
worker, so it is built once).

The goal figure of issue 17, item 5 is the wall time of the parallel run (the suite on ``-n 2`` at low
load, goal <= 60 s); it is printed on its own ``goal:`` line with the load average around the run.
``--against DIR`` runs the suite of another checkout (e.g. main's, read-only: its own folder as the working
directory and ``PYTHONPATH``) with the same parallel command, alternating with this tree's run, and prints the
ratio of the two walls measured in one benchmark run; ``--no-serial`` skips the serial run (then nothing is
recorded: the record needs both).  Each run prints its CPU seconds (user + sys of pytest and every process it
waited for: the xdist workers and the processes the tests start) beside its wall time; at low load, wall × 2
workers ≈ CPU says the two workers stayed busy to the end.

Bytecode: with ``PYTHONDONTWRITEBYTECODE`` set, no ``.pyc`` is written, so every run's every worker compiles
each module of the package and assertion-rewrites each test module again (measured 2026-12-06 at load 1:
``pytest --collect-only`` 15.3 s per process with it set, 9.5 s with the caches written): the run says which
case it measured.

``--timeline`` prints, for each parallel run, each worker's collection time, busy time and CPU, how long it
sat idle at the end while the other still ran, and the largest xdist groups with where and when they ran
(:mod:`suite_timeline`).

Usage::

    python benchmarks/scaleout.py                     # serial vs -n 2 --dist loadgroup
    python benchmarks/scaleout.py --no-serial --against /work/main   # the goal figure, side by side with main
    python benchmarks/scaleout.py --workers auto --dist load
    python benchmarks/scaleout.py --no-serial --timeline -- tests/report   # per-worker timeline of a subset
    python benchmarks/scaleout.py -- -m "not slow"    # extra pytest arguments after --
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import suite_timeline  # noqa: E402


#: the ``@group`` suffix ``pytest-xdist``'s loadgroup scheduling adds to a test id (group names have no brackets)
XDIST_GROUP = re.compile(r"@[^\[\]@]*$")


def outcomes(junit: Path) -> dict[str, str]:
    """``{test id: outcome}`` from a JUnit XML report."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        # --dist loadgroup appends "@<xdist group>" to a grouped test's name; the serial run has no groups
        tid = f"{case.get('classname')}::{XDIST_GROUP.sub('', case.get('name'))}"
        kinds = [child.tag for child in case]
        if "failure" in kinds:
            res = "failed"
        elif "error" in kinds:
            res = "error"
        elif "skipped" in kinds:
            res = "skipped"
        else:
            res = "passed"
        # a test can appear twice (an error in teardown after a pass): keep the worst
        if out.get(tid) in ("failed", "error"):
            continue
        out[tid] = res
    return out


def children_cpu() -> float:
    """User + system CPU seconds of every process this one has waited for (with their own waited-for children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(extra: list[str], junit: Path, tree: Path = C.ROOT, timeline: Path | None = None
        ) -> tuple[float, int, str, float]:
    """Run the suite of the checkout ``tree`` (its folder as working directory and first on ``PYTHONPATH``,
    so its code wins over an installed copy); return (wall s, exit code, pytest's summary line, CPU s of the
    run: pytest, its workers and every process they started).  With ``timeline`` (a new folder) the workers
    record their timelines there (:mod:`suite_timeline`, this folder's plugin) and their summary is printed."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
           f"--junitxml={junit}"] + (["-p", "suite_timeline"] if timeline else []) + extra
    paths = (str(tree), str(Path(__file__).resolve().parent) if timeline else "", os.environ.get("PYTHONPATH", ""))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    if timeline:
        env[suite_timeline.DIR_VAR] = str(timeline)
    l0 = C.load()
    c0 = children_cpu()
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    cpu = children_cpu() - c0
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    where = "" if tree == C.ROOT else f" [{tree}]"
    print(f"#   {' '.join(cmd[2:])}{where}: {last} ({wall:.1f} s wall, {cpu:.1f} CPU-s; load average {l0:.2f} "
          f"before, {C.load():.2f} after)", flush=True)
    for line in suite_timeline.summary(timeline) if timeline else []:
        print(f"#     {line}", flush=True)
    return wall, proc.returncode, last, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="2", help="xdist workers: a number or 'auto' (default 2)")
    ap.add_argument("--dist", default="loadgroup", help="xdist scheduling (default loadgroup, the README's)")
    ap.add_argument("--no-serial", action="store_true", help="skip the serial run (nothing is recorded)")
    ap.add_argument("--against", type=Path, help="another checkout (e.g. main's) whose suite runs with the same "
                                                 "parallel command in the same benchmark run")
    ap.add_argument("--timeline", action="store_true",
                    help="print each parallel run's per-worker timeline: collection, busy and idle time, the "
                         "largest xdist groups (benchmarks/suite_timeline.py)")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    C.record_arg(ap)
    args = ap.parse_args(argv)
    t0 = C.header(f"scale-out: pytest serial vs pytest -n {args.workers} --dist {args.dist}")
    par = ["-n", args.workers, "--dist", args.dist] + list(args.pytest_args)
    with tempfile.TemporaryDirectory() as tmp:
        j1, j2 = Path(tmp) / "serial.xml", Path(tmp) / "xdist.xml"
        # the other tree first, then this one: a load that rises during the benchmark penalises this tree
        lines = (lambda name: Path(tmp) / name) if args.timeline else (lambda name: None)
        other = run(par, Path(tmp) / "other.xml", args.against.resolve(), lines("other")) if args.against else None
        w2, rc2, last2, cpu2 = run(par, j2, timeline=lines("this"))
        w1, rc1, last1, cpu1 = (run(list(args.pytest_args), j1) if not args.no_serial
                                else (float("nan"), None, "not run", float("nan")))
        o1 = outcomes(j1) if not args.no_serial else {}
        o2 = outcomes(j2)
    print()
    print(f"goal: suite wall on -n {args.workers} --dist {args.dist}: {w2:.1f} s, {cpu2:.1f} CPU-s (issue 17 goal "
          f"<= 60 s wall at low load; {len(o2)} tests, {last2})")
    if other is not None:
        print(f"      the same command on {args.against}: {other[0]:.1f} s, {other[3]:.1f} CPU-s ({other[2]}): this "
              f"tree / that one = {w2 / other[0]:.2f} wall, {cpu2 / other[3]:.2f} CPU")
    bytecode = "off (PYTHONDONTWRITEBYTECODE is set: every worker compiles and rewrites every module again)" \
        if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on (.pyc files written and reused)"
    print(f"      bytecode cache: {bytecode}")
    if args.no_serial:
        C.footer(t0, timing=True)
        return 0 if rc2 == 0 else 1
    differ = sorted(t for t in set(o1) | set(o2) if o1.get(t) != o2.get(t))
    counts = {}
    for o in o1.values():
        counts[o] = counts.get(o, 0) + 1
    print()
    print(C.table(["run", "exit code", "tests", "wall s", "CPU s", "speed-up", "result"], [
        ["serial", rc1, len(o1), f"{w1:.1f}", f"{cpu1:.1f}", "1.00", last1],
        [f"-n {args.workers} --dist {args.dist}", rc2, len(o2), f"{w2:.1f}", f"{cpu2:.1f}", f"{w1 / w2:.2f}", last2],
    ], "lrrrrrl"))
    print()
    print(f"outcomes per test id: {len(differ)} differ between the runs "
          f"({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))} serially)")
    for t in differ[:20]:
        print(f"  {t}: serial {o1.get(t, 'absent')}, xdist {o2.get(t, 'absent')}")
    bad = sorted(t for t, o in o1.items() if o in ("failed", "error"))
    if bad:
        print(f"failing in both runs (not a scale-out difference): {', '.join(bad[:10])}")
    if not args.pytest_args:  # a subset of the suite is not the figure the docs quote
        C.record(args.record, "scaleout", {
            "workers": args.workers, "dist": args.dist, "tests": len(o1), "serial_s": round(w1, 1),
            "parallel_s": round(w2, 1), "differing_outcomes": len(differ), "failing": len(bad),
            "serial_exit": rc1, "parallel_exit": rc2})
    C.footer(t0, timing=True)
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
