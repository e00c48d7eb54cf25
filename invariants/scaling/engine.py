"""``scale_check``: build the model at every size and seed, record the second moments, fit, compare with theory.

The run (width mode; depth mode is the same along depth at a fixed width, :mod:`invariants.scaling.depth`):

1. the cost is estimated from the request and checked against the limits before any model is trained
   (:mod:`invariants.scaling.cost`);
2. for each seed ``s`` and size ``n``, through the model's framework runner
   (:class:`invariants.frameworks.runner.ScalingRunner`, found by :func:`invariants.scaling.target.identify`):
   the runner's seeding (``torch.manual_seed(s)``), ``factory(n)``, the fixed input of seed ``s``, and the
   runner's ``record`` at the requested steps (torch: :func:`invariants.frameworks.torch.scaling.record`);
3. one row per (tensor, kind, step) measured at every seed at >= 2 sizes, plus one ``gain`` row per weight layer
   (its pre-activation's second moment over its input's, at step 0); each row's slope is fitted
   (:mod:`invariants.scaling.fit`) at the per-check level ``α = min(1e-6, total_alpha / m)`` for the ``m``
   rows actually fitted (Bonferroni: the run's family-wise false-alarm rate is at most ``m·α <= total_alpha``);
4. each row is compared with its expectation (:mod:`invariants.scaling.theory`) and the findings written
   (:mod:`invariants.scaling.findings`).
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from invariants.core.cost import Cost, Limits, check
from invariants.core.errors import UsageError
from invariants.frameworks import runner as R
from invariants.frameworks.errors import BadModel
from invariants.frameworks.probe_seeding import run_seeded
from invariants.frameworks.runner import ScalingRunner
from invariants.core.results import ERROR
from invariants.scaling.cost import LESS, estimate
from invariants.scaling.depth import GRAD, GRAD_QUANTITY, S_MIN_DEPTH, depth_report
from invariants.scaling.findings import GAIN, findings, inherited_causes
from invariants.scaling.fit import S_MIN, fit_slope
from invariants.scaling.report import Coverage, Row, ScaleFinding, ScaleReport
from invariants.scaling.target import DEPTH, WIDTH, builder, identify, load_factory
from invariants.scaling.theory import EXPECTATIONS, OUTPUT_LAYER, expected, position

DEFAULT_LR = {"sgd": 0.1, "adam": 0.01}
DEFAULT_TOTAL_ALPHA = 1e-4
CHECK_ALPHA_CAP = 1e-6
FITTED_KINDS = (R.PREACT, R.ACT, R.NORM, R.OTHER, R.OUTPUT, R.UPDATE, R.OUTPUT_CHANGE, GRAD)

Progress = Callable[[int, int, str], Any]


def exponent(sizes: Sequence[int], values: Sequence[float]) -> float:
    """Least-squares slope of ``log values`` on ``log sizes`` (how a fan scales with the size; exact data)."""
    x, y = np.log(np.asarray(sizes, float)), np.log(np.asarray(values, float))
    xc = x - x.mean()
    return float(((y - y.mean()) @ xc) / (xc @ xc))


def validate(sizes: Sequence[int], steps: Sequence[int], seeds: int, optimizer: str, expect: str,
             total_alpha: float, batch: int) -> None:
    """Refuse a malformed request (API wording; the CLI parses its flags into these first).

    Raises:
        UsageError: fewer than 2 distinct sizes, a size or step below its minimum, fewer than 2 seeds, an unknown
            optimizer or expectation, ``total_alpha`` outside (0, 1), a batch below 1.
    """
    if len(set(sizes)) < 2 or any(int(s) != s or s < 1 for s in sizes):
        raise UsageError(f"sizes: need at least 2 distinct integers >= 1, got {list(sizes)}")
    if not steps or any(int(s) != s or s < 0 for s in steps):
        raise UsageError(f"steps: need integers >= 0, got {list(steps)}")
    if seeds < 2:
        raise UsageError(f"seeds: a slope's interval needs at least 2 seeds (16 or more decide most), got {seeds}")
    if optimizer not in DEFAULT_LR:
        raise UsageError(f"optimizer: expected one of {', '.join(DEFAULT_LR)}, got {optimizer!r}")
    if expect not in EXPECTATIONS:
        raise UsageError(f"expect: expected one of {', '.join(EXPECTATIONS)}, got {expect!r}")
    if not 0 < total_alpha < 1:
        raise UsageError(f"total_alpha must lie in (0, 1), got {total_alpha!r}")
    if batch < 1:
        raise UsageError(f"batch must be >= 1, got {batch}")


def measure(runner: ScalingRunner, build: Callable[[int], tuple[Any, Any]], sizes: Sequence[int], seeds: int,
            steps: Sequence[int], optimizer: str, lr: float, batch: int, progress: Progress | None = None,
            base_seed: int = 0, mean_field: dict | None = None, gradients: bool = False,
            ) -> tuple[dict[R.Key, dict[int, dict[int, float]]], dict[int, dict[str, tuple[int, int]]],
                       dict[int, str], list[str], dict[str, str]]:
    """Every (seed, size) run through ``runner``: ``{key: {size: {seed: moment}}}``, the fans per size, the
    failed sizes, the module order and the modules not measured; ``mean_field`` (if given) gets each size's
    :meth:`~invariants.frameworks.runner.ScalingRunner.mean_field_inputs` (seed 0).  Only one model and its
    running second moments are alive at a time."""
    data: dict[R.Key, dict[int, dict[int, float]]] = {}
    fans: dict[int, dict[str, tuple[int, int]]] = {}
    failed: dict[int, str] = {}
    order: list[str] = []
    skipped: dict[str, str] = {}
    with runner.session():
        run_all(runner, build, sizes, seeds, steps, optimizer, lr, batch, progress, data, fans, failed, order,
                skipped, base_seed, mean_field, gradients)
    return data, fans, failed, order, skipped


def run_all(runner: ScalingRunner, build: Callable[[int], tuple[Any, Any]], sizes: Sequence[int], seeds: int,
            steps: Sequence[int], optimizer: str, lr: float, batch: int, progress: Progress | None, data: dict,
            fans: dict, failed: dict, order: list[str], skipped: dict, base_seed: int = 0,
            mean_field: dict | None = None, gradients: bool = False) -> None:
    """The loop of :func:`measure` over seeds and sizes, filling its containers."""
    mean_field = {} if mean_field is None else mean_field
    total, done = len(sizes) * seeds, 0
    for seed in range(seeds):
        for n in sizes:
            done += 1
            if n in failed:
                continue
            if progress is not None:
                progress(done, total, f"size {n} seed {seed}")
            runner.seed(base_seed + seed)
            try:
                model, x = build(n)
                model, x = runner.prepare(model, x, batch, base_seed + seed)
                # depth mode's backward quantity, at initialization: before record() trains the model
                grads = runner.gradient_moments(model, x, base_seed + seed) if gradients else {}
                moments = {**grads, **runner.record(model, x, list(steps), optimizer, lr, base_seed + seed)}
            except BadModel as exc:
                if len(sizes) == 1 or (seed == 0 and n == sizes[0] and not data):
                    raise
                failed[n] = str(exc)
                continue
            except Exception as exc:  # noqa: BLE001  a model that fails at one size: that size is not measured
                failed[n] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
                continue
            if n not in fans:
                fans[n] = runner.fans(model)
                mean_field[n] = runner.mean_field_inputs(model)
                hooked, skip = runner.roles(model)
                if not order:
                    order.extend(hooked)
                skipped.update(skip)
            for key, v in moments.items():
                data.setdefault(key, {}).setdefault(n, {})[seed] = v


def scale_check(target: "str | Callable[..., Any]", sizes: Sequence[int], *, steps: Sequence[int] = (0,),
                seeds: int = 16, optimizer: str = "adam", lr: float | None = None, batch: int = 64,
                expect: str = "theta1", total_alpha: float = DEFAULT_TOTAL_ALPHA, mode: str = WIDTH,
                width: int | None = None, limits: Limits | None = None, progress: Progress | None = None,
                s_min: float = S_MIN, base_seed: int = 0,
                on_estimate: Callable[[Cost], None] | None = None) -> ScaleReport:
    """Check how every tensor's second moment scales with the model's width (or depth).

    Args:
        target: ``MODULE:FACTORY`` or the factory (:mod:`invariants.scaling.target`: ``factory(width)``).
        sizes: the widths (depth mode: the depths), at least 2 distinct.
        steps: optimizer steps at which to record (0: initialization).
        seeds: independent initializations per size (the slope's t-interval is over them).
        optimizer: ``sgd`` or ``adam``; lr: its base rate (default 0.1 for SGD, 0.01 for Adam).
        batch: the synthetic batch size.
        expect: ``theta1`` (every quantity Θ(1)), ``sp`` or ``mup`` (:mod:`invariants.scaling.theory`).
        total_alpha: the run's family-wise false-alarm rate (Bonferroni over the fitted rows, at most 1e-6 each).
        mode: ``width`` or ``depth`` (then ``width`` is the fixed width).
        limits: the cost limits (default :class:`~invariants.core.cost.Limits`).
        progress: called ``progress(i, total, label)`` before each (seed, size) run.
        s_min: the smallest slope that matters (:data:`invariants.scaling.fit.S_MIN`).
        base_seed: the seeds are ``base_seed, ..., base_seed + seeds - 1``.
        on_estimate: called with the run's :class:`~invariants.core.cost.Cost` (:mod:`invariants.scaling.cost`)
            once it is within ``limits``, before any model is trained (the CLI prints it).

    Returns:
        the :class:`~invariants.scaling.report.ScaleReport`.

    Raises:
        UsageError: a malformed request (:func:`validate`), or a cost over the limits (``ResourceLimit``).
        BadModel: an unloadable target, or a factory that fails at the first size.
    """
    t0 = time.monotonic()
    sizes = sorted(set(int(s) for s in sizes))
    steps = sorted(set(int(s) for s in steps))
    validate(sizes, steps, seeds, optimizer, expect, total_alpha, batch)
    if base_seed < 0:
        raise UsageError(f"seed must be >= 0, got {base_seed}")
    if mode == DEPTH and (width is None or width < 1):
        raise UsageError(f"depth mode needs a width >= 1, got {width!r}")
    if mode == DEPTH and expect != "theta1":
        raise UsageError(f"depth mode compares with the mean-field depth scale; expect={expect!r} is a width "
                         "parametrization: leave it at 'theta1'")
    if mode == DEPTH and s_min == S_MIN:
        s_min = S_MIN_DEPTH
    lr = DEFAULT_LR[optimizer] if lr is None else float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"lr must be a positive number, got {lr!r}")
    factory, name = load_factory(target)
    # every global RNG the runs seed (torch's CPU and CUDA generators, numpy's, Python's, Keras') is restored
    # after them: a scale check leaves the caller's random streams as it found them
    with run_seeded(base_seed):
        return _run(factory, name, sizes, steps, seeds, optimizer, lr, batch, expect, total_alpha, mode, width,
                    limits, progress, s_min, base_seed, on_estimate, t0)


def _run(factory: Callable[..., Any], name: str, sizes: list[int], steps: list[int], seeds: int, optimizer: str,
         lr: float, batch: int, expect: str, total_alpha: float, mode: str, width: int | None, limits: Limits | None,
         progress: Progress | None, s_min: float, base_seed: int, on_estimate: Callable[[Cost], None] | None,
         t0: float) -> ScaleReport:
    """:func:`scale_check` after its arguments are checked and the factory loaded."""
    build = builder(factory, name, mode, width)
    runner = identify(build, sizes[0], name)
    cost = estimate(build, sizes, seeds, steps, batch, optimizer, runner, gradients=mode == DEPTH)
    check(cost, limits or Limits(), f"scale-check of {name} at {mode}s {','.join(map(str, sizes))} x {seeds} seeds",
          LESS)
    if on_estimate is not None:
        on_estimate(cost)
    config = {"mode": mode, "sizes": sizes, "width": width, "steps": steps, "seeds": seeds, "optimizer": optimizer,
              "lr": lr, "batch": batch, "expect": expect, "framework": runner.name, "base_seed": base_seed,
              "total_alpha": total_alpha, "s_min": s_min,
              "loss": "linear: sum(f(x)·r)/B, r ~ N(0, 1) fixed per seed",
              "slope_units": ("log2 second moment per log2 size (RMS slope = half)" if mode == WIDTH else
                              "log2 second moment per layer (RMS slope = half)"),
              "rows": "every hooked tensor" if mode == WIDTH else ("the model output (the one role at every depth) "
                                                                  "and, where the framework records it, the first "
                                                                  "layer's pre-activation gradient"),
              "interval": "Student t over per-seed weighted least-squares slopes (weights ∝ size); assumes the "
                          "per-seed slopes are i.i.d. normal",
              "estimated": {"values": cost.values, "bytes": cost.bytes, "seconds": cost.seconds,
                            "elapsed_before": time.monotonic() - t0}}
    mean_field: dict[int, Any] = {}
    data, fans, failed, order, skipped = measure(runner, build, sizes, seeds, steps, optimizer, lr, batch, progress,
                                                 base_seed, mean_field, gradients=mode == DEPTH)
    report = ScaleReport(name, mode, config)
    report.coverage = Coverage(sizes=[n for n in sizes if n not in failed], failed=failed, not_measured=skipped)
    seen = {k[0] for k in data}
    for module in order:
        if module not in seen:  # hooked, but its forward never ran: its weights are used functionally
            report.coverage.not_measured[module] = ("never called as a module (its weights are used functionally, "
                                                  "e.g. MultiheadAttention's out_proj): not measured")
    rows, fan_in_exp = fit_rows(data, fans, order, report, steps, optimizer, expect, total_alpha, s_min)
    if mode == DEPTH:
        report.depth_scale, found = depth_report(rows, data, mean_field, order, R.LAYER_INPUT)
        report.findings.extend(found)
    causes = inherited_causes(rows, order)
    rows = [replace(r, cause=causes.get((r.name, r.kind, r.step))) for r in rows]
    report.rows = rows
    report.findings = nonfinite_findings(data) + findings(rows, fan_in_exp, expect, s_min,
                                                                   "depth" if mode == DEPTH else "size") + report.findings
    report.coverage.kinds = sorted({k[1] for k in data})
    report.seconds = time.monotonic() - t0
    return report


def nonfinite_findings(data: dict[R.Key, dict[int, dict[int, float]]]) -> list[Any]:
    """An error per quantity whose second moment overflowed (inf or NaN) at some size."""
    out = []
    for (name, kind, step), by_size in data.items():
        bad = sorted(n for n, by_seed in by_size.items() if not all(math.isfinite(v) for v in by_seed.values()))
        if bad:
            out.append(ScaleFinding(ERROR, "non-finite", f"{name} {kind} step {step}",
                                    f"the second moment is not finite (inf or NaN) at size(s) {bad}", (name,)))
    return out


def fit_rows(data: dict[R.Key, dict[int, dict[int, float]]], fans: dict[int, dict[str, tuple[int, int]]],
             order: list[str], report: ScaleReport, steps: Sequence[int], optimizer: str, expect: str,
             total_alpha: float, s_min: float) -> tuple[list[Row], dict[str, float]]:
    """The fitted rows (step 3 of the module docstring) and each weight layer's fan-in exponent."""
    seeds = int(report.config["seeds"])
    sizes = report.coverage.sizes
    matrices: dict[tuple[str, str, int], tuple[list[int], np.ndarray]] = {}

    def matrix(key: R.Key) -> tuple[list[int], np.ndarray] | None:
        by_size = data.get(key, {})
        use = [n for n in sizes if len(by_size.get(n, {})) == seeds]
        if len(use) < 2:
            return None
        return use, np.array([[by_size[n][s] for n in use] for s in range(seeds)])

    for key in data:
        if key[1] not in FITTED_KINDS:
            continue
        if report.mode == DEPTH and key[1] not in (R.OUTPUT, R.OUTPUT_CHANGE, GRAD):
            continue  # along depth only the model's output (and the first layer's gradient) is the same role
        got = matrix(key)
        label = f"{key[0]} {key[1]} step {key[2]}"
        if got is None:
            report.coverage.not_fitted[label] = "measured at every seed at fewer than 2 sizes"
        elif not np.all(np.isfinite(got[1])):
            continue  # reported as non-finite
        elif np.any(got[1] <= 0):
            report.coverage.not_fitted[label] = "the second moment is zero at some size (a zero-initialized layer?)"
        else:
            matrices[key] = got
    for name in order if report.mode == WIDTH else ():
        pre, inp = matrix((name, R.PREACT, 0)), matrix((name, R.LAYER_INPUT, 0))
        if pre is None or inp is None or pre[0] != inp[0]:
            continue
        if np.all(np.isfinite(pre[1])) and np.all(pre[1] > 0) and np.all(inp[1] > 0) and np.all(np.isfinite(inp[1])):
            matrices[(name, GAIN, 0)] = (pre[0], pre[1] / inp[1])
    fan_in_exp: dict[str, float] = {}
    positions: dict[str, str] = {}
    ns = sorted(fans)
    for name in order:
        if len(ns) >= 2 and all(name in fans[n] for n in ns):
            fi = exponent(ns, [fans[n][name][0] for n in ns])
            fo = exponent(ns, [fans[n][name][1] for n in ns])
            fan_in_exp[name], positions[name] = fi, position(fi, fo)
    out_pos = positions.get(order[-1], OUTPUT_LAYER) if order else OUTPUT_LAYER
    m = len(matrices)
    alpha = min(CHECK_ALPHA_CAP, total_alpha / max(1, m))
    report.config.update({"alpha": alpha, "n_fits": m})
    rank = {n: i for i, n in enumerate(order)}
    follows: dict[str, str] = {}  # a module that is not a weight layer takes the position of the one before it
    last = None
    for name in order:
        last = positions[name] if name in positions else last
        if name not in positions and last is not None:
            follows[name] = last
    rows = []
    for (name, kind, step), (use, mat) in sorted(matrices.items(),
                                                 key=lambda kv: (kv[0][2], rank.get(kv[0][0], len(rank)), kv[0][1])):
        fit = fit_slope(use, mat, alpha, s_min, linear=report.mode == DEPTH)
        where = positions.get(name)
        exp = expected(expect, optimizer, "preact" if kind in (R.ACT, R.NORM, R.OTHER) else kind,
                       where or follows.get(name), step, out_pos)
        gm = tuple(float(v) for v in np.exp(np.log(mat).mean(axis=0)))
        rows.append(Row(name, kind, step, where, fit, exp, tuple(use), gm,
                        quantity=GRAD_QUANTITY if kind == GRAD else None))
    return rows, fan_in_exp


__all__ = ["CHECK_ALPHA_CAP", "DEFAULT_LR", "DEFAULT_TOTAL_ALPHA", "FITTED_KINDS", "exponent", "fit_rows", "measure",
           "nonfinite_findings", "scale_check", "validate"]
