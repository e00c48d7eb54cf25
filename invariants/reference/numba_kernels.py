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

#: reductions up to this length are sorted by insertion; longer ones by np.sort (the callers in
#: kernels.py send longer sums to numpy's vectorised sort and :func:`sum_sorted`)
INSERTION_UP_TO = 32


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
def _place(buf, p, count, t, nan, negative_zero):
    # term p of ``count``: noted (NaN seen, every term a negative zero so far), zeros made +0.0 (what
    # kernels.sorted_sum's ``x + 0.0`` gives), then inserted in order (or stored, for np.sort later)
    if t != t:
        nan = True
    if t == 0:
        if not np.signbit(t):
            negative_zero = False
        t = t - t
    else:
        negative_zero = False
    if count > INSERTION_UP_TO:
        buf[p] = t
    else:
        _insert(buf, p, t)
    return nan, negative_zero


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
            nan, negative_zero = False, True
            for p in range(k):
                nan, negative_zero = _place(buf, p, k, a[i, p] * b[p, j], nan, negative_zero)
            out[i, j] = _finish(buf, k, nan, negative_zero)


@njit(cache=CACHE)
def sum_last(x, out, buf):
    """``out[i]`` = canonical sum of the row ``x[i, :]`` (2-D ``x``, any strides)."""
    r, c = x.shape
    for i in range(r):
        nan, negative_zero = False, True
        for p in range(c):
            nan, negative_zero = _place(buf, p, c, x[i, p], nan, negative_zero)
        out[i] = _finish(buf, c, nan, negative_zero)


@njit(cache=CACHE)
def sum_sorted(x, terms, out):
    """``out[i]`` = left-to-right sum of the row ``x[i, :]``, already sorted ascending with every zero made
    ``+0.0`` (kernels.sorted_sum's ``x + 0.0`` and sort), of the rows of ``terms`` (the unsorted terms,
    for the all-negative-zero rule); NaN sums become the default NaN."""
    r, c = x.shape
    for i in range(r):
        total = x[i, 0]
        for q in range(1, c):
            total += x[i, q]
        if total != total:
            out[i] = np.nan
        elif total == 0:
            negative_zero = True
            for q in range(c):
                if not (terms[i, q] == 0 and np.signbit(terms[i, q])):
                    negative_zero = False
                    break
            out[i] = -total if negative_zero else total
        else:
            out[i] = total


@njit(cache=CACHE)
def sum_columns(x, pairs, size, out):
    """``out[j]`` = canonical sum (kernels.sorted_sum) of the column ``x[:, j]`` of the C-ordered 2-D ``x``
    (r, c), every column at once: the terms (zeros made ``+0.0``, rows ``r..size−1`` padded with ``+inf``)
    sorted by the comparators ``pairs`` (Batcher's odd-even merge sort of ``size`` ≥ r terms, a power of
    two: :func:`invariants.reference.kernels.sorting_network`), each a compare-exchange of two rows, then
    added top to bottom.  The sorted column is the unique ascending order of its terms (equal values are
    identical bits once zeros are ``+0.0``; a padding ``+inf`` equal to a term is that term), so the sum
    is sorted_sum's; NaN columns (unordered) give the default NaN, all-negative-zero columns ``-0.0``.
    Why: a batch axis of 17-64 rows (the bias gradients' sums) sorted column-wise in SIMD lanes, without
    transposing, instead of a sort per column (measured at (32, 64): 4.9 µs against 10.6 µs)."""
    r, c = x.shape
    buf = np.empty((size, c), dtype=x.dtype)
    nan = np.zeros(c, dtype=np.bool_)
    negative_zero = np.ones(c, dtype=np.bool_)
    for i in range(r):
        for j in range(c):
            t = x[i, j]
            nan[j] |= t != t
            negative_zero[j] &= t == 0 and np.signbit(t)
            buf[i, j] = t - t if t == 0 else t
    for i in range(r, size):
        for j in range(c):
            buf[i, j] = np.inf
    for q in range(pairs.shape[0]):
        low, high = buf[pairs[q, 0]], buf[pairs[q, 1]]
        for j in range(c):
            u, v = low[j], high[j]
            swap = v < u
            low[j] = v if swap else u
            high[j] = u if swap else v
    for j in range(c):
        out[j] = buf[0, j]
    for i in range(1, r):
        row = buf[i]
        for j in range(c):
            out[j] += row[j]
    for j in range(c):
        t = out[j]
        if nan[j] or t != t:
            out[j] = np.nan
        elif t == 0 and negative_zero[j]:
            out[j] = -t


