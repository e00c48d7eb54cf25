"""The symmetry claim family (SYM-*): every evidence function passes, and every oracle it relies on
rejects a known-bad input (mutation self-tests)."""
from __future__ import annotations

import numpy as np
import pytest

import invariants.claims.symmetry as sym
from invariants.claims.evidence import run_property
from invariants.claims.registry import Verdict
from invariants.claims.seed import quotes_not_in_seed
from invariants.reference import OPTIMIZERS, Architecture, Optimizer, forward, make_optimizer, random_params, train
from invariants.symmetry import all_classes, symmetry_defect

EXPECTED = {
    "SYM-CONST-01": Verdict.PROVED,
    "SYM-GRAD-01": Verdict.CONDITIONAL,
    "SYM-SIGNAL-01": Verdict.VERIFIED,
    "SYM-SIGNAL-02": Verdict.CONDITIONAL,
    "SYM-ZERO-FWD-01": Verdict.CONDITIONAL,
    "SYM-ZERO-GRAD-01": Verdict.VERIFIED,
    "SYM-UPDATE-01": Verdict.CONDITIONAL,
    "SYM-ROWS-01": Verdict.CONDITIONAL,
    "SYM-BREAK-01": Verdict.REFUTED,
    "SYM-LEARN-01": Verdict.REFUTED,
    "SYM-LINEAR-01": Verdict.CONDITIONAL,
    "SYM-POOR-01": Verdict.CONDITIONAL,
    "SYM-NEVER-01": Verdict.CONDITIONAL,
}


def sym_claims():
    return list(sym.CLAIMS)


def evidence_cases():
    return [pytest.param(ev, id=f"{c.id}:{ev.kind}:{i}") for c in sym_claims() for i, ev in enumerate(c.evidence)]


# ---- registry ----------------------------------------------------------------------------------------


def test_family_registers_the_expected_claims_and_verdicts():
    assert {c.id: c.verdict for c in sym_claims()} == EXPECTED


def test_quotes_are_verbatim_seed_sentences():
    quotes = [q for c in sym_claims() for q in c.seed_quotes]
    assert quotes_not_in_seed(quotes) == []


def test_conditional_claims_have_evidence_for_both_sides():
    for c in sym_claims():
        if c.verdict is Verdict.CONDITIONAL:
            assert len(c.evidence) >= 2, c.id
        if c.verdict is Verdict.REFUTED:
            assert any(ev.kind == "counterexample" for ev in c.evidence), c.id


# ---- every piece of evidence passes ------------------------------------------------------------------


@pytest.mark.parametrize("evidence", evidence_cases())
def test_evidence_passes(evidence):
    result = evidence.fn()
    assert result.passed, result.detail
    assert len(result.detail) <= 500


# ---- the symmetry oracle -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["W1", "b1", "W2"])
def test_one_ulp_nudge_is_flagged(where):
    arch, params = sym.constant_net((3, 4, 4, 2), "tanh", weight=0.5, bias=0.1)
    classes = all_classes(arch, params)
    assert sym.hidden_tied(arch, params)
    nudged = {k: v.copy() for k, v in params.items()}
    idx = {"W1": (1, 0), "b1": (1,), "W2": (0, 1)}[where]  # unit 1 of layer 1: row, bias, outgoing column
    nudged[where][idx] = np.nextafter(nudged[where][idx], np.inf)
    assert not sym.hidden_tied(arch, nudged)
    assert sym.n_distinct_units(arch, nudged)[1] == 2
    assert 0 < symmetry_defect(arch, nudged, classes) < 1e-15


class _NudgingOptimizer(Optimizer):
    """A broken optimizer: after a normal step, moves the first entry of every tensor up by one ulp
    (a position-dependent update, as a per-unit learning rate would be)."""

    def step(self, params, grads):
        new = super().step(params, grads)
        for v in new.values():
            v.flat[0] = np.nextafter(v.flat[0], np.inf)
        return new


class _LateNudge(Optimizer):
    """Normal until step 3, which nudges one entry of W1 by one ulp."""

    def step(self, params, grads):
        new = super().step(params, grads)
        if self.steps == 3:
            new["W1"][0, 0] = np.nextafter(new["W1"][0, 0], np.inf)
        return new


