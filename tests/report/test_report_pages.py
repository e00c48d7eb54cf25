"""The documentation generator on hand-made inputs: Markdown escaping, claim/audit/figure pages, the
site writer and the ``report`` subcommand (its expensive parts monkeypatched).  Fast: no evidence runs.

Tests that render Markdown need the ``docs`` extra (markdown, pymdown-extensions); figure tests need
matplotlib; each skips with the reason when its dependency is missing.
"""
from __future__ import annotations

import argparse
import html
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invariants.report import pages
from invariants.report.markdown import code, front_matter, table, text


# ------------------------------------------------------------------------------------------ markdown


def _render(md: str) -> str:
    markdown = pytest.importorskip("markdown", reason="needs the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("pymdownx", reason="needs the docs extra: pip install -e '.[docs]'")
    return markdown.markdown(md, extensions=["admonition", "attr_list", "tables", "pymdownx.arithmatex",
                                             "pymdownx.superfences"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})


def _visible(rendered: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", rendered)).split())


SPECIALS = "*_`[]()$\\<>|{}#+-.!&~^=:0123456789 aZσ²"


@given(st.text(alphabet=SPECIALS, min_size=1, max_size=40))
def test_text_renders_literally(value):
    """Whatever characters claim text contains, the rendered page shows exactly that text."""
    want = " ".join(value.split())
    if not want:
        return
    rendered = _render(text(value, block=True))
    assert "arithmatex" not in rendered  # no accidental mathematics
    assert _visible(rendered) == want


def test_text_cases_that_would_be_markup():
    cases = ["gain**2/rows", "W_l[j,:] = W_l[k,:]", "E[x] (eq. 3) [link](x)", "1. not a list", "# not a heading",
             "- not a list", "cost $5 and \\(x\\)", "a | b", "<b>bold</b>", "{: .cls}", "q_l _x_ *y*"]
    for value in cases:
        assert _visible(_render(text(value, block=True))) == value, value


def test_code_and_table_helpers():
    assert code("a`b") == "``a`b``"
    assert table(["a", "b"], [["1", "2"]], "lr").splitlines()[1] == "| :-- | --: |"
    with pytest.raises(ValueError):
        table(["a"], [["1", "2"]])
    assert front_matter(title='a "q"', hide=["toc"]) == '---\ntitle: "a \\"q\\""\nhide:\n  - "toc"\n---'


# ------------------------------------------------------------------------------------------ claim pages


def claim_dict(verdict="refuted", passed=(True, True), **extra):
    evidence = [
        {"kind": "counterexample", "name": "a *small* counterexample", "passed": passed[0],
         "detail": "loss 0.693 -> 0.012 in 200 steps; 0 of 8 units distinct"},
        {"kind": "property", "name": "the property", "passed": passed[1], "detail": "25 examples [a, b]"},
    ]
    return {"id": "T-X-01", "title": "A claim with W_l[j,:] and gain**2", "seed_quotes": ["Never do *that*."],
            "statement": "Refuted: that x.", "conditions": ["1. first condition"], "verdict": verdict,
            "derivation": "Because $a$ and \\(b\\).", "evidence": evidence, "passed": all(passed),
            "seconds": 1.2345, **extra}


def test_refuted_claim_page_has_counterexample_citation_and_reproduce():
    page = pages.claim_page(claim_dict(), "9.9.9")
    assert "## Counterexample" in page and "0 of 8 units distinct" in page
    assert page.count("0 of 8 units distinct") == 1  # shown once, referenced from the evidence list
    assert "Cite as: **invariants 9.9.9, claim T-X-01**" in page
    assert "invariants verify --only T-X-01" in page
    assert '!!! failure "Verdict: refuted"' in page
    assert "1.2345" not in page and "seconds" not in page  # no timings


def test_failed_evidence_is_shown_as_failed():
    page = pages.claim_page(claim_dict("proved", passed=(True, False)), "1.0")
    assert '!!! danger "Evidence failed in this build"' in page
    assert "**FAILED**" in page and "**not** supported" in page


def test_claim_page_renders_to_html_with_literal_text():
    rendered = _render(pages.claim_page(claim_dict("conditional"), "1.0"))
    visible = _visible(rendered)
    assert "A claim with W_l[j,:] and gain**2" in visible
    assert "Because $a$ and \\(b\\)." in visible and "arithmatex" not in rendered
    assert "1. first condition" in visible


def _with_readings():
    c = claim_dict("verified", scope="MLPs with *elementwise* activations; every width and depth",
                   readings=[{"reading": "incoming weights [of a unit]", "verdict": "conditional",
                              "evidence": ["a *small* counterexample", "the property"]},
                             {"reading": "outgoing weights", "verdict": "refuted", "evidence": ["the property"]}])
    c["evidence"][0]["mutant"] = "the premise negated: weights 2·I"
    c["evidence"][1]["mutant"] = None
    return c


def test_claim_page_shows_scope_right_after_the_statement():
    page = pages.claim_page(_with_readings(), "1.0")
    statement, scope = page.index("## Statement"), page.index("## Scope")
    assert statement < scope < page.index("## Readings") < page.index("## What the seed text says")
    assert "## Conditions" not in page[statement:scope]  # nothing between the statement and its scope
    assert "MLPs with &#42;elementwise&#42; activations" in page[scope:page.index("## Readings")]
    no_scope = pages.claim_page(claim_dict(), "1.0")
    assert "## Scope" not in no_scope and "## Readings" not in no_scope and "Fails when" not in no_scope


def test_claim_page_readings_table_links_each_reading_to_its_evidence():
    page = pages.claim_page(_with_readings(), "1.0")
    rows = [line for line in page.splitlines() if line.startswith("| ") and "weights" in line]
    assert len(rows) == 2
    assert "`conditional`" in rows[0] and "[1](#evidence-1), [2](#evidence-2)" in rows[0]
    assert "`refuted`" in rows[1] and "[2](#evidence-2)" in rows[1] and "#evidence-1" not in rows[1]
    assert "### 1. a &#42;small&#42; counterexample {: #evidence-1 }" in page
    assert "### 2. the property {: #evidence-2 }" in page


def test_claim_page_names_each_evidence_mutant():
    page = pages.claim_page(_with_readings(), "1.0")
    first, second = page.index("### 1."), page.index("### 2.")
    assert "*Fails when:* the premise negated: weights 2·I" in page[first:second]
    assert "Fails when" not in page[second:]  # no mutant given: nothing claimed


def test_claim_page_with_readings_renders_anchors_and_literal_text():
    rendered = _render(pages.claim_page(_with_readings(), "1.0"))
    assert 'id="evidence-1"' in rendered and 'href="#evidence-1"' in rendered
    visible = _visible(rendered)
    assert "incoming weights [of a unit]" in visible and "{:" not in visible
    assert "MLPs with *elementwise* activations; every width and depth" in visible


def test_verdict_texts_say_a_verdict_applies_to_the_precise_statement():
    assert "every size" in pages.VERDICT_MEANING["proved"]
    assert "audits" in pages.VERDICT_MEANING["verified"]
    report = {"version": "1.0", "claims": [claim_dict()]}
    for page in (pages.claims_index(report), pages.home_page(report, (), ("torch",))):
        assert "precise statement" in page and "readings" in page


def test_formula_table_shows_math_and_plain_text():
    row = pages.FormulaLine("Glorot", r"\frac{2}{a + b}", "2/(a + b)", r"\frac{2}{a + b}", "2/(a + b)", "eq. 12",
                            True)
    page = pages.claim_page(claim_dict("proved"), "1.0", formulas=[row])
    assert "`2/(a + b)`" in page and "identical" in page
    # rendered now, as MathML: no LaTeX left for a script to typeset
    assert '<math display="inline"><mrow><mfrac><mrow><mn>2</mn></mrow>' in page and "\\(" not in page
    bad = pages.FormulaLine("x", "1", "1", "2", "2", "src", False)
    assert '<span class="row-deviates">**NOT identical**</span>' in pages.claim_page(claim_dict("proved"), "1.0",
                                                                                    formulas=[bad])


def test_math_is_mathml_that_markdown_leaves_alone():
    """Known-bad input: a ``|`` (absolute value) would end a table cell, ``_``/``*`` would start emphasis."""
    from invariants.report.markdown import math_inline

    m = math_inline(r"\left|x_{*}\right| + \frac{a}{b}")
    assert m.startswith('<math display="inline">') and m.endswith("</math>") and "xmlns" not in m
    cell = table(["f"], [[m]])
    rendered = _render(cell)
    assert rendered.count("<td") == 1 and "<em>" not in rendered and "<mfrac>" in rendered
    assert "&#124;" in m or "&#x0007C;" in m


def test_nav_title_is_the_lead_of_the_title():
    assert pages.nav_title("VAR-HE-01", "He (Kaiming) rule: E[relu(y)²] = Var(y)/2 ⇒ Var(W) = 2/fan_in") == \
        "VAR-HE-01: He (Kaiming) rule"
    assert pages.nav_title("X-01", "Zero: too short a lead") == "X-01: Zero: too short a lead"
    long = pages.nav_title("X-01", "A residual branch with a zero last layer is the identity yet trains and so on")
    assert long.endswith("…") and len(long) <= len("X-01: ") + 57 and "the…" not in long[:-1]
    page = pages.claim_page(claim_dict(), "1.0")
    assert page.startswith('---\ntitle: "T-X-01: A claim with W_l[j,:] and gain**2"\n---')


def test_bibtex_block_is_wrapped_and_loses_nothing():
    title = "word " * 40 + "end"
    page = pages.claim_page({**claim_dict(), "title": title}, "1.0")
    block = page[page.index("```bibtex") + len("```bibtex\n"):]
    block = block[:block.index("```")]
    assert max(len(line) for line in block.splitlines()) <= pages.BIBTEX_WIDTH
    assert " ".join(block.split()).count("word") == 40 and "end}," in block


def test_claims_index_and_seed_page():
    report = {"version": "1.0", "claims": [claim_dict(), {**claim_dict("proved"), "id": "T-Y-01"}]}
    index = pages.claims_index(report)
    assert "[T-X-01](T-X-01.md)" in index and "`refuted`" in index and "2/2" in index
    seed = pages.seed_page(["Never do *that*.", "Why?", "Something else."], report["claims"])
    assert "[T-X-01](claims/T-X-01.md)" in seed
    assert "(a question: nothing asserted)" in seed and "**not covered by any claim**" in seed


# ------------------------------------------------------------------------------------------ audit pages

#: The auditor's JSON contract (issue 5, section 7): one conforming and one deviating tensor.
AUDIT_PAYLOAD = {
    "framework": "torch", "framework_version": "9.9", "invariants_version": "1.0", "alpha": 1e-7,
    "total_alpha": 1e-4, "n_checks": 10, "config": {"rel_error": 0.01, "power": 0.99},
    "results": [
        {"target": "torch.nn.init.xavier_uniform_()", "layer": "dense(300,100)", "shape": [100, 300],
         "fans": {"textbook": [300, 100], "framework": [300, 100]},
         "expected": {"spec": "glorot_uniform", "variance": 0.005}, "observed": {"variance": 0.00501, "n": 120000},
         "checks": [{"name": "moment_variance", "statistic": 0.5, "p_value": 0.6, "alpha": 1e-7, "passed": True}],
         "min_detectable_rel_error": 0.0055, "verdict": "conforms", "message": "conforms"},
        {"target": "torch.nn.init.xavier_uniform_()", "layer": "conv2d(4,4,k=3,groups=4)", "shape": [4, 1, 3, 3],
         "fans": {"textbook": [9, 9], "framework": [9, 36]},
         "expected": {"spec": "glorot_uniform", "variance": 0.1111}, "observed": {"variance": 0.0443, "n": 100008},
         "checks": [{"name": "moment_variance", "statistic": 50.0, "p_value": 0.0, "alpha": 1e-7, "passed": False}],
         "min_detectable_rel_error": 0.00066, "verdict": "deviates", "message": "explained by fan_avg 22.5"},
    ],
}


def test_audit_page_from_the_json_contract():
    page = pages.audit_page("torch", AUDIT_PAYLOAD, "pip install torch")
    rows = [line for line in page.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert "row-" not in rows[0] and '<span class="row-deviates">**deviates**</span>' in rows[1]  # tinted row
    assert "torch 9.9" in page and "1 conforms" in page and "1 deviates" in page
    assert "**(9, 36)**" in page  # framework fans that differ from the textbook's are bold
    assert "0.1111<br>0.0443 (×0.3987)" in page
    assert "## Findings" in page and "explained by fan&#95;avg 22.5" not in page  # intra-word _ kept
    assert "explained by fan_avg 22.5" in page and "`moment_variance`" in page
    assert "invariants audit torch --json torch.json" in page


@pytest.mark.parametrize("payload", [None, {"results": [{"target": "jax", "verdict": "skipped",
                                                         "message": "jax: skipped: pip install jax jaxlib"}]}])
def test_audit_page_skipped_shows_install_hint(payload):
    page = pages.audit_page("jax", payload, "pip install jax jaxlib")
    assert '!!! note "skipped"' in page and "`pip install jax jaxlib`" in page
    # no stored data is not "not installed" (issue 16: a new --out folder said "torch is not installed")
    assert ("data/audit/jax.json does not exist" in page) == (payload is None)
    assert "not installed where" not in page
    assert "`invariants report --audit jax`" in page
    index = pages.audit_index([("jax", payload, "pip install jax jaxlib"), ("torch", AUDIT_PAYLOAD, "pip install torch")])
    assert "1 conforms, 1 deviates" in index
    assert ("no stored audit: `invariants report --audit jax`" if payload is None
            else "not audited: `pip install jax jaxlib`") in index


# ------------------------------------------------------------------------------------------ figures


def test_r4_rounds_to_four_significant_digits():
    from invariants.report.figures import r4

    assert r4({"a": [1.234567, 0.0, float("nan")], "b": 3, "c": True}) == {"a": [1.235, 0.0, None], "b": 3, "c": True}


def test_figure_png_is_deterministic_and_has_no_software_metadata():
    """Two renders give the same bytes; a third inside figures.without_pixels (the docs fixture's cheap build)
    gives the same plotted data and the 1×1 placeholder instead of the drawing, and the pixels come back after it."""
    pytest.importorskip("matplotlib", reason="figures need the docs extra: pip install -e '.[docs]'")
    from invariants.report.figures import PLACEHOLDER_PNG, render_all, without_pixels

    first = render_all(names=["xor_boundaries"])["xor_boundaries"]
    with without_pixels():
        cheap = render_all(names=["xor_boundaries"])["xor_boundaries"]
    second = render_all(names=["xor_boundaries"])["xor_boundaries"]
    assert first.png == second.png
    assert first.png.startswith(b"\x89PNG") and b"Software" not in first.png and b"matplotlib" not in first.png
    assert [r["accuracy"] for r in first.data["runs"]] == [0.75, 1.0, 1.0]
    json.dumps(first.data, allow_nan=False)
    assert cheap.png == PLACEHOLDER_PNG and _png_width(PLACEHOLDER_PNG) == 1 and _png_width(first.png) > 100
    assert cheap.data == first.data and cheap.note == first.note


def test_symmetry_defect_figure_from_study_rows():
    pytest.importorskip("matplotlib", reason="figures need the docs extra: pip install -e '.[docs]'")
    from invariants.report.figures import FigureContext, render_all

    rows = [{"backend": b, "start": "tied", "dtype": dt, "optimizer": o, "width": 64,
             "defects": {"1": 0.0, "10": 0.0 if b == "exact" else 1e-7, "100": 0.0 if b == "exact" else 0.3},
             "first_untied": None if b == "exact" else 4, "accuracy": 0.5, "seconds": 1.0}
            for b in ("exact", "blas") for dt in ("float32", "float64") for o in ("sgd", "adam")]
    rows.append({**rows[0], "start": "nudged"})
    study = {"environment": {"machine": "x86_64", "numpy": "2.0", "python": "3.11"}, "rows": rows}
    fig = render_all(FigureContext(fp_study=study), names=["symmetry_defect"])["symmetry_defect"]
    assert fig is not None and fig.png.startswith(b"\x89PNG")
    assert _png_width(fig.png) <= 820  # legible at page scale: not shrunk to two thirds like the old 1010 px
    assert len(fig.data["curves"]) == 9 and "seconds" not in json.dumps(fig.data)
    assert "blas float32 sgd width 64 split after step 4" in fig.note
    assert "python" not in fig.data["environment"]
    assert render_all(FigureContext(), names=["symmetry_defect"])["symmetry_defect"] is None  # pending


# ------------------------------------------------------------------------------------------ site and CLI


def fake_site(files):
    from invariants.report.site import Site

    class Report:
        ok = True
        outcomes = []
        failed = []

    return Site(files=files, report=Report())


def test_write_site_removes_stale_generated_files_only(tmp_path):
    from invariants.report.site import compare_site, write_site

    docs = tmp_path / "docs"
    old = fake_site({"index.md": b"home\n", "claims/OLD-01.md": b"old\n"})
    assert sorted(write_site(old, docs)[0]) == ["claims/OLD-01.md", "index.md"]
    (docs / "javascripts").mkdir()
    (docs / "javascripts" / "x.js").write_text("static")
    (docs / "data" / "audit").mkdir(parents=True)
    (docs / "data" / "audit" / "torch.json").write_text("{}")
    (docs / "claims" / "mine.md").write_text("the user's own page")  # a generated name, not ours
    site = fake_site({"index.md": b"home\n", "claims/NEW-01.md": b"new\n", "figures/f.png": b"png"})
    assert sorted(compare_site(site, docs)) == ["missing claims/NEW-01.md", "missing figures/f.png",
                                                "stale claims/OLD-01.md", "stale claims/mine.md"]
    changed, removed = write_site(site, docs)
    assert sorted(changed) == ["claims/NEW-01.md", "figures/f.png"] and removed == ["claims/OLD-01.md"]
    assert (docs / "javascripts" / "x.js").exists() and (docs / "data" / "audit" / "torch.json").exists()
    assert (docs / "claims" / "mine.md").read_text() == "the user's own page"
    assert compare_site(site, docs) == ["stale claims/mine.md"]
    (docs / "figures" / "f.png").write_bytes(b"other pixels")  # PNG: presence only
    (docs / "index.md").write_text("edited by hand\n")
    assert compare_site(site, docs) == ["differs index.md", "stale claims/mine.md"]


def test_report_never_writes_into_a_folder_it_did_not_create(tmp_path):
    """Known-bad input: a user's docs/ (issue 16: index.md overwritten, claims/mine.md deleted).  Nothing is
    written without --force; with --force only the generated paths are written and nothing is removed."""
    from invariants.report.manifest import MANIFEST, NotOwned
    from invariants.report.site import write_site

    docs = tmp_path / "docs"
    (docs / "claims").mkdir(parents=True)
    (docs / "index.md").write_text("my project\n")
    (docs / "claims" / "mine.md").write_text("mine\n")
    site = fake_site({"index.md": b"home\n", "claims/A-01.md": b"a\n"})
    with pytest.raises(NotOwned, match="was not created by invariants report.*1 of its files would be overwritten"):
        write_site(site, docs)
    assert (docs / "index.md").read_text() == "my project\n" and not (docs / MANIFEST).exists()
    assert not (docs / "claims" / "A-01.md").exists()
    changed, removed = write_site(site, docs, force=True)
    assert sorted(changed) == ["claims/A-01.md", "index.md"] and removed == []
    assert (docs / "claims" / "mine.md").read_text() == "mine\n"
    # an empty folder is fine without force
    (tmp_path / "empty").mkdir()
    assert write_site(site, tmp_path / "empty")[0]


def test_report_keeps_pages_edited_since_it_wrote_them(tmp_path):
    from invariants.report.manifest import NotOwned
    from invariants.report.site import write_site

    docs = tmp_path / "docs"
    write_site(fake_site({"index.md": b"home\n", "claims/OLD-01.md": b"old\n"}), docs)
    (docs / "index.md").write_text("edited by hand\n")
    (docs / "claims" / "OLD-01.md").write_text("edited too\n")
    new = fake_site({"index.md": b"home 2\n"})
    with pytest.raises(NotOwned, match="did not write or that were edited since \\(index.md\\)"):
        write_site(new, docs)
    changed, removed = write_site(new, docs, force=True)
    assert changed == ["index.md"] and removed == []  # the edited stale page stays
    assert (docs / "claims" / "OLD-01.md").read_text() == "edited too\n"
    # a foreign manifest is not ours either
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ".invariants-report.json").write_text('{"generator": "someone else", "files": {}}')
    with pytest.raises(NotOwned, match="not written by invariants report"):
        write_site(new, tmp_path / "other")


def _run_cli(argv, monkeypatch, site):
    from invariants.core.errors import UsageError
    from invariants.report import cli_report, site as site_mod

    monkeypatch.setattr(site_mod, "build_site", lambda *a, **k: site)
    parser = argparse.ArgumentParser(prog="invariants")
    cli_report.add_report(parser.add_subparsers())
    args = parser.parse_args(["report", *argv])
    try:
        return args.func(args)
    except UsageError as exc:
        return f"usage: {exc}"


def test_report_command_writes_then_checks(tmp_path, monkeypatch, capsys):
    """A folder with no mkdocs.yml above it becomes a complete site: mkdocs.yml and the pages in docs/."""
    site = fake_site({"index.md": b"home\n"})
    out = str(tmp_path / "docs")
    assert _run_cli(["--out", out, "-q"], monkeypatch, site) == 0
    assert (tmp_path / "docs" / "docs" / "index.md").read_text() == "home\n"
    assert "docs_dir: docs" in (tmp_path / "docs" / "mkdocs.yml").read_text()
    assert _run_cli(["--out", out, "--check"], monkeypatch, site) == 0
    (tmp_path / "docs" / "docs" / "index.md").write_text("drifted\n")
    assert _run_cli(["--out", out, "--check"], monkeypatch, site) == 1
    err = capsys.readouterr().err
    assert "differs docs/index.md" in err and "-drifted" in err and "+home" in err


def test_report_into_the_docs_folder_of_a_project_writes_pages_only(tmp_path, monkeypatch):
    """This repository's layout: mkdocs.yml above the folder names it as docs_dir; that file is left alone."""
    (tmp_path / "mkdocs.yml").write_text("site_name: mine\ndocs_dir: pages  # the project's\n")
    site = fake_site({"index.md": b"home\n"})
    assert _run_cli(["--out", str(tmp_path / "pages"), "-q"], monkeypatch, site) == 0
    assert (tmp_path / "pages" / "index.md").read_text() == "home\n"
    assert not (tmp_path / "pages" / "mkdocs.yml").exists()
    assert (tmp_path / "mkdocs.yml").read_text().startswith("site_name: mine")
    # another folder of the same project is not its docs_dir: a standalone site
    assert _run_cli(["--out", str(tmp_path / "other"), "-q"], monkeypatch, site) == 0
    assert (tmp_path / "other" / "mkdocs.yml").is_file() and (tmp_path / "other" / "docs" / "index.md").is_file()


def test_layout_reads_docs_dir_like_mkdocs(tmp_path):
    from invariants.report.layout import layout_for, project_docs_dir

    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")  # mkdocs' default docs_dir: docs
    assert project_docs_dir(tmp_path / "mkdocs.yml") == (tmp_path / "docs").resolve()
    assert not layout_for(tmp_path / "docs").standalone and layout_for(tmp_path / "site").standalone
    (tmp_path / "mkdocs.yml").write_text("docs_dir: 'src'\n")
    assert layout_for(tmp_path / "src").docs_dir == tmp_path / "src"
    assert layout_for(tmp_path / "docs").docs_dir == tmp_path / "docs" / "docs"


def test_repository_mkdocs_yml_is_the_generated_config():
    from pathlib import Path

    from invariants.report.sitefiles import mkdocs_config

    repo = Path(__file__).resolve().parents[2]
    assert (repo / "mkdocs.yml").read_text(encoding="utf-8") == mkdocs_config("docs"), \
        "mkdocs.yml differs from invariants.report.sitefiles.mkdocs_config(); regenerate it from there"
    assert "http" not in mkdocs_config("docs") and "extra_javascript" not in mkdocs_config("docs")  # offline


def test_report_command_exit_1_when_evidence_fails(tmp_path, monkeypatch):
    site = fake_site({"index.md": b"home\n"})
    site.report.ok = False
    assert _run_cli(["--out", str(tmp_path), "-q"], monkeypatch, site) == 1


def test_report_command_usage_errors(tmp_path, monkeypatch):
    site = fake_site({})
    not_dir = tmp_path / "file"
    not_dir.write_text("x")
    assert _run_cli(["--out", str(not_dir)], monkeypatch, site).startswith("usage: --out")
    assert _run_cli(["--out", str(tmp_path / "absent"), "--check"], monkeypatch, site).startswith("usage: --check")


def test_report_command_refuses_a_users_folder_before_any_work(tmp_path, monkeypatch):
    from invariants.report import site as site_mod

    (tmp_path / "index.md").write_text("mine\n")

    def build(*a, **k):
        raise AssertionError("the evidence ran before the folder was checked")

    monkeypatch.setattr(site_mod, "build_site", build)
    parser = argparse.ArgumentParser(prog="invariants")
    from invariants.report import cli_report

    cli_report.add_report(parser.add_subparsers())
    args = parser.parse_args(["report", "--out", str(tmp_path)])
    from invariants.core.errors import UsageError

    with pytest.raises(UsageError, match="--force"):
        args.func(args)
    assert _run_cli(["--out", str(tmp_path), "--force", "-q"], monkeypatch, fake_site({"index.md": b"h\n"})) == 0


def test_unknown_audit_framework_is_a_usage_error(tmp_path):
    pytest.importorskip("matplotlib", reason="figures need the docs extra: pip install -e '.[docs]'")
    from invariants.report.site import build_site

    with pytest.raises(ValueError, match="unknown framework 'nope'"):
        build_site(tmp_path, audit=["nope"], report=object())


# ------------------------------------------------------------------------------------------ formulas


def test_formulas_belong_to_registered_claims_and_match_the_literature():
    from invariants.claims.registry import all_claims
    from invariants.report.formulas import CLAIM_FORMULAS, formulas_for, latex

    ids = {c.id for c in all_claims()}
    assert set(CLAIM_FORMULAS) <= ids, set(CLAIM_FORMULAS) - ids
    rows = formulas_for("VAR-GLOROT-01")
    assert any(r.published is not None and r.equal for r in rows)
    assert all(r.equal for r in rows if r.published is not None)
    assert r"\mathrm{fan}_{\mathrm{in}}" in latex(rows[1].derived)
    assert formulas_for("NO-SUCH-01") == []


def _png_width(png: bytes) -> int:
    return int.from_bytes(png[16:20], "big")  # IHDR: width, then height


def test_power_curve_keeps_an_outlier_from_squashing_its_axis():
    """Known-bad input (issue 16): one tensor detected at 1e-12 stretched the axis over 13 decades."""
    pytest.importorskip("matplotlib", reason="figures need the docs extra: pip install -e '.[docs]'")
    from invariants.report.figures import FigureContext, power_axis_floor, render_all

    audits = {"numpy": {"results": [{"observed": {"n": 180000}, "min_detectable_rel_error": 2.7e-13,
                                     "verdict": "conforms"},
                                    {"observed": {"n": 100000}, "min_detectable_rel_error": 3e-3,
                                     "verdict": "conforms"}]}}
    fig = render_all(FigureContext(audits=audits), names=["power_curve"])["power_curve"]
    floor = power_axis_floor(fig.data["curves"])
    assert 1e-8 <= floor <= 1e-5  # the curves' own range, not the outlier's
    assert "1 audited tensor(s) detect errors below" in fig.note
    assert _png_width(fig.png) <= 720  # shown at its natural size on the page
    # known-good: without an outlier nothing is said
    clean = render_all(FigureContext(audits={"numpy": {"results": audits["numpy"]["results"][1:]}}),
                       names=["power_curve"])["power_curve"]
    assert "below" not in clean.note


def test_build_without_a_data_folder_says_so_in_one_line(tmp_path, monkeypatch):
    """Issue 16: `report --out elsewhere` said "torch is not installed" when the folder simply had no data/.
    Known-good: with data/ there is no such note."""
    from invariants.report import figures, site as site_mod

    monkeypatch.setattr(figures, "render_all", lambda *a, **k: {})  # figures are tested above
    report = site_mod.StoredReport({"version": "1.0", "ok": True, "claims": [claim_dict()]})
    built = site_mod.build_site(tmp_path, report=report)
    notes = [n for n in built.notes if "data/ does not exist" in n]
    assert len(notes) == 1 and "\n" not in notes[0] and "not installed" not in notes[0]
    assert "--audit" in notes[0] and "stylesheets/extra.css" in built.files
    audit = built.files["audit/torch.md"].decode()
    assert "data/audit/torch.json does not exist" in audit and "is not installed" not in audit
    (tmp_path / "data").mkdir()
    assert not [n for n in site_mod.build_site(tmp_path, report=report).notes if "does not exist" in n]
