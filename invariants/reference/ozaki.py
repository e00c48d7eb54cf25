"""Correctly rounded matrix products by an error-free transformation (Ozaki-style splitting).

:func:`exact_matmul` returns, for every output element, the float nearest (ties to even) to the *exact*
real dot product ``Σ_p a[i, p]·b[p, j]``: products are not rounded, sums are not rounded, only the
final value is.  A correctly rounded result is a function of the multiset of term pairs
``{(a[i, p], b[p, j])}`` alone, so permuting the reduction index, the rows of ``a`` or the columns of
``b`` permutes the result bit for bit, and identical rows give identical results.

Method (Ozaki, Ogita, Oishi and Rump, "Error-free transformations of matrix multiplication by using
fast routines of matrix multiplication and its applications", Numer. Algorithms 59 (2012) 95-118):

1. **Splitting.**  Row i of ``a`` is scaled by ``2^(β − e_i)``, where ``2^(e_i − 1) ≤ max_p |a[i, p]|
   < 2^e_i`` (a power of two, so exact, and unchanged by permutations of the row), then cut into
   integer slices ``I_1 = rint(y)``, ``I_2 = rint((y − I_1)·2^β)``, ...:
   ``a[i, p]·2^(β − e_i) = Σ_s I_s[i, p]·2^(−(s−1)β) + ρ[i, p]``, ``|I_1| ≤ 2^β``, ``|I_s| ≤ 2^(β−1)``
   for ``s ≥ 2``.  Columns of ``b`` likewise.  The first pass takes :data:`FIRST_SLICES` (3) slices,
   which hold a float64 row spanning ~13 binades exactly; a row's few smaller entries leave a remainder
   ρ whose absolute sum is carried as a bound.
2. **Products by BLAS, exactly.**  Slice products come from ``numpy.matmul`` of the stacked slices, one
   call per slice of ``b`` (for k ≤ :data:`TOEPLITZ_MAX_K` one call on a block-Toeplitz layout that
   sums the anti-diagonals itself).  Every entry is an integer; the slice width β
   (:func:`slice_width`, derived from k and the number of slices) keeps the absolute sum of the terms
   of every anti-diagonal ``C_d = Σ_{s+t=d+2} I_s J_t`` at most 2^53, so every partial sum, in whatever
   order or blocking the BLAS uses, with or without FMA, is an integer of magnitude ≤ 2^53: exact.
3. **Recombination**, per element, the same operations for every element: ``a @ b = (V + δ)·2^E``
   exactly with ``V = Σ_d C_d 2^(−dβ)`` and ``|δ| ≤ 2^(β+1)·(Σ_p|ρa| + Σ_p|ρb|)``; a TwoSum chain over
   the top three limbs plus the rest gives a candidate ``fl(V)`` and a rigorous interval for the exact
   value; the candidate is accepted when both ends of the interval round to it.  The rare undecided
   elements (near a rounding tie, a remainder too large for the interval, a subnormal or overflowing
   result, a float32 midpoint) are redone by a second pass with :data:`MAX_SLICES` (8) slices on their
   rows and columns only, and any still undecided by rational arithmetic (``fractions.Fraction``, whose
   conversion to float is correctly rounded).  Every path returns the same correctly rounded value, so
   which path an element takes cannot change its bits.
4. **Zeros.**  An exact sum of zero is ``+0.0`` unless every product is a zero of negative sign
   (IEEE 754's rule for a sum of ``-0.0`` terms), the same rule as
   :func:`invariants.reference.kernels.canonical_sum`.

Scope: finite inputs (non-finite ones make the exact sum undefined; the caller routes them elsewhere).
float32 inputs are widened to float64 (exactly) and the result is correctly rounded to float32
directly (no double rounding: float32 midpoints are detected and redone).  Cost: about 9 BLAS calls'
multiply-adds plus ~40 elementwise passes over the output for float64 data (4 and fewer for float32).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

#: Slices per row of ``a`` / column of ``b`` in the first pass: 3 hold a float64 row spanning up to
#: ~13 binades exactly (β ≈ 22), and a row's few smaller entries only leave a remainder that is bounded
#: (step 3 of the module docstring).  Elements the bound leaves undecided are redone with MAX_SLICES.
FIRST_SLICES = 3
#: Slices per row / column in the second pass (elements left undecided by the first).
MAX_SLICES = 8
_BITS = 53  # float64 significand
_TINY = 2.0 ** -1000  # floor for a nonzero remainder bound (V's own ulp is ≥ 2^-450)


def slice_width(k: int, slices: int) -> int:
    """Slice width β (bits) for a reduction of length ``k`` cut into at most ``slices`` slices.

    With ``|I_1| ≤ 2^β`` and ``|I_s| ≤ 2^(β−1)`` for ``s ≥ 2``, an anti-diagonal of slice products
    (pairs with ``s + t`` fixed, at most ``slices`` of them) has absolute sum at most
    ``k·2^(2β−2)·(slices + 2)``: one pair of first slices at 2^(2β), two pairs with one first slice at
    2^(2β−1), the rest at 2^(2β−2).  β is the largest integer keeping it ≤ 2^53, so every partial sum
    is an integer of magnitude ≤ 2^53 (exact in float64), in whatever order BLAS adds.
    """
    headroom = math.log2(max(1.0, (slices + 2) / 4))
    return int((_BITS - math.log2(max(k, 1)) - headroom) // 2)


def _split(x: np.ndarray, beta: int, axis: int, budget: int):
    """Integer slices of ``x`` (float64, 2-D) on a grid per row (``axis=1``) or per column (``axis=0``).

    Returns ``(slices, e, rest)``: ``slices`` (S ≤ budget, *x.shape) and ``e`` (broadcastable along
    ``axis``) with ``x·2^(β−e) = Σ_s slices[s]·2^(−sβ) + ρ``, ``|x·2^(β−e)| < 2^β``, and ``rest`` ≥
    ``Σ |ρ|`` along ``axis`` (0 when the slices hold ``x`` exactly).  ``None`` when the scaling itself
    would lose bits (a row spanning more than ~1000 binades).
    """
    # max |x| by two reductions: no temporary the size of x
    _, e = np.frexp(np.maximum(np.max(x, axis=axis, keepdims=True), -np.min(x, axis=axis, keepdims=True)))
    y = np.ldexp(x, beta - e)
    # scaling down (a row maximum ≥ 2^β) can push a tiny entry into the subnormals
    if np.any(e > beta) and not np.array_equal(np.ldexp(y, e - beta), x):
        return None
    slices = np.empty((budget, *x.shape))
    scale = 2.0 ** beta
    for s in range(budget):
        np.rint(y, out=slices[s])
        y -= slices[s]  # exact: the bits of y below 1, |y| ≤ 1/2
        if not y.any():
            return slices[:s + 1], e, 0.0
        if s < budget - 1:
            y *= scale
    raw = np.abs(y, out=y).sum(axis=axis, keepdims=True)
    rest = raw * 2.0 ** (-(budget - 1) * beta)
    return slices, e, np.maximum(rest * (1 + 2.0 ** -40), np.where(raw > 0, _TINY, 0.0))


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: ``s = fl(a + b)`` and the exact error ``a + b − s``."""
    s = a + b
    bb = s - a
    err = s - bb
    np.subtract(a, err, out=err)
    np.subtract(b, bb, out=bb)
    err += bb
    return s, err


