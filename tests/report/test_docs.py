"""The documentation site: committed pages equal what ``invariants report`` generates (no drift), each
claim page's verdict equals the registry's, the site builds with ``mkdocs build --strict`` offline,
and ``CITATION.cff`` names the package version.

The drift test regenerates every page in memory (from this session's verify report, which reuses the
evidence results the claim tests computed, and drawing the figures) and compares it with ``docs/``: Markdown and the figures' JSON data
byte for byte, PNG files by presence (their pixels depend on the matplotlib/FreeType version).  When it
fails, regenerate with ``invariants report --out docs`` and commit the result.

Needs the ``docs`` extra (mkdocs, mkdocs-material, matplotlib); without it these tests skip, saying so.
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
    """Every generated file, built now from the code (figures drawn) and this session's verify report: the
    evidence results the claim tests already computed, the rest run now, once per session for every xdist
    worker (tests/shared_evidence.py)."""
    _require("matplotlib")
    from shared_evidence import session_report

    from invariants.claims.registry import all_claims
    from invariants.report.site import build_site

    return build_site(DOCS, report=session_report(evidence_store, all_claims()))


#: the tests that need the built site run on one xdist worker (--dist loadgroup), so it is built once
ONE_BUILD = pytest.mark.xdist_group("docs-site")


@ONE_BUILD
def test_committed_pages_match_generated(site):
    from invariants.hypothesis_profiles import FRESH_SEEDS
    from invariants.report.site import compare_site, unified_diff

    if FRESH_SEEDS:
        pytest.skip("HYPOTHESIS_PROFILE=flake draws fresh examples for the evidence, so the example counts on the "
                    "pages differ from the committed (derandomized) build by design; the drift check runs under ci")

    diffs = compare_site(site, DOCS)
    if diffs:
        detail = unified_diff(site, DOCS, [d.split(" ", 1)[1] for d in diffs if d.startswith("differs ")])
        pytest.fail("docs/ has drifted from the code; run `invariants report --out docs` and commit:\n  "
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


def test_mkdocs_build_strict(tmp_path):
    _require("mkdocs")
    _require("material")
    _require("pymdownx")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["NO_MKDOCS_2_WARNING"] = "1"
    site_dir = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f",
                           str(REPO / "mkdocs.yml"), "-d", str(site_dir)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    from invariants.claims.registry import all_claims

    for claim in all_claims():
        page = site_dir / "claims" / claim.id / "index.html"
        assert page.is_file(), f"no HTML page for {claim.id}"
    built = (site_dir / "claims" / "VAR-GLOROT-01" / "index.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in built  # SymPy formulas reach MathJax
    assert "figures/variance_depth.png" in built


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
