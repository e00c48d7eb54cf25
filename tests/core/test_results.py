"""The common result vocabulary (:mod:`invariants.core.results`): verify, audit, identify and check-model
results all offer ``.ok``, ``.findings`` in one shape, ``.to_dict()`` with ``ok``, and a readable ``str``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from invariants.audit.auditor import AuditReport, AuditResult, skipped_result
from invariants.audit.fingerprint import Fingerprint
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict
from invariants.core.results import ERROR, NOTE, FindingLike, Result
from invariants.modelcheck.report import Finding as ModelFinding
from invariants.modelcheck.report import ModelReport
from invariants.verify import run_claims

ROOT = Path(__file__).resolve().parents[2]


def _claim(cid: str, passed: bool) -> Claim:
    ev = Evidence("property", "e1", lambda: EvidenceResult(passed, "the detail"))
    return Claim(id=cid, title="t", seed_quotes=("q",), statement="s", verdict=Verdict.PROVED, evidence=(ev,),
                 conditions=(), derivation="d")


def _deviating(target: str) -> AuditResult:
    return AuditResult(target, "dense(300,100)", (100, 300), (300, 100), (300, 100), "he_normal", 2 / 300, 1 / 300,
                       1000, [], 0.01, "deviates", "variance is half the expected")


def _results(ok: bool) -> list[Result]:
    verify = run_claims([_claim("T-A-01", True), _claim("T-B-01", ok)])
    audit = AuditReport(results=[skipped_result("jax", "jax: skipped: pip install jax")]
                        + ([] if ok else [_deviating("my_init")]))
    fp = Fingerprint(None, ok, warning="the layers cannot tell fan_in from fan_avg")
    model = ModelReport("m", "reference", "fast", findings=[ModelFinding(NOTE, "variance", ("w1",), "no scheme")]
                        + ([] if ok else [ModelFinding(ERROR, "dead-units", ("w2", "b2"), "3 dead units")]))
    return [verify, audit, fp, model]


@pytest.mark.parametrize("ok", [True, False])
def test_every_result_speaks_the_vocabulary(ok):
    for result in _results(ok):
        name = type(result).__name__
        assert isinstance(result, Result), name
        assert result.ok is ok, name
        assert all(isinstance(f, FindingLike) for f in result.findings), name
        # errors decide ok; notes never do
        assert any(f.severity == ERROR for f in result.findings) is (not ok), name
        data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        assert data["ok"] is ok, name
        text = str(result)
        assert text.splitlines()[0] and len(text.splitlines()) == 1 + len(result.findings), (name, text)


def test_findings_name_what_failed():
    verify, audit, fp, model = _results(ok=False)
    assert [(f.subject, f.kind) for f in verify.findings] == [("T-B-01", "property")]
    assert "the detail" in verify.findings[0].message
    assert [(f.severity, f.kind, f.subject) for f in audit.findings] == [
        (NOTE, "skipped", "jax"), (ERROR, "deviates", "my_init [dense(300,100)]")]
    assert [f.kind for f in fp.findings] == ["no-match", "warning"]
    assert [f.subject for f in model.findings] == ["w1", "w2, b2"]


def test_the_json_keeps_its_keys():
    verify, audit, fp, model = _results(ok=False)
    common = {"ok", "summary", "findings", "versions", "config"}  # the schema family (invariants/schemas)
    assert common | {"version", "passed", "total_seconds", "interrupted", "claims"} == set(verify.to_dict())
    assert verify.to_dict()["passed"] is False
    assert set(audit.to_dict()) == common | {"alpha", "total_alpha", "n_checks", "seconds", "interrupted", "results"}
    assert fp.to_dict()["matched"] is False and "spec" in fp.to_dict() and common <= set(fp.to_dict())
    assert model.to_dict()["healthy"] is False and common <= set(model.to_dict())
    for result in (verify, audit, fp, model):
        data = result.to_dict()
        assert data["ok"] is False and data["summary"] == result.summary
        assert [f["kind"] for f in data["findings"]] == [f.kind for f in result.findings]


def test_rendering_an_audit_loads_no_engine():
    """The render layer reads results by their attributes: drawing an audit table imports no claims."""
    code = ("import sys; from invariants.render import render_audit, render_verify, render_model; "
            "print(sorted(m for m in sys.modules if m.startswith(('invariants.claims', 'invariants.verify', "
            "'invariants.audit', 'invariants.modelcheck'))))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
