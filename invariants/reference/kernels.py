"""Contraction kernels for the reference network.

Two kernels compute the same sums of products:

``exact`` (default)
    Every output element is a function of the *multiset* of its term pairs ``{(a[i, p], b[p, j])}``
    alone, computed by the same operations whatever its position, so it is invariant under any
    permutation of the reduction index, identical rows give identical results, and permuting hidden
    units permutes every output, gradient and optimizer state bit for bit.  Two algorithms, chosen by
    shape alone (a permutation never changes the choice):

    - **error-free transformation** (:mod:`invariants.reference.ozaki`) for products of at least
      :data:`CROSSOVER` terms (m·k·n): the result is the *correctly rounded* exact dot product (the
      float nearest to the real sum of the unrounded products), hence at least as accurate as BLAS.
      An array wrapped by :func:`operand` is split into its slices once for all the products it
      enters (the reference network's forward and backward passes share them).
    - **canonical order** below :data:`CROSSOVER` (where it is faster) and for non-finite inputs: the
      products are formed one IEEE multiplication each, **sorted by value**, and added strictly left
      to right (:func:`canonical_sum`), a recursive sum with the usual bound γ_k·Σ|a_p b_p| (Higham
      2002, eq. 3.5).  Signed zeros need care: numpy's vectorised sort does not return a permutation
      of its input bit for bit (it may turn ``-0.0`` into ``+0.0`` and back, depending on where the
      zeros sit), so zeros are made ``+0.0`` before the sort.  In IEEE round-to-nearest, left-to-right
      sums of the sorted terms are ``-0.0`` exactly when every term is ``-0.0`` (an exact cancellation
      gives ``+0.0``; a sum of same-signed nonzero terms cannot round to zero), and that case is
      restored after the sum.  Non-finite values follow IEEE: a NaN product (NaN, or 0·∞) or both
      +∞ and −∞ give NaN, otherwise ±∞.  Cost O(m·n·k·log k) time, memory bounded by chunks of
      :data:`CHUNK` products.

    With numba installed both run as compiled loops (:mod:`invariants.reference.compiled`): the same
    operations in the same order, the same bits, without numpy's fixed cost per call;
    ``INVARIANTS_NO_COMPILED=1`` runs the numpy code below.

    Both give ``-0.0`` exactly when every product is a zero of negative sign, and ``+0.0`` for any
    other zero sum.  They differ in the last bits of nonzero sums (and where an IEEE product would
    underflow or overflow: the error-free transformation does not round products).

``blas``
    ``numpy.matmul``.  Fast, but the accumulation order depends on the BLAS kernel's tiling and on an
    element's position, so identical rows can round differently and permuted inputs can give results
    that differ in the last bits.  Kept for speed (signal-propagation experiments at large width) and
    for the floating-point symmetry-breaking study.
"""
from __future__ import annotations

import functools

import numpy as np

from invariants.reference import compiled
from invariants.reference.ozaki import Operand, try_exact_matmul

