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
