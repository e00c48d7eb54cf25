"""How a tiny asymmetry between two tied hidden units grows: the law T(ε) ≈ ln(1/ε)/λ + c, per optimizer.

The symmetric subspace S (the units of a layer tied: equal incoming row, bias and outgoing column) is
invariant under training for any update rule that commutes with swapping the units (SYM-CONST-01,
SYM-EQUIV-01).  A start at distance ε from S is a perturbation of a trajectory inside S, and for small ε
its distance from S — the **symmetry defect** d = sig_0 − sig_1 of the two units' signatures — obeys the
linearised dynamics transverse to S: d_{k+1} ≈ J_k d_k with J_k the Jacobian of the update map restricted
to the antisymmetric directions.  The growth rate λ (per step) is the top Lyapunov exponent of that
product, so the defect reaches an O(1) size δ after

    T(ε) ≈ (ln(δ/ε) − ln|a|)/λ = ln(1/ε)/λ + c,

a is the component of the start along the top growing direction (Oseledets; for a fixed point this is
the ordinary linear-instability argument, e.g. Strogatz, *Nonlinear Dynamics and Chaos*, §6.3, and for
invariant manifolds the transverse Lyapunov exponent, Ashwin, Buescu & Stewart 1996).

**At a symmetric stationary point θ*** the transverse Jacobian is constant and λ is computable: with M the
antisymmetric block of the Hessian (A − B, where A is a unit's own Hessian block and B the block between
the two units; g_0 − g_1 = M d), gradient descent gives d_{k+1} = (I − lr·M) d_k, so
λ_SGD = ln max_i |1 − lr·μ_i| over M's eigenvalues μ_i; heavy-ball momentum (PyTorch's form
b ← βb + g, θ ← θ − lr·b) gives λ = ln of the largest root modulus of z² − (1 + β − lr·μ)z + β = 0.
λ > 0 iff M has a negative eigenvalue (a saddle transverse to S) for small lr; if M ⪰ 0 the defect does
not grow (λ ≤ 0: the symmetric point is transversally stable, SGD keeps the units tied up to ε).
Adam has no constant transverse Jacobian — its step divides each coordinate by √v, which near a
stationary point is set by the gradients themselves — so its λ is only measured.

Tasks (deterministic; the 8 × 8 grid on [-1, 1]², network (2, 2, 1) tanh, MSE):

- ``two-feature``: t = tanh(2x₁) + tanh(2x₂).  The best tied (width-1) fit uses one feature along
  (1, 1); two different features fit better, so S is a saddle.
- ``one-feature``: t = 1.5·tanh(x₁ + x₂).  A tied network represents it exactly; the symmetric optimum
  is transversally stable for gradient descent.

The symmetric point θ* is found by training the width-1 network (no ties to lose) and embedding it in
width 2 (each unit gets the incoming row and bias, half the outgoing weight), which maps stationary
points to stationary points.  Regenerate the stored results: ``python -m invariants.studies.asymmetry_growth
--json docs/data/asymmetry_growth.json`` (about a minute on one core).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from invariants.reference import Architecture, make_optimizer, runs
from invariants.reference.network import Params, loss_and_grad

TASKS = ("two-feature", "one-feature")
#: Learning rates per optimizer (momentum β = 0.9, Adam betas (0.9, 0.999), eps 1e-8: PyTorch defaults).
LR = {"sgd": 0.1, "momentum": 0.02, "adam": 0.01}
#: The ε grid of the study (initial defect, max-norm of sig_0 − sig_1).
EPSILONS = tuple(10.0 ** -k for k in range(12, 2, -1))
#: "O(1) defect": the threshold δ on ‖sig_0 − sig_1‖_∞ (the weights here are O(0.3-3)).
DELTA = 0.1
MAX_STEPS = 20000
#: Steps of width-1 SGD (lr 0.1) that bring θ* into Newton's basin; Newton then polishes it
#: (the residual gradient is reported with the results).
PRETRAIN_STEPS = 5000

ARCH = Architecture((2, 2, 1), "tanh", kernel="blas")
_ARCH1 = Architecture((2, 1, 1), "tanh", kernel="blas")


def grid_task(task: str) -> tuple[np.ndarray, np.ndarray]:
    """x: (64, 2), the 8 × 8 grid on [-1, 1]²; t: (64, 1) per :data:`TASKS`; raises ``ValueError``."""
    g = np.linspace(-1.0, 1.0, 8)
    x = np.array([(a, b) for a in g for b in g])
    if task == "two-feature":
        t = np.tanh(2 * x[:, 0]) + np.tanh(2 * x[:, 1])
    elif task == "one-feature":
        t = 1.5 * np.tanh(x[:, 0] + x[:, 1])
    else:
        raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
    return x, t[:, None]


@lru_cache(maxsize=None)
def _symmetric_point_cached(task: str, steps: int) -> tuple[tuple[str, tuple], ...]:
    x, t = grid_task(task)
    p: Params = {"W1": np.array([[0.3, 0.3]]), "b1": np.array([0.05]), "W2": np.array([[0.5]]), "b2": np.zeros(1)}
    opt = make_optimizer("sgd", lr=0.1)
    for _ in range(steps):
        _, g = loss_and_grad(_ARCH1, p, x, t)
        p = opt.step(p, g)
    p = _newton_polish(p, x, t)
    wide = {"W1": np.repeat(p["W1"], 2, axis=0), "b1": np.repeat(p["b1"], 2),
            "W2": np.repeat(p["W2"] / 2, 2, axis=1), "b2": p["b2"].copy()}
    return tuple((k, tuple(v.ravel().tolist())) for k, v in wide.items())


def _newton_polish(p: Params, x: np.ndarray, t: np.ndarray, iters: int = 8, h: float = 1e-6) -> Params:
    """Newton's method on the 5 width-1 parameters (central-difference Hessian of the exact gradient):
    gradient descent leaves a residual gradient along the flat rescaling direction; Newton removes it to
    rounding level, so that θ* is a stationary point and the transverse Jacobian is constant."""
    keys = list(p)
    sizes = [p[k].size for k in keys]

    def flat(q):
        return np.concatenate([q[k].ravel() for k in keys])

    def unflat(v):
        out, i = {}, 0
        for k, n in zip(keys, sizes):
            out[k] = v[i:i + n].reshape(p[k].shape)
            i += n
        return out

    def grad(v):
        return flat(loss_and_grad(_ARCH1, unflat(v), x, t)[1])

    v = flat(p)
    for _ in range(iters):
        g = grad(v)
        hess = np.array([(grad(v + h * e) - grad(v - h * e)) / (2 * h) for e in np.eye(len(v))])
        v = v - np.linalg.solve((hess + hess.T) / 2, g)
    return unflat(v)


def symmetric_point(task: str, steps: int = PRETRAIN_STEPS) -> Params:
    """θ*: a (2, 2, 1) parameter set with both hidden units identical at a stationary point of the task's
    loss (the width-1 network trained by ``steps`` SGD steps, lr 0.1, polished by Newton's method, and
    embedded).  Cached."""
    flat = dict(_symmetric_point_cached(task, steps))
    return {k: np.array(flat[k]).reshape(shape) for k, shape in ARCH.param_shapes().items()}


#: The two tied starts: ``stationary`` is θ* (:func:`symmetric_point`); ``constant`` is the tied point the
#: width-1 pre-training starts from (each unit: row (0.3, 0.3), bias 0.05, outgoing 0.25), from which the
#: symmetric trajectory still has to travel to θ*.
STARTS = ("stationary", "constant")


def tied_start(task: str, start: str) -> Params:
    """The tied parameters a run starts from (see :data:`STARTS`); raises ``ValueError``."""
    if start == "stationary":
        return symmetric_point(task)
    if start == "constant":
        return {"W1": np.full((2, 2), 0.3), "b1": np.full(2, 0.05), "W2": np.full((1, 2), 0.25), "b2": np.zeros(1)}
    raise ValueError(f"unknown start {start!r}; expected one of {STARTS}")


def signatures(p: Params) -> np.ndarray:
    """(2, 4): row j = unit j's (W1[j, 0], W1[j, 1], b1[j], W2[0, j])."""
    return np.column_stack([p["W1"], p["b1"], p["W2"][0]])


