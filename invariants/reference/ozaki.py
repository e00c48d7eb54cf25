"""Correctly rounded matrix products by an error-free transformation (Ozaki-style splitting).

:func:`exact_matmul` returns, for every output element, the float nearest (ties to even) to the *exact*
real dot product ``Σ_p a[i, p]·b[p, j]``: products are not rounded, sums are not rounded, only the
final value is.  A correctly rounded result is a function of the multiset of term pairs
``{(a[i, p], b[p, j])}`` alone, so permuting the reduction index, the rows of ``a`` or the columns of
``b`` permutes the result bit for bit, and identical rows give identical results — whatever route an
element takes below, because every route returns that same value.

Method for float64 (Ozaki, Ogita, Oishi and Rump, "Error-free transformations of matrix multiplication
by using fast routines of matrix multiplication and its applications", Numer. Algorithms 59 (2012)
95-118; the error bound of the floating-point part is Higham 2002, eq. 3.5, with underflow terms):

1. **Grid** (:func:`grid_exponent`).  ``a`` is scaled by ``2^(β − e)`` with ``‖a‖_F ≤ 2^e`` (one BLAS
   dot product; a power of two, so the scaling is exact), giving ``A`` whose every row has 2-norm
   ``‖A_i‖₂ ≤ 2^β``; ``b`` likewise gives ``B``, columns ``‖B_j‖₂ ≤ 2^β``.  β is :func:`slice_width`.
2. **Integer slices and a remainder** (:func:`_three_slices`).  ``I1 = rint(A)``,
   ``I2 = rint((A − I1)·2^β)``, ``Pa = (A − I1)·2^β − I2``, all exact:
   ``A = I1 + 2^(−β)·(I2 + Pa)`` with ``|I2| ≤ 2^(β−1)``, ``|Pa| ≤ 1/2``; ``B = J1 + M1``,
   ``M1 = 2^(−β)·(J2 + Pb)`` likewise.  Then, exactly, ``A·B = C2 + 2^(−β)·(C3 + R)`` with ``C2 = I1·J1``,
   ``C3 = I1·J2 + I2·J1`` and ``R = I1·Pb + I2·M1 + Pa·B``.  (One slice and a rounded remainder,
   ``I1·J1 + [I1 | Pa]·[Pb; B]``, would halve the multiply-adds but leaves 10⁻³-10⁻² of the elements
   undecided on a whole-matrix grid, too many for the one-by-one fallback.)
3. **Products by BLAS.**  By Cauchy–Schwarz the absolute sums of the terms of ``C2`` and ``C3`` are at
   most 2^53 (:func:`slice_width`), so every partial sum, in whatever order or blocking the BLAS uses,
   with or without FMA, is an integer float64 holds: both come out *exact* (one call each, ``C3`` on
   the stacked slices).  ``R`` (one call on the stacked slices) is rounded, within ``γ_3k`` times its
   terms' absolute sum (Cauchy–Schwarz again) plus an underflow term — ~2^(−2β) of the result.
4. **Rounding, proven per element.**  ``s = fl(C2 + 2^(−β)·fl(C3 + R))`` and its TwoSum error ``t``
   bracket the exact value: ``|exact − (s + t)| ≤ margin`` (from step 3 and the one rounding of
   ``C3 + R``).  ``s`` is accepted when both ``s + t − margin`` and ``s + t + margin`` round to ``s`` (the
   set of reals rounding to ``s`` is an interval, so the exact value does too); then
   ``s·2^(e_a + e_b − 2β)`` is exact unless it overflows or is subnormal, which is checked.  Elements
   not proven (near a rounding tie, heavy cancellation: none in 10⁵ Gaussian entries at k = 64) are
   computed one by one by :func:`exact_entries`: Dekker's TwoProduct makes every product an exact pair
   of floats and ``math.fsum`` rounds their exact sum correctly; where TwoProduct could underflow or
   overflow, rational arithmetic (``fractions.Fraction``, whose conversion to float is correctly
   rounded).

float32 inputs (:func:`_float32_candidates`): a float32 product is exact in float64, so one float64 BLAS
call gives the sum with error at most ``γ_k·‖a_i‖₂‖b_j‖₂`` (Cauchy–Schwarz), ~2^(−29)·√k of a float32
ulp; the float32 rounding is accepted when both ends of that interval round to the same float32, and
the rest go to :func:`exact_entries`.  Mixed float32/float64 operands use the float64 method.

Zeros: an exact sum of zero is ``+0.0`` unless every product is a zero of negative sign (IEEE 754's
rule for a sum of ``-0.0`` terms), the same rule as :func:`invariants.reference.kernels.canonical_sum`;
a nonzero exact sum too small for the format also gives ``+0.0``.

Scope: finite inputs (non-finite ones make the exact sum undefined: :func:`exact_matmul` raises, and
:func:`try_exact_matmul` returns ``None`` so that the caller can route them elsewhere).  Cost for
float64: 6 BLAS calls' worth of multiply-adds (k + 2k + 3k per output element) and ~25 elementwise
passes; for float32, 1 BLAS call and ~8 passes.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from invariants.core.errors import BadInput

_U = 2.0 ** -53  # unit roundoff of float64
_SPLITTER = 134217729.0  # 2^27 + 1: Dekker's splitting constant for float64


def slice_width(k: int) -> int:
    """Slice width β (bits): the largest integer keeping every exactly computed product sum's absolute
    sum at most 2^53, for rows and columns of 2-norm at most 2^β (the grid of :func:`grid_exponent`).

    By Cauchy–Schwarz ``Σ_p |I1_ip·J1_pj| ≤ ‖I1_i‖‖J1_j‖ ≤ (2^β + √k/2)²`` (rounding moves each entry by
    at most 1/2) and ``Σ_p |I1·J2| + |I2·J1| ≤ 2·(2^β + √k/2)·√k·2^(β−1)`` (``|I2|, |J2| ≤ 2^(β−1)``).  Every partial sum is then an integer float64 holds exactly, in whatever
    order or blocking BLAS adds, with or without FMA.
    """
    beta = 26
    limit = 2.0 ** 53 * (1 - 2.0 ** -40)  # the bounds below are evaluated with a few roundings
    while True:
        top = 2.0 ** beta + math.sqrt(k) / 2
        if top * top <= limit and top * math.sqrt(k) * 2.0 ** beta <= limit:
            return beta
        beta -= 1


def grid_exponent(x: np.ndarray) -> int | None:
    """An int ``e`` with every row's and every column's 2-norm of the float64 2-D ``x`` at most ``2^e``,
    or ``None`` when ``x`` has a non-finite entry.

    From the Frobenius norm (one BLAS dot product): its floating-point square is at least
    ``‖x‖²·(1 − γ_N)`` for N entries (non-negative terms), so inflating it by ``(N + 8)·2^−52`` covers that
    and the roundings of the inflation and the square root.  A sum of squares that overflows or is tiny
    (squares underflowing) falls back to ``‖x‖_F ≤ √N·max|x|``.  One grid for the whole matrix costs
    precision only for rows far smaller than the largest (correct rounding makes the result independent
    of the grid; such elements are merely more often left to :func:`exact_entries`).
    """
    flat = x.ravel(order="K")  # a view for C- or F-ordered x
    sq = float(np.dot(flat, flat))
    if 2.0 ** -960 <= sq < math.inf:  # NaN fails
        return math.frexp(math.sqrt(sq * (1 + (x.size + 8) * 2.0 ** -52)))[1]
    mx = float(np.max(np.abs(flat)))
    if not math.isfinite(mx):
        return None
    return math.frexp(mx)[1] + ((x.size - 1).bit_length() + 1) // 2  # √N ≤ 2^ceil(log2(N)/2)


def _scaled(x: np.ndarray, shift: int, out: np.ndarray) -> bool:
    """``out = x·2^shift``; whether that was exact (scaling down can make an entry subnormal)."""
    y = np.ldexp(x, shift, out=out)
    return shift >= 0 or np.array_equal(np.ldexp(y, -shift), x)


def _float64_candidates(a: np.ndarray, b: np.ndarray):
    """Candidates (m, n) for finite float64 ``a`` (m, k), ``b`` (k, n) and the mask of those proven
    correctly rounded (module docstring); ``None`` when an input is not finite."""
    ea = grid_exponent(a)
    eb = None if ea is None else grid_exponent(b)
    if eb is None:
        return None
    m, k = a.shape
    n = b.shape[1]
    beta = slice_width(k)
    found = _three_slices(a, b, beta - ea, beta - eb, beta)
    if found is None:  # a matrix spanning ~1000 binades: every element one by one
        return np.zeros((m, n)), np.zeros((m, n), dtype=bool)
    s, t, margin = found
    # proven when both ends of [s + t − margin, s + t + margin] round to s (that set is an interval)
    hi = t + margin
    t -= margin
    hi += s
    t += s
    good = (hi == s) & (t == s)
    # a proven nonzero s has |s| > 2^52·margin ≥ 4 and |s| < 2^55: scaling back is exact for shifts in
    # [-1024, 968]; otherwise check for subnormal or infinite results
    shift = ea + eb - 2 * beta
    s = np.ldexp(s, shift, out=s)
    if not -1024 <= shift <= 968:
        good &= np.isfinite(s) & ((np.abs(s) >= np.finfo(np.float64).tiny) | (s == 0))
    return s, good


def _two_sum_into(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum, overwriting its inputs: ``s = fl(x + y)`` and the exact error ``t = x + y − s``."""
    s = x + y
    t = s - x
    x -= s - t
    y -= t
    x += y
    return s, x


