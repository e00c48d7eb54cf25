"""Packaging: what installing the package's extras does to a user's environment."""
from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _extras() -> dict[str, list[str]]:
    return tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]


def _closure(extras: dict[str, list[str]], name: str) -> set[str]:
    """Requirement names an extra installs, following ``invariants[...]`` self-references."""
    out: set[str] = set()
    for req in extras[name]:
        base = req.split(";")[0].strip()
        if base.startswith("invariants["):
            for sub in base[len("invariants["):-1].split(","):
                out |= _closure(extras, sub.strip())
        else:
            out.add(base.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower())
    return out


def test_no_user_facing_extra_installs_a_test_order_shuffler():
    """pytest-randomly, once installed, shuffles every pytest run in the environment (issue 16): only the
    benchmark extra may bring it."""
    extras = _extras()
    for name in extras:
        if name != "bench":
            assert "pytest-randomly" not in _closure(extras, name), name
    assert "pytest-randomly" in _closure(extras, "bench")


def test_closure_follows_self_references():
    """The oracle above can fail: a test extra that pulled randomly through a self-reference is seen."""
    extras = {"a": ["invariants[b]"], "b": ["pytest-randomly>=3.15"]}
    assert "pytest-randomly" in _closure(extras, "a")


ROOT = PYPROJECT.parent
#: first path components that name another project's files (a cited library source), not ours
# DIR: the placeholder of `report --out DIR`
FOREIGN = ("DIR", "keras", "torch", "jax", "flax", "transformers", "timm", "torchvision")


def _readme_paths(text: str) -> set[str]:
    import re

    return {p for p in re.findall(r"`([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)+/?)`", text)
            if p.split("/")[0] not in FOREIGN}


def test_every_path_the_readme_names_is_in_the_repository():
    """Issue 16: the README pointed to `shared/seed/...`, which a clone does not have."""
    missing = sorted(p for p in _readme_paths((ROOT / "README.md").read_text()) if not (ROOT / p).exists())
    assert not missing, missing
    assert _readme_paths("see `shared/seed/weight-init-claims.txt`") == {"shared/seed/weight-init-claims.txt"}
