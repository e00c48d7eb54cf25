"""Speed: catalogue audits vs the frameworks' own draws, ``invariants verify``, the reference kernels.

1. For each installed framework, ``invariants.audit.catalogue(NAME)`` at the default configuration (a 1%
   variance error detected with power 0.99) is timed, and so is the time spent inside the samplers,
   i.e. the framework drawing the same tensors from the same seeds (plus the copy to a numpy array).
   Ratio = audit wall time / drawing time: the cost of the statistics on top of the draws.
2. ``python -m invariants verify -q`` wall time (a fresh process, imports included).
3. The reference network's ``exact`` (bitwise permutation-equivariant) kernel vs ``blas``
   (``numpy.matmul``): one ``loss_and_grad`` of a tanh MLP ``(w, w, w, w)`` on a batch of 32, widths
   16..256, median CPU time of interleaved repeats with one BLAS thread for both, the ratio printed
   beside issue 17's goals (≤ 5× at width 64, ≤ 20× at width 256).  ``--baseline PATH`` adds another
   checkout's ratio (``PYTHONPATH=PATH``, a fresh process) measured in alternating rounds, side by side.
   ``--only crossover`` times the exact kernel's two algorithms (canonical sort-sum, error-free
   transformation) side by side; ``--only floor`` (also printed by ``--only kernel``) splits the exact
   ``loss_and_grad`` into the network outside the products, the 48 slice products and the rest.
4. (``--suite``) the whole test suite, serially; ``benchmarks/scaleout.py`` times it serially and
   under ``pytest -n 2`` side by side.
5. (``--only properties``) the exact-kernel Hypothesis properties (``tests/reference``) at
   ``INVARIANTS_EXAMPLES_SCALE`` (default 10) times their CI example counts with fresh seeds
   (``HYPOTHESIS_PROFILE=flake``): examples run and failures, issue 17's 10× run.

``--record`` after a full run stores section ``speed``; after ``--only kernel``, ``--only properties`` or
``--only verify`` it replaces only that part of the stored section (``kernel`` with ``kernel_run``,
``kernel_properties`` or ``verify``), each with its own date, load and command.

Usage::

    python benchmarks/speed.py                       # 1-3
    python benchmarks/speed.py --frameworks numpy torch --rel-error 0.02 --suite
    python benchmarks/speed.py --only kernel --repeat 15 --record
    python benchmarks/speed.py --only kernel --repeat 15 --baseline /work/main --record
    python benchmarks/speed.py --only properties --record
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _common as C  # noqa: E402


def catalogue_speed(frameworks: list[str], rel_error: float) -> list[dict]:
    from invariants.audit.auditor import AuditConfig, audit_subjects
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.registry import get_framework

    rows, rec = [], []
    for fw in frameworks:
        try:
            t_imp = time.perf_counter()
            adapter = get_framework(fw, "initializers")
            subjects = adapter.catalogue()
            t_cat = time.perf_counter() - t_imp
        except FrameworkUnavailable as exc:
            rows.append([fw, "-", "-", "-", "-", "-", f"skipped: {exc.hint}"])
            continue
        spent = [0.0]
        calls = [0]

        def timed_sampler(sampler):
            def sample(seed: int) -> np.ndarray:
                t = time.perf_counter()
                out = sampler(seed)
                spent[0] += time.perf_counter() - t
                calls[0] += 1
                return out

            return sample

        subs = [replace(s, sampler=timed_sampler(s.sampler)) for s in subjects]
        cfg = AuditConfig(rel_error=rel_error)
        t0 = time.perf_counter()
        report = audit_subjects(subs, cfg, catch=True)
        wall = time.perf_counter() - t0
        counts = report.counts()
        verdicts = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
        values = sum(r.n for r in report.results)
        rec.append({"framework": fw, "tensors": len(subjects), "values": values, "audit_s": round(wall, 2),
                    "drawing_s": round(spent[0], 2)})
        rows.append([fw, len(subjects), calls[0], f"{values / 1e6:.1f}M", f"{wall:.2f}", f"{spent[0]:.2f}",
                     f"{wall / spent[0]:.2f}" if spent[0] > 0 else "-", verdicts])
        print(f"#   {fw}: {len(subjects)} subjects built in {t_cat:.1f} s (framework import included), audited in {wall:.1f} s",
              flush=True)
    print()
    print(f"1. Catalogue audit vs drawing the same tensors (rel_error {rel_error:g}, power 0.99)")
    print(C.table(["framework", "tensors", "draws", "values", "audit s", "drawing s", "audit / drawing", "verdicts"],
                  rows, "lrrrrrrl"))
    return rec


def verify_speed(repeat: int = 3) -> dict:
    """Wall clock of ``python -m invariants verify -q`` in a fresh process: the median of ``repeat`` runs (one
    run's figure moves by a few seconds with what else the machine does), with the range."""
    walls = []
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "invariants", "verify", "-q"], cwd=C.ROOT, capture_output=True,
                              text=True)
        walls.append(time.perf_counter() - t)
        if proc.returncode:
            break
    wall = statistics.median(walls)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "invariants", "--version"], cwd=C.ROOT, check=False, capture_output=True)
    imp = time.perf_counter() - t
    print()
    print("2. invariants verify")
    print(C.table(["command", "exit code", "wall s", "python start-up + CLI import s"],
                  [["python -m invariants verify -q", proc.returncode, f"{wall:.1f}", f"{imp:.1f}"]], "lrrr"))
    if proc.returncode:
        print("#   verify failed:\n" + "\n".join("#   " + line for line in (proc.stdout + proc.stderr).splitlines()[-10:]))
    return {"exit_code": proc.returncode, "wall_s": round(wall, 1), "runs": len(walls),
            "wall_range_s": [round(min(walls), 1), round(max(walls), 1)]}


