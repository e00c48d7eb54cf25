"""Fixtures of the exact-kernel tests: ``kernel_path`` runs a test on the compiled accelerator
(:mod:`invariants.reference.compiled`, skipped where numba is not installed) and on the numpy definition;
``numpy_path`` forces the numpy definition (for mutants that patch a numpy function: the compiled loops
would bypass the patch)."""
from __future__ import annotations

import pytest

from invariants.reference import compiled


def _use(path: str) -> None:
    if path == "compiled":
        pytest.importorskip("numba")
        if compiled.disabled():
            pytest.skip(f"{compiled.OFF_SWITCH} is set: the compiled accelerator is off")
        compiled.reset(True)
        assert compiled.kernels() is not None
    else:
        compiled.reset(False)


@pytest.fixture(scope="module", params=["compiled", "numpy"])
def kernel_path(request):
    """Module-scoped (Hypothesis-safe): every test of a module that uses it runs once per path."""
    _use(request.param)
    yield request.param
    compiled.reset()


@pytest.fixture
def numpy_path(request):
    """The numpy definition for one test, then back to the path the module runs on (if any)."""
    compiled.reset(False)
    yield
    outer = request.node.callspec.params.get("kernel_path") if hasattr(request.node, "callspec") else None
    if outer is None:
        compiled.reset()
    else:
        _use(outer)
