"""Haar-law checks of orthogonal initializers: the law of the entries, sums, signs and trace.

An orthogonal initializer promises more than ``Q^T Q = gain^2 I`` (:func:`~invariants.stats.structure.orthogonality_test`):
``torch.nn.init.orthogonal_``, ``jax.nn.initializers.orthogonal``, Keras ``Orthogonal`` and Flax draw ``Q`` from the
*Haar* (uniform) law, the QR factor of a Gaussian matrix with the signs of ``R``'s diagonal moved into ``Q``
(Mezzadri 2007, "How to generate random matrices from the classical compact groups", *Notices AMS* 54:592,
section 5).  An exactly orthogonal matrix can still be far from Haar: the SVD of a non-centred ``U(0, 1)``
matrix has a nearly constant top singular vector (a historical fault), and QR without the sign correction
makes the diagonal of ``Q`` mostly negative.  These checks test the Haar law with exact null distributions.

**Frame.** A draw flattened around its unit axis (:func:`invariants.laws.as_matrix`) is a ``rows x cols`` matrix
``M``; ``A = M / g`` (``M^T`` if ``rows > cols``) is ``k x N`` with ``k = min``, ``N = max`` and orthonormal rows,
``g`` the gain fitted from the draw (``sqrt`` of the mean squared row norm), so the checks test the *shape* of
the law whatever the gain (the gain has the orthogonality check).  Under Haar, ``A`` is uniform on the Stiefel
manifold, and its law is invariant under ``A -> U A V`` for any orthogonal ``U`` (k x k), ``V`` (N x N).  Hence,
for fixed unit vectors ``x`` in ``R^k`` and ``y`` in ``R^N``, ``x^T A y`` is distributed as one coordinate ``t``
of a uniform unit vector in ``R^N``: ``t^2 ~ Beta(1/2, (N - 1)/2)`` exactly (density ``∝ (1 - t^2)^((N-3)/2)``).

Checks (each exact at its ``alpha`` under the Haar law; the draws are independent):

- ``haar_entries``: the entry law.  Row ``a`` of ``A`` is a uniform unit vector in ``R^m`` (``m = N``); its
  squared coordinates are ``Dirichlet(1/2, ..., 1/2)``, whose stick-breaking ratios
  ``V_j = a_j^2 / (a_j^2 + ... + a_m^2)`` are *independent*, ``V_j ~ Beta(1/2, (m - j)/2)`` (``V_1 = a_1^2`` is
  the entry law itself).  Rows after the first are reduced by Householder reflections: given row 1, the other
  rows are a uniform frame of its orthogonal complement, which the reflection ``H(a)`` (a function of ``a``
  only) maps onto ``e_1^⊥``, so the reduced rows are again Haar in one dimension less and independent of
  ``a`` (the Householder construction of the Haar measure, Stewart 1980, *SIAM J. Numer. Anal.* 17:403).
  ``U_j = F_Beta(V_j)`` for the first ``floor(m/2)`` ratios of each row are therefore i.i.d. ``U(0, 1)``
  exactly, across rows and draws, although the entries of one matrix are dependent; the check is the exact
  Kolmogorov–Smirnov test of at most :data:`MAX_UNIFORMS` of them (``scipy.stats.kstwo``).
- ``haar_sums``: row sums, column sums and the total.  ``s = A 1/sqrt(N)`` (the row sums / sqrt(N)) has the law
  of ``k`` coordinates of a uniform unit vector in ``R^N``; ``c = A^T 1/sqrt(k)`` (column sums / sqrt(k)) is a
  uniform unit vector in ``R^N``; ``t = 1^T A 1 / sqrt(kN)``.  Every coordinate squared is
  ``Beta(1/2, (N - 1)/2)``; a draw's p-value for the largest row (column) sum is the union bound ``k`` (``N``)
  ``x`` the Beta tail, the total's is exact; each of the three is combined over the draws by Fisher's method
  (exact for independent uniform p-values, conservative for the union bounds, which are super-uniform), and
  the check's p-value is 3 x the smallest (union bound).  Its false-alarm rate is therefore at most
  ``alpha``; :mod:`invariants.stats.haar_null` bounds it on both sides for any number of draws (at
  ``alpha = 1e-6``: between ``0.330 alpha`` and ``alpha`` on the calibrated shapes).  A constant singular
  vector makes one row or column sum ``~ sqrt(N) g`` where Haar gives ``~ g``: its p-value underflows.
- ``haar_signs``: sign symmetry.  ``A`` and ``D A`` have the same law for every diagonal ``D`` of +-1, so the
  signs of the diagonal entries ``a_jj`` (one per row) are i.i.d. fair coins; the count of positive ones over
  all draws is ``Binomial(n, 1/2)``: exact two-sided binomial test (``scipy.stats.binomtest``).  QR without
  the sign correction makes ``Q``'s diagonal mostly negative (LAPACK's Householder convention
  ``R_jj = -sign(x_1) ||x||``).
- ``haar_trace``: an invariance statistic, square draws only (``k = N >= 2``).  For Haar ``U`` in ``O(N)``,
  ``E[(tr U)^j] = E[Z^j]`` with ``Z ~ N(0, 1)`` for ``j <= N - 1`` (Diaconis & Shahshahani 1994, *J. Appl. Probab.*
  31A:49, Thm 4; Pastur & Vasilchuk 2004, *Commun. Math. Phys.* 249:475), so ``S = sum_d tr A_d / sqrt(D)`` over
  ``D`` draws has the Gaussian moments ``(2m - 1)!!`` for ``2m <= N - 1`` and Markov's inequality gives the
  valid p-value ``min_m (2m - 1)!! / S^(2m)`` (every bound holds, so their minimum does).  A non-square draw is
  reported as not tested (p-value 1).

**Rounding.**  The draws are rounded Haar matrices: the float32 QR of a Gaussian matrix differs from the
exact one by at most ``1.6 u sqrt(N)`` per entry (measured, ``N`` = 64 to 2048, ``u`` the unit roundoff), and
we allow ``e = 16 u sqrt(N)`` per entry (:func:`entry_allowance`).  Each statistic is moved towards its null
value by the most such errors can move it (a linear form with unit Frobenius weight by ``e``; the trace by
``sqrt(N) e`` per draw; a stick-breaking uniform by ``2 f_max e (1 + 2 s)`` after ``s`` reflections,
``f_max = sqrt(N / 2pi)`` the largest density of a coordinate), before its p-value is computed.  In float32
and float64 this costs nothing measurable; when the allowance leaves a check no power (16-bit floats), the
check says so and passes.
"""
from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np
from scipy import special, stats