def _three_slices(a, b, shift_a, shift_b, beta):
    """``(s, t, margin)`` with ``|a·b·2^(shift_a + shift_b) − (s + t)| ≤ margin`` elementwise (module
    docstring, steps 2-4), or ``None`` when a scaling would be inexact.

    ``A = I1 + 2^−β·(I2 + Pa)``, ``B = J1 + M1``, ``M1 = 2^−β·(J2 + Pb)``, so ``A·B = C2 + 2^−β·(C3 + R)``
    with ``C2 = I1·J1`` and ``C3 = I1·J2 + I2·J1`` exact and ``R = I1·Pb + I2·M1 + Pa·B`` rounded: its
    terms' absolute sum is at most ``(2^β + √k/2)·√k/2 + √k·2^(β−1)·√k/2 + √k/2·2^β`` (Cauchy–Schwarz),
    its error at most ``γ_3k`` times that plus ``3k·2^−1074`` for underflowing products (Higham 2002,
    eq. 3.5); the rounding of ``C3 + R`` adds ``u·|fl(C3 + R)|`` per element.
    """
    m, k = a.shape
    n = b.shape[1]
    # stacked slices: sa = [I1 | I2 | Pa] (m, 3k); s3 = [J2; J1] (2k, n); sr = [Pb; M1; B] (3k, n)
    sa, s3, sr = np.empty((m, 3 * k)), np.empty((2 * k, n)), np.empty((3 * k, n))
    A = np.empty((m, k))
    if not (_scaled(a, shift_a, A) and _scaled(b, shift_b, sr[2 * k:])):
        return None
    scale = 2.0 ** beta
    i1 = np.rint(A, out=sa[:, :k])
    A -= i1
    A *= scale  # exact: the bits of A below 1, |y| ≤ 2^(β−1)
    np.subtract(A, np.rint(A, out=sa[:, k:2 * k]), out=sa[:, 2 * k:])
    B = sr[2 * k:]
    j1 = np.rint(B, out=s3[k:])
    y = np.subtract(B, j1, out=sr[k:2 * k])  # M1
    y = y * scale
    np.subtract(y, np.rint(y, out=s3[:k]), out=sr[:k])
    c2 = np.matmul(i1, j1)  # exact
    u = np.matmul(sa[:, :2 * k], s3)  # C3, exact
    u += np.matmul(sa, sr)  # fl(C3 + R)
    u *= 1.0 / scale  # exact barring underflow (in the bound)
    u_abs = np.abs(u)
    s, t = _two_sum_into(c2, u)
    root = math.sqrt(k)
    terms = (2.0 ** beta + root / 2) * root / 2 + k * 2.0 ** (beta - 2) + root / 2 * 2.0 ** beta
    fixed = 2.0 ** -beta * (3 * k * _U * (1 + 2.0 ** -20) * terms + 3 * k * 2.0 ** -1074) + 2.0 ** -1074
    u_abs *= _U * (1 + 2.0 ** -40)
    u_abs += _inflated(fixed)
    return s, t, u_abs