#: issue 17's goals for exact ÷ BLAS on one loss_and_grad: width → largest ratio
KERNEL_GOALS = {64: 5.0, 256: 20.0}


def _interleaved(fns: dict, repeat: int) -> dict:
    """Median CPU time (this thread, seconds) of each function, the functions run in turn ``repeat``
    times so that load changes hit all of them alike; CPU time, not wall time, so waiting for a core on
    a shared machine is not counted."""
    times: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.thread_time()
            fn()
            times[name].append(time.thread_time() - t)
    return {name: float(np.median(v)) for name, v in times.items()}


def kernel_times(widths: list[int], batch: int, repeat: int) -> list[dict]:
    """Median CPU time of one ``loss_and_grad`` per width, exact and BLAS kernels interleaved."""
    from threadpoolctl import threadpool_limits

    from invariants.reference.network import Architecture, loss_and_grad, random_params

    try:  # a baseline checkout may predate the compiled accelerator
        from invariants.reference import compiled
    except ImportError:
        compiled = None
    rec = []
    with threadpool_limits(limits=1, user_api="blas"):  # one thread for both: CPU time = work done
        for w in widths:
            fns = {}
            for kernel in ("exact", "blas"):
                arch = Architecture((w, w, w, w), activation="tanh", loss="mse", kernel=kernel)
                rng = np.random.default_rng(w)
                params = random_params(arch, rng)
                x = rng.normal(size=(batch, w))
                t = rng.normal(size=(batch, w))
                fns[kernel] = (lambda a=arch, p=params, x=x, t=t: loss_and_grad(a, p, x, t))
                fns[kernel]()  # warm-up
            if compiled is not None and compiled.kernels() is not None:  # the numpy definition too
                fns["numpy"] = (lambda f=fns["exact"]: _numpy_kernel(f))
            times = _interleaved(fns, max(3, repeat if w <= 64 else repeat // 2))
            rec.append({"width": w, "batch": batch, "exact_ms": float(f"{times['exact'] * 1e3:.3g}"),
                        "blas_ms": float(f"{times['blas'] * 1e3:.3g}"),
                        "ratio": float(f"{times['exact'] / times['blas']:.3g}"),
                        "compiled": "numpy" in times}
                       | ({"numpy_ratio": float(f"{times['numpy'] / times['blas']:.3g}")} if "numpy" in times else {}))
    return rec


def _numpy_kernel(fn):
    """``fn()`` with the exact kernel's compiled accelerator off (the numpy definition, same bits)."""
    from invariants.reference import compiled

    compiled.reset(False)
    try:
        return fn()
    finally:
        compiled.reset(True)


def _baseline_times(baseline: str, widths: list[int], batch: int, repeat: int) -> list[dict]:
    """:func:`kernel_times` of a checkout (``PYTHONPATH=baseline``), in a fresh process."""
    # _common puts this checkout's root first on sys.path (so that benchmarks import it): the baseline's
    # root goes in front of it, before anything imports the package, and the run checks where it came from
    code = (f"import sys, json; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); import speed; "
            f"sys.path.insert(0, {str(Path(baseline).resolve())!r}); "
            f"assert 'invariants' not in sys.modules; "
            f"rec = speed.kernel_times({widths!r}, {batch}, {repeat}); import invariants; "
            f"assert invariants.__file__.startswith({str(Path(baseline).resolve())!r}), invariants.__file__; "
            f"print(json.dumps(rec))")
    env = dict(os.environ, PYTHONPATH=baseline)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=baseline)
    return json.loads(out.stdout.strip().splitlines()[-1])


def kernel_speed(widths: list[int], batch: int, repeat: int, baseline: str | None = None,
                 rounds: int = 3) -> list[dict]:
    """exact ÷ BLAS per width; with ``baseline`` (another checkout, e.g. main), that checkout's figure too,
    measured in alternating rounds (a fresh process on this checkout, then one on the baseline) so that
    load changes hit both alike; each figure is the median over the rounds of the per-round ratios."""
    runs, base_runs, loads = [], [], []
    for _ in range(rounds if baseline else 1):
        loads.append(C.load())
        # with a baseline, this checkout too runs in a fresh process: measured in this process, the widest
        # width read ~30% slower than the same code in a fresh one (either checkout, roles swapped)
        runs.append(_baseline_times(str(C.ROOT), widths, batch, repeat) if baseline
                    else kernel_times(widths, batch, repeat))
        if baseline:
            base_runs.append(_baseline_times(baseline, widths, batch, repeat))
    loads.append(C.load())
    rows, rec = [], []
    for i, w in enumerate(widths):
        row = dict(runs[-1][i])
        row["ratio"] = float(f"{np.median([r[i]['ratio'] for r in runs]):.3g}")
        if baseline:
            row["baseline_ratio"] = float(f"{np.median([r[i]['ratio'] for r in base_runs]):.3g}")
            # the times too: BLAS's loss_and_grad, run after the exact one in the same process, is slowed
            # by what the exact run left in the caches and the heap, differently per checkout (measured at
            # width 128: 0.22 ms here, 0.26 ms on integ, 0.18 ms in a process that runs BLAS alone)
            for key in ("exact_ms", "blas_ms"):
                row[f"baseline_{key}"] = float(f"{np.median([r[i][key] for r in base_runs]):.3g}")
            for key in ("exact_ms", "blas_ms"):
                row[key] = float(f"{np.median([r[i][key] for r in runs]):.3g}")
        rec.append(row)
        goal = KERNEL_GOALS.get(w)
        if "numpy_ratio" in runs[-1][i]:
            row["numpy_ratio"] = float(f"{np.median([r[i].get('numpy_ratio', np.nan) for r in runs]):.3g}")
        rows.append([w, batch, f"{row['exact_ms']:.2f}", f"{row['blas_ms']:.3f}", f"{row['ratio']:.1f}"]
                    + [f"{row['numpy_ratio']:.1f}" if "numpy_ratio" in row else "-"]
                    + ([f"{row['baseline_exact_ms']:.2f}", f"{row['baseline_blas_ms']:.3f}", f"{row['baseline_ratio']:.1f}"]
                       if baseline else [])
                    + ["-" if goal is None else f"≤ {goal:g}: {'met' if row['ratio'] <= goal else 'NOT met'}"])
    print()
    print("3. Reference network: one loss_and_grad of a tanh MLP (w, w, w, w), exact vs BLAS kernel "
          "(median CPU time, one BLAS thread, interleaved)"
          + (f"; baseline {baseline} in a fresh process, {rounds} alternating rounds, median ratio" if baseline else ""))
    print(C.table(["width w", "batch", "exact ms", "blas ms", "exact / blas", "numpy kernel / blas"]
                  + (["baseline exact ms", "baseline blas ms", "baseline exact / blas"] if baseline else []) + ["goal"],
                  rows, "rrrrrr" + ("rrr" if baseline else "") + "l"))
    print("#   exact: the compiled accelerator where numba is installed (invariants.reference.compiled), else "
          "the numpy definition; 'numpy kernel': the same checkout with INVARIANTS_NO_COMPILED (same bits)")
    if baseline:
        print("#   times: medians over the rounds; the BLAS time is measured after the exact run in the same process, "
              "whose leftovers in the caches and the heap slow it differently per checkout")
    print(f"#   load average per round: {', '.join(f'{v:.2f}' for v in loads)}")
    return rec


def kernel_floor(widths: list[int], batch: int, repeat: int) -> list[dict]:
    """Where the exact kernel's time goes in one ``loss_and_grad`` of the tanh MLP (w, w, w, w), median
    CPU time (µs, one BLAS thread, interleaved), beside BLAS's whole ``loss_and_grad``:

    - ``net``: the exact kernel's network without the kernel (every product by ``numpy.matmul``: the
      canonical bias sums and the operand wrapping stay), so ``net − blas`` is the exact path's cost
      outside the products;
    - ``slices``: the 6 slice products per product (48 BLAS calls of the products' own shapes), the
      floor of the error-free transformation as built (6k multiply-adds per element), with or without the
      compiled accelerator;
    - ``rest``: splits, elementwise passes and Python (``exact − net − slices`` plus the 8 plain products
      that ``net`` includes); ``pass``: one elementwise pass over a (batch, w) array; ``bias_sum``: one
      canonical sum over the batch axis of a (batch, w) array (3 per ``loss_and_grad``, inside ``net``);
      with the accelerator also ``split``: the compiled grid-and-split of one (w, w) weight (5 slices).
    """
    from threadpoolctl import threadpool_limits

    from invariants.reference import compiled, kernels
    from invariants.reference.network import Architecture, loss_and_grad, random_params

    rec, rows = [], []
    rng = np.random.default_rng(0)
    real = kernels.try_exact_matmul
    fast = compiled.kernels()
    calls = 48

    def plain(a, b):
        return (a.array if hasattr(a, "array") else a) @ (b.array if hasattr(b, "array") else b)

    with threadpool_limits(limits=1, user_api="blas"):
        for w in widths:
            shapes = [(batch, w, w)] * 5 + [(w, batch, w)] * 3  # forward 3, backward 2, weight gradients 3
            mats = [(rng.normal(size=(m, k)), rng.normal(size=(k, n)), np.empty((m, n))) for m, k, n in shapes]
            fns = {}
            for kernel in ("exact", "blas"):
                arch = Architecture((w, w, w, w), activation="tanh", loss="mse", kernel=kernel)
                r = np.random.default_rng(w)
                params = random_params(arch, r)
                x, t = r.normal(size=(batch, w)), r.normal(size=(batch, w))
                fns[kernel] = (lambda a=arch, p=params, x=x, t=t: loss_and_grad(a, p, x, t))

            def net(f=fns["exact"]):
                kernels.try_exact_matmul = plain
                try:
                    f()
                finally:
                    kernels.try_exact_matmul = real

            def slices():
                for a, b, out in mats:
                    for _ in range(6):
                        np.matmul(a, b, out=out)

            def plain_products():
                for a, b, out in mats:
                    np.matmul(a, b, out=out)

            y = np.ones((batch, w))
            delta = rng.normal(size=(batch, w))
            fns.update(net=net, slices=slices, products=plain_products, one_pass=lambda: np.add(y, y, out=y),
                       bias_sum=lambda: kernels.sum_rows(delta))
            if fast is not None:
                weight, buf = rng.normal(size=(w, w)), np.empty((5, w, w))
                fns["split"] = lambda: fast.split(weight, 26, fast.UNKNOWN, True, True, 4, buf)
            for f in fns.values():
                f()
            times = {k: v * 1e6 for k, v in _interleaved(fns, max(3, repeat if w <= 64 else repeat // 2)).items()}
            rest = times["exact"] - times["net"] - times["slices"] + times["products"]
            row = {"width": w, **{k: float(f"{v:.3g}") for k, v in times.items()}, "rest": float(f"{rest:.3g}")}
            rec.append(row)
            b = times["blas"]
            rows.append([w, f"{b:.0f}", f"{times['exact']:.0f} ({times['exact'] / b:.1f}x)",
                         f"{times['net'] - b:.0f} ({(times['net'] - b) / b:.1f}x)",
                         f"{times['slices']:.0f} ({times['slices'] / b:.1f}x)", f"{times['slices'] / calls:.1f}",
                         f"{rest:.0f} ({rest / b:.1f}x)", f"{times['one_pass']:.1f}", f"{times['bias_sum']:.1f}"]
                        + ([f"{times['split']:.1f}"] if fast is not None else []))
    print()
    print("3c. Where the exact kernel's time goes: one loss_and_grad, µs and multiples of BLAS's loss_and_grad "
          "(median CPU time, one BLAS thread; "
          + ("compiled accelerator: 9 compiled grid-and-splits, 8 fused proofs)" if fast is not None
             else "numpy kernel)"))
    print(C.table(["width w", "blas", "exact", "network outside products", f"{calls} slice products", "µs per call",
                   "splits, passes, Python", "one pass µs", "one bias sum µs"]
                  + (["one w×w split µs"] if fast is not None else []),
                  rows, "rrrrrrrrr" + ("r" if fast is not None else "")))
    if any(r["net"] < r["blas"] for r in rec):
        print("#   a negative 'outside products' is measured, not an error: the exact path's network with every "
              "product by numpy.matmul ran faster than the BLAS kernel's whole network; the parts are timed "
              "separately, so their differences carry each part's noise (at that width the products and splits "
              "carry all of the exact path's extra cost)")
    print(f"#   load average: {C.load():.2f}")
    return rec


def crossover_speed(repeat: int) -> None:
    """The exact kernel's two algorithms side by side on square-ish shapes: where the error-free
    transformation overtakes the canonical sort-sum (``kernels.CROSSOVER``)."""
    from threadpoolctl import threadpool_limits

    from invariants.reference import kernels
    from invariants.reference.ozaki import exact_matmul

    rows = []
    rng = np.random.default_rng(0)
    with threadpool_limits(limits=1, user_api="blas"):
        for m, k, n in [(8, 8, 8), (16, 8, 16), (8, 32, 8), (16, 16, 16), (32, 16, 16), (16, 32, 32),
                        (32, 32, 32), (32, 64, 64)]:
            a, b = rng.normal(size=(m, k)), rng.normal(size=(k, n))
            times = _interleaved({"canonical": lambda: kernels.canonical_matmul(a, b),
                                  "eft": lambda: exact_matmul(a, b)}, repeat)
            rows.append([f"{m}x{k}x{n}", m * k * n, f"{times['canonical'] * 1e6:.0f}", f"{times['eft'] * 1e6:.0f}",
                         "eft" if times["eft"] < times["canonical"] else "canonical"])
    print()
    print(f"3b. Exact kernel: canonical sort-sum vs error-free transformation (µs, median CPU time); "
          f"kernels.CROSSOVER = {kernels.CROSSOVER} products")
    print(C.table(["m x k x n", "products", "canonical µs", "eft µs", "faster"], rows, "rrrrl"))


#: the exact-kernel properties of the 10× run: every property in test_kernels.py and the kernel-level ones
#: of test_reference.py (all opt in to ``INVARIANTS_EXAMPLES_SCALE`` through hypothesis_profiles.scaled)
PROPERTY_TESTS = ["tests/reference/test_kernels.py", "tests/reference/test_compiled.py",
                  "tests/reference/test_reference.py::test_exact_kernel_is_bitwise_permutation_equivariant",
                  "tests/reference/test_reference.py::test_canonical_sum_is_bitwise_invariant_on_zero_heavy_terms",
                  "tests/reference/test_reference.py::test_dead_relu_layer_permutation_is_bitwise_equivariant"]


def property_run(scale: int) -> dict:
    """The exact-kernel properties at ``scale``× their example counts, fresh seeds; examples counted from
    Hypothesis' statistics (passing + failing + invalid examples of every property)."""
    env = dict(os.environ, INVARIANTS_EXAMPLES_SCALE=str(scale), HYPOTHESIS_PROFILE="flake")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
           "--hypothesis-show-statistics", *PROPERTY_TESTS]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=C.ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    out = proc.stdout
    runs = [int(p) + int(f) for p, f in re.findall(r"(\d+) passing examples?, (\d+) failing examples?", out)]
    last = (out.strip().splitlines() or [""])[-1]
    passed = sum(int(m) for m in re.findall(r"(\d+) passed", last))
    failed = sum(int(m) for m in re.findall(r"(\d+) failed", last))
    rec = {"scale": scale, "profile": "flake", "tests_passed": passed, "tests_failed": failed,
           "properties": len(runs), "examples": sum(runs), "wall_s": round(wall, 1)}
    print()
    print(f"5. Exact-kernel properties at {scale}x the CI example counts, fresh seeds (HYPOTHESIS_PROFILE=flake)")
    print(C.table(["tests passed", "tests failed", "properties", "examples run", "wall s"],
                  [[passed, failed, len(runs), sum(runs), f"{wall:.0f}"]], "rrrrr"))
    if proc.returncode:
        print("#   failures:\n" + "\n".join("#   " + line for line in out.splitlines() if "FAILED" in line or "Falsifying" in line))
    return rec


def merge_record(path: str | None, parts: dict) -> None:
    """Replace only ``parts`` (e.g. ``kernel`` and ``kernel_run``) in the stored ``speed`` section, so a
    kernel-only run leaves the catalogue and verify figures (and their dates) as they were."""
    if path is None:
        return
    p = Path(path)
    data = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
    data.setdefault("speed", {}).update(parts)
    p.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"# recorded {', '.join(sorted(parts))} in section 'speed' of {p}")


def _run_meta(load_at_start: float, repeat: int | None = None) -> dict:
    meta = {"measured": datetime.date.today().isoformat(), "machine": C.machine(), "cpu": C.cpu(),
            "load_at_start": round(load_at_start, 2), "load_at_end": round(C.load(), 2),
            "command": " ".join(["python", "benchmarks/speed.py"] + [a for a in sys.argv[1:] if not a.startswith("--record")])}
    if repeat is not None:
        meta["repeat"] = repeat
    return meta


def _checkout(path: str) -> str:
    """``PATH (commit)`` of a baseline checkout, for the record."""
    head = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return f"{path} ({head.stdout.strip() or 'unknown commit'})"


def suite_speed() -> None:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
                          cwd=C.ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    print()
    print("4. Test suite (serial)")
    print(C.table(["command", "exit code", "wall s", "result"], [["python -m pytest -q", proc.returncode, f"{wall:.1f}", last]],
                  "lrrl"))


def main(argv: list[str] | None = None) -> int:
    from invariants.frameworks.registry import names

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frameworks", nargs="*", default=list(names("initializers")))
    ap.add_argument("--rel-error", type=float, default=0.01, help="audit configuration (default 0.01, the CLI default)")
    ap.add_argument("--widths", default="16,32,64,128,256")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--suite", action="store_true", help="also time the whole test suite (serial)")
    ap.add_argument("--only", choices=["catalogue", "verify", "kernel", "crossover", "floor", "suite", "properties"])
    ap.add_argument("--scale", type=int, default=10, help="example-count factor of --only properties (default 10)")
    ap.add_argument("--baseline", metavar="PATH",
                    help="kernel section: also time the checkout at PATH (e.g. /work/main), side by side")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds with --baseline (default 3)")
    C.record_arg(ap)
    args = ap.parse_args(argv)
    rec: dict = {"rel_error": args.rel_error}
    t0 = C.header("speed: catalogue audits, verify, reference kernels")
    load_at_start = C.load()
    if args.only in (None, "catalogue"):
        rec["catalogue"] = catalogue_speed(args.frameworks, args.rel_error)
    if args.only in (None, "verify"):
        rec["verify"] = verify_speed(max(1, min(args.repeat, 3)))
    if args.only in (None, "kernel"):
        rec["kernel"] = kernel_speed([int(w) for w in args.widths.split(",")], args.batch, args.repeat, args.baseline,
                                     args.rounds)
    if args.only == "crossover":
        crossover_speed(args.repeat)
    if args.only in ("kernel", "floor"):
        rec["kernel_floor"] = kernel_floor([int(w) for w in args.widths.split(",")], args.batch, args.repeat)
    if args.suite or args.only == "suite":
        suite_speed()
    if args.only == "properties":
        rec["kernel_properties"] = dict(property_run(args.scale), **_run_meta(load_at_start))
    if args.only is None:  # a partial run is not the figure the docs quote
        C.record(args.record, "speed", rec)
    elif args.only == "kernel":
        run = _run_meta(load_at_start, args.repeat)
        if args.baseline:
            run["baseline"] = _checkout(args.baseline)
        merge_record(args.record, {"kernel": rec["kernel"], "kernel_run": run})
    elif args.only == "properties":
        merge_record(args.record, {"kernel_properties": rec["kernel_properties"]})
    elif args.only == "verify":
        merge_record(args.record, {"verify": dict(rec["verify"], **_run_meta(load_at_start))})
    C.footer(t0, timing=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
