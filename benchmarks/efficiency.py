"""Statistical efficiency of the auditor against the limits, and against a PyTorch-style test.

Three measurements, each printed next to its reference in the same run:

A. Normal law.  The smallest relative variance error the auditor's battery of checks for a normal law
   (chi-square variance, mean, extremes, point mass, KS shape; every check at alpha = 1e-6) detects with
   power 0.99, measured by simulation, against the exact chi-square bound
   (:func:`invariants.stats.variance.chi2_min_detectable_rel_error`) at the same n.  Simulation: R
   independent standard-normal samples Z; for each, the smallest d at which the battery rejects
   ``sqrt(1 + d) Z`` (and ``sqrt(1 - d) Z``) is found (a candidate from the chi-square acceptance
   region, confirmed by running the full battery just above and just below it, bisection otherwise);
   the measured detectable error is the 0.99 quantile of these thresholds (power(d) = P(threshold <= d)),
   with a 95% order-statistic interval.

B. Uniform law U(-1, 1): the same, against the exact support/extreme-value bound
   (:func:`invariants.stats.extremes.bounded_scale_min_detectable_rel_error`).

   A and B compare a *set* of ``m`` checks (normal 5, uniform 6), each at alpha, whose family-wise
   false-alarm rate is up to ``m * alpha`` (Bonferroni), with one exact test.  Each ratio is therefore given
   twice, both with the simulation's 95% interval (the measured quantile's interval over the exact limit):
   against the limit at the same per-check alpha (the set's checks each as strict as the single test) and
   against the limit at the set's family-wise alpha ``m * alpha`` (equal false-alarm budget: the fair
   comparison; the support test's limit does not depend on alpha).

C. The mutation catalogue of ``tests/audit/test_audit_mutations.py`` (33 faulty initializers, 12 correct
   ones), each over S seeds at the test suite's configuration (detects a 4% variance error, family-wise
   alpha 1e-6 per audit): kill rate of the auditor vs a PyTorch-style test (KS at p <= 1e-4, as
   ``torch``'s own ``test_init.py``; orthogonal: ``Q^T Q = gain^2 I`` to 1e-6; constants: equality) run on
   the same values (equal n) and on one 625-value tensor (PyTorch's n).

H. Orthogonal laws (issue 14, gap 2): detection rate of the orthogonal battery (exact orthonormality plus the
   Haar checks of :mod:`invariants.stats.haar`, every check at alpha = 1e-6) on a square matrix with the draws
   the auditor pools (:func:`invariants.stats.haar.haar_draws`), against three parameterised departures from
   Haar, all exactly orthogonal: (1) each draw is, with probability ``eps``, the left singular vectors of a
   non-centred U(0, 1) matrix (the historical fault) — exact limit: no test at level alpha detects a run with
   no faulty draw more often than alpha, so power <= 1 - (1 - eps)^D (1 - alpha); (2) the QR sign correction
   is missing on the first ``ceil(rho k)`` columns — reference: the one-sided exact binomial test on those
   columns' diagonal signs with their bias known (an oracle that knows which columns are affected; not a limit
   over all tests); (3) the QR (sign-corrected) of ``G + mu`` (Gaussian entries with mean ``mu`` standard
   deviations; U(0, 1) is ``mu = sqrt(3)``) — no exact limit computed (the likelihood ratio of the orientation
   of a non-central Gaussian matrix has no closed form).

Usage::

    python benchmarks/efficiency.py                      # A and B at n = 1e4 (R = 1000), 1e5 (R = 200); C at S = 20
    python benchmarks/efficiency.py --sizes 10000:2000 --seeds 50 --workers 2
    python benchmarks/efficiency.py --only C
    python benchmarks/efficiency.py --only H --haar-reps 200
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

import _common as C  # noqa: E402
from invariants.audit.auditor import law_checks  # noqa: E402
from invariants.stats.battery import LAW, battery  # noqa: E402
from invariants.laws import Law  # noqa: E402
from invariants.stats.haar import haar_draws  # noqa: E402
from invariants.stats.extremes import bound_tolerance, bounded_scale_min_detectable_rel_error  # noqa: E402
from invariants.stats.variance import chi2_min_detectable_rel_error  # noqa: E402

ALPHA = 1e-6
POWER = 0.99
BITS = 52  # float64 samples


def _rejects(law: Law, z: np.ndarray, d: float) -> bool:
    """Whether the auditor's battery for ``law`` rejects the rescaled sample ``sqrt(1 + d) z``."""
    pool = z * math.sqrt(1.0 + d)
    return not all(c.passed for c in law_checks(law, pool, [pool], ALPHA, POWER, BITS))


