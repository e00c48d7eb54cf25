"""The optional compiled accelerator of the exact kernel: whether it is used, and loading it.

The exact kernel's definitions are the numpy code of :mod:`invariants.reference.kernels` (canonical
sort-sum) and :mod:`invariants.reference.ozaki` (error-free transformation).  Where numba is installed
(``pip install invariants[fast]``), :mod:`invariants.reference.numba_kernels` runs the same operations
in fused compiled loops: the same bits (tested bit for bit against the numpy code,
``tests/reference/test_compiled.py``), without numpy's fixed cost of ~1-2 µs per call, which dominates
the many tiny products of ``invariants verify`` and the splits and elementwise passes of the error-free
transformation.  Without numba every result is the same; only slower.

Switches (read once, when the first exact product is computed):

- ``INVARIANTS_NO_COMPILED=1`` (any value but ``""``/``0``): the numpy path, even with numba installed;
- numba's compiled functions are cached on disk in ``$INVARIANTS_CACHE_DIR/numba`` (default
  ``~/.cache/invariants/numba``; :func:`invariants.core.compile_cache.configure_numba`), so each machine
  compiles them once (~2-4 s) and later processes load them (~0.1 s plus numba's import, ~0.4 s);
  ``INVARIANTS_NO_COMPILE_CACHE=1`` compiles in every process instead (nothing written).

numba is imported lazily, on the first exact product: commands that never compute one do not pay for
it.  Worker processes forked after that inherit the loaded functions.
"""
from __future__ import annotations

import os
from types import ModuleType

from invariants.core import compile_cache

#: environment variable that forces the numpy path (documented with the compile-cache switch)
OFF_SWITCH = "INVARIANTS_NO_COMPILED"

#: whether numba_kernels caches its machine code on disk (decided when it is first imported)
CACHE = False

_loaded: ModuleType | None = None
_tried = False


def disabled(environ=os.environ) -> bool:
    """True when ``INVARIANTS_NO_COMPILED`` is set to anything but ``""`` or ``"0"``."""
    return environ.get(OFF_SWITCH, "").strip() not in ("", "0")


def kernels() -> ModuleType | None:
    """:mod:`invariants.reference.numba_kernels`, imported (numba with it) on the first call; ``None``
    when switched off (:data:`OFF_SWITCH`) or numba is not installed.  Cheap after the first call."""
    if _tried:
        return _loaded
    return _load()


def _load() -> ModuleType | None:
    global _loaded, _tried, CACHE
    _tried = True
    if disabled():
        return None
    CACHE = compile_cache.configure_numba() is not None
    try:
        from invariants.reference import numba_kernels
    except ImportError:  # numba not installed (or broken): the numpy definitions, same bits
        return None
    _loaded = numba_kernels
    return _loaded


def reset(enabled: bool | None = None) -> None:
    """Forget the loading decision (tests): the next :func:`kernels` call decides again from the
    environment; ``enabled=False`` forces the numpy path until the next reset, ``True`` loads now."""
    global _loaded, _tried
    if enabled is False:
        _loaded, _tried = None, True
        return
    _loaded, _tried = None, False
    if enabled:
        _load()


__all__ = ["CACHE", "OFF_SWITCH", "disabled", "kernels", "reset"]
