"""Streamed ``check-model`` on billion-parameter Llama configs built on the ``meta`` device: time and peak memory.

Usage (from the repository root)::

    PYTHONPATH=$PWD python3 benchmarks/large_models.py [--sizes 1b,7b] [--dtypes float32,bfloat16] [--budget-gb 20]

Each case (size x dtype) runs in a fresh subprocess, so its peak resident set (``ru_maxrss``) is its own:
the config is built under ``with torch.device("meta")`` (no memory), the plan and the estimate are
printed *before* any value is drawn, then :func:`invariants.modelcheck.stream.check_streamed` runs with a
progress bar on stderr.  The table gives, side by side: parameters, wall time, seconds per billion
parameters, peak RSS, the largest module (bytes in its dtype), peak RSS / largest module, and what the
in-memory check would need (about 2.5x the float32 model, issue 13).  A case whose estimated peak exceeds
``--budget-gb`` is not run (the reason is printed).

Configs (``LlamaConfig``): 1B = TinyLlama-1.1B's shape (hidden 2048, MLP 5632, 22 layers, 32 heads, 4 KV
heads); 7B = Llama-2-7B's (hidden 4096, MLP 11008, 32 layers, 32 heads, 32 KV heads); vocabulary 32000,
untied embeddings.  Figures recorded in ``benchmarks/README.md`` ("Large models").
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from _common import ROOT, footer, header

CONFIGS = {
    "1b": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
               num_key_value_heads=4, vocab_size=32000),
    "7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=32, vocab_size=32000),
}
#: estimate of the streamed peak: the process baseline plus this many times the largest module in float32
#: (its tensor, the numpy copy, the checks' temporaries); fitted on the 1B and truncated-7B runs (4.0, 3.5)
PEAK_FACTOR = 4.2
BASE_RSS_GB = 0.4
#: estimate of the time: seconds per module (the per-tensor tests on a bounded sample) plus seconds per
#: billion values (init, copies, digests); fitted on the 1B and truncated-7B float32 runs on the shared
#: 2-core machine (load average ~11)
SECONDS_PER_MODULE = 0.69
SECONDS_PER_BILLION = 56.0


def build(size: str, dtype: str, layers: int | None = None):
    sys.path.insert(0, str(ROOT))
    from tests.zoo._compat import ensure_torchvision

    ensure_torchvision()  # transformers' image utilities import torchvision (tests/zoo/_compat.py)
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    shape = dict(CONFIGS[size], **({"num_hidden_layers": layers} if layers else {}))
    cfg = LlamaConfig(**shape, tie_word_embeddings=False)
    with torch.device("meta"):
        model = LlamaForCausalLM(cfg)
    return model.to(getattr(torch, dtype))


def estimate(size: str, dtype: str, layers: int | None = None) -> dict:
    """Parameters, largest module and the time/memory estimates, from shapes only."""
    from invariants.frameworks.torch.stream import plan

    p = plan(build(size, dtype, layers))
    path, values, nbytes = p.largest
    peak = BASE_RSS_GB * 2**30 + PEAK_FACTOR * values * 4
    return {"params": p.values, "bytes": p.bytes, "largest": path, "largest_values": values,
            "largest_bytes": nbytes, "est_peak_gb": peak / 2**30,
            "est_seconds": SECONDS_PER_MODULE * len(p.modules) + SECONDS_PER_BILLION * p.values / 1e9,
            "in_memory_gb": 2.5 * p.values * 4 / 2**30}


def describe(size: str, dtype: str, est: dict) -> str:
    return (f"# {size} {dtype}: {est['params'] / 1e9:.2f}B parameters, {est['bytes'] / 2**30:.1f} GiB in {dtype}; "
            f"largest module {est['largest']} ({est['largest_bytes'] / 2**20:.0f} MiB); estimate: peak "
            f"{est['est_peak_gb']:.1f} GiB, {est['est_seconds'] / 60:.1f} min (the in-memory check would need "
            f"~{est['in_memory_gb']:.0f} GiB)")


def run_case(size: str, dtype: str, layers: str = "") -> None:
    """One case in this process: check (progress bar on stderr), print a JSON line of figures."""
    n = int(layers) if layers else None
    est = estimate(size, dtype, n)
    from invariants.modelcheck.stream import check_streamed

    model = build(size, dtype, n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # imports and the meta model
    t0 = time.perf_counter()
    report = check_streamed(model, seed=0, progress=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    cov = report.coverage
    print(json.dumps({**est, "size": size + (f"/{n}L" if n else ""), "dtype": dtype, "seconds": seconds,
                      "peak_rss": peak, "base_rss": base,
                      "status": report.status, "signal": cov.signal, "errors": len(report.errors),
                      "notes": len(report.notes), "tensors": cov.tensors, "total_tensors": cov.total_tensors,
                      "rows": len(report.tensors)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1b,7b")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--budget-gb", type=float, default=20.0, help="skip a case whose estimated peak exceeds this")
    ap.add_argument("--layers", type=int, help="truncate every config to this many decoder layers (the largest "
                    "module, the embedding, is unchanged): per-layer time and the peak, extrapolated to the full depth")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        run_case(*args.case.split(":"))
        return
    t0 = header("streamed check-model on meta-device Llama configs (benchmarks/large_models.py)")
    results = []
    for size in args.sizes.split(","):
        for dtype in args.dtypes.split(","):
            est = estimate(size, dtype, args.layers)
            print(describe(size + (f" truncated to {args.layers} layers" if args.layers else ""), dtype, est),
                  flush=True)  # before the heavy work
            if est["est_peak_gb"] > args.budget_gb:
                print(f"# {size} {dtype}: skipped, estimated peak {est['est_peak_gb']:.1f} GiB > --budget-gb "
                      f"{args.budget_gb}")
                continue
            case = f"{size}:{dtype}:{args.layers or ''}"
            proc = subprocess.run([sys.executable, __file__, "--case", case], stdout=subprocess.PIPE, text=True, cwd=ROOT)
            for line in proc.stdout.splitlines():
                if line.startswith("{"):
                    results.append(json.loads(line))
                else:
                    print(line, flush=True)
            if proc.returncode:
                print(f"# {size} {dtype}: the case exited {proc.returncode}")
    print()
    print(f"{'case':<14}{'params':>8}{'time':>9}{'s/1B':>8}{'peak RSS':>10}{'base':>8}{'largest':>9}"
          f"{'(peak-base)/largest':>20}{'est. peak':>10}{'est. time':>10}{'in-memory':>10}  verdict")
    for r in results:
        print(f"{r['size'] + ' ' + r['dtype']:<14}{r['params'] / 1e9:>7.2f}B{r['seconds']:>8.0f}s"
              f"{r['seconds'] / (r['params'] / 1e9):>8.0f}{r['peak_rss'] / 2**30:>8.2f}G{r['base_rss'] / 2**30:>7.2f}G"
              f"{r['largest_bytes'] / 2**20:>8.0f}M{(r['peak_rss'] - r['base_rss']) / r['largest_bytes']:>20.1f}"
              f"{r['est_peak_gb']:>9.1f}G{r['est_seconds']:>9.0f}s{r['in_memory_gb']:>9.0f}G  {r['verdict']} "
              f"({r['errors']} errors, {r['notes']} notes; {r['tensors']}/{r['total_tensors']} tensors)")
    footer(t0)


if __name__ == "__main__":
    main()
