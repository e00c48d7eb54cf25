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
- ``sparse``: a 2-D tensor whose every column (``unit_axis=0``, ``torch.nn.init.sparse_``) or row
  (``unit_axis=1``, ``mlx.nn.init.sparse``) holds exactly ``k`` zeros at uniformly random positions, the other
  entries i.i.d. ``N(loc, scale^2)`` (:meth:`Law.sparse`; Martens 2010, "Deep learning via Hessian-free
  optimization", Sec. 5).
- ``dirac`` and ``eye``: one fixed tensor (:func:`structured_tensor`): ``gain`` at the kernel centre of each
  group's channel diagonal (``torch.nn.init.dirac_``), or ``gain`` times the identity matrix
  (``torch.nn.init.eye_``, ``keras.initializers.Identity``); every other entry exactly 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special, stats

from invariants.core.errors import BadInput

#: cut points this many standard deviations out leave a mass of 2e-9 per side: the truncation is immaterial
NEGLIGIBLE_TRUNCATION_Z = 6.0

KINDS = ("normal", "uniform", "truncated_normal", "constant", "orthogonal", "sparse", "dirac", "eye")
#: kinds whose every entry is fixed by the shape (no randomness): checked exactly, entry by entry
FIXED_PATTERN_KINDS = ("dirac", "eye")
#: kinds with a structure beyond i.i.d. entries (checked by :mod:`invariants.stats.structured`)
STRUCTURED_KINDS = ("sparse", *FIXED_PATTERN_KINDS)


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
        gain: ``orthogonal``, ``dirac`` and ``eye``: the scale of the matrix / the value of the ones.
        unit_axis: ``orthogonal``: the axis kept whole when the tensor is flattened to a matrix
            (:func:`as_matrix`): ``0`` (rows = dim 0, trailing dims flattened into the columns; PyTorch)
            or ``-1`` (columns = last axis, leading dims flattened into the rows; JAX, Keras); a
            framework's is its layout's ``unit_axis``.  ``dirac``: the output-channel axis (``0``:
            ``(out, in/G, *k)``, PyTorch; ``-1``: ``(*k, in/G, out)``, JAX/Flax/Keras).  ``sparse``: the axis
            the zeros are counted along (``0``: every column holds ``k`` zeros, PyTorch ``sparse_``; ``1``:
            every row, MLX ``sparse``).
        sparsity: ``sparse`` only: the fraction of each counted slice that is zero, ``k / n`` exactly
            (``k = ceil(s * n)`` for the spec's sparsity ``s``, ``n`` the slice length).
        groups: ``dirac`` only: the number of convolution groups (each group's block holds its own diagonal).
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
    sparsity: float = 0.0
    groups: int = 1
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

    @staticmethod
    def sparse(sparsity: float, std: float, shape: tuple[int, ...], count_axis: int = 0, mean: float = 0.0,
               label: str = "") -> "Law":
        """``torch.nn.init.sparse_`` (``count_axis=0``) or ``mlx.nn.init.sparse`` (``count_axis=1``) on ``shape``.

        Each slice along ``count_axis`` (length ``n = shape[count_axis]``) holds exactly
        ``k = ceil(sparsity * n)`` zeros (computed as both frameworks do, ``math.ceil(sparsity * n)`` in
        float64); the other entries are ``N(mean, std^2)``.  The law's ``mean``, ``variance`` and
        ``kurtosis`` are those of one entry of the mixture (``q = k/n`` at 0).  ``k = 0`` is a plain
        normal law and ``k = n`` the constant 0.

        Raises:
            ValueError: ``shape`` not 2-D, ``sparsity`` outside [0, 1], ``std`` not > 0.
        """
        shape = tuple(int(d) for d in shape)
        if len(shape) != 2:
            raise BadInput(f"a sparse law needs a 2-D shape (torch sparse_ and mlx sparse are 2-D only), got {shape}")
        if count_axis not in (0, 1):
            raise BadInput(f"sparse count axis must be 0 (per column) or 1 (per row), got {count_axis!r}")
        sparsity, std, mean = float(sparsity), _positive(std, "std"), float(mean)
        if not 0.0 <= sparsity <= 1.0:
            raise BadInput(f"sparsity must lie in [0, 1], got {sparsity!r}")
        n = shape[count_axis]
        k = min(n, math.ceil(sparsity * n))
        if k == 0:
            return Law.normal(mean, std, label=label)
        if k == n:
            return Law.constant(0.0, label=label or "sparse: every entry zeroed")
        q = k / n
        mu = (1 - q) * mean
        d = mean - mu
        var = (1 - q) * (std * std + d * d) + q * mu * mu
        m4 = q * mu**4 + (1 - q) * (d**4 + 6 * d * d * std * std + 3 * std**4)
        per = "column" if count_axis == 0 else "row"
        return Law("sparse", mu, var, -math.inf, math.inf, m4 / (var * var), mean, std, 1.0, count_axis, q,
                   label=label or f"sparse: {k} of {n} zeros per {per}, others N({mean:.6g}, {std:.6g}^2)")

    @staticmethod
    def dirac(shape: tuple[int, ...], groups: int = 1, gain: float = 1.0, unit_axis: int = 0,
              label: str = "") -> "Law":
        """``torch.nn.init.dirac_(w, groups)`` (times ``gain``) on a 3-5-D conv weight: see :func:`structured_tensor`.

        Raises:
            ValueError: not 3-5-D, ``groups`` < 1 or not dividing the output channels, ``gain`` 0 or not finite.
        """
        return _pattern_law("dirac", tuple(int(d) for d in shape), groups, gain, unit_axis,
                            label or f"dirac(groups={groups}, gain={float(gain):.6g})")

    @staticmethod
    def eye(shape: tuple[int, ...], gain: float = 1.0, label: str = "") -> "Law":
        """``gain`` times the (rectangular) identity matrix (``torch.nn.init.eye_``, ``keras.initializers.Identity``).

        Raises:
            ValueError: ``shape`` not 2-D, ``gain`` 0 or not finite.
        """
        return _pattern_law("eye", tuple(int(d) for d in shape), 1, gain, 0, label or f"eye(gain={float(gain):.6g})")

    def nonzero_law(self) -> "Law":
        """``sparse`` only: the law of the entries that were not zeroed, ``N(loc, scale^2)``."""
        if self.kind != "sparse":
            raise BadInput(f"a {self.kind} law has no separate law of its non-zero entries")
        return Law.normal(self.loc, self.scale, label=f"non-zero entries of {self.label}")

    # ------------------------------------------------------------------ properties
    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    @property
    def truncation_negligible(self) -> bool:
        """A truncated normal cut at least :data:`NEGLIGIBLE_TRUNCATION_Z` standard deviations (of its normal)
        from its centre on both sides (timm/torch ``trunc_normal_(std=0.02)`` keeps the absolute bounds
        +-2, i.e. +-100 std): its tails are a normal's, so tests of the tails treat it as unbounded."""
        return (self.kind == "truncated_normal" and (self.loc - self.lo) / self.scale >= NEGLIGIBLE_TRUNCATION_Z
                and (self.hi - self.loc) / self.scale >= NEGLIGIBLE_TRUNCATION_Z)

    def standard_cut_points(self) -> tuple[float, float]:
        """``truncated_normal`` only: the cut points in standard deviations of the underlying normal,
        ``((lo - loc) / scale, (hi - loc) / scale)`` (``(-2, 2)`` for torch's ``trunc_normal_`` defaults at
        std 1; ``(-100, 100)`` at ``std=0.02``) — what :class:`~invariants.stats.saddlepoint.SquaredDeviation`
        needs for the law's cumulant generating function.

        Raises:
            BadInput: another kind.
        """
        if self.kind != "truncated_normal":
            raise BadInput(f"a {self.kind} law has no truncation points")
        return (self.lo - self.loc) / self.scale, (self.hi - self.loc) / self.scale

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


def _pattern_law(kind: str, shape: tuple[int, ...], groups: int, gain: float, unit_axis: int, label: str) -> Law:
    gain = float(gain)
    if not (math.isfinite(gain) and gain != 0.0):
        raise BadInput(f"gain must be finite and non-zero, got {gain!r}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise BadInput(f"groups must be an integer >= 1, got {groups!r}")
    probe = Law(kind, 0.0, 0.0, 0.0, 0.0, math.nan, 0.0, 0.0, gain, unit_axis, 0.0, int(groups))
    ones = int(np.count_nonzero(structured_tensor(probe, shape)))
    size = math.prod(shape)
    mean = gain * ones / size
    var = gain * gain * ones / size - mean * mean
    return Law(kind, mean, var, min(0.0, gain), max(0.0, gain), math.nan, 0.0, 0.0, gain, unit_axis, 0.0,
               int(groups), label=f"{label} on {shape}")


def structured_tensor(law: Law, shape: tuple[int, ...]) -> np.ndarray:
    """The one tensor a ``dirac`` or ``eye`` law allows, float64.

    ``eye``: ``gain * I`` of ``shape`` (2-D, rectangular: ones at ``(i, i)``, ``i < min(shape)``;
    ``torch.eye``, ``keras.ops.eye``).  ``dirac`` (``torch.nn.init.dirac_``, torch/nn/init.py): with the
    weight read as ``(out, in/G, *k)`` (``unit_axis=0``; ``-1``: ``(*k, in/G, out)``), ``opg = out // G``,
    entry ``[g*opg + d, d, k_1//2, ..., k_r//2] = gain`` for every group ``g < G`` and ``d < min(opg, in/G)``.

    Raises:
        ValueError: a shape the law cannot fill (rank, groups not dividing the output channels), or a
            kind without a fixed tensor.
    """
    shape = tuple(int(d) for d in shape)
    if law.kind == "eye":
        if len(shape) != 2:
            raise BadInput(f"eye needs a 2-D shape (torch eye_ and keras Identity are 2-D only), got {shape}")
        return law.gain * np.eye(*shape)
    if law.kind != "dirac":
        raise BadInput(f"a {law.kind} law has no fixed tensor")
    if not 3 <= len(shape) <= 5:
        raise BadInput(f"dirac needs a 3-, 4- or 5-D conv weight (torch dirac_), got shape {shape}")
    if law.unit_axis not in (0, -1):
        raise BadInput(f"dirac output-channel axis must be 0 (out, in, *k) or -1 (*k, in, out), got {law.unit_axis}")
    # torch layout (out, in/G, *k); the other layout is its axes reversed to (*k, in/G, out)
    t_shape = shape if law.unit_axis == 0 else (shape[-1], shape[-2], *shape[:-2])
    out, cin, kernel = t_shape[0], t_shape[1], t_shape[2:]
    if out % law.groups:
        raise BadInput(f"dirac: {out} output channels are not divisible by groups={law.groups}")
    opg = out // law.groups
    w = np.zeros(t_shape)
    centre = tuple(k // 2 for k in kernel)
    for g in range(law.groups):
        for d in range(min(opg, cin)):
            w[(g * opg + d, d, *centre)] = law.gain
    return w if law.unit_axis == 0 else np.moveaxis(w, (0, 1), (-1, -2))


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
