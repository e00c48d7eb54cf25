"""Statistics that sort once: the KS shape and point-mass checks before and after, side by side.

"old" is what ``ks_shape`` and ``point_mass`` did before issue 17: ``scipy.stats.kstest`` on the pool cast
to float64 (it sorts internally) and ``np.unique(..., return_counts=True)`` (a second sort).  "new" is the
battery's path: :func:`invariants.stats.order.sorted_values` once, in the pool's dtype, then
:func:`invariants.stats.shape.ks_statistic` with :func:`invariants.stats.shape.closed_form_cdf` and
:func:`invariants.stats.order.largest_run` on it.  Both run
on the same pools (about 1.1M float32 values per law, like an audit's pooled draws), interleaved, median
wall time of ``--repeat`` runs; each run's statistics and p-values are compared bit for bit and the
script exits 1 if they differ.

Usage::

    python benchmarks/stats_speed.py [--n 1100000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import _common as C  # noqa: E402


def old_path(pool: np.ndarray, dist) -> tuple:
    from scipy import stats

    res = stats.kstest(np.asarray(pool, dtype=np.float64).ravel(), dist.cdf)
    values, counts = np.unique(pool.ravel(), return_counts=True)
    i = int(np.argmax(counts))
    return float(res.statistic), float(res.pvalue), float(values[i]), int(counts[i])


def new_path(pool: np.ndarray, dist) -> tuple:
    from invariants.stats.order import largest_run, sorted_values
    from invariants.stats.shape import closed_form_cdf, ks_statistic

    xs = sorted_values(pool)
    d, p = ks_statistic(xs, closed_form_cdf(dist))
    value, k = largest_run(xs)
    return d, p, float(value), k


def main(argv: list[str] | None = None) -> int:
    from scipy import stats

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_100_000, help="values per pool (default 1.1M)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    t0 = C.header("stats_speed: KS shape + point mass, scipy.stats.kstest + np.unique vs one shared sort")
    from invariants.laws import Law

    # the laws' own distributions, as the battery gets them (the truncated normal's is vectorized already)
    laws = {"normal": Law.normal(0.0, 0.02), "uniform": Law.uniform(-0.05, 0.05),
            "truncated normal": Law.truncated_normal(0.0, 0.02, -0.04, 0.04)}
    draw = {"normal": stats.norm(0.0, 0.02), "uniform": stats.uniform(-0.05, 0.1),
            "truncated normal": stats.truncnorm(-2.0, 2.0, scale=0.02)}
    rows, same = [], True
    for name, law in laws.items():
        dist = law.dist()
        pool = draw[name].rvs(size=args.n, random_state=np.random.default_rng(0)).astype(np.float32)
        times: dict[str, list[float]] = {"old": [], "new": []}
        results = {}
        for _ in range(args.repeat):
            for label, fn in (("old", old_path), ("new", new_path)):
                t = time.perf_counter()
                results[label] = fn(pool, dist)
                times[label].append(time.perf_counter() - t)
        old, new = (statistics.median(times[k]) for k in ("old", "new"))
        ok = results["old"] == results["new"]
        same &= ok
        rows.append([name, args.n, f"{old * 1e3:.1f}", f"{new * 1e3:.1f}", f"{old / new:.2f}",
                     "identical" if ok else f"DIFFER {results}"])
    print()
    print(f"KS statistic + p-value and largest run of equal values on float32 pools "
          f"(median wall ms of {args.repeat}, interleaved)")
    print(C.table(["law", "n", "old ms", "new ms", "old / new", "D, p, value, k"], rows, "lrrrrl"))
    C.footer(t0, timing=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
