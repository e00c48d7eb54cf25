"""The verify runner, on small hand-made claims (independent of the real claim families)."""
from __future__ import annotations

import json

import pytest

from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict
from invariants.verify import ClaimOutcome, VerifyReport, run_claims


def ok(detail: str = "fine") -> Evidence:
    return Evidence("symbolic", "ok", lambda: EvidenceResult(True, detail))


def bad(detail: str = "wrong") -> Evidence:
    return Evidence("property", "bad", lambda: EvidenceResult(False, detail))


def make_claim(cid: str, *evidence: Evidence, verdict: Verdict = Verdict.PROVED) -> Claim:
    return Claim(
        id=cid,
        title=f"title of {cid}",
        seed_quotes=("a quote from the seed",),
        statement=f"statement of {cid}",
        verdict=verdict,
        evidence=evidence,
        conditions=("finite width",),
        derivation="because",
    )


def test_all_passing_claims_pass():
    report = run_claims([make_claim("T-A-01", ok(), ok()), make_claim("T-B-01", ok())])
    assert isinstance(report, VerifyReport)
    assert report.ok
    assert [o.claim.id for o in report.outcomes] == ["T-A-01", "T-B-01"]
    assert all(o.passed for o in report.outcomes)
    assert report.outcomes[0].n_passed == 2


def test_one_failed_evidence_fails_the_claim_and_the_report():
    report = run_claims([make_claim("T-A-01", ok(), bad()), make_claim("T-B-01", ok())])
    assert not report.ok
    first, second = report.outcomes
    assert not first.passed and second.passed
    assert [ev.name for ev, _ in first.failures] == ["bad"]
    assert report.failed == [first]


def test_evidence_runs_in_order_and_all_run_after_a_failure():
    calls = []

    def rec(name, passed):
        def fn():
            calls.append(name)
            return EvidenceResult(passed, name)

        return Evidence("experiment", name, fn)

    run_claims([make_claim("T-A-01", rec("one", True), rec("two", False), rec("three", True))])
    assert calls == ["one", "two", "three"]


def test_raising_evidence_becomes_a_failed_result_with_a_one_line_detail():
    def boom():
        raise ValueError("first line\nsecond line")

    claim = make_claim("T-A-01", Evidence("counterexample", "boom", boom), ok())
    report = run_claims([claim])  # must not raise
    outcome = report.outcomes[0]
    (ev, result), (_, after) = outcome.results
    assert ev.name == "boom"
    assert result.passed is False
    assert "ValueError" in result.detail and "first line" in result.detail
    assert "\n" not in result.detail
    assert after.passed  # later evidence still ran
    assert not outcome.passed


def test_base_exceptions_other_than_keyboard_interrupt_are_caught():
    def exits():
        raise SystemExit(3)

    report = run_claims([make_claim("T-A-01", Evidence("experiment", "exits", exits))])
    assert not report.ok
    assert "SystemExit" in report.outcomes[0].results[0][1].detail

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_claims([make_claim("T-A-01", Evidence("experiment", "ctrl-c", interrupted))])


def test_a_non_result_return_value_is_a_failure():
    report = run_claims([make_claim("T-A-01", Evidence("symbolic", "none", lambda: None))])
    result = report.outcomes[0].results[0][1]
    assert not result.passed and "EvidenceResult" in result.detail


def test_progress_is_called_before_and_after_each_claim():
    events = []
    claims = [make_claim("T-A-01", ok()), make_claim("T-B-01", bad())]

    def record(index, total, claim, outcome):
        events.append((index, total, claim.id, None if outcome is None else outcome.passed))

    run_claims(claims, progress=record)
    assert events == [
        (1, 2, "T-A-01", None),
        (1, 2, "T-A-01", True),
        (2, 2, "T-B-01", None),
        (2, 2, "T-B-01", False),
    ]


def test_each_claim_is_timed():
    report = run_claims([make_claim("T-A-01", ok())])
    assert report.outcomes[0].seconds >= 0.0
    assert report.total_seconds >= report.outcomes[0].seconds


CLAIM_KEYS = {"id", "title", "seed_quotes", "statement", "verdict", "evidence", "seconds", "scope", "readings"}
EVIDENCE_KEYS = {"kind", "name", "passed", "detail", "mutant"}


def test_json_contract():
    report = run_claims(
        [
            make_claim("T-A-01", ok("proof holds"), bad("counterexample missing"), verdict=Verdict.REFUTED),
            make_claim("T-B-01", ok()),
        ]
    )
    data = report.to_dict()
    json.dumps(data)  # serializable as is
    assert isinstance(data["claims"], list) and len(data["claims"]) == 2
    assert data["passed"] is False
    first = data["claims"][0]
    assert CLAIM_KEYS <= set(first)
    assert first["id"] == "T-A-01"
    assert first["title"] == "title of T-A-01"
    assert first["seed_quotes"] == ["a quote from the seed"]
    assert first["statement"] == "statement of T-A-01"
    assert first["verdict"] == "refuted"
    assert isinstance(first["seconds"], float)
    assert first["passed"] is False
    assert [set(e) for e in first["evidence"]] == [EVIDENCE_KEYS, EVIDENCE_KEYS]
    assert first["evidence"] == [
        {"kind": "symbolic", "name": "ok", "passed": True, "detail": "proof holds", "mutant": None},
        {"kind": "property", "name": "bad", "passed": False, "detail": "counterexample missing", "mutant": None},
    ]
    assert data["claims"][1]["verdict"] == "proved"


