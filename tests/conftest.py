"""Test-suite setup: load the Hypothesis profile named by $HYPOTHESIS_PROFILE (default ``ci``).

``ci`` is derandomized with no example database, so a run is reproducible; ``explore`` hunts for
counterexamples with random seeds (``HYPOTHESIS_PROFILE=explore python3 -m pytest``).
"""
from __future__ import annotations

import os

from hypothesis import settings

import invariants.hypothesis_profiles  # noqa: F401  (registers the profiles)

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
