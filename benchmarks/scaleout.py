"""Scale-out: the test suite serially and under pytest-xdist, with identical results.

Runs ``python -m pytest`` once serially and once with ``-n WORKERS`` (pytest-xdist), both in the
default file order (``-p no:randomly``) and with JUnit XML reports, then compares the outcome of every
test id (passed / failed / error / skipped) between the two runs and prints the wall times and the
speed-up.  Results are identical when no test depends on execution order or on state shared with
another test: every seed in the suite derives from the test's identity (Hypothesis' derandomized
``ci`` profile hashes the test function; the audits use fixed base seeds), not from the order of
execution.

``--dist`` picks xdist's scheduling (default ``loadfile``: one test file per worker at a time, so a
module-scoped fixture such as a framework's catalogue audit is computed once, not once per worker).

Usage::

    python benchmarks/scaleout.py                     # serial vs -n 2 --dist loadfile
    python benchmarks/scaleout.py --workers auto --dist load
    python benchmarks/scaleout.py -- -m "not slow"    # extra pytest arguments after --
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402


def outcomes(junit: Path) -> dict[str, str]:
    """``{test id: outcome}`` from a JUnit XML report."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        tid = f"{case.get('classname')}::{case.get('name')}"
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


def run(extra: list[str], junit: Path) -> tuple[float, int, str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
           f"--junitxml={junit}"] + extra
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=C.ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    print(f"#   {' '.join(cmd[2:])}: {last} ({wall:.1f} s)", flush=True)
    return wall, proc.returncode, last


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="2", help="xdist workers: a number or 'auto' (default 2)")
    ap.add_argument("--dist", default="loadfile", help="xdist scheduling (default loadfile)")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    C.record_arg(ap)
    args = ap.parse_args(argv)
    t0 = C.header(f"scale-out: pytest serial vs pytest -n {args.workers} --dist {args.dist}")
    with tempfile.TemporaryDirectory() as tmp:
        j1, j2 = Path(tmp) / "serial.xml", Path(tmp) / "xdist.xml"
        w1, rc1, last1 = run(list(args.pytest_args), j1)
        w2, rc2, last2 = run(["-n", args.workers, "--dist", args.dist] + list(args.pytest_args), j2)
        o1, o2 = outcomes(j1), outcomes(j2)
    differ = sorted(t for t in set(o1) | set(o2) if o1.get(t) != o2.get(t))
    counts = {}
    for o in o1.values():
        counts[o] = counts.get(o, 0) + 1
    print()
    print(C.table(["run", "exit code", "tests", "wall s", "speed-up", "result"], [
        ["serial", rc1, len(o1), f"{w1:.1f}", "1.00", last1],
        [f"-n {args.workers} --dist {args.dist}", rc2, len(o2), f"{w2:.1f}", f"{w1 / w2:.2f}", last2],
    ], "lrrrrl"))
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