def _threshold(law: Law, z: np.ndarray, sign: int, cand: float, stats_: dict) -> float:
    """Smallest |d| (direction ``sign``) at which the battery rejects; ``cand`` is the analytic guess."""
    if cand <= 0.0:
        if _rejects(law, z, 0.0):
            stats_["at_zero"] += 1
            return 0.0
        cand = 1e-9
    hi = min(cand * (1 + 1e-9), 0.999999 if sign < 0 else math.inf)
    if _rejects(law, z, sign * hi) and not _rejects(law, z, sign * cand * (1 - 1e-6)):
        stats_["confirmed"] += 1
        return cand
    stats_["bisected"] += 1
    lo = 0.0
    while not _rejects(law, z, sign * hi):  # widen (only if the candidate was too small)
        lo, hi = hi, min(hi * 2, 0.999999) if sign < 0 else hi * 2
    for _ in range(40):
        mid = (lo + hi) / 2
        if _rejects(law, z, sign * mid):
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-6 * hi:
            break
    return hi


def _quantile_ci(th: np.ndarray, q: float = POWER) -> tuple[float, float, float]:
    """The smallest d with empirical power >= q, and a 95% interval from the order statistics."""
    th = np.sort(th)
    r = th.size
    k = math.ceil(q * r)
    lo_k = int(stats.binom.ppf(0.025, r, q))
    hi_k = int(min(r, stats.binom.ppf(0.975, r, q) + 1))
    return float(th[k - 1]), float(th[max(lo_k, 1) - 1]), float(th[hi_k - 1])


def simulate(kind: str, n: int, reps: int, seed: int) -> dict:
    rng = np.random.default_rng([seed, n, 0 if kind == "normal" else 1])
    st = {"confirmed": 0, "bisected": 0, "at_zero": 0}
    up, down = np.empty(reps), np.empty(reps)
    if kind == "normal":
        law = Law.normal(0.0, 1.0)
        lo_q, hi_q = stats.chi2.ppf(ALPHA / 2, n), stats.chi2.isf(ALPHA / 2, n)
        bound = chi2_min_detectable_rel_error(n, ALPHA, POWER)
    else:
        law = Law.uniform(-1.0, 1.0)
        tol = bound_tolerance(-1.0, 1.0, BITS)
        t_star = 2.0 * math.exp(math.log(ALPHA / 2) / n) - 1.0  # F(t*)^n = alpha/2 for U(-1, 1)
        bound = bounded_scale_min_detectable_rel_error(n, law.dist(), -1.0, 1.0, ALPHA, POWER)
    for i in range(reps):
        if kind == "normal":
            z = rng.standard_normal(n)
            s0 = float(np.sum(z * z))
            c_up, c_down = hi_q / s0 - 1.0, 1.0 - lo_q / s0
        else:
            z = rng.uniform(-1.0, 1.0, n)
            m_hi, m_lo = float(z.max()), float(-z.min())
            c_up = ((1.0 + tol) / max(m_hi, m_lo)) ** 2 - 1.0
            c_down = min(1.0 - ((t_star - tol) / m_hi) ** 2, 1.0 - ((t_star - tol) / m_lo) ** 2)
        up[i] = _threshold(law, z, +1, c_up, st)
        down[i] = _threshold(law, z, -1, c_down, st)
    return {"up": _quantile_ci(up), "down": _quantile_ci(down), "bound": bound, "stats": st,
            "false_alarms": st["at_zero"]}


def family_checks(kind: str) -> int:
    """Number of law checks the auditor runs on ``kind`` (``normal``/``uniform``): the set's Bonferroni
    factor."""
    law = Law.normal(0.0, 1.0) if kind == "normal" else Law.uniform(-1.0, 1.0)
    return len(battery(law, groups=(LAW,)))


