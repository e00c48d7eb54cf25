"""The process-wide random number generators an initializer could draw from behind its seed's back.

An initializer handed an explicit seed, ``torch.Generator``, ``numpy.random.Generator`` or JAX key must
draw from it alone.  To test that (:mod:`invariants.audit.determinism`), the auditor reseeds every global
RNG loaded in the process to a known state around a call and compares the results.  This module lists
those RNGs: Python's ``random`` and numpy's legacy global ``RandomState`` always, plus each loaded
framework's own (:meth:`invariants.frameworks.base.Framework.global_rngs`: torch's default CPU
generator, Keras' global ``SeedGenerator``, MLX's global key; JAX, Flax and Equinox have none: their
randomness is always an explicit key).  A framework counts as loaded when its package is in
``sys.modules``: an initializer cannot draw from a framework that was never imported.

Every RNG is reseeded inside a context that restores the state it found on exit, so auditing leaves the
user's random streams as they were.
"""
from __future__ import annotations

import contextlib
import random
import sys
from dataclasses import dataclass
from typing import Callable, ContextManager, Iterator, Sequence

import numpy as np


@dataclass(frozen=True)
class GlobalRNG:
    """One process-wide RNG.

    Attributes:
        name: how a user reseeds it, for messages (``"torch's global generator (torch.manual_seed)"``).
        seeded: ``seeded(seed)`` -> a context manager in which the RNG is seeded with ``seed`` (an int
            in ``[0, 2**32)``) and whose exit restores the RNG's previous state exactly.
    """

    name: str
    seeded: Callable[[int], ContextManager[None]]


@contextlib.contextmanager
def python_random_seeded(seed: int) -> Iterator[None]:
    """``random.seed(seed)`` inside, Python's ``random`` state restored on exit."""
    state = random.getstate()
    random.seed(int(seed))
    try:
        yield
    finally:
        random.setstate(state)


@contextlib.contextmanager
def numpy_global_seeded(seed: int) -> Iterator[None]:
    """``np.random.seed(seed)`` inside (the legacy global ``RandomState``), its state restored on exit."""
    state = np.random.get_state()
    np.random.seed(int(seed) % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


PYTHON_RANDOM = GlobalRNG("Python's random (random.seed)", python_random_seeded)
NUMPY_GLOBAL = GlobalRNG("numpy's global RNG (np.random.seed)", numpy_global_seeded)


def global_rngs(skip_unavailable: bool = False) -> list[GlobalRNG]:
    """Every global RNG loaded in this process: Python's, numpy's, then each loaded framework's
    (:meth:`~invariants.frameworks.base.Framework.global_rngs`), each listed once.

    Args:
        skip_unavailable: pass over a loaded framework whose support cannot be imported (a model check
            seeding around its probe: the check reports the missing framework itself) instead of raising.

    Raises:
        FrameworkUnavailable: a loaded framework's support cannot be imported (unless ``skip_unavailable``).
    """
    from invariants.frameworks.errors import FrameworkUnavailable
    from invariants.frameworks.registry import frameworks

    out = [PYTHON_RANDOM, NUMPY_GLOBAL]
    for fw in frameworks("initializers"):
        if fw.import_name and fw.import_name in sys.modules:
            try:
                own = fw.global_rngs()
            except FrameworkUnavailable:
                if not skip_unavailable:
                    raise
                continue
            out += [g for g in own if g.name not in {o.name for o in out}]
    return out


@contextlib.contextmanager
def all_seeded(rngs: Sequence[GlobalRNG], seed: int) -> Iterator[None]:
    """Every RNG of ``rngs`` seeded with ``seed`` inside; each restored on exit (in reverse order)."""
    with contextlib.ExitStack() as stack:
        for rng in rngs:
            stack.enter_context(rng.seeded(int(seed)))
        yield


__all__ = ["NUMPY_GLOBAL", "PYTHON_RANDOM", "GlobalRNG", "all_seeded", "global_rngs", "numpy_global_seeded",
           "python_random_seeded"]
