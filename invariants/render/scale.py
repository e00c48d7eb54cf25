"""Terminal output of a scale check (:class:`invariants.scaling.report.ScaleReport`): the header, errors and
notes, the slope table (one row per tensor, kind and step), what was not measured, and the verdict line.

Reads the report's attributes only; imports no engine.
"""
from __future__ import annotations

import math
import textwrap
from typing import Any

from invariants.core.results import ERROR, NOTE
from invariants.core.text import render_table

MARK = {True: "ok", False: "MISMATCH"}


def slope_interval(slope: float, lo: float | None, hi: float | None) -> str:
    """``+1.00 [+0.95, +1.05]``: a slope and its interval (an infinite or missing bound as ``-inf``/``+inf``)."""
    low = "-inf" if lo is None or math.isinf(lo) else f"{lo:+.2f}"
    high = "+inf" if hi is None or math.isinf(hi) else f"{hi:+.2f}"
    return f"{slope:+.2f} [{low}, {high}]"


def row_mark(verdict: str, matches: bool, checked: bool) -> str:
    """The last column of a slope row: ``?`` (undecided), ``ok``, ``MISMATCH`` (a checked expectation missed),
    ``limit`` (an unchecked large-width limit differs at these widths)."""
    if verdict == "undecided":
        return "?"
    return MARK[matches] if checked else ("ok" if matches else "limit")


def render_scale_table(rows: Any, width: int | None = None, mode: str = "width") -> str:
    """The slope table: tensor, kind, step, layer position (or the row's ``quantity`` where it has one: the
    ``grad`` row's "first layer's pre-activation gradient"), second-moment slope [interval], RMS slope, verdict,
    expected verdict, and ``ok`` / ``MISMATCH`` (``limit``: an unchecked large-width limit differs; ``?``:
    undecided).  ``mode``: ``"width"`` (slopes in log2 per log2 width) or ``"depth"`` (log2 per layer), for the
    slope column's units."""
    body = []
    for r in rows:
        mark = row_mark(r.fit.verdict, r.matches, r.expectation.checked)
        exp = r.expectation.verdict + (f" ({r.expectation.slope:+g})" if r.expectation.slope is not None else "")
        body.append([r.name, r.kind, str(r.step), r.quantity or r.position or "", slope_interval(r.fit.slope, r.fit.lo, r.fit.hi),
                     f"{r.fit.rms_slope:+.2f}",
                     r.fit.verdict, exp, mark])
    units = "/layer" if mode == "depth" else "/log2"
    # a short header (the banner above the table states the units in words); on a narrow terminal the layer,
    # RMS and expected columns go first (the last column still marks a mismatch), so that the intervals are not
    # cut and the step stays (rows of one tensor differ only by it)
    return render_table(["tensor", "kind", "step", "layer", f"slope log2{units} [interval]", "RMS",
                         "verdict", "expected", ""], body, align="llrllrlll", max_width=width, drop=(3, 5, 7))


def steps_words(config: dict) -> str:
    """``steps [0, 1] (0: at initialization; then adam at lr 0.01)``, ``steps [1, 3] of adam at lr 0.01``, or
    ``steps [0] (at initialization: no optimizer step)`` when no step is taken (the optimizer and its rate play
    no part then).  Step 0 is never said to be taken with the optimizer: it is the initialization."""
    steps = config.get("steps") or [0]
    if not any(steps):
        return f"steps {steps} (at initialization: no optimizer step)"
    how = f"{config.get('optimizer')} at lr {config.get('lr'):g}"
    return f"steps {steps} (0: at initialization; then {how})" if 0 in steps else f"steps {steps} of {how}"


def render_scale(report: Any, width: int | None = None, table: bool = True) -> str:
    """Plain text: header, findings, the slope table (``table``), coverage, the verdict line."""
    w = width or 110
    c = report.config
    out = [textwrap.fill(f"scale-check {report.target}: {report.mode}s {', '.join(map(str, report.coverage.sizes))}"
                         f" x {c.get('seeds')} seeds; {steps_words(c)}; expect {c.get('expect')}", w),
           textwrap.fill(f"slopes of the second moment (RMS: half) against {report.mode}, "
                         f"{'log2 per layer' if report.mode == 'depth' else 'log2 per log2'}; "
                         f"{1 - c.get('alpha', 0):.7g} t-intervals over seeds, α = {c.get('alpha', 0):.2g} per fit "
                         f"x {c.get('n_fits', 0)} fits (Bonferroni, family-wise <= {c.get('total_alpha'):g}); "
                         f"Θ(1) = interval inside ±{c.get('s_min')}", w, subsequent_indent="  ")]
    for sev, title in ((ERROR, "ERRORS"), (NOTE, "NOTES")):
        group = [f for f in report.findings if f.severity == sev]
        if group:
            out += ["", f"{title}: {len(group)}"]
            out += [textwrap.fill(str(f), w, initial_indent="  - ", subsequent_indent="    ") for f in group]
    if table and report.rows:
        detect = sorted(r.fit.detectable for r in report.rows if math.isfinite(r.fit.detectable))
        if detect:
            out += ["", textwrap.fill(f"power: a |slope| of {detect[len(detect) // 2]:.2f} or more is detected as "
                                      f"growing or vanishing with power 0.99 (median over the rows; from "
                                      f"{detect[0]:.2f} to {detect[-1]:.2f})", w, subsequent_indent="  ")]
        out += ["", render_scale_table(report.rows, width, report.mode)]
    out += render_coverage(report.coverage, w)
    if report.depth_scale:
        d = report.depth_scale
        out += ["", textwrap.fill(f"depth scale: {d.get('text', '')}", w, subsequent_indent="  ")]
        if d.get("gradient"):
            out += [textwrap.fill(f"gradient depth scale: {d['gradient'].get('text', '')}", w,
                                  subsequent_indent="  ")]
    if report.plot:
        out += ["", f"plot: {report.plot}"]
    out += ["", f"{report.summary} in {report.seconds:.1f}s"]
    return "\n".join(out)


def render_coverage(cov: Any, width: int) -> list[str]:
    """The lines saying what was not measured: failed sizes, quantities not fitted, modules not hooked."""
    out: list[str] = []
    for title, items in (("sizes that failed", {str(k): v for k, v in cov.failed.items()}),
                         ("not fitted", cov.not_fitted), ("not measured", cov.not_measured)):
        if items:
            out += ["", f"{title}: {len(items)}"]
            out += [textwrap.fill(f"{k}: {v}", width, initial_indent="  - ", subsequent_indent="    ")
                    for k, v in items.items()]
    return out


def render_scale_findings(report: Any) -> str:
    """``scale-check --quiet``: one line per finding and the verdict line."""
    return "\n".join([str(f) for f in report.findings] + [report.summary])


__all__ = ["render_coverage", "render_scale", "render_scale_findings", "render_scale_table", "row_mark",
           "slope_interval"]
