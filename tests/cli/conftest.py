"""Fixtures shared by the CLI tests.

``warm_exact_kernel``: loads the exact kernel's compiled accelerator before a test runs ``verify``, so a test that
pins verify's stderr is not broken by the one-time compile notice (``verify: compiling the exact kernel's
accelerator once for this machine``), which a worker whose cache is cold or stale — a fresh CI machine, or a
tree whose ``numba_kernels.py`` just changed — prints on its first verify.  The notice itself is tested in
tests/claims/test_verify_runner.py (``kernel_compiles``).
"""
from __future__ import annotations

import pytest


@pytest.fixture
def warm_exact_kernel():
    from invariants.verify import warm_kernel

    warm_kernel()  # no on_compile callback: compiles (or loads) silently
