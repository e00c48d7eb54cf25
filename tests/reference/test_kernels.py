"""The exact kernel's error-free transformation (issue 17): correctly rounded (0 ulp against rational
arithmetic), bitwise permutation-equivariant at kernel and network level, signed zeros, ties, wide
ranges, cancellation, k up to 2048, zero rows and non-finite values; and mutants the oracles reject.

``INVARIANTS_EXAMPLES_SCALE=10`` multiplies every example count here (the 10× run of the issue,
``python benchmarks/speed.py --only properties``).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from invariants.core.errors import BadInput
from invariants.hypothesis_profiles import scaled as examples
from invariants.reference import Architecture, compiled, kernels, loss_and_grad, ozaki, permute_hidden, random_params

#: every test here runs on the compiled accelerator and on the numpy definition (tests/reference/conftest.py)
pytestmark = pytest.mark.usefixtures("kernel_path")

seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from(["float32", "float64"])
KINDS = ("normal", "wide", "ties", "zeros", "cancel", "integers")


def matrices(rng: np.random.Generator, shape, kind: str, dtype: str) -> np.ndarray:
    """Test matrices: Gaussian; 40-120 binades of range; few distinct values (ties); mostly signed
    zeros; pairs that cancel exactly; small integers (exact sums, float32 midpoints)."""
    if kind == "normal":
        v = rng.normal(size=shape)
    elif kind == "wide":
        span = int(rng.integers(20, 61))
        v = rng.normal(size=shape) * 2.0 ** rng.integers(-span, span, size=shape)
    elif kind == "ties":
        v = rng.choice(rng.normal(size=3), size=shape)
    elif kind == "zeros":
        v = np.where(rng.random(shape) < 0.5, 0.0, -0.0)
        live = rng.random(shape) < 0.2
        v[live] = rng.normal(size=int(live.sum()))
    elif kind == "cancel":
        v = rng.normal(size=shape) * 2.0 ** rng.integers(-30, 30, size=shape)
        half = shape[-1] // 2
        v[..., half:2 * half] = -v[..., :half]
    else:
        v = rng.integers(-2**13, 2**13, size=shape).astype(float)
    out = v.astype(dtype)
    if rng.random() < 0.3:  # a zero row
        out[int(rng.integers(0, shape[0]))] = 0.0
    return out


def _nearest(exact: Fraction, dtype: str) -> float:
    """The float of ``dtype`` nearest to ``exact`` (ties to even), by comparing rational distances to
    the candidates around float64's own correctly rounded value (independent of the kernel's code)."""
    f = np.dtype(dtype).type
    guess = f(float(exact))
    cands = {guess, np.nextafter(guess, f(-np.inf)), np.nextafter(guess, f(np.inf))}
    cands = [c for c in cands if np.isfinite(c)]
    uint = np.uint32 if dtype == "float32" else np.uint64
    return float(min(cands, key=lambda c: (abs(Fraction(float(c)) - exact), int(c.view(uint)) % 2)))


def _exact(a: np.ndarray, b: np.ndarray, i: int, j: int) -> Fraction:
    return sum((Fraction(float(x)) * Fraction(float(y)) for x, y in zip(a[i], b[:, j])), Fraction(0))


def _check_correctly_rounded(out, a, b, rng, samples=6):
    for _ in range(samples):
        i, j = int(rng.integers(0, a.shape[0])), int(rng.integers(0, b.shape[1]))
        want = _nearest(_exact(a, b, i, j), a.dtype.name)
        assert out[i, j] == want, f"[{i}, {j}]: {out[i, j]!r} is not the correctly rounded {want!r}"


@st.composite
def operands(draw, max_side: int, max_k: int):
    """``(a, b, rng)``: a (m, k) and b (k, n) of one dtype and kind (:func:`_values`), and the rng."""
    m, k, n = (draw(st.integers(1, top)) for top in (max_side, max_k, max_side))
    dtype, kind = draw(dtypes), draw(st.sampled_from(KINDS))
    rng = np.random.default_rng(draw(seeds))
    return matrices(rng, (m, k), kind, dtype), matrices(rng, (n, k), kind, dtype).T, rng


@examples(40)
@given(operands(6, 2048))
def test_eft_kernel_is_correctly_rounded(case):
    """0 ulp: sampled entries equal the exact rational dot product rounded to nearest, ties to even."""
    a, b, rng = case
    m, n, dtype = a.shape[0], b.shape[1], a.dtype
    out = ozaki.exact_matmul(a, b)
    assert out.dtype == np.dtype(dtype) and out.shape == (m, n)
    _check_correctly_rounded(out, a, b, rng)


@examples(40)
@given(operands(10, 40))
def test_short_reductions_are_correctly_rounded(case):
    """Short reductions (the slice width is largest there), every kind of data, 0 ulp."""
    a, b, rng = case
    out = ozaki.exact_matmul(a, b)
    _check_correctly_rounded(out, a, b, rng)
    perm = rng.permutation(a.shape[1])
    assert ozaki.exact_matmul(a[:, perm], b[perm]).tobytes() == out.tobytes()


def _permutation_checks(matmul, a, b, rng):
    out = matmul(a, b)
    k = a.shape[1]
    perm = rng.permutation(k)
    assert matmul(a[:, perm], b[perm]).tobytes() == out.tobytes(), "reduction order changed the bits"
    rows, cols = rng.permutation(a.shape[0]), rng.permutation(b.shape[1])
    assert matmul(a[rows], b[:, cols]).tobytes() == out[rows][:, cols].tobytes(), "not equivariant"
    tied = np.concatenate([a, a[:1]])  # a tied row: the same sums in another position
    t_out = matmul(tied, b)
    assert t_out[-1].tobytes() == t_out[0].tobytes(), "tied rows differ"


@examples(40)
@given(operands(12, 700))
def test_exact_kernel_is_bitwise_permutation_equivariant(case):
    """Both algorithms of the hybrid (the shape picks one) and the EFT directly."""
    a, b, rng = case
    _permutation_checks(kernels.matmul, a, b, rng)
    _permutation_checks(ozaki.exact_matmul, a, b, rng)


@examples(20)
@given(operands(12, 300))
def test_shared_operands_give_the_same_bits(case):
    """Splits reused across products (an operand on either side, transposed or not, as the network's
    forward and backward passes use them) give the bits of fresh products."""
    a, b, rng = case
    c = matrices(rng, (a.shape[0], b.shape[0]), "normal", a.dtype.name)  # c (m, k): c.T @ a is (k, k)
    oa, ob, oc = ozaki.Operand(a), ozaki.Operand(b), ozaki.Operand(c)
    pairs = [(oa, ob, a, b), (oc.T, oa, c.T, a), (oa.T, oc, a.T, c), (ob.T, oa.T, b.T, a.T), (oa, ob, a, b)]
    for x, y, xa, ya in pairs:
        assert ozaki.try_exact_matmul(x, y).tobytes() == ozaki.exact_matmul(xa, ya).tobytes()
        assert kernels.matmul(x, y).tobytes() == kernels.matmul(xa, ya).tobytes()


def test_an_operand_is_split_once_for_forward_and_backward(monkeypatch, kernel_path):
    """Network level: one split per weight, input and error signal (9 for 3 layers; the first error
    signal only enters the weight gradient), not one per product and side (16); compiled, each with its
    grid in the same pass."""
    arch = Architecture((64, 64, 64, 64), "tanh", "mse")
    rng = np.random.default_rng(7)
    params = random_params(arch, rng)
    x, t = rng.normal(size=(32, 64)), rng.normal(size=(32, 64))
    built, grids = [], []
    want = loss_and_grad(arch, params, x, t)
    if kernel_path == "numpy":
        real = ozaki.Split.__init__

        def counting(self, x, beta):
            built.append(x.shape)
            real(self, x, beta)

        monkeypatch.setattr(ozaki.Split, "__init__", counting)
    else:
        fast = compiled.kernels()

        class Counting:
            UNKNOWN, NO_GRID, bracket = fast.UNKNOWN, fast.NO_GRID, fast.bracket

            @staticmethod
            def split(x, beta, exponent, *rest):
                built.append(x.shape)
                grids.append(exponent == fast.UNKNOWN)
                return fast.split(x, beta, exponent, *rest)

        real_candidates = ozaki.compiled_candidates
        monkeypatch.setattr(ozaki, "compiled_candidates", lambda a, b, _: real_candidates(a, b, Counting))
    got = loss_and_grad(arch, params, x, t)
    assert len(built) == 9
    assert kernel_path == "numpy" or sum(grids) == 9
    assert got[0] == want[0] and all(got[1][k].tobytes() == want[1][k].tobytes() for k in want[1])


@examples(20)
@given(m=st.integers(1, 5), k=st.integers(1, 300), n=st.integers(1, 5), dtype=dtypes, seed=seeds)
def test_signed_zeros_follow_ieee(m, k, n, dtype, seed):
    """A zero sum is -0.0 exactly when every product is a zero of negative sign (as IEEE addition of
    the products gives, in any order), in both algorithms."""
    rng = np.random.default_rng(seed)
    a = np.where(rng.random((m, k)) < 0.5, -0.0, 0.0).astype(dtype)
    b = np.where(rng.random((k, n)) < 0.5, rng.normal(size=(k, n)), -0.0).astype(dtype)
    a[0] = -0.0
    b[:, 0] = np.abs(b[:, 0])  # (row 0, column 0): every product is -0.0·(+x) = -0.0
    products = a[:, None, :] * b.T[None, :, :]
    want = np.all((products == 0) & np.signbit(products), axis=-1)
    for out in (ozaki.exact_matmul(a, b), kernels.canonical_matmul(a, b)):
        assert np.all(out == 0)
        assert np.array_equal(np.signbit(out), want)
        assert np.signbit(out[0, 0])


def test_non_finite_inputs_follow_ieee_and_stay_equivariant():
    """inf/nan: a NaN product (NaN, 0·∞) or +∞ with −∞ gives NaN, otherwise ±∞ (the canonical path,
    whatever the shape), and the NaN is one canonical NaN so results stay bitwise equivariant."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(40, 50)), rng.normal(size=(50, 30))
    a[0, 3], a[1, 4], a[2, 5] = np.inf, np.nan, -np.inf
    b[4, 7] = 0.0
    a[3, 6], b[6, 8] = np.inf, 0.0  # 0·∞ in (3, 8)
    a[5, :2] = [np.inf, np.inf]
    b[:2, 9] = [1.0, -1.0]  # +∞ and −∞ in (5, 9)
    out = kernels.matmul(a, b)
    assert 40 * 50 * 30 >= kernels.CROSSOVER
    assert np.all(np.isnan(out[1])) and np.isnan(out[3, 8]) and np.isnan(out[5, 9])
    assert np.isinf(out[0]).all() and np.isinf(out[2]).all()
    assert np.array_equal(np.sign(out[0]), np.sign(b[3])) and np.array_equal(np.sign(out[2]), -np.sign(b[5]))
    assert np.isfinite(np.delete(out, [0, 1, 2, 3, 5], axis=0)).all()
    perm = rng.permutation(50)
    assert kernels.matmul(a[:, perm], b[perm]).tobytes() == out.tobytes()


