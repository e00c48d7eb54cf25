"""Tests for invariants.symbolic: derived variance rules equal the published ones, wrong ones do not."""
from __future__ import annotations

import pytest
import sympy as sp
from sympy import stats as sps

from invariants.symbolic import (
    LITERATURE,
    check_against_literature,
    glorot_variance,
    matches,
    relu_second_moment_ratio,
    uniform_variance,
    var_of_weighted_sum,
)
from invariants.symbolic.variance import a, fan_in, fan_out, n, q, sw2


def test_var_of_weighted_sum_is_n_sw2_q():
    assert sp.simplify(var_of_weighted_sum() - n * sw2 * q) == 0


def test_var_of_weighted_sum_agrees_with_sympy_stats():
    # independent check with concrete distributions: w ~ N(0, s), x ~ N(mu, t) (nonzero mean),
    # two terms; E[x^2] = mu^2 + t^2
    s, t = sp.symbols("s t", positive=True)
    mu = sp.Symbol("mu", real=True)
    ws = [sps.Normal(f"w{i}", 0, s) for i in range(2)]
    xs = [sps.Normal(f"x{i}", mu, t) for i in range(2)]
    y = sum(w * x for w, x in zip(ws, xs))
    got = sp.simplify(sps.variance(y))
    expected = var_of_weighted_sum().subs({n: 2, sw2: s**2, q: mu**2 + t**2})
    assert sp.simplify(got - expected) == 0


def test_uniform_variance():
    assert sp.simplify(uniform_variance() - a**2 / 3) == 0
    # cross-check with sympy.stats
    assert sp.simplify(sps.variance(sps.Uniform("u", -a, a)) - uniform_variance()) == 0


def test_relu_halves_second_moment():
    assert relu_second_moment_ratio() == sp.Rational(1, 2)


def test_rules():
    r = glorot_variance()
    assert matches(r.forward, 1 / fan_in)
    assert matches(r.backward, 1 / fan_out)
    assert matches(r.glorot, 2 / (fan_in + fan_out))
    assert matches(r.he, 2 / fan_in)
    assert matches(r.glorot_uniform_bound, sp.sqrt(6 / (fan_in + fan_out)))
    # the compromise is the harmonic mean of the forward and backward rules
    assert matches(r.glorot, 2 / (1 / r.forward + 1 / r.backward))
    # with equal fans all three coincide (Glorot & Bengio 2010: both conditions hold iff n_i = n_{i+1})
    assert sp.simplify((r.glorot - r.forward).subs(fan_out, fan_in)) == 0


def test_all_literature_formulas_match():
    checks = check_against_literature()
    assert {c.name for c in checks} == set(LITERATURE)
    for c in checks:
        assert c.equal, (c.name, c.derived, c.literature)
        assert c.source


@pytest.mark.parametrize(
    "name, wrong",
    [
        ("glorot_variance", 1 / (fan_in + fan_out)),  # dropped factor 2
        ("glorot_variance", 2 / (fan_in * fan_out)),
        ("glorot_uniform_bound", sp.sqrt(3) / sp.sqrt(fan_in + fan_out)),  # sqrt(3) instead of sqrt(6)
        ("lecun_variance", 1 / fan_out),
        ("he_variance", 1 / fan_in),  # He without the ReLU factor
        ("uniform_variance", a**2 / 12),  # variance of U(0, a)
    ],
)
def test_mutant_literature_constant_is_detected(name, wrong):
    derived = next(c.derived for c in check_against_literature() if c.name == name)
    assert matches(derived, LITERATURE[name][0])
    assert not matches(derived, wrong)
