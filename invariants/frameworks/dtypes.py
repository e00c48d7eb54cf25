"""Floating dtypes an audit can request (``--dtype``), and how their values reach the statistics.

A requested dtype is a name of :data:`DTYPES`: ``float16``, ``bfloat16``, ``float32``, ``float64`` (real)
or ``complex64``.  Each framework's sampler asks the framework for the tensor in that dtype (torch: a
tensor created in it; JAX: the initializer's ``dtype`` argument; Keras: its ``dtype`` argument; numpy: a
``dtype`` keyword when the callable accepts one, else the callable's own result) and hands back a numpy
array *in the dtype the framework returned*, so the auditor can check it (``dtype_returned``).  numpy has
no bfloat16: it is ``ml_dtypes.bfloat16`` (the package JAX itself uses for it, installed with JAX).

The statistics read the values widened exactly (:func:`widen`: bfloat16 -> float32, float16 kept, whose
precision :func:`invariants.stats.extremes.mantissa_bits` reads from the dtype), never rounded again.

Complex dtypes have no law in :mod:`invariants.specs` (a complex weight's modulus and phase follow their own
laws, e.g. a Rayleigh modulus with uniform phase, Trabelsi et al. 2018, "Deep Complex Networks", §3.6):
requesting one is refused with one line (:func:`require_real`), never audited as a real tensor.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from invariants.core.errors import UsageError

#: the dtype names ``--dtype`` accepts, in the order ``--help`` lists them
DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64")
#: the real ones, by stored mantissa bits (float16 10, bfloat16 7, float32 23, float64 52)
REAL_DTYPES = ("float16", "bfloat16", "float32", "float64")
MANTISSA_BITS = {"float16": 10, "bfloat16": 7, "float32": 23, "float64": 52}


def parse_dtype(name: Any) -> str | None:
    """``None`` or one of :data:`DTYPES` (``numpy``/``torch``/``jax`` dtype objects are read by name).

    Raises:
        UsageError: any other name (one line listing the accepted ones).
    """
    if name is None:
        return None
    if isinstance(name, str):
        text = name
    else:  # a numpy dtype or scalar type, a torch dtype, a JAX dtype
        try:
            text = np.dtype(name).name
        except TypeError:
            text = str(getattr(name, "name", None) or name).replace("torch.", "")
    text = text.strip().lower()
    if text not in DTYPES:
        raise UsageError(f"dtype {name!r} is not one of {', '.join(DTYPES)}")
    return text


def require_real(dtype: str | None, what: str) -> None:
    """Refuse a complex dtype for ``what`` (a spec's text): no complex law is implemented.

    Raises:
        UsageError: ``dtype`` is complex (exit 2, one line).
    """
    if dtype is not None and dtype.startswith("complex"):
        raise UsageError(f"dtype {dtype}: complex initializers are not supported for spec {what} (no complex law is "
                         "implemented, e.g. the Rayleigh-modulus/uniform-phase law of Trabelsi et al. 2018 §3.6); "
                         "audit the real and imaginary parts as real tensors")


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype of a :data:`DTYPES` name (bfloat16: ``ml_dtypes.bfloat16``)."""
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def is_bfloat16(dtype: Any) -> bool:
    return getattr(np.dtype(dtype), "name", "") == "bfloat16"


def dtype_name(arr: np.ndarray) -> str:
    """The name of an array's dtype as :data:`DTYPES` writes it (``"bfloat16"`` for ml_dtypes')."""
    return str(np.asarray(arr).dtype.name)


def returned_as(arr: np.ndarray, dtype: str | None) -> np.ndarray:
    """``arr`` if it is in the requested ``dtype`` (or none was requested).

    Raises:
        BadInitializer: it came back in another dtype.
    """
    if dtype is not None and dtype_name(arr) != dtype:
        from invariants.frameworks.errors import BadInitializer

        raise BadInitializer(f"requested dtype {dtype}, the initializer returned {dtype_name(arr)}")
    return arr


def widen(arr: np.ndarray) -> np.ndarray:
    """The values in a dtype the statistics read: bfloat16 -> float32 (exact), anything else unchanged."""
    return arr.astype(np.float32) if is_bfloat16(arr.dtype) else arr


def all_equal(arr: np.ndarray) -> bool:
    """Whether every entry of ``arr`` (any shape, at least one entry) equals its first, as floats compare
    (``+0 == -0``; a NaN equals nothing, so an array holding one is never all equal).

    bfloat16 (``ml_dtypes``, compared by numpy through a callback, ~10x slower than its own types) is
    compared as bits when the first entry is neither a zero nor NaN: then the equal entries are exactly the
    equal bit patterns."""
    v = arr.ravel()
    first = v[0]
    if is_bfloat16(v.dtype) and first == first and first != 0:
        bits = v.view(np.uint16)
        return bool(np.all(bits == bits[0]))
    return bool(np.all(v == first))


__all__ = ["DTYPES", "MANTISSA_BITS", "REAL_DTYPES", "all_equal", "dtype_name", "is_bfloat16", "numpy_dtype",
           "parse_dtype", "require_real", "returned_as", "widen"]
