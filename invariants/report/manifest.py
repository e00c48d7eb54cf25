"""Which files under a docs folder ``invariants report`` wrote: the manifest that lets it never touch
anyone else's.

``invariants report`` is run inside users' projects (the package ships a pytest plugin), where ``docs/``
is usually the project's own.  So it writes only into a folder that is new, empty, or carries its
manifest (:data:`MANIFEST`, JSON: ``{"generator": "invariants report", "files": {path: sha256}}``, paths
relative to the folder, ``/``-separated), and:

- overwrites a file only if the manifest lists it with the hash of the bytes now on disk (written by
  ``report`` and not edited since);
- removes a file only under the same condition, and only when it is a generated page this build no
  longer produces (a removed claim);
- refuses anything else with one line (:class:`NotOwned`), unless ``force``: then it overwrites the
  files it generates (never removes a file the manifest does not list) and records them as its own.

Layout of the plan: :func:`plan` returns a :class:`WritePlan`; :func:`write` carries it out and writes
the new manifest last.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from invariants.core.errors import UsageError

#: file name of the manifest, at the top of the docs folder
MANIFEST = ".invariants-report.json"
GENERATOR = "invariants report"


class NotOwned(UsageError):
    """The folder, or a file in it, is not ``invariants report``'s to write (exit 2, one line)."""


def digest(content: bytes) -> str:
    """Hex SHA-256 of ``content``."""
    return hashlib.sha256(content).hexdigest()


def read(root: Path) -> dict[str, str] | None:
    """The manifest's ``{path: sha256}`` in ``root``, or ``None`` without one.

    Raises:
        NotOwned: a manifest that is not one of ours (unreadable, or another generator's).
    """
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotOwned(f"{path} is not a readable invariants report manifest ({exc}); remove it or use "
                       "another folder") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("generator") != GENERATOR or not isinstance(files, dict):
        raise NotOwned(f"{path} was not written by invariants report; use another folder")
    return {str(k): str(v) for k, v in files.items()}


@dataclass(frozen=True)
class WritePlan:
    """What :func:`write` will do.

    Attributes:
        write: paths whose content is new or changed.
        remove: stale generated paths (listed in the manifest, unedited, no longer produced).
        kept: stale paths left in place because they were edited since ``report`` wrote them.
        manifest: the manifest after the write (``{path: sha256}``).
    """

    write: tuple[str, ...]
    remove: tuple[str, ...]
    kept: tuple[str, ...]
    manifest: dict[str, str]


def _on_disk(root: Path, rel: str) -> bytes | None:
    path = root / rel
    return path.read_bytes() if path.is_file() else None


def plan(files: Mapping[str, bytes], root: Path, is_generated: Callable[[str], bool], force: bool = False) -> WritePlan:
    """Plan writing ``files`` (path -> content) into ``root`` without touching files that are not ours.

    Args:
        files: the build's files.
        root: the docs folder (need not exist).
        is_generated: whether a path is a generated page (only those are ever removed as stale).
        force: write into a folder without a manifest, and over files that are not ours or were edited.

    Raises:
        NotOwned: ``root`` holds files and no manifest, or a file to write exists and is not ours
            (absent from the manifest, or edited since it was written), and ``force`` is false.
    """
    if root.exists() and not root.is_dir():
        raise NotOwned(f"{root} is not a directory")
    owned = read(root) if root.is_dir() else None
    if owned is None and root.is_dir() and any(root.iterdir()) and not force:
        clash = sum((root / rel).exists() for rel in files)
        raise NotOwned(f"{root}/ already holds files and was not created by invariants report (no {MANIFEST}); "
                       f"refusing to write into it ({clash} of its files would be overwritten): give --out a new "
                       "or empty folder, or --force to write anyway (overwrites those files, removes nothing)")
    owned = dict(owned or {})
    to_write, foreign = [], []
    for rel, content in files.items():
        now = _on_disk(root, rel)
        if now == content:
            continue
        if now is not None and owned.get(rel) != digest(now):
            foreign.append(rel)
        to_write.append(rel)
    if foreign and not force:
        raise NotOwned(f"refusing to overwrite {len(foreign)} file(s) in {root}/ that invariants report did not "
                       f"write or that were edited since ({', '.join(sorted(foreign)[:3])}"
                       f"{', ...' if len(foreign) > 3 else ''}); move them away, or --force to overwrite them")
    remove, kept = [], []
    for rel, sha in sorted(owned.items()):
        if rel in files or not is_generated(rel):
            continue
        now = _on_disk(root, rel)
        if now is None:
            owned.pop(rel)
        elif digest(now) == sha:
            remove.append(rel)
            owned.pop(rel)
        else:
            kept.append(rel)
    manifest = {**owned, **{rel: digest(content) for rel, content in files.items()}}
    return WritePlan(tuple(to_write), tuple(remove), tuple(kept), dict(sorted(manifest.items())))


def write(files: Mapping[str, bytes], root: Path, p: WritePlan) -> None:
    """Carry out plan ``p`` (from :func:`plan` on the same ``files`` and ``root``); the manifest last.

    Raises:
        OSError: the folder or a file cannot be written.
    """
    root.mkdir(parents=True, exist_ok=True)
    for rel in p.write:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
    for rel in p.remove:
        (root / rel).unlink()
    body = {"generator": GENERATOR, "files": p.manifest}
    (root / MANIFEST).write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
