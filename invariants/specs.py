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
from functools import lru_cache
import re
import numbers
from dataclasses import dataclass, replace
from typing import Literal, Sequence

import numpy as np
from scipy import optimize, stats

from invariants.core.errors import BadInput
from invariants.laws import FLATTENINGS, Law, flattening_name

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
        raise BadInput(f"{what} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_shape(shape: Sequence[int]) -> tuple[int, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise BadInput(f"shape must be a sequence of integers, got {shape!r}") from None
    if len(dims) < 2:
        raise BadInput(f"weight shape needs at least 2 dims (fan_in/fan_out), got {dims!r}")
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
            raise BadInput(f"shape dims must be integers >= 1, got {dims!r}")
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
    #: truncated_normal only: ``True`` (JAX/Keras variance_scaling) divides the normal's std by
    #: :data:`TRUNCATED_NORMAL_STD` so the realised variance is ``scale/n``; ``False`` (old Keras, TF.js)
    #: draws ``N(0, scale/n)`` truncated at +-2 std, whose variance is ``0.7737 * scale/n``.
    corrected: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.scale, bool) or not isinstance(self.scale, numbers.Real):
            raise BadInput(f"scale must be a real number, got {self.scale!r}")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise BadInput(f"scale must be finite and > 0, got {self.scale!r}")
        if self.mode not in MODES:
            raise BadInput(f"unknown mode {self.mode!r}; expected one of {MODES}")
        if self.distribution not in DISTRIBUTIONS:
            raise BadInput(f"unknown distribution {self.distribution!r}; expected one of {DISTRIBUTIONS}")
        if not isinstance(self.corrected, bool):
            raise BadInput(f"corrected must be a bool, got {self.corrected!r}")
        if not self.corrected and self.distribution != "truncated_normal":
            raise BadInput("corrected=False applies to distribution='truncated_normal' only")

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
        return math.sqrt(var) / (TRUNCATED_NORMAL_STD if self.corrected else 1.0)

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
            raise BadInput(f"dtype must be a real floating dtype, got {out_dtype}")
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
        suffix = "" if self.corrected else " (uncorrected)"
        return f"{prefix}scale={self.scale:.6g} {self.mode} {self.distribution}{suffix}"

    # ---- common spec interface (see :data:`Spec`)
    uses_fans = True

    def law(self, fan_in: int, fan_out: int, shape: Sequence[int] | None = None) -> Law:
        """The distribution of one entry for these fans (``shape`` unused).

        Raises:
            ValueError: fans not integers >= 1.
        """
        s = self.stddev(fan_in, fan_out)
        label = f"{self.text()} on fans ({fan_in}, {fan_out})"
        if self.distribution == "normal":
            return Law.normal(0.0, s, label=label)
        if self.distribution == "uniform":
            return Law.uniform(-s, s, label=label)
        return Law.truncated_normal(0.0, s, -TRUNCATION * s, TRUNCATION * s, label=label)

    def text(self) -> str:
        """Canonical text accepted by :func:`parse_spec` (the name when it is a named instance)."""
        if self.name and SPEC_ALIASES.get(self.name) == self:
            return self.name
        extra = "" if self.corrected else ", corrected=false"
        return (f"variance_scaling(scale={_num(self.scale)}, mode={self.mode}, "
                f"distribution={self.distribution}{extra})")


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

#: ``(label, value)`` of the scale constants conventions use, simplest first: the numerators ``s`` of
#: ``Var = s / fan`` tried when a deviation is explained (:func:`invariants.audit.auditor.vs_candidates`)
#: and the values an estimated scale snaps to in :func:`invariants.audit.fingerprint.identify`.  The
#: gains are those of PyTorch's ``torch.nn.init.calculate_gain``, some also unsquared (a common slip).
KNOWN_SCALES: tuple[tuple[str, float], ...] = (
    ("1", 1.0),
    ("2", 2.0),
    ("1/3", 1 / 3),
    ("1/2", 0.5),
    ("2/3", 2 / 3),
    ("3", 3.0),
    ("6", 6.0),
    ("1/6", 1 / 6),
    ("4", 4.0),
    ("sqrt(2) (gain not squared)", math.sqrt(2.0)),
    ("25/9 (tanh gain^2)", 25 / 9),
    ("5/3 (tanh gain, not squared)", 5 / 3),
    ("9/16 (selu gain 3/4, squared: torch calculate_gain('selu'))", 0.5625),
    ("3/4 (selu gain, not squared)", 0.75),
    ("2/(1+0.01^2) (leaky_relu gain^2)", 2 / (1 + 1e-4)),
)


