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

**In memory** (``--in-memory dense1g,dense1g-bf16,many382``, issue 17 item 3): ordinary models, built in
memory, checked by :func:`invariants.modelcheck.check_model`, each case in a fresh subprocess, side by
side for this tree and, with ``--baseline PATH``, another checkout (e.g. ``main`` before the change): model
size, peak RSS beyond the process after the model is built (``VmHWM`` reset after the build, where Linux
allows it: :func:`after_build_rss`; else ``ru_maxrss``), that excess over the model
size, wall time and time per tensor, the cost estimate (:func:`invariants.modelcheck.cost.model_cost`, when
the tree has it), and the verdict with a digest of the findings (kinds, severities, tensors) so a change
of verdict shows.  ``dense1g``: 16 x ``Linear(4096, 4096)`` + ReLU in float32 (1.0 GiB); ``dense1g-bf16``:
the same in bfloat16 (0.5 GiB; read as ``ml_dtypes.bfloat16`` views where this tree does, converted to float32 in
trees before it); ``many382``: 382 x
``Linear(256, 256)`` + ReLU (the per-tensor cost); ``mlx-dense1g``, ``mlx-dense1g-bf16``: the dense cases
as ``mlx.nn`` modules (read as views of the arrays' buffers where this tree does, bfloat16 as
``ml_dtypes.bfloat16``; copied, bfloat16 widened to float32, in trees before it); ``flax-dense1g``,
``flax-dense1g-bf16``, ``keras-dense1g``, ``keras-dense1g-bf16``: the same as a Flax linen stack and a Keras
``Sequential`` on the JAX backend (both read as views, ``np.asarray``, where this tree does; Keras' weights copied in their own dtype by
``keras.ops.convert_to_numpy`` in trees before it).
``--record`` stores them as ``large_models`` in ``docs/data/benchmarks.json``.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from _common import ROOT, footer, header, record, record_arg

CONFIGS = {
    "1b": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
               num_key_value_heads=4, vocab_size=32000),
    "7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=32, vocab_size=32000),
}
#: the process baseline of the streamed estimate; the rest of it is check-model's own
#: (:mod:`invariants.modelcheck.cost`: STREAM_PEAK_FACTOR x the largest module in float32, seconds per module
#: and per billion values, fitted on the 1B and truncated-7B runs)
BASE_RSS_GB = 0.4


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
    from invariants.modelcheck.cost import SECONDS_PER_BILLION, SECONDS_PER_MODULE, STREAM_PEAK_FACTOR

    p = plan(build(size, dtype, layers))
    path, values, nbytes = p.largest
    peak = BASE_RSS_GB * 2**30 + STREAM_PEAK_FACTOR * values * 4
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


#: issue 17 item 3: an in-memory check peaks at most this much above the model itself (GiB)
GOAL_GIB = 1.0
IN_MEMORY = {
    "dense1g": (16, 4096, "float32"),
    "dense1g-bf16": (16, 4096, "bfloat16"),
    "many382": (382, 256, "float32"),
    "mlx-dense1g": (16, 4096, "float32"),
    "mlx-dense1g-bf16": (16, 4096, "bfloat16"),
    "flax-dense1g": (16, 4096, "float32"),
    "flax-dense1g-bf16": (16, 4096, "bfloat16"),
    "keras-dense1g": (16, 4096, "float32"),
    "keras-dense1g-bf16": (16, 4096, "bfloat16"),
}


def build_flax(depth: int, width: int, dtype: str):
    """The dense case as a Flax linen ``(module, variables)`` pair, parameters in ``dtype``."""
    import flax.linen as fnn
    import jax
    import jax.numpy as jnp

    dt = getattr(jnp, dtype)

    class Stack(fnn.Module):
        @fnn.compact
        def __call__(self, x):
            for _ in range(depth):
                x = fnn.relu(fnn.Dense(width, dtype=dt, param_dtype=dt)(x))
            return x

    module = Stack()
    return module, module.init(jax.random.key(0), jnp.zeros((1, width), dt))


def build_keras(depth: int, width: int, dtype: str):
    """The dense case as a Keras ``Sequential`` (the JAX backend, as check-model picks it), layers in ``dtype``."""
    from invariants.frameworks.keras import choose_backend

    choose_backend()
    import keras

    keras.utils.set_random_seed(0)
    layers = [keras.layers.Dense(width, activation="relu", dtype=dtype) for _ in range(depth)]
    return keras.Sequential([keras.Input((width,))] + layers)