def _with_signatures(p: Params, sig: np.ndarray) -> Params:
    q = {k: v.copy() for k, v in p.items()}
    q["W1"], q["b1"], q["W2"] = sig[:, :2].copy(), sig[:, 2].copy(), sig[:, 3][None, :].copy()
    return q


def defects(stack: Params) -> np.ndarray:
    """‖sig_0 − sig_1‖_∞ (0 on the symmetric subspace) of each run of a stack (:mod:`invariants.reference.runs`),
    (R,) float64: :func:`signatures`' columns of every run at once."""
    s = np.concatenate([stack["W1"], stack["b1"][:, :, None], stack["W2"][:, 0, :, None]], axis=2)  # (R, 2, 4)
    return np.max(np.abs(s[:, 0] - s[:, 1]), axis=1)


def perturbed(p: Params, eps: float, seed: int = 0) -> Params:
    """θ* moved off S antisymmetrically: sig_0 += (ε/2)u, sig_1 −= (ε/2)u, u a random direction with
    ‖u‖_∞ = 1 drawn from ``default_rng(seed)``, so the initial defect is ε (up to rounding)."""
    u = np.random.default_rng(seed).normal(size=4)
    u /= np.max(np.abs(u))
    s = signatures(p)
    return _with_signatures(p, np.stack([s[0] + eps / 2 * u, s[1] - eps / 2 * u]))


