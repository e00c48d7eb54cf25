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

1. **Grid** (:func:`grid_exponent`).  ``a`` is scaled by ``2^(β − e)`` with every row's and column's
   2-norm at most ``2^e`` (a power of two, so the scaling is exact), giving ``A`` whose every row has
   2-norm ``‖A_i‖₂ ≤ 2^β``; ``b`` likewise gives ``B``, columns ``‖B_j‖₂ ≤ 2^β``.  β is :func:`slice_width`
   of the operands' longest sides (never above that of the reduction length k).
2. **Integer slices and a remainder** (:class:`Split`, once per operand).  ``I1 = rint(A)``,
   ``I2 = rint((A − I1)·2^β)``, ``Pa = (A − I1)·2^β − I2``, all exact:
   ``A = I1 + 2^(−β)·(I2 + Pa)`` with ``|I2| ≤ 2^(β−1)``, ``|Pa| ≤ 1/2``; ``B = J1 + M1``,
   ``M1 = 2^(−β)·(J2 + Pb)`` likewise.  Then, exactly, ``A·B = C2 + 2^(−β)·(C3 + R)`` with ``C2 = I1·J1``,
   ``C3 = I1·J2 + I2·J1`` and ``R = I1·Pb + I2·M1 + Pa·B``.  The slicing is elementwise on one grid per
   matrix, so the slices of ``aᵀ`` are those of ``a`` transposed: an :class:`Operand` (a network's
   weight, activation or error signal) is split once for every product it enters, forward and
   backward.  (One slice and a rounded remainder, ``I1·J1 + [I1 | Pa]·[Pb; B]``, would halve the
   multiply-adds but leaves ~10⁻³ of the elements undecided at k = 64 (γ_2k times a remainder of size
   2^β·√k against an ulp of 2^(2β − 52)·|cos|), too many for the one-by-one fallback.)
3. **Products by BLAS.**  By Cauchy–Schwarz the absolute sums of the terms of ``C2`` and ``C3`` are at
   most 2^53 (:func:`slice_width`), so every partial sum, in whatever order or blocking the BLAS uses,
   with or without FMA, is an integer float64 holds: both come out *exact* (``C3`` as the sum of two
   exact integer products, itself below 2^53).  ``R`` (three calls) is rounded, within ``γ_3k`` times its
   terms' absolute sum (Cauchy–Schwarz again) plus an underflow term — ~2^(−2β) of the result.
4. **Rounding, proven per element.**  ``u = fl(C3 + R)·2^(−β)`` is within a margin of the exact
   ``(C3 + R)·2^(−β)`` (:func:`_margin_terms`: from step 3 and the one rounding of ``C3 + R``), widened so
   that ``fl(u − margin) ≤ exact ≤ fl(u + margin)``.  Rounding is monotone, so when
   ``fl(C2 + fl(u − margin))`` and ``fl(C2 + fl(u + margin))`` are the same float ``s`` (one addition
   each), the correctly rounded exact value is ``s`` too; then ``s·2^(e_a + e_b − 2β)`` is exact unless it
   overflows or is subnormal, which is checked.  Elements not proven (near a rounding boundary: heavy
   cancellation; ~1 in 10⁵ Gaussian entries at k = 64, 0.2 per ``loss_and_grad`` of the (64, 64, 64, 64)
   MLP) are computed one by one by :func:`exact_entries`: Dekker's TwoProduct makes every product an
   exact pair of floats and ``math.fsum`` rounds their exact sum correctly; where TwoProduct could
   underflow or overflow, rational arithmetic (``fractions.Fraction``, whose conversion to float is
   correctly rounded).

float32 inputs (:func:`_float32_candidates`): a float32 product is exact in float64, so one float64 BLAS
call gives the sum with error at most ``γ_k·‖a_i‖₂‖b_j‖₂`` (Cauchy–Schwarz), ~2^(−29)·√k of a float32
ulp; the float32 rounding is accepted when both ends of that interval round to the same float32, and
the rest go to :func:`exact_entries`.  Mixed float32/float64 operands use the float64 method.

Zeros: an exact sum of zero is ``+0.0`` unless every product is a zero of negative sign (IEEE 754's
rule for a sum of ``-0.0`` terms), the same rule as :func:`invariants.reference.kernels.canonical_sum`;
a nonzero exact sum too small for the format also gives ``+0.0``.

