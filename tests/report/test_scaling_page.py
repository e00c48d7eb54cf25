"""The scaling page (:mod:`invariants.report.scaling_page`) is a pure function of the stored study: a small
synthetic payload gives the verdict table, marks, undecided rows, the error summary with its cause, the theory
table computed from :mod:`invariants.scaling.theory`, a deterministic figure drawn by scale-check's renderer, and
the depth study's table and figure (predicted against measured slopes and ξ, a disagreement marked); the home
page links to it."""
from __future__ import annotations

import json

import numpy as np
import pytest

from invariants.report import scaling_page as P


def row(name, kind, step, slope, verdict, expected, checked=True, position="hidden", lo=None, hi=None):
    return {"name": name, "kind": kind, "step": step, "position": position, "slope": slope,
            "lo": slope - 0.1 if lo is None else lo, "hi": slope + 0.1 if hi is None else hi, "verdict": verdict,
            "expected": expected, "expected_slope": 0.0, "checked": checked, "matches": verdict == expected,
            "sizes": [32, 64], "second_moments": [1.0, 2.0 ** slope]}


def payload():
    rows = [row("fc1", "gain", 0, 1.0, "growing", "theta1"),
            row("fc1", "preact", 0, 1.0, "growing", "theta1"),
            row("fc2", "preact", 0, 0.1, "undecided", "theta1", lo=-0.3, hi=0.5),
            row("fc2", "update", 1, 2.0, "growing", "growing")]
    result = {"mode": "width", "status": "findings", "rows": rows,
              "findings": [{"severity": "error", "kind": "mismatch", "subject": "fc1 gain step 0",
                            "message": "this is a width-independent std such as normal(std=0.02)", "params": []},
                           {"severity": "error", "kind": "mismatch", "subject": "fc1 preact step 0",
                            "message": "inherited from layer fc1", "params": []}],
              "coverage": {"sizes": [32, 64]},
              "config": {"sizes": [32, 64], "steps": [0, 1], "seeds": 4, "optimizer": "adam", "lr": 0.01,
                         "expect": "sp", "alpha": 1e-6, "n_fits": 4, "total_alpha": 1e-4, "s_min": 0.25}}
    return {"config": {"widths": [32, 64], "seeds": 4, "steps": [0, 1], "optimizer": "adam", "expect": "sp"},
            "families": {"toy": {"title": "Toy MLP", "target": "pkg.mod:toy", "result": result}}}


def test_page_from_synthetic_payload():
    text = P.page(payload(), {"toy": "figures/scale_toy.png"})
    assert text.startswith('---\ntitle: "Width and depth scaling"\n---')
    assert "## Toy MLP" in text
    assert "`invariants scale-check pkg.mod:toy --widths 32,64 --steps 0,1 --seeds 4 --optimizer adam --expect sp`" \
        in text
    assert "(figures/scale_toy.png)" in text
    assert "Undecided" in text and "fc2 preact step 0 (+0.10 &#91;-0.30, +0.50&#93;)" in text
    # the error summary names the layer whose own gain is off (the cause), not only the count
    assert "Errors: 2. Layers whose own gain Var(W)·fan_in is not theta1: fc1 +1.00; the other 1 inherit it" in text
    assert "normal(std=0.02)" in text
    assert '<span class="row-deviates">MISMATCH</span>' in text
    assert '<span class="row-documented">?</span>' in text
    assert "| `fc2` | update | 1 | hidden | +2.00 &#91;+1.90, +2.10&#93; | growing | growing (+0) | ok |" in text


def test_theory_table_comes_from_the_theory_module():
    from invariants.scaling.theory import HIDDEN, SP, expected

    e = expected(SP, "adam", "update", HIDDEN, 1)
    rows = {(r[0], r[1]): r[2:] for r in P.theory_rows()}
    assert rows[("update ΔW·x, step 1", "hidden")][1] == f"{e.verdict} ({e.slope:+g})"
    assert rows[("update ΔW·x, step 1", "hidden")][2] == "theta1 (+0)"  # μP, SGD


