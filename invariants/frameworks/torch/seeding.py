"""``torch.manual_seed`` without its per-call cost on a machine where torch has no accelerator.

``torch.manual_seed(s)`` (``torch/random.py``: ``_manual_seed_impl``) seeds the default CPU generator and then
each accelerator; for CUDA, XPU and MTIA not yet initialised it queues the seeding for later
(``torch/cuda/__init__.py``: ``_lazy_call``), recording ``traceback.format_stack()`` with each queued call:
three stack formats per seed, 0.1 ms at a shallow stack and 0.4 ms at a test's (60 frames), paid by every
scale-check run, probe and streamed module (about 3,700 calls in the test suite).  Where torch was built with
no accelerator, the queued calls can never run and :func:`manual_seed` seeds the CPU generator alone, which
leaves every generator in the state ``torch.manual_seed`` leaves it; anywhere else it is ``torch.manual_seed``
itself.
"""
from __future__ import annotations

import contextlib
import functools
from typing import Iterator

import torch


@functools.lru_cache(maxsize=1)
def cpu_only() -> bool:
    """Whether this torch has no accelerator to seed: ``torch.accelerator.current_accelerator()`` is ``None``
    (no CUDA, MPS, XPU, MTIA, HPU or out-of-tree backend in the build; ``torch/accelerator/__init__.py``).
    A torch without that API counts as having one."""
    acc = getattr(torch, "accelerator", None)
    return acc is not None and hasattr(acc, "current_accelerator") and acc.current_accelerator() is None


def manual_seed(seed: int) -> None:
    """Seed torch's global RNG as ``torch.manual_seed(seed)`` does (every device), at the cost of seeding the
    CPU generator alone where that is all there is (:func:`cpu_only`).

    Raises:
        ValueError: ``seed`` outside ``[-2**63, 2**64 - 1]`` (torch's own error).
    """
    if cpu_only():
        torch.default_generator.manual_seed(int(seed))
    else:
        torch.manual_seed(int(seed))


def _cuda_devices() -> list[int]:
    """The CUDA devices whose generators a forward can draw from now: every device once CUDA is initialised,
    none before (a model on a CUDA device has initialised it; seeding an uninitialised CUDA would queue a
    seed for the caller's later CUDA work, and reading its state would initialise it)."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []


def generator_states() -> list[bytes]:
    """The states of torch's default CPU generator and of each initialised CUDA device's, as bytes (a forward
    that draws moves one: compare before and after)."""
    states = [torch.default_generator.get_state()]
    states += [torch.cuda.get_rng_state(d) for d in _cuda_devices()]
    return [bytes(s.numpy().tobytes()) for s in states]


def seed_generators(seed: int) -> None:
    """Seed torch's default CPU generator and every initialised CUDA device's generator with ``seed``.  Unlike
    :func:`manual_seed` (``torch.manual_seed``) nothing is queued for a CUDA not yet initialised: a queued seed
    would run at the caller's own later CUDA start, after any restore (:func:`kept_rng`), and reseed it.

    Raises:
        ValueError: ``seed`` outside ``[-2**63, 2**64 - 1]`` (torch's own error).
    """
    torch.default_generator.manual_seed(int(seed))
    for d in _cuda_devices():
        torch.cuda.default_generators[d].manual_seed(int(seed))


@contextlib.contextmanager
def kept_rng() -> Iterator[None]:
    """The states of torch's default CPU generator and of every CUDA device initialised on entry put back on
    exit, an exception included (``torch.random.fork_rng`` over those devices).  A CUDA first initialised
    inside the block cannot be returned to uninitialised and is left as the block left it."""
    with torch.random.fork_rng(devices=_cuda_devices()):
        yield


@contextlib.contextmanager
def probe_rng(seed: int) -> Iterator[None]:
    """torch's default CPU generator and every initialised CUDA device's generator seeded with ``seed``
    inside (:func:`seed_generators`), each restored on exit (:func:`kept_rng`): a probe's dropout draws are
    fixed by ``seed`` and the caller's streams, CUDA's included, are left as they were.

    Raises:
        ValueError: ``seed`` outside ``[-2**63, 2**64 - 1]`` (torch's own error).
    """
    with kept_rng():
        seed_generators(seed)
        yield


__all__ = ["cpu_only", "generator_states", "kept_rng", "manual_seed", "probe_rng", "seed_generators"]
