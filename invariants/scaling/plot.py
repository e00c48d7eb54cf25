"""The coordinate-check figure (matplotlib): one panel per tensor and kind, one line per step, the second
moment (geometric mean over seeds) against the size on log-log axes, like μP's coord-check plots (Yang et al.
2022, "Tensor Programs V", Fig. 5), with each panel titled by its fitted slope and verdict.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from invariants.core.errors import UsageError

MAX_PANELS = 36
#: the least range of a panel's y axis (a factor): finite-width noise on a Θ(1) curve is not drawn as a trend
MIN_RANGE = 16.0


@dataclass(frozen=True)
class Curve:
    """One line of a panel: a tensor's second moment (geometric mean over seeds) against size at one step, with
    its fitted slope (log2 per log2 size, or per layer in depth mode) and verdict; ``quantity``: what the row
    measures where its name and kind do not say it (the ``grad`` row's, :data:`invariants.scaling.depth.GRAD_QUANTITY`),
    the panel's title then; else ``None``."""

    name: str
    kind: str
    step: int
    sizes: tuple[int, ...]
    moments: tuple[float, ...]
    slope: float
    verdict: str
    quantity: str | None = None


def curves(report: Any) -> list[Curve]:
    """The curves of a :class:`~invariants.scaling.report.ScaleReport` (its rows but the ``gain`` ones)."""
    return [Curve(r.name, r.kind, r.step, tuple(r.sizes), tuple(r.moments), r.fit.slope, r.fit.verdict,
                  getattr(r, "quantity", None)) for r in report.rows if r.kind != "gain"]


def curves_from_json(rows: list[dict[str, Any]]) -> list[Curve]:
    """The curves of a stored report's ``rows`` (the ``scale-check --json`` contract; ``gain`` rows left out)."""
    return [Curve(r["name"], r["kind"], int(r["step"]), tuple(r["sizes"]), tuple(r["second_moments"]),
                  float(r["slope"]), r["verdict"], r.get("quantity")) for r in rows if r["kind"] != "gain"]


def panel_grid(n_panels: int) -> tuple[int, int]:
    """``(rows, columns)`` of the figure for ``n_panels`` panels (at most 4 columns)."""
    cols = min(4, max(1, n_panels))
    return max(1, math.ceil(n_panels / cols)), cols


def tick_label_width(scale: str, lo: float, hi: float) -> float:
    """Width in ems of the widest tick label on an axis spanning ``lo``..``hi``: ``2ⁿ`` on a ``"log"`` (base 2)
    axis (mathtext: a digit and the exponent at 70%), the end values' digits on a linear one.  DejaVu Sans
    digits are 0.64 em, its minus sign 0.84 em."""
    if scale != "log":
        return max(0.64 * len(f"{abs(v):g}") + (0.84 if v < 0 else 0.0) for v in (lo, hi))
    exps = [math.floor(math.log2(lo)), math.ceil(math.log2(hi))] if 0 < lo <= hi < math.inf else [-16, 16]
    return 0.64 + max(0.7 * (0.64 * len(str(abs(e))) + (0.84 if e < 0 else 0.0)) for e in exps)


def grid_layout(fig: Any, axes: Any, xlabel: str, ylabel: str, *, title: float, ticks: float, label: float) -> None:
    """Place the grid ``axes`` (a 2-d array of panels of ``fig``; log axes in base 2) with margins and gaps
    computed from the font sizes (points) of the panels' ``title``, their ``ticks`` labels and the figure's axis
    labels ``xlabel`` and ``ylabel`` (drawn here, at the figure's bottom and left edges, at size ``label``), then
    fix the panels' ticks (:func:`fix_ticks`: they depend on the panels' final size).

    A fixed layout instead of ``tight_layout``: that one measures every tick label of every panel, about 70% of
    the time to draw a 32-panel coord-check figure.  The room is what the widest tick label needs, found from the
    panels' limits (:func:`tick_label_width`): beside each panel its y labels, below it one line of x labels, a
    title above.  Sizes in points (1/72 inch); tick lengths and pads from the current rcParams.
    """
    import matplotlib

    rc = matplotlib.rcParams
    shown = [ax for ax in axes.flat if ax.axison]
    nrows, cols = axes.shape
    width, height = fig.get_size_inches() * 72.0
    edge = 4.0
    y_em = max((tick_label_width(ax.get_yscale(), *sorted(ax.get_ylim())) for ax in shown), default=2.0)
    x_em = max((tick_label_width(ax.get_xscale(), *sorted(ax.get_xlim())) for ax in shown), default=1.0)
    beside = rc["ytick.major.size"] + rc["ytick.major.pad"] + (y_em + 0.1) * ticks
    below = rc["xtick.major.size"] + rc["xtick.major.pad"] + 1.5 * ticks  # a digit with its raised exponent
    above = 1.25 * title + rc["axes.titlepad"]
    sup = 1.3 * label
    overhang = x_em / 2 * ticks  # half of the last x tick label, past the panel's right edge
    left, right = edge + sup + beside, edge + overhang
    bottom, top = edge + sup + below, edge + above
    gap_w, gap_h = beside + overhang + 2.0, below + above + 2.0
    panel_w = (width - left - right - (cols - 1) * gap_w) / cols
    panel_h = (height - top - bottom - (nrows - 1) * gap_h) / nrows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=gap_w / panel_w, hspace=gap_h / panel_h)
    fig.supxlabel(xlabel, y=edge / height, fontsize=label)
    fig.supylabel(ylabel, x=edge / width, fontsize=label)
    for ax in shown:
        fix_ticks(ax)