def test_page_without_study_says_how_to_measure():
    text = P.page(None, {})
    assert "No stored study" in text and P.STUDY_COMMAND in text
    assert "What theory expects" in text


def test_files_draw_a_deterministic_figure():
    pytest.importorskip("matplotlib")
    dump = lambda obj: (json.dumps(obj, indent=1) + "\n").encode()  # noqa: E731
    a, b = P.files(payload(), dump), P.files(payload(), dump)
    assert set(a) == {"scaling.md", "figures/scale_toy.png", "figures/scale_toy.json"}
    assert a == b
    assert a["figures/scale_toy.png"].startswith(b"\x89PNG")
    data = json.loads(a["figures/scale_toy.json"])
    assert [(c["name"], c["kind"]) for c in data["curves"]] == [("fc1", "preact"), ("fc2", "preact"),
                                                                ("fc2", "update")]  # gain rows are not drawn


def test_stored_rows_give_the_report_curves():
    pytest.importorskip("torch")
    from invariants.scaling import scale_check
    from invariants.scaling.examples import mlp_sp
    from invariants.scaling.plot import curves, curves_from_json

    r = scale_check(mlp_sp, (16, 32), seeds=4, steps=(0, 1))
    assert curves_from_json(json.loads(json.dumps(r.to_dict()))["rows"]) == curves(r)


def depth_payload(agrees=True):
    def drow(kind, slope, moments):
        return {"name": "0" if kind == "grad" else "output", "kind": kind, "step": 0, "position": None,
                "slope": slope, "lo": slope - 0.05, "hi": slope + 0.05, "verdict": "vanishing", "expected": "theta1",
                "expected_slope": 0.0, "checked": True, "matches": False, "sizes": [2, 4],
                "second_moments": moments}
    gradient = {"predicted_slope": -1.0, "agrees": agrees, "depths": [2, 4], "predicted_log2": [-4.0, -6.0]}
    result = {"mode": "depth", "status": "findings", "config": {"batch": 64},
              "rows": [drow("grad", -1.0 if agrees else -2.0, [2.0 ** -16, 2.0 ** (-18 if agrees else -20)]),
                       drow("output", -1.0, [0.25, 0.0625])],
              "depth_scale": {"predicted_slope": -1.0, "agrees": True, "depths": [2, 4],
                              "predicted_log2": [-2.0, -4.0], "gradient": gradient}}
    return {"config": {"depths": [2, 4], "width": 32, "seeds": 4},
            "families": {"toy": {"title": "Toy ReLU, LeCun", "target": "pkg.mod:deep", "result": result}}}


def test_depth_section_compares_prediction_and_measurement():
    lines = "\n".join(P.depth_section(depth_payload(), "figures/scale_depth.png"))
    assert "## Depth: forward and backward against the mean field" in lines
    assert "`invariants scale-check pkg.mod:deep --depths 2,4 --width 32 --seeds 4`" in lines
    assert "| Toy ReLU, LeCun | gradient | χ1 = 0.5; -1.000 (ξ = 1.44) | -1.00 &#91;-1.05, -0.95&#93; (ξ = 1.44) " \
        "| agrees | findings |" in lines
    bad = "\n".join(P.depth_section(depth_payload(agrees=False), None))  # known-bad: a gradient too fast
    assert '<span class="row-deviates">DISAGREES</span>' in bad and "(ξ = 0.721)" in bad
    series = P.depth_series(depth_payload()["families"]["toy"]["result"])
    assert series[1]["predicted"] == [2.0 ** (-4 - 12), 2.0 ** (-6 - 12)]  # absolute: p_L = 1/B², B = 64
    assert P.depth_section(None, None) == []


def test_depth_figure_is_deterministic():
    pytest.importorskip("matplotlib")
    (png, data), again = P.depth_figure(depth_payload()), P.depth_figure(depth_payload())
    assert (png, data) == again and png.startswith(b"\x89PNG")
    assert [s["quantity"] for s in data["families"]["toy"]["series"]] == ["output", "gradient"]
    study = payload()
    study["depth"] = depth_payload()
    assert "(figures/scale_depth.png)" in P.page(study, {"toy": "x.png", P.DEPTH_FIGURE: "figures/scale_depth.png"})


