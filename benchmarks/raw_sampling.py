"""Audit time against the framework's raw sampling of the same values (issue 17, item 6).

``benchmarks/speed.py`` compares a catalogue audit with the time spent inside the catalogue's samplers, a
denominator inflated by what the samplers do besides drawing: building whole modules (a ``torch.nn.LSTM``
to read one of its tensors, a Keras layer's ``build``), compiling (JAX traces and compiles every new
initializer and shape), dispatch.  This script measures, per framework, in fresh processes:

- **audit**: ``invariants.audit.catalogue``'s work, ``audit_subjects`` at the default configuration (a 1%
  variance error detected with power 0.99), wall time, framework import and catalogue construction
  excluded, compiles included (a fresh process: what a user's ``invariants audit FRAMEWORK`` pays);
- **inside samplers**: the part of it spent in the catalogue's samplers (module builds, compiles, draws,
  the copy to numpy), and of that, for JAX-based frameworks (jax, flax, equinox, keras on its JAX backend),
  the **compiles** (tracing, lowering and backend compilation, summed from ``jax.monitoring``'s compile
  duration events);
- **raw**: the framework drawing the same number of values, tensor by tensor with the same sizes, with its
  plain sampler into preallocated memory after a warm-up (compiles done), the copy to a numpy array
  included: numpy ``Generator.standard_normal(out=...)`` (float32), torch ``torch.nn.init.normal_`` on a
  preallocated tensor, JAX ``jax.random.normal`` under ``jax.jit`` (compiled in the warm-up; also for flax
  and equinox, which draw with it), Keras ``keras.initializers.RandomNormal`` called on the shape after a
  warm-up call, MLX ``mx.random.normal`` + ``mx.eval``.  Timed ``--raw-repeat`` times per process.

Every time is taken on two clocks: the process's CPU time (all its threads; ``time.process_time``), which other
processes sharing the cores do not inflate and which the README quotes, and the wall clock (compiles: wall, from
JAX's events).  The ratios ``audit / raw`` (the auditor's total cost in units of drawing the values) and
``(audit - inside samplers) / raw`` (the statistics alone) are given with their range over the repeats: ``--processes``
fresh processes per framework (audit and raw) times ``--raw-repeat`` raw passes each, the interval being
``[min audit / max raw, max audit / min raw]``.

Usage::

    python benchmarks/raw_sampling.py                                # every installed framework, 3 processes
    python benchmarks/raw_sampling.py --frameworks numpy torch --processes 1
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _common as C  # noqa: E402

JAX_FAMILY = ("jax", "flax", "equinox", "keras")


# ------------------------------------------------------------------------------ raw samplers


def raw_sampler(fw: str, sizes: list[int]) -> Callable[[], None]:
    """A function drawing one tensor of each size in ``sizes`` with ``fw``'s plain normal sampler into
    preallocated memory and copying it to numpy; the warm-up (allocation, compiles) is done here."""
    distinct = sorted(set(sizes))
    if fw == "numpy":
        rng = np.random.default_rng(0)
        bufs = {s: np.empty(s, dtype=np.float32) for s in distinct}

        def draw() -> None:
            for s in sizes:
                rng.standard_normal(out=bufs[s], dtype=np.float32)
    elif fw == "torch":
        import torch

        tens = {s: torch.empty(s) for s in distinct}

        def draw() -> None:
            for s in sizes:
                torch.nn.init.normal_(tens[s]).numpy()
    elif fw == "keras":
        return _keras_raw(sizes)
    elif fw in ("jax", "flax", "equinox"):
        import jax
        import jax.numpy as jnp

        fns = {s: jax.jit(lambda key, s=s: jax.random.normal(key, (s,), jnp.float32)) for s in distinct}
        keys = jax.random.split(jax.random.key(0), len(sizes))
        for s in distinct:  # compile every size once
            fns[s](keys[0]).block_until_ready()

        def draw() -> None:
            for i, s in enumerate(sizes):
                np.asarray(fns[s](keys[i]))
    elif fw == "mlx":
        import mlx.core as mx

        for s in distinct:
            mx.eval(mx.random.normal((s,)))

        def draw() -> None:
            for s in sizes:
                a = mx.random.normal((s,))
                mx.eval(a)
                np.asarray(a)
    else:
        raise ValueError(f"no raw sampler for {fw!r}")
    draw()  # warm-up pass
    return draw


def _keras_raw(sizes: list[int]) -> Callable[[], None]:
    import keras

    init = keras.initializers.RandomNormal(seed=0)
    for s in sorted(set(sizes)):
        keras.ops.convert_to_numpy(init((s,)))

    def draw() -> None:
        for s in sizes:
            keras.ops.convert_to_numpy(init((s,)))

    draw()
    return draw


# ------------------------------------------------------------------------------ one framework, one process


def one(fw: str, rel_error: float, raw_repeat: int) -> dict[str, Any]:
    """Audit ``fw``'s catalogue and time its raw sampling, in this (fresh) process."""
    from invariants.audit.auditor import AuditConfig, audit_subjects
    from invariants.frameworks.registry import get_framework

    adapter = get_framework(fw, "initializers")
    subjects = adapter.catalogue()
    compiles = [0.0]
    if fw in JAX_FAMILY:
        import jax

        def listen(event: str, duration: float, **_: Any) -> None:
            if event.startswith("/jax/core/compile/") or event.startswith("/jax/compilation_cache/"):
                if event.endswith("_duration") and "cache" not in event:
                    compiles[0] += duration

        jax.monitoring.register_event_duration_secs_listener(listen)
    spent, sizes = np.zeros(2), []

    def timed(sampler: Any) -> Any:
        def sample(seed: int) -> np.ndarray:
            t = clock()
            out = sampler(seed)
            spent[:] += clock() - t
            sizes.append(int(np.size(out)))
            return out

        return sample

    subs = [replace(s, sampler=timed(s.sampler)) for s in subjects]
    t0 = clock()
    report = audit_subjects(subs, AuditConfig(rel_error=rel_error), catch=True)
    audit = clock() - t0
    compile_s = compiles[0]
    draw = raw_sampler(fw, sizes)
    raw = []
    for _ in range(raw_repeat):
        t = clock()
        draw()
        raw.append((clock() - t).tolist())
    return {"framework": fw, "tensors": len(subjects), "calls": len(sizes), "values": int(sum(sizes)),
            "audit": audit.tolist(), "samplers": spent.tolist(), "compile_s": compile_s, "raw": raw,
            "verdicts": {k: v for k, v in report.counts().items() if v}}