def exact_limits(kind: str, n: int, alpha: float) -> tuple[float, float]:
    """``(d_up, d_down)`` of the exact reference test at level ``alpha``: chi-square (normal), support and
    extremes (uniform)."""
    if kind == "normal":
        return chi2_min_detectable_rel_error(n, alpha, POWER)
    return bounded_scale_min_detectable_rel_error(n, stats.uniform(-1.0, 2.0), -1.0, 1.0, alpha, POWER)


def _ratio(meas: float, lo: float, hi: float, limit: float) -> str:
    return f"{meas / limit:.3f} [{lo / limit:.3f}, {hi / limit:.3f}]"


def part_ab(sizes: list[tuple[int, int]], seed: int) -> list[dict]:
    rows, rec = [], []
    for kind, ref in (("normal", "exact chi2 bound"), ("uniform", "support/extremes bound")):
        m = family_checks(kind)
        for n, reps in sizes:
            r = simulate(kind, n, reps, seed)
            fw = exact_limits(kind, n, m * ALPHA)
            for side, i in (("+d", 0), ("-d", 1)):
                meas, lo, hi = r["up"] if i == 0 else r["down"]
                b, bf = r["bound"][i], fw[i]
                rec.append({"law": kind, "n": n, "reps": reps, "side": side, "measured": float(f"{meas:.4g}"),
                            "ci95": [float(f"{lo:.4g}"), float(f"{hi:.4g}")], "limit": float(f"{b:.4g}"),
                            "limit_is": "chi2" if kind == "normal" else ("support" if i == 0 else "extremes"),
                            "checks": m, "alpha_family": float(f"{m * ALPHA:.3g}"), "limit_family": float(f"{bf:.4g}")})
                rows.append([kind, n, reps, side, f"{meas:.4g} [{lo:.4g}, {hi:.4g}]", f"{b:.4g}", _ratio(meas, lo, hi, b),
                             f"{bf:.4g}", _ratio(meas, lo, hi, bf), ref])
            st = r["stats"]
            print(f"#   {kind} n={n}: {st['confirmed']} thresholds confirmed at the analytic candidate, "
                  f"{st['bisected']} bisected, {st['at_zero']} rejections at d = 0", flush=True)
    print()
    print(f"A/B. Smallest relative variance error detected with power {POWER} by the set of checks, each at alpha = "
          f"{ALPHA:g}, vs the exact test at the same alpha and at the set's family-wise alpha (m x {ALPHA:g})")
    print(table_ab(rows))
    return rec


def table_ab(rows: list) -> str:
    return C.table(["law", "n", "reps", "error", "measured (95% CI)", "limit, same alpha", "ratio (95% CI)",
                    "limit, family alpha", "ratio (95% CI)", "limit is"], rows, "lrrllllll")


# ------------------------------------------------------------------------------ C: kill rates


def _case(task: tuple) -> tuple:
    kind, idx, seed = task
    C.skip_explanations()
    correct, mutants, cfg = C.mutation_catalogue()
    fn, spec, layer = (correct if kind == "correct" else mutants)[idx][:3]
    r = C.audit_case(fn, spec, layer, cfg(seed))
    return kind, idx, seed, r["verdict"], r["pt_equal_n"], r["pt_small_n"], r["n"]


def run_catalogue(seeds: range, workers: int, kinds: tuple[str, ...] = ("correct", "mutant")) -> list[tuple]:
    correct, mutants, _ = C.mutation_catalogue()
    tasks = [(k, i, s) for k in kinds for i in range(len(correct if k == "correct" else mutants)) for s in seeds]
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            return list(pool.imap_unordered(_case, tasks, chunksize=4))
    return [_case(t) for t in tasks]