def transverse_hessian(task: str, p: Params | None = None, h: float = 1e-5) -> np.ndarray:
    """M (4 × 4): g_0 − g_1 ≈ M (sig_0 − sig_1) near θ* (central differences of the exact gradient,
    step ``h``; error O(h²)).  Symmetric: M = A − B with B the (symmetric, by the swap symmetry)
    cross-unit Hessian block."""
    x, t = grid_task(task)
    p = symmetric_point(task) if p is None else p
    s = signatures(p)
    cols = []
    for i in range(4):
        e = np.zeros(4)
        e[i] = h / 2
        diffs = []
        for sign in (1.0, -1.0):
            q = _with_signatures(p, np.stack([s[0] + sign * e, s[1] - sign * e]))
            gs = signatures(loss_and_grad(ARCH, q, x, t)[1])
            diffs.append(gs[0] - gs[1])
        cols.append((diffs[0] - diffs[1]) / (2 * h))
    m = np.array(cols).T
    return (m + m.T) / 2


def predicted_rate(mu: np.ndarray, optimizer: str, lr: float, beta: float = 0.9) -> float:
    """λ per step from the eigenvalues ``mu`` of :func:`transverse_hessian`: ln max|1 − lr·μ| (SGD) or
    ln of the largest root modulus of z² − (1 + β − lr·μ)z + β (heavy-ball momentum).  Raises
    ``ValueError`` for other optimizers (Adam has no constant transverse Jacobian)."""
    if optimizer == "sgd":
        return float(np.log(np.max(np.abs(1 - lr * mu))))
    if optimizer == "momentum":
        return float(max(np.log(np.max(np.abs(np.roots([1.0, -(1 + beta - lr * m), beta])))) for m in mu))
    raise ValueError(f"no linear prediction for {optimizer!r}")


@dataclass
class GrowthRun:
    """One run from a tied start + ε: steps to reach ``defect ≥ delta`` (``None`` if not within
    ``max_steps``)."""

    task: str
    start: str
    optimizer: str
    eps: float
    lr: float
    steps_to_delta: int | None
    final_defect: float