#: :func:`split`'s ``exponent`` argument when the grid is not known yet, and its returned exponent for a
#: matrix with a non-finite entry (no grid)
UNKNOWN = -(2 ** 30)
NO_GRID = -(2 ** 30) - 1


@njit(cache=CACHE, inline="always")
def _slices(v, scale, width):
    # ozaki.Split: X = v·2^(β − e) (multiplying by a normal power of two is the correctly rounded ldexp,
    # subnormal results included), I1 = rint(X), M1 = X − I1 (exact), p = M1·2^β (exact), I2 = rint(p),
    # P = p − I2 (exact)
    big = v * scale
    i1 = np.rint(big)
    m1 = big - i1
    p = m1 * width
    i2 = np.rint(p)
    return big, i1, m1, i2, p - i2


@njit(cache=CACHE)
def _grid(x, rows, cols, half_log_n, colsum):
    # ozaki.grid_exponent: sums of squares added in another order than numpy's einsum (four interleaved
    # partial sums per row; the grid's inflation covers γ_n for any order); the largest |entry| only
    # where they overflow, are tiny or are NaN (a non-finite entry: no grid)
    r, c = x.shape
    for j in range(c):
        colsum[j] = 0.0
    best = 0.0
    ok = True
    for i in range(r):
        s0 = s1 = s2 = s3 = 0.0
        j = 0
        while j + 4 <= c:
            a0, a1, a2, a3 = x[i, j] * x[i, j], x[i, j + 1] * x[i, j + 1], x[i, j + 2] * x[i, j + 2], x[i, j + 3] * x[i, j + 3]
            s0 += a0
            s1 += a1
            s2 += a2
            s3 += a3
            colsum[j] += a0
            colsum[j + 1] += a1
            colsum[j + 2] += a2
            colsum[j + 3] += a3
            j += 4
        while j < c:
            a0 = x[i, j] * x[i, j]
            s0 += a0
            colsum[j] += a0
            j += 1
        s = (s0 + s1) + (s2 + s3)
        if rows:
            ok = ok and s < math.inf
            best = max(best, s)
    if cols:
        for j in range(c):
            ok = ok and colsum[j] < math.inf
            best = max(best, colsum[j])
    n = max(r, c)
    if ok and best >= 2.0 ** -960:
        return math.frexp(math.sqrt(best * (1 + (n + 8) * 2.0 ** -52)))[1]
    largest = 0.0
    for i in range(r):
        for j in range(c):
            a = abs(x[i, j])
            if not a < math.inf:
                return NO_GRID
            largest = max(largest, a)
    return math.frexp(largest)[1] + half_log_n