def build_mlx(depth: int, width: int, dtype: str):
    """The dense case as an ``mlx.nn.Sequential``, each layer cast to ``dtype`` as it is built (one float32
    layer at a time passes through memory before the baseline RSS)."""
    import mlx.core as mx
    import mlx.nn as mnn

    mx.random.seed(0)
    layers = []
    for _ in range(depth):
        lin = mnn.Linear(width, width)
        lin.set_dtype(getattr(mx, dtype))
        mx.eval(lin.parameters())
        layers += [lin, mnn.ReLU()]
    mx.clear_cache()
    return mnn.Sequential(*layers)


def tensor_list(model) -> list[tuple[int, int]]:
    """``(values, bytes)`` of each parameter tensor of a torch, MLX, Keras or Flax ``(module, variables)`` model."""
    if isinstance(model, tuple):  # Flax
        import jax

        return [(int(v.size), int(v.nbytes)) for v in jax.tree_util.tree_leaves(model[1])]
    if hasattr(model, "weights") and not hasattr(model, "parameters"):  # Keras
        return [(int(v.value.size), int(v.value.nbytes)) for v in model.weights]
    if type(model).__module__.startswith("mlx"):
        from mlx.utils import tree_flatten

        return [(int(v.size), int(v.nbytes)) for _, v in tree_flatten(model.parameters())]
    return [(p.numel(), p.numel() * p.element_size()) for p in model.parameters()]


