"""Losses for the reference network: value and gradient with respect to the network output.

Shapes: outputs ``y`` (B, C); targets (B, C) floats for MSE, (B,) integer class labels for
softmax cross-entropy.  Reductions run over the batch and output axes only, which hidden-unit
permutations never touch, so a plain fixed-order ``np.sum`` keeps the network equivariant.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import special

LOSSES: tuple[str, ...] = ("mse", "softmax_xent")


def mse(y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean squared error L = (1/(B·C)) Σ (y − t)²; returns (L, ∂L/∂y)."""
    t = np.asarray(t, dtype=y.dtype)
    if t.shape != y.shape:
        raise ValueError(f"mse targets have shape {t.shape}, outputs {y.shape}")
    diff = y - t
    scale = y.dtype.type(1.0 / diff.size)
    return np.sum(diff * diff) * scale, (2 * scale) * diff


def softmax_xent(y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy L = (1/B) Σ_b [logsumexp(y_b) − y_b[t_b]]; returns (L, ∂L/∂y).

    ∂L/∂y = (softmax(y) − onehot(t)) / B.
    """
    t = np.asarray(t)
    if t.shape != y.shape[:1] or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"softmax_xent targets must be integer labels of shape {y.shape[:1]}, got {t.dtype}{t.shape}")
    if t.size and (t.min() < 0 or t.max() >= y.shape[1]):
        raise ValueError(f"class labels must lie in [0, {y.shape[1]})")
    rows = np.arange(y.shape[0])
    lse = special.logsumexp(y, axis=1)
    scale = y.dtype.type(1.0 / y.shape[0])
    loss = np.sum(lse - y[rows, t]) * scale
    grad = special.softmax(y, axis=1)
    grad[rows, t] -= 1
    return loss, grad * scale


def get_loss(name: str) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The loss called ``name``; raises ``ValueError`` listing the known names."""
    if name == "mse":
        return mse
    if name == "softmax_xent":
        return softmax_xent
    raise ValueError(f"unknown loss {name!r}; expected one of {LOSSES}")
