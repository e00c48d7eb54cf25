"""The compiled accelerator of the exact kernel (:mod:`invariants.reference.compiled`) gives the bits of
the numpy definition: canonical products and sums (k = 0, 1, 2, insertion and vectorised-sort lengths,
float32/float64, signed zeros, ties, NaN/inf, subnormals, 40+ binades, cancellation), the error-free
transformation (tiny shapes, CROSSOVER-straddling ones, operands shared and transposed, elements left
unproven), and whole networks; mutants of the compiled loops (no -0 restore, index order, a proof that
proves everything) are rejected by the same properties; numba stays optional.

Results are compared as integers (``view``), so ``-0.0`` against ``+0.0`` and NaN payloads count.
``INVARIANTS_EXAMPLES_SCALE=10`` multiplies the example counts.
"""
from __future__ import annotations

import os
import subprocess
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from invariants.hypothesis_profiles import scaled as examples
from tests.reference.test_kernels import matrices as kernel_values
from invariants.reference import Architecture, compiled, kernels, loss_and_grad, ozaki, random_params

numba = pytest.importorskip("numba")
if compiled.disabled():  # every test here compares the compiled loops with the numpy definition
    pytest.skip(f"{compiled.OFF_SWITCH} is set: the compiled accelerator is off", allow_module_level=True)

seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from(["float32", "float64"])
KINDS = ("normal", "wide", "ties", "zeros", "cancel", "subnormal", "special")  # the first five: test_kernels


def _terms(rng: np.random.Generator, shape, kind: str, dtype: str) -> np.ndarray:
    """test_kernels' matrices (Gaussian, 40-120 binades, ties, signed zeros, cancellation, sometimes a zero
    row), and: tiny values whose products are subnormal or zero; NaN and ±inf among signed
    zeros (``special``)."""
    if kind == "subnormal":
        tiny = np.finfo(dtype).tiny
        v = rng.normal(size=shape) * float(np.sqrt(tiny)) * 2.0 ** rng.integers(-8, 3, size=shape)
    elif kind == "special":
        v = rng.choice([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan], size=shape)
    elif 0 in shape:
        v = np.zeros(shape)
    else:
        return kernel_values(np.random.default_rng(int(rng.integers(2**32))), shape, kind, dtype)
    return v.astype(dtype)


def _bits(x: np.ndarray) -> bytes:
    x = np.asarray(x)
    return x.dtype.str.encode() + repr(x.shape).encode() + x.view(np.int32 if x.dtype == np.float32 else np.int64).tobytes()


def _both(fn):
    """``fn()`` on the numpy definition, then on the compiled loops (left loaded afterwards)."""
    compiled.reset(False)
    try:
        want = fn()
    finally:
        compiled.reset(True)
    return want, fn()


@pytest.fixture(autouse=True)
def _compiled_afterwards():
    compiled.reset(True)
    yield
    compiled.reset()


@examples(40)
@given(m=st.integers(1, 6), k=st.integers(0, 40), n=st.integers(1, 6), dtype=dtypes,
       kind=st.sampled_from(KINDS), seed=seeds)
def test_canonical_products_give_the_numpy_bits(m, k, n, dtype, kind, seed):
    """canonical_matmul (k = 0, 1, 2, insertion up to 16 terms, vectorised sort beyond)."""
    rng = np.random.default_rng(seed)
    a, b = _terms(rng, (m, k), kind, dtype), _terms(rng, (k, n), kind, dtype)
    want, got = _both(lambda: kernels.canonical_matmul(a, b))
    assert _bits(got) == _bits(want)
    with np.errstate(invalid="ignore"):  # and the transposed operands the network passes (δᵀ)
        want, got = _both(lambda: kernels.canonical_matmul(np.asfortranarray(a), b[:, ::-1]))
    assert _bits(got) == _bits(want)


@examples(40)
@given(rows=st.integers(1, 5), length=st.integers(0, 80), axis=st.sampled_from([0, -1]), flat=st.booleans(),
       dtype=dtypes, kind=st.sampled_from(KINDS), seed=seeds)
