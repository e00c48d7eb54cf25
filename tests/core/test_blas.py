"""invariants.core.blas.one_thread: one BLAS thread inside, the previous count back after, and the library
scan reused only while the loaded shared objects stay the same."""
from __future__ import annotations

import sys

import numpy as np  # noqa: F401  (loads numpy's BLAS)
import pytest
from threadpoolctl import threadpool_info

from invariants.core import blas


def _blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.mark.skipif(not _blas_threads(), reason="no BLAS library threadpoolctl can control")
def test_one_thread_inside_and_restored_after():
    before = _blas_threads()
    with blas.one_thread():
        assert set(_blas_threads()) == {1}
        with blas.one_thread():  # nested, from the cached scan
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="dl_iterate_phdr: Linux")
def test_scan_reused_until_the_loaded_objects_change(monkeypatch):
    names = blas.loaded_objects()
    assert names and any(b"python" in n or b"libc" in n for n in names)
    assert blas.loaded_objects() == names  # nothing loaded in between
    scans = []
    import threadpoolctl

    real = threadpoolctl.ThreadpoolController

    def counting():
        scans.append(1)
        return real()

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", counting)
    with blas.one_thread():
        pass
    first = len(scans)
    with blas.one_thread():
        pass
    assert len(scans) == first  # same objects: no new scan
    monkeypatch.setattr(blas, "loaded_objects", lambda: names + (b"/new/libblas.so",))
    with blas.one_thread():
        pass
    assert len(scans) == first + 1  # an object loaded since: scanned again
