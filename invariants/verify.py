"""Run claims' evidence and collect the outcome.

:func:`run_claims` runs every evidence function of every claim, timing each claim, in one process or
(``jobs > 1``) in forked worker processes (tasks: :func:`invariants.claims.schedule.plan`); the report lists the claims in the order given
either way, and the results are the same because every piece of evidence is deterministic.  An
evidence function that raises (or returns something other than an
:class:`~invariants.claims.registry.EvidenceResult`) becomes a *failed* result whose detail names the
exception; nothing propagates out of the runner except ``KeyboardInterrupt``.

The runner prints nothing: callers observe it through the ``progress`` callback and render the
returned :class:`VerifyReport` (see :mod:`invariants.render.verify`).  The report follows the common
result vocabulary (:mod:`invariants.core.results`): ``.ok``, ``.findings`` (one per failed piece of
evidence), ``.to_dict()``, ``str()``.

JSON contract of :meth:`VerifyReport.to_dict` (``ok`` equals ``passed``; ``ok``, ``summary``, ``findings``,
``versions``, ``config`` are the common keys, :func:`invariants.core.results.common_fields`; schema
``invariants/schemas/verify.json``)::

    {"ok": bool, "summary": str, "findings": [{"severity", "kind", "subject", "message"}],
     "versions": {"invariants", "python", "numpy", "frameworks": {}}, "config": {"only", "jobs"},
     "version": str, "passed": bool, "total_seconds": float, "interrupted": bool,
     "claims": [{"id", "title", "seed_quotes": [str], "statement", "conditions": [str], "scope": str,
                 "verdict": "proved" | "verified" | "conditional" | "refuted",
                 "readings": [{"reading", "verdict", "evidence": [evidence name]}], "derivation",
                 "evidence": [{"kind", "name", "passed", "detail", "mutant": str | None}],
                 "passed": bool, "seconds": float}]}
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from invariants.claims.registry import Claim, Evidence, EvidenceResult
from invariants.core.results import Finding, common_fields, describe, package_version

#: Called as ``progress(index, total, claim, outcome)``: once before a claim runs with
#: ``outcome=None``, once after with its :class:`ClaimOutcome`.  ``index`` counts from 1.
ProgressCallback = Callable[[int, int, Claim, Optional["ClaimOutcome"]], None]

_MAX_DETAIL = 500


def _one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    """``text`` with all whitespace runs collapsed to single spaces, cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run_evidence(evidence: Evidence) -> EvidenceResult:
    """Run one evidence function; any exception or malformed return becomes a failed result."""
    try:
        result = evidence.fn()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001  evidence must report, never crash verify
        message = _one_line(str(exc))
        name = type(exc).__name__
        detail = f"evidence raised {name}: {message}" if message else f"evidence raised {name}"
        return EvidenceResult(False, detail)
    if not isinstance(result, EvidenceResult):
        return EvidenceResult(
            False, _one_line(f"evidence returned {type(result).__name__} {result!r}, not an EvidenceResult")
        )
    return result


@dataclass(frozen=True)
class ClaimOutcome:
    """The result of running one claim's evidence."""

    claim: Claim
    results: list[tuple[Evidence, EvidenceResult]]
    seconds: float

    @property
    def passed(self) -> bool:
        """True when every piece of evidence passed (supports the registered verdict)."""
        return all(result.passed for _, result in self.results)

    @property
    def n_passed(self) -> int:
        return sum(1 for _, result in self.results if result.passed)

    @property
    def failures(self) -> list[tuple[Evidence, EvidenceResult]]:
        return [(ev, result) for ev, result in self.results if not result.passed]

    def to_dict(self) -> dict[str, Any]:
        claim = self.claim
        return {
            "id": claim.id,
            "title": claim.title,
            "seed_quotes": list(claim.seed_quotes),
            "statement": claim.statement,
            "conditions": list(claim.conditions),
            "scope": claim.scope,
            "verdict": claim.verdict.value,
            "readings": [{"reading": r.reading, "verdict": r.verdict.value, "evidence": list(r.evidence)}
                         for r in claim.readings],
            "derivation": claim.derivation,
            "evidence": [
                {"kind": ev.kind, "name": ev.name, "passed": bool(result.passed), "detail": result.detail,
                 "mutant": ev.mutant.what if ev.mutant else None}
                for ev, result in self.results
            ],
            "passed": self.passed,
            "seconds": round(self.seconds, 6),
        }


