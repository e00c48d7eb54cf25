"""Do the verdicts of ``invariants verify`` survive other floating-point kernels?  (Which figures move?)

Evidence runs on NumPy, OpenBLAS and torch, which pick SIMD kernels by the CPU's features; an AVX2 machine and an
AVX-512 one round some sums differently.  This script runs ``invariants verify --json`` in fresh processes under
kernel configurations that emulate older CPUs on this one (``OPENBLAS_CORETYPE``, ``NPY_DISABLE_CPU_FEATURES``,
``ATEN_CPU_CAPABILITY``: each library's documented override), and compares every piece of evidence with the
native run: whether it passed (must be identical) and whether its text, i.e. its figures, moved.

    python benchmarks/portability.py [--record]

About 4 × one ``verify`` (1–2 min on 2 cores).  A configuration the CPU cannot honour (an override naming a
kernel the machine lacks) is the library's to refuse or ignore; the platform each run reports
(:func:`invariants.report.platform.platform`) is printed beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform as _platform
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, footer, header, record, record_arg, table

#: name -> environment overrides (x86-64 only; elsewhere only the native run)
CONFIGS = {
    "native": {},
    "AVX, no FMA (OpenBLAS Sandybridge, NumPy without X86_V3, torch default)": {
        "OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": "X86_V3", "ATEN_CPU_CAPABILITY": "default"},
    "SSE3 (OpenBLAS Prescott, NumPy without X86_V3, torch default)": {
        "OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": "X86_V3", "ATEN_CPU_CAPABILITY": "default"},
    "torch AVX2 kernels only": {"ATEN_CPU_CAPABILITY": "avx2"},
}


def run(env_extra: dict[str, str], out: Path) -> tuple[dict, dict]:
    env = dict(os.environ, **env_extra, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "invariants", "verify", "--quiet", "--json", str(out)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, cwd=ROOT)
    if not out.is_file():  # verify exits 1 on failed evidence and still writes its JSON; no JSON is a crash
        raise SystemExit(f"verify under {env_extra} wrote no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(out.read_text(encoding="utf-8"))
    plat = json.loads(subprocess.run(
        [sys.executable, "-c", "import json; from invariants.report.platform import platform; "
                               "print(json.dumps(platform()))"],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
    pieces = {(c["id"], e["name"]): (e["passed"], e.get("detail", "")) for c in data["claims"] for e in c["evidence"]}
    return pieces, plat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    record_arg(ap)
    args = ap.parse_args()
    t0 = header("portability: verify's verdicts under other floating-point kernels")
    configs = CONFIGS if _platform.machine() in ("x86_64", "AMD64") else {"native": {}}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, extra) in enumerate(configs.items()):
            results[name] = run(extra, Path(tmp) / f"{i}.json")
    native, _ = results["native"]
    rows, payload = [], {"pieces": len(native), "configs": []}
    for name, (pieces, plat) in results.items():
        flipped = sorted(f"{k[0]}: {k[1]}" for k in native if pieces.get(k, (None,))[0] != native[k][0])
        moved = sorted({k[0] for k in native if k in pieces and pieces[k][1] != native[k][1]})
        failed = sum(1 for v in pieces.values() if not v[0])
        rows.append([name, f"{plat['torch_cpu']}, NumPy {'+'.join(plat['numpy_simd']) or 'baseline'}, "
                           f"{' + '.join(plat.get('blas', [])) or '?'}", failed,
                     len(flipped), len(moved)])
        payload["configs"].append(dict(name=name, platform=plat, failed=failed, flipped=flipped, figures_moved=moved))
        for f in flipped:
            print(f"#   {name}: verdict of evidence changed: {f}")
    print(table(["configuration", "platform (torch, NumPy SIMD, BLAS kernel)", "evidence failed", "pass/fail flipped vs native",
                 "claims whose figures moved"], rows, "llrrr"))
    print(f"# {len(native)} pieces of evidence; figures moved in: "
          + "; ".join(f"{c['name'].split(' (')[0]}: {', '.join(c['figures_moved']) or 'none'}"
                      for c in payload["configs"][1:]))
    footer(t0, timing=False)
    record(args.record, "portability", payload)
    return 0 if all(not c["flipped"] and not c["failed"] for c in payload["configs"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
