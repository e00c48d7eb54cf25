"""Contraction kernels for the reference network.

Two kernels compute the same sums of products:

``exact`` (default)
    Canonical-order accumulation.  For every output element the products are formed one IEEE
    multiplication each, **sorted by value**, and then added strictly left to right
    (``np.add.accumulate``).  The result is a function of the *multiset* of products alone, so it is
    invariant under any permutation of the reduction index, and every output element is computed by
    the same sequence of operations whatever its position.  Hence permuting hidden units permutes
    every output, gradient and optimizer state bit for bit.  Signed zeros need care: numpy's
    vectorised sort does not return a permutation of its input bit for bit (it may turn ``-0.0`` into
    ``+0.0`` and back, depending on where the zeros sit), so zeros are made ``+0.0`` before the sort.
    In IEEE round-to-nearest, left-to-right sums of the sorted terms are ``-0.0`` exactly when every
    term is ``-0.0`` (an exact cancellation gives ``+0.0``; a sum of same-signed nonzero terms cannot
    round to zero), and that case is restored after the sum.  Cost: O(m·n·k·log k) time and O(m·n·k) memory for an
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

    Bitwise invariant under permutations of ``terms`` along ``axis``, signed zeros included: the
    result is ``-0.0`` exactly when every term is ``-0.0`` (as IEEE addition in any order gives).
    An empty axis sums to ``+0.0``.
    """
    terms = np.moveaxis(np.asarray(terms), axis, -1)
    if terms.shape[-1] == 0:
        return np.zeros(terms.shape[:-1], dtype=terms.dtype)
    # x + 0.0 turns -0.0 into +0.0 and leaves every other value (NaN aside) unchanged, so the sort
    # sees no signed zeros to scramble
    positive_zeros = terms + terms.dtype.type(0.0)
    total = np.add.accumulate(np.sort(positive_zeros, axis=-1), axis=-1)[..., -1]
    all_negative_zero = np.all((terms == 0) & np.signbit(terms), axis=-1)
    return np.where(all_negative_zero, -total, total) if np.any(all_negative_zero) else total


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