def test_empty_run_is_vacuously_passed():
    report = run_claims([])
    assert report.ok and report.outcomes == []
    assert report.to_dict()["claims"] == []


def test_outcome_passed_is_all_evidence_passed():
    claim = make_claim("T-A-01", ok())
    outcome = ClaimOutcome(
        claim=claim,
        results=[
            (claim.evidence[0], EvidenceResult(True, "")),
            (claim.evidence[0], EvidenceResult(False, "")),
        ],
        seconds=0.0,
    )
    assert not outcome.passed and outcome.n_passed == 1


def test_evidence_examples_do_not_depend_on_loaded_modules(tmp_path):
    """Hypothesis mixes literals of loaded local modules into derandomized draws; evidence must not see
    them (else `invariants verify` inside pytest and on the command line quote different examples).
    The same derandomized property draws the same values before and after a local module full of
    integer literals is imported, inside the guard; outside it the draws change (the guard matters).
    Run in a fresh process: Hypothesis never forgets a collected literal, and this test must not change
    the draws of the other tests in this process."""
    import subprocess
    import sys

    (tmp_path / "lots_of_literals.py").write_text(
        "VALUES = [" + ", ".join(str(1_000_003 * k + 17) for k in range(1, 300)) + "]\n")
    script = tmp_path / "probe.py"
    script.write_text("""
import sys
from hypothesis import given, settings, strategies as st
from invariants.hypothesis_profiles import VERIFY, independent_of_loaded_modules

def draws():
    out = []

    @settings(VERIFY, max_examples=400)
    @given(st.integers(0, 2**32 - 1))
    def prop(n):
        out.append(n)

    prop()
    return out

with independent_of_loaded_modules():
    before = draws()
outside_before = draws()
import lots_of_literals
with independent_of_loaded_modules():
    after = draws()
outside_after = draws()
print(after == before, outside_after != outside_before)
""")
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"], out.stdout + out.stderr


# ------------------------------------------------------------------------------------------ parallel runs


PARALLEL_SCRIPT = """
import json, sys, time
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Verdict
from invariants.verify import parallel_jobs, run_claims

def claim(cid, *evidence):
    return Claim(id=cid, title=cid, seed_quotes=("q",), statement="s", verdict=Verdict.PROVED, evidence=evidence)

def slow(seconds, value):
    def fn():
        time.sleep(seconds)
        return EvidenceResult(value % 2 == 0, f"value {value}")
    return Evidence("property", f"slow {value}", fn)

def raises():
    raise RuntimeError("boom in a worker")

claims = [claim("T-SLOW-01", slow(0.5, 2)), claim("T-ODD-01", slow(0.0, 3)),
          claim("T-RAISE-01", Evidence("symbolic", "ok", lambda: EvidenceResult(True, "fine")),
                Evidence("property", "raises", raises)),
          claim("T-OK-01", Evidence("symbolic", "ok", lambda: EvidenceResult(True, "fine")))]
seen = []
parallel = run_claims(claims, progress=lambda i, n, c, o: seen.append([i, c.id, o is None]), jobs=2)
serial = run_claims(claims, jobs=1)

def strip(report):
    d = report.to_dict()
    d.pop("total_seconds")
    for c in d["claims"]:
        c.pop("seconds")
    return d

print(json.dumps({"jobs": parallel_jobs(2, 4), "same": strip(parallel) == strip(serial),
                  "order": [o.claim.id for o in parallel.outcomes], "seen": seen,
                  "raised": parallel.outcomes[2].results[1][1].detail}))
"""


