"""Structured specs and their exact checks (issue 14, gap 3): sparse zero counts and positions, dirac and
eye patterns, each with a known-good input it accepts and a known-bad one it rejects.

Every statistical check runs at alpha <= 1e-6 on samples from fixed seeds (hypothesis draws the seed), so
no test can flake; the exact checks have no false alarms at all.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants.core.errors import BadInput
from invariants.laws import Law, structured_tensor
from invariants.specs import Dirac, Eye, Sparse, parse_spec
from invariants.stats.battery import LAW, STRUCTURE, Sample, battery
from invariants.stats.structured import (
    pattern_test,
    position_min_detectable,
    sparse_positions_test,
    sparse_zeros_test,
)

ALPHA = 1e-6


def numpy_sparse(shape, sparsity, std, rng, per_column=True):
    """A reference sparse initializer: torch sparse_'s law drawn with numpy."""
    rows, cols = shape
    w = rng.standard_normal(shape) * std
    n, m = (rows, cols) if per_column else (cols, rows)
    k = math.ceil(sparsity * n)
    for j in range(m):
        idx = rng.permutation(n)[:k]
        if per_column:
            w[idx, j] = 0
        else:
            w[j, idx] = 0
    return w.astype(np.float32)


# ------------------------------------------------------------------------------------------ specs


@pytest.mark.parametrize("text, spec, canonical", [
    ("sparse(0.9, 0.01)", Sparse(0.9, 0.01), "sparse(sparsity=0.9, std=0.01)"),
    ("sparse(sparsity=0.5, stddev=1, per=row, mean=2)", Sparse(0.5, 1, 2, "row"),
     "sparse(sparsity=0.5, std=1, mean=2, per=row)"),
    ("dirac(groups=4)", Dirac(4), "dirac(groups=4)"),
    ("dirac(2, gain=3, out=last)", Dirac(2, 3, "last"), "dirac(groups=2, gain=3, out=last)"),
    ("eye(gain=2)", Eye(2), "eye(gain=2)"),
    ("identity(scale=0.5)", Eye(0.5), "eye(gain=0.5)"),
])
def test_spec_text_round_trips(text, spec, canonical):
    assert parse_spec(text) == spec
    assert spec.text() == canonical and parse_spec(canonical) == spec


@pytest.mark.parametrize("name, text", [("dirac", "dirac(groups=1)"), ("eye", "eye()"), ("identity", "eye()")])
def test_aliases(name, text):
    assert parse_spec(name).text() == text and not parse_spec(name).uses_fans


@pytest.mark.parametrize("text, match", [
    ("sparse", r"needs arguments, e\.g\. sparse\(sparsity=0\.9, std=0\.01\)"),
    ("sparse()", "needs arguments"),
    ("sparse(1.5)", "sparsity must lie in"),
    ("sparse(0.5, std=0)", "std must be > 0"),
    ("sparse(0.5, per=diagonal)", "per must be"),
    ("dirac(groups=0)", "groups must be an integer"),
    ("dirac(out=middle)", "out_axis must be"),
    ("eye(gain=0)", "non-zero"),
])
def test_bad_structured_specs_say_why(text, match):
    with pytest.raises(BadInput, match=match):
        parse_spec(text)


def test_laws_refuse_shapes_the_initializers_refuse():
    with pytest.raises(BadInput, match="2-D"):
        Sparse(0.5).law(shape=(4, 4, 3))
    with pytest.raises(BadInput, match="3-, 4- or 5-D"):
        Dirac().law(shape=(4, 4))
    with pytest.raises(BadInput, match="not divisible by groups=3"):
        Dirac(3).law(shape=(8, 4, 3, 3))
    with pytest.raises(BadInput, match="2-D"):
        Eye().law(shape=(4, 4, 3))


# ------------------------------------------------------------------------------------------ laws


def test_sparse_law_counts_zeros_as_torch_does():
    # ceil(0.07 * 100) is 8 in float64 (0.07 * 100 = 7.000000000000001), as torch computes it
    law = Sparse(0.07, 0.01).law(shape=(100, 7))
    assert law.kind == "sparse" and law.sparsity == 8 / 100
    assert math.isclose(law.variance, 0.01**2 * 92 / 100)
    assert math.isclose(law.kurtosis, 3 / 0.92)
    assert Sparse(0.5, per="row").law(shape=(3, 10)).sparsity == 0.5
    assert Sparse(0.0, 0.02).law(shape=(5, 5)) == Law.normal(0.0, 0.02)  # nothing zeroed: a normal law
    assert Sparse(1.0).law(shape=(5, 5)).kind == "constant"  # everything zeroed


