"""SymPy derivations added for issue 4: He/leaky, truncated normal, PyTorch default, orthogonal.

Each derived formula equals its literature value, and a wrong constant (mutant) is rejected.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from invariants.symbolic import variance as sv
from invariants.symbolic.variance import (
    LITERATURE,
    check_against_literature,
    check_truncated_normal_constant,
    fan_in,
    gain,
    matches,
    rows,
    cols,
    sigma,
    slope,
)


def _derived(name):
    return next(c.derived for c in check_against_literature() if c.name == name)


def test_leaky_relu_ratio_and_gain():
    assert sp.simplify(sv.leaky_relu_second_moment_ratio() - (1 + slope**2) / 2) == 0
    assert sv.leaky_relu_second_moment_ratio().subs(slope, 0) == sv.relu_second_moment_ratio()
    assert matches(sv.leaky_relu_gain(), sp.sqrt(2) / sp.sqrt(1 + slope**2))
    assert matches(sv.he_leaky_variance(), 2 / ((1 + slope**2) * fan_in))
    assert sv.leaky_relu_gain().subs(slope, 0) == sp.sqrt(2)


def test_truncated_normal_general_bound_matches_scipy():
    t = sv.truncated_normal()
    for bound in (0.5, 1.0, 2.0, 3.0):
        got = float(t.variance_general.subs(sv.b, bound))
        assert got == pytest.approx(float(stats.truncnorm.var(-bound, bound)), rel=1e-13)
    assert t.std_digits == "0.87962566103423975"
    assert float(t.std) == float(stats.truncnorm.std(-2, 2))
    assert sp.simplify(t.corrected_variance - sigma**2) == 0
    assert float(t.uncorrected_variance / sigma**2) == pytest.approx(0.7737413, abs=1e-7)


def test_truncated_normal_constant_check():
    c = check_truncated_normal_constant()
    assert c.same_float64 and 2.9e-17 < c.abs_difference < 3.0e-17
    # mutants: a rounded constant, or the neighbouring double, is not c
    for wrong in ("0.88", "0.8796", "0.8796256610342397", "0.87962566103424"):
        assert not check_truncated_normal_constant(wrong).same_float64, wrong


def test_torch_default_linear():
    t = sv.torch_default_linear()
    assert t.gain == 1 / sp.sqrt(3)
    assert matches(t.bound, 1 / sp.sqrt(fan_in))
    assert matches(t.variance, 1 / (3 * fan_in))
    assert (t.ratio_to_lecun, t.ratio_to_he) == (sp.Rational(1, 3), sp.Rational(1, 6))


def test_orthogonal_facts():
    o = sv.orthogonal()
    assert o.gram_defect == sp.zeros(3, 3)
    assert o.norm_defect == 0 and o.deep_norm_defect == 0
    assert (o.q.T * o.wide_kernel_vector).applyfunc(sp.simplify) == sp.zeros(3, 1)
    assert any(v != 0 for v in o.wide_kernel_vector)
    # numeric cross-check of the mean square on a Haar sample
    rng = np.random.default_rng(0)
    a = rng.standard_normal((7, 3))
    qm, _ = np.linalg.qr(a)
    assert np.mean(qm**2) == pytest.approx(float(sv.orthogonal_mean_square().subs({gain: 1, rows: 7, cols: 3})))
    assert np.mean(qm.T**2) == pytest.approx(float(sv.orthogonal_mean_square().subs({gain: 1, rows: 3, cols: 7})))


def test_orthogonal_norm_defect_detects_a_non_orthogonal_matrix():
    """Mutant: R-scaled columns (not orthonormal) give a nonzero norm defect."""
    o = sv.orthogonal()
    bad = o.q * sp.diag(1, 2, 1)
    xs = sp.Matrix(sp.symbols("x0:3", real=True))
    assert sp.simplify(((bad * xs).T * (bad * xs))[0] - (xs.T * xs)[0]) != 0


NEW = ["he_leaky_variance", "leaky_relu_gain", "truncated_normal_variance", "truncated_normal_corrected_variance",
       "torch_default_bound", "torch_default_variance", "orthogonal_mean_square"]


@pytest.mark.parametrize("name", NEW)
def test_new_literature_formulas_match(name):
    c = next(c for c in check_against_literature() if c.name == name)
    assert c.equal, (c.derived, c.literature)


@pytest.mark.parametrize(
    "name, wrong",
    [
        ("he_leaky_variance", 2 / ((1 + slope) * fan_in)),  # slope not squared
        ("he_leaky_variance", 1 / fan_in),
        ("leaky_relu_gain", sp.sqrt(2 / (1 + slope))),  # gain without the square
        ("leaky_relu_gain", 2 / (1 + slope**2)),  # variance instead of std
        ("truncated_normal_variance", sp.Float("0.88") ** 2),  # rounded constant
        ("truncated_normal_variance", 1 - 2 * (sp.exp(-2) / sp.sqrt(2 * sp.pi)) / sp.erf(sp.sqrt(2))),  # b=1 factor
        ("truncated_normal_corrected_variance", sp.Float("0.7737413") * sigma**2),  # no correction
        ("torch_default_variance", 1 / fan_in),  # "same as LeCun"
        ("torch_default_variance", 2 / fan_in),  # "same as He"
        ("torch_default_bound", sp.sqrt(6) / sp.sqrt(fan_in)),  # He-uniform bound
        ("orthogonal_mean_square", gain**2 / sp.Min(rows, cols)),
        ("orthogonal_mean_square", gain**2 / (rows * cols)),
        ("orthogonal_mean_square", gain**2 / rows),  # right only for tall matrices
    ],
)
def test_mutant_constant_is_rejected(name, wrong):
    assert matches(_derived(name), LITERATURE[name][0])
    assert not matches(_derived(name), wrong)