def _limbs(split_a, split_b, beta: int, toeplitz: np.ndarray | None):
    """Limbs of the sliced product and what it leaves out (splits from :func:`_split`).

    Returns ``(x, exponent, bound)``: ``x`` (D, m, n) with ``Σ_d x[d]`` = the exact product of the
    sliced parts in scaled units (``x[d] = C_d·2^(−dβ)``, ``C_d`` an integer-valued anti-diagonal sum
    of slice products), ``a @ b = (Σ_d x[d] + δ)·2^exponent`` exactly with ``|δ| ≤ bound`` (m, n).

    ``toeplitz`` (from :func:`_toeplitz`, or ``None``): the slices of ``b`` weighted and laid out so
    that one BLAS call returns every anti-diagonal at once (more multiply-adds on zeros, but no
    elementwise passes over D·m·n limbs: cheaper when k is small).  Every product sum of one limb then
    has the single scale 2^(−dβ), so it is still exact.
    """
    (sa, ea, rest_a), (sb, eb, rest_b) = split_a, split_b
    na, m, k = sa.shape
    nb, n = sb.shape[0], sb.shape[2]
    d = na + nb - 1
    weights = np.ldexp(1.0, -beta * np.arange(d))  # exact: powers of two
    if toeplitz is not None:
        d = toeplitz.shape[1] // n  # the limbs of a full set of slices of a (trailing ones 0 here)
        weighted = (sa * weights[:na, None, None]).transpose(1, 0, 2).reshape(m, na * k)
        x = (weighted @ toeplitz).reshape(m, d, n).transpose(1, 0, 2)
    else:
        stacked = sa.reshape(na * m, k)
        x = np.zeros((d, m, n))
        prod = np.empty((na * m, n))
        for t in range(nb):  # anti-diagonals: limb d collects the slice pairs with s + t = d
            np.matmul(stacked, sb[t], out=prod)
            x[t:t + na] += prod.reshape(na, m, n)
        x *= weights[:, None, None]
    # δ = Σ_p ρa·b' + a''·ρb with |b'| < 2^β (a scaled column) and |a''| ≤ 2^β + 1 (a sliced row)
    bound = (rest_a + rest_b) * 2.0 ** (beta + 1)
    return x, (ea + eb) - 2 * beta, bound