def test_train_checking_ties_reports_the_first_untied_step():
    arch, params = sym.constant_net((2, 3, 1), "tanh")
    x, t = sym.make_data(arch, 5, seed=0)
    run = sym.train_checking_ties(arch, params, x, t, _LateNudge("sgd", lr=0.1), 6)
    assert run.first_untied == 3 and run.defect > 0 and not run.tied
    ok = sym.train_checking_ties(arch, params, x, t, make_optimizer("sgd", lr=0.1), 6)
    assert ok.tied and ok.first_untied is None and ok.diverged_at is None and len(ok.losses) == 6


def test_train_checking_ties_stops_at_an_overflow():
    arch, params = sym.constant_net((2, 8, 8, 8, 1), "identity", weight=1e30)
    x, t = sym.make_data(arch, 4, seed=1)
    run = sym.train_checking_ties(arch, params, x, t, make_optimizer("sgd", lr=10.0), 5)
    assert run.diverged_at is not None
    assert all(np.all(np.isfinite(v)) for v in run.params.values())


# ---- the SYM-CONST-01 property catches symmetry breakers -----------------------------------------------


def test_constant_init_property_fails_with_hidden_dropout():
    result = run_property(sym.constant_init_property({}, hidden_dropout=0.5, max_examples=5), "should fail")
    assert not result.passed
    assert "ties broken" in result.detail


def test_constant_init_property_fails_with_a_position_dependent_optimizer():
    make_bad = lambda name, **kw: _NudgingOptimizer(name=name, **kw)  # noqa: E731
    result = run_property(sym.constant_init_property({}, make_opt=make_bad, max_examples=5), "should fail")
    assert not result.passed
    assert "ties broken" in result.detail


def test_constant_init_property_covers_every_optimizer_and_the_seed_values():
    seen: dict = {}
    assert run_property(sym.constant_init_property(seen, max_examples=3), "ok").passed
    assert {name for name, _ in seen["#(optimizer, activation) pairs"]} == set(OPTIMIZERS)
    assert {0.0, 1.0} <= seen["weight"]  # the seed's "(e.g. zero or one)", pinned examples


# ---- the other oracles -------------------------------------------------------------------------------


def test_columns_identical_rejects_a_nudged_row():
    arch, params = sym.constant_net((3, 4, 1), "tanh", weight=0.5)
    x = np.random.default_rng(0).normal(size=(6, 3))
    assert sym.columns_identical(forward(arch, params, x).preacts[0])
    params["W1"][2, 1] = np.nextafter(params["W1"][2, 1], np.inf)
    assert not sym.columns_identical(forward(arch, params, x).preacts[0])


def test_monotone_along_rejects_non_monotone_and_inconsistent_ties():
    s = np.array([0.0, 1.0, 2.0, 3.0])
    assert sym.monotone_along(s, np.array([0.0, 0.5, 0.5, 2.0]))
    assert sym.monotone_along(s, -s)
    assert not sym.monotone_along(s, np.array([0.0, 1.0, 0.5, 2.0]))
    assert not sym.monotone_along(np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 2.0]))  # tie, two values


def test_monotone_oracle_flags_a_tied_sin_network():
    rng = np.random.default_rng(3)
    arch, params = sym._tied_net(rng, (2, 4, 1), "sin")
    params["W1"] *= 5.0  # several periods across the inputs
    cache = forward(arch, params, rng.normal(size=(200, 2)))
    assert sym.hidden_tied(arch, params)
    assert not sym.monotone_along(cache.preacts[0][:, 0], cache.output[:, 0])


def test_linear_separability_oracle():
    assert sym.linearly_separable(sym.XOR_X, np.array([0, 0, 0, 1]))  # AND
    assert not sym.linearly_separable(sym.XOR_X, sym.XOR_T[:, 0])  # XOR


def test_update_counterexample_really_needs_unequal_state():
    # the same two steps with equal gradients throughout give equal updates: the state made the difference
    for name in ("momentum", "adam"):
        opt = make_optimizer(name, lr=0.1)
        p = opt.step({"w": np.array([0.5, 0.5])}, {"w": np.array([1.0, 1.0])})
        d = opt.step(p, {"w": np.array([1.0, 1.0])})["w"] - p["w"]
        assert d[0] == d[1]


def test_random_init_is_not_tied():
    arch = Architecture((3, 5, 5, 2), "tanh")
    params = random_params(arch, np.random.default_rng(0))
    assert not sym.hidden_tied(arch, params)
    assert sym.n_distinct_units(arch, params) == {1: 5, 2: 5}
    x, t = sym.make_data(arch, 8, seed=0)
    result = train(arch, params, x, t, make_optimizer("adam", lr=0.01), 3)
    assert sym.n_distinct_units(arch, result.params) == {1: 5, 2: 5}
