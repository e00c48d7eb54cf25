"""Targets the command-line tests name as ``cli_targets:NAME`` (this folder is on ``sys.path`` under pytest)."""
from __future__ import annotations

import math

import pytest


def he(shape, rng):
    """He normal (untruncated) in the numpy convention ``f(shape, rng)``: variance 2 / fan_in."""
    return rng.normal(0.0, math.sqrt(2.0 / shape[1]), size=shape)


def mlp():
    """A seeded torch MLP 8 -> 16 -> 4 with torch's default init (healthy)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))


def spins(shape, rng):
    """An initializer that never returns: a pure-Python busy loop (the per-call timeout must stop it)."""
    while True:
        pass


def sleeps(shape, rng):
    """An initializer that never returns: it blocks in one long C call (``time.sleep``)."""
    import time

    time.sleep(1e6)


def meta_mlp():
    """The MLP of :func:`mlp` on torch's ``meta`` device: check-model streams it one module at a time."""
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