from invariants.laws import as_matrix, matrix_dims
from invariants.stats.checks import CheckResult, decide, deferred_decision, z_quantiles
from invariants.stats.extremes import mantissa_bits
from invariants.stats.shape import closed_form_cdf, ks_distance, ks_min_detectable_distance, ks_screen
from invariants.stats.variance import DEFAULT_ALPHA, DEFAULT_POWER, check_alpha, check_power

#: most stick-breaking uniforms the entry check tests (the KS p-value is exact up to 10^4)
MAX_UNIFORMS = 10_000
#: most Householder reductions per draw in the entry check (bounds the cost and the rounding growth)
MAX_REDUCTIONS = 4
#: per-entry rounding allowance in units of ``u sqrt(N)`` (10x the largest error measured for float32 QR)
ROUNDING_FACTOR = 16.0
#: diagonal signs the auditor pools for an orthogonal law (``ceil(SIGN_COINS / k)`` draws of a k x N matrix)
SIGN_COINS = 512


def frame(x: np.ndarray, unit_axis: int = 0) -> tuple[np.ndarray, float]:
    """``(A, g)``: the draw ``x`` flattened around ``unit_axis`` (:func:`invariants.laws.as_matrix`), transposed if it
    has more rows than columns, divided by its fitted gain ``g`` (``sqrt`` of the mean squared row norm), in float64.

    ``A`` is ``k x N`` (``k <= N``) with orthonormal rows when ``x`` is orthogonal; ``g = 0`` for an all-zero draw
    (``A`` is then zero).

    Raises:
        BadInput: fewer than 2 dims or ``unit_axis`` out of range (:func:`invariants.laws.matrix_dims`).
    """
    m = as_matrix(np.asarray(x), unit_axis).astype(np.float64)
    if m.shape[0] > m.shape[1]:
        m = m.T
    g = math.sqrt(float(np.mean(np.sum(m * m, axis=1)))) if m.size else 0.0
    return (m / g if g > 0 else m), g


