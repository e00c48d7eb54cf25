"""The symmetry claim family (SYM-*): every evidence function passes, and every oracle it relies on
rejects a known-bad input (mutation self-tests)."""
from __future__ import annotations

import numpy as np
import pytest

from invariants.claims import all_claims, get
from invariants.claims.evidence import run_property
from invariants.claims.registry import Verdict
from invariants.claims.seed import quotes_not_in_seed
from invariants.claims.symmetry import break_01, const_01, fp_01, grad_rows_01, linear_01, never_01, zero_grad_01
from invariants.experiments import networks, oracles, real_data, training, xor
from invariants.experiments.mutants import PositionNudging
from invariants.reference import (
    OPTIMIZERS,
    Architecture,
    Optimizer,
    forward,
    init_params,
    make_optimizer,
    random_params,
    train,
)
from invariants.reference import loss_and_grad
from invariants.symmetry import WidthOneTwin, all_classes, hidden_tied, n_distinct_units, symmetry_defect

EXPECTED = {
    "SYM-CONST-01": Verdict.PROVED,
    "SYM-EQUIV-01": Verdict.PROVED,
    "SYM-ARCH-01": Verdict.VERIFIED,
    "SYM-GRAD-01": Verdict.VERIFIED,
    "SYM-SIGNAL-01": Verdict.VERIFIED,
    "SYM-SIGNAL-02": Verdict.VERIFIED,
    "SYM-ZERO-FWD-01": Verdict.VERIFIED,
    "SYM-ZERO-GRAD-01": Verdict.VERIFIED,
    "SYM-UPDATE-01": Verdict.VERIFIED,
    "SYM-ROWS-01": Verdict.VERIFIED,
    "SYM-BREAK-01": Verdict.REFUTED,
    "SYM-LEARN-01": Verdict.REFUTED,
    "SYM-LINEAR-01": Verdict.CONDITIONAL,
    "SYM-POOR-01": Verdict.CONDITIONAL,
    "SYM-NEVER-01": Verdict.CONDITIONAL,
    "SYM-FP-01": Verdict.CONDITIONAL,
    "SYM-GROWTH-01": Verdict.CONDITIONAL,
}


def sym_claims():
    return [c for c in all_claims() if c.id.startswith("SYM-")]


def evidence_cases():
    return [pytest.param(c.id, ev, id=f"{c.id}:{ev.kind}:{i}") for c in sym_claims() for i, ev in enumerate(c.evidence)]


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


@pytest.mark.parametrize("claim_id, evidence", evidence_cases())
def test_evidence_passes(claim_id, evidence, evidence_store):
    result = evidence_store.result(claim_id, evidence)  # run once per session (tests/shared_evidence.py)
    assert result.passed, result.detail
    assert len(result.detail) <= 500


# ---- the symmetry oracle -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["W1", "b1", "W2"])
def test_one_ulp_nudge_is_flagged(where):
    arch, params = networks.constant_net((3, 4, 4, 2), "tanh", weight=0.5, bias=0.1)
    classes = all_classes(arch, params)
    assert hidden_tied(arch, params)
    nudged = {k: v.copy() for k, v in params.items()}
    idx = {"W1": (1, 0), "b1": (1,), "W2": (0, 1)}[where]  # unit 1 of layer 1: row, bias, outgoing column
    nudged[where][idx] = np.nextafter(nudged[where][idx], np.inf)
    assert not hidden_tied(arch, nudged)
    assert n_distinct_units(arch, nudged)[1] == 2
    assert 0 < symmetry_defect(arch, nudged, classes) < 1e-15


_NudgingOptimizer = PositionNudging  # the broken optimizer the claims' mutants use


class _LateNudge(Optimizer):
    """Normal until step 3, which nudges one entry of W1 by one ulp."""

    def step(self, params, grads):
        new = super().step(params, grads)
        if self.steps == 3:
            new["W1"][0, 0] = np.nextafter(new["W1"][0, 0], np.inf)
        return new


def test_train_checking_ties_reports_the_first_untied_step():
    arch, params = networks.constant_net((2, 3, 1), "tanh")
    x, t = networks.make_data(arch, 5, seed=0)
    run = training.train_checking_ties(arch, params, x, t, _LateNudge("sgd", lr=0.1), 6)
    assert run.first_untied == 3 and run.defect > 0 and not run.tied
    ok = training.train_checking_ties(arch, params, x, t, make_optimizer("sgd", lr=0.1), 6)
    assert ok.tied and ok.first_untied is None and ok.diverged_at is None and len(ok.losses) == 6


