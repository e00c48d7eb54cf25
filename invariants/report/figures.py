"""Figures of the documentation (matplotlib, Agg canvas; needs the ``docs`` extra).

Each figure is a :class:`FigureSpec`: a file name, a title, a caption, the claims it illustrates, and
a ``build`` function that computes the data with the same library code the claims' evidence uses and
draws it.  :func:`render_all` returns, for each figure, the PNG bytes and the plotted numbers (rounded
to 4 significant digits), which ``invariants report`` writes as ``figures/<name>.png`` and
``figures/<name>.json``.

Determinism.  The data come from fixed seeds.  The PNG is drawn under matplotlib's default style
(the user's matplotlibrc is ignored), with the bundled DejaVu Sans font and no ``Software`` metadata,
so regenerating it with the same matplotlib and FreeType gives identical bytes.  Other versions may
anti-alias differently, so the docs-drift test compares each figure's JSON data, not its pixels.

Figures:

- ``variance_depth``: per-layer pre-activation and gradient second moments through 50 layers for each
  scheme × activation, measured on the reference network against the mean-field curve and its
  band (:func:`invariants.propagation.variance_profile`; in the style of Glorot & Bengio 2010,
  figs. 3 and 6-7).
- ``symmetry_defect``: symmetry defect vs training steps from a constant init, exact vs BLAS kernel,
  SGD vs Adam, float32/float64, from the stored rows of :mod:`invariants.studies.fp_symmetry` (a
  measurement of minutes whose BLAS results depend on the machine; see :data:`FP_STUDY_COMMAND`).
- ``xor_boundaries``: decision boundaries of 2-4-1 networks trained on XOR from a constant and a random
  init (:func:`invariants.experiments.xor.xor_run`, the runs of SYM-POOR-01's evidence).
- ``power_curve``: the auditor's smallest detectable relative variance error vs sample size: the exact
  χ² bound for normal laws and the moment and extreme-value tests for bounded laws, with the audited
  tensors (:mod:`invariants.stats`).
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from invariants.core.errors import Unavailable
from invariants.experiments.propagation import PROP_BATCH, PROP_DEPTH, PROP_SEED, PROP_WIDTH, reference_profile

#: Pixel density of every PNG (the site shows them at their natural width).
DPI = 100

#: rcParams on top of matplotlib's defaults: a bundled font and no hash salt randomness.
_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9,
    "svg.hashsalt": "invariants",
    "path.simplify": True,
    "figure.dpi": DPI,
}


class FiguresUnavailable(Unavailable):
    """matplotlib is not installed (``pip install 'invariants[docs]'``); the CLI reports it, exit 2."""


@dataclass
class RenderedFigure:
    """A drawn figure: PNG bytes, the plotted data and a caption with figures of this run."""

    png: bytes
    data: dict[str, Any]
    note: str = ""


@dataclass(frozen=True)
class FigureSpec:
    """A documentation figure.

    Attributes:
        name: file stem (``figures/<name>.png``).
        title: one line.
        caption: what is plotted and how to read it (plain text).
        claims: IDs of the claims whose pages show the figure.
        build: ``build(context) -> RenderedFigure | None`` (``None``: the data source is not available;
            the figure is listed as pending).
        pending: why ``build`` may return ``None`` (shown on the figures page when it does).
        refresh: command that (re)produces the stored data the figure is drawn from, if any.
    """

    name: str
    title: str
    caption: str
    claims: tuple[str, ...]
    build: Callable[["FigureContext"], RenderedFigure | None]
    pending: str = ""
    refresh: str = ""


@dataclass
class FigureContext:
    """Stored inputs of the figures: audit data (framework -> dict) for the power curve, and the
    floating-point symmetry study's rows for the symmetry-defect figure (``None``: not measured)."""

    audits: dict[str, dict[str, Any]] = field(default_factory=dict)
    fp_study: dict[str, Any] | None = None


def matplotlib_modules():
    """``(matplotlib, Figure, FigureCanvasAgg)``, imported on demand (the ``docs`` extra).

    Raises:
        FiguresUnavailable: matplotlib is not installed.
    """
    try:
        import matplotlib
        import matplotlib.style  # noqa: F401  (style.context is used by render_all)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise FiguresUnavailable("figures need matplotlib: pip install -e '.[docs]'") from exc
    return matplotlib, Figure, FigureCanvasAgg


