"""Terminal output of a model check (:class:`invariants.modelcheck.report.ModelReport`): the header,
errors and notes, the per-tensor variance table, the signal profile, what was not analysed and the
verdict line (status, counts, the analysed share of tensors and values, whether signal propagation was
checked).

Reads the report's attributes only; imports no engine.
"""
from __future__ import annotations

import math
import textwrap
from typing import Any

from invariants.core.results import ERROR, NOTE
from invariants.core.text import render_table


def render_model(report: Any, width: int | None = None, table: bool = True) -> str:
    """Plain text: header, errors, notes, the tensor table (``table``), the signal profile, the verdict.

    ``width``: fit every line in this many characters (a terminal's width: the tensor table drops columns
    by priority and wraps ``matches``; text wraps); ``None``: the full table, text wrapped at 110.
    """
    fit, width = width, width or 110
    out = [textwrap.fill(f"model {report.model} ({report.framework}): {report.n_params} parameter tensors, "
                         f"{report.n_values:,} values{_read_as(getattr(report, 'dtypes', None))}; profile "
                         f"{report.profile}", width),
           textwrap.fill(f"probe: {report.probe}", width, subsequent_indent="  ")]
    for sev, title in ((ERROR, "ERRORS (break training, or wiring faults no scheme makes on purpose)"),
                       (NOTE, "NOTES (unusual but harmless, or known good practice)")):
        group = [f for f in report.findings if f.severity == sev]
        if not group:
            continue
        out.append("")
        out.append(textwrap.fill(f"{title}: {len(group)}", width, subsequent_indent="  ") if fit
                   else f"{title}: {len(group)}")
        for f in group:
            out.append(textwrap.fill(str(f), width, initial_indent="  - ", subsequent_indent="    "))
    if table and report.tensors:
        out.append("")
        out.append(render_tensors(report.tensors, fit))
    if report.signal:
        out.append("")
        out.append(render_signal(report.signal, fit))
    cov = getattr(report, "coverage", None)
    if cov is not None and (cov.not_analysed or cov.tied or getattr(cov, "expected", None) or (table and cov.partial)):
        out.append("")
        out.append(render_coverage(cov, width, partial=table))
    out.append("")
    out.append(textwrap.fill(f"{_verdict(report)} in {report.seconds:.1f}s", width, subsequent_indent="  ")
               if fit else f"{_verdict(report)} in {report.seconds:.1f}s")
    return "\n".join(out)


def _read_as(dtypes: dict[str, int] | None) -> str:
    """``" read as bfloat16"``, ``" read as float32 (10 tensors), bfloat16 (2)"``: the dtypes the checks read
    the parameters in (:attr:`~invariants.modelcheck.report.ModelReport.dtypes`); ``""`` when unknown."""
    if not dtypes:
        return ""
    if len(dtypes) == 1:
        return f" read as {next(iter(dtypes))}"
    parts = [f"{name} ({n}{' tensors' if i == 0 else ''})" for i, (name, n) in enumerate(dtypes.items())]
    return " read as " + ", ".join(parts)


def render_model_findings(report: Any) -> str:
    """``invariants check-model --quiet``: one line per finding led by its severity (``error [kind] ...``,
    ``note [kind] ...``: the full report groups them under headers instead), the tensors not analysed, the
    random-valued biases whose spread is not judged, the layers the probe did not measure, the verdict line."""
    lines = [f"{f.severity} {f}" for f in report.findings]
    cov = getattr(report, "coverage", None)
    if cov is not None and cov.not_analysed:
        names = [s.name for s in cov.not_analysed]
        lines.append(f"not analysed: {', '.join(names[:6])}{f' (+{len(names) - 6})' if len(names) > 6 else ''} "
                     "(reasons: the full report or the JSON)")
    # the reason's lead words (invariants.modelcheck.coverage.BIAS_NOT_JUDGED; this module imports no engine)
    biases = [s.name for s in (getattr(cov, "partial", None) or ()) if s.reason.startswith("random-valued bias:")]
    if biases:
        lines.append(f"partly analysed: {len(biases)} random-valued biases: spread not judged ({_names(biases)})")
    unmeasured = list(getattr(cov, "unmeasured", None) or ())
    if unmeasured:
        lines.append(f"signal not measured at {len(unmeasured)} layers: {_names(unmeasured)}")
    return "\n".join(lines + [_verdict(report)])


def _names(names: list[str], k: int = 6) -> str:
    """The first ``k`` names, and how many more."""
    return ", ".join(names[:k]) + (f" (+{len(names) - k})" if len(names) > k else "")


