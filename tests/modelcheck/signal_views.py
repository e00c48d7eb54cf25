"""Synthetic probe views for the signal check's unit tests (tests/modelcheck/test_signal_*.py)."""
from __future__ import annotations

import numpy as np

from invariants.frameworks.model import ModelView, Node, Param, Probe, Signal
from invariants.layers import Dense


def synthetic_view(entries: list[tuple[str, float, float, int]], rows: int = 64) -> ModelView:
    """A synthetic view: per node ``(name, E[x²], E[g²] per entry, input width)`` measured at its input, one
    ``Dense(width, width)`` weight each, outputs irrelevant (standard normal ``z`` and ``δ``); ``rows``
    probe rows (the batch)."""
    rng = np.random.default_rng(0)
    params, nodes, signals = [], [], []
    for name, xm, gm, w in entries:
        p = Param(f"{name}.weight", rng.standard_normal((w, w)), "weight", name, "Linear", Dense(w, w))
        params.append(p)
        nodes.append(Node(name, "Linear", Dense(w, w), p))
        z = rng.standard_normal((rows, w))
        signals.append(Signal(name, z, z.copy(), True, xm, gm, w, rows))
    return ModelView("torch", "synthetic", params, nodes, Probe(signals, rows, "synthetic"))
