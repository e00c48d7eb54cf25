"""Initializer specifications as data: one general variance-scaling primitive.

Mirrors ``jax.nn.initializers.variance_scaling`` (jax/_src/nn/initializers.py), which also underlies
Keras' ``VarianceScaling``: a weight tensor has i.i.d. zero-mean entries with

    Var(W) = scale / n,   n = fan_in | fan_out | (fan_in + fan_out)/2 | sqrt(fan_in * fan_out)

for ``mode`` = ``'fan_in' | 'fan_out' | 'fan_avg' | 'fan_geo_avg'``, drawn from a normal, a uniform
``U(-sqrt(3 Var), sqrt(3 Var))``, or a normal truncated to two standard deviations and rescaled so that
the *truncated* distribution has variance ``Var(W)``.

Fans are passed explicitly (for a dense kernel: number of inputs and outputs; for a convolution:
channels times receptive field size); :meth:`VarianceScaling.sample` does not infer them from the shape.

Named rules follow JAX/Keras conventions (Glorot & Bengio 2010 eq. 12 and 16; He et al. 2015 eq. 10;
LeCun et al. 1998 Sec. 4.6): ``*_NORMAL`` are *truncated* normals there.  PyTorch's
``torch.nn.init.xavier_normal_`` and ``kaiming_normal_`` draw *untruncated* normals with the same
variance; :data:`XAVIER_NORMAL_TORCH` and :data:`KAIMING_NORMAL_TORCH` (ReLU gain ``sqrt(2)``) describe them.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from scipy import stats

Mode = Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
Distribution = Literal["normal", "uniform", "truncated_normal"]

MODES: tuple[str, ...] = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform", "truncated_normal")

#: Truncation point of the truncated normal, in standard deviations of the untruncated normal.
TRUNCATION = 2.0
#: Standard deviation of a standard normal truncated to [-2, 2] (JAX's hard-coded .87962566103423978).
TRUNCATED_NORMAL_STD: float = float(stats.truncnorm.std(-TRUNCATION, TRUNCATION))


def _check_fan(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{what} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_shape(shape: Sequence[int]) -> tuple[int, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"shape must be a sequence of integers, got {shape!r}") from None
    if len(dims) < 2:
        raise ValueError(f"weight shape needs at least 2 dims (fan_in/fan_out), got {dims!r}")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
            raise ValueError(f"shape dims must be integers >= 1, got {dims!r}")
    return tuple(int(d) for d in dims)


@dataclass(frozen=True)
class VarianceScaling:
    """Variance-scaling initializer: i.i.d. zero-mean entries with ``Var(W) = scale / n(mode)``.

    Attributes:
        scale: variance multiplier (the square of PyTorch's ``gain``), > 0.  1 for Glorot/LeCun, 2 for He.
        mode: which fan sets ``n``: ``'fan_in'``, ``'fan_out'``, ``'fan_avg'`` (arithmetic mean) or
            ``'fan_geo_avg'`` (geometric mean).
        distribution: ``'normal'``, ``'uniform'`` or ``'truncated_normal'`` (at +-2 standard deviations,
            rescaled to the target variance; JAX/Keras default).
        name: optional display name.

    Raises:
        ValueError: ``scale`` not finite and > 0, unknown ``mode`` or ``distribution``.
    """

    scale: float = 1.0
    mode: Mode = "fan_in"
    distribution: Distribution = "truncated_normal"
    name: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.scale, bool) or not isinstance(self.scale, numbers.Real):
            raise ValueError(f"scale must be a real number, got {self.scale!r}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be finite and > 0, got {self.scale!r}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; expected one of {MODES}")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {self.distribution!r}; expected one of {DISTRIBUTIONS}")

    def fan(self, fan_in: int, fan_out: int) -> float:
        """The denominator ``n`` selected by :attr:`mode` (dimensionless count, may be non-integer).

        Raises:
            ValueError: ``fan_in`` or ``fan_out`` not an integer >= 1.
        """
        fi, fo = _check_fan(fan_in, "fan_in"), _check_fan(fan_out, "fan_out")
        if self.mode == "fan_in":
            return float(fi)
        if self.mode == "fan_out":
            return float(fo)
        if self.mode == "fan_avg":
            return (fi + fo) / 2.0
        return math.sqrt(fi * fo)

    def variance(self, fan_in: int, fan_out: int) -> float:
        """Target variance of each weight entry, ``scale / n(mode)`` (units of weight squared).

        Raises:
            ValueError: ``fan_in`` or ``fan_out`` not an integer >= 1.
        """
        return float(self.scale) / self.fan(fan_in, fan_out)

    def stddev(self, fan_in: int, fan_out: int) -> float:
        """Scale parameter of the sampling distribution.

        ``sqrt(variance)`` for ``'normal'``; the half width ``sqrt(3*variance)`` for ``'uniform'``; the
        standard deviation of the *untruncated* normal, ``sqrt(variance)/TRUNCATED_NORMAL_STD``, for
        ``'truncated_normal'`` (as in JAX).
        """
        var = self.variance(fan_in, fan_out)
        if self.distribution == "normal":
            return math.sqrt(var)
        if self.distribution == "uniform":
            return math.sqrt(3.0 * var)
        return math.sqrt(var) / TRUNCATED_NORMAL_STD

    def support_bound(self, fan_in: int, fan_out: int) -> float:
        """Almost-sure bound on ``|W|``: ``inf`` (normal), ``sqrt(3 Var)`` (uniform), ``2*stddev`` (truncated)."""
        if self.distribution == "normal":
            self.variance(fan_in, fan_out)  # validates fans
            return math.inf
        if self.distribution == "uniform":
            return self.stddev(fan_in, fan_out)
        return TRUNCATION * self.stddev(fan_in, fan_out)

    def sample(
        self,
        shape: Sequence[int],
        rng: np.random.Generator,
        fan_in: int,
        fan_out: int,
        dtype: np.dtype | type = np.float64,
    ) -> np.ndarray:
        """Draw a weight tensor of ``shape`` with i.i.d. entries from this initializer.

        Args:
            shape: tensor shape, at least 2 dims, each >= 1 (any layout; fans are not inferred from it).
            rng: the random generator to draw from (never numpy's global RNG).
            fan_in, fan_out: fans that set the variance, integers >= 1.
            dtype: real floating dtype of the result; values are drawn in float64 and cast.

        Returns:
            ``np.ndarray`` of ``shape`` and ``dtype``.

        Raises:
            TypeError: ``rng`` is not an ``np.random.Generator``.
            ValueError: bad shape, fans, or a non-floating ``dtype``.
        """
        dims = _check_shape(shape)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        out_dtype = np.dtype(dtype)
        if out_dtype.kind != "f":
            raise ValueError(f"dtype must be a real floating dtype, got {out_dtype}")
        s = self.stddev(fan_in, fan_out)
        if self.distribution == "normal":
            values = rng.standard_normal(dims) * s
        elif self.distribution == "uniform":
            values = rng.uniform(-s, s, size=dims)
        else:
            values = stats.truncnorm.rvs(-TRUNCATION, TRUNCATION, size=dims, random_state=rng) * s
        return np.asarray(values, dtype=np.float64).astype(out_dtype, copy=False)

    def describe(self) -> str:
        """Short human-readable form, e.g. ``glorot_normal: scale=1 fan_avg truncated_normal``."""
        prefix = f"{self.name}: " if self.name else ""
        return f"{prefix}scale={self.scale:g} {self.mode} {self.distribution}"


# JAX / Keras named initializers (jax.nn.initializers.glorot_normal etc.)
GLOROT_NORMAL = VarianceScaling(1.0, "fan_avg", "truncated_normal", name="glorot_normal")
GLOROT_UNIFORM = VarianceScaling(1.0, "fan_avg", "uniform", name="glorot_uniform")
HE_NORMAL = VarianceScaling(2.0, "fan_in", "truncated_normal", name="he_normal")
HE_UNIFORM = VarianceScaling(2.0, "fan_in", "uniform", name="he_uniform")
LECUN_NORMAL = VarianceScaling(1.0, "fan_in", "truncated_normal", name="lecun_normal")
LECUN_UNIFORM = VarianceScaling(1.0, "fan_in", "uniform", name="lecun_uniform")
# PyTorch: xavier_normal_(gain=1) and kaiming_normal_(mode='fan_in', nonlinearity='relu') are untruncated
XAVIER_NORMAL_TORCH = VarianceScaling(1.0, "fan_avg", "normal", name="xavier_normal_torch")
KAIMING_NORMAL_TORCH = VarianceScaling(2.0, "fan_in", "normal", name="kaiming_normal_torch")

#: name -> spec for every named instance above.
NAMED_SPECS: dict[str, VarianceScaling] = {
    spec.name: spec  # type: ignore[misc]
    for spec in (
        GLOROT_NORMAL,
        GLOROT_UNIFORM,
        HE_NORMAL,
        HE_UNIFORM,
        LECUN_NORMAL,
        LECUN_UNIFORM,
        XAVIER_NORMAL_TORCH,
        KAIMING_NORMAL_TORCH,
    )
}
