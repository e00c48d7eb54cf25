"""Hypothesis settings used by ``invariants verify`` and the test suite.

- ``ci``: derandomized (examples are a function of the test alone), no example database, no deadline:
  a CI run is reproducible and cannot flake.
- ``explore``: random seeds and more examples, for hunting counterexamples by hand
  (``HYPOTHESIS_PROFILE=explore pytest``).
Evidence functions inside ``verify`` always use :data:`VERIFY`, whatever profile is loaded.
"""
from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

settings.register_profile("ci", derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("explore", derandomize=False, max_examples=500, **_COMMON)

#: Settings for evidence run by ``invariants verify``: fixed examples, reproducible.  No shrinking:
#: evidence reports the first failing example at once (mutation self-tests fail fast; shrink a real
#: failure by rerunning the property under the ``explore`` profile).
VERIFY = settings(derandomize=True, max_examples=25, phases=(Phase.explicit, Phase.generate), **_COMMON)


def verify_settings(max_examples: int) -> settings:
    """:data:`VERIFY` with a different example count (heavier properties use fewer)."""
    return settings(VERIFY, max_examples=max_examples)