@dataclass(frozen=True)
class VerifyReport:
    """Outcomes of a verify run, in the order the claims ran.

    Attributes:
        outcomes: one per claim run.
        total_seconds: wall time.
        config: how it ran, the JSON's ``config``: ``run_claims`` sets ``compiled`` (whether the exact kernel's
            compiled accelerator was in use: :func:`warm_kernel`; the results are the same bits either way),
            the CLI adds how it was asked to run (``{"only": [...], "jobs": N or None}``); the same for any
            number of workers.
        interrupted: the run was stopped (Ctrl-C) before every claim ran: ``outcomes`` holds the finished ones.
    """

    outcomes: list[ClaimOutcome] = field(default_factory=list)
    total_seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        """True when every claim's evidence all passed (never for an interrupted run)."""
        return not self.interrupted and all(outcome.passed for outcome in self.outcomes)

    @property
    def summary(self) -> str:
        """``verify: N claims, k OK, f FAIL`` (``, interrupted`` when stopped early)."""
        n, n_fail = len(self.outcomes), len(self.failed)
        return (f"verify: {n} claim{'s' if n != 1 else ''}, {n - n_fail} OK, {n_fail} FAIL"
                + (", interrupted" if self.interrupted else ""))

    @property
    def failed(self) -> list[ClaimOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    @property
    def findings(self) -> list[Finding]:
        """One error per failed piece of evidence: subject the claim ID, kind the evidence kind."""
        return [Finding(outcome.claim.id, ev.kind, f"{ev.name}: {result.detail or '(no detail)'}")
                for outcome in self.failed for ev, result in outcome.failures]

    def to_dict(self) -> dict[str, Any]:
        from invariants import __version__

        common = common_fields(self.ok, self.summary, self.findings, self.config)
        common["versions"]["numba"] = package_version("numba")  # the exact kernel's accelerator (config: compiled)
        return {
            **common,
            "version": __version__,
            "passed": self.ok,
            "total_seconds": round(self.total_seconds, 6),
            "interrupted": self.interrupted,
            "claims": [outcome.to_dict() for outcome in self.outcomes],
        }

    def __str__(self) -> str:
        """A summary line and one line per failed piece of evidence (the table: :mod:`invariants.render`)."""
        return describe(self.summary, self.findings)


def one_blas_thread() -> Any:
    """Context limiting the BLAS libraries (OpenBLAS, MKL; via ``threadpoolctl``) to one thread.

    The evidence multiplies small matrices (width ≤ 256): a multi-threaded BLAS gains nothing there and, on
    a loaded machine, its spinning threads made one 128×128 ``norm(·, 2)`` take 0.86 s instead of 7 ms; with
    ``jobs`` worker processes the cores are already used.  One thread also fixes the summation order of a
    BLAS product, so an evidence's figures cannot depend on the machine's core count.
    """
    from invariants.core.blas import one_thread

    return one_thread()  # threadpool_limits, with its library scan cached (see invariants.core.blas)


def run_claim(claim: Claim) -> ClaimOutcome:
    """Run every evidence function of ``claim`` in order (BLAS on one thread: :func:`one_blas_thread`) and
    time the whole claim."""
    start = time.perf_counter()
    with one_blas_thread():
        results = [(ev, run_evidence(ev)) for ev in claim.evidence]
    return ClaimOutcome(claim=claim, results=results, seconds=time.perf_counter() - start)


#: modules whose threads make forking the process unsafe (their runtimes warn or can deadlock): with one of
#: them imported, :func:`run_claims` runs serially
FORK_UNSAFE = ("torch", "jax", "tensorflow", "mlx")

# the claims of the current parallel run, set before the pool forks so workers inherit them
_FORKED: list[Claim] = []


def _run_forked(task: list[int]) -> list[tuple[list[EvidenceResult], float]]:
    out = []
    for index in task:
        outcome = run_claim(_FORKED[index])
        out.append(([result for _, result in outcome.results], outcome.seconds))
        gc.freeze()  # what the claim left (imports such as torch, cached derivations): see frozen_heap
    return out


def parallel_jobs(jobs: int | None, n_claims: int) -> int:
    """Worker processes :func:`run_claims` uses: ``jobs`` (``None``: the CPUs this process may use),
    at most one per claim, and 1 where forking is unavailable or unsafe (no ``fork`` start method, or a
    module of :data:`FORK_UNSAFE` already imported).

    Raises:
        ValueError: ``jobs`` < 1.
    """
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if jobs is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if "fork" not in multiprocessing.get_all_start_methods() or any(m in sys.modules for m in FORK_UNSAFE):
        return 1
    return max(1, min(jobs, n_claims))


def run_claims(claims: Iterable[Claim], progress: ProgressCallback | None = None, jobs: int | None = 1) -> VerifyReport:
    """Run the evidence of each claim; report progress through ``progress`` if given.

    Args:
        claims: the claims, in the order the report lists them.
        progress: called before and after each claim (in completion order when parallel).
        jobs: worker processes (``None``: one per CPU); see :func:`parallel_jobs` for when it falls back
            to 1.  Workers are forked, so they run the very claim objects given (registered or not); the
            tasks they take are :func:`invariants.claims.schedule.plan`'s (claims that share cached work
            run in one worker; the heaviest start first).

    Raises:
        ValueError: ``jobs`` < 1.
    """
    with frozen_heap() as owned:
        return _run_claims(list(claims), progress, jobs, owned)


#: allocations between two young-generation collections while claims run (:func:`frozen_heap`)
YOUNG_THRESHOLD = 20000


@contextmanager
def frozen_heap() -> Iterator[bool]:
    """Context that moves every object alive on entry out of the garbage collector's reach
    (``gc.freeze``) and gives them back on exit (``gc.unfreeze``); it yields whether this process's frozen
    generation is the context's to use (``owned``: callers may ``gc.freeze`` more inside it).

    Why: the claims' modules bring SymPy, SciPy, Hypothesis (and some torch) into the heap before any
    evidence runs, and every full collection during the run scanned all of it again, in each worker
    (measured with ``gc.callbacks``, ``--jobs 1`` at load 10: collections took 2.2 s of the run before,
    0.9 s after).  The runner freezes
    again after each claim (what it imported or cached stays); objects made by a claim's evidence are
    collected as usual while it runs.  Forked workers inherit the frozen heap, which also spares them the
    copy-on-write of pages the collector would otherwise touch.  Results cannot change: the collector only
    reclaims unreachable cycles.

    ``gc.unfreeze`` cannot tell whose objects it gives back, so the context never freezes or unfreezes where
    someone else froze first (``gc.get_freeze_count() > 0`` on entry outside this context: a test runner that
    froze its collected modules, a program embedding the CLI); it yields ``False`` there and leaves their
    frozen generation as it was.  Nested in itself (the CLI's around the runner's) only the outermost
    unfreezes.  Inside the context the young generation is collected every :data:`YOUNG_THRESHOLD`
    allocations (or the caller's threshold, if larger).
    """
    outermost = not _HEAP[0]
    owned = not outermost or gc.get_freeze_count() == 0
    if owned:
        gc.freeze()
        _HEAP[0] = True
    # the evidence makes millions of small short-lived objects (a training step makes dozens): collecting
    # every 700 allocations ran ~1000 young-generation collections a run (0.32 s of 14 CPU-s, measured with
    # gc.callbacks); every 20000, ~30 (0.11 s); restored on exit
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], YOUNG_THRESHOLD), *threshold[1:])
    try:
        yield owned
    finally:
        gc.set_threshold(*threshold)
        if owned and outermost:
            gc.unfreeze()
            _HEAP[0] = False