def _verdict(report: Any) -> str:
    """``STATUS: e errors, n notes; analysed t of T tensors[ (k of them partly, not by every check)], p% of V
    values; signal propagation: ...`` (the coverage part only when the report has one; ``k`` the partly analysed
    tensors, :attr:`~invariants.modelcheck.report.Coverage.partial`; ``checked on m of M layers`` when the probe
    measured only some layers, :attr:`~invariants.modelcheck.report.Coverage.signal_layers`; ``checked on m
    layers, no depth trend: ...`` when no trend through depth was measured,
    :attr:`~invariants.modelcheck.report.Coverage.no_trend`)."""
    status = getattr(report, "status", "healthy" if report.ok else "unhealthy")
    line = f"{status.upper()}: {len(report.errors)} errors, {len(report.notes)} notes"
    cov = getattr(report, "coverage", None)
    if cov is None:
        return line
    # a partly analysed tensor counts as analysed: the line says how many of them some checks did not read, so it
    # never reads as complete beside the PARTLY ANALYSED list (stacked experts and routers: no output units)
    partly = len(getattr(cov, "partial", None) or ())
    line += (f"; analysed {cov.tensors} of {cov.total_tensors} tensors"
             + (f" ({partly} of them partly, not by every check)" if partly else "")
             + f", {_share(cov.values, cov.total_values)} of {cov.total_values:,} values")
    expected = getattr(cov, "expected", None) or {}
    if expected:
        n_met = sum(bool(e["met"]) for e in expected.values())
        line += f"; expectations: {n_met} of {len(expected)} tensors met"
    no_trend = getattr(cov, "no_trend", None)
    if cov.signal is None and getattr(cov, "signal_layers", None):
        k, n = cov.signal_layers
        line += f"; signal propagation: checked on {k} of {n} layers" + (f", {no_trend[1]}" if no_trend else "")
    elif cov.signal is None and no_trend:
        line += f"; signal propagation: checked on {no_trend[0]} layers, {no_trend[1]}"
    elif cov.signal is None:
        line += "; signal propagation: checked"
    elif cov.signal.startswith("not decided: "):  # measured, but the probe batch cannot decide a finding
        line += f"; signal propagation: not decided ({cov.signal.removeprefix('not decided: ')})"
    else:
        why = cov.signal.removeprefix("not checked: ")
        line += f"; signal propagation: not checked ({why})"
        if not cov.probe_requested:  # the reason already says "by request"
            line += "; the verdict does not cover it"
    if status == "incomplete":
        # the signal clause above gives its reason: the tail names it only, so the reason is said once
        stated = f"signal propagation {cov.signal}" if cov.signal is not None else None
        why = [f"signal propagation {cov.signal.partition(': ')[0]}" if r == stated else r
               for r in cov.why_incomplete()]
        line += f" -> incomplete: {'; '.join(why)}"
    return line


def _share(part: int, whole: int) -> str:
    """A percentage that never rounds a gap away (99.96% of values analysed prints 99.9%, not 100%)."""
    if not whole or part == whole:
        return "100%"
    return f"{math.floor(1000 * part / whole) / 10:.1f}%"


def render_coverage(cov: Any, width: int = 110, partial: bool = True, limit: int = 20) -> str:
    """The tensors not analysed (with the reason), tied tensors, and (``partial``) the tensors some checks
    could not read; at most ``limit`` lines per list."""
    out = []
    groups = [(f"NOT ANALYSED: {len(cov.not_analysed)} tensors, {sum(s.n for s in cov.not_analysed):,} values",
               cov.not_analysed)]
    if partial:
        groups.append((f"PARTLY ANALYSED: {len(cov.partial)} tensors", cov.partial))
    for title, items in groups:
        if not items:
            continue
        out.append(title)
        for s in items[:limit]:
            out.append(textwrap.fill(f"{s.name} ({s.n:,} values): {s.reason}", width, initial_indent="  - ",
                                     subsequent_indent="    "))
        if len(items) > limit:
            out.append(f"  ... and {len(items) - limit} more (see the JSON report)")
    if cov.tied:
        out.append(f"TIED (one tensor under several names, checked once): {len(cov.tied)}")
        for name, others in list(cov.tied.items())[:limit]:
            out.append(f"  - {name} = {' = '.join(others)}")
    expected = getattr(cov, "expected", None) or {}
    if expected:
        n_met = sum(bool(e["met"]) for e in expected.values())
        out.append(f"EXPECTED (--expect): {len(expected)} tensors, {n_met} met, {len(expected) - n_met} not met")
        for name, e in list(expected.items())[:limit]:
            fans = f" on the {e['fans']}" if e.get("fans") else ""
            out.append(textwrap.fill(f"{name}: {e['expect']}: {'met' if e['met'] else 'NOT MET'}{fans}", width,
                                     initial_indent="  - ", subsequent_indent="    "))
        if len(expected) > limit:
            out.append(f"  ... and {len(expected) - limit} more (see the JSON report)")
    return "\n".join(out)


def _g(x: float | None, fmt: str = ".3g") -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)


#: the tensor table's columns, least important first: dropped in this order to fit a terminal
TENSOR_DROP = (4, 3, 7, 2, 6, 1)

#: the tensor table's footnotes, each printed only while its column is shown
TENSOR_FOOTNOTES = (
    ("detects", "'detects': smallest relative variance error this tensor's n values detect with power 0.99 "
                "(one draw: no pooling over seeds)"),
    ("matches", "'matches': named schemes on the layer's textbook fans that pass every check"),
)


