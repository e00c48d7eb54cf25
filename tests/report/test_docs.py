"""The documentation site: committed pages equal what ``invariants report`` generates (no drift), each
claim page's verdict equals the registry's, the site builds with ``mkdocs build --strict`` offline,
and ``CITATION.cff`` names the package version.

The drift test regenerates every page in memory (from this session's verify report, which reuses the
evidence results the claim tests computed, and building the figures without rasterizing them) and compares it
with ``docs/``: Markdown and the figures' JSON data byte for byte, PNG files by presence (their pixels depend on
the matplotlib/FreeType version).  On a CPU other than the one ``docs/data/platform.json`` records, numbers are
masked (their last digits depend on the SIMD and BLAS kernels; ``tests/report/test_platform.py``).  When it
fails, regenerate with ``invariants report --out docs`` and commit the result.

Needs the ``docs`` extra (mkdocs, mkdocs-material, matplotlib, latex2mathml); without it these tests skip,
saying so.  The browser test also needs a headless Chromium (``tests/report/browser.py``: it skips
without one, and fails under ``CI=true``, where ``.ci/run`` installs it).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
DOCS_EXTRA = "needs the docs extra (pip install -e '.[docs]'): {}"


def _require(module: str) -> None:
    pytest.importorskip(module, reason=DOCS_EXTRA.format(f"{module} is not installed"))


@pytest.fixture(scope="module")
def site(evidence_store):
    """Every generated file, built now from the code and this session's verify report: the evidence results the
    claim tests already computed, the rest run now, once per session for every xdist worker
    (tests/shared_evidence.py).  The figures are built and their data written but not rasterized (each PNG is
    a placeholder, ``site.pixels`` is False): the drift check compares the data, and PNGs by presence only;
    rasterizing was 3.7 of the build's 5.2 CPU-s.  The one test that would show the generated PNGs (the
    browser test, when docs/ has drifted) draws them (:func:`_with_pixels`)."""
    _require("matplotlib")
    from shared_evidence import session_report

    from invariants.claims.registry import all_claims
    from invariants.report.site import build_site

    return build_site(DOCS, report=session_report(evidence_store, all_claims()), pixels=False)


def _with_pixels(site):
    """``site``'s files with the figures rasterized (a rebuild from its verify report when ``site.pixels`` is off)."""
    from invariants.report.site import build_site

    return site.files if site.pixels else build_site(DOCS, report=site.report).files


#: the tests that need the built site run on one xdist worker (--dist loadgroup), so it is built once
ONE_BUILD = pytest.mark.xdist_group("docs-site")


@ONE_BUILD
def test_committed_pages_match_generated(site):
    from invariants.hypothesis_profiles import FRESH_SEEDS
    from invariants.report.site import compare_site, other_platform, unified_diff

    if FRESH_SEEDS:
        pytest.skip("HYPOTHESIS_PROFILE=flake draws fresh examples for the evidence, so the example counts on the "
                    "pages differ from the committed (derandomized) build by design; the drift check runs under ci")

    diffs = compare_site(site, DOCS)
    if diffs:
        detail = unified_diff(site, DOCS, [d.split(" ", 1)[1] for d in diffs if d.startswith("differs ")])
        across = other_platform(site, DOCS)
        pytest.fail("docs/ has drifted from the code; run `invariants report --out docs` and commit:\n  "
                    + (f"({across})\n  " if across else "")
                    + "\n  ".join(diffs) + ("\n" + detail if detail else ""))


@ONE_BUILD
def test_every_piece_of_evidence_passed_in_the_build(site):
    failed = [(o.claim.id, ev.name) for o in site.report.failed for ev, _ in o.failures]
    assert not failed, f"evidence failed, so the generated pages show failures: {failed}"


@ONE_BUILD
def test_generated_text_has_nothing_machine_dependent(site):
    home = os.path.expanduser("~")
    needles = [str(REPO), str(Path.cwd())] + ([home] if home not in ("/", "") else [])
    date = re.compile(r"\b20\d\d-\d\d-\d\d\b")
    # the only dates allowed are those of the stored measurements the methods page quotes
    from invariants.report import reliability

    measured = {sec["measured"] for sec in reliability.load(DOCS).values()}
    for rel, content in site.files.items():
        if rel.endswith(".png"):
            continue
        body = content.decode("utf-8")
        for needle in needles:
            assert needle not in body, f"{rel} contains the local path {needle!r}"
        dates = set(date.findall(body)) - measured
        assert not dates, f"{rel} contains a date that is not a stored measurement's: {sorted(dates)}"
        assert '"seconds"' not in body and "total_seconds" not in body, f"{rel} contains a timing"