def test_train_checking_ties_stops_at_an_overflow():
    arch, params = networks.constant_net((2, 8, 8, 8, 1), "identity", weight=1e30)
    x, t = networks.make_data(arch, 4, seed=1)
    run = training.train_checking_ties(arch, params, x, t, make_optimizer("sgd", lr=10.0), 5)
    assert run.diverged_at is not None
    assert all(np.all(np.isfinite(v)) for v in run.params.values())


# ---- the SYM-CONST-01 property catches symmetry breakers -----------------------------------------------


def test_constant_init_property_fails_with_hidden_dropout():
    result = run_property(const_01.constant_init_property({}, hidden_dropout=0.5, max_examples=5), "should fail")
    assert not result.passed
    assert "ties broken" in result.detail


def test_constant_init_property_fails_with_a_position_dependent_optimizer():
    make_bad = lambda name, **kw: _NudgingOptimizer(name=name, **kw)  # noqa: E731
    result = run_property(const_01.constant_init_property({}, make_opt=make_bad, max_examples=5), "should fail")
    assert not result.passed
    assert "ties broken" in result.detail


def test_constant_init_property_covers_every_optimizer_and_the_seed_values():
    seen: dict = {}
    assert run_property(const_01.constant_init_property(seen, max_examples=3), "ok").passed
    assert {name for name, _ in seen["#(optimizer, activation) pairs"]} == set(OPTIMIZERS)
    assert {0.0, 1.0} <= seen["weight"]  # the seed's "(e.g. zero or one)", pinned examples


# ---- the other oracles -------------------------------------------------------------------------------


def test_columns_identical_rejects_a_nudged_row():
    arch, params = networks.constant_net((3, 4, 1), "tanh", weight=0.5)
    x = np.random.default_rng(0).normal(size=(6, 3))
    assert oracles.columns_identical(forward(arch, params, x).preacts[0])
    params["W1"][2, 1] = np.nextafter(params["W1"][2, 1], np.inf)
    assert not oracles.columns_identical(forward(arch, params, x).preacts[0])


def test_monotone_along_rejects_non_monotone_and_inconsistent_ties():
    s = np.array([0.0, 1.0, 2.0, 3.0])
    assert oracles.monotone_along(s, np.array([0.0, 0.5, 0.5, 2.0]))
    assert oracles.monotone_along(s, -s)
    assert not oracles.monotone_along(s, np.array([0.0, 1.0, 0.5, 2.0]))
    assert not oracles.monotone_along(np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 2.0]))  # tie, two values


def test_monotone_oracle_flags_a_tied_sin_network():
    rng = np.random.default_rng(3)
    arch, params = networks.tied_net(rng, (2, 4, 1), "sin")
    params["W1"] *= 5.0  # several periods across the inputs
    cache = forward(arch, params, rng.normal(size=(200, 2)))
    assert hidden_tied(arch, params)
    assert not oracles.monotone_along(cache.preacts[0][:, 0], cache.output[:, 0])


def test_linear_separability_oracle():
    assert oracles.linearly_separable(xor.XOR_X, np.array([0, 0, 0, 1]))  # AND
    assert not oracles.linearly_separable(xor.XOR_X, xor.XOR_T[:, 0])  # XOR


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
    assert not hidden_tied(arch, params)
    assert n_distinct_units(arch, params) == {1: 5, 2: 5}
    x, t = networks.make_data(arch, 8, seed=0)
    result = train(arch, params, x, t, make_optimizer("adam", lr=0.01), 3)
    assert n_distinct_units(arch, result.params) == {1: 5, 2: 5}


# ---- mutation self-tests of the properties added for the symmetry issue --------------------------------


def _nudging(name, **kw):
    return _NudgingOptimizer(name=name, **kw)


def test_optimizer_commutation_property_catches_a_position_dependent_optimizer():
    assert run_property(const_01.optimizer_commutes_property({}, max_examples=3), "ok").passed
    # the nudge (entry 0) is visible only when the drawn permutation moves unit 0, which a random one misses
    # with probability ~1/width (1/2 at width 2); 25 draws miss every time with probability < 1e-7
    result = run_property(const_01.optimizer_commutes_property({}, make_opt=_nudging, max_examples=25), "should fail")
    assert not result.passed and "does not commute" in result.detail