# --------------------------------------------------------------------------------------------------
# plain specs: fixed distributions that do not depend on fans


def _num(x: float) -> str:
    """Shortest faithful text for a number (``2``, ``0.02``, ``0.333333333333``)."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)


def _real(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise BadInput(f"{what} must be a finite real number, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Normal:
    """``N(mean, std^2)``, untruncated (``torch.nn.init.normal_``, ``jax.nn.initializers.normal``).

    Raises:
        ValueError: ``std`` not finite and > 0, ``mean`` not finite.
    """

    mean: float = 0.0
    std: float = 1.0
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        _real(self.mean, "mean")
        if _real(self.std, "std") <= 0:
            raise BadInput(f"std must be > 0, got {self.std!r}")

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        return Law.normal(self.mean, self.std, label=self.text())

    def text(self) -> str:
        return f"normal(mean={_num(self.mean)}, std={_num(self.std)})"

    describe = text


@dataclass(frozen=True)
class Uniform:
    """``U(a, b)`` (``torch.nn.init.uniform_``; Keras ``RandomUniform``).

    Raises:
        ValueError: bounds not finite or ``a >= b``.
    """

    a: float = -0.05
    b: float = 0.05
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        if not _real(self.a, "a") < _real(self.b, "b"):
            raise BadInput(f"uniform needs a < b, got a={self.a!r}, b={self.b!r}")

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        return Law.uniform(self.a, self.b, label=self.text())

    def text(self) -> str:
        return f"uniform({_num(self.a)}, {_num(self.b)})"

    describe = text


BOUNDS_UNITS = ("std", "absolute")


@dataclass(frozen=True)
class TruncatedNormal:
    """A normal truncated to ``[a, b]``.

    Attributes:
        mean: location of the normal (and the centre of ``std``-unit bounds).
        std: with ``corrected=False`` the std of the *untruncated* normal (what ``torch.nn.init.
            trunc_normal_``, ``jax.nn.initializers.truncated_normal`` and Keras ``TruncatedNormal`` take);
            with ``corrected=True`` the std of the *truncated* result (the normal's std is solved for).
        a, b: truncation bounds, ``a < b``.
        bounds: ``"std"``: ``a``, ``b`` in units of the normal's std about ``mean`` (JAX, Keras);
            ``"absolute"``: ``a``, ``b`` are weight values (PyTorch ``trunc_normal_``).
        corrected: see ``std``.

    Raises:
        ValueError: non-finite values, ``std <= 0``, ``a >= b``, unknown ``bounds``, or a corrected
            std the interval cannot reach (``std >= (b - a)/sqrt(12)`` with absolute bounds).
    """

    mean: float = 0.0
    std: float = 1.0
    a: float = -2.0
    b: float = 2.0
    bounds: str = "std"
    corrected: bool = False
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        _real(self.mean, "mean")
        if _real(self.std, "std") <= 0:
            raise BadInput(f"std must be > 0, got {self.std!r}")
        if not _real(self.a, "a") < _real(self.b, "b"):
            raise BadInput(f"truncated_normal needs a < b, got a={self.a!r}, b={self.b!r}")
        if self.bounds not in BOUNDS_UNITS:
            raise BadInput(f"bounds must be one of {BOUNDS_UNITS}, got {self.bounds!r}")
        if not isinstance(self.corrected, bool):
            raise BadInput(f"corrected must be a bool, got {self.corrected!r}")
        self.law()  # validates reachability

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        mean, std, a, b = float(self.mean), float(self.std), float(self.a), float(self.b)
        if self.bounds == "std":
            sigma = std / float(stats.truncnorm.std(a, b)) if self.corrected else std
            lo, hi = mean + a * sigma, mean + b * sigma
        else:
            lo, hi = a, b
            sigma = _solve_sigma(mean, std, lo, hi) if self.corrected else std
        return Law.truncated_normal(mean, sigma, lo, hi, label=self.text())

    def text(self) -> str:
        return (f"truncated_normal(mean={_num(self.mean)}, std={_num(self.std)}, a={_num(self.a)}, "
                f"b={_num(self.b)}, bounds={self.bounds}, corrected={str(self.corrected).lower()})")

    describe = text


@lru_cache(maxsize=256)
def _solve_sigma(mean: float, std: float, lo: float, hi: float) -> float:
    """The normal's std whose restriction to ``[lo, hi]`` has std ``std`` (it grows monotonically).

    Memoized (a pure function of its four floats): a spec's law is resolved for every unit of an audit, and each
    solve is ~30 calls of scipy's ``truncnorm.std``."""
    def f(log_s: float) -> float:
        s = math.exp(log_s)
        return float(stats.truncnorm.std((lo - mean) / s, (hi - mean) / s, loc=mean, scale=s)) - std

    if not lo < mean < hi or std >= (hi - lo) / math.sqrt(12.0) * (1 - 1e-9):
        raise BadInput(f"no normal truncated to [{lo!r}, {hi!r}] has std {std!r}")
    return math.exp(optimize.brentq(f, math.log(std) - 5, math.log((hi - lo) * 1e6), xtol=1e-14))


@dataclass(frozen=True)
class Constant:
    """Every entry equal to ``value`` (``zeros``, ``ones``, ``torch.nn.init.constant_``)."""

    value: float = 0.0
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        _real(self.value, "value")

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        return Law.constant(self.value, label=self.text())

    def text(self) -> str:
        if float(self.value) == 0.0:
            return "zeros"
        if float(self.value) == 1.0:
            return "ones"
        return f"constant({_num(self.value)})"

    describe = text


@dataclass(frozen=True)
class Orthogonal:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014): rows orthonormal if rows <= cols,
    else columns, after flattening by ``rows_axis`` (a name in :data:`invariants.laws.FLATTENINGS`:
    ``"first"``: PyTorch ``orthogonal_``; ``"last"``: JAX/Keras ``orthogonal``).  ``E[w^2] = gain^2 / max(rows, cols)``.

    Raises:
        ValueError: ``gain`` not finite and > 0, unknown ``rows_axis``.
    """

    gain: float = 1.0
    #: ``"first"``, ``"last"``, or ``None``: the framework's own convention (:meth:`for_unit_axis` fills
    #: it in from the framework's layout; ``"first"`` if none does).
    rows_axis: str | None = None
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        if _real(self.gain, "gain") <= 0:
            raise BadInput(f"gain must be > 0, got {self.gain!r}")
        if self.rows_axis is not None and self.rows_axis not in FLATTENINGS:
            raise BadInput(f"rows_axis must be 'first' or 'last', got {self.rows_axis!r}")

    def for_unit_axis(self, unit_axis: int) -> "Orthogonal":
        """This spec with the flattening that keeps ``unit_axis`` whole (a framework layout's
        ``unit_axis``) unless it names its own.

        Raises:
            ValueError: no orthogonal flattening keeps ``unit_axis``.
        """
        return self if self.rows_axis is not None else replace(self, rows_axis=flattening_name(unit_axis))

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        if shape is None:
            raise BadInput("an orthogonal law needs the tensor shape")
        return Law.orthogonal(self.gain, tuple(shape), FLATTENINGS[self.rows_axis or "first"], label=self.text())

    def text(self) -> str:
        extra = f", rows={self.rows_axis}" if self.rows_axis else ""
        return f"orthogonal(gain={_num(self.gain)}{extra})"

    describe = text


# --------------------------------------------------------------------------------------------------
# structured specs: a pattern fixed by the shape (dirac, eye) or exact zero counts (sparse)

#: how a sparse spec counts its zeros -> the axis the count runs along (:attr:`invariants.laws.Law.unit_axis`)
SPARSE_PER: dict[str, int] = {"column": 0, "row": 1}


@dataclass(frozen=True)
class Sparse:
    """Martens' sparse initialization as ``torch.nn.init.sparse_(w, sparsity, std)`` implements it
    (torch/nn/init.py, 2-D only): every **column** of the ``(rows, cols)`` weight holds exactly
    ``ceil(sparsity * rows)`` zeros at uniformly random rows, the other entries i.i.d. ``N(mean, std^2)``.
    ``per="row"``: every row holds ``ceil(sparsity * cols)`` zeros (``mlx.nn.init.sparse``, which also takes
    ``mean``).  Law: :meth:`invariants.laws.Law.sparse`.

    Raises:
        ValueError: ``sparsity`` outside [0, 1], ``std`` not finite and > 0, ``mean`` not finite, ``per``
            not ``"column"`` or ``"row"``.
    """

    sparsity: float
    std: float = 0.01
    mean: float = 0.0
    per: str = "column"
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        if not 0.0 <= _real(self.sparsity, "sparsity") <= 1.0:
            raise BadInput(f"sparsity must lie in [0, 1], got {self.sparsity!r}")
        if _real(self.std, "std") <= 0:
            raise BadInput(f"std must be > 0, got {self.std!r}")
        _real(self.mean, "mean")
        if self.per not in SPARSE_PER:
            raise BadInput(f"per must be 'column' (torch sparse_) or 'row' (mlx sparse), got {self.per!r}")

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        if shape is None:
            raise BadInput("a sparse law needs the tensor shape")
        return Law.sparse(self.sparsity, self.std, tuple(shape), SPARSE_PER[self.per], self.mean, label=self.text())

    def text(self) -> str:
        extra = (f", mean={_num(self.mean)}" if self.mean else "") + (f", per={self.per}" if self.per != "column" else "")
        return f"sparse(sparsity={_num(self.sparsity)}, std={_num(self.std)}{extra})"

    describe = text


@dataclass(frozen=True)
class Dirac:
    """``torch.nn.init.dirac_(w, groups)`` (torch/nn/init.py): a 3-5-D conv weight that passes each group's
    first ``min(out/G, in/G)`` input channels through unchanged: ``gain`` (torch: 1) at the kernel centre
    (index ``k // 2`` on every spatial axis) of each group's channel diagonal, every other entry exactly 0.
    ``out_axis``: ``"first"`` for ``(out, in/G, *k)`` weights (PyTorch), ``"last"`` for ``(*k, in/G, out)``
    (JAX, Flax, Keras); ``None``: the framework's own (:meth:`for_unit_axis`).  Law:
    :meth:`invariants.laws.Law.dirac`.

    Raises:
        ValueError: ``groups`` not an integer >= 1, ``gain`` 0 or not finite, unknown ``out_axis``.
    """

    groups: int = 1
    gain: float = 1.0
    out_axis: str | None = None
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        if isinstance(self.groups, bool) or not isinstance(self.groups, numbers.Integral) or self.groups < 1:
            raise BadInput(f"groups must be an integer >= 1, got {self.groups!r}")
        if _real(self.gain, "gain") == 0:
            raise BadInput("gain must be non-zero")
        if self.out_axis is not None and self.out_axis not in FLATTENINGS:
            raise BadInput(f"out_axis must be 'first' or 'last', got {self.out_axis!r}")

    def for_unit_axis(self, unit_axis: int) -> "Dirac":
        """This spec with the output-channel axis of a framework layout (its ``unit_axis``) unless it names one.

        Raises:
            ValueError: the layout's unit axis is neither the first nor the last.
        """
        return self if self.out_axis is not None else replace(self, out_axis=flattening_name(unit_axis))

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        if shape is None:
            raise BadInput("a dirac law needs the tensor shape")
        return Law.dirac(tuple(shape), int(self.groups), self.gain, FLATTENINGS[self.out_axis or "first"],
                         label=self.text())

    def text(self) -> str:
        extra = (f", gain={_num(self.gain)}" if self.gain != 1 else "") + (f", out={self.out_axis}" if self.out_axis else "")
        return f"dirac(groups={int(self.groups)}{extra})"

    describe = text


@dataclass(frozen=True)
class Eye:
    """``gain`` times the identity matrix, rectangular, 2-D only: ``torch.nn.init.eye_`` (gain 1),
    ``keras.initializers.Identity(gain)``, ``mlx.nn.init.identity``; every off-diagonal entry exactly 0.
    Law: :meth:`invariants.laws.Law.eye`.

    Raises:
        ValueError: ``gain`` 0 or not finite.
    """

    gain: float = 1.0
    name: str | None = None
    uses_fans = False

    def __post_init__(self) -> None:
        if _real(self.gain, "gain") == 0:
            raise BadInput("gain must be non-zero")

    def law(self, fan_in: int | None = None, fan_out: int | None = None, shape: Sequence[int] | None = None) -> Law:
        if shape is None:
            raise BadInput("an eye law needs the tensor shape")
        return Law.eye(tuple(shape), self.gain, label=self.text())

    def text(self) -> str:
        return "eye()" if self.gain == 1 else f"eye(gain={_num(self.gain)})"

    describe = text


#: Any initializer spec: each has ``law(fan_in, fan_out, shape) -> Law``, ``text()``, ``describe()``,
#: and ``uses_fans`` (whether the fans change the law).
Spec = VarianceScaling | Normal | Uniform | TruncatedNormal | Constant | Orthogonal | Sparse | Dirac | Eye

ZEROS = Constant(0.0, name="zeros")
ONES = Constant(1.0, name="ones")

#: Every name :func:`parse_spec` accepts without arguments.  ``xavier_normal`` / ``kaiming_normal``
#: are PyTorch's *untruncated* normals; ``glorot_normal`` / ``he_normal`` / ``lecun_normal`` are
#: JAX/Keras' corrected truncated normals.
SPEC_ALIASES: dict[str, Spec] = {
    **NAMED_SPECS,
    "xavier_uniform": GLOROT_UNIFORM,
    "xavier_normal": XAVIER_NORMAL_TORCH,
    "kaiming_uniform": HE_UNIFORM,
    "kaiming_normal": KAIMING_NORMAL_TORCH,
    "zeros": ZEROS,
    "ones": ONES,
    "orthogonal": Orthogonal(1.0, name="orthogonal"),
    # structured; ``sparse`` has no alias: neither torch's sparse_ nor mlx's sparse has a default sparsity
    "dirac": Dirac(1, name="dirac"),
    "eye": Eye(1.0, name="eye"),
    # Keras' and MLX's name for eye (a conv's identity is ``dirac``)
    "identity": Eye(1.0, name="identity"),
}

#: specs that need arguments, with the example :func:`parse_spec` names when one is given bare
NEEDS_ARGS: dict[str, str] = {"sparse": "sparse(sparsity=0.9, std=0.01)"}

#: how to call the spec functions that have no bare-name form: a bare ``normal`` names the family, not a law,
#: so the error shows the call (``--expect normal`` used to say "unknown spec" while listing ``normal``)
CALL_EXAMPLES: dict[str, str] = {"normal": "normal(std=0.02)", "uniform": "uniform(-0.05, 0.05)",
                                 "truncated_normal": "truncated_normal(std=0.02)", "constant": "constant(0.1)",
                                 "variance_scaling": "variance_scaling(scale=2.0, mode=fan_in, distribution=normal)",
                                 **NEEDS_ARGS}
#: Names whose law depends on the framework (JAX/Keras: a *truncated* normal corrected to the target
#: variance; PyTorch and MLX: an *untruncated* normal of that variance), resolved by
#: :func:`parse_spec`'s ``framework``: ``(name, framework) -> spec`` whose name says what it means there.
#: Sources: jax/_src/nn/initializers.py ``he_normal``/``glorot_normal``/``lecun_normal`` and
#: keras/src/initializers/random_initializers.py ``HeNormal``/``GlorotNormal``/``LecunNormal``
#: (``truncated_normal``); torch/nn/init.py ``kaiming_normal_``/``xavier_normal_`` (``tensor.normal_``; torch
#: has no ``lecun_normal``: its documented SELU recipe is ``kaiming_normal_(nonlinearity='linear')``, i.e.
#: N(0, 1/fan_in)); mlx/nn/init.py ``he_normal``/``glorot_normal`` (``mx.random.normal``).  With no framework
#: the names keep the JAX/Keras meaning of :data:`SPEC_ALIASES`.
def _framework_names() -> dict[tuple[str, str], "Spec"]:
    variance = {"he_normal": "2/fan_in", "glorot_normal": "2/(fan_in + fan_out)", "lecun_normal": "1/fan_in"}
    truncated = {"jax": "jax.nn.initializers.{}", "flax": "flax.linen.initializers.{}",
                 "equinox": "jax.nn.initializers.{}", "keras": "keras.initializers.{}"}
    keras_class = {"he_normal": "HeNormal", "glorot_normal": "GlorotNormal", "lecun_normal": "LecunNormal"}
    # name -> (the untruncated spec, torch's function, mlx's function)
    untruncated = {
        "he_normal": (KAIMING_NORMAL_TORCH, "kaiming_normal_(mode='fan_in', nonlinearity='relu')",
                      "mlx.nn.init.he_normal()"),
        "glorot_normal": (XAVIER_NORMAL_TORCH, "xavier_normal_", "mlx.nn.init.glorot_normal()"),
        "lecun_normal": (VarianceScaling(1.0, "fan_in", "normal"), "kaiming_normal_(nonlinearity='linear')",
                         "the untruncated rule of mlx's he_normal/glorot_normal (mlx has no lecun_normal)"),
    }
    out: dict[tuple[str, str], Spec] = {}
    for name, spec in (("he_normal", HE_NORMAL), ("glorot_normal", GLOROT_NORMAL), ("lecun_normal", LECUN_NORMAL)):
        for fw, call in truncated.items():
            fn = call.format(keras_class[name] if fw == "keras" else name)
            out[(name, fw)] = replace(spec, name=f"{name} under {fw} = {fn}: truncated normal (+-2 std, corrected) "
                                                 f"of variance {variance[name]}")
        normal, torch_fn, mlx_fn = untruncated[name]
        for fw, fn in (("torch", torch_fn), ("mlx", mlx_fn)):
            out[(name, fw)] = replace(normal, name=f"{name} under {fw} = {fn}: N(0, {variance[name]}), untruncated")
    return out


FRAMEWORK_NAMES: dict[tuple[str, str], Spec] = _framework_names()


def framework_name(text: str, framework: str | None) -> str | None:
    """What a framework-ambiguous spec name means under ``framework`` (``"he_normal under torch =
    kaiming_normal_ ...: N(0, 2/fan_in), untruncated"``), or ``None`` when ``text`` is not such a name or
    no framework is given (see :data:`FRAMEWORK_NAMES`)."""
    if framework is None or not isinstance(text, str):
        return None
    hit = FRAMEWORK_NAMES.get((text.strip().lower().removesuffix("()").strip(), framework))
    return hit.name if hit else None


_BOOL = {"true": True, "false": False}
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)

#: function name -> (constructor, positional parameter names, accepted keyword aliases)
_FUNCS: dict[str, tuple[type, tuple[str, ...], dict[str, str]]] = {
    "variance_scaling": (VarianceScaling, ("scale", "mode", "distribution"), {}),
    "normal": (Normal, ("mean", "std"), {"stddev": "std", "sigma": "std"}),
    "uniform": (Uniform, ("a", "b"), {"low": "a", "high": "b", "minval": "a", "maxval": "b"}),
    "truncated_normal": (TruncatedNormal, ("mean", "std", "a", "b"),
                         {"stddev": "std", "lower": "a", "upper": "b"}),
    "constant": (Constant, ("value",), {}),
    "orthogonal": (Orthogonal, ("gain",), {"scale": "gain", "rows": "rows_axis"}),
    "sparse": (Sparse, ("sparsity", "std"), {"stddev": "std", "sigma": "std"}),
    "dirac": (Dirac, ("groups",), {"out": "out_axis"}),
    "eye": (Eye, ("gain",), {"scale": "gain"}),
    "identity": (Eye, ("gain",), {"scale": "gain"}),
}


def split_args(body: str) -> list[str]:
    """Split ``"1, (2, 3), k=4"`` on top-level commas (parentheses nest)."""
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise BadInput("unbalanced parentheses")
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise BadInput("unbalanced parentheses")
    tail = "".join(cur).strip()
    if tail or parts:
        parts.append(tail)
    if any(not p for p in parts):
        raise BadInput("empty argument")
    return parts


def _value(text: str) -> object:
    low = text.strip().lower()
    if low in _BOOL:
        return _BOOL[low]
    try:
        return int(low)
    except ValueError:
        pass
    try:
        return float(low)
    except ValueError:
        pass
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", low):
        return low
    raise BadInput(f"cannot read value {text.strip()!r}")


def parse_spec(text: str, framework: str | None = None) -> Spec:
    """Parse the CLI spec syntax.

    ``framework`` (``torch``, ``jax``, ``flax``, ``keras``, ``equinox``, ``mlx``; others and ``None`` change
    nothing) resolves the framework-ambiguous names ``he_normal``, ``glorot_normal`` and ``lecun_normal``
    (:data:`FRAMEWORK_NAMES`): under torch and mlx they are *untruncated* normals (torch's
    ``kaiming_normal_``/``xavier_normal_``), under jax/flax/equinox/keras the corrected truncated
    normals; the returned spec's name says which (``he_normal under torch = kaiming_normal_ ...``), so
    every report that prints it names the law used.  Without a framework they keep the JAX/Keras
    meaning.

    Accepted forms: a name from :data:`SPEC_ALIASES` (``he_normal``, ``glorot_uniform``,
    ``xavier_normal``, ``zeros``, ...) or a call with positional and/or keyword arguments::

        variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal[, corrected=false])
        normal(std=0.02)          normal(0, 0.02)
        uniform(-0.05, 0.05)      uniform(a=0, b=1)
        truncated_normal(std=0.02, a=-2, b=2, bounds=std|absolute, corrected=false)
        constant(0.5)             orthogonal(gain=1[, rows=first|last])
        sparse(sparsity=0.9, std=0.01[, mean=0, per=column|row])
        dirac  dirac(groups=2[, gain=1, out=first|last])   eye  eye(gain=2)  identity (= eye)

    ``scale=1/3`` style fractions are not accepted; write ``0.3333333333333333``.

    Raises:
        ValueError: one line naming the problem (unknown name, bad argument, out-of-range value).
    """
    if not isinstance(text, str):
        raise BadInput(f"spec must be a string, got {type(text).__name__}")
    m = _CALL.match(text)
    if not m:
        raise BadInput(f"cannot parse spec {text!r}; expected NAME or NAME(ARGS), e.g. he_normal or normal(std=0.02)")
    name, body = m.group(1).lower(), m.group(2)
    resolved = FRAMEWORK_NAMES.get((name, framework)) if framework and not (body or "").strip() else None
    if resolved is not None:
        return resolved
    if body is None:
        if name in SPEC_ALIASES:
            return SPEC_ALIASES[name]
        if name in NEEDS_ARGS:
            raise BadInput(f"spec {name} needs arguments, e.g. {NEEDS_ARGS[name]}")
        if name in _FUNCS:
            raise BadInput(f"spec {name} needs its parameters in parentheses, e.g. "
                           f"{CALL_EXAMPLES.get(name, name + '(...)')}")
        raise BadInput(f"unknown spec {name!r}; known: {', '.join(sorted(set(SPEC_ALIASES) | set(_FUNCS)))}")
    if not body.strip() and name in NEEDS_ARGS:
        raise BadInput(f"spec {name}() needs arguments, e.g. {NEEDS_ARGS[name]}")
    if name not in _FUNCS:
        if name in SPEC_ALIASES and not body.strip():
            return SPEC_ALIASES[name]
        raise BadInput(f"unknown spec function {name!r}; known: {', '.join(sorted(_FUNCS))}")
    cls, positional, aliases = _FUNCS[name]
    try:
        args = split_args(body)
    except ValueError as exc:
        raise BadInput(f"cannot parse spec {text!r}: {exc}") from None
    kwargs: dict[str, object] = {}
    seen_kw = False
    for i, arg in enumerate(args):
        if "=" in arg:
            key, _, val = arg.partition("=")
            key = key.strip().lower()
            key = aliases.get(key, key)
            seen_kw = True
        else:
            if seen_kw:
                raise BadInput(f"spec {text!r}: positional argument after a keyword argument")
            if i >= len(positional):
                raise BadInput(f"spec {name}() takes at most {len(positional)} positional arguments")
            key, val = positional[i], arg
        if key in kwargs:
            raise BadInput(f"spec {text!r}: argument {key!r} given twice")
        kwargs[key] = _value(val)
    fields = {f for f in cls.__dataclass_fields__ if f != "name"}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        raise BadInput(f"spec {name}() has no argument {unknown[0]!r}; arguments: {', '.join(sorted(fields))}")
    if cls is Uniform and set(kwargs) != {"a", "b"}:
        raise BadInput("uniform() needs both bounds, e.g. uniform(-0.05, 0.05)")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"invalid spec {text!r}: {exc}") from None