def test_claim_pages_state_the_registered_verdict():
    """Cheap check of the committed pages against the registry (no evidence runs)."""
    from invariants import __version__
    from invariants.claims.registry import all_claims

    for claim in all_claims():
        path = DOCS / "claims" / f"{claim.id}.md"
        assert path.is_file(), f"no page for {claim.id}: run `invariants report --out docs`"
        page = path.read_text(encoding="utf-8")
        verdicts = re.findall(r"\*\*Verdict: (\w+)\*\*", page)
        assert verdicts == [claim.verdict.value], f"{claim.id}: page says {verdicts}, registry {claim.verdict.value}"
        assert f"Cite as: **invariants {__version__}, claim {claim.id}**" in page
        assert f"invariants verify --only {claim.id}" in page
    index = (DOCS / "claims" / "index.md").read_text(encoding="utf-8")
    for claim in all_claims():
        assert f"[{claim.id}]({claim.id}.md) | `{claim.verdict.value}`" in index


@pytest.fixture(scope="module")
def committed_html(tmp_path_factory) -> Path:
    """The committed site (this repository's ``mkdocs.yml`` and ``docs/``) built by ``mkdocs build --strict``, once
    for the strict-build test and, when the committed pages are the generated ones, the browser test."""
    _require("mkdocs")
    _require("material")
    _require("pymdownx")
    site_dir = tmp_path_factory.mktemp("committed") / "site"
    _mkdocs_build(REPO / "mkdocs.yml", site_dir)
    return site_dir


@ONE_BUILD
def test_mkdocs_build_strict(committed_html):
    from invariants.claims.registry import all_claims

    for claim in all_claims():
        page = committed_html / "claims" / claim.id / "index.html"
        assert page.is_file(), f"no HTML page for {claim.id}"
    built = (committed_html / "claims" / "VAR-GLOROT-01" / "index.html").read_text(encoding="utf-8")
    assert "<math" in built and "<mfrac>" in built  # SymPy formulas as MathML: nothing left to typeset
    assert "figures/variance_depth.png" in built


def _mkdocs_build(config: Path, site_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["NO_MKDOCS_2_WARNING"] = "1"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config),
                           "-d", str(site_dir)], cwd=config.parent, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"


def _generated_html(site, request, tmp_path: Path) -> tuple[Path, set[str]]:
    """The HTML of the site as ``invariants report --out DIR`` writes it (standalone: its ``mkdocs.yml`` and
    ``docs/``), and the files of the built folder that such a build lacks (links to them count as broken).

    When the committed site is that site (no drift: the same pages byte for byte, the figures present, and this
    repository's ``mkdocs.yml`` is the generated config), the committed build is reused: it differs only by the
    figures' pixels and the files of ``docs/`` that ``invariants report --out DIR`` does not write (the stored data,
    ``docs/data/``), whose built files are returned as missing.
    """
    from invariants.report import sitefiles
    from invariants.report.layout import Layout
    from invariants.report.site import compare_site

    if not compare_site(site, DOCS) and (REPO / "mkdocs.yml").read_text(encoding="utf-8") == sitefiles.mkdocs_config():
        html_dir = request.getfixturevalue("committed_html")
        extra = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*") if p.is_file()} - set(site.files)
        built = {rel if not rel.endswith(".md") else "index.html" if rel == "index.md"
                 else rel.removesuffix("index.md").removesuffix(".md").rstrip("/") + "/index.html" for rel in extra}
        return html_dir, {rel for rel in built if (html_dir / rel).is_file()}
    project = Layout(tmp_path / "out", "docs")
    for rel, content in project.place(_with_pixels(site)).items():
        path = project.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    html_dir = tmp_path / "html"
    _mkdocs_build(project.root / "mkdocs.yml", html_dir)
    return html_dir, set()


