"""Test-suite setup: load the Hypothesis profile named by $HYPOTHESIS_PROFILE (default ``ci``).

``ci`` is derandomized with no example database, so a run is reproducible; ``explore`` hunts for
counterexamples with random seeds (``HYPOTHESIS_PROFILE=explore python3 -m pytest``).

JAX/Keras programs go to the persistent compile cache (:mod:`invariants.frameworks.jax.compile_cache`,
also set up by the pytest plugin; repeated here so that ``-p no:invariants.pytest_plugin`` keeps it), so
each xdist worker and each run reads the programs the previous one compiled.
"""
from __future__ import annotations

import os

from hypothesis import settings

import invariants.hypothesis_profiles  # noqa: F401  (registers the profiles)
from invariants.frameworks.jax import compile_cache

compile_cache.configure()

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