def entry_allowance(n: int, bits: int) -> float:
    """Allowance for the rounding error of one entry of a ``k x n`` orthogonal draw with ``bits`` mantissa bits:
    ``16 u sqrt(n)``, ``u = 2^-(bits + 1)`` (module docstring)."""
    return ROUNDING_FACTOR * 2.0 ** -(bits + 1) * math.sqrt(n)


def coordinate_sf(t2: np.ndarray | float, n: int) -> np.ndarray:
    """``P(T^2 >= t2)`` for a coordinate ``T`` of a uniform unit vector in ``R^n`` (``T^2 ~ Beta(1/2, (n-1)/2)``), n >= 2."""
    t2 = np.clip(np.asarray(t2, dtype=np.float64), 0.0, 1.0)
    return special.betaincc(0.5, (n - 1) / 2.0, t2)


def _fisher(ps: Sequence[float]) -> float:
    """Fisher's combination ``P(chi2_{2D} >= -2 sum log p)`` of ``D`` independent p-values."""
    logs = np.log(np.maximum(np.asarray(ps, dtype=np.float64), 1e-300))
    return float(stats.chi2.sf(-2.0 * float(np.sum(logs)), 2 * len(ps)))


def _frames(draws: Sequence[np.ndarray], unit_axis: int) -> tuple[list[np.ndarray], int, int, int]:
    fr = [frame(d, unit_axis)[0] for d in draws]
    k, n = fr[0].shape
    bits = min(mantissa_bits(np.asarray(d)) for d in draws)
    return fr, k, n, bits


def _start(name: str, draws: Sequence[np.ndarray], unit_axis: int, alpha: float, power: float
           ) -> tuple[float, float, CheckResult | None, tuple[list[np.ndarray], int, int, int]]:
    """The common start of a check: validated ``alpha`` and ``power``, a passing result when there are no draws,
    else the frames, ``k``, ``N`` and the fewest mantissa bits of the draws."""
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    if not draws:
        return alpha, power, decide(name, 0.0, 1.0, alpha, "no draws"), ([], 0, 0, 0)
    return alpha, power, None, _frames(draws, unit_axis)


# ------------------------------------------------------------------------------------------ entries


