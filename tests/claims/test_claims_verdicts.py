"""Issue 15, verdict semantics on the claims the ``verdicts`` helper owns: which verdict each precise statement
gets, the readings of the ambiguous seed sentences with their verdicts, the scopes, "proved" meaning every size
(VAR-ORTHO-01's index-free proof), VAR-TORCHDEFAULT-01 verified by auditing torch's code, and the new evidence
functions, each passing on the real premise and failing on its mutant with the cause named."""
from __future__ import annotations

import pytest
import sympy as sp

from invariants.claims import Verdict, get
from invariants.symbolic import variance as symvar

#: claim → (verdict of the precise statement, verdicts of its readings in order; () when it has none)
EXPECTED = {
    "BIAS-EFFECT-01": (Verdict.REFUTED, (Verdict.REFUTED, Verdict.VERIFIED)),
    "BIAS-INPUT-01": (Verdict.VERIFIED, (Verdict.VERIFIED, Verdict.REFUTED)),
    "DEF-LEARNABLE-01": (Verdict.VERIFIED, ()),
    "DEF-WEIGHT-01": (Verdict.VERIFIED, (Verdict.VERIFIED, Verdict.REFUTED)),
    "SYM-GRAD-01": (Verdict.VERIFIED, (Verdict.REFUTED, Verdict.VERIFIED, Verdict.VERIFIED)),
    "SYM-ROWS-01": (Verdict.VERIFIED, (Verdict.CONDITIONAL, Verdict.CONDITIONAL, Verdict.VERIFIED)),
    "SYM-SIGNAL-01": (Verdict.VERIFIED, ()),
    "SYM-SIGNAL-02": (Verdict.VERIFIED, (Verdict.VERIFIED, Verdict.REFUTED)),
    "SYM-UPDATE-01": (Verdict.VERIFIED, (Verdict.REFUTED, Verdict.VERIFIED, Verdict.VERIFIED)),
    "SYM-ZERO-FWD-01": (Verdict.VERIFIED, (Verdict.VERIFIED, Verdict.REFUTED)),
    "SYM-ZERO-GRAD-01": (Verdict.VERIFIED, ()),
    "VAR-FANIN-01": (Verdict.REFUTED, (Verdict.REFUTED, Verdict.VERIFIED)),
    "VAR-GAINS-01": (Verdict.VERIFIED, ()),
    "VAR-GLOROT-01": (Verdict.PROVED, ()),
    "VAR-HE-01": (Verdict.PROVED, ()),
    "VAR-ORTHO-01": (Verdict.PROVED, ()),
    "VAR-PROP-01": (Verdict.VERIFIED, ()),
    "VAR-TORCHDEFAULT-01": (Verdict.VERIFIED, ()),
    "VAR-TRUNC-01": (Verdict.PROVED, ()),
}


def _evidence(claim_id: str, name_start: str):
    (ev,) = [e for e in get(claim_id).evidence if e.name.startswith(name_start)]
    return ev


@pytest.mark.parametrize("claim_id", EXPECTED)
def test_verdicts_readings_and_scope(claim_id):
    claim = get(claim_id)
    verdict, readings = EXPECTED[claim_id]
    assert claim.verdict is verdict
    assert tuple(r.verdict for r in claim.readings) == readings
    assert len(claim.scope) > 20, f"{claim_id}: the scope must say which architectures/optimizers/sizes"


def test_no_statement_here_is_conditional():
    """Every precise statement in these files is simply true (or false) in its scope; the ambiguity of a seed
    sentence lives in the readings, never in a 'conditional' verdict of the statement."""
    assert [cid for cid in EXPECTED if get(cid).verdict is Verdict.CONDITIONAL] == []


def test_proved_statements_name_every_size():
    for cid in ("VAR-GLOROT-01", "VAR-HE-01", "VAR-ORTHO-01", "VAR-TRUNC-01"):
        assert "For every" in get(cid).statement, cid


def test_readings_name_the_known_ambiguities():
    fanin = [r.reading for r in get("VAR-FANIN-01").readings]
    assert "Glorot" in fanin[0] and "Caffe" in fanin[1] and "FAN_IN" in fanin[1]
    rows = [r.reading for r in get("SYM-ROWS-01").readings]
    assert "incoming" in rows[0] and "outgoing" in rows[1]
    effect = [r.reading for r in get("BIAS-EFFECT-01").readings]
    assert effect[0].startswith("literal") and effect[1].startswith("charitable")