def test_tied_structure_property_catches_a_position_dependent_optimizer():
    result = run_property(grad_rows_01.tied_structure_property({}, make_opt=_nudging, max_examples=5), "should fail")
    assert not result.passed and "structure" in result.detail


def test_sigmoid_zero_init_property_catches_a_position_dependent_optimizer():
    result = run_property(zero_grad_01.sigmoid_zero_init_property({}, make_opt=_nudging, max_examples=2), "should fail")
    assert not result.passed and "ties broken" in result.detail


def test_zero_layers_property_catches_a_position_dependent_optimizer():
    result = run_property(never_01.zero_layers_property({}, make_opt=_nudging, max_examples=3), "should fail")
    assert not result.passed


def test_three_ties_property_fails_when_nothing_moves():
    # an optimizer with lr 0 cannot spread the one differing part to the others
    frozen = lambda name, **kw: make_optimizer(name, **{**kw, "lr": 0.0})  # noqa: E731
    result = run_property(break_01.three_ties_property({}, make_opt=frozen, max_examples=2), "should fail")
    assert not result.passed and "still equal" in result.detail


def test_breaking_operations_at_strength_zero_keep_the_tie():
    """Control for the breaker evidence: DropConnect with p = 0 and noise with σ = 0 are no-ops."""
    arch, params = networks.constant_net((3, 4, 4, 2), "tanh", weight=0.5, bias=0.1)
    x, t = networks.make_data(arch, 8, seed=71)
    for lg in (training.dropconnect(0.0), training.noisy_gradients(0.0), training.augmented("noise")):
        run = training.train_checking_ties(arch, params, x, t, make_optimizer("adam", lr=0.05), 10,
                                      rng=np.random.default_rng(72), loss_grad=lg)
        assert run.tied


def test_augmented_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="augmentation"):
        training.augmented("rotate")


class _UnscaledTwin(WidthOneTwin):
    """A mis-built twin: plain learning rate for every tensor (forgets the lr·n scaling)."""

    def __init__(self, arch, params, optimizer, **kw):
        super().__init__(arch, params, optimizer, **kw)
        lr = kw.get("lr", 0.1)
        self.optimizers = {k: make_optimizer(optimizer, lr=lr, weight_decay=kw.get("weight_decay", 0.0))
                           for k in self.params}


def test_width_one_property_catches_a_mis_scaled_twin():
    result = run_property(linear_01.width_one_property({}, twin=_UnscaledTwin, max_examples=10), "should fail")
    assert not result.passed and "differ from the width-1 twin" in result.detail


def test_width_one_property_is_not_bitwise_at_width_three():
    """A sum of 3 equal products rounds once (fl(3p)), the twin rounds fl(fl(3w)·h): the bitwise property
    must notice.  (Widths 1, 2, 4 are exact: 2p and 4p are exact, fl(fl(3p) + p) = 4p.)"""
    result = run_property(linear_01.width_one_property({}, widths=(3,), max_examples=10), "should fail")
    assert not result.passed


def test_width_one_bound_rejects_a_mis_scaled_twin(monkeypatch):
    gap, bound = linear_01.width_one_forward_gap(3, "float64", 0)
    assert np.all(gap <= bound)
    real = linear_01.collapse_to_width_one

    def off_by_one(arch, params):
        out = real(arch, params)
        out["W2"] = out["W2"] * (2.0 / 3.0)  # as if n_1 = 2 instead of 3
        return out

    monkeypatch.setattr(linear_01, "collapse_to_width_one", off_by_one)
    gap, bound = linear_01.width_one_forward_gap(3, "float64", 0)
    assert np.any(gap > bound)


def test_untied_structure_is_generic_not_universal():
    """The converse property needs distinct input features: with identical input columns the rows of
    W_1 do stay constant (the oracle distinguishes the two situations)."""
    arch, params = networks.constant_net((3, 4, 4, 2), "tanh", weight=0.5, bias=0.1)
    x, t = networks.make_data(arch, 6, seed=0)
    same = np.repeat(x[:, :1], 3, axis=1)
    for data, expect_constant in ((x, False), (same, True)):
        p = params
        for _ in range(3):
            _, g = loss_and_grad(arch, p, data, t)
            p = make_optimizer("sgd", lr=0.1).step(p, g)
        assert oracles.tie_structure(p["W1"], "cols") is expect_constant


