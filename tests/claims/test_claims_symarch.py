"""The symmetry theorem and its catalogue (SYM-EQUIV-01, SYM-ARCH-01) and the claims it scopes
(SYM-CONST-01, SYM-LINEAR-01, SYM-POOR-01): the all-sizes proof really is over symbolic sizes and the
catalogue's helpers do what they say (every evidence passing and its mutant failing:
tests/claims/test_evidence_mutants.py)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from invariants.claims import get
from invariants.claims.registry import Verdict
from invariants.experiments.fixed_points import cycles, project_to_fixed
from invariants.reference import Architecture, permute_hidden, random_params

SYMARCH = ("SYM-EQUIV-01", "SYM-ARCH-01", "SYM-CONST-01", "SYM-LINEAR-01", "SYM-POOR-01")


@pytest.mark.parametrize("cid", SYMARCH)
def test_claims_state_their_scope(cid):
    claim = get(cid)
    assert claim.scope.strip()
    if cid != "SYM-EQUIV-01":
        assert "MLP" in claim.scope or "torch" in claim.scope


def test_verdicts():
    assert {cid: get(cid).verdict for cid in SYMARCH} == {
        "SYM-EQUIV-01": Verdict.PROVED, "SYM-ARCH-01": Verdict.VERIFIED, "SYM-CONST-01": Verdict.PROVED,
        "SYM-LINEAR-01": Verdict.CONDITIONAL, "SYM-POOR-01": Verdict.CONDITIONAL}


def test_poor_no_longer_claims_exactly_when_and_names_the_counterexample():
    claim = get("SYM-POOR-01")
    assert "exactly when" not in claim.title + claim.statement
    assert "not poor *only* then" in claim.statement and "layer norm" in claim.statement
    assert [r.verdict for r in claim.readings] == [Verdict.REFUTED, Verdict.VERIFIED]


def test_only_if_counterexample_is_the_mean_predictor_not_a_short_horizon():
    from invariants.claims.symmetry.poor_01 import stuck_runs

    runs, var = stuck_runs()
    for (label, opt), (loss, spread) in runs.items():
        assert spread == 0.0, (label, opt)  # constant in x, bitwise
        assert loss == pytest.approx(var, rel=1e-12), (label, opt)  # exactly the mean predictor's loss


# ---- the all-sizes proof ------------------------------------------------------------------------------


def test_instance_proof_is_over_symbolic_sizes_and_passes():
    from invariants.symbolic import equivariance as E

    proof = E.prove_hidden_transposition()
    assert proof.holds and len(proof.identities) == 25
    z = E.next_preactivation(E.O0, sp.Symbol("beta_0", integer=True, positive=True))
    assert {E.N, E.M_IN} <= z.free_symbols  # the rest of the layer and the input width stay symbolic


def test_move_units_swaps_rows_entries_and_columns_only_of_units_1_and_2():
    from invariants.symbolic.equivariance import SWAP, TIE, C, W, b, move_units

    expr = W[1, 3] + 2 * b[2] + 3 * C[5, 1] + 4 * W[7, 1] + 5 * C[1, 7]
    assert move_units(expr, SWAP) == W[2, 3] + 2 * b[1] + 3 * C[5, 2] + 4 * W[7, 1] + 5 * C[1, 7]
    assert move_units(W[2, 1] + C[1, 2], TIE) == W[1, 1] + C[1, 1]


def test_lemma_holds_for_a_permutation_and_fails_for_a_scaling():
    from invariants.symbolic.equivariance import prove_lemma

    assert all(s.holds for s in prove_lemma(True))
    bad = [s for s in prove_lemma(False) if not s.holds]
    assert len(bad) == 1 and "(S1b)" in bad[0].what


def test_update_identities_fail_with_per_unit_learning_rates():
    from invariants.symbolic.equivariance import update_identities

    assert all(i.holds for i in update_identities())
    assert not any(i.holds for i in update_identities(per_unit_lr=True))


# ---- fixed points of a permutation ---------------------------------------------------------------------


def test_cycles_and_projection_give_a_fixed_point():
    perm = np.array([2, 0, 1, 4, 3, 5])
    assert cycles(perm) == [(0, 2, 1), (3, 4), (5,)]
    arch = Architecture((3, 6, 2), "tanh", norm="layer")
    theta = project_to_fixed(arch, random_params(arch, np.random.default_rng(0), bias_std=1.0), 1, perm)
    moved = permute_hidden(arch, theta, 1, perm)
    assert all(moved[k].tobytes() == theta[k].tobytes() for k in theta)
    with pytest.raises(ValueError):
        project_to_fixed(arch, theta, 2, perm)


# ---- the torch catalogue --------------------------------------------------------------------------------


def test_catalogue_adam_is_torch_adam():
    import torch

    from invariants.experiments.tie_catalogue import LR, Optimizer

    gen = torch.Generator().manual_seed(0)
    a = torch.randn((3, 2), generator=gen, dtype=torch.float64)
    mine, ref = {"a": a.clone().requires_grad_(True)}, a.clone().requires_grad_(True)
    ours, theirs = Optimizer("adam", mine), torch.optim.Adam([ref], lr=LR["adam"])
    for _ in range(5):
        for p, o in ((mine["a"], ours), (ref, theirs)):
            o.zero_grad()
            (torch.sin(p) * p).sum().backward()
            o.step()
    assert torch.allclose(mine["a"], ref, rtol=0, atol=1e-15)


def test_layer_norm_after_a_tied_layer_outputs_beta_and_freezes_it():
    from invariants.experiments.tie_catalogue import norm_after_tie

    ln = norm_after_tie("layer")
    assert ln.off_shift == 0.0 and ln.max_grad_w == 0.0 and ln.output_spread == 0.0
    assert norm_after_tie("batch").output_spread > 1e-3


def test_top1_routing_breaks_the_router_tie_by_index():
    from invariants.experiments.tie_catalogue import topk_routing

    run = topk_routing(1)
    assert run.broken and "[0]" in run.note


def test_defect_measures_the_largest_gap_in_a_group():
    import torch

    from invariants.experiments.tie_catalogue import defect

    p = {"W": torch.tensor([[1.0, 2.0], [1.0, 2.5], [0.0, 0.0]], dtype=torch.float64)}
    assert defect(p, [("W", 0, (0, 1))]) == 0.5
    assert defect(p, [("W", 1, (0, 1))]) == 1.5
