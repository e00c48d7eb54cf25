"""Numba-compiled loops of the exact kernel: the same operations as the numpy definitions in
:mod:`invariants.reference.kernels` and :mod:`invariants.reference.ozaki`, fused into one pass each.

Imported only through :func:`invariants.reference.compiled.kernels` (which sets numba's cache folder
first and honours the off switches); importing this module imports numba (~0.4 s) and loads or compiles
these functions (compiled once per machine: ``cache=True`` stores the machine code in
``$INVARIANTS_CACHE_DIR/numba``).

Floating point: no ``fastmath`` (numba's default), so LLVM keeps every IEEE operation as written: no
reassociation, no contraction of ``a*b + c`` into a fused multiply-add, subnormals kept (numba never
sets flush-to-zero), ``np.rint`` rounds half to even (LLVM's ``rint`` in the default rounding mode).
float32 arithmetic stays float32 (every constant that meets a float32 value is converted to the
array's own type first).  ``tests/reference/test_compiled.py`` checks every function bit for bit against
its numpy definition.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from invariants.reference.compiled import CACHE

#: reductions up to this length are sorted by insertion (no buffer sort call); longer ones by np.sort
INSERTION_UP_TO = 48


@njit(cache=CACHE, inline="always")
def _insert(buf, count, t):
    # insertion into the sorted prefix buf[:count]; equal values are identical bits (zeros are +0.0
    # here), so where a tie lands cannot change the sum
    q = count
    while q > 0 and buf[q - 1] > t:
        buf[q] = buf[q - 1]
        q -= 1
    buf[q] = t


@njit(cache=CACHE, inline="always")
def _finish(buf, count, nan, all_negative_zero):
    # left-to-right sum of the sorted terms (kernels.sorted_sum); any NaN term makes the sum NaN in
    # every order, so it is not summed; an inf − inf sum is NaN too, and every NaN is the default one
    if count > INSERTION_UP_TO:
        buf[:count].sort()
    total = buf[0]  # count ≥ 1: the callers send empty sums to numpy
    for q in range(1, count):
        total += buf[q]
    if nan or total != total:
        return np.nan  # the default NaN, converted to the array's type where stored
    if total == 0 and all_negative_zero:
        return -total
    return total


@njit(cache=CACHE)
def canonical_matmul(a, b, out, buf):
    """``out[i, j]`` = canonical sum (kernels.canonical_sum) of the IEEE products ``a[i, p]·b[p, j]``;
    ``buf`` a work vector of length ≥ k of the products' dtype."""
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        for j in range(n):
            nan = False
            negative_zero = True
            for p in range(k):
                t = a[i, p] * b[p, j]
                if t != t:
                    nan = True
                if t == 0:
                    if not np.signbit(t):
                        negative_zero = False
                    t = t - t  # +0.0 (what kernels.sorted_sum's ``x + 0.0`` gives)
                else:
                    negative_zero = False
                if k > INSERTION_UP_TO:
                    buf[p] = t
                else:
                    _insert(buf, p, t)
            out[i, j] = _finish(buf, k, nan, negative_zero)


@njit(cache=CACHE)
def sum_last(x, out, buf):
    """``out[i]`` = canonical sum of the row ``x[i, :]`` (2-D ``x``, any strides)."""
    r, c = x.shape
    for i in range(r):
        nan = False
        negative_zero = True
        for p in range(c):
            t = x[i, p]
            if t != t:
                nan = True
            if t == 0:
                if not np.signbit(t):
                    negative_zero = False
                t = t - t
            else:
                negative_zero = False
            if c > INSERTION_UP_TO:
                buf[p] = t
            else:
                _insert(buf, p, t)
        out[i] = _finish(buf, c, nan, negative_zero)


@njit(cache=CACHE)
def squares(x, rows, cols, colsum):
    """``(largest row or column sum of squares, largest |entry|)`` of the float64 2-D ``x``: the inputs of
    :func:`invariants.reference.ozaki.grid_exponent` (rows' sums when ``rows``, columns' when ``cols``;
    ``colsum`` a work vector of length ≥ x.shape[1]).  The sums are added in another order than numpy's
    einsum: the grid's bound holds for any order (its inflation covers γ_n)."""
    r, c = x.shape
    for j in range(c):
        colsum[j] = 0.0
    best = 0.0
    largest = 0.0
    for i in range(r):
        s = 0.0
        for j in range(c):
            v = x[i, j]
            sq = v * v
            s += sq
            colsum[j] += sq
            a = abs(v)
            if not a < math.inf:  # inf or NaN: no grid (ozaki.grid_exponent returns None)
                return math.inf, math.inf
            if a > largest:
                largest = a
        if rows and s > best:
            best = s
    if cols:
        for j in range(c):
            if colsum[j] > best:
                best = colsum[j]
    return best, largest


@njit(cache=CACHE)
def split(x, scale, undo, width, right, slice_major, out):
    """The slices of ``x`` (module docstring of ozaki, step 2) for ``X = x·scale`` (``scale`` = 2^(β − e),
    a normal power of two; ``width`` = 2^β), written into the stacked layout a BLAS call reads:

    - left operand (``right`` False), slices ``(I1, I2, Pa)``; right operand: ``(J2, J1, Pb, M1, B)``;
    - ``out`` of shape (S, r, c) when ``slice_major`` (stacked along the reduction for ``x`` as the right
      operand, along columns of ``xᵀ`` as the left), else (r, S, c).

    Returns whether the scaling was exact (``undo`` = 1/scale: ``X·undo == x`` for every entry; always
    when ``scale`` ≥ 1)."""
    r, c = x.shape
    exact = True
    check = scale < 1.0
    for i in range(r):
        for j in range(c):
            v = x[i, j]
            big = v * scale  # = ldexp(v, β − e), correctly rounded (subnormal results included)
            if check and big * undo != v:
                exact = False
            i1 = np.rint(big)
            m1 = big - i1
            p = m1 * width
            i2 = np.rint(p)
            p = p - i2
            if right:
                if slice_major:
                    out[0, i, j] = i2
                    out[1, i, j] = i1
                    out[2, i, j] = p
                    out[3, i, j] = m1
                    out[4, i, j] = big
                else:
                    out[i, 0, j] = i2
                    out[i, 1, j] = i1
                    out[i, 2, j] = p
                    out[i, 3, j] = m1
                    out[i, 4, j] = big
            else:
                if slice_major:
                    out[0, i, j] = i1
                    out[1, i, j] = i2
                    out[2, i, j] = p
                else:
                    out[i, 0, j] = i1
                    out[i, 1, j] = i2
                    out[i, 2, j] = p
    return exact


@njit(cache=CACHE)
def bracket(c2, c3, r, down, relative, fixed, scale, out, good):
    """The rounding proof of ozaki._float64_candidates in one pass: ``u = fl(C3 + R)·2^−β``, margin
    ``fixed + relative·|u|``, ``hi``/``lo`` = ``C2 + fl(u ± margin)``, ``good = hi == lo``, ``out = hi·scale``
    (``scale`` = 2^shift, a normal power of two: exact for a proven element).  The same operations, in
    the same order, as the numpy code.  Returns the number of elements not proven."""
    m, n = c2.shape
    bad = 0
    for i in range(m):
        for j in range(n):
            u = c3[i, j] + r[i, j]
            u = u * down
            margin = abs(u) * relative
            margin = margin + fixed
            hi = u + margin
            lo = u - margin
            hi = hi + c2[i, j]
            lo = lo + c2[i, j]
            ok = hi == lo
            good[i, j] = ok
            if not ok:
                bad += 1
            out[i, j] = hi * scale
    return bad