def new_figure(width: float, height: float):
    """A figure on its own Agg canvas (no pyplot: no global backend or figure registry is touched)."""
    _, Figure, FigureCanvasAgg = matplotlib_modules()
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


#: a valid 1×1 grey PNG (67 bytes, written by Pillow) returned by :func:`png_bytes` inside :func:`without_pixels`
PLACEHOLDER_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
                   b"\x00\x00\x00\nIDATx\x9cc\xf8\x0f\x00\x01\x01\x01\x00\xb18\xf6\x14\x00\x00\x00\x00IEND\xaeB`\x82")
_PIXELS = contextvars.ContextVar("invariants_figure_pixels", default=True)


@contextlib.contextmanager
def without_pixels():
    """Within it, :func:`png_bytes` returns :data:`PLACEHOLDER_PNG` instead of rasterizing the figure.

    For builds whose PNG files are checked by presence only (the docs-drift test compares each figure's
    plotted data, ``figures/<name>.json``, not its pixels): rasterizing took 3.3 of a site build's 4.5 CPU-s.
    Everything else is unchanged: the figure is still built and laid out, and its data are computed before
    (and independently of) the PNG.
    """
    token = _PIXELS.set(False)
    try:
        yield
    finally:
        _PIXELS.reset(token)


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes at :data:`DPI`, without the ``Software`` metadata (deterministic bytes); the
    placeholder inside :func:`without_pixels`."""
    if not _PIXELS.get():
        return PLACEHOLDER_PNG
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def r4(x: Any) -> Any:
    """Round floats (also inside lists/dicts/arrays) to 4 significant digits for the JSON data."""
    if isinstance(x, dict):
        return {k: r4(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [r4(v) for v in x]
    if isinstance(x, np.ndarray):
        return [r4(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if not math.isfinite(x):
            return None
        return 0.0 if x == 0 else float(f"{x:.4g}")
    return x


# ------------------------------------------------------------------------------------ variance vs depth

VARIANCE_SCHEMES: tuple[tuple[str, str], ...] = (
    ("lecun", "LeCun = Glorot (equal widths): Var 1/fan_in"),
    ("he", "He: Var 2/fan_in"),
    ("torch_default", "PyTorch default: U(±1/√fan_in)"),
    ("std0.01", "fixed std 0.01"),
    ("std1", "fixed std 1"),
)
VARIANCE_ACTIVATIONS: tuple[str, ...] = ("identity", "tanh", "relu", "selu")
#: The fixed network of VAR-PROP-01's experiment (its seed, so the figure shows the evidence's runs).
VARIANCE_DEPTH, VARIANCE_WIDTH, VARIANCE_BATCH, VARIANCE_SEED = PROP_DEPTH, PROP_WIDTH, PROP_BATCH, PROP_SEED
_YLIM = (1e-15, 1e15)
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def variance_depth_data() -> dict[str, Any]:
    """Profiles for every scheme × activation (one reference network each, float64 BLAS): the cached runs
    of the variance claims' evidence (:func:`invariants.experiments.propagation.reference_profile`), so a
    report that has just run ``verify`` does not recompute them."""
    from invariants import propagation as prop

    profile = reference_profile
    profiles = []
    for scheme, _ in VARIANCE_SCHEMES:
        for act in VARIANCE_ACTIVATIONS:
            p = profile(scheme, act)
            top = p.backward_measured[-1]
            profiles.append({
                "scheme": scheme, "activation": act, "passed": p.passed,
                "forward_trend": prop.forward_trend(p), "backward_trend": prop.backward_trend(p),
                "forward_measured": p.forward_measured, "forward_predicted": p.forward_predicted,
                "forward_band": p.forward_band,
                "backward_measured": p.backward_measured / top, "backward_predicted": p.backward_predicted / top,
                "backward_band": p.backward_band,
            })
    return {"depth": VARIANCE_DEPTH, "width": VARIANCE_WIDTH, "batch": VARIANCE_BATCH, "seed": VARIANCE_SEED,
            "profiles": profiles}


#: rcParams of the wide figures (about 1100 px, shown at ~65% on the page): larger text so that it stays
#: about 9 px high there
_WIDE_RC = {"font.size": 12, "axes.titlesize": 12}


def _build_variance_depth(ctx: FigureContext) -> RenderedFigure:
    from matplotlib import rc_context

    with rc_context(_WIDE_RC):
        return _draw_variance_depth()


def _draw_variance_depth() -> RenderedFigure:
    data = variance_depth_data()
    fig = new_figure(11.0, 6.4)
    axes = fig.subplots(2, len(VARIANCE_ACTIVATIONS), sharex=True, sharey=True)
    layers = np.arange(1, data["depth"] + 1)
    by_key = {(p["scheme"], p["activation"]): p for p in data["profiles"]}
    for col, act in enumerate(VARIANCE_ACTIVATIONS):
        for row, (kind, ylabel) in enumerate((("forward", "E[z_l²] (pre-activation)"),
                                              ("backward", "E[δ_l²] / E[δ_L²] (gradient)"))):
            ax = axes[row, col]
            for (scheme, label), color in zip(VARIANCE_SCHEMES, _COLORS):
                p = by_key[(scheme, act)]
                meas, pred, band = p[f"{kind}_measured"], p[f"{kind}_predicted"], p[f"{kind}_band"]
                with np.errstate(over="ignore", under="ignore"):
                    ax.fill_between(layers, pred * np.exp(-band), pred * np.exp(band), color=color, alpha=0.15,
                                    linewidth=0)
                ax.plot(layers, pred, color=color, linestyle="--", linewidth=1.0)
                ax.plot(layers, meas, color=color, linestyle="-", linewidth=1.4, marker="o", markersize=1.8,
                        label=label)
            ax.set_yscale("log")
            ax.set_ylim(*_YLIM)
            ax.grid(True, which="major", alpha=0.3)
            if row == 0:
                ax.set_title(f"activation: {act}")
            else:
                ax.set_xlabel("layer l")
            if col == 0:
                ax.set_ylabel(ylabel)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    from matplotlib.lines import Line2D

    handles += [Line2D([], [], color="black", linestyle="-", marker="o", markersize=2),
                Line2D([], [], color="black", linestyle="--")]
    labels += ["measured (width 256, batch 64)", "mean field; shaded: derived band"]
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, fontsize=11)
    fig.subplots_adjust(left=0.085, right=0.99, top=0.95, bottom=0.25, wspace=0.08, hspace=0.14)
    ends = []
    for p in data["profiles"]:
        f = p["forward_measured"]
        ends.append(f"{p['scheme']}/{p['activation']} {f[-1] / f[0]:.2g}")
    note = ("q₅₀/q₁ per scheme/activation (curves may leave the plotted range 1e-15..1e15): " + ", ".join(ends)
            + ". Every measured curve lies within its band: "
            + ("yes" if all(p["passed"] for p in data["profiles"]) else "NO (see the JSON data)") + ".")
    return RenderedFigure(png_bytes(fig), r4(data), note)


# ------------------------------------------------------------------------------------ symmetry defect

#: Command that (re)measures the floating-point symmetry study and stores the rows the figure reads.
FP_STUDY_COMMAND = ("python -m invariants.studies.fp_symmetry --quick --backends exact,blas,torch "
                    "--json docs/data/fp_symmetry.json")


def symmetry_defect_data(study: dict[str, Any] | None) -> dict[str, Any] | None:
    """Curves for the figure from the stored floating-point study (``None`` when there is none).

    ``study`` is what ``python -m invariants.studies.fp_symmetry --json PATH`` writes:
    ``{"environment": {...}, "rows": [{"backend", "start", "dtype", "optimizer", "width",
    "defects": {step: defect}, "first_untied", "accuracy", ...}]}``.  ``start`` is ``tied`` (the
    constant init) or ``nudged`` (one weight moved by one ulp).  Timings are dropped.
    """
    if not study or not study.get("rows"):
        return None
    curves = []
    for row in study["rows"]:
        defects = {int(k): float(v) for k, v in row["defects"].items()}
        steps = sorted(defects)
        curves.append({"backend": row["backend"], "start": row.get("start", "tied"), "dtype": row["dtype"],
                       "optimizer": row["optimizer"], "width": int(row["width"]), "steps": steps,
                       "defect": [defects[k] for k in steps], "first_untied": row.get("first_untied"),
                       "accuracy": row.get("accuracy")})
    if not curves:
        return None
    curves.sort(key=lambda c: (c["optimizer"], c["dtype"], c["start"] != "tied", c["backend"], c["width"]))
    env = study.get("environment") or {}
    return {"environment": {k: env[k] for k in sorted(env) if k in ("machine", "numpy", "blas", "torch", "cuda")},
            "curves": curves}


def _measured_on(data: dict[str, Any]) -> str:
    env = data.get("environment") or {}
    parts = [env.get("machine", "")]
    if env.get("numpy"):
        parts.append(f"numpy {env['numpy']}")
    for lib in env.get("blas") or []:
        parts.append(f"{lib.get('internal_api', 'BLAS')} {lib.get('version', '')} ({lib.get('architecture', '?')})")
    if env.get("torch"):
        parts.append(f"torch {env['torch']}")
    return "Measured on: " + ", ".join(p for p in dict.fromkeys(parts) if p) + "."


_BACKEND_CMAPS = {"exact": "Greys", "blas": "Reds", "torch": "Blues"}


def _build_symmetry_defect(ctx: FigureContext) -> RenderedFigure | None:
    from matplotlib import colormaps

    data = symmetry_defect_data(ctx.fp_study)
    if data is None:
        return None
    curves = data["curves"]
    optimizers = sorted({c["optimizer"] for c in curves}, key=lambda o: (o != "sgd", o))
    dtypes = sorted({c["dtype"] for c in curves})
    positive = [d for c in curves for d in c["defect"] if d > 0]
    floor = 10.0 ** math.floor(math.log10(min(positive) / 10)) if positive else 1e-20
    top = 10.0 ** math.ceil(math.log10(max(positive) * 3)) if positive else 1.0
    # sized for the page: about 800 px wide, so the site shows it near its natural size and 9 pt text stays
    # legible; the legend goes under the panels in two columns instead of a narrow strip at the side
    n_labels = len({(c["backend"], c["width"], c["start"] == "tied") for c in curves})
    legend_rows = (n_labels + 1) // 2
    fig = new_figure(3.7 * len(optimizers) + 0.6, 2.7 * len(dtypes) + 0.45 + 0.2 * legend_rows)
    axes = fig.subplots(len(dtypes), len(optimizers), sharex=True, sharey=True, squeeze=False)
    color = {}
    for backend in sorted({c["backend"] for c in curves}):
        widths = sorted({c["width"] for c in curves if c["backend"] == backend})
        cmap = colormaps[_BACKEND_CMAPS.get(backend, "Purples")]
        for i, w in enumerate(widths):
            color[(backend, w)] = cmap(0.55 + 0.4 * i / max(1, len(widths) - 1))
    handles: dict[str, Any] = {}
    for i, dt in enumerate(dtypes):
        for j, opt in enumerate(optimizers):
            ax = axes[i, j]
            for c in (c for c in curves if c["dtype"] == dt and c["optimizer"] == opt):
                y = np.maximum(np.asarray(c["defect"], dtype=float), floor)  # exact zeros drawn at the floor
                tied = c["start"] == "tied"
                label = f"{c['backend']}, width {c['width']}, " + ("tied start" if tied else "nudged 1 ulp")
                (line,) = ax.plot(c["steps"], y, color=color[(c["backend"], c["width"])],
                                  linestyle="-" if tied else ":", linewidth=1.6 if tied else 1.2, marker="o",
                                  markersize=2.5)
                handles.setdefault(label, line)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_ylim(floor / 3, top)
            ax.grid(True, alpha=0.3)
            ax.set_title(f"{opt}, {dt}")
            if i == len(dtypes) - 1:
                ax.set_xlabel("training step")
            if j == 0:
                # tied runs that stay exactly tied all lie on this floor line (the label says so, not a
                # note inside the axes, where it would cover the nudged runs)
                ax.set_ylabel(f"symmetry defect\n(exactly 0: drawn at {floor:.0e})")
    order = sorted(handles, key=lambda lab: ("nudged" in lab, lab))
    fig.legend([handles[k] for k in order], order, loc="lower center", ncol=2, fontsize=9, frameon=False,
               handlelength=3.0)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.11, right=0.98, top=1 - 0.3 / height, bottom=(0.55 + 0.2 * legend_rows) / height,
                        wspace=0.08, hspace=0.3)
    split = [c for c in curves if c["start"] == "tied" and c["first_untied"] is not None]
    note = ("From the tied start, " + (
        "; ".join(f"{c['backend']} {c['dtype']} {c['optimizer']} width {c['width']} split after step "
                  f"{c['first_untied']} (defect {c['defect'][-1]:.2g} at step {c['steps'][-1]})" for c in split)
        if split else "no run split") + "; every other tied run kept a defect of exactly 0. " + _measured_on(data))
    return RenderedFigure(png_bytes(fig), r4(data), note)


# ------------------------------------------------------------------------------------ XOR boundaries

XOR_PANELS: tuple[tuple[str, str, str], ...] = (
    ("constant", "tanh", "constant init 0.5, tanh"),
    ("random", "tanh", "random init N(0, 1), tanh"),
    ("constant", "sin", "constant init 0.5, sin"),
)


def xor_data() -> dict[str, Any]:
    """The XOR runs of the symmetry claims' evidence (2-4-1, MSE, Adam lr 0.05, 300 full-batch steps)."""
    from invariants.experiments.xor import xor_run
    from invariants.symmetry import hidden_tied

    runs = []
    for init, act, label in XOR_PANELS:
        arch, result, acc = xor_run(init, act)
        runs.append({"init": init, "activation": act, "label": label, "accuracy": acc,
                     "loss_initial": result.losses[0], "loss_final": result.losses[-1],
                     "tied": bool(hidden_tied(arch, result.params)),
                     "params": {k: v for k, v in result.params.items()}})
    return {"steps": 300, "runs": runs}


