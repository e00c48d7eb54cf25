"""The scaling page (``scaling.md``: width and depth) and its figures, from the stored study
``data/scale_families.json`` (:mod:`invariants.scaling.study` over the width families of
:mod:`invariants.studies.scale_families` and, under ``"depth"``, its depth families; issue 18).

What the page holds: what ``invariants scale-check`` measures and how to read its verdicts (numbers from
:mod:`invariants.scaling.fit` and the stored run's config), the SP vs μP expectation table computed from
:func:`invariants.scaling.theory.expected` (not retyped), and per family the coord-check figure (drawn by
:func:`invariants.scaling.plot.draw`, the renderer behind ``scale-check --plot``, under the docs' deterministic
style) with its slope table; then the depth study: one figure (:func:`depth_figure`: per family the output's and
the first layer's gradient's second moment against depth, measured and the mean field's curve) and the table of
predicted against measured slopes and depth scales ``ξ``, ``ξ_∇``.  Files (paths relative to the docs folder)::

    scaling.md  figures/scale_<family>.png  figures/scale_<family>.json  figures/scale_depth.png  figures/scale_depth.json

A pure function of the stored JSON: nothing is measured when the page is built, so it comes out the same
wherever it is built (the PNG bytes up to matplotlib's version, as every figure).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from invariants.render.scale import row_mark, slope_interval
from invariants.report.markdown import code, front_matter, table, text
from invariants.report.pages import mark_row

PAGE = "scaling.md"
STUDY_DATA = "data/scale_families.json"
STUDY_COMMAND = "python -m invariants.scaling.study --json docs/data/scale_families.json"
#: inches per panel column and row of a figure on the page (narrower than ``--plot``'s, with larger text)
PANEL_W, PANEL_H = 2.9, 2.2
#: the depth study's figure (``figures/<name>.png``)
DEPTH_FIGURE = "scale_depth"


def load(docs_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The stored study (``<docs>/data/scale_families.json``), or ``None`` when there is none."""
    path = Path(docs_dir) / STUDY_DATA
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def figure_name(key: str) -> str:
    return f"scale_{key}"