def render_tensors(rows: list[Any], width: int | None = None) -> str:
    """The variance table: one row per :class:`~invariants.modelcheck.report.TensorRow`, and its legend.

    ``width``: fit the table in this many characters (columns dropped by :data:`TENSOR_DROP`, ``matches``
    wrapped); ``None``: no limit."""
    body = []
    for r in rows:
        det = "-" if r.detectable_rel_error is None else f"{100 * r.detectable_rel_error:.2g}%"
        match = ("constant" if r.constant else ", ".join(r.matches) if r.matches
                 else f"none (closest {r.closest})" if r.closest else "none")
        body.append([r.name, r.layer or r.role, "x".join(map(str, r.shape)),
                     f"({r.fans[0]}, {r.fans[1]})" if r.fans else "-", str(r.n), _g(r.variance), _g(r.gain), det,
                     match])
    table = render_table(["tensor", "layer", "shape", "fans", "n", "variance", "Var*fan_in", "detects", "matches"],
                         body, "llllrrrrl", max_width=width, drop=TENSOR_DROP)
    shown = set(table.splitlines()[0].split()) if table else set()
    # a footnote goes with its column: a narrow terminal that drops 'detects' drops its explanation too
    legend = "; ".join(text for column, text in TENSOR_FOOTNOTES if column in shown)
    if not legend:
        return table
    return table + "\n" + (textwrap.fill(legend, width) if width else legend)


def render_signal(sig: dict[str, Any], width: int | None = None) -> str:
    """The per-layer moments on the probe, in execution order: at the input (``E[x^2]``, ``E[g^2]``, when the
    probe measured them) and the output (``E[z^2]``, ``E[delta^2]``) of each node, and the trend lines
    (:mod:`invariants.modelcheck.signal`)."""
    layers = sig.get("layers", [])
    fwd = sig.get("forward", [])
    bwd = sig.get("backward") or [None] * len(layers)
    xin = sig.get("input_forward")
    if xin:  # the probe measured node inputs too: those are what the trends compare
        gin = sig.get("input_backward") or [None] * len(layers)
        lines = [f"signal at init on the probe ({sig.get('batch', '?')} inputs), per layer in execution order: "
                 f"E[x^2] and E[g^2] at its input (compared through depth), E[z^2] and E[delta^2] at its output"]
        room, w = _name_room(width, 4), _figure_width(width)
        lines.append(_header(room, w, ("E[x^2] in", "E[g^2] in", "E[z^2] out", "E[delta^2]")))
        for name, xi, gi, f, b in zip(layers, xin, gin, fwd, bwd):
            lines.append(f"  {_cut(name, room):<{room}} {_g(xi, '.4g'):>{w}} {_g(gi, '.4g'):>{w}} {_g(f, '.4g'):>{w}} "
                         f"{_g(b, '.4g'):>{w}}")
    else:
        lines = [f"signal at init on the probe ({sig.get('batch', '?')} inputs): E[z^2] forward, E[delta^2] backward "
                 f"per layer, in execution order"]
        room, w = _name_room(width, 2), _figure_width(width)
        lines.append(_header(room, w, ("E[z^2]", "E[delta^2]")))
        for name, f, b in zip(layers, fwd, bwd):
            lines.append(f"  {_cut(name, room):<{room}} {_g(f, '.4g'):>{w}} {_g(b, '.4g'):>{w}}")
    for key in ("forward_summary", "backward_summary", "backward_zero", "mean_field"):
        if sig.get(key):
            lines.append(textwrap.fill(sig[key], width, initial_indent="  ", subsequent_indent="    ") if width
                         else f"  {sig[key]}")
    if width:
        lines[0] = textwrap.fill(lines[0], width)
    return "\n".join(lines)


def _header(room: int, w: int, columns: tuple[str, ...]) -> str:
    """The signal profile's column-header row: ``layer`` then each column name right-aligned over its
    figures (names of at most ``w`` characters, so the figures' alignment holds at every width)."""
    return "  " + f"{'layer':<{room}}" + "".join(f" {c:>{w}}" for c in columns)


def _figure_width(width: int | None) -> int:
    """Characters per figure of the signal profile: 12 (10 on a terminal narrower than 100; ``.4g`` needs 10)."""
    return 12 if width is None or width >= 100 else 10


def _name_room(width: int | None, n_columns: int) -> int:
    """Characters for a layer name beside ``n_columns`` figures in ``width`` (40 without a limit)."""
    return 40 if width is None else max(8, min(40, width - 3 - (_figure_width(width) + 1) * n_columns))


def _cut(name: str, room: int) -> str:
    """``name`` cut from the left to ``room`` characters (the end of a module path says the most)."""
    return name if len(name) <= room else "…" + name[len(name) - room + 1:]


__all__ = ["render_coverage", "render_model", "render_model_findings", "render_signal", "render_tensors"]
