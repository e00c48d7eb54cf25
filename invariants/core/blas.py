"""Limiting the BLAS libraries (OpenBLAS, MKL) to one thread, cheaply enough to do it around every
claim and every reference-network run.

:func:`one_thread` is ``threadpoolctl.threadpool_limits(limits=1, user_api="blas")`` with the library scan done
once per set of loaded shared objects instead of on every call. Why: ``threadpool_limits`` walks every shared
object of the process (~170 in ``invariants verify``: numpy, SciPy, numba, torch) each time it is entered, and
``invariants verify`` entered it 106 times: once per claim and again inside each variance-profile, isometry,
criticality and residual run. Measured side by side (2026-12-06, load ~6, process CPU, 50 calls after the verify
imports): 2.07 ms a call before, 0.12 ms with the cached scan, ~0.2 CPU-s of a verify run. A cached
``threadpoolctl.ThreadpoolController`` limits the same libraries (``ctl.limit``: 0.03 ms) as long as no shared
object was loaded or unloaded since it scanned, which is checked on each call by listing the loaded objects'
names (``dl_iterate_phdr``, the list the scan itself reads on Linux: 0.1 ms). Elsewhere (no ``dl_iterate_phdr``)
every call scans, as before. The threads set, and so every result, are the same either way; the returned object
is the same kind of limiter (``restore_original_limits``, context manager).
"""
from __future__ import annotations

import ctypes
import sys
from typing import Any, Optional

# the loaded objects' names when the cached controller scanned, and the controller
_CACHED: list[Any] = [None, None]


class _PhdrInfo(ctypes.Structure):  # the first two fields of <link.h>'s struct dl_phdr_info
    _fields_ = [("dlpi_addr", ctypes.c_void_p), ("dlpi_name", ctypes.c_char_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_PhdrInfo), ctypes.c_size_t, ctypes.c_void_p)


def _lister() -> Optional[Any]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).dl_iterate_phdr
    except (OSError, AttributeError):  # pragma: no cover - a libc without dl_iterate_phdr
        return None


_ITERATE = _lister()


def loaded_objects() -> Optional[tuple[bytes, ...]]:
    """The names of the shared objects loaded in this process, in load order (``dl_iterate_phdr``), or
    ``None`` where that cannot be listed (not Linux)."""
    if _ITERATE is None:
        return None
    names: list[bytes] = []

    def add(info, size, data):
        names.append(info.contents.dlpi_name or b"")
        return 0

    _ITERATE(_CALLBACK(add), None)
    return tuple(names)


def one_thread() -> Any:
    """``threadpool_limits(limits=1, user_api="blas")`` (a limiter, usable as a context manager; on exit
    each library gets back the threads it had), scanning the loaded libraries only when they changed since
    the last scan (see the module docstring)."""
    from threadpoolctl import ThreadpoolController, threadpool_limits

    loaded = loaded_objects()
    if loaded is None:
        return threadpool_limits(limits=1, user_api="blas")
    if _CACHED[0] != loaded:
        _CACHED[:] = [loaded, ThreadpoolController()]
    return _CACHED[1].limit(limits=1, user_api="blas")


__all__ = ["loaded_objects", "one_thread"]