def figure(result: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The coord-check figure of one stored ``scale-check`` result: PNG bytes and the plotted data (rounded to 4
    significant digits).

    Raises:
        FiguresUnavailable: matplotlib is not installed.
    """
    from invariants.report.figures import deterministic_style, new_figure, png_bytes, r4
    from invariants.scaling.plot import MAX_PANELS, curves_from_json, draw, panel_grid

    lines = curves_from_json(result["rows"])
    nrows, cols = panel_grid(min(MAX_PANELS, len({(c.name, c.kind) for c in lines})))
    with deterministic_style():
        fig = new_figure(PANEL_W * cols, PANEL_H * nrows)
        draw(fig, lines, result["mode"], font=1.3)
        png = png_bytes(fig)
    data = {"mode": result["mode"], "sizes": result["coverage"]["sizes"],
            "curves": [{"name": c.name, "kind": c.kind, "step": c.step, "sizes": list(c.sizes),
                        "second_moments": list(c.moments), "slope": c.slope, "verdict": c.verdict} for c in lines]}
    return png, r4(data)


def depth_series(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The two curves of one stored depth-mode result: ``[{"quantity", "depths", "measured", "predicted",
    "measured_slope", "predicted_slope", "agrees"}]`` for the output and the first layer's gradient; the gradient's
    mean-field curve is made absolute with ``p_L = 1/B²`` (the linear loss's output gradient ``r/B``, ``E r² = 1``,
    ``B`` the run's batch), so both predictions are drawn without fitting anything to the measurement."""
    import math

    ds = result.get("depth_scale") or {}
    batch = float(result["config"].get("batch", 1))
    out = []
    for kind, entry, shift, label in (("output", ds, 0.0, "output"),
                                      ("grad", ds.get("gradient") or {}, -2 * math.log2(batch), "gradient")):
        row = next((x for x in result["rows"] if x["kind"] == kind and x["step"] == 0), None)
        if row is None:
            continue
        predicted = entry.get("predicted_log2")
        out.append({"quantity": label, "depths": list(row["sizes"]), "measured": list(row["second_moments"]),
                    "measured_slope": row["slope"], "interval": [row["lo"], row["hi"]],
                    "predicted_depths": entry.get("depths"),
                    "predicted": None if predicted is None else [2.0 ** (y + shift) for y in predicted],
                    "predicted_slope": entry.get("predicted_slope"), "agrees": entry.get("agrees")})
    return out


def depth_figure(depth: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The depth study's figure: one column per family, the output (top) and the first layer's gradient (bottom);
    markers: the measured second moment (geometric mean over seeds), dashed: the mean field's; PNG bytes and the
    plotted data (rounded to 4 significant digits).

    Raises:
        FiguresUnavailable: matplotlib is not installed.
    """
    import math

    from invariants.report.figures import deterministic_style, new_figure, png_bytes, r4
    from invariants.scaling.depth import depth_scale
    from invariants.scaling.plot import MIN_RANGE, grid_layout

    families = depth["families"]
    data: dict[str, Any] = {"families": {}}
    with deterministic_style():
        fig = new_figure(PANEL_W * max(1, len(families)), PANEL_H * 2)
        axes = fig.subplots(2, max(1, len(families)), squeeze=False)
        for col, (key, family) in enumerate(families.items()):
            series = depth_series(family["result"])
            data["families"][key] = {"title": family["title"], "series": series}
            for row, s in zip(axes[:, col], series):
                row.plot(s["depths"], s["measured"], "o-", ms=3,
                         label=f"measured {s['measured_slope']:+.2f} (ξ {depth_scale(s['measured_slope']):.3g})")
                if s["predicted"]:
                    row.plot(s["predicted_depths"], s["predicted"], "--",
                             label=f"mean field {s['predicted_slope']:+.2f} (ξ {depth_scale(s['predicted_slope']):.3g})")
                row.set_yscale("log", base=2)
                values = [v for v in s["measured"] + (s["predicted"] or []) if v > 0]
                if values and max(values) / min(values) < MIN_RANGE:  # flat curves drawn flat, not stretched
                    mid = math.sqrt(max(values) * min(values))
                    row.set_ylim(mid / math.sqrt(MIN_RANGE), mid * math.sqrt(MIN_RANGE))
                row.set_title(f"{key}: {s['quantity']}", fontsize=9, y=1.0)  # y given: see scaling.plot.draw
                row.tick_params(labelsize=7)
                row.legend(fontsize=6)
        grid_layout(fig, axes, "depth (hidden blocks)", "E x² (top), E (∂L/∂z₁)² (bottom)", title=9, ticks=7,
                    label=9)
        png = png_bytes(fig)
    return png, r4(data)


def depth_rows(depth: dict[str, Any]) -> list[list[str]]:
    """The depth table: per family and quantity, the mean field's slope (log2 per layer) and depth scale against
    the measured slope [interval] and depth scale, whether they agree, and the run's status."""
    from invariants.scaling.depth import depth_scale

    rows = []
    for key, family in depth["families"].items():
        r = family["result"]
        for s in depth_series(r):
            pred = s["predicted_slope"]
            chi = "" if pred is None or s["quantity"] != "gradient" else f"χ1 = {2 ** pred:.3g}; "
            agree = {True: "agrees", False: mark_row("row-deviates", "DISAGREES"), None: "no prediction"}[s["agrees"]]
            rows.append([text(family["title"]), s["quantity"],
                         "-" if pred is None else text(f"{chi}{pred:+.3f} (ξ = {depth_scale(pred):.3g})"),
                         text(f"{slope_interval(s['measured_slope'], *s['interval'])} "
                              f"(ξ = {depth_scale(s['measured_slope']):.3g})"), agree, r["status"]])
    return rows


def depth_section(depth: dict[str, Any] | None, fig_path: str | None) -> list[str]:
    """The depth study: what is compared, the command, the figure and the table."""
    if not depth:
        return []
    c = depth["config"]
    depths = ",".join(map(str, c["depths"]))
    target = next(iter(depth["families"].values()))["target"] if depth["families"] else "MODULE:FACTORY"
    command = f"invariants scale-check {target} --depths {depths} --width {c['width']} --seeds {c['seeds']}"
    lines = ["## Depth: forward and backward against the mean field", "",
             code("invariants scale-check MODULE:FACTORY --depths ... --width W") + " " +
             text("builds the model at several depths and fits, against depth, the output's second moment (the signal after every layer) and the "
                  "second moment of the linear loss's gradient at the first weight layer's pre-activation (the "
                  "gradient after every layer), each in log2 per layer. The mean field predicts both from the "
                  "weights' σ_w² = Var(W)·fan_in, the biases' σ_b² and the activation: forward the length map q_l "
                  "(Poole et al. 2016), backward p_l = χ_l·p_(l+1) with χ1 = σ_w²·E[φ'(z)²] (Schoenholz et al. "
                  "2017, Sec. 3–4), whose depth scale is ξ_∇ = −1/ln χ1 layers (ξ = 1/(|slope|·ln 2) in these "
                  "units). A measured slope agrees when the prediction lies in its interval widened by 0.05 per "
                  "layer; a disagreeing gradient is an error of its own (the backward pass does not do what the "
                  "forward weights imply). Tanh with a bias shows why both are needed: in the chaotic phase the "
                  "forward second moment settles at its fixed point while the gradient explodes."), "",
             f"Families: MLPs of width {c['width']} at depths {text(depths)} with {c['seeds']} seeds, e.g. "
             f"{code(command)}. "
             "Curves: measured geometric means over the seeds (markers) and the mean field's absolute prediction "
             "(dashed; the gradient's scaled by the output gradient's 1/B²). The verdict column of a run expects "
             "Θ(1) along depth (a vanishing or exploding signal is an error), the agreement column compares with "
             "the mean field.", ""]
    if fig_path:
        lines += [f"[![depth study: forward and backward second moments against the mean field]({fig_path})]"
                  f"({fig_path})", ""]
    lines += [table(["family", "quantity", "mean field slope (ξ)", "measured slope [interval] (ξ)", "vs mean field",
                     "run"],
                    depth_rows(depth), "llllll"), ""]
    return lines


def theory_rows() -> list[list[str]]:
    """The expectation table: one row per quantity, one column per (parametrization, optimizer), each cell the
    verdict and second-moment slope of :func:`invariants.scaling.theory.expected` (``not checked``: a
    large-width limit a finite width need not reach)."""
    from invariants.scaling.theory import HIDDEN, INPUT, MUP, OUTPUT_LAYER, SP, expected

    quantities = [
        ("pre-activation, step 0", "preact", 0, (INPUT, HIDDEN, OUTPUT_LAYER)),
        ("gain Var(W)·fan_in, step 0", "gain", 0, (INPUT, HIDDEN, OUTPUT_LAYER)),
        ("model output, step 0", "output", 0, (None,)),
        ("update ΔW·x, step 1", "update", 1, (INPUT, HIDDEN, OUTPUT_LAYER)),
        ("pre-activation, step 1", "preact", 1, (INPUT, HIDDEN, OUTPUT_LAYER)),
        ("output change f₁ − f₀", "output-change", 1, (None,)),
    ]
    rows = []
    for label, kind, step, positions in quantities:
        for where in positions:
            cells = []
            for param in (SP, MUP):
                for opt in ("sgd", "adam"):
                    e = expected(param, opt, kind, where, step)
                    cell = e.verdict + ("" if e.slope is None else f" ({e.slope:+g})")
                    cells.append(cell if e.checked else f"{cell}, not checked")
            rows.append([text(label), where or "-"] + [text(c) for c in cells])
    return rows


def verdict_rows(result: dict[str, Any]) -> list[list[str]]:
    """The slope table of one stored result (the columns of ``scale-check``'s terminal table)."""
    out = []
    for r in result["rows"]:
        mark = row_mark(r["verdict"], r["matches"], r["checked"])
        exp = r["expected"] + ("" if r["expected_slope"] is None else f" ({r['expected_slope']:+g})")
        cells = [code(r["name"]), r["kind"], str(r["step"]), r.get("quantity") or r["position"] or "",
                 text(slope_interval(r["slope"], r["lo"], r["hi"])), r["verdict"], text(exp), mark]
        if mark in ("MISMATCH", "?"):
            cells[-1] = mark_row("row-deviates" if mark == "MISMATCH" else "row-documented", mark)
        out.append(cells)
    return out


def tally(result: dict[str, Any]) -> str:
    """``N rows: a Θ(1), b growing, ...; c of d checked as expected`` for one stored result."""
    counts: dict[str, int] = {}
    for r in result["rows"]:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    checked = [r for r in result["rows"] if r["checked"]]
    matched = sum(1 for r in checked if r["matches"])
    parts = ", ".join(f"{counts[v]} {v}" for v in ("theta1", "growing", "vanishing", "undecided") if v in counts)
    return f"{len(result['rows'])} rows: {parts}; {matched} of {len(checked)} checked rows as expected"


def error_summary(result: dict[str, Any]) -> list[str]:
    """The errors in a few lines: the layers whose own gain misses the expectation (with their slopes), how many
    other rows inherit that, and one finding's full message as an example (the table has every row)."""
    errors = [f for f in result["findings"] if f["severity"] == "error"]
    if not errors:
        return []
    own = [x for x in result["rows"] if x["kind"] == "gain" and x["checked"] and not x["matches"]
           and x["verdict"] != "undecided"]
    lines = [f"Errors: {len(errors)}."]
    if own:
        slopes = ", ".join(f"{x['name']} {x['slope']:+.2f}" for x in own)
        lines[0] += " " + text(f"Layers whose own gain Var(W)·fan_in is not {own[0]['expected']}: {slopes}; the other "
                         f"{len(errors) - len(own)} inherit it (their finding names the layer).")
    example = next((f for f in errors if own and f["subject"].startswith(own[0]["name"] + " gain")), errors[0])
    lines += ["", f"For example, {text(example['subject'])}: {text(example['message'])}"]
    return lines + [""]


def family_section(key: str, family: dict[str, Any], fig_path: str) -> list[str]:
    """One family: title, command, status, figure, undecided rows and mismatches, the slope table."""
    r = family["result"]
    c = r["config"]
    sizes = ", ".join(str(s) for s in r["coverage"]["sizes"])
    command = (f"invariants scale-check {family['target']} --widths {','.join(map(str, c['sizes']))} "
               f"--steps {','.join(map(str, c['steps']))} --seeds {c['seeds']} --optimizer {c['optimizer']} "
               f"--expect {c['expect']}")
    lines = [f"## {text(family['title'])}", "", f"Run: {code(command)}", "",
             f"Widths {sizes}; {c['seeds']} seeds; {c['optimizer']} at lr {c['lr']:g}; α = {c['alpha']:.2g} per "
             f"fit × {c['n_fits']} fits (family-wise ≤ {c['total_alpha']:g}). Status: **{r['status']}** "
             f"({text(tally(r))}).", "",
             f"[![coord check: {text(family['title'])}]({fig_path})]({fig_path})", ""]
    undecided = [f"{x['name']} {x['kind']} step {x['step']} ({slope_interval(x['slope'], x['lo'], x['hi'])}"
                 + (f"; about {x['seeds_needed']} seeds would decide)" if x.get("seeds_needed") else ")")
                 for x in r["rows"] if x["verdict"] == "undecided"]
    if undecided:
        lines += [text(f"Undecided: the interval straddles ±{c['s_min']} at {c['seeds']} seeds (more seeds or wider "
                       f"widths would decide): {'; '.join(undecided)}.",
                       block=True), ""]
    lines += error_summary(r)
    lines += [table(["tensor", "kind", "step", "layer", "slope [interval]", "verdict", "expected", ""],
                    verdict_rows(r), "llrlllll"), ""]
    return lines


def page(study: dict[str, Any] | None, figures: dict[str, str]) -> str:
    """The page's Markdown; ``figures``: family key -> figure path relative to the docs folder."""
    from invariants.scaling.fit import S_MIN

    lines = [front_matter(title="Width and depth scaling"), "", "# Width and depth scaling", "",
             "`invariants scale-check MODULE:FACTORY --widths ...` builds a model at several widths and seeds "
             "and records, for every hooked tensor (a weight layer's pre-activation and input, activations, "
             "norms, the model's output) the mean of x² at initialization and, with `--steps`, after optimizer "
             "steps, plus each weight layer's update ΔW·x₀ and the output change f_t − f₀: "
             "μP's coordinate check (Yang et al. 2022, Tensor Programs V) turned into a verdict.", "",
             "## Reading the verdicts", "",
             f"- **slope**: for each seed, the weighted least-squares slope of log₂ E x² on log₂ width; the "
             f"row's slope is their mean, with a Student t interval over the seeds. Units: second moment per "
             f"width, so an RMS growing like √n has slope +1 (the RMS slope is half).",
             f"- **theta1** (Θ(1)): the whole interval lies inside ±{S_MIN:g}, the smallest slope that matters "
             f"(less than a 2× change of E x² over a 16× width range).",
             f"- **growing** / **vanishing**: the interval lies above +{S_MIN:g} / below −{S_MIN:g}.",
             "- **undecided**: neither; the interval straddles the band (too few seeds for the seeds' spread, or "
             "a slope near ±0.25).",
             "- **α**: each fit's false-alarm rate is min(1e-6, total α / number of fits) (Bonferroni), so the "
             "run's family-wise rate is at most its total α.",
             "- **expected**: what the stated parametrization predicts (table below); `MISMATCH` marks a checked "
             "row whose decided verdict differs, `limit` an unchecked large-width limit the widths used do not "
             "reach yet, `?` an undecided row.", "",
             "## What theory expects: SP vs μP", "",
             "Second-moment slopes against width by the layer's position (input: fan-in fixed; hidden: both fans "
             "grow; output: fan-out fixed), from `invariants.scaling.theory` (standard parametrization: "
             "Var(W) = c/fan_in and one learning rate; μP: Yang et al. 2022, Table 3). `not checked`: a large-"
             "width limit that finite widths approach slowly, reported as a note.", "",
             table(["quantity", "layer", "SP, SGD", "SP, Adam", "μP, SGD", "μP, Adam"], theory_rows()), "",
             text("Why μP's output change is not checked: Δf = ΔW_out·h + W_out·Δh, and the last hidden update Δh "
                  "is driven back through W_out by every output's loss direction, so each output also picks up the "
                  "other d_out − 1 outputs' share through the 1/√width overlap of two output-weight rows. The "
                  "second moment is A·(1 + κ·d_out/width) and its slope −1/(1 + width/(κ·d_out)): Θ(1) only once "
                  "the width dwarfs κ·d_out. On the 64-output μP MLP of `invariants.scaling.examples` (step 1, "
                  "widths 64 to 2048) κ ≈ 5 under SGD and κ ≈ 2 under Adam: at widths 64–512 the output change is "
                  "decided vanishing at 24 seeds (−0.62 SGD, −0.39 Adam; about the same at step 3, and more seeds "
                  "only narrow the interval), at 256–2048 it is still −0.32 and −0.15 (undecided), and Θ(1) needs widths of about "
                  "8·κ·d_out (2,700 and 1,100). With 2 outputs (`mlp_mup_narrow`) it is Θ(1) at widths 64–512 "
                  "with 64 seeds under both optimizers.", block=True), ""]
    if not study:
        lines += [f"*No stored study:* to measure it, {code(STUDY_COMMAND)}, then `invariants report`.", ""]
        return "\n".join(lines)
    cfg = study["config"]
    lines += ["## Two model families", "",
              f"Small width-parametrised torch models (code: `invariants/studies/scale_families.py`), checked at "
              f"widths {', '.join(map(str, cfg['widths']))} with {cfg['seeds']} seeds, steps "
              f"{', '.join(map(str, cfg['steps']))} under {cfg['optimizer']}, against the standard "
              f"parametrization their authors use (`--expect {cfg['expect']}`). A fixed std such as GPT-2's "
              "normal(0.02) is not 1/fan_in: each hidden `Linear` multiplies its input's second moment by "
              "0.02²·n, a gain slope of +1 (RMS ∝ √width), which the check reports as growing against SP's "
              "Θ(1); the same decoder with N(0, 1/fan_in) weights is Θ(1) at initialization. After one Adam step "
              "the updates grow under both, as SP predicts (μP is what removes that). Caveats: four widths "
              f"from {min(cfg['widths'])} to {max(cfg['widths'])} only, so finite-width corrections are "
              "larger than at production widths; each panel shows a geometric mean over seeds; modules "
              "applied as functions (attention's softmax, the residual additions) are not hooked, the next "
              "layer's input is.", "",
              f"Measured once and stored in `docs/data/scale_families.json`; to measure again: {code(STUDY_COMMAND)}, "
              "then `invariants report`.", ""]
    for key, family in study["families"].items():
        lines += family_section(key, family, figures[key])
    lines += depth_section(study.get("depth"), figures.get(DEPTH_FIGURE))
    return "\n".join(lines)


def files(study: dict[str, Any] | None, json_bytes) -> dict[str, bytes]:
    """The page and its figures: ``{path relative to the docs folder: bytes}``; ``json_bytes`` serialises a
    figure's data as the site does."""
    out: dict[str, bytes] = {}
    paths: dict[str, str] = {}
    for key, family in (study or {}).get("families", {}).items():
        png, data = figure(family["result"])
        path = f"figures/{figure_name(key)}.png"
        out[path] = png
        out[f"figures/{figure_name(key)}.json"] = json_bytes(data)
        paths[key] = path
    if (study or {}).get("depth"):
        png, data = depth_figure(study["depth"])
        out[f"figures/{DEPTH_FIGURE}.png"] = png
        out[f"figures/{DEPTH_FIGURE}.json"] = json_bytes(data)
        paths[DEPTH_FIGURE] = f"figures/{DEPTH_FIGURE}.png"
    out[PAGE] = (page(study, paths).rstrip("\n") + "\n").encode("utf-8")
    return out


__all__ = ["DEPTH_FIGURE", "PAGE", "STUDY_COMMAND", "STUDY_DATA", "depth_figure", "depth_rows", "depth_section",
           "depth_series", "figure", "figure_name", "files", "load", "page", "tally", "theory_rows", "verdict_rows"]
