"""Measure the audit's per-value time and memory constants of :mod:`invariants.audit.costs`.

For each installed framework, audits its He-normal initializer on ``dense(300,100)`` at two relative errors:
``1e-2`` (about 1.1M values, pooled) and ``2e-3`` (about 26M values, streamed), wall time of
``invariants.audit.initializer`` after one warm-up call (imports, compiles), and prints per framework
``fixed`` (s), ``per drawn value`` (ns: the streamed run's slope over the pooled run's) and the estimate the
cost model makes for each run beside the measured figure.  Peak memory: ``tracemalloc`` (numpy
allocations are traced) of the pooled run, in bytes per pooled value.

Run: ``PYTHONPATH=$PWD python3 benchmarks/audit_cost.py [framework ...]`` (a few minutes; single runs, so
on a loaded machine repeat it and take the smaller figures).
"""
from __future__ import annotations

import sys
import time
import tracemalloc

from invariants import audit
from invariants.audit.auditor import AuditConfig

SETUPS = {
    "numpy": lambda: ("invariants.frameworks.numpy.initializers:he_normal", None),
    "torch": lambda: (__import__("torch").nn.init.kaiming_normal_, None),
    "jax": lambda: (__import__("jax").nn.initializers.he_normal(), "he_normal"),
    "keras": lambda: (__import__("keras").initializers.HeNormal(), "he_normal"),
}


def run(framework: str, rel: float, traced: bool = False) -> tuple[float, int, float]:
    fn, expect = SETUPS[framework]()
    cfg = AuditConfig(rel_error=rel)
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    rep = audit.initializer(fn, expect=expect, layer="dense(300,100)", framework=framework, config=cfg)
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    return dt, rep.results[0].n, peak


def main(frameworks: list[str]) -> None:
    from invariants.audit.costs import estimate_audit
    from invariants.frameworks.registry import get_framework

    for fw in frameworks:
        try:
            run(fw, 0.3)  # warm-up: imports, compiles
        except Exception as exc:  # noqa: BLE001  a framework that is not installed is reported and skipped
            print(f"{fw}: skipped ({exc})")
            continue
        (t1, n1, _), (t2, n2, _) = run(fw, 1e-2), run(fw, 2e-3)
        _, _, peak = run(fw, 1e-2, traced=True)
        fn, expect = SETUPS[fw]()
        ad = get_framework(fw, "initializers")
        for rel, t, n in ((1e-2, t1, n1), (2e-3, t2, n2)):
            subj = [ad.subject_for(fn, audit.as_layers("dense(300,100)")[0],
                                   audit._expectation(expect, fw, fn, "f", ad), "f", None)] if False else None
            est = estimate_audit(fw, [(300, 100)], AuditConfig(rel_error=rel)) if subj is None else None
            print(f"{fw} rel {rel:g}: n {n:,}, measured {t:.2f} s, estimated {est.seconds:.2f} s, "
                  f"estimated peak {est.bytes / 2**20:.0f} MiB")
        print(f"{fw}: per drawn value {(t2 - t1) / (n2 - n1) * 1e9:.1f} ns (streamed slope); pooled run "
              f"{t1:.2f} s for {n1:,}; tracemalloc peak {peak / 2**20:.1f} MiB = {peak / n1:.1f} B per pooled value")


if __name__ == "__main__":
    main(sys.argv[1:] or list(SETUPS))
