"""pytest plugin (entry point ``pytest11``): seeded generators per test, statistical profiles.

Installed with ``invariants``; active in any project whose environment has the package (disable with
``-p no:invariants.pytest_plugin``).  Provides:

Fixtures
    ``invariants_seed``: an int in ``[0, 2**32)`` derived from the test's *node id* and the base seed
    (SHA-256 of ``"{base}:{nodeid}"``), never from execution order: the same test gets the same seed
    whether it runs alone, under ``-k``, in another order or on an xdist worker.
    ``rng``: ``np.random.default_rng(invariants_seed)``.
    ``torch_generator`` / ``jax_key``: the same seed as a ``torch.Generator`` / ``jax.random.key``
    (the test is skipped when the framework is missing).
    ``invariants_profile``: the active :class:`~invariants.modelcheck.profiles.Profile`.

Options (command line, or ``ini``: ``invariants_profile``, ``invariants_seed``)
    ``--invariants-profile=fast|thorough``: statistical profile of ``assert_initializer`` /
    ``assert_init_healthy`` (default ``fast``, or ``$INVARIANTS_PROFILE``); ``thorough`` detects 1%
    variance errors instead of 5% and probes models with 256 inputs instead of 32.
    ``--invariants-seed=N``: base seed mixed into every test's seed (default 0).

Compile cache: at configure time JAX's persistent compilation cache is pointed at a per-user folder
(``$INVARIANTS_CACHE_DIR/jax``, default ``~/.cache/invariants/jax``; never the project folder), so JAX and
Keras programs compiled by one test run or xdist worker are read back by the next instead of compiled
again (:mod:`invariants.core.compile_cache`); ``INVARIANTS_NO_COMPILE_CACHE=1`` turns it off.  The exact
kernel's optional compiled loops (numba, ``invariants[fast]``) are cached in ``$INVARIANTS_CACHE_DIR/numba``
with the same off switch; ``INVARIANTS_NO_COMPILED=1`` uses the numpy kernel instead (the same results,
:mod:`invariants.reference.compiled`).

Marker ``@pytest.mark.invariants_profile("thorough")`` runs one test under another profile.
Hypothesis profiles ``invariants-fast`` / ``invariants-thorough`` (20 / 200 examples, derandomized) are
registered for ``--hypothesis-profile``.  A failing test that used a seeded fixture gets an
``invariants`` report section with its seed.
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from invariants.core import compile_cache
from invariants.modelcheck import profiles as _profiles

_SEEDED_FIXTURES = ("invariants_seed", "rng", "torch_generator", "jax_key")


def seed_for(nodeid: str, base: int = 0) -> int:
    """The seed of the test with ``nodeid``: the first 4 bytes of SHA-256(``"{base}:{nodeid}"``)."""
    return int.from_bytes(hashlib.sha256(f"{int(base)}:{nodeid}".encode()).digest()[:4], "big")


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("invariants", "invariants: initialization checks")
    group.addoption("--invariants-profile", default=None, choices=sorted(_profiles.PROFILES),
                    help="statistical profile of assert_initializer / assert_init_healthy: fast (every commit, "
                         "default) or thorough (nightly)")
    group.addoption("--invariants-seed", type=int, default=None,
                    help="base seed mixed into every test's seed (default 0)")
    parser.addini("invariants_profile", "default statistical profile (fast or thorough)", default="")
    parser.addini("invariants_seed", "default base seed", default="")


def _base_seed(config: Any) -> int:
    opt = config.getoption("invariants_seed", None)
    if opt is not None:
        return int(opt)
    ini = str(config.getini("invariants_seed") or "").strip()
    try:
        return int(ini) if ini else 0
    except ValueError:
        raise pytest.UsageError(f"invariants_seed must be an integer, got {ini!r}") from None


def pytest_configure(config: Any) -> None:
    name = (config.getoption("invariants_profile", None) or str(config.getini("invariants_profile") or "").strip()
            or os.environ.get("INVARIANTS_PROFILE") or "fast")
    try:
        prof = _profiles.get_profile(name)
    except ValueError as exc:
        raise pytest.UsageError(f"invariants: {exc}") from None
    # restored at unconfigure (nested runs: pytester)
    config._invariants_prev_profile = _profiles.use_profile(prof)
    config._invariants_base_seed = _base_seed(config)
    compile_cache.configure()  # before any test imports JAX; xdist workers inherit the environment
    config.addinivalue_line("markers", "invariants_profile(name): run this test under the named invariants "
                                       "statistical profile (fast or thorough)")
    try:
        from hypothesis import settings

        for p in _profiles.PROFILES.values():
            settings.register_profile(f"invariants-{p.name}", p.hypothesis_settings())
    except ImportError:  # pragma: no cover - hypothesis is a dependency
        pass


def pytest_unconfigure(config: Any) -> None:
    _profiles.use_profile(getattr(config, "_invariants_prev_profile", None))


def pytest_report_header(config: Any) -> str:
    p = _profiles.current()
    return (f"invariants: profile {p.name} (variance errors >= {100 * p.rel_error:g}% detected, probe batch "
            f"{p.probe_batch}), base seed {getattr(config, '_invariants_base_seed', 0)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: Any) -> Any:
    from invariants import testing

    marker = item.get_closest_marker("invariants_profile")
    item._invariants_saved_profile = _profiles.current()
    if marker is not None:
        if not marker.args:
            raise pytest.UsageError("@pytest.mark.invariants_profile needs a profile name")
        _profiles.use_profile(marker.args[0])
    item._invariants_prev_seed = testing.set_test_seed(
        seed_for(item.nodeid, getattr(item.config, "_invariants_base_seed", 0)))
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any) -> Any:
    yield
    from invariants import testing

    testing.set_test_seed(getattr(item, "_invariants_prev_seed", None))
    saved = getattr(item, "_invariants_saved_profile", None)
    if saved is not None:
        _profiles.use_profile(saved)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.failed and any(f in getattr(item, "fixturenames", ()) for f in _SEEDED_FIXTURES):
        seed = seed_for(item.nodeid, getattr(item.config, "_invariants_base_seed", 0))
        report.sections.append(("invariants", f"seed {seed} (from the node id {item.nodeid!r}; base seed "
                                              f"{getattr(item.config, '_invariants_base_seed', 0)})"))


@pytest.fixture
def invariants_seed(request: Any) -> int:
    """This test's seed: derived from its node id and the base seed, not from execution order."""
    return seed_for(request.node.nodeid, getattr(request.config, "_invariants_base_seed", 0))


@pytest.fixture
def rng(invariants_seed: int) -> Any:
    """``np.random.default_rng(invariants_seed)``: a fresh generator per test."""
    import numpy as np

    return np.random.default_rng(invariants_seed)


@pytest.fixture
def torch_generator(invariants_seed: int) -> Any:
    """A CPU ``torch.Generator`` seeded with ``invariants_seed`` (skipped without torch)."""
    torch = pytest.importorskip("torch")
    return torch.Generator().manual_seed(invariants_seed)


@pytest.fixture
def jax_key(invariants_seed: int) -> Any:
    """``jax.random.key(invariants_seed)`` (skipped without jax)."""
    jax = pytest.importorskip("jax")
    return jax.random.key(invariants_seed)


@pytest.fixture
def invariants_profile() -> Any:
    """The active statistical profile (after any ``invariants_profile`` marker)."""
    return _profiles.current()