def test_sparse_law_with_a_mean_has_the_mixture_moments():
    law = Sparse(0.25, 2.0, mean=1.0).law(shape=(4, 1000))
    rng = np.random.default_rng(0)
    x = np.where(rng.random(2_000_000) < 0.25, 0.0, rng.normal(1.0, 2.0, 2_000_000))
    assert abs(x.mean() - law.mean) < 0.01 and abs(x.var() / law.variance - 1) < 0.01


def test_dirac_and_eye_patterns_match_torch():
    torch = pytest.importorskip("torch")
    for shape, groups in (((8, 8, 3), 1), ((12, 4, 3, 3), 3), ((6, 6, 4, 4), 2), ((4, 8, 3, 3, 3), 1),
                          ((6, 2, 5), 3), ((2, 6, 3, 3), 1)):
        w = torch.nn.init.dirac_(torch.empty(shape), groups=groups).numpy()
        law = Dirac(groups).law(shape=shape)
        assert np.array_equal(structured_tensor(law, shape), w), (shape, groups)
        assert math.isclose(law.mean, w.mean(), rel_tol=1e-6) and math.isclose(law.variance, w.var(), rel_tol=1e-5)
    for shape in ((3, 5), (5, 3), (4, 4)):
        assert np.array_equal(structured_tensor(Eye().law(shape=shape), shape), torch.nn.init.eye_(torch.empty(shape)).numpy())


# ------------------------------------------------------------------------------------------ checks


def test_battery_sizes_of_structured_laws():
    sparse, dirac, eye = Sparse(0.5).law(shape=(10, 10)), Dirac().law(shape=(4, 4, 3)), Eye().law(shape=(3, 3))
    assert battery(sparse, groups=(LAW,)).names == (
        "sparse_zeros", "sparse_positions", "nonzero_chi2_variance", "nonzero_mean", "nonzero_extremes",
        "nonzero_point_mass", "nonzero_ks_shape")
    assert battery(sparse, groups=(STRUCTURE,)).names == ("degenerate",)
    # one fixed tensor: every draw equal is the law, not a fault, so no identical-draws or duplicates check
    assert battery(dirac).names == ("pattern",) and battery(eye).names == ("pattern",)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sparsity=st.sampled_from([0.1, 0.5, 0.9]), per_column=st.booleans())
def test_sparse_battery_accepts_the_reference(seed, sparsity, per_column):
    rng = np.random.default_rng(seed)
    draws = [numpy_sparse((60, 40), sparsity, 0.02, rng, per_column) for _ in range(100)]
    law = Sparse(sparsity, 0.02, per="column" if per_column else "row").law(shape=(60, 40))
    results = battery(law).run(Sample(np.concatenate([d.ravel() for d in draws]), draws, 23), ALPHA)
    assert all(r.passed for r in results), [r.detail for r in results if not r.passed]


def test_sparse_zeros_exact_count():
    rng = np.random.default_rng(1)
    draws = [numpy_sparse((50, 30), 0.2, 1.0, rng) for _ in range(4)]
    assert sparse_zeros_test(draws, 0.2, 0, 1e-7, ALPHA).passed
    short = [d.copy() for d in draws]
    short[2][np.flatnonzero(short[2][:, 7] == 0)[0], 7] = 1.5  # column 7 of draw 2: 9 zeros instead of 10
    r = sparse_zeros_test(short, 0.2, 0, 1e-7, ALPHA)
    assert not r.passed and r.p_value == 0 and "draw 2, column 7 has 9" in r.detail
    # one extra zero from the normal itself: possible (probability <= cell probability), so accepted
    extra = [d.copy() for d in draws]
    extra[0][np.flatnonzero(extra[0][:, 3] != 0)[0], 3] = 0
    r = sparse_zeros_test(extra, 0.2, 0, 1e-7, ALPHA)
    assert r.passed and "1 extra zeros" in r.detail
    # an extra zero in every column is no accident
    many = [d.copy() for d in draws]
    for d in many:
        for j in range(d.shape[1]):
            d[np.flatnonzero(d[:, j] != 0)[0], j] = 0
    assert not sparse_zeros_test(many, 0.2, 0, 1e-7, ALPHA).passed


