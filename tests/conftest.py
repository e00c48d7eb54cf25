"""Test-suite setup: load the Hypothesis profile named by $HYPOTHESIS_PROFILE (default ``ci``).

``ci`` is derandomized with no example database, so a run is reproducible; ``explore`` hunts for
counterexamples with random seeds (``HYPOTHESIS_PROFILE=explore python3 -m pytest``).

JAX/Keras programs go to the persistent compile cache (:mod:`invariants.core.compile_cache`,
also set up by the pytest plugin; repeated here so that ``-p no:invariants.pytest_plugin`` keeps it), so
each xdist worker and each run reads the programs the previous one compiled.

BLAS runs on one thread in every test process: the suite multiplies small matrices, and with ``-n 2`` on
two cores a multi-threaded BLAS only oversubscribes them (a 128×128 ``norm(·, 2)`` took 0.86 s instead of
7 ms at load 9); ``invariants verify`` runs its evidence the same way (:func:`invariants.verify.one_blas_thread`).
Torch's intra-op pool likewise (``OMP_NUM_THREADS=1`` unless set, read when torch is imported, after this file):
tv_resnet50's check took 6–8 CPU-s on two threads against 3.5 on one at load 6 (alone at load 1: 2.7–3.1 both).

Fixture ``evidence_store``: the session's evidence results, shared by the xdist workers
(:mod:`shared_evidence`), so the docs tests reuse what ``tests/claims/test_evidence_mutants.py`` ran.

Garbage collection: after collection a worker holds about a million objects (torch, JAX, Keras, SymPy and the
test modules), all alive to the end, and every full collection walked them again.  :func:`pytest_collection_finish`
collects once and freezes what survives (``gc.freeze``: moved to a permanent generation no collection walks;
refcounting still frees it) and raises the young generation's threshold from 700 to 10,000 allocations, so
collections come less often.  Measured with ``gc.callbacks`` (2026-12-06, load 4-6): tests/zoo, modelcheck,
frameworks and scaling on ``-n 2`` spent 10.8 CPU-s collecting (18 full collections per worker, pytest's 5 at exit
included), 5.2 after; a serial run's peak memory was unchanged (2.76 against 2.78 GB; a larger third threshold
changed nothing).  No result depends on when cyclic garbage is freed.
"""
from __future__ import annotations

import gc
import os

import pytest
from hypothesis import settings

import invariants.hypothesis_profiles  # noqa: F401  (registers the profiles)
from invariants.core import compile_cache

from invariants.verify import one_blas_thread

compile_cache.configure()
os.environ.setdefault("OMP_NUM_THREADS", "1")  # torch's intra-op threads (see the module docstring)
_ONE_BLAS_THREAD = one_blas_thread()  # held for the whole session (a threadpoolctl limit stays until restored)

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def evidence_store(tmp_path_factory):
    from shared_evidence import EvidenceStore, shared_folder

    return EvidenceStore(shared_folder(tmp_path_factory) / "evidence")


def pytest_collection_finish(session):
    """Freeze the objects alive after collection and collect young objects less often (module docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its own collection hook)
def pytest_collection_modifyitems(config, items):
    """Tests of one module that use one of its module-scoped fixtures (a framework's catalogue audit, the
    built docs site, a trained model) share an xdist group, so under ``--dist loadgroup`` (the README's test
    command and ``.ci/run``) the fixture is built once, not once per worker that happens to get one of the
    module's tests: each framework's catalogue audit was built twice (up to 170 s each under load).  Tests
    already in a group keep theirs."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        # pytest has no public accessor for an item's fixture definitions; _fixtureinfo is stable since 3.x
        info = getattr(item, "_fixtureinfo", None)
        defs = getattr(info, "name2fixturedefs", {}) if info is not None else {}
        module = item.nodeid.split("::")[0]  # the test file
        if module and any(d and d[-1].scope == "module" and d[-1].baseid.split("::")[0].endswith(".py")
                          for d in defs.values()):
            item.add_marker(pytest.mark.xdist_group(f"module-fixture-{module}"))