def test_update_resolvability_separates_absorbed_from_real_updates():
    """An untied gradient of 1e-12 on float32 weights of 0.3 (ulp 3e-8) is absorbed by rounding; one of
    1e-3 unties the row; in float64 the tiny one is resolvable."""
    w = np.full((2, 3), -0.3, dtype=np.float32)
    tiny = {"W1": np.array([[1e-12, 2e-12, 3e-12]] * 2, dtype=np.float32)}
    big = {"W1": np.array([[1e-3, 2e-3, 3e-3]] * 2, dtype=np.float32)}
    sgd = make_optimizer("sgd", lr=0.05)
    assert not oracles.update_unties_rows(sgd, {"W1": w}, tiny, "W1")
    assert oracles.update_unties_rows(sgd, {"W1": w}, big, "W1")
    assert oracles.update_unties_rows(sgd, {"W1": w.astype(np.float64)}, {"W1": tiny["W1"].astype(np.float64)}, "W1")
    assert sgd.steps == 0  # replayed on a copy: the optimizer's state is untouched


def test_untied_structure_property_catches_an_update_that_keeps_rows_tied():
    """Mutation self-test: an optimizer that gives every entry of a row the row's mean update keeps W_1
    tied although the exact update unties it; the property must fail on it (and pass unmutated)."""
    from invariants.reference.optimizers import Optimizer

    class RowMean(Optimizer):
        def step(self, params, grads):
            g = dict(grads)
            g["W1"] = np.repeat(grads["W1"].mean(axis=1, keepdims=True), grads["W1"].shape[1], axis=1)
            return super().step(params, g)

    cfg = {"sizes": (3, 4, 4, 2), "loss": "mse", "weight": 0.5, "biases": [0.1, 0.1, 0.1], "activation": "tanh",
           "optimizer": "sgd", "dtype": "float64", "steps": 4, "seed": 7}
    grad_rows_01.untied_structure_property({}, max_examples=1).hypothesis.inner_test(cfg)
    with pytest.raises(AssertionError, match="though the update unties them"):
        grad_rows_01.untied_structure_property({}, make_opt=lambda name, **kw: RowMean(name, **kw),
                                      max_examples=1).hypothesis.inner_test(cfg)


def test_gradient_step_descends_only_off_stationary_points():
    """The line-search oracle: a random net descends; a stationary point (zero weights, relu, zero biases,
    zero targets: every gradient is exactly 0) does not."""
    arch = Architecture((3, 4, 2), "tanh", "mse")
    x, t = networks.make_data(arch, 8, 1)
    params = random_params(arch, np.random.default_rng(1))
    assert oracles.gradient_step_descends(arch, params, x, t)
    flat = Architecture((3, 4, 2), "relu", "mse")
    assert not oracles.gradient_step_descends(flat, init_params(flat, 0.0, 0.0), x, np.zeros_like(t))


def test_fp_evidence_oracles():
    runs = fp_01.fp_runs()
    nudged = fp_01.nudged_run("float64", "adam", 300)
    assert nudged.first_untied == 1 and nudged.max_defect >= 0.1 and nudged.reached_at < 300
    assert runs[("tied", "float64", "adam")].first_untied is None


def test_real_data_is_split_and_standardized():
    pytest.importorskip("sklearn")
    xtr, ytr, xte, yte = real_data.real_data("iris")
    assert xtr.shape == (105, 4) and xte.shape == (45, 4)
    assert np.allclose(xtr.mean(axis=0), 0.0, atol=1e-12) and np.allclose(xtr.std(axis=0), 1.0)
    assert set(np.unique(ytr)) == {0, 1, 2}


def test_real_data_evidence_reports_a_missing_sklearn(monkeypatch):
    import sys

    real_data.real_data.cache_clear()
    real_data.real_data_run.cache_clear()
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    try:
        result = next(e for e in get("SYM-POOR-01").evidence if e.name.startswith("iris")).fn()
        assert not result.passed and "scikit-learn is not installed" in result.detail
    finally:
        real_data.real_data.cache_clear()
        real_data.real_data_run.cache_clear()