@ONE_BUILD
def test_generated_site_in_a_browser(site, request, tmp_path):
    """The site as `invariants report --out DIR` writes it (mkdocs.yml + docs/), built and loaded in headless
    Chromium: every page with formulas shows MathML and no LaTeX left unrendered, no internal link or image
    is broken, nothing is loaded from the network, and a screenshot is not blank."""
    _require("mkdocs")
    _require("material")
    from tests.report import browser

    chromium = browser.find_browser()
    html_dir, absent = _generated_html(site, request, tmp_path)

    pages = sorted(html_dir.rglob("*.html"))
    assert len(pages) > len(site.files) // 3
    problems = []
    for page in pages:  # every page, from its static HTML: links, images, and no remote asset
        reader = browser.read_page(page.read_text(encoding="utf-8"))
        rel = page.relative_to(html_dir).as_posix()
        problems += [f"{rel}: broken link {t}" for t in browser.broken_links(html_dir, page, reader.links, absent)]
        problems += [f"{rel}: loads {a} from the network" for a in reader.assets if re.match(r"^(https?:)?//", a)]

    # pages with formulas, whatever their form (MathML, or LaTeX delimiters a script would have to typeset)
    with_math = {rel[:-3] for rel, content in site.files.items()
                 if rel.endswith(".md") and (b"<math" in content or b"\\(" in content)}
    assert {"claims/VAR-GLOROT-01", "claims/VAR-HE-01"} <= with_math
    loaded = sorted(with_math) + ["index", "claims/index", "figures", "methods"]

    # every page in one browser start (tests/report/browser.py: dump_doms), with a known-bad canary last: a page of
    # LaTeX no renderer turned into MathML, which the checks below must flag (so the harness reads each frame)
    canary = tmp_path / "canary.html"
    canary.write_text("<html><body><p>" + "unrendered " * 40 + "\\(\\frac{2}{n}\\)</p></body></html>",
                      encoding="utf-8")
    urls = [(html_dir / ("index.html" if name == "index" else f"{name.removesuffix('/index')}/index.html")).as_uri()
            for name in loaded]
    *page_doms, canary_dom = browser.dump_doms(chromium, urls + [canary.as_uri()], tmp_path)
    bad = browser.read_page(canary_dom)
    assert browser.unrendered_math(" ".join(bad.text)) and not bad.maths, "the harness did not read the canary page"
    doms = dict(zip(loaded, page_doms))
    for name, dom in doms.items():
        reader = browser.read_page(dom)
        visible = " ".join("".join(reader.text).split())
        assert len(visible) > 200, f"{name}: the browser shows almost nothing"
        problems += [f"{name}: unrendered math {m!r}" for m in browser.unrendered_math(visible)]
        if name in with_math and not reader.maths:
            problems.append(f"{name}: has formulas but the browser shows no MathML element")
    assert not problems, "\n".join(problems)

    shot = browser.screenshot(chromium, (html_dir / "claims" / "VAR-GLOROT-01" / "index.html").as_uri(),
                              tmp_path / "page.png", tmp_path / "profile-shot")
    assert shot.startswith(b"\x89PNG") and not browser.png_is_blank(shot), "the page's screenshot is blank"


def test_browser_checks_catch_what_they_look_for(tmp_path):
    """Mutation self-test of the browser helpers on known-bad and known-good input (no browser needed)."""
    from tests.report import browser

    bad = browser.read_page("<p>Var = \\(\\frac{2}{n}\\) or $x_1$</p><pre>$ pip install</pre>")
    assert len(browser.unrendered_math(" ".join(bad.text))) >= 2
    good = browser.read_page("<p>cost 5 $ and <math><mfrac><mn>2</mn><mi>n</mi></mfrac></math></p><code>\\(x\\)</code>")
    assert not browser.unrendered_math(" ".join(good.text)) and good.maths == 1
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text("x")
    page = tmp_path / "index.html"
    assert browser.broken_links(tmp_path, page, ["a/", "a/#x", "https://x.org", "#top"]) == []
    assert browser.broken_links(tmp_path, page, ["b/", "../outside/"]) == ["b/", "../outside/"]
    assert browser.broken_links(tmp_path, page, ["a/", "b/"], absent={"a/index.html"}) == ["a/", "b/"]
    pytest.importorskip("PIL", reason=DOCS_EXTRA.format("Pillow (with matplotlib) is not installed"))
    import io

    from PIL import Image

    def png(draw: bool) -> bytes:
        img = Image.new("RGB", (100, 100), "white")
        if draw:
            img.paste((0, 0, 0), (10, 10, 60, 60))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    assert browser.png_is_blank(png(False)) and not browser.png_is_blank(png(True))


def test_citation_cff_names_this_version():
    from invariants import __version__

    text = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    yaml = pytest.importorskip("yaml", reason=DOCS_EXTRA.format("PyYAML is not installed"))
    cff = yaml.safe_load(text)
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == __version__
    for key in ("message", "title", "authors"):
        assert cff[key], key
    assert f"invariants {__version__}, claim" in cff["message"]
