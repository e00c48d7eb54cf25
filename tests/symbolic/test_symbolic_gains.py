"""Gains: derived vs conventional values, SELU constants, mean-field numbers; mutants rejected."""
from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from invariants import propagation as prop
from invariants.reference.activations import SELU_ALPHA, SELU_SCALE
from invariants.symbolic import gains as g
from invariants.symbolic.variance import slope


def test_linearized_gains():
    assert {a: g.linearized_gain(a) for a in ("identity", "tanh", "sigmoid", "sin", "gelu")} == {
        "identity": 1, "tanh": 1, "sigmoid": 4, "sin": 1, "gelu": 2}
    assert g.linearized_gain("relu") is None and g.linearized_gain("selu") is None


def test_second_moments():
    assert g.second_moment("identity") == 1
    assert g.second_moment("relu") == sp.Rational(1, 2)
    assert sp.simplify(g.second_moment("leaky_relu") - (1 + slope**2) / 2) == 0
    assert sp.simplify(g.second_moment("sin") - (1 - sp.exp(-2)) / 2) == 0
    assert abs(g.second_moment("selu") - 1) < 1e-28
    for act in ("tanh", "sigmoid", "gelu"):
        assert float(g.second_moment(act)) == pytest.approx(float(prop.second_moment(act, 1.0)), rel=1e-13)


def test_tanh_fixed_point_gain():
    gt = g.tanh_fixed_point_gain()
    assert str(gt).startswith("1.59253741972283")
    with mpmath.workdps(30):
        m = mpmath.quad(lambda x: mpmath.tanh(x) ** 2 * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
    assert abs(float(gt) - float(1 / mpmath.sqrt(m))) < 1e-15
    fp = prop.fixed_point("tanh", float(gt) ** 2)
    assert fp.q_star == pytest.approx(1.0, abs=1e-12)


def test_selu_constants_are_derived():
    alpha, lam = g.selu_constants()
    assert abs(alpha - g.SELU_PUBLISHED[0]) < 1e-25 and abs(lam - g.SELU_PUBLISHED[1]) < 1e-25
    assert (float(alpha), float(lam)) == (SELU_ALPHA, SELU_SCALE)
    mean, second, a, l = g.selu_moments()
    # mutant: rounded published constants are not a fixed point to 1e-4
    assert abs(float(second.subs({a: 1.67, l: 1.05})) - 1) > 1e-3


def test_gain_table():
    table = {r.activation: r for r in g.gain_table()}
    assert {a: r.status for a, r in table.items()} == {
        "identity": "derived", "relu": "derived", "leaky_relu": "derived",
        "tanh": "conventional", "selu": "conventional", "sigmoid": "conventional"}
    assert table["tanh"].q_star == pytest.approx(1.17848049, rel=1e-7)
    assert table["tanh"].chi_star == pytest.approx(1.20983132, rel=1e-7)
    assert table["selu"].q_star == pytest.approx(0.02303378, rel=1e-6)
    assert table["selu"].chi_star == pytest.approx(1.00367035, rel=1e-7)
    assert table["sigmoid"].chi_star == pytest.approx(0.05572071, rel=1e-6)
    for a in ("identity", "relu", "leaky_relu"):
        assert table[a].chi_star == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("activation, value", [
    ("tanh", sp.Integer(1)),  # the linearized gain: would be derived
    ("tanh", sp.Float(g.tanh_fixed_point_gain(), 30)),
    ("sigmoid", sp.Integer(4)),
    ("selu", sp.Integer(1)),
    ("relu", sp.sqrt(2)),
])
def test_classify_recognizes_derived_values(activation, value):
    assert g.classify(activation, value) == "derived"


@pytest.mark.parametrize("activation, value", [
    ("tanh", sp.Rational(5, 3)),
    ("selu", sp.Rational(3, 4)),
    ("sigmoid", sp.Integer(1)),
    ("relu", sp.Integer(2)),  # variance instead of std
    ("leaky_relu", sp.sqrt(2 / (1 + slope))),  # slope not squared
    ("tanh", sp.Float("1.5925")),  # rounded fixed-point gain
])
def test_classify_rejects_mutants(activation, value):
    assert g.classify(activation, value) == "conventional"
