"""Contraction kernels for the reference network.

Two kernels compute the same sums of products:

``exact`` (default)
    Canonical-order accumulation.  For every output element the products are formed one IEEE
    multiplication each, **sorted by value**, and then added strictly left to right
    (``np.add.accumulate``).  The result is a function of the *multiset* of products alone, so it is
    invariant under any permutation of the reduction index, and every output element is computed by
    the same sequence of operations whatever its position.  Hence permuting hidden units permutes
    every output, gradient and optimizer state bit for bit.  Sorting places ``-0.0`` and ``+0.0``
    arbitrarily among themselves; that cannot change a sum (x + ±0 = x for x ≠ 0, and a run of zeros
    sums to -0 only when all are -0).  Cost: O(m·n·k·log k) time and O(m·n·k) memory for an
    (m, k) @ (k, n) product, fine for the widths (≤ 256) the exact properties use.

``blas``
    ``numpy.matmul``.  Fast, but the accumulation order depends on the BLAS kernel's tiling and on an
    element's position, so identical rows can round differently and permuted inputs can give results
    that differ in the last bits.  Kept for speed (signal-propagation experiments at large width) and
    for the floating-point symmetry-breaking study.
"""
from __future__ import annotations

import numpy as np

KERNELS: tuple[str, ...] = ("exact", "blas")


def canonical_sum(terms: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sum ``terms`` along ``axis`` in canonical order: sorted ascending, then added left to right.

    Bitwise invariant under permutations of ``terms`` along ``axis``.  An empty axis sums to 0.
    """
    terms = np.moveaxis(np.asarray(terms), axis, -1)
    if terms.shape[-1] == 0:
        return np.zeros(terms.shape[:-1], dtype=terms.dtype)
    return np.add.accumulate(np.sort(terms, axis=-1), axis=-1)[..., -1]


def matmul(a: np.ndarray, b: np.ndarray, kernel: str = "exact") -> np.ndarray:
    """``a @ b`` for 2-D ``a`` of shape (m, k) and ``b`` of shape (k, n), with the chosen kernel."""
    if kernel == "blas":
        return a @ b
    if kernel != "exact":
        raise ValueError(f"unknown kernel {kernel!r}; expected one of {KERNELS}")
    # products[i, j, p] = a[i, p] * b[p, j]: one rounding each, reduction axis last for the sort
    products = a[:, None, :] * b.T[None, :, :]
    return canonical_sum(products, axis=-1)


def sum_rows(a: np.ndarray, kernel: str = "exact") -> np.ndarray:
    """Sum a 2-D array over axis 0 (the batch), with the chosen kernel's order."""
    if kernel == "blas":
        return a.sum(axis=0)
    if kernel != "exact":
        raise ValueError(f"unknown kernel {kernel!r}; expected one of {KERNELS}")
    return canonical_sum(a, axis=0)