def test_eft_is_at_least_as_accurate_as_blas():
    """Error against exact arithmetic: ≤ ½ ulp for the kernel, and never above BLAS's on a
    cancellation-heavy product (Higham 2002, eq. 3.5 bounds BLAS by γ_k·Σ|a_p b_p|)."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(6, 512)) * 2.0 ** rng.integers(-20, 20, size=(6, 512))
    b = rng.normal(size=(512, 6))
    a[:, 256:] = -a[:, :256] * (1 + 2.0 ** -30)
    b[256:] = b[:256]
    exact_out, blas_out = kernels.matmul(a, b), a @ b
    for i in range(6):
        for j in range(6):
            exact = _exact(a, b, i, j)
            err_eft = abs(Fraction(float(exact_out[i, j])) - exact)
            err_blas = abs(Fraction(float(blas_out[i, j])) - exact)
            assert err_eft <= err_blas
            assert err_eft <= Fraction(float(np.spacing(abs(exact_out[i, j])))) / 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_by_one_fallback_is_correctly_rounded(monkeypatch, dtype):
    """Force every element through the undecided path (TwoProduct + fsum, rational arithmetic where
    TwoProduct could underflow): the same correctly rounded results as the fast path."""
    rng = np.random.default_rng(3)
    a = (rng.normal(size=(5, 300)) * 2.0 ** rng.integers(-40, 40, size=(5, 300))).astype(dtype)
    b = rng.normal(size=(300, 4)).astype(dtype)
    a[1, :3] = 2.0 ** -600 if dtype == "float64" else 0.0  # products below TwoProduct's range: Fraction
    fast = ozaki.exact_matmul(a, b)
    name = "_float32_candidates" if dtype == "float32" else "_float64_candidates"
    real = getattr(ozaki, name)

    def undecided(x, y):
        out, good = real(x, y)
        return out, np.zeros_like(good)

    monkeypatch.setattr(ozaki, name, undecided)
    assert ozaki.exact_matmul(a, b).tobytes() == fast.tobytes()
    _check_correctly_rounded(fast, a, b, rng, samples=20)


@pytest.mark.parametrize("low, high", [(-1074, -1000), (-600, -450), (900, 1000), (-500, 500)])
def test_extreme_ranges_are_correctly_rounded(low, high):
    """Subnormal inputs and results, products that underflow, results near overflow, 1000 binades in
    one matrix: every entry equals the exact rational sum rounded (the grid, the scaling back and the
    fallbacks' range checks), and permuting the reduction index keeps the bits."""
    rng = np.random.default_rng(low + 2000)
    a = rng.normal(size=(5, 40)) * 2.0 ** rng.integers(low, high, size=(5, 40))
    b = rng.normal(size=(40, 4)) * 2.0 ** rng.integers(-20, 20, size=(40, 4))
    out = ozaki.exact_matmul(a, b)
    for i in range(5):
        for j in range(4):
            assert out[i, j] == _nearest(_exact(a, b, i, j), "float64") or (out[i, j] == 0 and _exact(a, b, i, j) == 0)
    perm = rng.permutation(40)
    assert ozaki.exact_matmul(a[:, perm], b[perm]).tobytes() == out.tobytes()


def test_exact_matmul_refuses_non_finite_inputs():
    a, b = np.ones((2, 3)), np.ones((3, 2))
    a[1, 1] = np.nan
    assert ozaki.try_exact_matmul(a, b) is None
    with pytest.raises(BadInput, match="finite"):
        ozaki.exact_matmul(a, b)
    b[0, 0], a[1, 1] = np.inf, 1.0
    assert ozaki.try_exact_matmul(a, b) is None
    huge = np.full((2, 3), 2.0 ** 1000)  # finite, but its sum of squares overflows: still exact
    assert np.array_equal(ozaki.exact_matmul(huge, np.full((3, 2), 2.0 ** -1000)), np.full((2, 2), 3.0))


def test_oracle_rejects_a_slice_width_whose_sums_round(monkeypatch):
    """Mutant: slices 6 bits wider than derived, so the exact BLAS sums pass 2^53 and round; the 0-ulp
    oracle must notice (on a fixed, known-failing input: same-signed entries with every row and column
    norm just below a power of two, so the first slices come within 2 bits of the Cauchy–Schwarz bound
    for the whole-matrix grid of 4 rows/columns)."""
    rng = np.random.default_rng(4)
    a, b = 1 - rng.random((4, 2048)) / 8, 1 - rng.random((2048, 4)) / 8
    a *= 2.0 ** 6 * (1 - 2.0 ** -12) / np.linalg.norm(a, axis=1, keepdims=True)
    b *= 2.0 ** 6 * (1 - 2.0 ** -12) / np.linalg.norm(b, axis=0, keepdims=True)
    _check_correctly_rounded(ozaki.exact_matmul(a, b), a, b, rng)
    real = ozaki.slice_width
    monkeypatch.setattr(ozaki, "slice_width", lambda k: real(k) + 6)
    with pytest.raises(AssertionError, match="correctly rounded"):
        _check_correctly_rounded(ozaki.exact_matmul(a, b), a, b, rng, samples=16)


def test_oracle_rejects_position_dependent_rounding(monkeypatch):
    """Mutant: the EFT result nudged by one ulp in one output position; the equivariance oracle must
    notice."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(16, 64)), rng.normal(size=(64, 16))  # past the crossover: the EFT runs
    _permutation_checks(kernels.matmul, a, b, rng)
    real = ozaki.try_exact_matmul

    def nudged(x, y):
        out = real(x, y)
        out[0, 0] = np.nextafter(out[0, 0], np.inf)
        return out

    monkeypatch.setattr(kernels, "try_exact_matmul", nudged)
    with pytest.raises(AssertionError):
        _permutation_checks(kernels.matmul, a, b, np.random.default_rng(6))


def test_slice_width_keeps_every_anti_diagonal_below_2_53():
    for k in (1, 2, 3, 15, 16, 17, 31, 32, 33, 256, 2048, 10**6):
        beta = ozaki.slice_width(k)
        top = 2.0 ** beta + math.sqrt(k) / 2  # 2-norm bound of a row/column of first slices
        assert top * top <= 2.0 ** 53  # |C2| partial sums (Cauchy–Schwarz)
        assert top * math.sqrt(k) * 2.0 ** beta <= 2.0 ** 53  # |C3| partial sums
        wider = 2.0 ** (beta + 1) + math.sqrt(k) / 2
        assert wider * wider > 2.0 ** 53 or wider * math.sqrt(k) * 2.0 ** (beta + 1) > 2.0 ** 53  # the largest


@examples(8)
@given(hidden=st.lists(st.integers(24, 48), min_size=1, max_size=2), dtype=dtypes,
       activation=st.sampled_from(["tanh", "relu"]), seed=seeds)
def test_network_on_the_eft_is_bitwise_equivariant(hidden, dtype, activation, seed):
    """Network level, shapes past the crossover (so the EFT runs): permuting hidden units permutes the
    outputs' and gradients' bits; a constant (tied) start keeps every unit's gradient row identical."""
    arch = Architecture((32, *hidden, 8), activation, "mse", dtype=dtype)
    rng = np.random.default_rng(seed)
    params = random_params(arch, rng, bias_std=0.1)
    x, t = rng.normal(size=(24, 32)), rng.normal(size=(24, 8))
    assert 24 * 32 * hidden[0] >= kernels.CROSSOVER
    layer = int(rng.integers(1, arch.depth))
    perm = rng.permutation(arch.sizes[layer])
    loss, g = loss_and_grad(arch, params, x, t)
    loss_p, g_p = loss_and_grad(arch, permute_hidden(arch, params, layer, perm), x, t)
    assert loss == loss_p
    moved = permute_hidden(arch, g, layer, perm)
    assert all(moved[k].tobytes() == g_p[k].tobytes() for k in g)
    tied = {k: np.full_like(v, 0.05 if k.startswith("W") else 0.1) for k, v in params.items()}
    _, g_tied = loss_and_grad(arch, tied, x, t)
    w1 = g_tied["W1"]
    assert all(w1[r].tobytes() == w1[0].tobytes() for r in range(w1.shape[0]))


def test_round_rational_matches_the_neighbours():
    assert ozaki.round_rational(Fraction(1, 3), "float64") == 1 / 3
    third32 = ozaki.round_rational(Fraction(1, 3), "float32")
    assert third32 == float(np.float32(1 / 3))
    mid = Fraction(1) + Fraction(1, 2**24)  # exactly halfway between two float32: ties to even → 1
    assert ozaki.round_rational(mid, "float32") == 1.0
    above = float(np.nextafter(np.float32(1), np.float32(2)))
    assert ozaki.round_rational(mid + Fraction(1, 2**60), "float32") == above
    assert math.isinf(ozaki.round_rational(Fraction(2) ** 1025, "float64"))


def _tiny_values(rng: np.random.Generator, shape, dtype: str) -> np.ndarray:
    """Values for the short-sum fast path: signed zeros, exact ties and opposites (x, x, -x), and
    magnitudes over the whole finite range of ``dtype`` (products that underflow to ±0 or overflow to
    ±inf included), drawn from one small pool so that ties and cancellations are common."""
    info = np.finfo(dtype)
    span = int(np.log2(info.max)) - 1
    pool = rng.normal(size=4) * 2.0 ** rng.integers(-span, span, size=4)
    pool = np.concatenate([pool, -pool, [0.0, -0.0, 1.0, -1.0]])
    with np.errstate(over="ignore"):
        return rng.choice(pool, size=shape).astype(dtype)


@examples(60)
@given(m=st.integers(1, 8), k=st.integers(1, 3), n=st.integers(1, 8), dtype=dtypes, seed=seeds)
def test_short_sums_give_the_bits_of_the_sorted_sum(m, k, n, dtype, seed):
    """The fast path for one or two terms (canonical_matmul with k ≤ 2, canonical_sum of ≤ 2 terms along
    either axis) gives the bits of the general sort-then-add path, signed zeros and NaN payloads
    included, and stays bitwise invariant under reversing the terms."""
    rng = np.random.default_rng(seed)
    a, b = _tiny_values(rng, (m, k), dtype), _tiny_values(rng, (k, n), dtype)
    if rng.random() < 0.2:  # a non-finite input now and then: 0·∞, ∞ − ∞, NaN payloads
        a[int(rng.integers(0, m)), int(rng.integers(0, k))] = rng.choice([np.inf, -np.inf, np.nan])
    with np.errstate(all="ignore"):
        products = a[:, None, :] * b.T[None, :, :]
        want = kernels.sorted_sum(products, axis=-1)
        got = kernels.canonical_matmul(a, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
        assert kernels.canonical_matmul(a[:, ::-1], b[::-1]).tobytes() == want.tobytes()
        assert kernels.matmul(a, b).tobytes() == want.tobytes()  # m·k·n < CROSSOVER: the canonical rule
        rows = products.reshape(m * n, k).T.copy()  # k rows: sum_rows's shape, the batch along axis 0
        assert kernels.canonical_sum(rows, axis=0).tobytes() == kernels.sorted_sum(rows, axis=0).tobytes()
        assert kernels.sum_rows(rows[::-1]).tobytes() == kernels.sorted_sum(rows, axis=0).tobytes()
        assert kernels.canonical_sum(rows[:, 0]).tobytes() == kernels.sorted_sum(rows[:, 0]).tobytes()


def test_short_sum_oracle_rejects_an_unnormalised_zero_and_nan():
    """Mutation self-test: the sorted sum tells ``-0.0 + 0.0`` from ``-0.0``, and a NaN payload from the
    default NaN, so the property above can see a fast path that mishandles either."""
    terms = np.array([[-0.0, -0.0], [-0.0, 0.0]])
    assert np.array_equal(np.signbit(kernels.sorted_sum(terms)), [True, False])
    assert kernels.sorted_sum(terms).tobytes() != np.array([-0.0, -0.0]).tobytes()
    payload = np.array([np.nan]).view(np.uint64) | np.uint64(1)
    odd_nan = np.array([[payload.view(np.float64)[0], 1.0]])
    assert kernels.sorted_sum(odd_nan).tobytes() == np.array([np.nan]).tobytes()
    assert kernels.canonical_sum(odd_nan).tobytes() == np.array([np.nan]).tobytes()
    assert (odd_nan[:, 0] + odd_nan[:, 1]).tobytes() != np.array([np.nan]).tobytes()
