"""Resolved laws: the distribution one weight entry should follow, once a spec is applied to fans.

A *spec* (:mod:`invariants.specs`) is a rule such as "Glorot uniform"; applied to a layer's fans
and shape it becomes a :class:`Law`: a concrete distribution with mean, variance, support, kurtosis
and a frozen ``scipy.stats`` distribution for the shape test.  The auditor tests samples against laws.

Kinds:

- ``normal``: ``N(mean, variance)``, unbounded, kurtosis 3.
- ``uniform``: ``U(lo, hi)``, variance ``(hi - lo)^2 / 12``, kurtosis 1.8.
- ``truncated_normal``: ``N(loc, scale^2)`` restricted to ``[lo, hi]`` (scipy ``truncnorm``); kurtosis
  from scipy (2.36554 at +-2 standard deviations).
- ``constant``: every entry equals ``value`` (zeros, ones, ``constant_``).
- ``orthogonal``: the tensor, flattened to a matrix around its unit axis (:func:`as_matrix`), has orthonormal rows or
  columns scaled by ``gain``; ``E[w^2] = gain^2 / max(rows, cols)`` exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special, stats

from invariants.core.errors import BadInput

KINDS = ("normal", "uniform", "truncated_normal", "constant", "orthogonal")


@dataclass(frozen=True)
class Law:
    """A fully resolved distribution for the entries of one weight tensor.

    Attributes:
        kind: one of :data:`KINDS`.
        mean: expected value of an entry (weight units).
        variance: variance of an entry (weight units squared); for ``orthogonal`` the exact
            ``E[w^2] = gain^2 / max(rows, cols)``; 0 for ``constant``.
        lo, hi: almost-sure support (``-inf, inf`` for ``normal``; ``value, value`` for ``constant``).
        kurtosis: Pearson kurtosis ``E[(w-mean)^4] / variance^2`` (normal 3, uniform 1.8); ``nan``
            where meaningless.
        loc, scale: parameters of the underlying normal for ``truncated_normal`` (``scale`` is the std
            of the *untruncated* normal); for ``normal`` the mean and std; for ``uniform`` ``lo`` and
            ``hi - lo``.
        gain: ``orthogonal`` only.
        unit_axis: ``orthogonal`` only: the axis kept whole when the tensor is flattened to a matrix
            (:func:`as_matrix`): ``0`` (rows = dim 0, trailing dims flattened into the columns; PyTorch)
            or ``-1`` (columns = last axis, leading dims flattened into the rows; JAX, Keras); a
            framework's is its layout's ``unit_axis``.
        label: human-readable description, e.g. ``"U(-0.0577, 0.0577)"``.
    """

    kind: str
    mean: float
    variance: float
    lo: float
    hi: float
    kurtosis: float
    loc: float = 0.0
    scale: float = 1.0
    gain: float = 1.0
    unit_axis: int = 0
    label: str = field(default="", compare=False)

    # ------------------------------------------------------------------ constructors
    @staticmethod
    def normal(mean: float, std: float, label: str = "") -> "Law":
        std = _positive(std, "std")
        return Law("normal", float(mean), std * std, -math.inf, math.inf, 3.0, float(mean), std,
                   label=label or f"N({float(mean):.6g}, {std:.6g}^2)")

    @staticmethod
    def uniform(lo: float, hi: float, label: str = "") -> "Law":
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise BadInput(f"uniform bounds must be finite with lo < hi, got ({lo!r}, {hi!r})")
        return Law("uniform", (lo + hi) / 2, (hi - lo) ** 2 / 12, lo, hi, 1.8, lo, hi - lo,
                   label=label or f"U({lo:.6g}, {hi:.6g})")

    @staticmethod
    def truncated_normal(loc: float, scale: float, lo: float, hi: float, label: str = "") -> "Law":
        """``N(loc, scale^2)`` restricted to the absolute interval ``[lo, hi]``."""
        scale = _positive(scale, "scale")
        loc, lo, hi = float(loc), float(lo), float(hi)
        if not hi > lo:
            raise BadInput(f"truncation bounds need lo < hi, got ({lo!r}, {hi!r})")
        a, b = (lo - loc) / scale, (hi - loc) / scale
        m0, v0, kurt_excess = _tn_moments(a, b)
        mean, var = loc + scale * m0, scale * scale * v0
        if not (var > 0 and math.isfinite(var)):
            raise BadInput(f"truncation [{lo!r}, {hi!r}] leaves no mass under N({loc!r}, {scale!r}^2)")
        return Law("truncated_normal", mean, var, max(lo, -math.inf), min(hi, math.inf), kurt_excess + 3.0,
                   loc, scale, label=label or f"TN({loc:.6g}, {scale:.6g}^2; [{lo:.6g}, {hi:.6g}])")

    @staticmethod
    def constant(value: float, label: str = "") -> "Law":
        value = float(value)
        if not math.isfinite(value):
            raise BadInput(f"constant must be finite, got {value!r}")
        return Law("constant", value, 0.0, value, value, math.nan, value, 0.0,
                   label=label or f"constant {value:.6g}")

    @staticmethod
    def orthogonal(gain: float, shape: tuple[int, ...], unit_axis: int = 0, label: str = "") -> "Law":
        rows, cols = matrix_dims(shape, unit_axis)
        gain = _positive(gain, "gain")
        e2 = gain * gain / max(rows, cols)
        return Law("orthogonal", 0.0, e2, -gain, gain, math.nan, 0.0, gain, gain, unit_axis,
                   label=label or f"orthogonal(gain={gain:.6g}) on {rows}x{cols}")

    # ------------------------------------------------------------------ properties
    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    @property
    def bounded(self) -> bool:
        """Whether the support is a finite interval of positive length (uniform, truncated normal)."""
        return self.kind in ("uniform", "truncated_normal") and math.isfinite(self.lo) and math.isfinite(self.hi)

    @property
    def continuous(self) -> bool:
        return self.kind in ("normal", "uniform", "truncated_normal")

    def dist(self) -> Any:
        """Distribution of one entry (continuous kinds only): a frozen ``scipy.stats`` distribution, or
        for a truncated normal :class:`TruncNormDist` (same interface, vectorized through
        ``scipy.special.ndtr``; scipy's ``truncnorm.cdf`` is ~100x slower on 10^6 points)."""
        return _dist(self.kind, self.loc, self.scale, self.lo, self.hi)

    def describe(self) -> str:
        return self.label


#: the flattenings orthogonal initializers use, by the name a spec gives them (``orthogonal(rows=last)``)
#: -> the axis kept whole: ``first`` = PyTorch ``orthogonal_`` (rows = dim 0), ``last`` = JAX and Keras
#: ``orthogonal`` (columns = last dim)
FLATTENINGS: dict[str, int] = {"first": 0, "last": -1}


def matrix_dims(shape: tuple[int, ...], unit_axis: int = 0) -> tuple[int, int]:
    """(rows, cols) of ``shape`` flattened to a matrix that keeps axis ``unit_axis`` whole: as the
    columns if it is the last axis (JAX, Keras: ``(-1, shape[-1])``), else as the rows, the other axes
    flattened in order (PyTorch, ``unit_axis=0``: ``(shape[0], -1)``).

    Raises:
        ValueError: fewer than 2 dims, or ``unit_axis`` out of range.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise BadInput(f"an orthogonal matrix needs at least 2 dims, got shape {shape}")
    if not -len(shape) <= unit_axis < len(shape):
        raise BadInput(f"unit axis {unit_axis} is out of range for shape {shape}")
    a = unit_axis % len(shape)
    n = int(np.prod(shape))
    return (n // shape[a], shape[a]) if a == len(shape) - 1 else (shape[a], n // shape[a])


def flattening_name(unit_axis: int) -> str:
    """The name of the flattening that keeps ``unit_axis`` whole (:data:`FLATTENINGS`), as a spec writes it.

    Raises:
        ValueError: no orthogonal flattening keeps that axis.
    """
    for name, axis in FLATTENINGS.items():
        if axis == unit_axis:
            return name
    raise BadInput(f"no orthogonal flattening keeps axis {unit_axis}; known: {FLATTENINGS}")


def as_matrix(x: np.ndarray, unit_axis: int = 0) -> np.ndarray:
    """``x`` as the (rows, cols) matrix of :func:`matrix_dims` (the unit axis moved first, unless last,
    then reshaped in C order). Raises ValueError as :func:`matrix_dims`."""
    x = np.asarray(x)
    dims = matrix_dims(x.shape, unit_axis)
    a = unit_axis % x.ndim
    return np.reshape(x if a == x.ndim - 1 else np.moveaxis(x, a, 0), dims)


def _positive(value: float, what: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise BadInput(f"{what} must be finite and > 0, got {value!r}")
    return value


@lru_cache(maxsize=512)
def _dist(kind: str, loc: float, scale: float, lo: float, hi: float) -> Any:
    if kind == "normal":
        return stats.norm(loc=loc, scale=scale)
    if kind == "uniform":
        return stats.uniform(loc=loc, scale=scale)
    if kind == "truncated_normal":
        fast = TruncNormDist(loc, scale, lo, hi)
        return fast if fast.mass > 1e-8 else stats.truncnorm((lo - loc) / scale, (hi - loc) / scale, loc=loc, scale=scale)
    raise ValueError(f"a {kind} law has no continuous entry distribution")


class TruncNormDist:
    """``N(loc, scale^2)`` restricted to ``[lo, hi]``, with the frozen-distribution methods the tests use.

    ``cdf(x) = (Phi(z) - Phi(a)) / (Phi(b) - Phi(a))`` with ``z = (x - loc)/scale``, evaluated on the
    side of the mean that keeps precision (the upper tail mirrored through ``Phi(-z)`` when ``a > 0``).
    Moments come from ``scipy.stats.truncnorm``.  Used only when the retained mass exceeds 1e-8.
    """

    def __init__(self, loc: float, scale: float, lo: float, hi: float) -> None:
        self.loc, self.scale, self.lo, self.hi = float(loc), float(scale), float(lo), float(hi)
        self.a, self.b = (self.lo - self.loc) / self.scale, (self.hi - self.loc) / self.scale
        self.mirror = self.a > 0
        if self.mirror:
            self.mass = float(special.ndtr(-self.a) - special.ndtr(-self.b))
        else:
            self.mass = float(special.ndtr(self.b) - special.ndtr(self.a))
        ref = stats.truncnorm(self.a, self.b, loc=self.loc, scale=self.scale)
        m, v = ref.stats(moments="mv")
        self._mean, self._std = float(m), math.sqrt(float(v))

    def _z(self, x: Any) -> np.ndarray:
        return (np.clip(np.asarray(x, dtype=np.float64), self.lo, self.hi) - self.loc) / self.scale

    def cdf(self, x: Any) -> Any:
        z = self._z(x)
        if self.mirror:
            out = (special.ndtr(-self.a) - special.ndtr(-z)) / self.mass
        else:
            out = (special.ndtr(z) - special.ndtr(self.a)) / self.mass
        return np.clip(out, 0.0, 1.0)

    def sf(self, x: Any) -> Any:
        z = self._z(x)
        if self.mirror:
            out = (special.ndtr(-z) - special.ndtr(-self.b)) / self.mass
        else:
            out = (special.ndtr(self.b) - special.ndtr(z)) / self.mass
        return np.clip(out, 0.0, 1.0)

    def pdf(self, x: Any) -> Any:
        x = np.asarray(x, dtype=np.float64)
        z = (x - self.loc) / self.scale
        inside = (x >= self.lo) & (x <= self.hi)
        return np.where(inside, np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) / self.scale / self.mass, 0.0)

    def ppf(self, q: Any) -> Any:
        q = np.asarray(q, dtype=np.float64)
        if self.mirror:
            z = -special.ndtri(special.ndtr(-self.a) - q * self.mass)
        else:
            z = special.ndtri(special.ndtr(self.a) + q * self.mass)
        return np.clip(self.loc + self.scale * z, self.lo, self.hi)

    def mean(self) -> float:
        return self._mean

    def std(self) -> float:
        return self._std


@lru_cache(maxsize=4096)
def _tn_moments(a: float, b: float) -> tuple[float, float, float]:
    """(mean, variance, excess kurtosis) of the standard normal truncated to [a, b] (scipy)."""
    m, v, _, k = stats.truncnorm.stats(a, b, moments="mvsk")
    return float(m), float(v), float(k)
