"""The session's evidence store (tests/shared_evidence.py): a stored result is returned instead of a rerun, only
for the same (claim, evidence); the docs' verify report runs exactly the evidence nobody ran yet."""
from __future__ import annotations

from shared_evidence import EvidenceStore, session_report

from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict


def _counting(name: str, passed: bool, calls: list[str]) -> Evidence:
    def fn() -> EvidenceResult:
        calls.append(name)
        return EvidenceResult(passed, f"{name}: 1 figure")
    return Evidence("experiment", name, fn)


def _claim(cid: str, *evidence: Evidence) -> Claim:
    return Claim(id=cid, title=cid, seed_quotes=("q",), statement="s", verdict=Verdict.VERIFIED, evidence=evidence)


def test_result_runs_once_then_reads_the_store(tmp_path):
    calls: list[str] = []
    ev = _counting("a", True, calls)
    store, other = EvidenceStore(tmp_path), EvidenceStore(tmp_path)  # another worker: same folder
    first = store.result("T-A-01", ev)
    again = other.result("T-A-01", ev)
    assert calls == ["a"] and first == again == EvidenceResult(True, "a: 1 figure")


def test_store_keys_by_claim_and_evidence_and_keeps_only_results(tmp_path):
    calls: list[str] = []
    store = EvidenceStore(tmp_path)
    ev, twin = _counting("a", True, calls), _counting("a", False, calls)
    store.result("T-A-01", ev)
    assert store.get("T-B-01", twin) is None  # another claim's evidence of the same name: not reused
    assert store.get("T-A-01", _counting("b", True, calls)) is None
    store.put("T-C-01", ev, "not a result")  # known-bad: a malformed return is never stored
    assert store.get("T-C-01", ev) is None


def test_session_report_runs_only_what_is_missing_in_registry_order(tmp_path):
    calls: list[str] = []
    a, b, c = _counting("a", True, calls), _counting("b", False, calls), _counting("c", True, calls)
    store = EvidenceStore(tmp_path)
    store.result("T-A-01", a)
    report = session_report(store, [_claim("T-A-01", a, b), _claim("T-B-01", c)])
    assert calls == ["a", "b", "c"]  # a once (by the test above), b and c by the report
    assert [o.claim.id for o in report.outcomes] == ["T-A-01", "T-B-01"]
    assert [(ev.name, r.passed) for o in report.outcomes for ev, r in o.results] == [
        ("a", True), ("b", False), ("c", True)]
    assert not report.ok and session_report(store, [_claim("T-B-01", c)]).ok and calls == ["a", "b", "c"]


def test_a_worker_that_asks_while_another_computes_waits_for_its_result(tmp_path):
    """Two workers (threads here; each opens its own lock file description, as two processes do) reach one
    evidence at once: it runs once, and the second gets the first one's stored result."""
    import threading

    calls: list[str] = []
    started, release = threading.Event(), threading.Event()

    def slow() -> EvidenceResult:
        calls.append("a")
        started.set()
        release.wait(10)
        return EvidenceResult(True, "a: 1 figure")

    ev = Evidence("experiment", "a", slow)
    got: dict[str, EvidenceResult] = {}
    first = threading.Thread(target=lambda: got.setdefault("first", EvidenceStore(tmp_path).result("T-A-01", ev)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: got.setdefault("second", EvidenceStore(tmp_path).result("T-A-01", ev)))
    second.start()
    second.join(0.3)
    assert second.is_alive(), "the second worker did not wait for the evidence being computed"
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["a"] and got["first"] == got["second"] == EvidenceResult(True, "a: 1 figure")
