"""The coordinate-check figure (matplotlib): one panel per tensor and kind, one line per step, the second
moment (geometric mean over seeds) against the size on log-log axes, like μP's coord-check plots (Yang et al.
2022, "Tensor Programs V", Fig. 5), with each panel titled by its fitted slope and verdict.
"""
from __future__ import annotations

import math
from typing import Any

from invariants.core.errors import UsageError

MAX_PANELS = 36
#: the least range of a panel's y axis (a factor): finite-width noise on a Θ(1) curve is not drawn as a trend
MIN_RANGE = 16.0


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
    panels: dict[tuple[str, str], list[Any]] = {}
    for r in report.rows:
        if r.kind != "gain":
            panels.setdefault((r.name, r.kind), []).append(r)
    keys = list(panels)[:MAX_PANELS]
    cols = min(4, max(1, len(keys)))
    nrows = max(1, math.ceil(len(keys) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for r in panels[key]:
            ax.loglog(r.sizes, r.moments, marker="o", ms=3, base=2,
                      label=f"t={r.step}: {r.fit.slope:+.2f} {r.fit.verdict}")
        values = [v for r in panels[key] for v in r.moments if v > 0]
        if values and max(values) / min(values) < MIN_RANGE:  # a flat curve is drawn flat, not stretched
            mid = math.sqrt(max(values) * min(values))
            ax.set_ylim(mid / math.sqrt(MIN_RANGE), mid * math.sqrt(MIN_RANGE))
        ax.set_title(f"{key[0]} {key[1]}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=5)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.supxlabel(report.mode, fontsize=8)
    fig.supylabel("mean x² (geometric mean over seeds)", fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--plot: cannot write {path!r}: {exc}") from None
    finally:
        plt.close(fig)
    return path


__all__ = ["MAX_PANELS", "MIN_RANGE", "write_plot"]