def _inflated(bound: float) -> float:
    """A margin from an error bound (in units where ``|s| ≤ 2^53·(1 + 2^−20)``): ×(1 + 2^−40) for the
    roundings of the bound's own arithmetic, plus ``2^−104·2^53`` since ``fl(t ± margin)`` is off by at most
    ``u·(|t| + margin)`` and ``|t| ≤ u·|s|``."""
    return (bound + 2.0 ** -50) * (1 + 2.0 ** -40)


def _float32_candidates(a: np.ndarray, b: np.ndarray):
    """float32 candidates (as float64) for float32 ``a``, ``b`` and the mask of those proven correctly
    rounded to float32; ``None`` when an input is not finite."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    k = a.shape[1]
    sa, sb = np.einsum("ij,ij->i", a64, a64), np.einsum("ij,ij->j", b64, b64)
    if not (np.isfinite(sa).all() and np.isfinite(sb).all()):
        return None
    c = a64 @ b64  # every product exact (48 bits); the sum rounds
    # |c − exact| ≤ γ_k·Σ|a_p b_p| ≤ γ_k·‖a_i‖‖b_j‖; the last term covers the rounding of c ± margin
    # (|c| ≤ ‖a_i‖‖b_j‖(1 + γ_k)), the factor the roundings of the norms and of the bound itself
    g = (k * _U * (1 + 2.0 ** -20) + 2.0 ** -51) * (1 + k * 2.0 ** -50 + 2.0 ** -40)
    margin = np.sqrt(sa)[:, None] * (g * np.sqrt(sb))
    near = c.astype(np.float32)
    good = ((c - margin).astype(np.float32) == near) & ((c + margin).astype(np.float32) == near)
    return near.astype(np.float64), good


def _is_float32_midpoint(x: float) -> bool:
    """Whether the float64 ``x`` lies exactly halfway between two adjacent float32 values."""
    with np.errstate(over="ignore"):
        near = float(np.float32(x))
    if math.isinf(near):
        return True  # let rational arithmetic decide at the overflow threshold
    other = 2 * x - near  # the other neighbour when x is a midpoint (exact then)
    return other != near and float(np.float32(other)) == other


def exact_entries(a: np.ndarray, b: np.ndarray, rows: np.ndarray, cols: np.ndarray, dtype) -> np.ndarray:
    """Correctly rounded ``(a @ b)[rows[f], cols[f]]`` for finite float 2-D ``a``, ``b``, one by one.

    Dekker's TwoProduct (exact when no product underflows below 2^-960 nor exceeds 2^990 and every factor
    is below 2^995) turns each product into an exact pair of floats whose exact sum ``math.fsum`` rounds
    correctly; float32 results landing exactly on a float32 midpoint, and the ranges where TwoProduct
    is not exact, use rational arithmetic.  Returns a float64 array of the ``dtype`` values.
    """
    xa = np.asarray(a, dtype=np.float64)[rows]
    xb = np.asarray(b, dtype=np.float64)[:, cols].T
    with np.errstate(all="ignore"):  # out-of-range pairs overflow here; ``safe`` sends them to Fraction
        p = xa * xb
        c = _SPLITTER * xa
        ah = c - (c - xa)
        c = _SPLITTER * xb
        bh = c - (c - xb)
        al, bl = xa - ah, xb - bh
        err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    mag = np.abs(p)
    safe = (np.all((mag >= 2.0 ** -960) | (p == 0), axis=1) & (mag.max(axis=1, initial=0.0) <= 2.0 ** 990)
            & (np.abs(xa).max(axis=1, initial=0.0) < 2.0 ** 995) & (np.abs(xb).max(axis=1, initial=0.0) < 2.0 ** 995))
    out = np.empty(len(rows))
    single = np.dtype(dtype) == np.float32
    for f in range(len(rows)):
        value = math.fsum(p[f].tolist() + err[f].tolist()) if safe[f] else None
        if value is None or (single and _is_float32_midpoint(value)):
            value = exact_dot(xa[f], xb[f], dtype)
        out[f] = value
    return out
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


def try_exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """Correctly rounded ``a @ b`` for 2-D float32/float64 ``a`` (m, k) and ``b`` (k, n), or ``None`` when
    an input has a non-finite entry (the exact sum is then undefined; the caller picks another rule).

    Returns an (m, n) array of the inputs' common dtype (float32 only when both are float32).
    """
    dtype = np.result_type(a.dtype, b.dtype, np.float32)
    m, k = a.shape
    n = b.shape[1]
    if k == 0 or m == 0 or n == 0:
        return np.zeros((m, n), dtype=dtype)
    with np.errstate(all="ignore"):  # overflow to ±inf and squares of huge entries are handled, not accidents
        if dtype == np.float32:
            found = _float32_candidates(a, b)
        else:
            found = _float64_candidates(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    if found is None:
        return None
    out, good = found
    if not good.all():
        rows, cols = np.nonzero(~good)
        # a row of a or a column of b that is all zeros: every product is a zero, the sum is exactly 0
        zero = ~np.any(a != 0, axis=1)[rows] | ~np.any(b != 0, axis=0)[cols]
        out[rows[zero], cols[zero]] = 0.0
        rows, cols = rows[~zero], cols[~zero]
        out[rows, cols] = exact_entries(a, b, rows, cols, dtype)
    out = out.astype(dtype, copy=False)
    out += dtype.type(0.0)  # -0.0 → +0.0; the all-negative-zero case is restored below
    zero = out == 0
    if zero.any():
        out[zero & _all_products_negative_zero(a, b)] = -0.0
    return out


def exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Correctly rounded ``a @ b`` for finite 2-D float32/float64 ``a`` (m, k) and ``b`` (k, n) (see
    :func:`try_exact_matmul`); raises :class:`~invariants.core.errors.BadInput` for a non-finite entry."""
    out = try_exact_matmul(a, b)
    if out is None:
        raise BadInput("exact_matmul needs finite inputs: the exact sum of products with inf or nan is undefined")
    return out


def _all_products_negative_zero(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(m, n) mask: every product a[i, p]·b[p, j] is a zero (a factor is zero) of negative sign."""
    nonzero = (a != 0).astype(np.float64) @ (b != 0).astype(np.float64)
    sa, sb = np.signbit(a).astype(np.float64), np.signbit(b).astype(np.float64)
    same_sign = sa @ sb + (1.0 - sa) @ (1.0 - sb)  # counts ≤ k: exact
    return (nonzero == 0) & (same_sign == 0)