# whether a frozen_heap context of this process holds the frozen generation now
_HEAP = [False]


def kernel_compiles() -> str | None:
    """Whether loading the exact kernel's compiled accelerator (:mod:`invariants.reference.compiled`) will
    compile it in this process, and where it caches it: the cache folder (``"not cached"`` with
    ``INVARIANTS_NO_COMPILE_CACHE``), or ``None`` when it loads from the cache or is not used (numba not
    installed, ``INVARIANTS_NO_COMPILED``, already loaded).  Predicted from numba's index files
    (``numba_kernels.<function>-<line>.py<ver>.nbi``, one per compiled function) being present and newer
    than :mod:`invariants.reference.numba_kernels`' source, which is what numba's cache checks."""
    import importlib.util

    from invariants.core import compile_cache
    from invariants.reference import compiled

    if compiled.disabled() or "invariants.reference.numba_kernels" in sys.modules \
            or importlib.util.find_spec("numba") is None:
        return None
    if compile_cache.disabled():
        return "not cached: INVARIANTS_NO_COMPILE_CACHE is set"
    folder = Path(os.environ.get("NUMBA_CACHE_DIR") or compile_cache.numba_cache_dir())
    source = Path(compiled.__file__).with_name("numba_kernels.py")
    stamp = source.stat().st_mtime
    functions = set(re.findall(r"^@njit\(cache=CACHE\)\ndef (\w+)", source.read_text(), flags=re.M))
    cached = {p.name.split(".")[1].rsplit("-", 1)[0] for p in folder.glob("*/numba_kernels.*.nbi")
              if p.stat().st_mtime >= stamp}
    return None if functions <= cached else str(folder)