def test_parallel_run_equals_the_serial_one_in_the_order_given(tmp_path):
    """Known-good: forked workers give the serial report, claims in the order given although the first
    finishes last; a failing and a raising piece of evidence come back as in a serial run.  Run in a fresh
    interpreter: this process may hold a threaded runtime (torch, JAX) that makes forking unsafe, where
    :func:`~invariants.verify.parallel_jobs` falls back to one process (next test)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "parallel.py"
    script.write_text(PARALLEL_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(root)})
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["jobs"] == 2 and got["same"], got
    assert got["order"] == ["T-SLOW-01", "T-ODD-01", "T-RAISE-01", "T-OK-01"]
    assert "boom in a worker" in got["raised"]
    assert len(got["seen"]) == 8 and got["seen"][-1][:2] == [4, "T-SLOW-01"]  # completion order


def test_parallel_jobs_falls_back_to_one_process_where_forking_is_unsafe(monkeypatch):
    import sys

    from invariants import verify

    monkeypatch.setattr(verify, "FORK_UNSAFE", ("a_threaded_runtime",))
    monkeypatch.setitem(sys.modules, "a_threaded_runtime", object())
    assert verify.parallel_jobs(4, 10) == 1
    monkeypatch.delitem(sys.modules, "a_threaded_runtime")
    assert verify.parallel_jobs(4, 3) == 3 and verify.parallel_jobs(None, 1) == 1
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        verify.parallel_jobs(0, 3)


def test_evidence_runs_with_blas_on_one_thread_and_the_limit_is_restored():
    """Known-good: inside a claim every BLAS library reports one thread (small products gain nothing from
    more, and a loaded machine made them 100× slower); known-bad: the same probe outside a claim, with the
    limit lifted, sees the library's own count restored (threadpoolctl restores it on exit)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    seen: list[list[int]] = []

    def probe() -> EvidenceResult:
        seen.append(blas_threads())
        return EvidenceResult(True, "probed")

    with threadpool_limits(limits=2, user_api="blas"):  # the suite's conftest holds 1; a known other count
        assert run_claims([make_claim("T-BLAS-01", Evidence("experiment", "probe", probe))], jobs=1).ok
        after = blas_threads()
    assert seen and seen[0] and set(seen[0]) == {1}
    assert set(after) == {2}


def test_the_kernels_compile_is_predicted_from_numbas_index_files(tmp_path, monkeypatch):
    """``invariants verify`` says "compiling ... once" only when it will compile: known-bad (compiles): an empty
    cache folder, and one whose index files are older than the kernel's source; known-good (loads): an index
    file, newer than the source, for every compiled function; and nothing to say with the numpy path."""
    import os
    import re
    import sys
    from pathlib import Path

    pytest.importorskip("numba")
    from invariants.reference import compiled
    from invariants.verify import kernel_compiles

    monkeypatch.delitem(sys.modules, "invariants.reference.numba_kernels", raising=False)
    monkeypatch.delenv("INVARIANTS_NO_COMPILED", raising=False)
    monkeypatch.delenv("INVARIANTS_NO_COMPILE_CACHE", raising=False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert kernel_compiles() == str(tmp_path)
    source = Path(compiled.__file__).with_name("numba_kernels.py")
    names = re.findall(r"^@njit\(cache=CACHE\)\ndef (\w+)", source.read_text(), flags=re.M)
    assert len(names) >= 5
    (tmp_path / "reference_x").mkdir()
    for name in names:
        index = tmp_path / "reference_x" / f"numba_kernels.{name}-1.py311.nbi"
        index.write_bytes(b"")
        os.utime(index, (source.stat().st_mtime - 10,) * 2)
    assert kernel_compiles() == str(tmp_path)  # stale: the source changed since
    for index in (tmp_path / "reference_x").iterdir():
        os.utime(index, None)
    assert kernel_compiles() is None
    monkeypatch.setenv("INVARIANTS_NO_COMPILED", "1")
    assert kernel_compiles() is None


def test_frozen_heap_collects_young_objects_less_often_and_restores_the_threshold():
    import gc

    from invariants import verify

    before = gc.get_threshold()
    with verify.frozen_heap():
        assert gc.get_threshold()[0] == max(before[0], verify.YOUNG_THRESHOLD)
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before


def test_frozen_heap_leaves_a_callers_frozen_objects_frozen():
    # gc.unfreeze gives back every frozen object: the runner must not undo a freeze it did not make (the suite's
    # conftest freezes ~1M collected objects per worker; tests then run verify in the same process).  Judged on
    # one object the caller froze (frozen objects are in no generation gc.get_objects lists), not on the count,
    # which falls as frozen objects die
    import gc

    from invariants import cli, verify

    def frozen(obj) -> bool:
        return not any(o is obj for o in gc.get_objects())

    mine = [object()]
    gc.freeze()
    try:
        assert frozen(mine)
        with verify.frozen_heap() as owned:
            assert owned is False
        assert frozen(mine)
        assert cli.main(["verify", "--list", "--only", "VAR-TRUNC-01"]) == 0
        assert frozen(mine)  # before the fix: unfrozen (the CLI's gc.unfreeze released the caller's objects)
    finally:
        gc.unfreeze()


def test_frozen_heap_owns_an_unfrozen_process_and_gives_back_what_it_froze():
    import gc

    from invariants import verify

    was = gc.get_freeze_count()
    gc.unfreeze()  # the state of a process nobody froze (the suite's conftest freeze, restored below)
    try:
        with verify.frozen_heap() as owned:
            assert owned is True and gc.get_freeze_count() > 0
            with verify.frozen_heap() as inner:  # nested (the CLI's around the runner's): only the outer unfreezes
                assert inner is True
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0
    finally:
        if was:
            gc.freeze()