def test_canonical_sums_give_the_numpy_bits(rows, length, axis, flat, dtype, kind, seed):
    """canonical_sum and sum_rows over 1-D and 2-D terms, either axis."""
    rng = np.random.default_rng(seed)
    terms = _terms(rng, (length,) if flat else (rows, length) if axis == -1 else (length, rows), kind, dtype)
    with np.errstate(invalid="ignore"):  # inf − inf is NaN by definition here
        want, got = _both(lambda: kernels.canonical_sum(terms, axis=-1 if flat else axis))
    assert _bits(got) == _bits(want)
    if not flat and axis == 0:
        with np.errstate(invalid="ignore"):
            want, got = _both(lambda: kernels.sum_rows(terms))
        assert _bits(got) == _bits(want)


@examples(25)
@given(m=st.integers(1, 40), k=st.integers(1, 300), n=st.integers(1, 40), kind=st.sampled_from(KINDS[:6]),
       wrap=st.sampled_from(["arrays", "operands", "transposed"]), seed=seeds)
def test_eft_products_give_the_numpy_bits(m, k, n, kind, wrap, seed):
    """try_exact_matmul on arrays, Operands and transposed Operands (sharing splits), and kernels.matmul
    on both sides of CROSSOVER."""
    rng = np.random.default_rng(seed)
    a, b = _terms(rng, (m, k), kind, "float64"), _terms(rng, (k, n), kind, "float64")

    def product():
        if wrap == "arrays":
            return ozaki.try_exact_matmul(a, b)
        left = ozaki.Operand(a) if wrap == "operands" else ozaki.Operand(np.ascontiguousarray(a.T)).T
        right = ozaki.Operand(b) if wrap == "operands" else ozaki.Operand(np.ascontiguousarray(b.T)).T
        first = ozaki.try_exact_matmul(left, right)
        again = ozaki.try_exact_matmul(left, right)  # from the kept stacks
        assert _bits(first) == _bits(again)
        return first

    want, got = _both(product)
    assert _bits(got) == _bits(want)
    want, got = _both(lambda: kernels.matmul(a, b))
    assert _bits(got) == _bits(want)


@pytest.mark.parametrize("rows", [40, 60])
def test_an_operand_split_at_two_widths_keeps_each_widths_orientation(rows):
    """An Operand entering products at two slice widths (against a wider Operand, width 23, and through its
    transpose against a plain array, width 25) is split once per width, each in the orientation of that
    width's first use.  Known-bad: one orientation flag for all widths (the second split's) read back the
    first width's slices transposed: a shape error at 40 rows, wrong products at 60 (a square operand).
    Known-good: every product equals the same product of plain arrays, bit for bit, on repeats too."""
    rng = np.random.default_rng(rows)
    a = rng.standard_normal((rows, 60))
    wide, c = ozaki.Operand(rng.standard_normal((60, 5000))), rng.standard_normal((rows, 10))
    op = ozaki.Operand(a)
    assert ozaki.product_slice_width(op, wide, 60) != ozaki.product_slice_width(op.T, c, rows)  # two widths
    want_wide, want_c = kernels.matmul(a, wide.array), kernels.matmul(a.T, c)
    for _ in range(2):
        assert _bits(kernels.matmul(op, wide)) == _bits(want_wide)
        assert _bits(kernels.matmul(op.T, c)) == _bits(want_c)