def stick_uniforms(row: np.ndarray) -> np.ndarray:
    """The i.i.d. ``U(0, 1)`` values of a uniform unit vector ``row`` in ``R^m`` (m >= 2): ``F(V_j)`` for
    ``j = 1 .. floor(m/2)``, ``V_j = row_j^2 / sum_{i >= j} row_i^2 ~ Beta(1/2, (m - j)/2)`` (module docstring).
    An empty array for ``m < 2``."""
    m = row.size
    if m < 2:
        return np.empty(0)
    sq = row * row
    tail = np.cumsum(sq[::-1])[::-1]  # sum_{i >= j}, stable for the small tails
    j = np.arange(1, m // 2 + 1)
    v = np.divide(sq[: j.size], tail[: j.size], out=np.ones(j.size), where=tail[: j.size] > 0)
    return special.betainc(0.5, (m - j) / 2.0, np.clip(v, 0.0, 1.0))


def _reduce(b: np.ndarray) -> np.ndarray:
    """The Householder reduction of ``b`` (N x k, orthonormal columns): the reflection that maps the first column
    to ``-+e_1`` applied to the others, first row dropped: ``(N-1) x (k-1)``, orthonormal columns."""
    a = b[:, 0] / max(float(np.linalg.norm(b[:, 0])), 1e-300)
    v = a.copy()
    v[0] += 1.0 if a[0] >= 0 else -1.0
    rest = b[:, 1:]
    rest = rest - np.outer(v, (2.0 / float(v @ v)) * (v @ rest))
    return rest[1:]


def entry_uniforms(frames: Sequence[np.ndarray], limit: int = MAX_UNIFORMS) -> tuple[np.ndarray, int]:
    """``(u, s)``: up to ``limit`` stick-breaking uniforms from the rows of the frames (each ``k x N``), taking
    ``s`` rows per frame through Householder reductions, ``s`` the fewest (at most :data:`MAX_REDUCTIONS` + 1,
    at most ``k``) that reach ``limit`` when the frames allow."""
    if not frames:
        return np.empty(0), 0
    k, n = frames[0].shape
    per_row = n // 2
    if per_row == 0:
        return np.empty(0), 0
    rows = max(1, min(k, MAX_REDUCTIONS + 1, math.ceil(limit / (len(frames) * per_row))))
    out: list[np.ndarray] = []
    total = 0
    for f in frames:
        b = f.T
        for r in range(rows):
            u = stick_uniforms(b[:, 0] / max(float(np.linalg.norm(b[:, 0])), 1e-300))
            out.append(u)
            total += u.size
            if total >= limit or r == rows - 1:
                break
            b = _reduce(b)
        if total >= limit:
            break
    return np.concatenate(out)[:limit], rows


def haar_entries_test(draws: Sequence[np.ndarray], unit_axis: int = 0, alpha: float = DEFAULT_ALPHA,
                      power: float = DEFAULT_POWER) -> CheckResult:
    """Entries of (semi-)orthogonal draws follow the Haar law: exact KS test of the stick-breaking uniforms.

    Args:
        draws: independent tensors, each flattened with :func:`invariants.laws.as_matrix` around ``unit_axis``
            (``0`` PyTorch, ``-1`` JAX/Keras); any float dtype.
        unit_axis: the axis kept whole.
        alpha: false-alarm rate (exact: the uniforms are i.i.d. under Haar, module docstring).
        power: power at which the detectable CDF distance is stated.

    Returns:
        :class:`~invariants.stats.checks.CheckResult` ``haar_entries``; ``statistic`` the KS distance ``D`` of the
        uniforms, ``p_value`` the exact KS tail at ``max(D - eta, 0)``, ``eta`` the rounding allowance.  The detail
        states the CDF distance detected with ``power`` (:func:`~invariants.stats.shape.ks_min_detectable_distance`
        plus ``eta``).

    Raises:
        ValueError: ``alpha`` / ``power`` out of range; BadInput: a draw with fewer than 2 dims.
    """
    alpha, power, empty, (fr, k, n, bits) = _start("haar_entries", draws, unit_axis, alpha, power)
    if empty is not None:
        return empty
    u, rows = entry_uniforms(fr)
    if u.size < 2:
        return decide("haar_entries", 0.0, 1.0, alpha, f"{k}x{n} draws: a unit vector in R^{n} has no entry law to test")
    eta = 2.0 * math.sqrt(n / (2 * math.pi)) * entry_allowance(n, bits) * (1 + 2 * (rows - 1))
    # scipy.stats.kstest(u, "uniform").statistic bit for bit (ks_distance), without kstest's own exact p-value
    d = ks_distance(np.sort(u), closed_form_cdf(stats.uniform()))
    det = ks_min_detectable_distance(u.size, alpha, power) + eta
    if det >= 1.0:
        return decide("haar_entries", d, 1.0, alpha, f"not tested: {bits}-bit mantissas leave the entry law test no "
                      f"power on {k}x{n} draws (rounding allowance {eta:.3g} in CDF distance)")
    excess, size = max(d - eta, 0.0), int(u.size)
    detail = (f"KS distance {d:.3g} of {u.size} stick-breaking uniforms (exact Beta law of the entries of a uniform "
              f"unit vector in R^{n}; {rows} row(s) of each of {len(draws)} draws of {k}x{n}); detects a CDF distance "
              f"of {det:.3g} with power {power:g}")
    settled = ks_screen(excess, size, alpha)
    if settled is None:
        return decide("haar_entries", d, _kstwo_sf(excess, size), alpha, detail)
    # the exact tail only when a caller reads the p-value (invariants.stats.shape.ks_screen); a partial of a
    # module-level function, so the deferred result pickles without computing it
    return deferred_decision("haar_entries", d, functools.partial(_kstwo_sf, excess, size), alpha, settled, detail)


def _kstwo_sf(d: float, n: int) -> float:
    """SciPy's exact two-sided KS tail ``kstwo.sf(d, n)``."""
    return float(stats.kstwo.sf(d, n))


# ------------------------------------------------------------------------------------------ sums


def sums_pvalues(a: np.ndarray, bits: int) -> tuple[float, float, float, tuple[int, float], tuple[int, float], float]:
    """For one frame ``a`` (k x N, N >= 2): ``(p_row, p_col, p_total, (i, s_i), (j, c_j), t)`` with the
    row sums ``s = a 1/sqrt(N)``, column sums ``c = a^T 1/sqrt(k)`` and total ``t`` as unit-vector coordinates,
    the largest ones with their index, and their p-values (module docstring), after the rounding allowance."""
    k, n = a.shape
    e = entry_allowance(n, bits)
    s = a.sum(axis=1) / math.sqrt(n)
    c = a.sum(axis=0) / math.sqrt(k)
    t = float(s.sum()) / math.sqrt(k)
    i, j = int(np.argmax(np.abs(s))), int(np.argmax(np.abs(c)))
    shrink = lambda v: max(abs(float(v)) - e, 0.0) ** 2  # noqa: E731
    p_row = min(1.0, k * float(coordinate_sf(shrink(s[i]), n)))
    p_col = min(1.0, n * float(coordinate_sf(shrink(c[j]), n)))
    p_tot = float(coordinate_sf(shrink(t), n))
    return p_row, p_col, p_tot, (i, float(s[i])), (j, float(c[j])), t


def sums_threshold(n: int, draws: int, alpha: float, power: float = DEFAULT_POWER) -> float:
    """The |row, column or total sum| (as a unit-vector coordinate: ``|sum| / (g sqrt(N))``; Haar gives about
    ``1/sqrt(N)``) that one draw of ``draws`` must reach for :func:`haar_sums_test` to reject with probability
    ``>= power`` whatever the other draws (they are taken at their Fisher term's ``1 - power`` quantile, and the
    union-bound factor of a row/column maximum at its largest, ``N``)."""
    need = float(stats.chi2.isf(alpha / 3.0, 2 * draws))
    others = float(stats.chi2.ppf(1.0 - power, 2 * (draws - 1))) if draws > 1 else 0.0
    p_one = math.exp(-max(need - others, 0.0) / 2.0) / n
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if float(coordinate_sf(mid * mid, n)) > p_one else (lo, mid)
    return hi


def haar_sums_test(draws: Sequence[np.ndarray], unit_axis: int = 0, alpha: float = DEFAULT_ALPHA,
                   power: float = DEFAULT_POWER) -> CheckResult:
    """Row sums, column sums and total of (semi-)orthogonal draws follow the Haar law (module docstring).

    Returns:
        :class:`~invariants.stats.checks.CheckResult` ``haar_sums``; ``statistic`` the largest
        ``sqrt(N) |coordinate|`` seen (about 1 to 4 under Haar, ``~sqrt(N)`` for a constant singular vector);
        ``p_value`` 3 x the smallest Fisher combination.  The detail names the draw and row/column and states
        the single-draw sum detected with ``power`` (:func:`sums_threshold`).

    Raises:
        ValueError: ``alpha`` out of range; BadInput: a draw with fewer than 2 dims.
    """
    alpha, power, empty, (fr, k, n, bits) = _start("haar_sums", draws, unit_axis, alpha, power)
    if empty is not None:
        return empty
    if n < 2:
        return decide("haar_sums", 0.0, 1.0, alpha, "1x1 draws: an orthogonal scalar is +-gain, no sum to test")
    per = [sums_pvalues(a, bits) for a in fr]
    p_parts = [_fisher([q[i] for q in per]) for i in range(3)]
    p = min(1.0, 3.0 * min(p_parts))
    r, c = matrix_dims(np.shape(draws[0]), unit_axis)
    rows_axis, cols_axis = ("column", "row") if r > c else ("row", "column")
    d_row = max(range(len(per)), key=lambda d: abs(per[d][3][1]))
    d_col = max(range(len(per)), key=lambda d: abs(per[d][4][1]))
    d_tot = max(range(len(per)), key=lambda d: abs(per[d][5]))
    z = [abs(per[d_row][3][1]), abs(per[d_col][4][1]), abs(per[d_tot][5])]
    stat = math.sqrt(n) * max(z)
    thr = sums_threshold(n, len(draws), alpha, power)
    worst = int(np.argmin(p_parts))
    where = [f"draw {d_row}: {rows_axis} {per[d_row][3][0]} sums to {per[d_row][3][1] * math.sqrt(n):.3g} gain",
             f"draw {d_col}: {cols_axis} {per[d_col][4][0]} sums to {per[d_col][4][1] * math.sqrt(k):.3g} gain",
             f"draw {d_tot}: all entries sum to {per[d_tot][5] * math.sqrt(k * n):.3g} gain"][worst]
    cause = ""
    if max(z) > 0.5:
        cause = (" — a nearly constant singular vector: an orthogonal matrix made from a non-centred matrix "
                 "(e.g. the SVD or QR of U(0, 1) values) instead of a centred Gaussian one")
    detail = (f"largest sum {stat:.3g} x its Haar scale ({where}; Haar: a {rows_axis} sum ~ +-gain, a {cols_axis} "
              f"sum ~ +-gain sqrt({k}/{n}), the total ~ +-gain sqrt({k})){cause}; one draw with a sum of "
              f"{thr * math.sqrt(n):.3g} x its Haar scale is detected with power {power:g} ({len(draws)} draws of {k}x{n})")
    return decide("haar_sums", stat, p, alpha, detail)


# ------------------------------------------------------------------------------------------ signs


def signs_min_detectable_bias(n: int, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER) -> float:
    """``delta`` such that :func:`haar_signs_test` on ``n`` diagonal signs detects ``P(positive) = 1/2 +- delta``
    with probability ``>= power`` (normal approximation of the binomial: ``(z_a + z_p) / (2 sqrt(n))``, capped at 1/2)."""
    za, zp = z_quantiles(alpha, power)
    return min(0.5, (za + zp) / (2.0 * math.sqrt(max(n, 1))))


def haar_signs_test(draws: Sequence[np.ndarray], unit_axis: int = 0, alpha: float = DEFAULT_ALPHA,
                    power: float = DEFAULT_POWER) -> CheckResult:
    """Signs of the diagonal entries of the draws are fair coins: exact two-sided binomial test.

    Under Haar ``A`` and ``D A`` have the same law for every diagonal +-1 matrix ``D``, so the signs of
    ``a_00, a_11, ...`` (one per row) are i.i.d. fair coins, independent across draws (module docstring); exact
    zeros are left out (conditioning on them keeps the test exact).

    Returns:
        :class:`~invariants.stats.checks.CheckResult` ``haar_signs``; ``statistic`` the share of positive signs.

    Raises:
        ValueError: ``alpha`` out of range; BadInput: a draw with fewer than 2 dims.
    """
    alpha = check_alpha(alpha)
    power = check_power(power, alpha)
    if not draws:
        return decide("haar_signs", 0.5, 1.0, alpha, "no draws")
    diag = np.concatenate([np.diagonal(frame(d, unit_axis)[0]) for d in draws])
    diag = diag[diag != 0]
    n = int(diag.size)
    if n == 0:
        return decide("haar_signs", 0.5, 1.0, alpha, "no nonzero diagonal entries")
    pos = int(np.count_nonzero(diag > 0))
    p = float(stats.binomtest(pos, n, 0.5).pvalue)
    cause = ""
    if pos / n < 0.5 - signs_min_detectable_bias(n, alpha, 0.5):
        cause = " — mostly negative: QR without the sign correction of R's diagonal (Mezzadri 2007)?"
    detail = (f"{pos} of {n} diagonal entries positive (Haar: fair coins, {n / 2:g} expected){cause}; detects "
              f"P(positive) = 1/2 +- {signs_min_detectable_bias(n, alpha, power):.3g} with power {power:g}")
    return decide("haar_signs", pos / n, p, alpha, detail)


# ------------------------------------------------------------------------------------------ trace


def trace_pvalue(s: float, n: int) -> float:
    """``min_m (2m-1)!! / s^(2m)`` over ``1 <= m <= (n - 1) / 2``: a bound on ``P(|S| >= |s|)`` when ``S`` has the
    first ``n - 1`` moments of ``N(0, 1)`` (1 when ``n < 3`` or ``s = 0``)."""
    m_max = (n - 1) // 2
    if m_max < 1 or s == 0:
        return 1.0
    m = np.arange(1, m_max + 1)
    log_df = special.gammaln(2 * m + 1) - m * math.log(2.0) - special.gammaln(m + 1)  # log (2m-1)!!
    return float(min(1.0, math.exp(float(np.min(log_df - 2 * m * math.log(abs(s)))))))


def trace_threshold(n: int, alpha: float) -> float:
    """The ``|S|`` at which :func:`trace_pvalue` reaches ``alpha`` (``inf`` when it never does)."""
    if trace_pvalue(1e6, n) > alpha:
        return math.inf
    lo, hi = 0.0, 1e6
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if trace_pvalue(mid, n) > alpha else (lo, mid)
    return hi


def haar_trace_test(draws: Sequence[np.ndarray], unit_axis: int = 0, alpha: float = DEFAULT_ALPHA,
                    power: float = DEFAULT_POWER) -> CheckResult:
    """The traces of square orthogonal draws have the Haar law's moments (module docstring).

    Returns:
        :class:`~invariants.stats.checks.CheckResult` ``haar_trace``; ``statistic`` ``S = sum tr / sqrt(D)``
        (``N(0, 1)`` moments under Haar); p-value 1 for non-square draws (not tested, said in the detail).

    Raises:
        ValueError: ``alpha`` out of range; BadInput: a draw with fewer than 2 dims.
    """
    alpha, power, empty, (fr, k, n, bits) = _start("haar_trace", draws, unit_axis, alpha, power)
    if empty is not None:
        return empty
    if k != n:
        return decide("haar_trace", 0.0, 1.0, alpha, f"not tested: {k}x{n} draws are not square (the trace law is O(N)'s)")
    d = len(fr)
    s = float(sum(np.trace(a) for a in fr)) / math.sqrt(d)
    allowance = math.sqrt(d) * math.sqrt(n) * entry_allowance(n, bits)
    p = trace_pvalue(max(abs(s) - allowance, 0.0), n)
    thr = trace_threshold(n, alpha) + allowance
    per_draw = (thr + z_quantiles(alpha, power)[1]) / math.sqrt(d) if math.isfinite(thr) else math.inf
    cause = " — Haar traces are N(0, 1)-like; a biased diagonal (QR without the sign correction?)" if p <= alpha else ""
    detail = (f"sum of traces / sqrt({d}) = {s:.3g} (Haar: moments of N(0, 1) up to order {n - 1}){cause}; "
              + (f"detects a mean trace of +-{per_draw:.3g} per draw with power {power:g}" if math.isfinite(per_draw)
                 else f"no power at alpha {alpha:.2g} on {n}x{n} draws"))
    return decide("haar_trace", s, p, alpha, detail)


def haar_draws(k: int) -> int:
    """Draws of a ``k x N`` orthogonal matrix the auditor pools: enough for :data:`SIGN_COINS` diagonal signs."""
    return math.ceil(SIGN_COINS / max(int(k), 1))


__all__ = ["MAX_REDUCTIONS", "MAX_UNIFORMS", "ROUNDING_FACTOR", "SIGN_COINS", "coordinate_sf", "entry_allowance",
           "entry_uniforms", "frame", "haar_draws", "haar_entries_test", "haar_signs_test", "haar_sums_test",
           "haar_trace_test", "signs_min_detectable_bias", "stick_uniforms", "sums_pvalues", "sums_threshold",
           "trace_pvalue", "trace_threshold"]