def _toeplitz(sb: np.ndarray, beta: int, na: int) -> np.ndarray:
    """(na·k, D·n) block matrix whose block (s, d) is ``b``'s slice d − s weighted by 2^(−(d−s)β)."""
    nb, k, n = sb.shape
    d = na + nb - 1
    out = np.zeros((na, k, d, n))
    weighted = sb * np.ldexp(1.0, -beta * np.arange(nb))[:, None, None]
    for s in range(na):
        out[s, :, s:s + nb, :] = weighted.transpose(1, 0, 2)
    return out.reshape(na * k, d * n)


def round_candidates(x: np.ndarray, bound) -> tuple[np.ndarray, np.ndarray]:
    """Candidate ``fl(Σ_d x[d] + δ)`` for every element, ``|δ| ≤ bound``, and a mask of the elements
    where it is proven correctly rounded (both ends of the interval for the exact value round to it)."""
    d = x.shape[0]
    if d == 1:
        res, margin = x[0].copy(), np.zeros(x.shape[1:]) + bound
        e = np.zeros_like(res)
    else:
        s, r = _two_sum(x[0], x[1])
        mag = np.abs(r)
        if d >= 3:
            s, q2 = _two_sum(s, x[2])
            r += q2
            mag += np.abs(q2, out=q2)
        if d >= 4:
            tail = x[3:]
            r += tail.sum(axis=0)
            mag += np.abs(tail).sum(axis=0)
        res, e = _two_sum(s, r)
        # exact − res = e + (exact Σ of the errors and tail − r) + δ, where the middle term is at most
        # (d + 2)·u·mag ≪ 2^-40·mag; the margin also covers the rounding of e ± margin
        mag += np.abs(e)
        mag *= 2.0 ** -40
        margin = mag + bound
    hi = e + margin
    hi += res
    e -= margin
    e += res
    return res, (hi == res) & (e == res)


def _float32_midpoints(out: np.ndarray) -> np.ndarray:
    """Mask of float64 values exactly halfway between two adjacent float32 values (or overflowing)."""
    with np.errstate(over="ignore", invalid="ignore"):
        near = out.astype(np.float32).astype(np.float64)
        mirror = 2.0 * out - near  # the other neighbour when ``out`` is a midpoint (exact then)
        return ((mirror != near) & (mirror.astype(np.float32).astype(np.float64) == mirror)) | np.isinf(near)


#: Largest k for the block-Toeplitz layout of :func:`_limbs`
TOEPLITZ_MAX_K = 64
#: Output elements per block of rows: the recombination's temporaries stay in cache
BLOCK = 8192