def _build_xor(ctx: FigureContext) -> RenderedFigure:
    from matplotlib import rc_context

    with rc_context(_WIDE_RC):
        return _draw_xor()


def _draw_xor() -> RenderedFigure:
    from invariants.experiments.xor import XOR_T, XOR_X, xor_run
    from invariants.reference import predict

    data = xor_data()
    fig = new_figure(10.5, 4.4)
    axes = fig.subplots(1, len(XOR_PANELS))
    fig.subplots_adjust(left=0.07, right=0.86, top=0.78, bottom=0.12, wspace=0.3)
    grid = np.linspace(-0.5, 1.5, 161)
    gx, gy = np.meshgrid(grid, grid)
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    for ax, run, (init, act, _) in zip(axes, data["runs"], XOR_PANELS):
        arch, result, _ = xor_run(init, act)
        out = predict(arch, result.params, pts)[:, 0].reshape(gx.shape)
        cs = ax.contourf(gx, gy, out, levels=np.linspace(-0.5, 1.5, 21), cmap="RdBu_r", extend="both")
        ax.contour(gx, gy, out, levels=[0.5], colors="black", linewidths=1.5)
        for cls, marker in ((0, "o"), (1, "s")):
            sel = XOR_T[:, 0] == cls
            ax.scatter(XOR_X[sel, 0], XOR_X[sel, 1], marker=marker, s=60, c="white", edgecolors="black",
                       linewidths=1.2, label=f"target {cls}", zorder=3)
        tied = "units tied" if run["tied"] else "units distinct"
        ax.set_title(f"{run['label']}\nfinal loss {run['loss_final']:.3g}\naccuracy {run['accuracy']:.0%}, {tied}")
        ax.set_aspect("equal")
        # ticks at the XOR inputs only: the panels' edge labels (1.5 | -0.5) would run into each other
        ax.set_xticks([0.0, 0.5, 1.0])
        ax.set_yticks([0.0, 0.5, 1.0])
        ax.set_xlabel("x₁")
    axes[0].set_ylabel("x₂")
    axes[0].legend(loc="upper center", fontsize=10, framealpha=0.9)
    cax = fig.add_axes((0.89, 0.15, 0.015, 0.62))
    fig.colorbar(cs, cax=cax, label="network output (boundary: 0.5)")
    return RenderedFigure(png_bytes(fig), r4(data))