def fix_ticks(ax: Any) -> None:
    """Give each base-2 log axis of ``ax`` (and each linear one: depth mode's depth axis) the major ticks its
    locator picks inside the final view and no minor locator: the same ticks are drawn (matplotlib's minor log
    locator gives none below base 3, a linear axis has none), but no tick object is built for the tick the
    locator adds beyond each end, and no locator runs again at every draw.  Call once the limits and the axes'
    size are final (the number of ticks depends on both)."""
    from matplotlib.ticker import FixedLocator, NullLocator

    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        scale = axis.get_scale()
        if scale not in ("linear", "log") or (scale == "log" and axis.get_transform().base != 2):
            continue
        lo, hi = sorted(limits)
        # a tick on the view's edge counts as inside, as matplotlib's own (closeness) test has it
        if scale == "linear":
            lo, hi = lo - 1e-10 * (hi - lo), hi + 1e-10 * (hi - lo)
        else:
            lo, hi = lo * (1 - 1e-10), hi * (1 + 1e-10)
        axis.set_major_locator(FixedLocator([v for v in axis.get_major_locator()() if lo <= v <= hi]))
        axis.set_minor_locator(NullLocator())


#: what each recorded kind (:mod:`invariants.frameworks.runner`) measures, in words, for a panel's title
KIND_WORDS = {"preact": "pre-activation", "layer-input": "input", "act": "activation", "norm": "normalized output",
              "other": "output", "output": "output", "update": "weight update ΔW·x", "output-change": "output change",
              "grad": "gradient"}


def panel_title(lines: list[Curve], words: bool = False) -> str:
    """A panel's title: the quantity its curves measure where the row names one (depth mode's ``grad`` row:
    "first layer's pre-activation gradient", whose name, the first layer's index, said "0 grad"), else the
    tensor's name and kind (``"fc1 output"``; ``"output"`` for the row named ``output``); with ``words``, the kind in words and the layer it belongs to
    (``"pre-activation of layer 0"``, ``"model output"`` for the row named ``output``, :data:`KIND_WORDS`)."""
    quantity = next((c.quantity for c in lines if c.quantity), None)
    if quantity:
        return quantity
    name, kind = lines[0].name, lines[0].kind
    if not words:
        return name if name == kind else f"{name} {kind}"  # the model output: "output", not "output output"
    what = KIND_WORDS.get(kind, kind)
    if name == kind == "output":
        return "model output"
    return f"{what} of {'layer ' if name.isdigit() else ''}{name}"