def _pass(a: np.ndarray, b: np.ndarray, budget: int, dtype: np.dtype):
    """One pass: float64 candidates (m, n) and the mask of those proven to round correctly to ``dtype``."""
    m, k = a.shape
    n = b.shape[1]
    out, ok = np.zeros((m, n)), np.zeros((m, n), dtype=bool)
    beta = slice_width(k, budget)
    split_b = _split(b, beta, 0, budget)
    if split_b is None:
        return out, ok
    rows = max(1, BLOCK // n)
    nb = len(split_b[0])
    # one BLAS call on a block-Toeplitz b costs D/nb times the multiply-adds; elementwise limb sums
    # cost ~4·D passes over rows·n: the Toeplitz layout wins for small k (measured crossover ~64)
    toeplitz = _toeplitz(split_b[0], beta, budget) if k <= TOEPLITZ_MAX_K else None
    for start in range(0, m, rows):
        block = slice(start, start + rows)
        split_a = _split(a[block], beta, 1, budget)
        if split_a is None:
            continue
        used = None if toeplitz is None else toeplitz[:len(split_a[0]) * k]  # rows of the slices present
        x, exponent, bound = _limbs(split_a, split_b, beta, used)
        res, good = round_candidates(x, bound)
        with np.errstate(over="ignore"):  # overflow is caught below and redone
            res = np.ldexp(res, exponent)  # exact unless the result is subnormal or overflows
        # an accepted nonzero candidate is ≥ 2^-400 and ≤ 2^60 in scaled units, so only extreme
        # exponents can make the scaling inexact
        if exponent.min() < -600 or exponent.max() > 900:
            with np.errstate(over="ignore"):
                good &= np.isfinite(res) & ~((np.abs(res) < np.finfo(np.float64).tiny) & (res != 0))
        if dtype == np.float32:  # float32(candidate) would round twice exactly at a float32 midpoint
            good &= ~_float32_midpoints(res)
        out[block], ok[block] = res, good
    return out, ok


def round_rational(exact: Fraction, dtype) -> float:
    """The ``dtype`` (float32 or float64) value nearest to ``exact``, ties to even, as a Python float."""
    try:
        value = float(exact)  # Fraction → float is correctly rounded (int / int)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf
    if np.dtype(dtype) == np.float64 or math.isinf(value):
        return value
    with np.errstate(over="ignore"):
        near = np.float32(value)
    if math.isinf(near):  # overflow: inf unless exact is below the float32 overflow threshold
        limit = Fraction(float(np.finfo(np.float32).max)) + Fraction(2) ** 103
        return float(near) if abs(exact) >= limit else math.copysign(float(np.finfo(np.float32).max), value)
    down = np.nextafter(near, np.float32(-np.inf)) if Fraction(float(near)) > exact else near
    up = np.nextafter(down, np.float32(np.inf))
    gap_down, gap_up = exact - Fraction(float(down)), Fraction(float(up)) - exact
    if gap_down != gap_up:
        return float(down if gap_down < gap_up else up)
    return float(down if int(down.view(np.uint32)) % 2 == 0 else up)


def exact_dot(a: np.ndarray, b: np.ndarray, dtype) -> float:
    """Correctly rounded dot product of two finite 1-D float arrays, by rational arithmetic (slow)."""
    return round_rational(sum((Fraction(float(p)) * Fraction(float(q)) for p, q in zip(a, b)), Fraction(0)),
                          dtype)


def exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Correctly rounded ``a @ b`` for finite 2-D float32/float64 ``a`` (m, k) and ``b`` (k, n).

    Returns an (m, n) array of the inputs' common dtype (float32 only when both are float32).
    Non-finite inputs are the caller's business (they make the exact sum undefined;
    :func:`invariants.reference.kernels.matmul` routes them elsewhere).
    """
    dtype = np.result_type(a.dtype, b.dtype, np.float32)
    m, k = a.shape
    n = b.shape[1]
    if k == 0 or m == 0 or n == 0:
        return np.zeros((m, n), dtype=dtype)
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out, ok = _pass(a64, b64, FIRST_SLICES, dtype)
    if not ok.all():  # second pass on the rows and columns of the undecided elements only
        rows, cols = np.nonzero(~ok)
        ur, ri = np.unique(rows, return_inverse=True)
        uc, ci = np.unique(cols, return_inverse=True)
        sub, sub_ok = _pass(a64[ur], b64[:, uc], MAX_SLICES, dtype)
        out[rows, cols] = sub[ri, ci]
        for i, j in zip(rows[~sub_ok[ri, ci]], cols[~sub_ok[ri, ci]]):
            out[i, j] = exact_dot(a64[i], b64[:, j], dtype)
    out = out.astype(dtype, copy=False)
    out += dtype.type(0.0)  # -0.0 → +0.0; the all-negative-zero case is restored below
    zero = out == 0
    if zero.any():
        out[zero & _all_products_negative_zero(a64, b64)] = -0.0
    return out


def _all_products_negative_zero(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(m, n) mask: every product a[i, p]·b[p, j] is a zero (a factor is zero) of negative sign."""
    nonzero = (a != 0).astype(np.float64) @ (b != 0).astype(np.float64)
    sa, sb = np.signbit(a).astype(np.float64), np.signbit(b).astype(np.float64)
    same_sign = sa @ sb + (1.0 - sa) @ (1.0 - sb)  # counts ≤ k: exact
    return (nonzero == 0) & (same_sign == 0)
