"""Batch normalization and layer normalization for the reference network (training-mode statistics).

Both normalize a hidden pre-activation z (B, n) and apply a learnable per-unit scale g (n,) and shift
s (n,):

    ẑ = (z − μ) / √(σ² + ε),   out = g ⊙ ẑ + s,

with the biased variance σ² = mean((z − μ)²) and ε = 1e-5 (the ``torch.nn.BatchNorm1d`` /
``torch.nn.LayerNorm`` defaults).  They differ only in the axis of the statistics:

``batch`` (Ioffe & Szegedy 2015, Algorithm 1)
    μ, σ² per unit, over the batch (axis 0).  Always the current batch's statistics: there are no
    running averages, so evaluation also normalizes with the batch it is given.
``layer`` (Ba, Kiros & Hinton 2016, eq. 4)
    μ, σ² per example, over the n units of the layer (axis 1).

Backward (both): ∂L/∂z = (1/√(σ² + ε)) · (d − mean(d) − ẑ ⊙ mean(d ⊙ ẑ)) with d = g ⊙ ∂L/∂out and the
means over the same axis as the statistics (exact, ε included); ∂L/∂g = Σ_batch ∂L/∂out ⊙ ẑ,
∂L/∂s = Σ_batch ∂L/∂out.

Permutation equivariance: a hidden-unit permutation reorders axis 1.  Batch-norm statistics reduce
over axis 0, which it never touches; layer-norm statistics reduce over axis 1, so with the ``exact``
kernel every reduction (over either axis) is a :func:`~invariants.reference.kernels.canonical_sum`,
a function of the multiset of terms alone: permuting units permutes every output and gradient bit for
bit.  With the ``blas`` kernel the reductions are plain ``numpy.sum``.

A layer whose units are all tied gives layer norm z − μ = 0 in exact arithmetic, so ẑ = 0 and the
normalized layer outputs its shift s whatever the input (in floating point, a rounding residue that
is the same for every unit).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invariants.reference import kernels

NORMS: tuple[str, ...] = ("batch", "layer")
EPS = 1e-5


def _axis(kind: str) -> int:
    if kind == "batch":
        return 0
    if kind == "layer":
        return 1
    raise ValueError(f"unknown norm {kind!r}; expected one of {NORMS}")


def axis_sum(a: np.ndarray, axis: int, kernel: str) -> np.ndarray:
    """Sum over ``axis`` with the kernel's order; the reduced axis is kept (size 1) for broadcasting."""
    if kernel == "exact":
        return np.expand_dims(kernels.canonical_sum(a, axis=axis), axis)
    if kernel == "blas":
        return a.sum(axis=axis, keepdims=True)
    raise ValueError(f"unknown kernel {kernel!r}; expected one of {kernels.KERNELS}")


def _mean(a: np.ndarray, axis: int, kernel: str) -> np.ndarray:
    return axis_sum(a, axis, kernel) / a.dtype.type(a.shape[axis])


@dataclass(frozen=True)
class NormCache:
    """What the backward pass needs: the kind, the normalized values ẑ (B, n) and 1/√(σ² + ε)."""

    kind: str
    zhat: np.ndarray
    rstd: np.ndarray


def norm_forward(kind: str, z: np.ndarray, g: np.ndarray, s: np.ndarray, kernel: str = "exact",
                 eps: float = EPS) -> tuple[np.ndarray, NormCache]:
    """Normalize ``z`` (B, n) and return (g ⊙ ẑ + s, cache).  Raises ``ValueError`` for an unknown
    ``kind`` or kernel, or when g, s are not of shape (n,)."""
    axis = _axis(kind)
    if g.shape != (z.shape[1],) or s.shape != (z.shape[1],):
        raise ValueError(f"scale and shift must have shape ({z.shape[1]},), got {g.shape} and {s.shape}")
    d = z - _mean(z, axis, kernel)
    var = _mean(d * d, axis, kernel)
    rstd = z.dtype.type(1.0) / np.sqrt(var + z.dtype.type(eps))
    zhat = d * rstd
    return zhat * g + s, NormCache(kind, zhat, rstd)


def norm_backward(dout: np.ndarray, cache: NormCache, g: np.ndarray, kernel: str = "exact",
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients (∂L/∂z (B, n), ∂L/∂g (n,), ∂L/∂s (n,)) from ∂L/∂out (B, n)."""
    axis = _axis(cache.kind)
    dg = kernels.sum_rows(dout * cache.zhat, kernel)
    ds = kernels.sum_rows(dout, kernel)
    d = dout * g
    dz = cache.rstd * (d - _mean(d, axis, kernel) - cache.zhat * _mean(d * cache.zhat, axis, kernel))
    return dz, dg, ds
