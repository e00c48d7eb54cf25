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
import sys
import threading
from types import ModuleType

from invariants.core import compile_cache

#: environment variable that forces the numpy path (documented with the compile-cache switch)
OFF_SWITCH = "INVARIANTS_NO_COMPILED"

#: whether numba_kernels caches its machine code on disk (decided when it is first imported)
CACHE = False

_loaded: ModuleType | None = None
_tried = False


class BufferPool:
    """Float64 work arrays reused across calls, per thread: an array is handed out again once nothing but
    the pool refers to it (CPython reference counts; a view, e.g. a transpose, keeps its base in use).

    Why: the compiled error-free transformation allocates its slices (up to 5 arrays per operand) and
    frees them when a ``loss_and_grad`` ends; in some processes glibc then returned the freed top of the
    heap to the system at every call and faulted it in again (measured at width 64: 0.97 ms instead of
    0.54 ms per ``loss_and_grad``, gone with ``MALLOC_TRIM_THRESHOLD_`` raised).  Keeping the arrays avoids
    that without changing the allocator's settings for the whole process.  At most :attr:`LIMIT`
    arrays per shape are kept, each of at most :attr:`LARGEST` entries; beyond, fresh ones.  Contents are
    not cleared (every user overwrites)."""

    LIMIT = 16
    LARGEST = 1 << 22  # 32 MiB of float64: a (5, 900, 900) split

    def __init__(self):
        self._local = threading.local()
        # the count of an object referred to by a list alone, seen the way take() looks (measured, not
        # assumed: interpreters differ in the references a loop variable and a call argument hold)
        probe = [object()]
        for item in probe:
            self._free = sys.getrefcount(item)

    def take(self, shape: tuple[int, ...]):
        import numpy as np

        pool = self._local.__dict__.setdefault("arrays", {}).setdefault(shape, [])
        for array in pool:
            if sys.getrefcount(array) <= self._free:  # the pool's own reference only
                return array
        array = np.empty(shape)
        if len(pool) < self.LIMIT and array.size <= self.LARGEST:
            pool.append(array)
        return array


#: the slices' work arrays (:func:`invariants.reference.ozaki.sliced`)
POOL = BufferPool()

_scratch = threading.local()

#: :func:`scratch` keeps work arrays for products of at most this many output entries (beyond, a product's
#: BLAS time dwarfs an allocation) and for at most :data:`SCRATCH_SHAPES` shapes per thread
SCRATCH_UP_TO = 1 << 16
SCRATCH_SHAPES = 32


def scratch(shape: tuple[int, int]):
    """``(block, views)``: a float64 (5, m, n) work array for ``shape`` = (m, n) and its five (m, n) views;
    for small shapes (:data:`SCRATCH_UP_TO`) the same arrays at every call in this thread, otherwise fresh
    ones.  For the five slice products that :func:`invariants.reference.ozaki.compiled_candidates` sums
    and drops before it returns (none of them leaves it), written by ``numpy.matmul(..., out=)``:
    allocating five outputs per product cost ~2 µs at width 64."""
    kept = _scratch.__dict__
    found = kept.get(shape)
    if found is None:
        import numpy as np

        block = np.empty((5, *shape))
        found = (block, tuple(block))
        if shape[0] * shape[1] <= SCRATCH_UP_TO:
            if len(kept) >= SCRATCH_SHAPES:  # many shapes (verify's tiny networks): start afresh
                kept.clear()
            kept[shape] = found
    return found


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


def warm() -> bool:
    """Load the compiled loops now, with every specialisation the exact kernel uses (float32 and
    float64), by running each once on tiny inputs; returns whether they are in use.  For a parent
    process about to fork workers (``invariants verify``): the workers inherit the loaded machine code
    instead of each importing numba and loading it again (~0.5-0.8 s of CPU per process)."""
    fast = kernels()
    if fast is None:
        return False
    import numpy as np

    for dtype in (np.float64, np.float32):
        one = np.ones((1, 1), dtype=dtype)
        fast.canonical_matmul(one, one, np.empty((1, 1), dtype=dtype), np.empty(1, dtype=dtype))
        fast.sum_last(one, np.empty(1, dtype=dtype), np.empty(1, dtype=dtype))
        fast.sum_sorted(one, one, np.empty(1, dtype=dtype))
        fast.sum_columns(one, np.zeros((1, 2), dtype=np.int64), 2, np.empty(1, dtype=dtype))
    one = np.ones((1, 1))
    fast.split(one, 26, fast.UNKNOWN, True, True, 0, np.empty((5, 1, 1)))
    fast.bracket(one.copy(), np.ones((5, 1, 1)), 1.0, 0.0, 1.0, 1.0)
    return True


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


__all__ = ["CACHE", "OFF_SWITCH", "POOL", "BufferPool", "disabled", "kernels", "reset", "scratch", "warm"]