def test_eft_elements_left_unproven_give_the_numpy_bits(monkeypatch):
    """Sums within a rounding boundary's margin (1 + 2^−53 ± 2^−150: the exact value lies just past a
    midpoint, closer than the margin's 2^−100 or so) are left to the one-by-one fallback by the compiled
    proof too; counted."""
    a = np.array([[1.0, 2.0 ** -53, 2.0 ** -150], [1.0, 2.0 ** -53, -(2.0 ** -150)], [0.5, 0.25, 0.125]])
    b = np.ones((3, 2))
    fast = compiled.kernels()
    seen = []

    class Counting:
        split, UNKNOWN, NO_GRID = fast.split, fast.UNKNOWN, fast.NO_GRID

        @staticmethod
        def bracket(*args):
            seen.append(fast.bracket(*args))
            return seen[-1]

    real = ozaki.compiled_candidates
    monkeypatch.setattr(ozaki, "compiled_candidates", lambda x, y, _: real(x, y, Counting))
    want, got = _both(lambda: ozaki.try_exact_matmul(a, b))
    assert _bits(got) == _bits(want)
    assert seen and seen[-1] >= 2, "the margin proved elements that straddle a midpoint"
    assert got[0, 0] == 1 + 2.0 ** -52 and got[1, 0] == 1.0


@examples(8)
@given(hidden=st.lists(st.integers(8, 40), min_size=1, max_size=2), dtype=dtypes,
       norm=st.sampled_from([None, "batch"]), batch=st.integers(2, 40), seed=seeds)
def test_networks_give_the_numpy_bits(hidden, dtype, norm, batch, seed):
    """loss_and_grad of MLPs across CROSSOVER (canonical and error-free products, bias sums, norms)."""
    arch = Architecture((12, *hidden, 5), "tanh", "mse", dtype=dtype, norm=norm)
    rng = np.random.default_rng(seed)
    params = random_params(arch, rng, bias_std=0.1)
    x, t = rng.normal(size=(batch, 12)), rng.normal(size=(batch, 5))
    (lw, gw), (lg, gg) = _both(lambda: loss_and_grad(arch, params, x, t))
    assert lw == lg and all(_bits(gw[name]) == _bits(gg[name]) for name in gw)


def _sum_without_negative_zero(fast):
    real = fast.sum_last

    def mutant(rows, out, buf):
        real(rows, out, buf)
        out[out == 0] = 0.0  # the all-negative-zero sum not restored
    return mutant


def _sum_in_index_order(fast):
    def mutant(rows, out, buf):
        out[:] = np.add.accumulate(np.asarray(rows), axis=-1)[:, -1]  # no sort
    return mutant


@pytest.mark.parametrize("mutant", [_sum_without_negative_zero, _sum_in_index_order])
def test_bit_property_rejects_a_wrong_compiled_sum(monkeypatch, mutant):
    """Known-bad compiled sums (Python stand-ins for the loop, swapped into the loaded module): the
    property above fails on zero-heavy and cancelling terms; the real loop passes the same inputs."""
    fast = compiled.kernels()
    cases = [dict(rows=5, length=2, axis=-1, flat=False, dtype="float64", kind="zeros", seed=seed) for seed in range(4)]
    cases += [dict(rows=2, length=12, axis=0, flat=False, dtype="float32", kind="cancel", seed=seed) for seed in range(4)]
    assert _sums_failing(monkeypatch, cases, fast, "sum_last", mutant(fast)) > 0


def _sums_failing(monkeypatch, cases, owner, name, replacement) -> int:
    """How many of ``cases`` of the sums property fail once ``owner.name`` is ``replacement`` (all pass
    before: asserted)."""
    inner = test_canonical_sums_give_the_numpy_bits.hypothesis.inner_test
    for case in cases:
        inner(**case)
    monkeypatch.setattr(owner, name, replacement)
    failures = 0
    for case in cases:
        try:
            inner(**case)
        except AssertionError:
            failures += 1
    return failures


@pytest.mark.parametrize("size", [1, 2, 4, 8, 16])
def test_sorting_network_sorts_every_zero_one_sequence(size):
    """Batcher's network (kernels.sorting_network) sorts all 2^size sequences of 0s and 1s, hence every
    sequence (the 0-1 principle); sizes 32 and 64 are checked on random inputs by the sums property."""
    pairs = kernels.sorting_network(size)
    values = (np.arange(2 ** size)[None, :] >> np.arange(size)[:, None]) & 1  # every column a sequence
    for i, j in pairs:
        low, high = np.minimum(values[i], values[j]), np.maximum(values[i], values[j])
        values[i], values[j] = low, high
    assert (np.diff(values, axis=0) >= 0).all()


