"""SymPy proof behind SYM-CONST-01: swap invariance, gradient equivariance, equal gradients on the fixed
set, and a tie-preserving generic optimizer step; plus negative controls that must fail."""
from __future__ import annotations

import pytest
import sympy as sp

from invariants.symbolic import symmetry as S


def test_proof_holds_for_two_hidden_layers():
    proof = S.prove_unit_swap_symmetry((2, 2, 2, 1))
    assert proof.holds, [f"{i.kind} {i.layer} {i.what}: {i.difference}" for i in proof.failures()]
    # per hidden layer: output + loss invariance (2), all 15 parameters (15), the unit's parameters
    # (layer 1: 2 in + bias + 2 out = 5; layer 2: 2 in + bias + 1 out = 4) for equal-gradient and step
    assert proof.counts() == {"invariance": 4, "equivariance": 30, "equal-gradient": 9, "generic-step": 9}
    assert {i.layer for i in proof.identities} == {1, 2}
    assert "52/52" in proof.summary()


@pytest.mark.parametrize("sizes", [(2, 3, 1), (1, 2, 2, 2)])
def test_proof_holds_for_other_shapes(sizes):
    proof = S.prove_unit_swap_symmetry(sizes)
    assert proof.holds
    assert proof.identities


def test_unit_parameters_are_row_bias_column():
    net = S.build_network((2, 2, 2, 1))
    W2, b2, W3 = net.params["W2"], net.params["b2"], net.params["W3"]
    assert S.unit_parameters(net, 2, 1) == [W2[1, 0], W2[1, 1], b2[1], W3[0, 1]]


def test_gradients_are_free_of_subs_objects():
    net = S.build_network((2, 2, 2, 1))
    grad = S.gradients(net)
    assert len(grad) == 15
    for g in grad.values():
        assert not g.atoms(sp.Subs) and not g.atoms(sp.Derivative)
    names = {type(f).__name__ for g in grad.values() for f in g.atoms(sp.core.function.AppliedUndef)}
    assert {"phi", "D1_phi", "D1_ell"} <= names


@pytest.mark.parametrize("sizes", [(2, 1, 1), (2, 1), (2, 1, 1, 3)])
def test_build_network_needs_a_hidden_pair(sizes):
    with pytest.raises(ValueError):
        S.build_network(sizes)


# ---- negative controls: a wrong swap, an incomplete tie, a per-unit mask ------------------------------


def _small():
    net = S.build_network((2, 2, 1))
    return net, S.gradients(net)


def test_swapping_without_outgoing_columns_breaks_invariance():
    net, grad = _small()
    W1, b1 = net.params["W1"], net.params["b1"]
    partial = {W1[0, 0]: W1[1, 0], W1[1, 0]: W1[0, 0], W1[0, 1]: W1[1, 1], W1[1, 1]: W1[0, 1],
               b1[0]: b1[1], b1[1]: b1[0]}
    pairs = list(zip(S.unit_parameters(net, 1, 0), S.unit_parameters(net, 1, 1)))
    ids = S.swap_identities(net, grad, 1, partial, S.tie(net, 1, 0, 1), pairs, thorough=False)
    assert not next(i for i in ids if i.what == "L(σθ) = L(θ)").holds
    assert not all(i.holds for i in ids if i.kind == "equivariance")


def test_tie_without_outgoing_columns_gives_unequal_gradients():
    net, grad = _small()
    W1, b1 = net.params["W1"], net.params["b1"]
    incomplete = {W1[1, 0]: W1[0, 0], W1[1, 1]: W1[0, 1], b1[1]: b1[0]}  # outgoing W2[:, 1] left free
    pairs = list(zip(S.unit_parameters(net, 1, 0), S.unit_parameters(net, 1, 1)))
    ids = S.swap_identities(net, grad, 1, S.swap(net, 1, 0, 1), incomplete, pairs, thorough=False)
    eq = [i for i in ids if i.kind == "equal-gradient"]
    # incoming weights and bias get unequal gradients; the outgoing weights' gradients φ(z_j) vs φ(z_k)
    # are equal because the rows and biases are tied
    assert [i.holds for i in eq] == [False, False, False, True]
    assert not all(i.holds for i in ids if i.kind == "generic-step")


