"""Run ``invariants check-model`` on every zoo target (tests/zoo/models.py) as a user would, and record what it said.

Usage (from the repository root)::

    PYTHONPATH=$PWD python3 benchmarks/zoo_probe.py [--jobs 2] [--only REGEX] [--out tests/zoo/current.json]

For each target (``NAME`` with its example input, ``NAME__bare``, ``NAME__FAULT``) it runs
``python3 -m invariants check-model tests.zoo.models:TARGET --json FILE`` in a subprocess and records: exit
code, wall seconds, the verdict line, the totals of the header line (parameter tensors, values), the tensor
table's share of tensors and values (the "analysed" coverage), whether the probe pass ran, and every finding
(severity, kind, first tensors, message).  Results are merged into ``--out`` (one record per target), so a
partial run can be resumed with ``--only``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = re.compile(r"\((\w+)\): (\d+) parameter tensors, ([\d,]+) values")


def param_sizes(target: str) -> dict[str, int]:
    """``{parameter name as check-model names it: size}`` of a zoo target's model (torch or Keras)."""
    from tests.zoo.models import factory

    obj = factory(target.split("__")[0] + "__bare")()
    if hasattr(obj, "named_parameters"):
        return {k: int(v.numel()) for k, v in obj.named_parameters()}
    return {w.path: int(math.prod(w.shape)) for w in obj.weights}


def run_target(target: str, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        js = Path(tmp) / "r.json"
        cmd = [sys.executable, "-m", "invariants", "check-model", f"tests.zoo.models:{target}", "--json", str(js)]
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = None, "", "timeout"
        wall = time.perf_counter() - t0
        rep = json.loads(js.read_text()) if js.exists() else None
    lines = [ln for ln in out.splitlines() if ln.strip()]
    verdict = next((ln for ln in reversed(lines) if re.match(r"^(HEALTHY|UNHEALTHY|INCOMPLETE)", ln)), None)
    rec: dict = {"target": target, "rc": rc, "wall_s": round(wall, 1), "verdict": verdict}
    m = HEADER.search(out)
    if m:
        rec["framework"], rec["n_tensors"], rec["n_values"] = m.group(1), int(m.group(2)), int(m.group(3).replace(",", ""))
    if rep is None:
        rec["error"] = (err.strip().splitlines() or ["no output"])[-1][:300]
        return rec
    rows = rep["tensors"]
    bases = {r["name"].split("[")[0] for r in rows}
    rec["analysed_tensors"] = len(bases)
    # values in the analysed tensors: a row's shape and "n" are those of the sample the variance test drew
    # (a stride over tensors above Profile.max_values), so sizes come from the model itself
    sizes = param_sizes(target)
    rec["analysed_values"] = int(sum(sizes.get(b, 0) for b in bases))
    rec["sampled_values"] = int(sum(r["n"] for r in rows))
    rec["analysed"] = sorted(bases)
    rec["check_s"] = rep["seconds"]
    rec["probe"] = rep["probe"]
    rec["probe_ok"] = not str(rep["probe"]).startswith("none") and bool(rep["signal"] and rep["signal"].get("layers"))
    rec["signal_layers"] = len((rep.get("signal") or {}).get("layers") or [])
    rec["findings"] = [{"severity": f["severity"], "kind": f["kind"], "params": f["params"][:4],
                        "n_params": len(f["params"]), "message": " ".join(f["message"].split())[:240]}
                       for f in rep["findings"]]
    return rec


def main(argv: list[str] | None = None) -> int:
    from tests.zoo.models import BY_NAME, targets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default=None, help="regex over target names")
    ap.add_argument("--out", default=str(ROOT / "tests" / "zoo" / "current.json"))
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args(argv)
    todo = [t for t in targets() if a.only is None or re.search(a.only, t)]
    todo = [t for t in todo if BY_NAME[t.split("__")[0]].available()]
    out = Path(a.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    with ThreadPoolExecutor(a.jobs) as ex:
        for rec in ex.map(lambda t: run_target(t, a.timeout), todo):
            results[rec["target"]] = rec
            out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
            share = (f"{rec.get('analysed_tensors')}/{rec.get('n_tensors')} tensors "
                     f"{100 * rec.get('analysed_values', 0) / max(rec.get('n_values', 1), 1):.0f}% values")
            print(f"{rec['target']:38s} rc={rec['rc']} {rec['wall_s']:6.1f}s {share:28s} "
                  f"probe={'ok' if rec.get('probe_ok') else 'FAIL'}  {rec.get('verdict') or rec.get('error')}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