def growth_time(task: str, optimizer: str, eps: float, lr: float | None = None, delta: float = DELTA,
                max_steps: int = MAX_STEPS, seed: int = 0, start: str = "stationary") -> GrowthRun:
    """Train (2, 2, 1) full batch from the :func:`perturbed` tied ``start`` and count the steps until the
    defect first reaches ``delta`` (a run stops early, with ``steps_to_delta`` ``None``, when the defect
    stops being finite)."""
    return growth_times(task, [(optimizer, eps)], lr, delta, max_steps, seed, start)[0]


def growth_times(task: str, runs_of, lr: float | None = None, delta: float = DELTA, max_steps: int = MAX_STEPS,
                 seed: int = 0, start: str = "stationary") -> list[GrowthRun]:
    """:func:`growth_time` for each (optimizer, ε) of ``runs_of``, the runs trained together as one stack
    (:mod:`invariants.reference.runs`: each run bit for bit what it is alone; one optimizer for the stack
    when they all name the same, else one each); a run leaves the stack at the step that decides it."""
    runs_of = list(runs_of)
    x, t = grid_task(task)
    rates = [LR[opt] if lr is None else lr for opt, _ in runs_of]
    tied = tied_start(task, start)
    params = runs.stack([perturbed(tied, e, seed) for _, e in runs_of])
    shared = len({(opt, rate) for (opt, _), rate in zip(runs_of, rates)}) == 1
    opts = [make_optimizer(opt, lr=rate) for (opt, _), rate in zip(runs_of, rates)][:1 if shared else None]
    out: list[GrowthRun | None] = [None] * len(runs_of)
    active = np.arange(len(runs_of))
    d = defects(params)
    for k in range(1, max_steps + 1):
        _, g = runs.loss_and_grad_runs(ARCH, params, x, t)
        params = runs.step(opts[0], params, g) if shared else runs.step_each(opts, params, g)
        d = defects(params)
        finite = np.isfinite(d)
        done = ~finite | (d >= delta)
        if done.any():
            for i in np.flatnonzero(done):
                (opt, e), rate = runs_of[active[i]], rates[active[i]]
                out[active[i]] = GrowthRun(task, start, opt, e, rate, k if finite[i] else None, float(d[i]))
            keep = ~done
            active, d = active[keep], d[keep]
            if not active.size:
                break
            params = runs.take(params, keep)
            if shared:
                runs.take_optimizer(opts[0], keep)
            else:
                opts = [o for o, kept in zip(opts, keep) if kept]
    for i, run in enumerate(active):
        (opt, e), rate = runs_of[run], rates[run]
        out[run] = GrowthRun(task, start, opt, e, rate, None, float(d[i]))
    return out


@dataclass
class LawFit:
    """Least-squares fit T = slope·ln(1/ε) + c over the runs that reached δ.

    ``rate`` = 1/slope (λ per step); ``rate_lo``/``rate_hi``: λ from the slope's 99 % t-interval;
    ``quantization``: the largest slope error integer step counts can cause (T is the first step at or
    beyond δ, so each T is off by a value in [0, 1)); ``residual_max``: largest |T − fit| in steps.
    """

    n: int
    slope: float
    intercept: float
    rate: float
    rate_lo: float
    rate_hi: float
    slope_halfwidth: float
    quantization: float
    residual_max: float


def fit_law(eps: list[float], steps: list[int]) -> LawFit:
    """Fit T = slope·ln(1/ε) + c (at least 3 points; raises ``ValueError`` otherwise)."""
    from scipy import stats

    if len(eps) < 3:
        raise ValueError("the law needs at least 3 runs that reached δ")
    xs = np.log(1.0 / np.asarray(eps, dtype=float))
    ys = np.asarray(steps, dtype=float)
    res = stats.linregress(xs, ys)
    n = len(xs)
    half = float(stats.t.ppf(0.995, n - 2) * res.stderr) if n > 2 else float("inf")
    dev = xs - xs.mean()
    quant = float(np.sum(np.clip(dev, 0, None)) / np.sum(dev ** 2))
    resid = float(np.max(np.abs(ys - (res.slope * xs + res.intercept))))

    def inv(s):
        return 1.0 / s if s > 0 else float("inf")

    return LawFit(n, float(res.slope), float(res.intercept), inv(res.slope), inv(res.slope + half + quant),
                  inv(res.slope - half - quant), half, quant, resid)