# ------------------------------------------------------------------------------------ power curve

POWER_NS = np.unique(np.round(np.logspace(2, 8, 25)).astype(int))
POWER = 0.99


def power_data(audits: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Smallest detectable relative variance error vs ``n`` at the library's α = 1e-6 and power 0.99.

    Curves: the exact χ² test (normal laws, both directions, worst of up/down), the moment test for a
    uniform (kurtosis 1.8) and a ±2σ truncated normal, and the extreme-value tests for a uniform.
    Points: each audited tensor's ``(n, min_detectable_rel_error)`` from the stored audit data.
    """
    from invariants.stats.variance import DEFAULT_ALPHA

    curves, n_for_1pct, kurt_tn = power_curves()
    points = []
    for fw, payload in sorted((audits or {}).items()):
        for res in payload.get("results", []):
            n, mde = res.get("observed", {}).get("n"), res.get("min_detectable_rel_error")
            if n and mde and n >= 2 and 0 < mde < 1:
                points.append({"framework": fw, "n": int(n), "mde": float(mde), "verdict": res.get("verdict")})
    return {"alpha": DEFAULT_ALPHA, "power": POWER, "n": POWER_NS.tolist(),
            "curves": {k: list(v) for k, v in curves.items()}, "n_for_1pct_chi2": n_for_1pct,
            "kurtosis_truncated_normal": kurt_tn, "audited": points}


@functools.lru_cache(maxsize=1)
def power_curves() -> tuple[dict[str, tuple[float, ...]], int, float]:
    """The curves of :func:`power_data` (they depend on the library's constants only, so they are computed once
    per process: about a second of saddlepoint root-finding), the χ² test's ``n`` for a 1% error and the
    truncated normal's kurtosis: ``(curves, n_for_1pct_chi2, kurtosis_truncated_normal)``."""
    from scipy import stats

    from invariants.stats.extremes import bounded_scale_min_detectable_rel_error
    from invariants.stats.moments import moment_min_detectable_rel_error
    from invariants.stats.variance import DEFAULT_ALPHA, chi2_min_detectable_rel_error, chi2_sample_size

    alpha = DEFAULT_ALPHA
    kurt_tn = float(stats.truncnorm(-2, 2).stats(moments="k")) + 3.0
    uniform = stats.uniform(loc=-1.0, scale=2.0)
    curves: dict[str, list[float]] = {"chi2_normal": [], "moment_uniform": [], "moment_truncated_normal": [],
                                      "extremes_uniform": []}
    for n in POWER_NS:
        n = int(n)
        curves["chi2_normal"].append(max(chi2_min_detectable_rel_error(n, alpha, POWER)))
        curves["moment_uniform"].append(max(moment_min_detectable_rel_error(n, 1.8, alpha, POWER)))
        curves["moment_truncated_normal"].append(max(moment_min_detectable_rel_error(n, kurt_tn, alpha, POWER)))
        curves["extremes_uniform"].append(max(bounded_scale_min_detectable_rel_error(n, uniform, -1.0, 1.0, alpha,
                                                                                      POWER)))
    return {k: tuple(v) for k, v in curves.items()}, chi2_sample_size(0.01, alpha, POWER), kurt_tn


def power_axis_floor(curves: dict[str, list[float | None]]) -> float:
    """Lower end of the power figure's y axis: the decade below the smallest value any test's curve
    reaches.  An audited tensor detected far more finely than every curve (e.g. a constant law checked
    exactly, 1e-12) would otherwise stretch the axis over a dozen empty decades."""
    values = [v for c in curves.values() for v in c if v is not None and 0 < v <= 1]
    return 10.0 ** math.floor(math.log10(min(values))) if values else 1e-6


def _build_power(ctx: FigureContext) -> RenderedFigure:
    data = power_data(ctx.audits)
    fig = new_figure(7.0, 5.6)
    ax = fig.subplots()
    n = np.asarray(data["n"], dtype=float)
    styles = (("chi2_normal", "exact χ² test, normal law (the χ² bound)", _COLORS[0], "-"),
              ("moment_truncated_normal", "moment test, truncated normal (±2σ)", _COLORS[2], "--"),
              ("moment_uniform", "moment test, uniform", _COLORS[3], "--"),
              ("extremes_uniform", "extreme-value tests, uniform", _COLORS[1], ":"))
    for key, label, color, ls in styles:
        y = np.asarray([np.inf if v is None else v for v in data["curves"][key]], dtype=float)
        ax.plot(n, np.where(np.isfinite(y) & (y <= 1.0), y, np.nan), color=color, linestyle=ls, linewidth=1.6,
                label=label)
    floor = power_axis_floor(data["curves"])
    ax.axhline(0.01, color="grey", linewidth=0.8)
    ax.axvline(data["n_for_1pct_chi2"], color=_COLORS[0], linewidth=0.6, alpha=0.6)
    ax.annotate(f"1% at n = {data['n_for_1pct_chi2']:,}", (data["n_for_1pct_chi2"], 0.01), xytext=(6, 10),
                textcoords="offset points", fontsize=8)
    # one marker per framework ("v" is kept for tensors below the axis)
    markers = ("o", "s", "^", "D", "P", "X", "*", "<", ">")
    below = []
    for i, fw in enumerate(sorted({p["framework"] for p in data["audited"]})):
        pts = [p for p in data["audited"] if p["framework"] == fw]
        shown = [p for p in pts if p["mde"] >= floor]
        below += [p for p in pts if p["mde"] < floor]
        ax.scatter([p["n"] for p in shown], [p["mde"] for p in shown], marker=markers[i % len(markers)], s=20,
                   facecolors="none", edgecolors="black", linewidths=0.8, label=f"audited tensors: {fw}", zorder=3)
    # tensors below the axis: drawn on its lower edge as a down arrow, their values written next to them
    for k, p in enumerate(sorted(below, key=lambda p: (p["n"], p["mde"]))):
        ax.scatter([p["n"]], [floor * 1.25], marker="v", s=30, color="black", zorder=4, clip_on=False)
        ax.annotate(f"{p['framework']}: {p['mde']:.1e} at n = {p['n']:,} (below the axis)",
                    (p["n"], floor * 1.25), xytext=(-6, -3 + 11 * k), textcoords="offset points", fontsize=8,
                    ha="right", va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(floor, 1.5)
    ax.set_xlabel("sample size n (pooled weight values)")
    ax.set_ylabel("smallest detectable relative variance error")
    ax.set_title(f"detected with probability {data['power']:g} at α = {data['alpha']:g} per check")
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)
    # the legend goes under the axes, where it cannot cover a curve or a point
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.11, right=0.97, top=0.94, bottom=0.33)
    note = (f"At α = {data['alpha']:g} and power {data['power']:g}, the exact χ² test needs "
            f"n = {data['n_for_1pct_chi2']:,} normal values to detect a 1% variance error.")
    if below:
        note += (f" {len(below)} audited tensor(s) detect errors below {floor:.0e}, beyond every curve plotted "
                 "(see their audit pages for the checks behind them); they are drawn on the lower edge of the axis "
                 "with their values.")
    return RenderedFigure(png_bytes(fig), r4(data), note)