def part_c(seeds: int, workers: int) -> dict:
    correct, mutants, _ = C.mutation_catalogue()
    out = run_catalogue(range(seeds), workers)
    rows = []
    tot = {"ours": 0, "eq": 0, "small": 0, "m": 0}
    fa = {"ours": 0, "eq": 0, "small": 0, "m": 0}
    ns = []
    for i, (fn, spec, layer, *_rest) in enumerate(mutants):
        res = [r for r in out if r[0] == "mutant" and r[1] == i]
        k_ours = sum(r[3] == "deviates" for r in res)
        k_eq = sum(r[4] for r in res)
        k_small = sum(r[5] for r in res)
        ns.append(res[0][6])
        tot["ours"] += k_ours
        tot["eq"] += k_eq
        tot["small"] += k_small
        tot["m"] += len(res)
        rows.append([f"{C.name_of(fn)} / {spec} / {layer}", res[0][6], f"{k_ours}/{len(res)}", f"{k_eq}/{len(res)}",
                     f"{k_small}/{len(res)}"])
    for r in out:
        if r[0] == "correct":
            fa["ours"] += r[3] != "conforms"
            fa["eq"] += r[4]
            fa["small"] += r[5]
            fa["m"] += 1
    print()
    print(f"C. Kill rates on the mutation catalogue ({len(mutants)} mutants x {seeds} seeds), same draws for every test")
    print(C.table(["mutant / expected spec / layer", "n (ours)", "ours", "PyTorch-style, equal n",
                   f"PyTorch-style, n = {C.PYTORCH_N}"], rows, "lrrrr"))
    m = tot["m"]
    print()
    print(C.table(["test", "values per audit", "mutants killed", "kill rate", "false alarms on correct", "false-alarm rate"], [
        ["ours (auditor, family-wise alpha 1e-6)", f"{min(ns)}..{max(ns)}", f"{tot['ours']}/{m}", tot["ours"] / m,
         f"{fa['ours']}/{fa['m']}", fa["ours"] / fa["m"]],
        ["PyTorch-style KS p <= 1e-4, equal n", f"{min(ns)}..{max(ns)}", f"{tot['eq']}/{m}", tot["eq"] / m,
         f"{fa['eq']}/{fa['m']}", fa["eq"] / fa["m"]],
        [f"PyTorch-style KS p <= 1e-4, n = {C.PYTORCH_N}", C.PYTORCH_N, f"{tot['small']}/{m}", tot["small"] / m,
         f"{fa['small']}/{fa['m']}", fa["small"] / fa["m"]],
    ], "lllrlr"))
    return {"mutants": len(mutants), "seeds": seeds, "mutant_audits": m, "values": [min(ns), max(ns)],
            "killed": {"ours": tot["ours"], "ks_equal_n": tot["eq"], "ks_small_n": tot["small"]},
            "ks_small_n_values": C.PYTORCH_N, "correct_audits": fa["m"],
            "false_alarms": {"ours": fa["ours"], "ks_equal_n": fa["eq"], "ks_small_n": fa["small"]}}


# ------------------------------------------------------------------------------ H: orthogonal (Haar) power


def _haar(n: int, k: int, rng: np.random.Generator, fix: int | None = None) -> np.ndarray:
    """QR of an n x k Gaussian matrix with R's diagonal signs moved into Q on columns ``fix:`` (all: Haar)."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    d = np.sign(np.diag(r))
    d[: (fix or 0)] = 1.0
    return q * d


def _noncentred(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return np.linalg.svd(rng.uniform(0.0, 1.0, (n, k)), full_matrices=False)[0]


def _shifted(n: int, k: int, rng: np.random.Generator, mu: float) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, k)) + mu)
    return q * np.sign(np.diag(r))


def _battery_rejects(law: Law, draws: list[np.ndarray]) -> bool:
    pool = np.concatenate([d.ravel() for d in draws])
    return not all(c.passed for c in law_checks(law, pool, draws, ALPHA, POWER, BITS))


def _oracle_binomial_power(p_neg: np.ndarray, draws: int, reps: int, rng: np.random.Generator) -> float:
    """Power of the one-sided exact binomial test (level ALPHA) on the affected columns' diagonal signs."""
    m = p_neg.size * draws
    if m == 0:
        return ALPHA
    crit = int(stats.binom.isf(ALPHA, m, 0.5)) + 1  # P(X >= crit) <= ALPHA under fair coins
    neg = rng.random((reps, draws, p_neg.size)) < p_neg
    return float(np.mean(neg.reshape(reps, -1).sum(axis=1) >= crit))


