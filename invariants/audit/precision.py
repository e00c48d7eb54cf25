"""Auditing at a requested dtype (``--dtype``): the ``dtype_returned`` check, the low-precision sample
size, and the catalogue's dtype pass.

A subject whose sampler was built for a dtype (:class:`~invariants.frameworks.subjects.DtypeSampler`
with ``dtype`` set) is audited in it: every draw must come back in that dtype (``dtype_returned``, a
deterministic check: p-value 0 or 1, counted in the Bonferroni split like any other), and the law
checks read the values at their precision (:mod:`invariants.stats.precision` for float16/bfloat16).

At low precision the checks' power is bounded by the quantization allowance, not by the sample size, so
the sample stops at :func:`low_precision_n` values: at least :data:`LOW_PRECISION_N` (the sampling noise
is then a fraction of the allowance: KS detects ``Delta + 0.011``, the sign test ``Delta + 0.006`` in
probability), and at least ``2^(p + 9)`` (64 / ``tail_floor``), so the count beyond the law's
``2^-p / 8`` quantile (:func:`invariants.stats.precision.tail_floor`) tells a clamped ``u = 1`` atom of a
quarter lattice step from the floor by about 8 standard deviations: 200 000 values at bfloat16, 524 288
at float16.

The catalogue's dtype pass (:func:`dtype_pass`): every initializer of a framework's catalogue whose
sampler can ask the framework for a dtype is audited once more, once per distinct initializer, in the
framework's low-precision dtype (:data:`LOW_PRECISION_DTYPE`: bfloat16 for torch, JAX, Equinox and MLX,
float16 for Keras); results carry ``@dtype`` in their target and their call names the dtype
(:func:`call_in_dtype`).  Layer defaults are not in it (a layer constructor takes no dtype the audit
passes), so Flax's catalogue (layer defaults only) gets no row, and numpy has none: its catalogue is the
package's own reference samplers, drawn in float32.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Iterable, Sequence

import numpy as np

from invariants.frameworks.dtypes import MANTISSA_BITS, dtype_name
from invariants.frameworks.errors import NotImplementedByFramework
from invariants.frameworks.subjects import DtypeSampler, Subject
from invariants.stats.checks import CheckResult, decide
from invariants.stats.precision import low_precision

#: the check's name, and a one-check stand-in for the budget (anything with ``len`` 1)
DTYPE_RETURNED = "dtype_returned"
#: fewest values pooled per unit at float16/bfloat16 (module docstring)
LOW_PRECISION_N = 200_000
#: the dtype each framework's catalogue is audited in once more (numpy: none, module docstring)
LOW_PRECISION_DTYPE = {"torch": "bfloat16", "jax": "bfloat16", "flax": "bfloat16", "equinox": "bfloat16",
                       "mlx": "bfloat16", "keras": "float16"}


def requested_dtype(subject: Subject) -> str | None:
    """The dtype the subject's sampler asks the framework for, or ``None`` (the framework's default)."""
    sampler = subject.sampler
    return sampler.dtype if isinstance(sampler, DtypeSampler) else None


def dtype_returned(requested: str, draws: Sequence[np.ndarray], alpha: float) -> CheckResult:
    """Every draw is in the ``requested`` dtype.  Deterministic (p-value 0 or 1); ``statistic`` is the
    number of draws in another dtype."""
    got = [dtype_name(d) for d in draws]
    wrong = [g for g in got if g != requested]
    detail = (f"requested {requested}, the framework returned {wrong[0]} in {len(wrong)} of {len(got)} draws "
              f"(the law would be audited at the wrong precision)" if wrong
              else f"requested {requested}, returned {requested} in all {len(got)} draws")
    return decide(DTYPE_RETURNED, len(wrong), 0.0 if wrong else 1.0, alpha, detail)


def is_quantized(draw: np.ndarray) -> bool:
    """Whether a draw came back in float16 or bfloat16 (its law is then judged at that precision)."""
    return dtype_name(draw) in ("float16", "bfloat16")


def stated_detectable(checks: Sequence[CheckResult]) -> float | None:
    """The smallest relative variance error the checks' own results state (at low precision the
    ``quantized_variance`` result states it, with its quantization band), ``None`` if none does."""
    stated = [c.min_detectable_rel_error for c in checks if c.min_detectable_rel_error is not None]
    return min(stated) if stated else None


def unsupported_dtype(subject: Subject, exc: Exception) -> bool:
    """Whether ``exc`` says the framework does not implement ``subject``'s initializer in its requested dtype
    (it raised ``NotImplementedError`` while a dtype was requested)."""
    return requested_dtype(subject) is not None and isinstance(exc, NotImplementedByFramework)


def low_precision_draws(requested: str | None, per_draw: Iterable[int], n_draws: int) -> int:
    """The draws for :func:`low_precision_n` values per unit at float16/bfloat16 (whatever the float32 sample
    size ``n_draws`` would be: the low-precision checks' power is set by the quantization allowance), else
    ``n_draws`` unchanged."""
    bits = MANTISSA_BITS.get(requested or "", 52)
    if requested is None or not low_precision(bits):
        return n_draws
    smallest = min((max(int(n), 1) for n in per_draw), default=1)
    return max(1, math.ceil(low_precision_n(bits) / smallest))


def low_precision_n(bits: int) -> int:
    """Values pooled per unit at ``bits`` mantissa bits (module docstring)."""
    return max(LOW_PRECISION_N, 2 ** (int(bits) + 9))


def dtype_pass(framework: str, subjects: Sequence[Subject], dtype: str | None = None) -> list[Subject]:
    """The catalogue's initializers once each (first subject per target) in ``dtype`` (default the
    framework's :data:`LOW_PRECISION_DTYPE`): those whose sampler asks the framework for a dtype; layer
    defaults and numpy callables without a ``dtype`` parameter are left out."""
    dtype = dtype or LOW_PRECISION_DTYPE.get(framework)
    if dtype is None:
        return []
    out, seen = [], set()
    for s in subjects:
        sampler = s.sampler
        if not isinstance(sampler, DtypeSampler) or not sampler.accepts_dtype or s.target in seen:
            continue
        seen.add(s.target)
        out.append(replace(s, target=f"{s.target} @{dtype}", sampler=sampler.at_dtype(dtype),
                           call=call_in_dtype(s.call, dtype)))
    return out


def call_in_dtype(call: str, dtype: str) -> str:
    """A subject's ``call`` text (written for the framework's float32) rewritten to request ``dtype``, so the
    line reproduces the run: torch ``torch.empty(100, 300)`` -> ``torch.empty(100, 300, dtype=torch.bfloat16)``;
    MLX ``mlx.nn.init.normal()(...)`` -> ``mlx.nn.init.normal(dtype=mx.bfloat16)(...)``; JAX, Flax, Equinox
    and Keras name ``float32`` in the call (``(key, shape, float32)``, ``dtype='float32'``), which becomes
    ``dtype``.  Any other text gets `` in <dtype>`` appended (the dtype is never left out); ``""`` stays ``""``."""
    import re

    if not call:
        return call
    torch_call = re.sub(r"torch\.empty\(([^()]*)\)", rf"torch.empty(\1, dtype=torch.{dtype})", call, count=1)
    if torch_call != call:
        return torch_call
    mlx_call = re.sub(r"^(mlx\.nn\.init\.\w+)\(([^()]*)\)",
                      lambda m: f"{m.group(1)}({m.group(2) + ', ' if m.group(2) else ''}dtype=mx.{dtype})", call,
                      count=1)
    if mlx_call != call:
        return mlx_call
    if re.search(r"\bfloat32\b", call):
        return re.sub(r"\bfloat32\b", dtype, call)
    return f"{call} in {dtype}"


__all__ = ["DTYPE_RETURNED", "LOW_PRECISION_DTYPE", "LOW_PRECISION_N", "call_in_dtype", "dtype_pass", "dtype_returned",
           "is_quantized", "low_precision_draws", "low_precision_n", "requested_dtype", "stated_detectable",
           "unsupported_dtype"]