def law_for(task: str, optimizer: str, epsilons=EPSILONS, lr: float | None = None,
            max_steps: int = MAX_STEPS, start: str = "stationary") -> dict:
    """Runs over ``epsilons``, the fit (when ≥ 3 reached δ) and, for SGD/momentum, the λ predicted at θ*."""
    lr = LR[optimizer] if lr is None else lr
    trained = growth_times(task, [(optimizer, e) for e in epsilons], lr, max_steps=max_steps, start=start)
    reached = [r for r in trained if r.steps_to_delta is not None]
    out: dict = {"task": task, "start": start, "optimizer": optimizer, "lr": lr, "runs": [asdict(r) for r in trained], "fit": None,
                 "predicted_rate": None}
    if len(reached) >= 3:
        out["fit"] = asdict(fit_law([r.eps for r in reached], [r.steps_to_delta for r in reached]))
    if optimizer in ("sgd", "momentum"):
        mu = np.linalg.eigvalsh(transverse_hessian(task))
        out["predicted_rate"] = predicted_rate(mu, optimizer, lr)
        out["hessian_eigenvalues"] = mu.tolist()
    return out


def residual_gradient(task: str) -> float:
    """max |∇L| at θ* (how stationary the symmetric point is)."""
    x, t = grid_task(task)
    g = loss_and_grad(ARCH, symmetric_point(task), x, t)[1]
    return float(max(np.max(np.abs(v)) for v in g.values()))


def run_study(tasks=TASKS, optimizers=("sgd", "momentum", "adam"), epsilons=EPSILONS, max_steps: int = MAX_STEPS,
              starts=STARTS, progress=None) -> list[dict]:
    """:func:`law_for` for every (task, start, optimizer); ``progress(row)`` after each."""
    rows = []
    for task in tasks:
        for start in starts:
            for opt in optimizers:
                row = law_for(task, opt, epsilons, max_steps=max_steps, start=start)
                row["residual_gradient"] = residual_gradient(task)
                rows.append(row)
                if progress is not None:
                    progress(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """One line per (task, optimizer): fitted λ with its 99 % interval, predicted λ, steps at each ε."""
    lines = [f"{'task':<12} {'start':<10} {'opt':<9} {'lr':>6} {'λ fit':>9} {'99% interval':>22} {'λ pred':>9}  T(ε) for ε = "
             + ", ".join(f"{r['eps']:.0e}" for r in rows[0]["runs"])]
    for row in rows:
        f = row["fit"]
        fit = (f"{f['rate']:>9.4f} [{f['rate_lo']:>9.4f}, {f['rate_hi']:>9.4f}]" if f else f"{'-':>9} {'':>22}")
        pred = f"{row['predicted_rate']:>9.4f}" if row["predicted_rate"] is not None else f"{'-':>9}"
        ts = ", ".join(f"(d={r['final_defect']:.1e})" if r["steps_to_delta"] is None else str(r["steps_to_delta"])
                       for r in row["runs"])
        lines.append(f"{row['task']:<12} {row['start']:<10} {row['optimizer']:<9} {row['lr']:>6} {fit} {pred}  {ts}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m invariants.studies.asymmetry_growth",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 values of ε, at most 5000 steps")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    eps = (1e-12, 1e-9, 1e-6, 1e-3) if args.quick else EPSILONS
    rows = run_study(epsilons=eps, max_steps=5000 if args.quick else MAX_STEPS,
                     progress=lambda r: print(".", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"delta": DELTA, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