def part_h(n: int, reps: int, seed: int) -> dict:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng([seed, n, 7])
    d = max(4, haar_draws(n))  # the auditor's draws for an n x n orthogonal law (AuditConfig.min_draws = 4)
    law = Law.orthogonal(1.0, (n, n))
    rec: dict = {"n": n, "draws": d, "reps": reps, "alpha_per_check": ALPHA}
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        fa = sum(_battery_rejects(law, [_haar(n, n, rng) for _ in range(d)]) for _ in range(reps))
        rec["false_alarms"] = fa
        rows.append(["none (Haar)", "-", f"{fa}/{reps}", f"<= {5 * ALPHA:.1e}", "union bound of the 5 checks"])
        rec["mixing"] = []
        for eps in (0.02, 0.05, 0.1, 0.2, 0.5):
            hits = 0
            for _ in range(reps):
                draws = [_noncentred(n, n, rng) if rng.random() < eps else _haar(n, n, rng) for _ in range(d)]
                hits += _battery_rejects(law, draws)
            limit = 1 - (1 - eps) ** d * (1 - ALPHA)
            rec["mixing"].append({"eps": eps, "power": hits / reps, "limit": limit})
            rows.append(["non-centred SVD draws, fraction eps", eps, f"{hits / reps:.3f}", f"{limit:.3f}",
                         "exact limit 1-(1-eps)^D"])
        # per-column bias of the diagonal sign without the correction (measured once, for the oracle)
        q = np.stack([np.diag(_haar(n, n, rng, fix=n)) for _ in range(4000)])
        p_neg_all = np.mean(q < 0, axis=0)
        rec["sign"] = []
        for rho in (1 / n, 0.05, 0.1, 0.25, 1.0):
            cols = max(1, math.ceil(rho * n))
            hits = sum(_battery_rejects(law, [_haar(n, n, rng, fix=cols) for _ in range(d)]) for _ in range(reps))
            oracle = _oracle_binomial_power(p_neg_all[:cols], d, 20000, rng)
            rec["sign"].append({"columns": cols, "power": hits / reps, "oracle": oracle})
            rows.append(["QR sign correction missing on the first columns", cols, f"{hits / reps:.3f}",
                         f"{oracle:.3f}", "oracle binomial (reference)"])
        rec["shift"] = []
        for mu in (0.01, 0.02, 0.05, 0.1, 0.2, math.sqrt(3)):
            hits = sum(_battery_rejects(law, [_shifted(n, n, rng, mu) for _ in range(d)]) for _ in range(reps))
            rec["shift"].append({"mu": mu, "power": hits / reps})
            rows.append(["QR of G + mu (mean mu sd)", f"{mu:.3g}", f"{hits / reps:.3f}", "-", "none computed"])
    print()
    print(f"H. Orthogonal battery on {n}x{n} draws (D = {d} per audit, {reps} audits per row, alpha = {ALPHA:g} per check)")
    print(C.table(["departure from Haar", "parameter", "detection rate", "limit / reference", "limit is"], rows, "lrrrl"))
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000:1000,100000:200",
                    help="n:reps pairs for parts A and B (default 10000:1000,100000:200)")
    ap.add_argument("--seeds", type=int, default=20, help="seeds per initializer in part C (default 20)")
    ap.add_argument("--workers", type=int, default=0, help="processes for part C (default: all cores)")
    ap.add_argument("--seed", type=int, default=0, help="simulation seed for parts A and B")
    ap.add_argument("--only", choices=["AB", "C", "H"], help="run only parts A+B, C or H")
    ap.add_argument("--haar-n", type=int, default=64, help="side of the square orthogonal draws in part H (default 64)")
    ap.add_argument("--haar-reps", type=int, default=200, help="audits per departure in part H (default 200)")
    C.record_arg(ap)
    args = ap.parse_args(argv)
    rec: dict = {}
    sizes = [tuple(int(v) for v in s.split(":")) for s in args.sizes.split(",")]
    t0 = C.header("efficiency: detectable variance error vs the exact limits; kill rates vs a PyTorch-style test")
    if args.only in (None, "AB"):
        rec["limits"] = part_ab(sizes, args.seed)  # type: ignore[arg-type]
    if args.only in (None, "C"):
        rec["kill"] = part_c(args.seeds, C.pool_workers(args.workers))
    if args.only in (None, "H"):
        rec["haar"] = part_h(args.haar_n, args.haar_reps, args.seed)
    # a partial run replaces only its own part of the record, with its own date and command
    C.record(args.record, "efficiency", rec, part=args.only)
    C.footer(t0, timing=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