def clock() -> np.ndarray:
    """``[wall, cpu]`` seconds: the process's CPU time (all its threads) next to the wall clock, because on a
    shared machine the wall clock counts other processes' turns on the cores and the CPU time does not."""
    return np.array([time.perf_counter(), time.process_time()])


# ------------------------------------------------------------------------------ the run


def _fresh(fw: str, rel_error: float, raw_repeat: int) -> dict[str, Any] | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", fw, "--rel-error", str(rel_error),
           "--raw-repeat", str(raw_repeat)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        print(f"#   {fw}: failed ({out.returncode}): {out.stderr.strip().splitlines()[-1:]}", flush=True)
        return None
    return json.loads(lines[-1])


def _range(x: list[float]) -> list[float]:
    return [round(min(x), 4), round(max(x), 4)]



def _summary(runs: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """Medians, ranges and ratios of clock ``k`` (0 wall, 1 CPU) over ``runs``; on the wall clock also the audit
    without its compiles (JAX's compile events are wall time) over raw sampling."""
    med = statistics.median
    audit = [r["audit"][k] for r in runs]
    samplers = [r["samplers"][k] for r in runs]
    raw = [t[k] for r in runs for t in r["raw"]]
    stats_only = [r["audit"][k] - r["samplers"][k] for r in runs]
    extra = {}
    if k == 0:
        no_compiles = [r["audit"][0] - r["compile_s"] for r in runs]
        extra = {"audit_without_compiles_over_raw": round(med(no_compiles) / med(raw), 2),
                 "audit_without_compiles_over_raw_range": [round(min(no_compiles) / max(raw), 2),
                                                           round(max(no_compiles) / min(raw), 2)]}
    return {**extra, "audit_s": round(med(audit), 3), "audit_range_s": _range(audit),
            "samplers_s": round(med(samplers), 3), "samplers_range_s": _range(samplers),
            "raw_s": round(med(raw), 4), "raw_range_s": _range(raw),
            "audit_over_raw": round(med(audit) / med(raw), 2),
            "audit_over_raw_range": [round(min(audit) / max(raw), 2), round(max(audit) / min(raw), 2)],
            "statistics_over_raw": round(med(stats_only) / med(raw), 2),
            "statistics_over_raw_range": [round(min(stats_only) / max(raw), 2), round(max(stats_only) / min(raw), 2)],
            "audit_over_samplers": round(med(audit) / med(samplers), 2)}


def measure(frameworks: list[str], rel_error: float, processes: int, raw_repeat: int) -> list[dict]:
    rows, rec = [], []
    for fw in frameworks:
        runs = [r for r in (_fresh(fw, rel_error, raw_repeat) for _ in range(processes)) if r]
        if not runs:
            continue
        comp = [r["compile_s"] for r in runs]
        wall, cpu = _summary(runs, 0), _summary(runs, 1)
        rec.append({"framework": fw, "tensors": runs[0]["tensors"], "calls": runs[0]["calls"],
                    "values": runs[0]["values"], "processes": len(runs), "raw_repeat": raw_repeat,
                    "compile_s": round(statistics.median(comp), 3), "compile_range_s": _range(comp),
                    "wall": wall, "cpu": cpu, "verdicts": runs[0]["verdicts"]})
        for name, x in (("CPU", cpu), ("wall", wall)):
            rows.append([fw, name, runs[0]["values"] / 1e6, f"{x['audit_s']:.2f}", f"{x['samplers_s']:.2f}",
                         f"{statistics.median(comp):.2f}" if name == "wall" else "",
                         f"{x['raw_s']:.3f} [{x['raw_range_s'][0]:.3f}, {x['raw_range_s'][1]:.3f}]",
                         f"{x['audit_over_raw']:.1f} [{x['audit_over_raw_range'][0]:.1f}, {x['audit_over_raw_range'][1]:.1f}]",
                         f"{x['statistics_over_raw']:.1f} [{x['statistics_over_raw_range'][0]:.1f}, "
                         f"{x['statistics_over_raw_range'][1]:.1f}]", f"{x['audit_over_samplers']:.2f}", len(runs)])
        print(f"#   {fw}: CPU audit {cpu['audit_s']:.1f} s, samplers {cpu['samplers_s']:.1f} s, raw {cpu['raw_s']:.3f} s; "
              f"compiles {statistics.median(comp):.1f} s (wall)", flush=True)
    print()
    print(f"Catalogue audit (rel_error {rel_error:g}) vs the framework's raw sampling of the same values "
          "(median [range over repeats]; CPU time of the process, all threads, and wall time)")
    print(C.table(["framework", "clock", "M values", "audit s", "inside samplers s", "of which compiles s",
                   "raw sampling s", "audit / raw", "statistics / raw", "audit / samplers (old)", "processes"],
                  rows, "llrrrrrrrrr"))
    # the goal figure of issue 17 item 6, as the README quotes it: the audit's CPU time in units of raw sampling
    print()
    print("Goal figure: catalogue audit / raw sampling of the same values, CPU time, median [range]: "
          + "; ".join(f"{r['framework']} {r['cpu']['audit_over_raw']:.0f}× [{r['cpu']['audit_over_raw_range'][0]:.0f}, "
                      f"{r['cpu']['audit_over_raw_range'][1]:.0f}]" for r in rec))
    jaxlike = [r for r in rec if r["compile_s"] > 0]
    if jaxlike:  # compiles are reported apart: the same ratio on the wall clock with and without them
        print("  compiles apart (wall clock, median [range]): "
              + "; ".join(f"{r['framework']} {r['wall']['audit_over_raw']:.0f}× with {r['compile_s']:.1f} s of "
                          f"compiles, {r['wall']['audit_without_compiles_over_raw']:.0f}× "
                          f"[{r['wall']['audit_without_compiles_over_raw_range'][0]:.0f}, "
                          f"{r['wall']['audit_without_compiles_over_raw_range'][1]:.0f}] without" for r in jaxlike))
    return rec


def main(argv: list[str] | None = None) -> int:
    from invariants.frameworks.registry import names

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frameworks", nargs="*", default=None, help="default: every registered framework")
    ap.add_argument("--rel-error", type=float, default=0.01, help="audit configuration (default 0.01, the CLI default)")
    ap.add_argument("--processes", type=int, default=3, help="fresh processes per framework (default 3)")
    ap.add_argument("--raw-repeat", type=int, default=5, help="raw sampling passes per process (default 5)")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: one framework in this process, JSON out
    C.record_arg(ap)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.rel_error, args.raw_repeat)))
        return 0
    frameworks = args.frameworks or list(names("initializers"))
    t0 = C.header("raw sampling: catalogue audit vs the framework's plain sampler on the same values")
    rec = {"rel_error": args.rel_error, "frameworks": measure(frameworks, args.rel_error, args.processes,
                                                              args.raw_repeat)}
    C.record(args.record, "raw-sampling", rec)
    C.footer(t0, timing=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