@njit(cache=CACHE)
def split(x, beta, exponent, rows, cols, half_log_n, out):
    """The grid and the slices of the float64 2-D ``x`` (r, c) at slice width ``beta`` (ozaki's module
    docstring, steps 1-2), in one call.

    Grid (``exponent`` = :data:`UNKNOWN`): ozaki.grid_exponent from the largest row (``rows``) and column
    (``cols``) sum of squares (:func:`_grid`), ``half_log_n`` = ⌈log2(n)/2⌉ for its fallback.  A known
    ``exponent`` is used as given.

    Slices of ``X = x·2^(β − e)`` into ``out``, a C-ordered (3, r, c) or (5, r, c) array: ``I1``, ``I2``,
    ``P`` and then ``M1``, ``X`` (ozaki.Split's ``i1``, ``i2``, ``rest``, ``m1``, ``scaled``), so that the
    slices of ``xᵀ`` are their transposed views (BLAS reads them in place).  One array, not a tuple of
    arrays: numba unboxes a tuple argument element by element (~1 µs more per call).  The callers take
    it from :data:`invariants.reference.compiled.POOL` (glibc returned freed blocks over its 128 KiB trim
    threshold to the system and faulted them in again on every call in some processes: 1.8× slower at
    width 64).

    Returns ``(e, status)``: ``e`` the exponent (:data:`NO_GRID` for a non-finite ``x``, nothing
    written), ``status`` 0 (done, scaling exact), 1 (done, the scaling rounded an entry: ozaki's
    ``Split.exact`` false) or 2 (``2^(β − e)`` is not a normal float: nothing written)."""
    r, c = x.shape
    if exponent == UNKNOWN:
        exponent = _grid(x, rows, cols, half_log_n, np.empty(c))
        if exponent == NO_GRID:
            return NO_GRID, 0
    shift = beta - exponent
    if shift < -1022 or shift > 1022:
        return exponent, 2
    scale = math.ldexp(1.0, shift)
    undo = math.ldexp(1.0, -shift)
    width = math.ldexp(1.0, beta)
    exact = True
    o1, o2, o3 = out[0], out[1], out[2]
    five = out.shape[0] == 5
    # one simple loop per operation and row (each vectorises; one fused loop over five outputs did not):
    # X, I1 = rint(X), M1 = X − I1, p = M1·2^β, I2 = rint(p), P = p − I2 (see _slices)
    big = np.empty(c)
    m1 = np.empty(c)
    for i in range(r):
        if five:
            big = out[4, i]
            m1 = out[3, i]
        row, i1, i2, p = x[i], o1[i], o2[i], o3[i]
        for j in range(c):
            big[j] = row[j] * scale
        if shift < 0:
            for j in range(c):
                exact &= big[j] * undo == row[j]
        for j in range(c):
            i1[j] = np.rint(big[j])
        for j in range(c):
            m1[j] = big[j] - i1[j]
        for j in range(c):
            p[j] = m1[j] * width
        for j in range(c):
            i2[j] = np.rint(p[j])
        for j in range(c):
            p[j] = p[j] - i2[j]
    return exponent, 0 if exact else 1


@njit(cache=CACHE)
def bracket(c2, parts, down, relative, fixed, scale):
    """The rounding proof of ozaki._float64_candidates in one pass over the six slice products, ``c2`` (m, n)
    = ``C2`` and ``parts`` (5, m, n) = ``(I1·J2, I2·J1, I1·Pb, I2·M1, Pa·B)``, in place: ``u = fl(C3 + R)·2^−β``
    with ``C3 = I1·J2 + I2·J1`` (exact) and ``R = (I1·Pb + I2·M1) + Pa·B``, margin ``fixed + relative·|u|``,
    ``hi``, ``lo`` = ``C2 + fl(u ± margin)`` (the same operations, in the same order, as the numpy code);
    ``c2`` becomes ``hi·scale`` (``scale`` = 2^shift, a normal power of two: exact for a proven element)
    and ``parts[0]`` NaN where ``hi != lo`` (not proven; a finite integer elsewhere).  Returns the number
    of elements not proven.  One array for the five, not a tuple: numba unboxes a tuple element by
    element."""
    p1, p2, p3, p4, p5 = parts[0], parts[1], parts[2], parts[3], parts[4]
    m, n = c2.shape
    bad = 0
    for i in range(m):
        for j in range(n):
            u = p1[i, j] + p2[i, j]
            rest = p3[i, j] + p4[i, j]
            rest = rest + p5[i, j]
            u = u + rest
            u = u * down
            margin = abs(u) * relative
            margin = margin + fixed
            hi = u + margin
            lo = u - margin
            hi = hi + c2[i, j]
            lo = lo + c2[i, j]
            if hi != lo:
                bad += 1
                p1[i, j] = np.nan
            c2[i, j] = hi * scale
    return bad
