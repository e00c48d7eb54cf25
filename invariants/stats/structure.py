"""Structural checks of initializer output: orthogonality, duplicates, degenerate and constant tensors.

These are decisions about exact coincidences.  Under a continuous law rounded to a float type with
``b`` mantissa bits, one draw equals a given value with probability at most ``p_cell``
(:func:`invariants.stats.extremes.max_cell_probability`), so two given slices of length ``L`` coincide
with probability at most ``p_cell^L``; with ``P`` pairs compared, the union bound ``P * p_cell^L`` is a
valid p-value for "some pair coincides".  It is tiny for any slice longer than a few entries, and the
checks report it rather than 0.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from invariants.laws import as_matrix
from invariants.stats.checks import CheckResult, decide
from invariants.stats.extremes import mantissa_bits
from invariants.stats.variance import DEFAULT_ALPHA, check_alpha


def _n_duplicates(mat: np.ndarray) -> tuple[int, int]:
    """(number of rows equal to an earlier row, index of the first such row or -1)."""
    mat = np.ascontiguousarray(mat)
    if mat.shape[0] < 2:
        return 0, -1
    keys = mat.view(np.dtype((np.void, mat.dtype.itemsize * mat.shape[1]))).ravel()
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    dups = int(mat.shape[0] - first.size)
    if not dups:
        return 0, -1
    rep = keys[first[np.argmax(counts)]]
    idx = np.nonzero(keys == rep)[0]
    return dups, int(idx[1])


def _coincidence_p(pairs: int, length: int, p_cell: float) -> float:
    if pairs <= 0:
        return 1.0
    log_p = math.log(pairs) + length * math.log(max(p_cell, 1e-300))
    return math.exp(min(0.0, log_p))


def duplicates_test(draws: Sequence[np.ndarray], p_cell: float, alpha: float = DEFAULT_ALPHA) -> CheckResult:
    """No two rows (slices along dim 0) or columns (slices along the last dim) of a draw are identical.

    ``statistic`` is the number of duplicated slices over all draws checked.  The p-value is the union
    bound over all compared pairs (module docstring) if a duplicate is found, else 1.  Slices of length
    < 2 cannot be told apart from chance and are not compared.
    """
    alpha = check_alpha(alpha)
    total, bound, where = 0, 0.0, ""
    for d, x in enumerate(draws):
        x = np.asarray(x)
        if x.ndim < 2:
            continue
        for axis_name, mat in (("row", x.reshape(x.shape[0], -1)), ("column", np.moveaxis(x, -1, 0).reshape(x.shape[-1], -1))):
            if mat.shape[1] < 2:
                continue
            dups, idx = _n_duplicates(mat)
            if dups:
                total += dups
                pairs = mat.shape[0] * (mat.shape[0] - 1) // 2 * len(draws)
                bound = max(bound, _coincidence_p(pairs, mat.shape[1], p_cell))
                where = where or f"draw {d}: {axis_name} {idx} repeats an earlier {axis_name}"
    p = bound if total else 1.0
    detail = f"{total} duplicated rows/columns in {len(draws)} draws" + (f" ({where})" if where else "")
    return decide("duplicates", total, p, alpha, detail)


def identical_draws_test(draws: Sequence[np.ndarray], p_cell: float, alpha: float = DEFAULT_ALPHA) -> CheckResult:
    """Draws from distinct seeds differ (an initializer that ignores its seed or RNG is a fault).

    ``statistic`` is the number of draws identical to an earlier one.
    """
    alpha = check_alpha(alpha)
    if len(draws) < 2:
        return decide("identical_draws", 0, 1.0, alpha, "fewer than 2 draws")
    flat = np.stack([np.ascontiguousarray(np.asarray(x)).ravel() for x in draws])
    dups, idx = _n_duplicates(flat)
    pairs = len(draws) * (len(draws) - 1) // 2
    p = _coincidence_p(pairs, flat.shape[1], p_cell) if dups else 1.0
    detail = (f"{dups} of {len(draws)} draws from distinct seeds repeat an earlier draw"
              + (f" (draw {idx})" if dups else ""))
    return decide("identical_draws", dups, p, alpha, detail)


def degenerate_test(draws: Sequence[np.ndarray], p_cell: float, alpha: float = DEFAULT_ALPHA) -> CheckResult:
    """No draw is all-zero or constant where a random tensor is expected.

    ``statistic`` is the number of constant draws (all-zero ones included).
    """
    alpha = check_alpha(alpha)
    bad, zero = 0, 0
    size = 1
    for x in draws:
        x = np.asarray(x).ravel()
        size = x.size
        if x.size >= 2 and np.all(x == x[0]):
            bad += 1
            zero += int(x[0] == 0)
    p = _coincidence_p(len(draws), size - 1, p_cell) if bad else 1.0
    detail = f"{bad} of {len(draws)} draws constant ({zero} all-zero)"
    return decide("degenerate", bad, p, alpha, detail)


def constant_test(samples: Any, value: float, alpha: float = DEFAULT_ALPHA) -> CheckResult:
    """Every entry equals ``value`` (cast to the samples' dtype); ``statistic`` = number that differ."""
    alpha = check_alpha(alpha)
    x = np.asarray(samples).ravel()
    target = np.asarray(value, dtype=x.dtype)
    wrong = int(np.count_nonzero(x != target))
    detail = f"{wrong} of {x.size} entries differ from {float(value):.7g}"
    if wrong:
        off = x[x != target]
        detail += f" (e.g. {float(off[0]):.7g}; range [{float(x.min()):.7g}, {float(x.max()):.7g}])"
    return decide("constant", wrong, 0.0 if wrong else 1.0, alpha, detail)


def orthogonality_tolerance(rows: int, cols: int, bits: int) -> float:
    """Allowed ``max |G - gain^2 I| / gain^2`` for the Gram matrix ``G`` of a (rows x cols) draw.

    Householder QR computes a ``Q`` whose departure from orthonormality grows at most linearly in the
    dimension, ``||Q^T Q - I|| <= c n u`` (Higham 2002, *Accuracy and Stability of Numerical
    Algorithms*, 2nd ed., Thm 19.4 and eq. 19.13), and rounding the result to the dtype adds ``2u`` per
    Gram entry (``u = 2^-(bits+1)``).  We allow ``8 n u + 4u`` with ``n = max(rows, cols)``: 1.4e-4 for a
    float32 300-column matrix, far below the 2% Gram error of a 1% gain error.

    Below float32 (float16, bfloat16: ``bits`` < 23) the matrix is taken as computed in float32 and rounded
    to the format: torch, JAX and Keras have no half-precision QR (they raise), and ``8 n u`` at bfloat16's
    ``u = 2^-8`` would exceed 1 for ``n >= 32`` (any matrix would pass).  Rounding each entry by a relative
    ``u`` moves a Gram entry by at most ``2u + u^2`` (Cauchy-Schwarz on unit rows), within the ``4u`` term.
    """
    u = 2.0 ** -(bits + 1)
    computed = 2.0 ** -24 if bits < 23 else u  # where the QR itself was computed (float32 below float32)
    return 8.0 * max(rows, cols) * computed + 4.0 * u


def orthogonality_error(m: np.ndarray) -> tuple[float, float, float]:
    """How far a matrix is from orthonormal rows or columns up to a fitted gain.

    Args:
        m: a 2-D (rows x cols) array, any float dtype (its mantissa sets the tolerance).

    Returns:
        ``(err, gain, tol)``: ``err = max |G - g^2 I| / g^2`` with ``G`` the smaller Gram matrix
        (``M M^T`` if rows <= cols, else ``M^T M``, in float64) and ``g^2`` the mean of its diagonal;
        ``gain = g``; ``tol`` from :func:`orthogonality_tolerance`.  ``err <= tol`` means orthogonal with
        gain ``g``.  An all-zero matrix gives ``(inf, 0, 0)``.
    """
    x = m.astype(np.float64)
    r, c = x.shape
    gram = x @ x.T if r <= c else x.T @ x
    g2 = float(np.mean(np.diag(gram)))
    if g2 <= 0:
        return math.inf, 0.0, 0.0
    err = float(np.max(np.abs(gram - g2 * np.eye(gram.shape[0])))) / g2
    return err, math.sqrt(g2), orthogonality_tolerance(r, c, mantissa_bits(m))


def orthogonality_test(
    draws: Sequence[np.ndarray], gain: float, unit_axis: int = 0, alpha: float = DEFAULT_ALPHA
) -> CheckResult:
    """Each draw, flattened to a matrix ``M`` keeping ``unit_axis`` whole (:func:`invariants.laws.as_matrix`:
    ``0`` PyTorch, ``-1`` JAX/Keras), has ``M M^T = gain^2 I`` (rows <= cols) or
    ``M^T M = gain^2 I`` (rows > cols) to :func:`orthogonality_tolerance`.

    ``statistic`` is the largest relative Gram error over the draws; ``p_value`` is 0 or 1 (a
    deterministic property with a rounding tolerance).
    """
    alpha = check_alpha(alpha)
    worst, tol, shape = 0.0, 0.0, None
    g2 = float(gain) ** 2
    for x in draws:
        x = np.asarray(x)
        m = as_matrix(x, unit_axis).astype(np.float64)
        r, c = m.shape
        gram = m @ m.T if r <= c else m.T @ m
        err = float(np.max(np.abs(gram - g2 * np.eye(gram.shape[0])))) / g2
        worst = max(worst, err)
        tol = max(tol, orthogonality_tolerance(r, c, mantissa_bits(x)))
        shape = (r, c)
    detail = (f"max |Gram - gain^2 I| / gain^2 = {worst:.3g} over {len(draws)} draws of {shape[0]}x{shape[1]} "
              f"(tolerance {tol:.3g}, gain {float(gain):.6g})") if shape else "no draws"
    return decide("orthogonality", worst, 1.0 if worst <= tol else 0.0, alpha, detail)
