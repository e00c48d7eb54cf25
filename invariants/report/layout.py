"""Where ``invariants report --out DIR`` puts the site: a complete mkdocs project, or the docs folder of
an existing one.

- **Standalone** (the default): ``DIR`` becomes a buildable site: ``DIR/mkdocs.yml``
  (:func:`invariants.report.sitefiles.mkdocs_config`) and the pages, figures, stylesheet and stored
  data under ``DIR/docs/``; ``mkdocs build -f DIR/mkdocs.yml`` (or ``cd DIR && mkdocs build``).
  mkdocs refuses a ``docs_dir`` that is the config file's own folder, so the pages need the subfolder.
- **Docs folder of a project**: when the folder above ``DIR`` holds an ``mkdocs.yml`` whose
  ``docs_dir`` is ``DIR`` (this repository: ``--out docs``), the pages go straight into ``DIR`` and that
  ``mkdocs.yml``, the project's own file, is left alone.

Either way the manifest (:mod:`invariants.report.manifest`) lives at the top of ``DIR`` and lists every
file written, so a later run overwrites and removes only those.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from invariants.report import sitefiles

#: the config file of a standalone site, relative to ``--out``
CONFIG = "mkdocs.yml"
#: the pages' folder of a standalone site, relative to ``--out``
DOCS = "docs"

_DOCS_DIR_RE = re.compile(r"^docs_dir:\s*['\"]?([^'\"#\s]+)", re.MULTILINE)


def project_docs_dir(config: Path) -> Path:
    """The ``docs_dir`` an ``mkdocs.yml`` names (mkdocs' default ``docs``), resolved against its folder.

    Read with a pattern, not a YAML parser: mkdocs configs may hold ``!!python/name`` tags that a safe
    loader rejects, and only this one top-level key matters here.
    """
    try:
        text = config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return config.parent / DOCS
    m = _DOCS_DIR_RE.search(text)
    return (config.parent / (m.group(1) if m else DOCS)).resolve()


@dataclass(frozen=True)
class Layout:
    """The folder written and where the pages go in it.

    Attributes:
        root: the ``--out`` folder (holds the manifest).
        docs: the pages' folder relative to ``root``: ``""`` (docs folder of a project) or ``"docs"``.
    """

    root: Path
    docs: str

    @property
    def standalone(self) -> bool:
        """Whether ``root/mkdocs.yml`` is written (``False``: the project's own config is used)."""
        return bool(self.docs)

    @property
    def docs_dir(self) -> Path:
        """The pages' folder (stored inputs ``data/`` are read from it)."""
        return self.root / self.docs if self.docs else self.root

    def place(self, files: Mapping[str, bytes]) -> dict[str, bytes]:
        """The build's files (paths relative to the docs folder) as paths relative to ``root``, with
        ``mkdocs.yml`` added for a standalone site."""
        if not self.standalone:
            return dict(files)
        out = {CONFIG: sitefiles.mkdocs_config(DOCS).encode("utf-8")}
        out.update({f"{DOCS}/{rel}": content for rel, content in files.items()})
        return out

    def docs_path(self, rel: str) -> str | None:
        """A path relative to ``root`` as a path relative to the docs folder (``None``: outside it)."""
        if not self.standalone:
            return rel
        prefix = DOCS + "/"
        return rel[len(prefix):] if rel.startswith(prefix) else None

    def describe(self) -> str:
        """How to build the site, for the command's last line."""
        if self.standalone:
            return f"build the site: mkdocs build -f {self.root / CONFIG}"
        return f"pages for the mkdocs project in {self.root.parent}/"


def layout_for(out: str | Path) -> Layout:
    """The layout for ``--out out`` (see the module docstring)."""
    root = Path(out)
    parent_config = root.absolute().parent / CONFIG
    if parent_config.is_file() and project_docs_dir(parent_config) == root.resolve():
        return Layout(root, "")
    return Layout(root, DOCS)
