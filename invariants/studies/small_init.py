"""What "small" initial weights means, by optimizer and depth: the plateau an SGD run must escape.

Measure scale by the **per-layer gain** s = σ·√fan_in (σ the weight std): s = 1 is Lecun's
variance-preserving init, "std 0.01" at fan_in 64 is s = 0.08.  Near the origin a tanh network is
≈ linear, so a depth-D net (D weight layers) of gain s computes an end-to-end map of size ≈ s^D and each
layer's gradient is ≈ s^{D−1} times the data's input-output correlation c.  In the scalar model of
a deep linear network (Saxe, McClelland & Ganguli 2014, §3: every layer's mode strength u obeys
τ·du/dt = u^{D−1}(c − u^D)), the escape from the small-init plateau takes

    T(s) ≈ s^{−(D−2)} / ((D − 2)·lr·c)   (D ≥ 3),      T ≈ ln(c/s²)/(2·lr·c)   (D = 2),

gradient steps: the plateau grows as a power of 1/s whose exponent is D − 2.  So with a budget of N steps,
SGD trains only if s ≥ s_c(D, N) = (K_D/N)^{1/(D−2)}, K_D the measured prefactor — a threshold that tends
to 1 (the variance-preserving gain) as D grows.  Adam divides each coordinate's step by its own √v, so
its first steps have size ≈ lr whatever the gradient's scale: the weights leave the plateau in a number
of steps nearly independent of s (until the gradient falls below Adam's eps = 1e-8, where Adam becomes
SGD with rate lr/eps, which is also fast).

Task: x ~ N(0, I_n), 128 examples, linear teacher t = x·β (β ~ N(0, 1/n)); (n,)*D + (1,) tanh network,
N(0, s²/fan_in) weights, zero biases, MSE, full batch.  "Escaped": loss below half its value at the
origin (mean t²).  Regenerate: ``python -m invariants.studies.small_init --json docs/data/small_init.json``
(a few minutes on one core).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass

import numpy as np

from invariants.reference import Architecture, init_params, make_optimizer
from invariants.reference.network import loss_and_grad

LR = {"sgd": 0.1, "adam": 0.01}
DEPTHS = (3, 4, 6, 8)
GAINS = (0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0)
WIDTH = 8
MAX_STEPS = 20000
#: The power-law fit uses gains up to this value (the law is the small-s asymptote).
FIT_MAX_GAIN = 0.5


def teacher_task(width: int, n: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x (n, width) standard normal, t = x·β (n, 1), β ~ N(0, I/width) (seeded)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, width))
    return x, x @ (rng.normal(size=(width, 1)) / math.sqrt(width))


@dataclass
class EscapeRun:
    """One run: the step at which the loss first fell below half of mean(t²), or ``None``."""

    optimizer: str
    depth: int
    gain: float
    width: int
    lr: float
    escape_step: int | None
    final_loss_ratio: float  # final loss / mean(t²)


def escape_time(optimizer: str, depth: int, gain: float, width: int = WIDTH, lr: float | None = None,
                max_steps: int = MAX_STEPS, seed: int = 1, data=None) -> EscapeRun:
    """Train (width,)*depth + (1,) tanh from N(0, gain²/fan_in) weights (``default_rng(seed)``), zero
    biases, on :func:`teacher_task` and return the escape step."""
    x, t = teacher_task(width) if data is None else data
    lr = LR[optimizer] if lr is None else lr
    arch = Architecture((width,) * depth + (1,), "tanh", kernel="blas")
    rng = np.random.default_rng(seed)
    p = init_params(arch, lambda name, shape: rng.normal(0.0, gain / math.sqrt(shape[1]), shape), 0.0)
    opt = make_optimizer(optimizer, lr=lr)
    base = float(np.mean(t ** 2))
    loss = base
    for k in range(max_steps):
        loss, g = loss_and_grad(arch, p, x, t)
        if loss < 0.5 * base:
            return EscapeRun(optimizer, depth, gain, width, lr, k, loss / base)
        p = opt.step(p, g)
    return EscapeRun(optimizer, depth, gain, width, lr, None, float(loss) / base)


@dataclass
class PowerFit:
    """log T = exponent·log s + log K over the escaped runs with s ≤ :data:`FIT_MAX_GAIN`.

    ``predicted`` = −(D − 2); ``halfwidth``: the exponent's 99 % t-interval half-width; ``quantization``:
    the largest exponent error from integer step counts (each T off by [0, 1) steps, i.e. up to 1/T_min
    in log T)."""

    depth: int
    n: int
    exponent: float
    log_k: float
    halfwidth: float
    quantization: float
    predicted: float


def fit_power(depth: int, gains: list[float], steps: list[int]) -> PowerFit:
    """Fit the plateau law (at least 3 points; raises ``ValueError`` otherwise)."""
    from scipy import stats

    if len(gains) < 3:
        raise ValueError("the power law needs at least 3 escaped runs")
    xs, ys = np.log(gains), np.log(np.asarray(steps, dtype=float))
    res = stats.linregress(xs, ys)
    half = float(stats.t.ppf(0.995, len(xs) - 2) * res.stderr) if len(xs) > 2 else float("inf")
    dev = xs - xs.mean()
    quant = float(np.sum(np.abs(dev)) / np.sum(dev ** 2) / min(steps))
    return PowerFit(depth, len(xs), float(res.slope), float(res.intercept), half, quant, -(depth - 2.0))


def critical_gain(fit: PowerFit, budget: int) -> float:
    """s_c(D, N) = (K_D/N)^{1/(D−2)}: the smallest gain SGD escapes from within ``budget`` steps, by the
    fitted law T = K_D·s^{exponent}."""
    return float(math.exp((math.log(budget) - fit.log_k) / fit.exponent))


def fit_rows(runs: list[dict], max_steps: int) -> list[dict]:
    """The plateau law per (optimizer, depth) from :class:`EscapeRun` rows (as dicts): exponent with its
    interval; predicted −(D − 2) for SGD and 0 for Adam (scale-free steps); for SGD the critical gain
    s_c(D, max_steps)."""
    fits = []
    for opt, d in sorted({(r["optimizer"], r["depth"]) for r in runs}, key=lambda k: (k[0] != "sgd", k)):
        pts = [r for r in runs if r["optimizer"] == opt and r["depth"] == d and r["escape_step"]
               and r["gain"] <= FIT_MAX_GAIN]
        if len(pts) < 3:
            continue
        fit = fit_power(d, [r["gain"] for r in pts], [r["escape_step"] for r in pts])
        row = asdict(fit)
        row["optimizer"] = opt
        if opt == "sgd":
            row["critical_gain_at_max_steps"] = critical_gain(fit, max_steps)
        else:
            row["predicted"] = 0.0
        fits.append(row)
    return fits


def seed_case_runs(optimizers=("sgd", "adam"), max_steps: int = 10000) -> list[dict]:
    """The seed's "very close to zero" case: 10 tanh hidden layers of width 64 (11 weight layers), std 0.01
    (s = 0.08), ``max_steps`` steps per optimizer."""
    return [asdict(escape_time(opt, 11, 0.01 * math.sqrt(64), 64, max_steps=max_steps)) for opt in optimizers]


def run_study(depths=DEPTHS, gains=GAINS, optimizers=("sgd", "adam"), width: int = WIDTH, max_steps: int = MAX_STEPS,
              progress=None) -> dict:
    """Every (optimizer, depth, gain); fits per (optimizer, depth); the seed's case (10 layers of width 64,
    std 0.01) for both optimizers."""
    data = teacher_task(width)
    runs = []
    for opt in optimizers:
        for d in depths:
            for s in gains:
                runs.append(escape_time(opt, d, s, width, max_steps=max_steps, data=data))
                if progress is not None:
                    progress(runs[-1])
    fits = fit_rows([asdict(r) for r in runs], max_steps)
    seed_case = seed_case_runs(optimizers)
    return {"width": width, "max_steps": max_steps, "runs": [asdict(r) for r in runs], "fits": fits,
            "seed_case": seed_case}


def format_table(result: dict) -> str:
    """Escape steps per (optimizer, depth) × gain, then the fits and the seed's case."""
    gains = sorted({r["gain"] for r in result["runs"]})
    lines = [f"{'opt':<5} {'D':>3}  " + " ".join(f"s={g:<7}" for g in gains)]
    keys = sorted({(r["optimizer"], r["depth"]) for r in result["runs"]}, key=lambda k: (k[0] != "sgd", k))
    for opt, d in keys:
        cells = {r["gain"]: r["escape_step"] for r in result["runs"] if r["optimizer"] == opt and r["depth"] == d}
        lines.append(f"{opt:<5} {d:>3}  " + " ".join(f"{'-' if cells[g] is None else cells[g]:<9}" for g in gains))
    for f in result["fits"]:
        extra = f", s_c({result['max_steps']} steps) = {f['critical_gain_at_max_steps']:.3f}" if "critical_gain_at_max_steps" in f else ""
        lines.append(f"fit {f['optimizer']} D={f['depth']}: exponent {f['exponent']:.3f} ± {f['halfwidth']:.3f} "
                     f"(+{f['quantization']:.3f} quantization), predicted {f['predicted']:.0f}{extra}")
    for r in result["seed_case"]:
        lines.append(f"seed case {r['optimizer']}: 10 tanh hidden layers of width 64, std 0.01 (s = 0.08): escape step "
                     f"{r['escape_step']}, final loss ratio {r['final_loss_ratio']:.3g}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m invariants.studies.small_init", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="depths 3-4, 4 gains, at most 3000 steps")
    parser.add_argument("--json", default=None, help="also write the result to this file")
    args = parser.parse_args(argv)
    if args.quick:
        result = run_study(depths=(3, 4), gains=(0.2, 0.3, 0.5, 1.0), max_steps=3000)
    else:
        result = run_study(progress=lambda r: print(".", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    print(format_table(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