def test_sparse_positions_rejects_fixed_rows_and_repeated_masks():
    rng = np.random.default_rng(2)
    good = [numpy_sparse((50, 30), 0.2, 1.0, rng) for _ in range(40)]
    assert sparse_positions_test(good, 0.2, 0, ALPHA).passed
    same_rows = [d.copy() for d in good]
    for d in same_rows:
        d[:] = np.abs(d) + 1
        d[:10, :] = 0  # the first 10 rows in every column
    r = sparse_positions_test(same_rows, 0.2, 0, ALPHA)
    assert not r.passed and "1160 columns repeat" in r.detail
    same_mask = [good[0].copy() for _ in good]
    for d in same_mask[1:]:
        d[d != 0] = rng.standard_normal(int(np.count_nonzero(d)))  # new values, the same zero mask
    r = sparse_positions_test(same_mask, 0.2, 0, ALPHA)
    assert not r.passed and "39 draws repeat another draw's mask" in r.detail


def test_sparse_positions_rejects_a_biased_position():
    """Row 0 zeroed in every column, the other 9 zeros random (the counts' balance test: no zero set repeats)."""
    rng = np.random.default_rng(3)
    draws = []
    for _ in range(40):
        w = np.ones((50, 30))
        for j in range(30):
            w[0, j] = 0
            w[1 + rng.permutation(49)[:9], j] = 0
        draws.append(w)
    r = sparse_positions_test(draws, 0.2, 0, ALPHA)
    assert not r.passed and "0 columns repeat" in r.detail and ", 1200] vs Binomial(1200, 10/50)" in r.detail
    # the stated detectable bias at this sample size is far below the planted one (probability 1 for 0.2: +400%)
    assert position_min_detectable(1200, 0.2, 50, ALPHA / 3) < 0.6


def test_sparse_positions_is_honest_when_few_sets_exist():
    """C(4, 2) = 6 possible zero sets: repeats are expected and must not be called a fault."""
    rng = np.random.default_rng(4)
    draws = [numpy_sparse((4, 30), 0.5, 1.0, rng) for _ in range(20)]
    r = sparse_positions_test(draws, 0.5, 0, ALPHA)
    assert r.passed and "columns repeat" in r.detail


def test_position_min_detectable_shrinks_with_the_sample():
    small, large = position_min_detectable(1000, 0.1, 100), position_min_detectable(100_000, 0.1, 100)
    assert large < small < math.inf and large < 0.2


def test_pattern_test_exact():
    law = Dirac(2).law(shape=(8, 4, 3))
    w = structured_tensor(law, (8, 4, 3)).astype(np.float32)
    assert pattern_test([w, w], w.astype(np.float64), "dirac", ALPHA).passed
    bad = w.copy()
    bad[5, 1, 0] = 1e-7  # one tiny unexpected entry is a fault too: the rest must be exactly 0
    r = pattern_test([w, bad], w.astype(np.float64), "dirac", ALPHA)
    assert not r.passed and r.statistic == 1 and "unexpected non-zero 1e-07 at (5, 1, 0)" in r.detail


def test_pattern_test_allows_the_gain_rounded_to_the_draws_precision():
    torch = pytest.importorskip("torch")
    expected = Eye(0.1).law(shape=(4, 6))
    target = structured_tensor(expected, (4, 6))
    bf16 = (0.1 * torch.eye(4, 6)).to(torch.bfloat16).float().numpy()  # 0.1 rounded to bfloat16: 0.10009766
    assert pattern_test([bf16], target, "eye", ALPHA).passed
    assert not pattern_test([bf16 * 1.01], target, "eye", ALPHA).passed  # a 1% gain error is not rounding
    f32 = (0.1 * np.eye(4, 6)).astype(np.float32)
    assert pattern_test([f32], target, "eye", ALPHA).passed
    assert not pattern_test([f32 * (1 + 2.0**-20)], target, "eye", ALPHA).passed
