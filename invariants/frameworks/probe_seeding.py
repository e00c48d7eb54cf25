"""A model check's probe as a function of (model, input, seed): every global RNG seeded, then restored.

A probe pass runs the model's own forward, in the mode the user left it (train mode after construction), and
a forward may draw from any process-wide RNG: torch's dropout from torch's generator, transformers'
SpecAugment masking (``modeling_wav2vec2.py``: ``_compute_mask_indices``, ``np.random.rand`` and
``np.random.choice``) from numpy's legacy global ``RandomState``, user code from Python's ``random``.  Left
alone, those draws continue whatever stream the caller's process is in, and the probe figures move from run
to run (a Wav2Vec2 model's per-layer moments differed in the third significant digit).

:func:`probe_seeded` seeds every global RNG loaded in the process
(:func:`invariants.frameworks.global_rng.global_rngs`: Python's ``random``, numpy's global ``RandomState``,
torch's default CPU generator, Keras' global ``SeedGenerator``, MLX's global key; a framework whose support
cannot be imported is passed over: the check itself then says it is missing) with the check's seed and
restores each one's previous state on exit, so the check neither depends on nor moves the caller's random
streams.  Accelerator generators are the framework probe's own business (torch's probe seeds and restores
the CUDA generators it uses: :func:`invariants.frameworks.torch.seeding.probe_rng`).

It also records which of Python's and numpy's global RNGs the block drew from (their state moved from the
freshly seeded one): a model whose forward draws from them has stochastic layers active in the probe, which
the report says (:attr:`invariants.frameworks.model.Probe.stochastic`).
"""
from __future__ import annotations

import contextlib
import random
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from invariants.frameworks.global_rng import NUMPY_GLOBAL, PYTHON_RANDOM, all_seeded, global_rngs


def _numpy_state() -> tuple[Any, ...]:
    name, key, pos, has_gauss, cached = np.random.get_state()
    return name, key.tobytes(), pos, has_gauss, cached


#: the global RNGs whose draws are detected: name -> read its state (comparable with ``==``)
_WATCHED: dict[str, Callable[[], Any]] = {PYTHON_RANDOM.name: random.getstate, NUMPY_GLOBAL.name: _numpy_state}


@dataclass
class Draws:
    """What a :func:`probe_seeded` block drew from; filled on exit.

    Attributes:
        drawn: names of the watched global RNGs (Python's ``random``, numpy's global RNG) whose state the
            block moved, in :data:`_WATCHED` order.
    """

    drawn: list[str] = field(default_factory=list)

    def text(self) -> list[str]:
        """:attr:`drawn` as report phrases (``"draws from numpy's global RNG (np.random.seed)"``)."""
        return [f"draws from {name}" for name in self.drawn]


@contextlib.contextmanager
def probe_seeded(seed: int) -> Iterator[Draws]:
    """Every loaded global RNG seeded with ``seed mod 2**63`` inside (the range torch's ``manual_seed`` takes, as
    the torch probe reduces it; numpy's with that ``mod 2**32``); each restored to the state it had before on
    exit, an exception included.  Yields a :class:`Draws` filled on exit.  Any integer is accepted.
    """
    draws = Draws()
    with all_seeded(global_rngs(skip_unavailable=True), int(seed) % 2**63):
        start = {name: read() for name, read in _WATCHED.items()}
        try:
            yield draws
        finally:
            draws.drawn = [name for name, read in _WATCHED.items() if read() != start[name]]


@contextlib.contextmanager
def run_seeded(seed: int) -> Iterator[None]:
    """:func:`probe_seeded` plus, when torch is loaded, the generator of every CUDA device initialised on entry
    restored on exit (:func:`invariants.frameworks.torch.seeding.kept_rng`; not seeded here: the run seeds
    what it draws from).  For a whole run that seeds the frameworks' RNGs itself many times (``scale-check``:
    ``ScalingRunner.seed`` before each factory call) and must leave the caller's streams as it found them."""
    with probe_seeded(seed), _torch_devices_kept():
        yield


def _torch_devices_kept() -> Any:
    """torch's :func:`~invariants.frameworks.torch.seeding.kept_rng` when torch is loaded, else nothing to keep."""
    if "torch" not in sys.modules:
        return contextlib.nullcontext()
    from invariants.frameworks.torch.seeding import kept_rng

    return kept_rng()


__all__ = ["Draws", "probe_seeded", "run_seeded"]