# ------------------------------------------------------------------------------------ registry

FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "variance_depth", "Signal and gradient second moments through 50 layers, per scheme × activation",
        "Top row: pre-activation second moment E[z_l²] at each layer l of one random reference network "
        "(width 256, depth 50, 64 inputs with ‖x‖² = 256, zero biases, float64; the fixed network of VAR-PROP-01's "
        "experiment); bottom row: the "
        "back-propagated gradient's second moment E[δ_l²], normalized to 1 at the top layer. Solid: measured; "
        "dashed: mean-field prediction (Poole et al. 2016; Schoenholz et al. 2017); shaded: the derived "
        "sampling band (false-alarm rate 1e-6 per network). Glorot equals LeCun at equal widths. Flat curves "
        "keep the signal; curves leaving the plot vanish or explode geometrically.",
        ("VAR-PROP-01", "VAR-GLOROT-01", "VAR-HE-01", "VAR-TORCHDEFAULT-01", "INIT-SMALL-01", "VAR-GAINS-01"),
        _build_variance_depth),
    FigureSpec(
        "symmetry_defect", "Symmetry defect vs training steps: exact kernel vs BLAS, SGD vs Adam, float32/float64",
        "Symmetry defect (largest difference between the incoming rows, biases and outgoing columns of hidden "
        "units that started tied) while training a constant-initialized network (weights 0.1, biases 0, tanh, "
        "softmax cross-entropy) on a XOR task with 100 inputs, for the reference network's exact "
        "(multiset-determined) kernel, its BLAS kernel (numpy.matmul) and PyTorch where measured. Solid: the tied "
        "constant start; dotted: the same start with one weight moved by one ulp, showing what training does "
        "with a single rounding difference (Adam amplifies it to O(1), SGD barely moves it). With the exact "
        "kernel a tied start stays at defect 0 exactly (SYM-CONST-01); with BLAS, rounding alone can split "
        "tied units. BLAS and PyTorch results are measurements of one machine's implementation (recorded in the "
        "figure's data), not properties of the mathematics.",
        ("SYM-CONST-01", "SYM-FP-01", "SYM-SIGNAL-01"),
        _build_symmetry_defect,
        pending="no stored measurements of the floating-point symmetry study (docs/data/fp_symmetry.json)",
        refresh=FP_STUDY_COMMAND),
    FigureSpec(
        "xor_boundaries", "XOR decision boundaries: constant vs random initialization",
        "Output of 2-4-1 networks trained on XOR (MSE, Adam lr 0.05, 300 full-batch steps; the runs of "
        "the symmetry claims' evidence) over the input square; black line: the 0.5 decision boundary; markers: "
        "the four XOR points. A constant init keeps the 4 hidden units tied, so a tanh network acts as one unit "
        "and its boundary is a line (it cannot solve XOR); a random init solves it; a tied sin network is "
        "non-monotone in w·x and solves XOR although its units stay tied.",
        ("SYM-POOR-01", "SYM-LINEAR-01", "SYM-NEVER-01", "SYM-CONST-01", "SYM-LEARN-01"),
        _build_xor),
    FigureSpec(
        "power_curve", "The auditor's power: detectable variance error vs sample size",
        "Smallest relative variance error detected with probability 0.99 by each test at a false-alarm rate "
        "of 1e-6 per check, as a function of the number of pooled weight values. The exact χ² test (normal "
        "laws) is the reference bound; for bounded laws (uniform, truncated normal) the extreme-value tests "
        "detect a rescaled law with far fewer values. Open markers: the tensors audited on the audit pages, "
        "at their own sample size and per-check α.",
        ("VAR-GLOROT-01",),
        _build_power),
)