Compiled accelerator (optional, :mod:`invariants.reference.compiled`): with numba installed, each float64
operand's grid and slices are computed in one compiled pass (:func:`sliced`) and the sums, margins, proof
and scaling after the six BLAS products in another (:func:`compiled_candidates`); the same operations on
the same slices, hence the same bits (correct rounding makes every route's result the same value).

Scope: finite inputs (non-finite ones make the exact sum undefined: :func:`exact_matmul` raises, and
:func:`try_exact_matmul` returns ``None`` so that the caller can route them elsewhere).  Cost for
float64: 6 BLAS calls (k multiply-adds per output element each) and ~12 elementwise passes over the
output, plus ~8 passes per operand split; for float32, 1 BLAS call and ~8 passes.  Against BLAS
(``python benchmarks/speed.py --only floor``): one ``loss_and_grad`` of the (64, 64, 64, 64) MLP on a
batch of 32 makes 8 products and 9 splits; the 48 slice products alone take ~1.6 times BLAS's whole
``loss_and_grad`` (measured hot, more inside the network), and the splits, passes and Python ~4 times
with the numpy code (numpy calls on 2048-4096 values cost ~1 µs each, mostly fixed), ~1.5-1.7 times with
the compiled accelerator (9 splits of ~5-12 µs, 8 proof passes of ~1.5 µs, ~3 µs of Python a product).  One slice per operand (3k
multiply-adds) leaves ~10⁻³ of the elements undecided (measured on that MLP: 148 of 160 products have
some), so nearly every product would need a second stage.
"""
from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

from invariants.core.errors import BadInput
from invariants.reference import compiled

_U = 2.0 ** -53  # unit roundoff of float64
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_SPLITTER = 134217729.0  # 2^27 + 1: Dekker's splitting constant for float64


@functools.lru_cache(maxsize=None)
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


def grid_exponent(x: np.ndarray, axes: str = "both") -> int | None:
    """An int ``e`` with every row's and every column's 2-norm of the float64 2-D ``x`` at most ``2^e``
    (only the rows' for ``axes="rows"``, only the columns' for ``"cols"``), or ``None`` when ``x`` has a
    non-finite entry.

    From the largest row or column sum of squares (two passes): a floating-point sum of n non-negative
    terms is at least ``exact·(1 − γ_n)``, so inflating it by ``(n + 8)·2^−52`` (n the longer side)
    covers that and the roundings of the squares, of the inflation and of the square root.  A sum of
    squares that overflows or is tiny (squares underflowing) falls back to ``‖x_i‖₂ ≤ √n·max|x|``.  One
    power of two for the whole matrix (not one per row) lets a split serve either side of a product,
    transposed or not; it costs precision only for rows far smaller than the largest (correct rounding
    makes the result independent of the grid: such elements are merely more often left to
    :func:`exact_entries`).
    """
    if x.size == 0:
        return 0
    sq = max(float(np.einsum("ij,ij->i", x, x).max()) if axes != "cols" else 0.0,
             float(np.einsum("ij,ij->j", x, x).max()) if axes != "rows" else 0.0)
    return grid_from_norms(sq, lambda: float(np.max(np.abs(x))), max(x.shape))


def grid_from_norms(sq: float, largest, n: int) -> int | None:
    """:func:`grid_exponent` from ``sq``, the largest row or column sum of squares as computed (in any
    order), ``largest()`` giving the largest |entry| (called only when ``sq`` overflows or is tiny or NaN)
    and ``n``, the longer side; ``None`` when that entry is not finite."""
    if 2.0 ** -960 <= sq < math.inf:  # NaN fails
        return math.frexp(math.sqrt(sq * (1 + (n + 8) * 2.0 ** -52)))[1]
    mx = largest()
    if not math.isfinite(mx):
        return None
    return math.frexp(mx)[1] + ((n - 1).bit_length() + 1) // 2  # √n ≤ 2^ceil(log2(n)/2)


class Split:
    """The slices of one float64 matrix ``x`` (r, c) on its grid (:func:`grid_exponent`), for slice width
    ``beta`` (module docstring, step 2): ``X = x·2^(β − e) = I1 + M1``, ``M1 = 2^(−β)·(I2 + P)``, each an
    (r, c) array.  Elementwise, so the slices of ``xᵀ`` are the transposed slices of ``x``: one split
    serves every product ``x`` or ``xᵀ`` takes part in, on either side (BLAS reads the transposes in
    place).

    ``axes="rows"`` (``"cols"``) grids on the rows' (columns') norms only: a split for one product, as its
    left (right) operand.  Attributes: ``exponent`` (``e``, ``None`` for a non-finite ``x``, then no
    slices), ``beta``, ``exact``
    (whether the scaling by ``2^(β − e)`` was exact: scaling down can make an entry subnormal), and the
    slices ``scaled`` (X), ``i1``, ``m1``, ``i2``, ``rest`` (P).
    """

    __slots__ = ("beta", "exponent", "exact", "scaled", "i1", "m1", "i2", "rest")

    def __init__(self, x: np.ndarray, beta: int, axes: str = "both"):
        self.beta = beta
        self.exponent = grid_exponent(x, axes)
        self.exact = True
        if self.exponent is None:
            return
        shift = beta - self.exponent
        self.scaled = np.ldexp(x, shift)
        if shift < 0 and not np.array_equal(np.ldexp(self.scaled, -shift), x):
            self.exact = False
        self.i1 = np.rint(self.scaled)
        self.m1 = self.scaled - self.i1  # exact: the bits of X below 1
        p = self.m1 * 2.0 ** beta  # exact, |p| ≤ 2^(β−1)
        self.i2 = np.rint(p)
        p -= self.i2
        self.rest = p

    def transposed(self) -> "Split":
        """The split of ``xᵀ``: the same slices, transposed views."""
        out = Split.__new__(Split)
        out.beta, out.exponent, out.exact = self.beta, self.exponent, self.exact
        if self.exponent is not None:
            out.scaled, out.i1, out.m1, out.i2, out.rest = (self.scaled.T, self.i1.T, self.m1.T, self.i2.T,
                                                            self.rest.T)
        return out


class Operand:
    """A 2-D float array prepared for several correctly rounded products (:func:`try_exact_matmul`): its
    :class:`Split` is computed once per slice width and reused wherever the array is an operand again,
    on either side, and by :attr:`T` (the transposed operand, sharing the splits).  ``array`` is the
    matrix as it enters a product (a transposed view for ``T``); ``beta`` the slice width it is split at,
    valid for any product it takes part in (a product's reduction length is one of its sides, and
    :func:`slice_width` decreases with it).  A network's weights, activations and error signals each
    enter two products (forward and backward): splitting each once halves that work."""

    __slots__ = ("array", "beta", "_transposed", "_splits")

    def __init__(self, array: np.ndarray, _transposed: bool = False, _splits: dict | None = None):
        self.array = array
        self.beta = slice_width(max(array.shape))
        self._transposed = _transposed
        self._splits: dict = {} if _splits is None else _splits

    @property
    def T(self) -> "Operand":
        return Operand(self.array.T, not self._transposed, self._splits)

    def split(self, beta: int) -> Split:
        """The split of ``array`` at slice width ``beta`` (computed once for an operand and its
        transpose)."""
        key = (beta, self._transposed)
        found = self._splits.get(key)
        if found is None:
            other = self._splits.get((beta, not self._transposed))
            found = self._splits[key] = (other.transposed() if other is not None
                                         else Split(np.asarray(self.array, dtype=np.float64), beta))
        return found


@functools.lru_cache(maxsize=None)
def _margin_terms(k: int, beta: int) -> tuple[float, float]:
    """``(fixed, relative)``: a margin with ``fl(u − margin) ≤ u_exact ≤ fl(u + margin)`` for an element
    ``u = fl(C3 + R)·2^−β`` of a product with reduction length ``k`` at slice width ``beta`` is
    ``fixed + relative·|u|`` (module docstring, steps 3-4; units of the scaled operands).

    ``R = I1·Pb + I2·M1 + Pa·B`` has terms' absolute sum at most ``T_R = (2^β + √k/2)·√k/2 +
    k·2^(β−2) + √k/2·2^β`` (Cauchy–Schwarz) and is rounded within ``γ_3k·T_R + 3k·2^−1074`` (Higham 2002,
    eq. 3.5, underflowing products included, whatever the order or blocking of the sums); the rounding of
    ``C3 + fl(R)`` adds at most ``u·|u|·2^β`` and the exact scaling by ``2^−β`` may underflow
    (``2^−1074``).  Rounding ``u ± margin`` moves it by at most ``u·(|u| + margin)``: covered by the
    second ``u·|u|`` and the factor ``1 + 2^−40``.  The floor ``2^−50`` keeps every proven candidate
    above 4 (see :func:`_float64_candidates`).
    """
    root = math.sqrt(k)
    t_r = (2.0 ** beta + root / 2) * root / 2 + k * 2.0 ** (beta - 2) + root / 2 * 2.0 ** beta
    rounded = 3 * k * _U * (1 + 2.0 ** -20) * t_r + 3 * k * 2.0 ** -1074
    grow = 1 + 2.0 ** -40
    return (2.0 ** -beta * rounded + 2.0 ** -1073 + 2.0 ** -50) * grow, 2 * _U * (1 + 2.0 ** -20) * grow


def product_slice_width(a, b, k: int) -> int:
    """The slice width of the product ``a·b`` with reduction length ``k`` (``a``, ``b`` arrays or
    :class:`Operand`): the smaller of the operands' own widths, a plain array's being that of ``k`` (it
    enters this product only, split on the norms this side needs)."""
    return min(a.beta if isinstance(a, Operand) else slice_width(k),
               b.beta if isinstance(b, Operand) else slice_width(k))


def _float64_candidates(a, b):
    """Candidates (m, n) for finite float64 ``a`` (m, k), ``b`` (k, n) (arrays or :class:`Operand`) and
    the mask of those proven correctly rounded (module docstring); ``None`` when an input is not finite."""
    m, k = (a.array if isinstance(a, Operand) else a).shape
    n = (b.array if isinstance(b, Operand) else b).shape[1]
    beta = product_slice_width(a, b, k)
    sa = a.split(beta) if isinstance(a, Operand) else Split(a, beta, "rows")
    sb = b.split(beta) if isinstance(b, Operand) else Split(b, beta, "cols")
    if sa.exponent is None or sb.exponent is None:
        return None
    if not (sa.exact and sb.exact):  # a matrix spanning ~1000 binades: every element one by one
        return np.zeros((m, n)), np.zeros((m, n), dtype=bool)
    c2 = sa.i1 @ sb.i1  # exact
    if 3 * m * k + 5 * k * n < 6 * m * n + 6000:
        # a wide output over a short reduction, or a small product: stacking the slices along k (copies
        # of m·3k and 5k·n values, 3 calls) saves 3 products and 3 output-sized sums (~6 calls ≈ 6000
        # values' worth, measured); the same sums
        left = np.concatenate((sa.i1, sa.i2, sa.rest), axis=1)  # [I1 | I2 | Pa]
        u = left[:, :2 * k] @ np.concatenate((sb.i2, sb.i1))  # C3 = I1·J2 + I2·J1, exact
        u += left @ np.concatenate((sb.rest, sb.m1, sb.scaled))  # + R = I1·Pb + I2·M1 + Pa·B, rounded
    else:
        u = sa.i1 @ sb.i2  # C3 = I1·J2 + I2·J1, exact (every partial sum an integer below 2^53)
        u += sa.i2 @ sb.i1
        r = sa.i1 @ sb.rest  # R = I1·Pb + I2·M1 + Pa·B, rounded
        r += sa.i2 @ sb.m1
        r += sa.rest @ sb.scaled
        u += r
    u *= 2.0 ** -beta  # exact barring underflow (in the margin)
    fixed, relative = _margin_terms(k, beta)
    margin = np.abs(u)
    margin *= relative
    margin += fixed
    # the exact (scaled) element lies in [c2 + fl(u − margin), c2 + fl(u + margin)]; rounding is monotone,
    # so when both ends round to the same float (one addition each), so does the exact value
    hi = u + margin
    u -= margin
    hi += c2
    u += c2
    good = hi == u
    # a proven s is nonzero (the ends differ by at least 2·margin > 0, and a sum of two floats rounds
    # to 0 only when it is 0), |s| > 2^52·margin ≥ 4 and |s| < 2^55: scaling back is exact for shifts in
    # [-1024, 968]; otherwise check for subnormal or infinite results
    shift = sa.exponent + sb.exponent - 2 * beta
    s = np.ldexp(hi, shift, out=hi)
    if not -1024 <= shift <= 968:
        good &= np.isfinite(s) & ((np.abs(s) >= np.finfo(np.float64).tiny) | (s == 0))
    return s, good


#: entries up to which an :class:`Operand` is split in the orientation of its first product (see
#: :func:`sliced`)
FIRST_USE_LAYOUT_UP_TO = 16384


def sliced(x, beta: int, count: int, fast):
    """The slices ``I1``, ``I2``, ``P`` (and, for ``count`` 5, ``M1``, ``X``) of a float64 operand ``x``
    (array or :class:`Operand`) at slice width ``beta``, as a tuple of ``count`` arrays of the operand's
    shape as it enters the product, computed with its grid in one compiled pass
    (:func:`invariants.reference.numba_kernels.split`).  An :class:`Operand` is split once (all five
    slices) for every product it enters, on either side; its transpose reads the transposed views.

    Returns ``(slices, exponent, exact)`` as :class:`Split` has them (``(None, None, True)`` for a
    non-finite ``x``), or ``None`` where the compiled loop does not apply (a scaling by a power of two
    outside the normal range): the numpy :class:`Split` then."""
    if isinstance(x, Operand):
        flip, cache = x._transposed, x._splits
        found = cache.get(beta)
        if found is None:
            # a small operand is split in the orientation of this first use (a transposed one copied first):
            # C-ordered slices there, their transposes elsewhere.  In the network each operand's first use
            # is the one that keeps BLAS off its slow C·F case (a C-ordered left times an F-ordered right,
            # ~1.5-2 µs more per call at width 64, measured): h·Wᵀ and δᵀ·h read C-ordered slices, δ·W
            # F-ordered ones.  Larger ones are split as they are stored: at width 256 the copies cost more
            # than the C·F products (exact ÷ BLAS 5.5 → 5.9, measured; width 128 gains 2-4% from it)
            own = flip if x.array.size <= FIRST_USE_LAYOUT_UP_TO else False
            base = np.ascontiguousarray(x.array if own == flip else x.array.T, dtype=np.float64)
            found = cache[beta] = _split_compiled(base, beta, 5, cache.get("exponent", fast.UNKNOWN), True, True,
                                                  fast)
            cache[(beta, "flip")] = own  # per width: each width's split has the orientation of its own first use
            if found is not None and found[1] is not None:
                cache["exponent"] = found[1]
        if found is None or flip == cache[(beta, "flip")] or found[0] is None:
            return found
        seen = cache.get((beta, "T"))  # the transposed views, kept for the next product too
        if seen is None:
            seen = cache[(beta, "T")] = (tuple(piece.T for piece in found[0]), found[1], found[2])
        return seen
    base = np.ascontiguousarray(x, dtype=np.float64)
    return _split_compiled(base, beta, count, fast.UNKNOWN, count == 3, count == 5, fast)


def _split_compiled(base, beta, count, exponent, rows, cols, fast):
    r, c = base.shape
    block = compiled.POOL.take((count, r, c))  # a reused array: see compiled.BufferPool
    exponent, status = fast.split(base, beta, exponent, rows, cols, ((max(r, c) - 1).bit_length() + 1) // 2, block)
    if exponent == fast.NO_GRID:
        return None, None, True
    return None if status == 2 else (tuple(block), exponent, status == 0)


def compiled_candidates(a, b, fast):
    """:func:`_float64_candidates` by the compiled loops ``fast``: each operand split once with its grid
    (:func:`sliced`), the six slice products by BLAS as in the numpy code, then
    :func:`invariants.reference.numba_kernels.bracket` (the sums, the margin, the proof and the scaling in
    one pass).  Returns ``(candidates, proven mask, all proven)`` (the mask ``None`` when all are),
    ``None`` for a non-finite input, or ``NotImplemented`` where the compiled loops do not apply."""
    x = a.array if isinstance(a, Operand) else a
    y = b.array if isinstance(b, Operand) else b
    m, k = x.shape
    n = y.shape[1]
    beta = product_slice_width(a, b, k)
    left = sliced(a, beta, 3, fast)
    right = sliced(b, beta, 5, fast) if left is not None else None
    if left is None or right is None:
        return NotImplemented
    (sa, ea, exact_a), (sb, eb, exact_b) = left, right
    if ea is None or eb is None:
        return None
    shift = ea + eb - 2 * beta
    if not (exact_a and exact_b) or not -1022 <= shift <= 968:
        return NotImplemented
    i1, i2, pa = sa[:3]  # an Operand has all five
    j1, j2, pb, m1, scaled = sb
    parts, views = compiled.scratch((m, n))  # the five summed products: into reused arrays, not fresh ones
    c2 = i1 @ j1  # C2 = I1·J1, exact (a fresh array: it becomes the result)
    matmul = np.matmul
    matmul(i1, j2, out=views[0])  # C3 = I1·J2 + I2·J1, exact
    matmul(i2, j1, out=views[1])
    matmul(i1, pb, out=views[2])  # R = I1·Pb + I2·M1 + Pa·B, rounded
    matmul(i2, m1, out=views[3])
    matmul(pa, scaled, out=views[4])
    fixed, relative = _margin_terms(k, beta)
    if fast.bracket(c2, parts, 2.0 ** -beta, relative, fixed, 2.0 ** shift):  # some not proven (rare): NaN-marked
        return c2, views[0] == views[0], False
    return c2, None, True


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
    if len(rows) == 0:
        return np.empty(0)
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
    if (mag.max() <= 2.0 ** 990 and max(np.abs(xa).max(), np.abs(xb).max()) < 2.0 ** 995
            and not ((mag < 2.0 ** -960) & (p != 0)).any()):  # the usual case, checked at once
        safe = np.ones(len(rows), dtype=bool)
    else:
        safe = (np.all((mag >= 2.0 ** -960) | (p == 0), axis=1) & (mag.max(axis=1, initial=0.0) <= 2.0 ** 990)
                & (np.abs(xa).max(axis=1, initial=0.0) < 2.0 ** 995)
                & (np.abs(xb).max(axis=1, initial=0.0) < 2.0 ** 995))
    terms = np.concatenate([p, err], axis=1).tolist()
    out = np.empty(len(rows))
    single = np.dtype(dtype) == np.float32
    for f in range(len(rows)):
        value = math.fsum(terms[f]) if safe[f] else None
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


def try_exact_matmul(a, b) -> np.ndarray | None:
    """Correctly rounded ``a @ b`` for 2-D float32/float64 ``a`` (m, k) and ``b`` (k, n), arrays or
    :class:`Operand` (whose splits are then reused), or ``None`` when an input has a non-finite entry (the
    exact sum is then undefined; the caller picks another rule).

    Returns an (m, n) array of the inputs' common dtype (float32 only when both are float32).
    """
    x = a.array if isinstance(a, Operand) else a
    y = b.array if isinstance(b, Operand) else b
    if x.dtype == y.dtype and x.dtype in (_F32, _F64):  # the common case, without result_type's cost
        dtype = x.dtype
    else:
        dtype = np.result_type(x.dtype, y.dtype, np.float32)
    m, k = x.shape
    n = y.shape[1]
    if k == 0 or m == 0 or n == 0:
        return np.zeros((m, n), dtype=dtype)
    found = NotImplemented
    if dtype == _F64:  # compiled loops raise no floating-point warnings: no errstate to enter (~1 µs)
        fast = compiled.kernels()
        if fast is not None:
            found = compiled_candidates(a, b, fast)
    if found is NotImplemented:
        with np.errstate(all="ignore"):  # overflow to ±inf and squares of huge entries are handled, not accidents
            if dtype == np.float32:
                found = _float32_candidates(x, y)
            else:
                found = _float64_candidates(a if x.dtype == np.float64 else np.asarray(x, dtype=np.float64),
                                            b if y.dtype == np.float64 else np.asarray(y, dtype=np.float64))
    if found is None:
        return None
    out, good = found[:2]
    proven = found[2] if len(found) == 3 else good.all()
    if proven and dtype == np.float64:
        return out  # every element proven: none is zero (see _float64_candidates), no sign to settle
    if not good.all():
        rows, cols = np.nonzero(~good)
        # a row of a or a column of b that is all zeros: every product is a zero, the sum is exactly 0
        zero = ~np.any(x != 0, axis=1)[rows] | ~np.any(y != 0, axis=0)[cols]
        out[rows[zero], cols[zero]] = 0.0
        rows, cols = rows[~zero], cols[~zero]
        out[rows, cols] = exact_entries(x, y, rows, cols, dtype)
    out = out.astype(dtype, copy=False)
    out += dtype.type(0.0)  # -0.0 → +0.0; the all-negative-zero case is restored below
    zero = out == 0
    if zero.any():
        out[zero & _all_products_negative_zero(x, y)] = -0.0
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
