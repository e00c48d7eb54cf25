"""Hypothesis settings used by ``invariants verify`` and the test suite.

- ``ci``: derandomized (examples are a function of the test alone), no example database, no deadline:
  a CI run is reproducible and cannot flake.
- ``explore``: random seeds and more examples, for hunting counterexamples by hand
  (``HYPOTHESIS_PROFILE=explore pytest``).
- ``flake``: fresh random seeds with the ``ci`` example counts, for the repeated-run flake check
  (``benchmarks/flake_check.py``); under it, and only under it, the evidence properties
  (:data:`VERIFY`) draw fresh seeds too, so repeated runs test the evidence on new examples.
Evidence functions inside ``verify`` always use :data:`VERIFY`, whatever profile is loaded (derandomized
except when ``HYPOTHESIS_PROFILE=flake`` is set in the environment).
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

settings.register_profile("ci", derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("explore", derandomize=False, max_examples=500, **_COMMON)
settings.register_profile("flake", derandomize=False, print_blob=True, **_COMMON)

#: ``HYPOTHESIS_PROFILE=flake``: evidence properties draw fresh seeds (read once, at import)
FRESH_SEEDS = os.environ.get("HYPOTHESIS_PROFILE") == "flake"

#: Settings for evidence run by ``invariants verify``: fixed examples, reproducible.  No shrinking:
#: evidence reports the first failing example at once (mutation self-tests fail fast; shrink a real
#: failure by rerunning the property under the ``explore`` profile).
VERIFY = settings(derandomize=not FRESH_SEEDS, max_examples=25, phases=(Phase.explicit, Phase.generate),
                  **_COMMON)


#: ``INVARIANTS_EXAMPLES_SCALE=N``: the properties that opt in through :func:`scaled` run N times their
#: example count (issue 17's 10× run of the exact-kernel properties; read once, at import)
EXAMPLES_SCALE = int(os.environ.get("INVARIANTS_EXAMPLES_SCALE", "1"))


def scaled(max_examples: int) -> settings:
    """Settings for a test property with ``max_examples`` × :data:`EXAMPLES_SCALE` examples (the rest from
    the loaded profile), e.g. ``INVARIANTS_EXAMPLES_SCALE=10 HYPOTHESIS_PROFILE=flake pytest tests/reference``."""
    return settings(max_examples=max_examples * EXAMPLES_SCALE)


def verify_settings(max_examples: int) -> settings:
    """:data:`VERIFY` with a different example count (heavier properties use fewer)."""
    return settings(VERIFY, max_examples=max_examples)


@contextlib.contextmanager
def independent_of_loaded_modules() -> Iterator[None]:
    """Make derandomized examples a function of the property alone, whatever modules are loaded.

    Hypothesis (6.131 and later) mixes literals collected from every *local* module in ``sys.modules``
    into generation, with probability 5% per draw, even when derandomized.  An editable install of this
    package counts as local, and so does any local module a caller happens to have imported (a pytest
    plugin, a benchmark script), so ``invariants verify`` inside pytest drew other examples than on the
    command line, and the documentation quoting its counts drifted.  Inside this context the pool of
    local constants is empty (Hypothesis' own global constants are kept).  The hook is internal; when a
    Hypothesis version lacks it, nothing is changed.
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without the module
        yield
        return
    get = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if get is None or cache is None or not hasattr(providers, "Constants"):
        yield
        return
    empty = providers.Constants()
    cache.cache.clear()  # permitted constants cached from earlier draws include the local ones
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = get
        cache.cache.clear()
