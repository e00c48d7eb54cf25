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
    its fitted slope (log2 per log2) and verdict."""

    name: str
    kind: str
    step: int
    sizes: tuple[int, ...]
    moments: tuple[float, ...]
    slope: float
    verdict: str


def curves(report: Any) -> list[Curve]:
    """The curves of a :class:`~invariants.scaling.report.ScaleReport` (its rows but the ``gain`` ones)."""
    return [Curve(r.name, r.kind, r.step, tuple(r.sizes), tuple(r.moments), r.fit.slope, r.fit.verdict)
            for r in report.rows if r.kind != "gain"]


def curves_from_json(rows: list[dict[str, Any]]) -> list[Curve]:
    """The curves of a stored report's ``rows`` (the ``scale-check --json`` contract; ``gain`` rows left out)."""
    return [Curve(r["name"], r["kind"], int(r["step"]), tuple(r["sizes"]), tuple(r["second_moments"]),
                  float(r["slope"]), r["verdict"]) for r in rows if r["kind"] != "gain"]


def panel_grid(n_panels: int) -> tuple[int, int]:
    """``(rows, columns)`` of the figure for ``n_panels`` panels (at most 4 columns)."""
    cols = min(4, max(1, n_panels))
    return max(1, math.ceil(n_panels / cols)), cols


def draw(fig: Any, lines: list[Curve], mode: str, font: float = 1.0) -> int:
    """Draw the panels (one per tensor and kind, in the order of ``lines``; at most :data:`MAX_PANELS`) on the
    empty matplotlib figure ``fig``; ``font`` scales the text.  Returns the number of panels drawn."""
    panels: dict[tuple[str, str], list[Curve]] = {}
    for c in lines:
        panels.setdefault((c.name, c.kind), []).append(c)
    keys = list(panels)[:MAX_PANELS]
    nrows, cols = panel_grid(len(keys))
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for c in panels[key]:
            ax.loglog(c.sizes, c.moments, marker="o", ms=3, base=2, label=f"t={c.step}: {c.slope:+.2f} {c.verdict}")
        values = [v for c in panels[key] for v in c.moments if v > 0]
        if values and max(values) / min(values) < MIN_RANGE:  # a flat curve is drawn flat, not stretched
            mid = math.sqrt(max(values) * min(values))
            ax.set_ylim(mid / math.sqrt(MIN_RANGE), mid * math.sqrt(MIN_RANGE))
        ax.set_title(f"{key[0]} {key[1]}", fontsize=8 * font)
        ax.tick_params(labelsize=6 * font)
        ax.legend(fontsize=5 * font)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.supxlabel(mode, fontsize=8 * font)
    fig.supylabel("mean x² (geometric mean over seeds)", fontsize=8 * font)
    fig.tight_layout()
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
    fig = plt.figure(figsize=(3.2 * cols, 2.6 * nrows))
    draw(fig, lines, report.mode)
    try:
        fig.savefig(path, dpi=110)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--plot: cannot write {path!r}: {exc}") from None
    finally:
        plt.close(fig)
    return path


__all__ = ["Curve", "MAX_PANELS", "MIN_RANGE", "curves", "curves_from_json", "draw", "panel_grid", "write_plot"]
