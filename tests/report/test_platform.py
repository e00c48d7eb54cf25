"""The docs-drift check across floating-point platforms (invariants/report/platform.py).

Built on the recorded platform, pages are compared byte for byte; on another (a CPU whose SIMD or BLAS kernels
round differently: an AVX2 machine against docs built on AVX-512 gave defects 1.11e-16 for 0 and Adam step 80 for
86), every number is masked and the rest must match.  Known-bad inputs: a changed word on another platform, a
changed figure on the same one; known-good: changed figures on another platform.
"""
from __future__ import annotations

import json

from invariants.report.platform import PLATFORM_FILE, describe, mask_figures, platform, platform_bytes
from tests.report.test_report_pages import fake_site as _site


AVX512 = {"machine": "x86_64", "numpy_simd": ["X86_V3", "X86_V4"], "torch_cpu": "AVX512", "overrides": {}}
AVX2 = {"machine": "x86_64", "numpy_simd": ["X86_V3"], "torch_cpu": "AVX2", "overrides": {}}
PAGE = "kept (defect SGD {}, Adam {}); T = {}, passed\n"


def _committed(tmp_path, record):
    from invariants.report.site import write_site

    docs = tmp_path / "docs"
    write_site(_site({"index.md": PAGE.format(0, 0, 86).encode(), PLATFORM_FILE: platform_bytes(record)}), docs)
    return docs


def test_another_platform_masks_the_figures_only(tmp_path):
    from invariants.report.site import compare_site, other_platform

    docs = _committed(tmp_path, AVX512)
    figures_moved = _site({"index.md": PAGE.format(0, "1.11e-16", 80).encode(), PLATFORM_FILE: platform_bytes(AVX2)})
    assert compare_site(figures_moved, docs) == []
    assert "AVX512" in other_platform(figures_moved, docs) and "AVX2" in other_platform(figures_moved, docs)
    words_moved = _site({"index.md": PAGE.format(0, 0, 86).replace("passed", "FAILED").encode(),
                         PLATFORM_FILE: platform_bytes(AVX2)})
    assert compare_site(words_moved, docs) == ["differs index.md"]


def test_the_same_platform_compares_byte_for_byte(tmp_path):
    from invariants.report.site import compare_site, other_platform

    docs = _committed(tmp_path, AVX512)
    same = _site({"index.md": PAGE.format(0, 0, 86).encode(), PLATFORM_FILE: platform_bytes(AVX512)})
    assert compare_site(same, docs) == [] and other_platform(same, docs) is None
    moved = _site({"index.md": PAGE.format(0, "1.11e-16", 86).encode(), PLATFORM_FILE: platform_bytes(AVX512)})
    assert compare_site(moved, docs) == ["differs index.md"]


def test_mask_and_describe():
    assert mask_figures("T = 86, defect 1.11e-16, -0.5 and .25 (ratio 64 → 1.03)".encode()) \
        == "T = #, defect #, # and # (ratio # → #)".encode()
    assert describe(AVX2) == "x86_64, NumPy SIMD X86_V3, torch AVX2"
    assert describe({**AVX2, "overrides": {"OPENBLAS_CORETYPE": "Sandybridge"}}).endswith("OPENBLAS_CORETYPE=Sandybridge")
    here = platform()
    assert set(here) == {"machine", "numpy_simd", "torch_cpu", "blas", "overrides"} and here["blas"]
    assert json.loads(platform_bytes(here)) == here
