"""The floating-point platform a build of the site computed on, and the docs-drift comparison across platforms.

The evidence's verdicts do not depend on the CPU, but some of its figures do, in their last bits: NumPy dispatches
``exp``/``log``/``tanh`` and its sums to SIMD loops chosen by the CPU's features (``numpy/_core/src/umath/
loops_*.dispatch.c.src``), OpenBLAS picks its GEMM kernel the same way (``DYNAMIC_ARCH``), and torch picks its CPU
kernels by ``torch.backends.cpu.get_cpu_capability()``.  An AVX-512 and an AVX2 machine print different defects
at the 1e-16 level, and different step counts where a run starts at a stationary point (Adam amplifies rounding
there).  So a build records its platform (:func:`platform`, written to :data:`PLATFORM_FILE`), and the drift check
compares pages byte for byte on the recorded platform and with every number masked (:func:`mask_figures`) on any
other: the text, the verdicts and which evidence passed must still match.
"""
from __future__ import annotations

import json
import os
import platform as _platform
import re
from typing import Any

#: Where a build records its platform, relative to the docs folder.
PLATFORM_FILE = "data/platform.json"

#: Environment variables that override the kernels a library picks (they change the last bits as the CPU does).
KERNEL_OVERRIDES = ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "ATEN_CPU_CAPABILITY",
                    "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR")

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _numpy_simd() -> list[str]:
    """NumPy's SIMD dispatch targets this CPU enables (``__cpu_dispatch__`` filtered by ``__cpu_features__``)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy 1.x keeps the module under numpy.core
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    features = getattr(umath, "__cpu_features__", {})
    return [t for t in getattr(umath, "__cpu_dispatch__", []) if features.get(t)]


def _blas() -> list[str]:
    """NumPy's BLAS with the kernel it picked (``threadpoolctl``: ``["openblas Haswell"]``), or, where none of the
    loaded BLAS libraries lies in NumPy's folders (a system BLAS), every loaded one, sorted.  NumPy's alone where
    it can be told apart, so that what else a process imported (SciPy's, scikit-learn's copies) does not change
    the record."""
    from pathlib import Path

    import numpy
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    root = Path(numpy.__file__).resolve().parent
    own = [i for i in blas if Path(i.get("filepath", "")).resolve().parent in (root.parent / "numpy.libs", root)]
    return sorted({f"{i.get('internal_api', '?')} {i.get('architecture') or ''}".strip() for i in own or blas})


def _torch_capability() -> str:
    try:
        import torch
    except ImportError:
        return "not installed"
    return str(torch.backends.cpu.get_cpu_capability())


def platform() -> dict[str, Any]:
    """What decides the last bits of this process's BLAS, NumPy SIMD and torch CPU results.

    Returns:
        ``{"machine": "x86_64", "numpy_simd": ["X86_V3"], "torch_cpu": "AVX2", "blas": ["openblas Haswell"],
        "overrides": {...}}``: the architecture (``platform.machine()``), NumPy's enabled SIMD dispatch targets,
        torch's CPU capability (``"not installed"`` without torch), the loaded BLAS libraries with the kernel each
        picked (two CPUs with the same SIMD level may still get different OpenBLAS kernels: Zen, Haswell) and the
        kernel-override environment variables that are set.
    """
    torch_cpu = _torch_capability()  # imports torch first, so that its BLAS is among the loaded libraries
    return {"machine": _platform.machine(), "numpy_simd": _numpy_simd(), "torch_cpu": torch_cpu, "blas": _blas(),
            "overrides": {k: os.environ[k] for k in KERNEL_OVERRIDES if os.environ.get(k)}}


def platform_bytes(record: dict[str, Any] | None = None) -> bytes:
    """``record`` (default: this process's :func:`platform`) as the bytes of :data:`PLATFORM_FILE`."""
    return (json.dumps(platform() if record is None else record, indent=2, sort_keys=True) + "\n").encode("utf-8")


def describe(record: dict[str, Any]) -> str:
    """One line for a person: ``"x86_64, NumPy SIMD X86_V3, torch AVX2"`` (with any overrides)."""
    simd = "+".join(record.get("numpy_simd") or ["baseline only"])
    out = f"{record.get('machine', '?')}, NumPy SIMD {simd}, torch {record.get('torch_cpu', '?')}"
    if record.get("blas"):
        out += ", BLAS " + " + ".join(record["blas"])
    overrides = record.get("overrides") or {}
    return out + (", " + ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) if overrides else "")


def mask_figures(content: bytes) -> bytes:
    """``content`` with every number replaced by ``#`` (the comparison across platforms: text, verdicts and
    pass/fail words must match, figures need not)."""
    return _NUMBER.sub("#", content.decode("utf-8")).encode("utf-8")


__all__ = ["KERNEL_OVERRIDES", "PLATFORM_FILE", "describe", "mask_figures", "platform", "platform_bytes"]
