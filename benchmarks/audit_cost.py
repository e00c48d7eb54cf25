"""Measure the constants of the audit cost model (:mod:`invariants.audit.costs`) and set them beside it.

For each framework named (default: numpy torch jax keras), audits its He-normal initializer on
``dense(300,100)`` (one warm-up call first: imports, compiles) at ``rel_error`` 1e-2 (about 1.1M values,
pooled) and 2e-3 (about 26M values, streamed), and prints:

- ``per drawn value``: the slope of wall time over drawn values between the two runs (the streamed run pools
  at most ``max_pool_values`` of its values, so the slope is mostly the cost of drawing and streaming);
- ``estimate / measured`` for both runs, with :func:`invariants.audit.costs.audit_cost`'s figures;
- the ``tracemalloc`` peak of the pooled run (numpy allocations are traced; a framework's own allocator is
  not) in bytes per pooled value, beside :data:`~invariants.audit.costs.BYTES_PER_POOLED_VALUE`.

Single runs: on a loaded machine repeat and take the smaller figures.  Run:
``PYTHONPATH=$PWD python3 benchmarks/audit_cost.py [framework ...]`` (about a minute per framework).
"""
from __future__ import annotations

import sys
import time
import tracemalloc
from typing import Any, Callable

from invariants import audit
from invariants.audit.auditor import AuditConfig
from invariants.core.cost import Limits, ResourceLimit

def numpy_he_normal(shape: tuple[int, ...], rng: Any) -> Any:
    """He normal in the numpy convention (``(out, in)`` layout: fan_in is ``shape[1]``), float32."""
    import numpy as np

    return rng.normal(0.0, np.sqrt(2.0 / shape[1]), size=shape).astype(np.float32)


def keras_normal() -> Any:
    """Keras' variance scaling with an untruncated normal (the backend chosen as the CLI does)."""
    from invariants.frameworks.keras import choose_backend

    choose_backend()
    import keras

    return keras.initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal")


#: He normal with an untruncated normal law in each framework (the chi-square test, whose sample size grows as
#: 1/rel_error^2; the frameworks' own "he_normal" is truncated in JAX and Keras, which needs far fewer values)
SETUPS: dict[str, Callable[[], Any]] = {
    "numpy": lambda: numpy_he_normal,
    "torch": lambda: __import__("torch").nn.init.kaiming_normal_,
    "jax": lambda: __import__("jax").nn.initializers.variance_scaling(2.0, "fan_in", "normal"),
    "keras": keras_normal,
}
EXPECT = "variance_scaling(scale=2, mode=fan_in, distribution=normal)"
LAYER = "dense(300,100)"


def run(framework: str, rel: float, traced: bool = False) -> tuple[float, int, float]:
    """``(seconds, values drawn, tracemalloc peak bytes)`` of one audit."""
    cfg = AuditConfig(rel_error=rel)
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    rep = audit.initializer(SETUPS[framework](), expect=EXPECT, layer=LAYER, framework=framework, config=cfg,
                            limits=Limits(None, None))
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    return dt, rep.results[0].n, peak


def estimate(framework: str, rel: float) -> float:
    """The cost model's seconds for the same request (read from the refusal a zero time limit provokes)."""
    try:
        audit.initializer(SETUPS[framework](), expect=EXPECT, layer=LAYER, framework=framework,
                          config=AuditConfig(rel_error=rel), limits=Limits(None, 1e-9))
    except ResourceLimit as exc:
        return float(str(exc).split("about ")[2].split(" s")[0]) if " s," in str(exc) else float("nan")
    return float("nan")


def main(frameworks: list[str]) -> None:
    for fw in frameworks:
        try:
            run(fw, 0.3)
        except Exception as exc:  # noqa: BLE001  a framework that is not installed is reported and skipped
            print(f"{fw}: skipped ({type(exc).__name__}: {exc})")
            continue
        (t1, n1, _), (t2, n2, _) = run(fw, 1e-2), run(fw, 2e-3)
        _, _, peak = run(fw, 1e-2, traced=True)
        print(f"{fw}: {n1:,} values in {t1:.2f} s (estimate {estimate(fw, 1e-2):.2f} s); {n2:,} in {t2:.2f} s "
              f"(estimate {estimate(fw, 2e-3):.2f} s); per drawn value {(t2 - t1) / (n2 - n1) * 1e9:.1f} ns; "
              f"pooled-run peak {peak / 2**20:.1f} MiB = {peak / n1:.1f} B per value", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(SETUPS))
