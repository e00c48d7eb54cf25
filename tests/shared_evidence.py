"""Evidence results computed once per test session and shared by every xdist worker.

Every claim's evidence runs in ``tests/claims/test_evidence_mutants.py`` (beside its mutant), again in the
claim families' own tests (``test_claims_*.py``: passes, detail carries figures), and the docs tests need a
verify report of every claim: each evidence ran up to three times per session, the docs fixture alone
17–27 s, the suite's longest item (issue 17, item 5).  :class:`EvidenceStore` keeps each evidence's
:class:`~invariants.claims.registry.EvidenceResult` as one small JSON file in the session's shared temporary
folder (one per test run, shared by the xdist workers); :meth:`EvidenceStore.result` runs an evidence
only when no test of the session has yet; :func:`session_report` builds the verify report from the store, running
just the evidence no test has run yet.  Each evidence is computed under its own file lock, so two workers
that reach the same evidence at once (the docs fixture on one, a claim test on the other) run it once: the
second waits and reads the first one's result.

Results are reused only within one run of one code tree: the folder is the run's own temporary folder, so
nothing can leak from an older run.  Every evidence is deterministic (derandomized Hypothesis, fixed seeds),
which is what makes a stored result the same as a fresh one; under ``HYPOTHESIS_PROFILE=flake`` evidence
draws fresh examples, so nothing is stored or reused there.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from invariants.claims.registry import Claim, Evidence, EvidenceResult
from invariants.hypothesis_profiles import FRESH_SEEDS
from invariants.verify import ClaimOutcome, VerifyReport, one_blas_thread, run_evidence


class EvidenceStore:
    """Evidence results of this test session, one JSON file per (claim, evidence) under ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, claim_id: str, evidence: Evidence) -> Path:
        key = hashlib.sha256(f"{claim_id}\0{evidence.kind}\0{evidence.name}".encode()).hexdigest()[:24]
        return self.root / f"{claim_id}-{key}.json"

    def computed(self, claim_id: str, evidence: Evidence, compute: Callable[[], Any]) -> Any:
        """The stored result, else ``compute()`` (exceptions propagate) stored: under this evidence's lock, so
        a worker that asks while another computes it waits for that result instead of computing it too."""
        stored = self.get(claim_id, evidence)
        if stored is not None:
            return stored
        with self.locked(self._path(claim_id, evidence).with_suffix(".lock")):
            stored = self.get(claim_id, evidence)  # computed by another worker while this one waited
            if stored is not None:
                return stored
            result = compute()
            self.put(claim_id, evidence, result)
            return result

    def put(self, claim_id: str, evidence: Evidence, result: Any) -> None:
        """Keep ``result`` if it is an :class:`EvidenceResult` (written atomically: a reader never sees half)."""
        if FRESH_SEEDS or not isinstance(result, EvidenceResult):
            return
        path = self._path(claim_id, evidence)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"name": evidence.name, "passed": bool(result.passed), "detail": result.detail}),
                       encoding="utf-8")
        os.replace(tmp, path)

    def get(self, claim_id: str, evidence: Evidence) -> EvidenceResult | None:
        """The stored result, or ``None`` when no test of this session has run this evidence."""
        if FRESH_SEEDS:
            return None
        try:
            data = json.loads(self._path(claim_id, evidence).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return EvidenceResult(data["passed"], data["detail"]) if data["name"] == evidence.name else None

    def result(self, claim_id: str, evidence: Evidence) -> Any:
        """``evidence.fn()``, computed once per session: the stored result when a test (on any worker) already
        ran this evidence, else run now (exceptions propagate, as from ``fn()``) and stored.  For tests that
        run the evidence as registered; a test that patches anything first calls ``fn()`` itself."""
        return self.computed(claim_id, evidence, evidence.fn)

    @contextlib.contextmanager
    def locked(self, path: Path) -> Iterator[None]:
        """The lock file ``path``, held by one process at a time (``fcntl.flock``; no lock where ``fcntl`` is
        missing: each worker then computes what it lacks itself, which is slower but the same)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        with open(path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def session_report(store: EvidenceStore, claims: Sequence[Claim]) -> VerifyReport:
    """The verify report of ``claims`` (registry order): stored results where a test already ran the evidence,
    the rest run now (as :func:`invariants.verify.run_claim` runs them) and stored.  Timings are 0: the
    pages drop them."""
    def run(ev: Evidence) -> Any:
        with one_blas_thread():
            return run_evidence(ev)

    outcomes = []
    for claim in claims:
        results = [(ev, store.computed(claim.id, ev, lambda ev=ev: run(ev))) for ev in claim.evidence]
        outcomes.append(ClaimOutcome(claim=claim, results=results, seconds=0.0))
    return VerifyReport(outcomes=outcomes)


def shared_folder(tmp_path_factory: Any) -> Path:
    """This test run's folder shared by its xdist workers (the parent of a worker's base temporary folder),
    or the base temporary folder without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