def get_figure(name: str) -> FigureSpec:
    for spec in FIGURES:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown figure {name!r}; known: {', '.join(s.name for s in FIGURES)}")


def deterministic_style():
    """The context every figure is drawn in: matplotlib's default style and :data:`_RC` (a bundled font, no
    hash salt randomness), whatever the user's matplotlibrc says.

    Raises:
        FiguresUnavailable: matplotlib is not installed.
    """
    import contextlib

    matplotlib, _, _ = matplotlib_modules()
    stack = contextlib.ExitStack()
    stack.enter_context(matplotlib.style.context("default"))
    stack.enter_context(matplotlib.rc_context(_RC))
    return stack


def render_all(ctx: FigureContext | None = None, names: Sequence[str] | None = None,
               progress: Callable[[str], None] | None = None) -> dict[str, RenderedFigure | None]:
    """Build the figures (all, or ``names``) under the deterministic style; ``None`` for a pending one.

    Raises:
        FiguresUnavailable: matplotlib is not installed.
    """
    ctx = ctx or FigureContext()
    out: dict[str, RenderedFigure | None] = {}
    specs = FIGURES if names is None else [get_figure(n) for n in names]
    with deterministic_style():
        for spec in specs:
            if progress is not None:
                progress(spec.name)
            out[spec.name] = spec.build(ctx)
    return out
