"""Output paths checked before any work: a run of minutes must not end in "cannot write" (``--json``,
``report --out``).

Each check *tries* the write the run will make (opening the file for append, creating a probe file in the
folder) rather than asking ``os.access``: permissions are not the only way a write fails (a read-only file
system, ``/proc``, a full disk, root on a read-only mount), and a probe tells them all apart the same way.
"""
from __future__ import annotations

import os
import tempfile

from invariants.core.errors import UsageError


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_output_file(path: str | None, flag: str) -> None:
    """Refuse an output file that cannot be written, before any work (``None`` and ``"-"``, stdout, pass).

    An existing file is opened for append (its content is kept); a new one is created and removed again.

    Args:
        path: the file the run will write.
        flag: the option or argument that named it, for the message (``--json``).

    Raises:
        UsageError: ``path`` is a directory, its directory does not exist, or the file cannot be written
            (one line with the reason).
    """
    if path is None or path == "-":
        return
    if os.path.isdir(path):
        raise UsageError(f"{flag}: {path!r} is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"{flag}: directory {parent!r} does not exist")
    existed = os.path.exists(path)
    try:
        with open(path, "a" if existed else "x", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"{flag}: cannot write {path!r}: {_reason(exc)}") from None
    if not existed:
        os.remove(path)


def check_output_dir(path: str, flag: str) -> None:
    """Refuse an output folder that cannot be written, before any work: an existing folder gets a probe file
    (created and removed); a new one needs its nearest existing ancestor to be a writable folder.

    Raises:
        UsageError: ``path`` (or the ancestor it would be created in) is not a folder or cannot be written.
    """
    target = os.path.abspath(path)
    probe_in = target
    while not os.path.exists(probe_in):
        probe_in = os.path.dirname(probe_in)
    if not os.path.isdir(probe_in):
        raise UsageError(f"{flag}: {path!r} cannot be created: {probe_in!r} is not a directory"
                         if probe_in != target else f"{flag}: {path!r} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".invariants-write-test-", dir=probe_in)
    except OSError as exc:
        where = "" if probe_in == target else f" (it would be created in {probe_in!r})"
        raise UsageError(f"{flag}: cannot write {path!r}{where}: {_reason(exc)}") from None
    os.close(fd)
    os.remove(probe)


__all__ = ["check_output_dir", "check_output_file"]