#: (claim, evidence name start, phrases of its detail, phrases of its mutant's detail): the new evidence passes
#: on the real premise and its mutant fails, each detail naming the cause.
NEW_EVIDENCE = [
    ("VAR-ORTHO-01", "SymPy, index-free", ("index-free", "= gain²/max(rows, cols)"),
     ("QᵀQ = 2·I_k", "≠ gain²/max")),
    ("VAR-FANIN-01", "Caffe's XavierFiller", ("Var = 1/fan_in", "std·√fan_in = 1"),
     ("AVERAGE", "depends on fan_in, fan_out")),
    ("BIAS-EFFECT-01", "zero biases: the output at init", ("bit for bit",),
     ("biases 0.001 changed the output at init",)),
    ("DEF-WEIGHT-01", "the network output's sensitivity", ("held fixed", "depends on every path"),
     ("did not depend on the other weights", "identity")),
    ("SYM-ROWS-01", "last hidden layer", ("(True, True)", "output units' errors differ"), ("stayed equal",)),
]


@pytest.mark.parametrize("claim_id, name, good, bad", NEW_EVIDENCE, ids=[c[0] for c in NEW_EVIDENCE])
def test_new_evidence_passes_and_its_mutant_fails(claim_id, name, good, bad):
    ev = _evidence(claim_id, name)
    ok, mutated = ev.fn(), ev.mutant.fn()
    assert ok.passed and all(p in ok.detail for p in good), ok.detail
    assert not mutated.passed and all(p in mutated.detail for p in bad), mutated.detail


# ---- VAR-ORTHO-01: index-free, every size ----------------------------------------------------------------------


def test_orthogonal_identities_hold_for_symbolic_shapes_and_fail_on_a_wrong_premise():
    good = symvar.orthogonal_identities()
    assert good.norm_defect == 0 and good.deep_norm_defect == 0 and good.wide_trace_gap != 0
    assert good.mean_square_tall == symvar.gain**2 / symvar.rows
    assert good.mean_square_wide == symvar.gain**2 / symvar.cols
    bad = symvar.orthogonal_identities(sp.Integer(2))  # columns of norm √2
    assert bad.norm_defect != 0 and bad.deep_norm_defect != 0


def test_log_norm_spread_formula():
    """(L/4)·ψ₁(N/2) → L/(2N): the statement's √(L/(2N)), not √(2L/N)."""
    from invariants.claims.variance.ortho_01 import log_norm_spread_variance

    for n, depth in ((16, 4), (256, 10), (4096, 50)):
        assert log_norm_spread_variance(n, depth) / (depth / (2 * n)) == pytest.approx(1, abs=1.5 / n)
    ev = _evidence("VAR-ORTHO-01", "Gaussian weights")
    ok = ev.fn()
    assert ok.passed and "ψ₁(N/2)" in ok.detail
    bad = ev.mutant.fn()
    assert not bad.passed and "0.50000" in bad.detail  # 2L/N at N = 16, L = 4: four times the variance


# ---- VAR-TORCHDEFAULT-01: verified by auditing torch's code ------------------------------------------------------


def test_torch_default_audit_reads_the_code_and_audits_the_weights():
    pytest.importorskip("torch")
    ev = _evidence("VAR-TORCHDEFAULT-01", "torch's code calls")
    ok = ev.fn()
    assert ok.passed, ok.detail
    assert "Linear.reset_parameters calls kaiming_uniform_(…, a=math.sqrt(5)): yes" in ok.detail
    assert "_ConvNd.reset_parameters calls" in ok.detail and ok.detail.count("all pass") == 2
    assert "/root" not in ok.detail and "site-packages" not in ok.detail  # no machine path reaches the docs
    bad = ev.mutant.fn()  # He uniform: Var 2/fan_in, six times torch's default
    assert not bad.passed and bad.detail.count("FAIL moment_variance") == 2 and "Var 5.99" in bad.detail


# ---- readings' new evidence ---------------------------------------------------------------------------------------
