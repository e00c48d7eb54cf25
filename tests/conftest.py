"""Test-suite setup: load the Hypothesis profile named by $HYPOTHESIS_PROFILE (default ``ci``).

``ci`` is derandomized with no example database, so a run is reproducible; ``explore`` hunts for
counterexamples with random seeds (``HYPOTHESIS_PROFILE=explore python3 -m pytest``).

JAX/Keras programs go to the persistent compile cache (:mod:`invariants.frameworks.jax.compile_cache`,
also set up by the pytest plugin; repeated here so that ``-p no:invariants.pytest_plugin`` keeps it), so
each xdist worker and each run reads the programs the previous one compiled.

BLAS runs on one thread in every test process: the suite multiplies small matrices, and with ``-n 2`` on
two cores a multi-threaded BLAS only oversubscribes them (a 128×128 ``norm(·, 2)`` took 0.86 s instead of
7 ms at load 9); ``invariants verify`` runs its evidence the same way (:func:`invariants.verify.one_blas_thread`).

Fixture ``evidence_store``: the session's evidence results, shared by the xdist workers
(:mod:`shared_evidence`), so the docs tests reuse what ``tests/claims/test_evidence_mutants.py`` ran.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import settings

import invariants.hypothesis_profiles  # noqa: F401  (registers the profiles)
from invariants.frameworks.jax import compile_cache

from invariants.verify import one_blas_thread

compile_cache.configure()
_ONE_BLAS_THREAD = one_blas_thread()  # held for the whole session (a threadpoolctl limit stays until restored)

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def evidence_store(tmp_path_factory):
    from shared_evidence import EvidenceStore, shared_folder

    return EvidenceStore(shared_folder(tmp_path_factory) / "evidence")