def figure_title(report: Any) -> str:
    """The figure's title (``scale-check --plot``): the target, the mode and sizes, the expectation, the seeds
    and the steps: ``mlp_mup: widths 64-512, expect theta1, 8 seeds, steps 0, 1``."""
    c = report.config
    sizes = sorted(c.get("sizes") or [])
    span = f"{sizes[0]}-{sizes[-1]}" if len(sizes) > 1 else ",".join(map(str, sizes))
    steps = ", ".join(str(s) for s in c.get("steps") or [0])
    return (f"{report.target.rsplit(':', 1)[-1]}: {report.mode}s {span}, expect {c.get('expect')}, "
            f"{c.get('seeds')} seeds, step{'s' if len(c.get('steps') or [0]) > 1 else ''} {steps}")


def draw(fig: Any, lines: list[Curve], mode: str, font: float = 1.0, words: bool = False) -> int:
    """Draw the panels (one per tensor and kind, in the order of ``lines``; at most :data:`MAX_PANELS`) on the
    empty matplotlib figure ``fig``; ``font`` scales the text.  Axes: the second moment on a base-2 log scale
    against the size, on a base-2 log scale in ``mode`` ``"width"`` and a linear one in ``"depth"`` (whose
    slopes are per layer).  ``words``: panel titles in words (:func:`panel_title`) and, in depth mode, a
    y label naming both quantities (the output's second moment and the gradient's); the docs' stored figures
    keep the default.  Returns the number of panels drawn."""
    panels: dict[tuple[str, str], list[Curve]] = {}
    for c in lines:
        panels.setdefault((c.name, c.kind), []).append(c)
    keys = list(panels)[:MAX_PANELS]
    nrows, cols = panel_grid(len(keys))
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for c in panels[key]:
            ax.plot(c.sizes, c.moments, marker="o", ms=3, label=f"t={c.step}: {c.slope:+.2f} {c.verdict}")
        # width mode fits log2 E x² against log2 width; depth mode against depth itself (slopes per layer), so a
        # constant rate per layer is drawn as a straight line there
        if mode != "depth":
            ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        values = [v for c in panels[key] for v in c.moments if v > 0]
        if values and max(values) / min(values) < MIN_RANGE:  # a flat curve is drawn flat, not stretched
            mid = math.sqrt(max(values) * min(values))
            ax.set_ylim(mid / math.sqrt(MIN_RANGE), mid * math.sqrt(MIN_RANGE))
        # y given: the automatic title position measures the x tick labels to clear labels above the axes,
        # which these panels never have
        ax.set_title(panel_title(panels[key], words), fontsize=8 * font, y=1.0)
        ax.tick_params(labelsize=6 * font)
        ax.legend(fontsize=5 * font)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    ylabel = "mean x² (geometric mean over seeds)"
    if words and any(k[1] == "grad" for k in keys):  # depth mode's gradient panel is a gradient's second moment
        ylabel = "mean x² (g² for the gradient)"
    grid_layout(fig, axes, mode, ylabel, title=8 * font, ticks=6 * font, label=8 * font)
    return len(keys)


def write_plot(report: Any, path: str) -> str:
    """Draw the report's rows into ``path`` (PNG, SVG or PDF by extension); returns ``path``.

    At most :data:`MAX_PANELS` panels (the first ones in module order); the ``gain`` rows are left out (they are
    ratios, not tensors).

    Raises:
        UsageError: matplotlib is not installed, or the file cannot be written.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UsageError(f"--plot: matplotlib is not installed ({exc}); pip install matplotlib") from None
    lines = curves(report)
    nrows, cols = panel_grid(min(MAX_PANELS, len({(c.name, c.kind) for c in lines})))
    fig = plt.figure(figsize=(3.2 * cols, 2.6 * nrows + 0.3))
    draw(fig, lines, report.mode, words=True)
    fig.suptitle(figure_title(report), fontsize=9)
    fig.subplots_adjust(top=fig.subplotpars.top - 0.3 / fig.get_figheight())
    try:
        fig.savefig(path, dpi=110)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--plot: cannot write {path!r}: {exc}") from None
    finally:
        plt.close(fig)
    return path


__all__ = ["Curve", "MAX_PANELS", "MIN_RANGE", "curves", "curves_from_json", "draw", "fix_ticks", "grid_layout",
           "KIND_WORDS", "figure_title", "panel_grid", "panel_title", "tick_label_width", "write_plot"]
