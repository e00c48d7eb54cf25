"""The README's Layout section shows the architecture diagram the methods page renders (one source:
``invariants.report.architecture``), and the diagram names every layer of the import-linter contract."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from invariants.report import architecture
from invariants.report.pages import methods_page

REPO = Path(__file__).resolve().parents[2]


def test_readme_shows_the_diagram():
    assert architecture.markdown() in (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_check_fails_on_a_changed_diagram():
    # mutation self-test: an edited diagram is no longer found in the README
    edited = architecture.markdown().replace("frameworks", "adapters", 1)
    assert edited not in (REPO / "README.md").read_text(encoding="utf-8")


def test_diagram_names_every_contract_layer():
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    names = {n.strip("() ") for entry in layers for n in entry.split("|")} - {"__main__", "pytest_plugin"}
    missing = sorted(n for n in names if not re.search(rf"\b{re.escape(n)}\b", architecture.DIAGRAM))
    assert not missing, f"layers of the contract missing from the diagram: {missing}"


def test_methods_page_renders_the_diagram():
    from invariants.report.site import method_facts

    assert architecture.markdown() in methods_page(method_facts())