KERNELS: tuple[str, ...] = ("exact", "blas")
#: Products (m·k·n) from which ``exact`` uses the error-free transformation: below it the canonical
#: sort-sum is faster (measured: ``python benchmarks/speed.py --only crossover``: the EFT wins from
#: ~4096 products).  Moving it changes low bits of results in between: at 8192 the report of
#: ``invariants verify`` is the same as at 16384; at 4096 one evidence figure moves (BIAS-EFFECT-01's
#: smallest bias change after 150 Adam steps, 0.00016 → 0.00018: Adam amplifies last-bit differences).
CROSSOVER = 8192
#: Entries from which :func:`operand` wraps an array for the exact kernel
WRAP_FROM = 64
#: Products per block of the canonical sort-sum (bounds its memory: 8 bytes each)
CHUNK = 1 << 21
#: Terms per sum up to which the compiled canonical sum (:mod:`invariants.reference.compiled`) is used
#: (beyond, the numpy definition: its fixed costs no longer dominate)
COMPILED_UP_TO = 4096
#: Terms per sum up to which the compiled loop sorts by insertion; longer sums are sorted by numpy's
#: vectorised sort, then summed by the compiled loop (measured: insertion wins below ~16-32 terms)
INSERTION_UP_TO = 16
#: Terms per column up to which a compiled sum over axis 0 of a 2-D array sorts every column at once with a
#: sorting network (:func:`sorting_network`); past 64 its n·log²n comparators lose to numpy's sort
NETWORK_UP_TO = 64
#: The dtypes the compiled loops, the row-wise losses and the packed optimizer updates handle directly
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@functools.lru_cache(maxsize=None)
def sorting_network(size: int) -> np.ndarray:
    """The comparators (int64 (q, 2): rows ``i < j``, compare-exchange so that row i ≤ row j) of Batcher's
    odd-even merge sort of ``size`` terms, a power of two (Knuth, TAOCP vol. 3, §5.3.4, Algorithm M's
    merging network; 191 comparators for 32).  Any input sequence comes out ascending (0-1 principle;
    tested exhaustively up to 16 in tests/reference/test_compiled.py)."""
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def canonical_sum(terms: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sum ``terms`` along ``axis`` in canonical order: sorted ascending, then added left to right.

    Bitwise invariant under permutations of ``terms`` along ``axis``, signed zeros included: the
    result is ``-0.0`` exactly when every term is ``-0.0`` (as IEEE addition in any order gives).
    A NaN result is the default quiet NaN whatever the NaN terms' payloads.  An empty axis sums to
    ``+0.0``.  One or two terms are added directly (:func:`short_sum`: the same bits, less overhead).
    """
    terms = np.asarray(terms)
    axis = axis if axis < 0 else axis - terms.ndim  # negative: -1 is the last axis
    length = terms.shape[axis]
    fast = compiled_sum(terms, axis)
    if fast is not None:
        return fast
    if 0 < length <= 2:
        if axis == -1:
            return short_sum(terms[..., 0], terms[..., 1] if length == 2 else None)
        return short_sum(np.take(terms, 0, axis=axis), np.take(terms, 1, axis=axis) if length == 2 else None)
    return sorted_sum(terms, axis)


def sorted_sum(terms: np.ndarray, axis: int = -1) -> np.ndarray:
    """:func:`canonical_sum` by its definition, for any number of terms: sort, then add left to right
    (the general path; :func:`canonical_sum` adds one or two terms directly, with the same bits)."""
    terms = np.asarray(terms)
    ndim = terms.ndim
    axis = axis if axis < 0 else axis - ndim
    length = terms.shape[axis]
    if axis != -1 and terms.size > 4096:  # measured: past a few thousand terms a contiguous sort wins
        terms, axis = np.moveaxis(terms, axis, -1), -1
    if length == 0:
        return np.zeros(np.delete(terms.shape, ndim + axis), dtype=terms.dtype)
    # x + 0.0 turns -0.0 into +0.0 and leaves every other value (NaN aside) unchanged, so the sort
    # sees no signed zeros to scramble; sorted and summed left to right in place (one buffer), along
    # ``axis`` where it lies (sorting and accumulating along any axis are the same operations per sum)
    x = np.add(terms, terms.dtype.type(0.0), order="C" if axis == -1 else "K")
    x.sort(axis=axis)
    np.add.accumulate(x, axis=axis, out=x)
    total = x[..., -1].copy() if axis == -1 else np.take(x, -1, axis=axis)
    if np.count_nonzero(total) < total.size:  # an all-negative-zero sum is zero: look for one only then
        all_negative_zero = np.all((terms == 0) & np.signbit(terms), axis=axis)
        total = np.where(all_negative_zero, -total, total)
    return one_nan(total)


def compiled_sum(terms: np.ndarray, axis: int) -> np.ndarray | None:
    """:func:`sorted_sum` of a 1-D or 2-D float32/float64 ``terms`` along ``axis`` (negative) with the
    compiled loops (:mod:`invariants.reference.numba_kernels`; the same bits), or ``None`` where they do
    not apply (accelerator off or absent, another dtype or rank, an empty or long axis: the choice
    depends on the shape and dtype only).  Sums over axis 0 of a 2-D array with :data:`INSERTION_UP_TO` to
    :data:`NETWORK_UP_TO` terms sort every column at once by a sorting network (``sum_columns``); otherwise
    up to :data:`INSERTION_UP_TO` terms a sum is sorted by insertion inside the loop, longer ones by
    numpy's vectorised sort (faster), then summed by the loop."""
    length = terms.shape[axis] if terms.ndim else 0
    if not 0 < length <= COMPILED_UP_TO or terms.ndim > 2 or terms.dtype not in FLOAT_DTYPES:
        return None
    fast = compiled.kernels()
    if fast is None:
        return None
    if axis == -2 and INSERTION_UP_TO < length <= NETWORK_UP_TO:  # a 2-D batch axis: sorted in SIMD lanes
        size = 1 << (length - 1).bit_length()
        out = np.empty(terms.shape[1], dtype=terms.dtype)
        fast.sum_columns(np.ascontiguousarray(terms), sorting_network(size), size, out)
        return out
    # C-ordered rows: one compiled specialisation per dtype (a copy of a small array costs less than
    # loading another from the cache in every process)
    rows = np.ascontiguousarray(terms[None, :] if terms.ndim == 1 else terms if axis == -1 else terms.T)
    out = np.empty(rows.shape[0], dtype=terms.dtype)
    if length <= INSERTION_UP_TO:
        fast.sum_last(rows, out, np.empty(length, dtype=terms.dtype))
    else:
        x = np.add(rows, terms.dtype.type(0.0), order="C")  # -0.0 → +0.0 before the sort, as sorted_sum
        x.sort(axis=-1)
        fast.sum_sorted(x, rows, out)
    return out.reshape(()) if terms.ndim == 1 else out


def short_sum(first: np.ndarray, second: np.ndarray | None = None) -> np.ndarray:
    """:func:`canonical_sum` of one term (``first``) or two (``first``, ``second``: same shape), bit for bit,
    as a new array.

    Why it is the same: IEEE addition is commutative (``fl(a + b) = fl(b + a)``, overflow included), so
    the sorted order of two terms does not matter; the sum of two zeros is ``-0.0`` exactly when both
    are (round to nearest), and ``x + (-x) = +0.0``, which is the canonical rule for signed zeros; a
    single term is its own sum (``-0.0`` included).  NaNs become the default quiet NaN as there.
    """
    out = first.copy()  # an array even for 0-d terms (``first + second`` would give a numpy scalar)
    if second is not None:
        out += second
    return one_nan(out)


def one_nan(total: np.ndarray) -> np.ndarray:
    """``total`` with every NaN made the default quiet NaN (which NaN payload survives a sum depends on
    the order of the NaN terms); ``total`` itself when it has none."""
    nan = np.isnan(total)
    if np.count_nonzero(nan):  # measured: faster than nan.any() on small arrays
        total = np.where(nan, total.dtype.type(np.nan), total)
    return total


def operand(x: np.ndarray, kernel: str = "exact"):
    """For the ``exact`` kernel, ``x`` (2-D) wrapped for :func:`matmul` so that it is split once however
    many products it enters, on either side and through ``.T``
    (:class:`~invariants.reference.ozaki.Operand`); for the others, and for arrays of fewer than
    :data:`WRAP_FROM` entries, ``x`` itself (no wrapping cost).

    Wrapping changes no bit (the error-free transformation is correctly rounded whatever the split), only
    the cost: an array that small enters a product of :data:`CROSSOVER` terms only against a side of
    more than 128, where splitting it again is negligible, while wrapping costs ~2.5 µs per product in
    the many tiny networks (widths 2-8, batches 4-32) of ``invariants verify`` (measured)."""
    return Operand(x) if kernel == "exact" and x.size >= WRAP_FROM else x


def matmul(a, b, kernel: str = "exact") -> np.ndarray:
    """``a @ b`` for 2-D ``a`` of shape (m, k) and ``b`` of shape (k, n), arrays or :func:`operand`,
    with the chosen kernel (see the module docstring); raises ``ValueError`` for an unknown kernel."""
    x = a.array if isinstance(a, Operand) else a
    y = b.array if isinstance(b, Operand) else b
    if kernel == "blas":
        return x @ y
    if kernel != "exact":
        raise ValueError(f"unknown kernel {kernel!r}; expected one of {KERNELS}")
    m, k = x.shape
    n = y.shape[1]
    if m * k * n >= CROSSOVER:
        out = try_exact_matmul(a, b)
        if out is not None:  # None: a non-finite input, for the canonical rule
            return out
    return canonical_matmul(x, y)


def canonical_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` by :func:`canonical_sum` of the IEEE products, in blocks of rows of ``a``."""
    m, k = a.shape
    n = b.shape[1]
    if 0 < k <= INSERTION_UP_TO and a.dtype == b.dtype and a.dtype in FLOAT_DTYPES:
        fast = compiled.kernels()
        if fast is not None:  # the same operations in one compiled loop: the same bits
            out = np.empty((m, n), dtype=a.dtype)
            # C-ordered operands: one compiled specialisation per dtype (a copy costs less than a compile)
            fast.canonical_matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), out, np.empty(k, dtype=a.dtype))
            return out
    with np.errstate(invalid="ignore", over="ignore"):
        # 0·∞ and ∞ − ∞ are NaN by definition here, not an accident to warn about
        if 0 < k <= 2:  # one or two products per element: added directly (see short_sum), no sort
            total = a[:, :1] * b[:1]
            if k == 2:
                total += a[:, 1:] * b[1:]
            return one_nan(total)
        if m * k * n <= CHUNK:  # one block (every product below CROSSOVER): no output buffer to fill
            # one row of k products per element: the 2-D form lets canonical_sum use the compiled loop
            products = a[:, None, :] * b.T[None, :, :]
            return canonical_sum(products.reshape(m * n, k), axis=-1).reshape(m, n)
    rows = max(1, CHUNK // max(1, k * n))
    dtype = np.result_type(a.dtype, b.dtype)
    out = np.empty((m, n), dtype=dtype)
    for start in range(0, m, rows):
        # products[i, j, p] = a[i, p] * b[p, j]: one rounding each, reduction axis last for the sort;
        # 0·∞ and ∞ − ∞ are NaN by definition here, not an accident to warn about
        with np.errstate(invalid="ignore", over="ignore"):
            products = a[start:start + rows, None, :] * b.T[None, :, :]
            out[start:start + rows] = canonical_sum(products, axis=-1)
    return out


def sum_rows(a: np.ndarray, kernel: str = "exact") -> np.ndarray:
    """Sum a 2-D array over axis 0 (the batch), with the chosen kernel's order."""
    if kernel == "blas":
        return a.sum(axis=0)
    if kernel != "exact":
        raise ValueError(f"unknown kernel {kernel!r}; expected one of {KERNELS}")
    return canonical_sum(a, axis=0)