def test_home_page_links_the_scaling_page():
    from invariants.report.pages import home_page

    home = home_page({"version": "0", "claims": []}, [], ["torch"])
    assert "[Width and depth scaling](scaling.md)" in home


def _label_overlaps(fig) -> list[str]:
    """Overlaps between the text of different panels (tick labels, titles), a panel's text and another panel's
    plotting area, or the figure's axis labels and any of them; and text outside the figure (display pixels)."""
    fig.canvas.draw()
    items = []  # (owner, what, bbox)
    for i, ax in enumerate(a for a in fig.axes if a.axison):
        items.append((i, "panel", ax.get_window_extent()))
        items.append((i, f"title {ax.get_title()!r}", ax.title.get_window_extent()))
        items += [(i, f"tick label {t.get_text()!r}", t.get_window_extent())
                  for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    items += [(-1 - k, f"figure label {t.get_text()!r}", t.get_window_extent())
              for k, t in enumerate(fig.texts) if t.get_text()]  # supxlabel and supylabel
    page = fig.bbox
    out = [f"{what} of panel {i} leaves the figure" for i, what, b in items
           if b.x0 < page.x0 - 0.5 or b.y0 < page.y0 - 0.5 or b.x1 > page.x1 + 0.5 or b.y1 > page.y1 + 0.5]
    for n, (i, what, b) in enumerate(items):
        for j, other, c in items[n + 1:]:
            if i == j or (what == "panel" and other == "panel"):
                continue
            w, h = min(b.x1, c.x1) - max(b.x0, c.x0), min(b.y1, c.y1) - max(b.y0, c.y0)
            if w > 0.5 and h > 0.5:
                out.append(f"{what} of panel {i} overlaps {other} of panel {j}")
    return out


def test_panel_layout_leaves_room_for_every_label():
    """The coord-check panels' fixed layout (scaling.plot.grid_layout, in place of tight_layout) leaves room for
    the widest labels a panel can get (2⁻¹⁰⁰ beside it, 2¹² below it, long titles): no text overlaps another
    panel's text or plotting area, or leaves the figure.  Known-bad: the same panels laid out as if tick labels
    were 1 pt high overlap."""
    pytest.importorskip("matplotlib")
    from invariants.report.figures import deterministic_style, new_figure
    from invariants.scaling.plot import Curve, draw, grid_layout, panel_grid

    lines = [Curve(f"blocks.{k}.attn.c_proj", "preact", 0, (64, 4096), moments, 1.0, "growing")
             for k, moments in enumerate([(2.0 ** -100, 2.0 ** -60), (2.0 ** 3, 2.0 ** 40), (1.0, 1.1),
                                          (2.0 ** -12, 2.0 ** -3), (0.5, 8.0)])]
    nrows, cols = panel_grid(len(lines))
    with deterministic_style():
        for font, (w, h) in ((1.3, (P.PANEL_W, P.PANEL_H)), (1.0, (3.2, 2.6))):  # the docs' size and --plot's
            fig = new_figure(w * cols, h * nrows)
            draw(fig, lines, "width", font=font)
            assert _label_overlaps(fig) == [], font
        axes = np.array(fig.axes).reshape(nrows, cols)
        grid_layout(fig, axes, "width", "mean x²", title=8, ticks=1, label=8)
        assert any("tick label" in o and "overlaps" in o for o in _label_overlaps(fig))


def test_a_depth_panel_is_titled_by_the_quantity_its_row_measures():
    """The ``grad`` row's panel is titled by its quantity, from a report and from stored JSON (known-bad: the row's
    name and kind, "0 grad"); a row without a quantity keeps its name and kind (known-good: width-mode titles and
    a stored report from before the field are unchanged)."""
    pytest.importorskip("matplotlib")
    from invariants.report.figures import deterministic_style, new_figure
    from invariants.scaling.depth import GRAD_QUANTITY
    from invariants.scaling.plot import curves_from_json, draw

    rows = [{"name": "0", "kind": "grad", "step": 0, "sizes": [2, 4], "second_moments": [1.0, 0.5], "slope": -0.5,
             "verdict": "vanishing", "quantity": GRAD_QUANTITY},
            {"name": "output", "kind": "output", "step": 0, "sizes": [2, 4], "second_moments": [1.0, 1.0],
             "slope": 0.0, "verdict": "theta1", "quantity": None}]
    old = [{k: v for k, v in r.items() if k != "quantity"} for r in rows]
    with deterministic_style():
        for stored, titles in ((rows, [GRAD_QUANTITY, "output"]), (old, ["0 grad", "output"])):
            fig = new_figure(3.2 * 2, 2.6)
            draw(fig, curves_from_json(stored), "depth")
            assert [ax.get_title() for ax in fig.axes] == titles
            assert _label_overlaps(fig) == []


def test_the_plot_command_titles_panels_and_figure_in_words():
    """``scale-check --plot`` titles (known-bad: "output output", "0 preact", "0.activation act" said neither
    the quantity nor that the name is a layer): the kind in words and its layer, "model output" for the
    output row, the gradient panel's quantity, the depth figure's y label naming the gradient's g², and a
    figure title with the target, sizes, expectation, seeds and steps.  Known-good: the docs' figures (the
    default) keep their titles and label."""
    pytest.importorskip("matplotlib")
    from types import SimpleNamespace

    from invariants.report.figures import deterministic_style, new_figure
    from invariants.scaling.depth import GRAD_QUANTITY
    from invariants.scaling.plot import Curve, draw, figure_title

    def c(name, kind, quantity=None):
        return Curve(name, kind, 0, (2, 4), (1.0, 0.5), -0.5, "vanishing", quantity)

    lines = [c("0", "preact"), c("0.activation", "act"), c("output", "output"), c("0", "grad", GRAD_QUANTITY)]
    with deterministic_style():
        for words, titles in ((True, ["pre-activation of layer 0", "activation of 0.activation", "model output",
                                      GRAD_QUANTITY]),
                              (False, ["0 preact", "0.activation act", "output", GRAD_QUANTITY])):
            fig = new_figure(3.2 * 4, 2.6)
            draw(fig, lines, "depth", words=words)
            assert [ax.get_title() for ax in fig.axes] == titles
            assert ("g²" in fig.get_supylabel()) is words
    report = SimpleNamespace(target="pkg.models:mlp_depth", mode="depth",
                             config={"sizes": [2, 4, 8], "expect": "theta1", "seeds": 8, "steps": [0]})
    assert figure_title(report) == "mlp_depth: depths 2-8, expect theta1, 8 seeds, step 0"


def test_depth_panels_draw_depth_on_a_linear_axis():
    """Depth mode's slopes are log2 per layer, so its panels put depth on a linear axis (a constant rate per layer
    is a straight line) and keep the second moment on a base-2 log axis, with room for every label; width mode
    keeps both axes logarithmic (known-good: its figures are unchanged)."""
    pytest.importorskip("matplotlib")
    from invariants.report.figures import deterministic_style, new_figure
    from invariants.scaling.plot import Curve, draw

    lines = [Curve("0", "grad", 0, (2, 4, 8, 16, 24), tuple(2.0 ** (-3 * d) for d in (2, 4, 8, 16, 24)), -3.0,
                   "vanishing"), Curve("output", "output", 0, (2, 4, 8, 16, 24), (1.0, 0.9, 1.1, 1.0, 0.95), 0.0,
                                       "theta1")]
    with deterministic_style():
        for mode, xscale in (("depth", "linear"), ("width", "log")):
            fig = new_figure(3.2 * 2, 2.6)
            draw(fig, lines, mode)
            assert [(ax.get_xscale(), ax.get_yscale()) for ax in fig.axes] == [(xscale, "log")] * 2, mode
            assert _label_overlaps(fig) == [], mode