def warm_kernel(on_compile: Callable[[str], None] | None = None) -> bool:
    """Load the exact kernel's compiled accelerator now (:func:`invariants.reference.compiled.warm`), before
    any claim's clock starts, so a first run's one-time compile (~2-7 s) is not charged to a claim's seconds;
    ``on_compile`` is called first with :func:`kernel_compiles`' folder when it will compile.  Returns
    whether the accelerator is in use (``False``: the numpy path, same bits)."""
    from invariants.reference import compiled

    if on_compile is not None:  # kernel_compiles reads the cache folder: only when someone is told
        folder = kernel_compiles()
        if folder is not None:
            on_compile(folder)
    return compiled.warm()


def _run_claims(claims: list[Claim], progress: ProgressCallback | None, jobs: int | None,
                freeze: bool = True) -> VerifyReport:
    total = len(claims)
    compiled = warm_kernel()  # loaded once (here for every forked worker too), before the claims' clocks start
    start = time.perf_counter()
    workers = parallel_jobs(jobs, total)
    if workers == 1:
        outcomes: list[ClaimOutcome] = []
        for index, claim in enumerate(claims, start=1):
            if progress is not None:
                progress(index, total, claim, None)
            outcome = run_claim(claim)
            outcomes.append(outcome)
            if freeze:
                gc.freeze()  # what the claim left (imports, cached derivations): see frozen_heap
            if progress is not None:
                progress(index, total, claim, outcome)
        return VerifyReport(outcomes=outcomes, total_seconds=time.perf_counter() - start, config={"compiled": compiled})

    from invariants.claims.schedule import plan

    global _FORKED
    _FORKED = claims
    done: dict[int, ClaimOutcome] = {}
    count = 0
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {pool.submit(_run_forked, task): task for task in plan([c.id for c in claims])}
            for future in as_completed(futures):
                for i, (results, seconds) in zip(futures[future], future.result()):
                    count += 1
                    claim = claims[i]
                    if progress is not None:
                        progress(count, total, claim, None)
                    done[i] = ClaimOutcome(claim=claim, results=list(zip(claim.evidence, results)), seconds=seconds)
                    if progress is not None:
                        progress(count, total, claim, done[i])
    finally:
        _FORKED = []
    return VerifyReport(outcomes=[done[i] for i in range(total)], total_seconds=time.perf_counter() - start,
                        config={"compiled": compiled})