def build_in_memory(case: str):
    depth, width, dtype = IN_MEMORY[case]
    if case.startswith("mlx-"):
        return build_mlx(depth, width, dtype)
    if case.startswith("flax-"):
        return build_flax(depth, width, dtype)
    if case.startswith("keras-"):
        return build_keras(depth, width, dtype)
    import torch

    torch.manual_seed(0)
    layers = []
    for _ in range(depth):  # built in its dtype: no float32 model passes through memory before the baseline RSS
        layers += [torch.nn.Linear(width, width, dtype=getattr(torch, dtype)), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers)


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` figure (``VmRSS``, ``VmHWM``) in bytes, ``None`` off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def after_build_rss() -> int:
    """The resident set once the model is built, with the peak reset to it where Linux allows
    (``/proc/self/clear_refs`` 5 resets ``VmHWM``): a build whose temporaries (Flax's float32 draws cast to
    bfloat16) peak above the check's would otherwise hide the check's peak.  Else ``ru_maxrss``."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        rss = _status_kib("VmRSS")
        if rss is not None:
            return rss
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss() -> int:
    """The peak resident set since :func:`after_build_rss` (``VmHWM``; ``ru_maxrss`` where it is not reset)."""
    hwm = _status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_in_memory(case: str) -> None:
    """One in-memory case in this process (this tree or the baseline's, first on ``sys.path``): a JSON line."""
    import hashlib
    import os

    sys.path.insert(0, os.environ.get("BENCH_TREE", str(ROOT)))  # ahead of _common's ROOT
    model = build_in_memory(case)
    import invariants
    from invariants.modelcheck import check_model, get_profile

    assert invariants.__file__.startswith(sys.path[0]), (invariants.__file__, sys.path[0])

    try:
        from invariants.modelcheck.cost import model_cost

        est = model_cost(model, get_profile(None).max_values)
        est_bytes, est_seconds = est.bytes, est.seconds
    except ImportError:  # a tree without the cost estimate
        est_bytes = est_seconds = None
    params = tensor_list(model)
    model_bytes = sum(b for _, b in params)
    base = after_build_rss()  # imports and the model
    t0 = time.perf_counter()
    report = check_model(model)
    seconds = time.perf_counter() - t0
    peak = peak_rss()
    findings = sorted((f.kind, f.severity, tuple(f.params)) for f in report.findings)
    print(json.dumps({"case": case, "params": sum(n for n, _ in params), "tensors": len(params),
                      "model_bytes": model_bytes, "seconds": seconds, "per_tensor_ms": 1e3 * seconds / len(params),
                      "base_rss": base, "peak_rss": peak, "excess_over_model": (peak - base) / model_bytes,
                      "est_bytes": est_bytes, "est_seconds": est_seconds, "status": report.status,
                      "errors": len(report.errors), "notes": len(report.notes),
                      "findings_digest": hashlib.sha256(repr(findings).encode()).hexdigest()[:12]}), flush=True)


def in_memory(cases: list[str], trees: list[tuple[str, str]]) -> list[dict]:
    """Every case under every tree, each in a fresh subprocess; the side-by-side table."""
    import os

    results = []
    for case in cases:
        for label, tree in trees:
            env = dict(os.environ, BENCH_TREE=tree, PYTHONPATH=tree + os.pathsep + os.environ.get("PYTHONPATH", ""))
            proc = subprocess.run([sys.executable, __file__, "--in-memory-case", case], stdout=subprocess.PIPE,
                                  text=True, cwd=tree, env=env)
            rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
            if proc.returncode or not rows:
                print(f"# {case} ({label}): the case exited {proc.returncode}")
                continue
            results.append(dict(rows[-1], tree=label))
            print(f"# {case} ({label}) done in {rows[-1]['seconds']:.1f} s", flush=True)
    print()
    width = max([14] + [len(r["case"]) + 2 for r in results])
    print(f"{'case':<{width}}{'tree':<10}{'params':>9}{'model':>9}{'peak-base':>10}{'/model':>8}{'est.':>9}"
          f"{'time':>8}{'ms/tensor':>10}{'est. t':>8}  verdict (findings digest)")
    for r in results:
        est_b = f"{r['est_bytes'] / 2**30:.2f}G" if r["est_bytes"] is not None else "-"
        est_t = f"{r['est_seconds']:.0f}s" if r["est_seconds"] is not None else "-"
        print(f"{r['case']:<{width}}{r['tree']:<10}{r['params'] / 1e6:>8.1f}M{r['model_bytes'] / 2**30:>8.2f}G"
              f"{(r['peak_rss'] - r['base_rss']) / 2**30:>9.2f}G{r['excess_over_model']:>8.2f}{est_b:>9}"
              f"{r['seconds']:>7.1f}s{r['per_tensor_ms']:>10.0f}{est_t:>8}  {r['status']} ({r['errors']} errors, "
              f"{r['notes']} notes; {r['findings_digest']})")
    for r in results:  # the goal figure (issue 17 item 3): peak <= model size + 1 GiB, i.e. peak - base <= 1 GiB
        beyond = (r["peak_rss"] - r["base_rss"]) / 2**30
        print(f"# goal peak <= model + {GOAL_GIB:g} GiB: {r['case']} ({r['tree']}): {beyond:.2f} GiB beyond the "
              f"{r['model_bytes'] / 2**30:.2f} GiB model ({r['excess_over_model']:.2f}x it): "
              f"{'met' if beyond <= GOAL_GIB else 'NOT met'}")
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1b,7b")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--budget-gb", type=float, default=20.0, help="skip a case whose estimated peak exceeds this")
    ap.add_argument("--layers", type=int, help="truncate every config to this many decoder layers (the largest "
                    "module, the embedding, is unchanged): per-layer time and the peak, extrapolated to the full depth")
    ap.add_argument("--in-memory", default="", metavar="CASES",
                    help=f"in-memory cases, comma-separated, of {', '.join(IN_MEMORY)} (then no streamed case unless "
                    "--sizes is given too)")
    ap.add_argument("--baseline", metavar="PATH", help="also run the in-memory cases on this checkout (e.g. main)")
    record_arg(ap)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--in-memory-case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        run_case(*args.case.split(":"))
        return
    if args.in_memory_case:
        run_in_memory(args.in_memory_case)
        return
    t0 = header("check-model on large models (benchmarks/large_models.py)")
    if args.in_memory:
        trees = [("this", str(ROOT))] + ([("baseline", args.baseline)] if args.baseline else [])
        rows = in_memory(args.in_memory.split(","), trees)
        record(args.record, "large_models", {"in_memory": rows, "trees": dict(trees)})
        if "--sizes" not in sys.argv:
            footer(t0)
            return
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
              f"{r['est_peak_gb']:>9.1f}G{r['est_seconds']:>9.0f}s{r['in_memory_gb']:>9.0f}G  {r['status']} "
              f"({r['errors']} errors, {r['notes']} notes; {r['tensors']}/{r['total_tensors']} tensors)")
    footer(t0)


if __name__ == "__main__":
    main()