def test_bit_property_rejects_a_wrong_sorting_network(monkeypatch):
    """Known-bad network (its last comparator dropped): the sums property fails on 32-row columns
    (axis 0, the bias gradients' shape); the real network passes the same inputs."""
    cases = [dict(rows=5, length=32, axis=0, flat=False, dtype=dtype, kind="normal", seed=seed)
             for seed in range(3) for dtype in ("float32", "float64")]
    real = kernels.sorting_network
    assert _sums_failing(monkeypatch, cases, kernels, "sorting_network", lambda size: real(size)[:-1]) > 0


def test_bit_property_rejects_a_proof_that_proves_everything(monkeypatch):
    """Known-bad bracket: every element declared proven (the NaN marks and the count dropped); the
    unproven-elements test fails, the real one passes."""
    real = compiled.kernels().bracket

    def proves_all(c2, parts, *args):
        real(c2, parts, *args)
        parts[0][...] = 0.0
        return 0

    test_eft_elements_left_unproven_give_the_numpy_bits(monkeypatch)
    monkeypatch.undo()
    monkeypatch.setattr(compiled.kernels(), "bracket", proves_all)
    with pytest.raises(AssertionError):
        test_eft_elements_left_unproven_give_the_numpy_bits(monkeypatch)


def test_switch_forces_the_numpy_path(monkeypatch):
    monkeypatch.setenv(compiled.OFF_SWITCH, "1")
    compiled.reset()
    assert compiled.kernels() is None
    monkeypatch.setenv(compiled.OFF_SWITCH, "0")
    compiled.reset()
    assert compiled.kernels() is not None


def test_without_numba_every_product_has_the_same_bits(tmp_path):
    """numba made unimportable in a fresh process: ``import invariants`` works, the first exact product
    falls back to numpy, and the results match this process's compiled ones bit for bit."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(16, 40)), rng.normal(size=(40, 24))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    code = ("import sys; sys.modules['numba'] = None; import numpy as np, invariants\n"
            "from invariants.reference import compiled, kernels\n"
            f"a, b = np.load({str(tmp_path / 'a.npy')!r}), np.load({str(tmp_path / 'b.npy')!r})\n"
            "out = np.concatenate([kernels.matmul(a, b).ravel(), kernels.matmul(a[:4, :8], b[:8, :4]).ravel(),\n"
            "                      kernels.canonical_sum(a, axis=0)])\n"
            "assert compiled.kernels() is None and 'numba' not in [m for m in sys.modules if sys.modules[m]]\n"
            f"np.save({str(tmp_path / 'out.npy')!r}, out)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
    here = np.concatenate([kernels.matmul(a, b).ravel(), kernels.matmul(a[:4, :8], b[:8, :4]).ravel(),
                           kernels.canonical_sum(a, axis=0)])
    assert compiled.kernels() is not None
    assert _bits(np.load(tmp_path / "out.npy")) == _bits(here)


def test_work_arrays_are_reused_only_when_free():
    """BufferPool hands an array out again only once nothing else refers to it (a view keeps its base
    in use) and keeps no array over its size limit; scratch reuses small shapes' arrays, not large ones."""
    pool, shape = compiled.BufferPool(), (3, 2, 2)
    first = pool.take(shape)
    kept, view = weakref.ref(first), first[0]
    del first
    assert pool.take(shape) is not kept()  # its view still holds it
    del view
    assert pool.take(shape) is kept()
    huge = weakref.ref(pool.take((1, 1, compiled.BufferPool.LARGEST + 1)))
    assert huge() is None  # not kept
    small, again = compiled.scratch((4, 3)), compiled.scratch((4, 3))
    assert small[0] is again[0] and small[1][2].base is small[0]
    side = int(np.sqrt(compiled.SCRATCH_UP_TO)) + 1
    assert compiled.scratch((side, side))[0] is not compiled.scratch((side, side))[0]