def test_a_per_unit_mask_breaks_swap_invariance():
    # hidden dropout multiplies unit j's output by its own mask m_j, which the swap does not move
    net, _ = _small()
    W2 = net.params["W2"]
    m1, m2 = sp.symbols("m1 m2")
    masked = net.loss.xreplace({W2[0, 0]: m1 * W2[0, 0], W2[0, 1]: m2 * W2[0, 1]})
    sw = S.swap(net, 1, 0, 1)
    assert sp.expand(masked.xreplace(sw) - masked) != 0
    assert sp.expand(net.loss.xreplace(sw) - net.loss) == 0


# ---- every layer position, norms, width-1 equivalence, breakers ---------------------------------------


def test_every_layer_position_is_covered():
    proofs = S.prove_layer_positions()
    assert all(p.holds for p in proofs)
    assert {i.layer for i in proofs[1].identities} == {1, 2, 3}  # first, middle, last


def test_normalized_networks_keep_the_symmetry():
    for norm, proof in S.prove_normalized():
        assert proof.holds, (norm, [i.what for i in proof.failures()])
        assert proof.counts()["equal-gradient"] == len(S.unit_parameters(S.build_network(*_norm_case(norm)), 1, 0))


def _norm_case(norm):
    sizes, _, batch = next(c for c in S.NORM_CASES if c[1] == norm)
    return sizes, norm, batch


def test_unit_parameters_include_norm_scale_and_shift():
    net = S.build_network((2, 2, 1), "layer")
    assert S.unit_parameters(net, 1, 0) == [*net.params["W1"].row(0), net.params["b1"][0], net.params["g1"][0],
                                            net.params["s1"][0], net.params["W2"][0, 0]]


def test_statistics_from_one_unit_break_layer_norm_invariance(monkeypatch):
    """Mutant normalization: every unit normalized with unit 0's value as the 'mean'.  That is not a
    symmetric function of the units, and swap invariance must fail."""

    def lopsided(z, g, s, norm):
        n, B = z.shape
        return sp.Matrix(n, B, lambda j, b: g[j] * (z[j, b] - z[0, b]) + s[j])

    monkeypatch.setattr(S, "normalize", lopsided)
    net = S.build_network((2, 2, 1), "layer")
    sw = S.swap(net, 1, 0, 1)
    assert sp.expand(net.loss.xreplace(sw) - net.loss) != 0


@pytest.mark.parametrize("kwargs", [dict(norm="group"), dict(norm="batch", batch=1), dict(batch=0)])
def test_build_network_rejects_bad_norm_arguments(kwargs):
    with pytest.raises(ValueError):
        S.build_network((2, 2, 1), **kwargs)


def test_width_one_equivalence_holds_and_needs_the_right_scales():
    proof = S.prove_width_one_equivalence((2, 3, 3, 2))
    assert proof.holds, [i.what for i in proof.failures()]
    assert S.width_one_scales((2, 3, 3, 2)) == {"W1": (1, 3), "b1": (1, 3), "W2": (3, 3), "b2": (1, 3),
                                                 "W3": (3, 1), "b3": (1, 1)}
    wrong = {**S.width_one_scales((2, 3, 3, 2)), "W2": (1, 3)}  # forgets that W2 stands for 3 inputs
    bad = S.prove_width_one_equivalence((2, 3, 3, 2), scales=wrong)
    assert not bad.holds and any(i.kind == "function" for i in bad.failures())


def test_breakers_break_and_uniform_operations_do_not():
    rows = S.breakers()
    assert len(rows) == 8
    for b in rows:
        assert b.breaks == b.per_unit, (b.name, b.difference)
        if b.per_unit:
            assert abs(b.witness) > 1e-6  # a concrete activation and loss where the gap is nonzero


def test_witness_evaluates_the_undefined_functions_concretely():
    y = sp.Symbol("y")
    assert S.witness(S.phi(y)) == pytest.approx(float(sp.tanh(sp.Rational(2, 7))))
    assert S.witness(S.ell(y, S.t) - S.ell(y, S.t)) == 0.0
