"""The documentation site's build without its evidence: what the docs tests' ``site`` fixture and ``invariants
report`` spend after ``verify`` (the figures drawn, the formulas derived, the pages written), side by side with
another checkout in one run (issue 17.5: the suite ≤ 60 s on ``-n 2``).

Each build runs in a fresh process from a stored verify report (``invariants verify --json``, run once here, or
``--report PATH``), in the checkout's own folder with its own ``docs/`` as the stored inputs; builds alternate
between the checkouts (``--rounds`` each).  Printed: CPU seconds (user + system) and wall seconds of each build,
the load average, and which generated files differ between the checkouts: pages and figure data (JSON) must
not; figure PNGs may (a layout change), and are listed.

Usage::

    python benchmarks/docs_site.py [--baseline /work/main] [--rounds 2] [--report verify.json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

#: run in the checkout's folder: build every file from the stored report, print CPU, wall and the files' digests
_CHILD = """
import hashlib, json, sys, time
t0, w0 = time.process_time(), time.perf_counter()
from invariants.report.site import StoredReport, build_site
with open(sys.argv[1], encoding="utf-8") as fh:
    site = build_site("docs", report=StoredReport(json.load(fh)))
print(json.dumps({"cpu_s": round(time.process_time() - t0, 2), "wall_s": round(time.perf_counter() - w0, 2),
                  "files": {k: hashlib.sha256(v).hexdigest() for k, v in site.files.items()}}))
"""


def build(tree: Path, report: Path) -> dict[str, Any]:
    """One build of ``tree``'s site in a fresh process: CPU and wall seconds, load before and after, digests."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    load0 = C.load()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(report)], cwd=tree, env=env, capture_output=True,
                          text=True, check=True)
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "load": [load0, C.load()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, help="another checkout (e.g. main's) built the same way, alternating")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--report", type=Path, help="a stored `invariants verify --json` report (default: run it now)")
    args = ap.parse_args(argv)
    t0 = C.header("docs site build from a stored verify report (figures, formulas, pages)")
    trees = [("this", C.ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    with tempfile.TemporaryDirectory() as tmp:
        report = args.report
        if report is None:
            report = Path(tmp) / "verify.json"
            subprocess.run([sys.executable, "-m", "invariants", "verify", "--quiet", "--json", str(report)],
                           cwd=C.ROOT, check=True)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
        for _ in range(args.rounds):
            for name, tree in trees:
                runs[name].append(build(tree, report))
    rows = [[name, r["cpu_s"], r["wall_s"], f"{r['load'][0]:.1f}–{r['load'][1]:.1f}"]
            for name, _ in trees for r in runs[name]]
    print(C.table(["checkout", "CPU s", "wall s", "load"], rows, "lrrl"))
    if args.baseline:
        best = {name: min(r["cpu_s"] for r in runs[name]) for name in runs}
        print(f"least CPU: this {best['this']:.2f} s, baseline {best['baseline']:.2f} s: this / baseline = "
              f"{best['this'] / best['baseline']:.2f}")
        mine, theirs = runs["this"][0]["files"], runs["baseline"][0]["files"]
        differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        pngs = [k for k in differ if k.endswith(".png")]
        others = [k for k in differ if not k.endswith(".png")]
        print(f"figure PNGs that differ ({len(pngs)}): {', '.join(pngs) or 'none'}")
        print(f"other files that differ ({len(others)}, must be none): {', '.join(others) or 'none'}")
        C.footer(t0)
        return 1 if others else 0
    C.footer(t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
