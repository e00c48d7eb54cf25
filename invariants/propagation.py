"""Mean-field signal propagation through deep random networks, checked on the reference network.

Conventions (Poole et al. 2016, "Exponential expressivity in deep neural networks through transient
chaos", NeurIPS, eq. 3; Schoenholz et al. 2017, "Deep Information Propagation", ICLR: the length map,
``χ_1`` and the gradient recursion).
Layer l = 1..L maps ``h_{l-1}`` (width ``N_{l-1}``) to ``z_l = W_l h_{l-1} + b_l``, ``h_l = φ(z_l)``
for hidden layers, with the input ``h_0 = x`` and a linear output layer.  Weights are i.i.d., zero
mean, ``Var(W_l) = σ_w,l² / N_{l-1}``; biases i.i.d. ``N(0, σ_b²)``.  So ``σ_w² = Var(W)·fan_in`` is
the scheme's *per-layer gain factor*: 1 for LeCun, 2 for He, ``2·fan_in/(fan_in+fan_out)`` for Glorot,
``std²·fan_in`` for a fixed std.

Mean-field (infinite width) recursions, with ``z ~ N(0, 1)`` and ``E_q[f] = E[f(√q z)]``:

- forward, pre-activation second moment per unit: ``q_1 = σ_w,1²·q_0 + σ_b²`` (the input is not passed
  through φ; ``q_0 = ‖x‖²/N_0``), ``q_{l+1} = V_l(q_l) = σ_w,l+1²·E_{q_l}[φ²] + σ_b²``;
- backward, second moment of ``δ_l = ∂L/∂z_l`` per unit: ``p_l = χ_l·p_{l+1}`` with the per-layer
  gradient factor ``χ_l = Var(W_{l+1})·N_{l+1}·E_{q_l}[φ'²]`` (``= σ_w²·E[φ'²]`` at equal widths),
  under the gradient-independence assumption (Schoenholz et al. 2017, Sec. 4);
- a fixed point ``q* = V(q*)`` with ``χ(q*) = 1`` is "critical" (edge of chaos): ``χ < 1`` vanishing,
  ``χ > 1`` exploding gradients.

Sampling band (how far a finite network may stray from the mean-field curve).  Follow one input
``x`` with ``‖x‖² = N_0 q_0``.  Given ``h_{l-1}``, the ``N_l`` pre-activations of layer l are *exactly*
i.i.d. ``N(0, v_l)`` with ``v_l = Var(W_l)‖h_{l-1}‖² + σ_b²`` (rows of ``W_l`` and entries of ``b_l`` are
independent Gaussians), so ``v_1 = q_1`` exactly and ``v_{l+1} = σ_w²·mean_i φ(√v_l ξ_i)² + σ_b²`` with
fresh ``ξ_i ~ N(0, 1)``: a Markov chain whose mean map is the mean-field map.  Writing
``u_l = log v_l − log q_l``, to first order (delta method)::

    u_{l+1} = g_l u_l + ε_l,   g_l = d log V/d log q = σ_w²·√q E[z φ φ'] / V,
    Var ε_l = r_l² = σ_w⁴ (E[φ⁴] − E[φ²]²) / (N_l V²)

so ``S_l = Var u_l`` obeys ``S_1 = 0, S_{l+1} = g_l² S_l + r_l²``: a multiplicative random walk
(``r² = 2/N`` per layer for the identity, ``5/N`` for ReLU, consistent with Hanin & Rolnick 2018, whose
ReLU fluctuations are governed by ``5·Σ_j 1/n_j``; it compounds
through depth, ``S_L = O(L/N)``, and contracts where ``|g| < 1``, e.g. tanh).  The measured second
moment ``m_l = v_l·χ²_{N_l}/N_l`` adds ``2/N_l``.  Second-order (Jensen) terms give a bias bounded by
``b_{l+1} = |g| b_l + ½|dg/d log q|(S_l + b_l²) + ½ r_l²`` (``+ 1/N_l`` for the measurement), which is
``O(depth/width)``.  Backward, under gradient independence, ``(W_{l+1}ᵀ δ_{l+1})_i`` is
``N(0, Var(W_{l+1})‖δ_{l+1}‖²)``, so ``log p_l − log p_L = Σ_{k=l}^{L-1} (log χ_k + η_k + h_k u_k)`` with
per-step noise ``η_k`` of variance ``r̃_k² = (3E[φ'⁴] − E[φ'²]²)/(N_k E[φ'²]²)`` (``2/N`` identity,
``5/N`` ReLU), ``h = d log E[φ'²]/d log q`` feeding the forward error into ``χ``, and
``Cov(η_k, ε_k) = σ_w²(E[φ²φ'²] − E[φ²]E[φ'²])/(V N_k E[φ'²])`` (both use layer k's pre-activations).
Its variance is computed exactly to first order from these covariances and the ``u`` recursion
(:func:`_backward_band`); the bias bound is ``Σ_k ½ r̃_k² + |h_k| b_k + ½|dh/d log q|(S_k + b_k²)``.
The backward curve is anchored at the measured top ``p_L``.

The batch statistic (mean over examples and units) is a weighted mean of the per-example second
moments, so its log lies between the smallest and largest per-example log deviation; a band that
holds for every example therefore holds for the batch.  :func:`variance_profile` uses the band
``|log measured − log predicted| ≤ bias + k·sd`` with ``k`` the two-sided normal quantile at
``alpha / ((2L − 1)·B)``: a Bonferroni split of the profile's false-alarm rate ``alpha`` (default
1e-6) over the ``L`` forward and ``L − 1`` backward layers and the ``B`` examples (``k ≈ 6.4`` for
``L = 50``, ``B = 64``).  The rate is exact to the accuracy of the first-order Gaussian approximation
(calibrated in ``tests/propagation/test_propagation.py``); for uniform or orthogonal weights the pre-activations
are Gaussian only by the central limit theorem (``O(1/N)`` corrections).

Expectations ``E[f(√q z)]`` use composite 16-point Gauss-Legendre quadrature on ``[0, 12]`` and its
mirror: uniform panels of width 1/8 plus geometric panels ``[2^-k/8, 2^-k+1/8]`` down to ``2^-43``, so
the kink at 0 and the scale ``1/√q`` are resolved for ``q`` from 1e-300 up to ~1e20 for the monotone
activations here (checked against adaptive quadrature in the tests); for ``sin`` the oscillation
limits accuracy to ``q`` ≲ 1e3.  The normal tail beyond 12 is < 1e-32.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
from scipy import stats

from invariants.core import blas
from invariants.reference import Architecture, forward, init_params, kernels
from invariants.reference.activations import Activation, get_activation

try:  # optional: OpenBLAS threads contend badly on small matrices (256 x 256 QR: 30x slower on 2 cores)
    import threadpoolctl as _threadpoolctl
except ImportError:  # pragma: no cover - threadpoolctl is optional
    _threadpoolctl = None


def single_threaded_blas():
    """Context limiting BLAS to one thread when threadpoolctl is installed (results are unchanged
    in distribution; only speed differs); the library scan is cached (:func:`invariants.core.blas.one_thread`)."""
    if _threadpoolctl is None:  # pragma: no cover
        return contextlib.nullcontext()
    return blas.one_thread()


# --------------------------------------------------------------------------------------------------
# Gaussian expectations

_Z_MAX = 12.0
_PANEL = 0.125  # uniform panels on [_PANEL, _Z_MAX]; geometric panels on [0, _PANEL]
_N_GEOMETRIC = 40
_GL_NODES = 16


@lru_cache(maxsize=1)
def _half_line_rule() -> tuple[np.ndarray, np.ndarray]:
    """Nodes z > 0 and weights w·pdf(z) with Σ w·[f(z) + f(−z)] ≈ E[f(Z)], Z ~ N(0, 1)."""
    geometric = _PANEL * 2.0 ** -np.arange(_N_GEOMETRIC, 0, -1.0)
    uniform = np.arange(_PANEL, _Z_MAX + _PANEL / 2, _PANEL)
    edges = np.concatenate(([0.0], geometric, uniform))
    x, w = np.polynomial.legendre.leggauss(_GL_NODES)
    lo, hi = edges[:-1, None], edges[1:, None]
    z = (lo + hi) / 2 + (hi - lo) / 2 * x
    wz = (hi - lo) / 2 * w * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return z.ravel(), wz.ravel()


def gaussian_expectation(f: Callable[[np.ndarray], np.ndarray], q: Any) -> np.ndarray:
    """``E[f(√q·z)]`` for ``z ~ N(0, 1)``, elementwise over ``q``.

    Args:
        f: vectorized real function (may have a kink at 0).
        q: variance(s) ``>= 0``, any shape.

    Returns:
        float64 array of ``q``'s shape.

    Raises:
        ValueError: a negative or non-finite ``q``.
    """
    q = np.asarray(q, dtype=np.float64)
    if not np.all(np.isfinite(q)) or np.any(q < 0):
        raise ValueError(f"variances must be finite and >= 0, got {q!r}")
    z, w = _half_line_rule()
    x = np.sqrt(q)[..., None] * z
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        vals = f(x) + f(-x)
    return np.asarray(vals @ w, dtype=np.float64)


def _act(activation: str | Activation) -> Activation:
    return activation if isinstance(activation, Activation) else get_activation(activation)


def second_moment(activation: str | Activation, q: Any) -> np.ndarray:
    """``E[φ(√q z)²]``: the second moment of a unit's output when its pre-activation is N(0, q)."""
    act = _act(activation)
    return gaussian_expectation(lambda x: act.f(x) ** 2, q)


def variance_map(activation: str | Activation, q: Any, sigma_w2: float, sigma_b2: float = 0.0) -> np.ndarray:
    """The mean-field map ``V(q) = σ_w²·E[φ(√q z)²] + σ_b²`` (Poole et al. 2016, eq. 3)."""
    return sigma_w2 * second_moment(activation, q) + sigma_b2


def chi(activation: str | Activation, q: Any, sigma_w2: float) -> np.ndarray:
    """Per-layer gradient factor ``χ = σ_w²·E[φ'(√q z)²]`` (Schoenholz et al. 2017's ``χ_1``; equal widths)."""
    act = _act(activation)
    return sigma_w2 * gaussian_expectation(lambda x: act.df(x) ** 2, q)


def variance_curve(activation: str | Activation, sigma_w2: Any, depth: int, sigma_b2: float = 0.0,
                   q0: float = 1.0) -> np.ndarray:
    """Mean-field pre-activation second moments ``q_1..q_L`` of a depth-``L`` network.

    Args:
        activation: name in :data:`invariants.reference.activations.ACTIVATIONS` (or an Activation).
        sigma_w2: per-layer gain factor ``Var(W_l)·fan_in_l``: a number, or a sequence of ``depth``.
        depth: number of weight layers ``L >= 1``.
        sigma_b2: bias variance.
        q0: input second moment ``‖x‖²/N_0``.

    Returns:
        array of shape ``(depth,)``; entry ``l-1`` is ``q_l``.
    """
    s = np.broadcast_to(np.asarray(sigma_w2, dtype=np.float64), (depth,))
    q = np.empty(depth)
    q[0] = s[0] * q0 + sigma_b2
    for l in range(1, depth):
        q[l] = float(variance_map(activation, q[l - 1], s[l], sigma_b2))
    return q


def gradient_factors(activation: str | Activation, q: Any, var_next: Any, fan_out_next: Any) -> np.ndarray:
    """Per-layer gradient factors ``χ_l = Var(W_{l+1})·N_{l+1}·E_{q_l}[φ'(√q_l z)²]`` (the backward
    recursion ``p_l = χ_l·p_{l+1}`` of the module docstring; Schoenholz et al. 2017, "Deep Information
    Propagation", ICLR, Sec. 4, their ``χ_1 = σ_w² E[φ'(z)²]`` at equal widths).

    Args:
        activation: the hidden activation.
        q: pre-activation second moments ``q_l`` of the layers the gradient passes through, shape ``(k,)``.
        var_next: ``Var(W_{l+1})`` of the layer above each, broadcast to ``(k,)``.
        fan_out_next: its fan-out ``N_{l+1}``, broadcast to ``(k,)``.

    Returns:
        float64 array of shape ``(k,)``.
    """
    d2 = gaussian_expectation(lambda y: _act(activation).df(y) ** 2, q)
    return np.asarray(var_next, dtype=np.float64) * np.asarray(fan_out_next, dtype=np.float64) * d2


def gradient_curve(activation: str | Activation, sigma_w2: Any, depth: int, sigma_b2: float = 0.0,
                   q0: float = 1.0, fan_ratio: Any = 1.0) -> np.ndarray:
    """Mean-field backward curve: the gradient's second moment ``p_l = E[(∂L/∂z_l)²]`` per unit of layer
    ``l = 1..L`` relative to the output layer's, ``p_l/p_L = Π_{k=l}^{L-1} χ_k``, of a depth-``L`` network.

    The backward companion of :func:`variance_curve` (same arguments): ``χ_k`` is
    :func:`gradient_factors` at the forward curve's ``q_k``, so gradients change like ``χ^L`` along depth at a
    fixed point, and ``ξ_∇ = −1/ln χ`` is their depth scale (Schoenholz et al. 2017, Sec. 4, eq. for
    ``ξ_∇``; under their gradient-independence assumption; ``χ < 1`` vanishing, ``χ > 1`` exploding).

    Args:
        activation, sigma_w2, depth, sigma_b2, q0: as :func:`variance_curve` (``σ_w,l² = Var(W_l)·N_{l-1}``).
        fan_ratio: ``N_l/N_{l-1}`` (fan-out over fan-in) of each layer ``l``: a number or ``depth`` of them
            (1 at equal widths); ``Var(W_{l+1})·N_{l+1} = σ_w,l+1²·fan_ratio_{l+1}``.

    Returns:
        array of shape ``(depth,)``; entry ``l-1`` is ``p_l/p_L`` (the last entry is 1).
    """
    q = variance_curve(activation, sigma_w2, depth, sigma_b2, q0)
    s = np.broadcast_to(np.asarray(sigma_w2, dtype=np.float64), (depth,))
    ratio = np.broadcast_to(np.asarray(fan_ratio, dtype=np.float64), (depth,))
    chis = gradient_factors(activation, q[:-1], s[1:], ratio[1:])
    return np.append(np.cumprod(chis[::-1])[::-1], 1.0)


@dataclass(frozen=True)
class FixedPoint:
    """Fixed point ``q* = V(q*)`` reached by iterating the map from ``q0``, and ``χ(q*)``.

    ``converged`` is False when the iteration neither settled nor was shown to approach 0.
    ``iterations`` counts map evaluations.
    """

    q_star: float
    chi: float
    iterations: int
    converged: bool


def fixed_point(activation: str | Activation, sigma_w2: float, sigma_b2: float = 0.0, q0: float = 1.0,
                rtol: float = 1e-13, max_iter: int = 5000) -> FixedPoint:
    """Iterate ``q ← V(q)`` from ``q0`` to its limit; returns :class:`FixedPoint`.

    When the iterates decrease towards 0 (e.g. tanh at σ_w = 1, σ_b = 0, where ``q_l ~ 1/(2l)``
    converges only algebraically), ``q* = 0`` is reported if 0 is a fixed point, ``V(q) < q`` at the
    last iterate and ``V(q) <= q`` (to rounding) on a log grid from there down to 1e-300.
    """
    act = _act(activation)
    q = float(q0)
    for it in range(1, max_iter + 1):
        nq = float(variance_map(act, q, sigma_w2, sigma_b2))
        if not math.isfinite(nq):
            return FixedPoint(math.inf, math.inf, it, False)
        if abs(nq - q) <= rtol * max(q, nq) or nq == 0.0:
            return FixedPoint(nq, float(chi(act, nq, sigma_w2)), it, True)
        q = nq
    zero_fixed = sigma_b2 == 0.0 and float(act.f(np.zeros(1))[0]) == 0.0
    grid = np.logspace(math.log10(q), -300, 400)
    # V(q) < q down to where q - V(q) drops below rounding (V(q)/q -> σ_w² φ'(0)² as q -> 0)
    below = variance_map(act, grid, sigma_w2, sigma_b2) <= grid * (1 + 1e-12)
    if zero_fixed and np.all(below) and float(variance_map(act, q, sigma_w2, sigma_b2)) < q:
        return FixedPoint(0.0, float(chi(act, 0.0, sigma_w2)), max_iter, True)
    return FixedPoint(q, float(chi(act, q, sigma_w2)), max_iter, False)


# --------------------------------------------------------------------------------------------------
# schemes


@dataclass(frozen=True)
class Scheme:
    """A weight initializer for the propagation experiments.

    Attributes:
        name: display name.
        variance: ``(fan_in, fan_out) -> Var(W)`` of one entry (units of weight squared).
        distribution: ``"normal"``, ``"uniform"`` (``U(−√(3 Var), √(3 Var))``) or ``"orthogonal"``
            (``√(Var·max(fan_in, fan_out))`` times a Haar-random matrix with orthonormal rows or
            columns, so that the mean squared entry is ``Var``).
    """

    name: str
    variance: Callable[[int, int], float]
    distribution: str = "normal"

    def sigma_w2(self, fan_in: int, fan_out: int) -> float:
        """Mean-field gain factor ``Var(W)·fan_in``."""
        return float(self.variance(fan_in, fan_out)) * fan_in

    def sample(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Weights of shape ``(fan_out, fan_in)`` (the reference network's layout), float64."""
        fan_out, fan_in = shape
        var = float(self.variance(fan_in, fan_out))
        if self.distribution == "normal":
            w = rng.standard_normal(shape)
            w *= math.sqrt(var)  # in place: the same products as ``* math.sqrt(var)``, without a second array
            return w
        if self.distribution == "uniform":
            bound = math.sqrt(3.0 * var)
            return rng.uniform(-bound, bound, size=shape)
        if self.distribution == "orthogonal":
            return math.sqrt(var * max(shape)) * haar_orthogonal(shape, rng)
        raise ValueError(f"unknown distribution {self.distribution!r}")


def haar_orthogonal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Haar-random matrix with orthonormal columns (rows >= cols) or rows (rows < cols).

    QR of a Gaussian matrix with the signs of R's diagonal moved into Q (Mezzadri 2007, Sec. 5), as
    ``torch.nn.init.orthogonal_`` does.
    """
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    qm, r = np.linalg.qr(a)
    qm = qm * np.where(np.diag(r) < 0, -1.0, 1.0)
    return qm if rows >= cols else qm.T


def fixed_std(std: float) -> Scheme:
    """Gaussian weights with a fixed std, not scaled by any fan (e.g. the "small" 0.01, or 1)."""
    return Scheme(f"std{std:g}", lambda fi, fo: std * std)


def gain_scheme(gain: float, name: str | None = None, mode: str = "fan_in") -> Scheme:
    """Gaussian ``Var = gain² / fan_mode`` (PyTorch ``kaiming_normal_``/``xavier_normal_`` style)."""
    if mode == "fan_in":
        fn = lambda fi, fo: gain * gain / fi  # noqa: E731
    elif mode == "fan_avg":
        fn = lambda fi, fo: 2.0 * gain * gain / (fi + fo)  # noqa: E731
    else:
        raise ValueError(f"mode must be 'fan_in' or 'fan_avg', got {mode!r}")
    return Scheme(name or f"gain{gain:g}_{mode}", fn)


#: Named schemes.  ``torch_default`` is ``nn.Linear``'s ``kaiming_uniform_(a=√5)``: U(±1/√fan_in).
SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("lecun", lambda fi, fo: 1.0 / fi),
        Scheme("glorot", lambda fi, fo: 2.0 / (fi + fo)),
        Scheme("he", lambda fi, fo: 2.0 / fi),
        Scheme("torch_default", lambda fi, fo: 1.0 / (3.0 * fi), "uniform"),
        Scheme("orthogonal", lambda fi, fo: 1.0 / max(fi, fo), "orthogonal"),
        fixed_std(0.01),
        fixed_std(1.0),
    )
}


def get_scheme(scheme: str | Scheme) -> Scheme:
    """The named scheme (or the Scheme itself); raises ``ValueError`` listing the names."""
    if isinstance(scheme, Scheme):
        return scheme
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {sorted(SCHEMES)}") from None


# --------------------------------------------------------------------------------------------------
# mean-field prediction with its sampling band

_LOG_STEP = 1e-3  # step in log q for the numerical log-derivatives


def _log_derivative(fn: Callable[[np.ndarray], np.ndarray], q: np.ndarray) -> np.ndarray:
    """d log fn / d log q by a central difference in log q (error O(step²))."""
    up, down = fn(q * math.exp(_LOG_STEP)), fn(q * math.exp(-_LOG_STEP))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.log(up) - np.log(down)) / (2 * _LOG_STEP)
    return np.where(np.isfinite(out), out, 0.0)


def _derivative_log(fn: Callable[[np.ndarray], np.ndarray], q: np.ndarray) -> np.ndarray:
    """d fn / d log q by a central difference in log q."""
    return (fn(q * math.exp(_LOG_STEP)) - fn(q * math.exp(-_LOG_STEP))) / (2 * _LOG_STEP)


@dataclass(frozen=True)
class MeanFieldPrediction:
    """Mean-field curves of one scheme × activation × widths, with first-order sampling bands.

    Arrays are per layer ``l = 1..L`` (index ``l-1``), logs are natural.

    Attributes:
        q: predicted pre-activation second moments ``q_l``.
        grad_ratio: predicted ``p_l / p_L`` (back-propagated second moment relative to the top).
        chi: per-layer gradient factors ``χ_l`` (``L-1`` entries; ``p_l = χ_l p_{l+1}``).
        forward_sd, forward_bias: sd and bias bound of ``log(measured/predicted)`` forward.
        backward_sd, backward_bias: the same for ``log(p_l/p_L)``.
    """

    q: np.ndarray
    grad_ratio: np.ndarray
    chi: np.ndarray
    forward_sd: np.ndarray
    forward_bias: np.ndarray
    backward_sd: np.ndarray
    backward_bias: np.ndarray


def _widths(width: int | Sequence[int], depth: int) -> tuple[int, ...]:
    if isinstance(depth, bool) or int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    if isinstance(width, (int, np.integer)):
        widths = (int(width),) * (depth + 1)
    else:
        widths = tuple(int(w) for w in width)
        if len(widths) != depth + 1:
            raise ValueError(f"need depth + 1 = {depth + 1} widths (input..output), got {len(widths)}")
    if any(w < 1 for w in widths):
        raise ValueError(f"widths must be >= 1, got {widths}")
    return widths


def mean_field(scheme: str | Scheme, activation: str, depth: int, width: int | Sequence[int],
               bias_std: float = 0.0, q0: float = 1.0) -> MeanFieldPrediction:
    """Mean-field prediction and sampling band (see the module docstring for the derivation).

    Args:
        scheme: a :class:`Scheme` or a name in :data:`SCHEMES`.
        activation: hidden activation name.
        depth: number of weight layers ``L``.
        width: one width for every layer, or ``L + 1`` widths ``(N_0, ..., N_L)``.
        bias_std: std ``σ_b`` of Gaussian biases.
        q0: input second moment ``‖x‖²/N_0`` of every example.

    Raises:
        ValueError: bad depth or widths.
        OverflowError: the curve leaves the float64 range of ``E[φ⁴]`` (``q`` beyond ~1e150, e.g. an
            unscaled std-1 linear network deeper than ~60 layers at width 256).
    """
    sch, act = get_scheme(scheme), get_activation(activation)
    n = _widths(width, depth)
    L = depth
    var = np.array([float(sch.variance(n[l - 1], n[l])) for l in range(1, L + 1)])  # Var(W_l)
    sw2 = var * np.array(n[:-1], dtype=np.float64)  # σ_w,l² = Var(W_l)·N_{l-1}
    sb2 = float(bias_std) ** 2
    q = variance_curve(act, sw2, L, sb2, q0)
    if not np.all(np.isfinite(q)) or np.max(q) > 1e150:
        raise OverflowError(f"mean-field variance reaches {np.max(q):.3g}: outside the range of E[φ⁴]")
    N = np.array(n[1:], dtype=np.float64)  # units of layer l
    if L == 1:
        empty = np.zeros(0)
        sd0 = np.array([math.sqrt(2.0 / N[0])])
        return MeanFieldPrediction(q, np.ones(1), empty, sd0, 1.0 / N[:1], np.zeros(1), np.zeros(1))

    # forward transition l -> l+1 (arrays over l = 1..L-1)
    qh, s_next = q[:-1], sw2[1:]

    def e2(x):
        return second_moment(act, x)

    m2, m4 = e2(qh), gaussian_expectation(lambda x: act.f(x) ** 4, qh)
    V = s_next * m2 + sb2
    r2 = s_next**2 * np.maximum(m4 - m2 * m2, 0.0) / (N[:-1] * V * V)
    g = _forward_slope(act, qh, s_next, sb2)
    kappa = _derivative_log(lambda x: _forward_slope(act, x, s_next, sb2), qh)
    S, B = np.zeros(L), np.zeros(L)
    for l in range(L - 1):
        S[l + 1] = g[l] ** 2 * S[l] + r2[l]
        B[l + 1] = abs(g[l]) * B[l] + 0.5 * abs(kappa[l]) * (S[l] + B[l] ** 2) + 0.5 * r2[l]
    forward_sd = np.sqrt(S + 2.0 / N)
    forward_bias = B + 1.0 / N

    # backward: p_l = chi_l p_{l+1}, chi_l = Var(W_{l+1}) N_{l+1} E[φ'(√q_l z)²], l = 1..L-1
    def d2(x):
        return gaussian_expectation(lambda y: act.df(y) ** 2, x)

    dd2, dd4 = d2(qh), gaussian_expectation(lambda y: act.df(y) ** 4, qh)
    chis = gradient_factors(act, qh, var[1:], N[1:])  # = var[1:] * N[1:] * dd2, bit for bit
    grad_ratio = np.append(np.cumprod(chis[::-1])[::-1], 1.0)
    backward_sd, backward_bias = _backward_band(
        g=g, r2=r2, S=S, B=B, N=N[:-1], dd2=dd2, dd4=dd4,
        h=_log_derivative(d2, qh), hp=_derivative_log(lambda x: _log_derivative(d2, x), qh),
        cov_num=s_next / V * (gaussian_expectation(lambda y: (act.f(y) * act.df(y)) ** 2, qh) - m2 * dd2),
    )
    return MeanFieldPrediction(q, grad_ratio, chis, forward_sd, forward_bias, backward_sd, backward_bias)


def _backward_band(g, r2, S, B, N, dd2, dd4, h, hp, cov_num) -> tuple[np.ndarray, np.ndarray]:
    """First-order sd and bias bound of ``log(p_l/p_L)``, l = 1..L (0 at the top).

    Arrays over hidden layers i = 1..L-1 (index i-1).  Noise of backward step i (from p_{i+1} to p_i):
    ``η_i`` with variance ``r̃_i² = (3E[φ'⁴] − E[φ'²]²)/(N_i E[φ'²]²)``; forward noise ``ε_i`` (variance
    ``r_i²``) enters ``u_{j} = log v_j − log q_j`` for j > i with weight ``Π g``, and ``u_j`` shifts
    backward step j by ``h_j u_j``.  ``η_i`` and ``ε_i`` share layer i's pre-activations:
    ``Cov = σ_w²(E[φ²φ'²] − E[φ²]E[φ'²])/(V N_i E[φ'²])``.  The variance of the sum is computed exactly
    (to first order) from these covariances.
    """
    n = len(g)  # L - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rt2 = np.where(dd2 > 0, (3 * dd4 - dd2 * dd2) / (N * dd2 * dd2), 0.0)
        cov = np.where(dd2 > 0, cov_num / (N * dd2), 0.0)
    # hG[t, i] = h_i Π_{s=t+1}^{i-1} g_s for i > t: effect of ε_t on backward step i
    hG = np.zeros((n, n))
    for t in range(n):
        prod = 1.0
        for i in range(t + 1, n):
            hG[t, i] = h[i] * prod
            prod *= g[i]
    C = np.cumsum(hG[:, ::-1], axis=1)[:, ::-1]  # C[t, l] = Σ_{i >= l} hG[t, i]
    var = np.cumsum(rt2[::-1])[::-1] + (C * C * r2[:, None]).sum(axis=0) + 2 * np.cumsum((np.diag(C) * cov)[::-1])[::-1]
    sd = np.sqrt(np.maximum(var, 0.0))
    bterms = 0.5 * rt2 + np.abs(h) * B[:-1] + 0.5 * np.abs(hp) * (S[:-1] + B[:-1] ** 2)
    bias = np.cumsum(bterms[::-1])[::-1]
    return np.append(sd, 0.0), np.append(bias, 0.0)


def _forward_slope(act: Activation, q: np.ndarray, sigma_w2: np.ndarray, sigma_b2: float) -> np.ndarray:
    """``g = d log V / d log q = σ_w²·√q·E[z φ(√q z) φ'(√q z)] / V(q)``."""
    q = np.asarray(q, dtype=np.float64)
    # q·d/dq E[φ(√q z)²] = √q·E[z φ(√q z) φ'(√q z)] = E[x φ(x) φ'(x)] with x = √q z
    num = sigma_w2 * gaussian_expectation(lambda x: x * act.f(x) * act.df(x), q)
    den = sigma_w2 * second_moment(act, q) + sigma_b2
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(np.isfinite(out), out, 0.0)


# --------------------------------------------------------------------------------------------------
# the reference network


def backpropagate(arch: Architecture, params: dict[str, np.ndarray], preacts: Sequence[np.ndarray],
                  delta_top: np.ndarray) -> list[np.ndarray]:
    """``δ_l = ∂L/∂z_l`` for l = 1..L given ``δ_L = delta_top`` (B, N_L), without dropout.

    The same operations, in the same order and with the same kernel, as
    :func:`invariants.reference.loss_and_grad` (so ``Σ_batch δ_l`` equals its bias gradient bit for bit),
    but seeded with an arbitrary upstream gradient: a random ``δ_L`` independent of the network is the
    setting of the mean-field backward recursion.
    """
    act = get_activation(arch.activation)
    deltas = [np.asarray(delta_top)]
    delta = deltas[0]
    for l in range(arch.depth, 1, -1):
        back = kernels.matmul(delta, params[f"W{l}"], arch.kernel)
        delta = back * act.df(preacts[l - 2])
        deltas.append(delta)
    return deltas[::-1]


#: Bounded activations for which :attr:`VarianceProfile.saturated_fraction` is reported.
SATURATING: tuple[str, ...] = ("tanh", "sigmoid")
#: A unit is saturated when φ'(z) < SATURATION_LEVEL·φ'(0) (tanh: |tanh z| > 0.99).
SATURATION_LEVEL = 0.0199


@dataclass(frozen=True)
class VarianceProfile:
    """Measured and predicted per-layer variances of one random network (data for a Glorot-style figure).

    Arrays have one entry per layer ``l = 1..L`` (index ``l-1``).

    Attributes:
        scheme, activation, widths, batch, seed, bias_std: the experiment.
        forward_measured: ``mean(z_l²)`` over examples and units (pre-activation second moment).
        forward_predicted: mean-field ``q_l``.
        backward_measured: ``mean(δ_l²)``, ``δ_l = ∂L/∂z_l`` for an upstream ``δ_L ~ N(0, 1)``.
        backward_predicted: ``backward_measured[-1]·Π χ`` (anchored at the measured top).
        forward_band, backward_band: allowed ``|log(measured/predicted)|`` (bias + k·sd).
        saturated_fraction: fraction of hidden units with φ'(z) < 0.0199·φ'(0) (tanh: |tanh z| > 0.99)
            for tanh and sigmoid; ``None`` otherwise.  ``L-1`` entries (hidden layers).
        chi: mean-field per-layer gradient factors ``χ_l``, ``L-1`` entries.
        alpha: false-alarm rate of the whole profile's band check; ``k``: the band's multiplier.
    """

    scheme: str
    activation: str
    widths: tuple[int, ...]
    batch: int
    seed: int
    bias_std: float
    forward_measured: np.ndarray
    forward_predicted: np.ndarray
    forward_band: np.ndarray
    backward_measured: np.ndarray
    backward_predicted: np.ndarray
    backward_band: np.ndarray
    chi: np.ndarray
    saturated_fraction: np.ndarray | None
    alpha: float
    k: float
    forward_sd: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    backward_sd: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    @property
    def depth(self) -> int:
        """Number of weight layers ``L``."""
        return len(self.widths) - 1

    @property
    def forward_log_error(self) -> np.ndarray:
        """``log(measured/predicted)`` forward."""
        return np.log(self.forward_measured) - np.log(self.forward_predicted)

    @property
    def backward_log_error(self) -> np.ndarray:
        """``log(measured/predicted)`` backward (0 at the top, where the prediction is anchored)."""
        return np.log(self.backward_measured) - np.log(self.backward_predicted)

    @property
    def forward_ok(self) -> bool:
        """Every forward measurement lies within its band."""
        return bool(np.all(np.abs(self.forward_log_error) <= self.forward_band))

    @property
    def backward_ok(self) -> bool:
        """Every backward measurement lies within its band."""
        return bool(np.all(np.abs(self.backward_log_error) <= self.backward_band))

    @property
    def passed(self) -> bool:
        """Forward and backward measurements lie within their bands at every layer."""
        return self.forward_ok and self.backward_ok

    def worst_z(self) -> float:
        """Largest ``(|log error| − bias)/sd`` over layers and directions (≤ k when :attr:`passed`)."""
        fb = self.forward_band - self.k * self.forward_sd
        bb = self.backward_band - self.k * self.backward_sd
        with np.errstate(divide="ignore", invalid="ignore"):
            zf = (np.abs(self.forward_log_error) - fb) / self.forward_sd
            zb = np.where(self.backward_sd > 0, (np.abs(self.backward_log_error) - bb) / self.backward_sd, 0.0)
        return float(max(np.max(zf), np.max(zb)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable dict: parameters and per-layer lists (layer numbers in ``"layer"``)."""
        out: dict[str, Any] = {
            "scheme": self.scheme,
            "activation": self.activation,
            "widths": list(self.widths),
            "batch": self.batch,
            "seed": self.seed,
            "bias_std": self.bias_std,
            "alpha": self.alpha,
            "k": self.k,
            "passed": self.passed,
            "layer": list(range(1, self.depth + 1)),
        }
        for name in ("forward_measured", "forward_predicted", "forward_band", "backward_measured",
                     "backward_predicted", "backward_band", "chi"):
            out[name] = [float(v) for v in getattr(self, name)]
        sat = self.saturated_fraction
        out["saturated_fraction"] = None if sat is None else [float(v) for v in sat]
        return out


def band_multiplier(depth: int, batch: int, alpha: float) -> float:
    """``k`` with two-sided normal tail ``alpha / ((2·depth − 1)·batch)`` per check (Bonferroni)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    checks = max(2 * depth - 1, 1) * batch
    return float(stats.norm.isf(alpha / (2.0 * checks)))


def unit_inputs(batch: int, width: int, rng: np.random.Generator, q0: float = 1.0) -> np.ndarray:
    """``batch`` random inputs (batch, width), each rescaled to ``‖x‖² = width·q0`` exactly."""
    x = rng.standard_normal((batch, width))
    return x * (math.sqrt(width * q0) / np.linalg.norm(x, axis=1, keepdims=True))


def sample_params(arch: Architecture, scheme: str | Scheme, rng: np.random.Generator,
                  bias_std: float = 0.0) -> dict[str, np.ndarray]:
    """Reference-network parameters with weights from ``scheme`` and N(0, bias_std²) biases."""
    sch = get_scheme(scheme)

    def weight(name, shape):
        return sch.sample(shape, rng)

    def bias(name, shape):
        return rng.standard_normal(shape) * bias_std if bias_std else np.zeros(shape)

    return init_params(arch, weight, bias)


def variance_profile(scheme: str | Scheme, activation: str, depth: int, width: int | Sequence[int] = 256,
                     batch: int = 64, seed: int = 0, bias_std: float = 0.0,
                     alpha: float = 1e-6, reference_scheme: str | Scheme | None = None) -> VarianceProfile:
    """Run one random reference network and compare its per-layer variances with mean field.

    Builds ``Architecture(widths, activation, kernel="blas", dtype="float64")`` (linear output
    layer), draws weights from ``scheme`` and biases ``N(0, bias_std²)``, feeds ``batch`` inputs with
    ``‖x‖² = N_0`` (``q_0 = 1``), measures ``mean(z_l²)`` forward and ``mean(δ_l²)`` backward for an
    upstream gradient ``δ_L ~ N(0, 1)``, and attaches the mean-field curves with their derived bands
    (:func:`mean_field`; band multiplier :func:`band_multiplier`).

    Args:
        scheme: a :class:`Scheme` or a name in :data:`SCHEMES` (lecun, glorot, he, torch_default,
            orthogonal, std0.01, std1).
        activation: hidden activation (identity, tanh, relu, leaky_relu, selu, sigmoid, gelu, sin).
        depth: number of weight layers ``L >= 1``.
        width: one width for all layers, or ``L + 1`` widths.
        batch: number of examples ``B >= 1``.
        seed: seed of the ``np.random.default_rng`` that draws inputs, weights and ``δ_L``.
        bias_std: bias std ``σ_b``.
        alpha: false-alarm rate of the profile's band check, in (0, 1).
        reference_scheme: scheme whose mean-field curve the measurements are compared with (default:
            ``scheme``); pass another one to test whether a network follows that scheme's prediction.

    Returns:
        :class:`VarianceProfile` (``.to_dict()`` for plotting).

    Raises:
        ValueError: bad depth, widths, batch, alpha, unknown scheme or activation.
    """
    if isinstance(batch, bool) or int(batch) != batch or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    sch = get_scheme(scheme)
    widths = _widths(width, depth)
    k = band_multiplier(depth, batch, alpha)
    pred = mean_field(sch if reference_scheme is None else reference_scheme, activation, depth, widths, bias_std)
    arch = Architecture(widths, activation=activation, kernel="blas", dtype="float64")
    rng = np.random.default_rng(seed)
    with single_threaded_blas():
        params = sample_params(arch, sch, rng, bias_std)
        x = unit_inputs(batch, widths[0], rng)
        cache = forward(arch, params, x)
        delta_top = rng.standard_normal((batch, widths[-1]))
        deltas = backpropagate(arch, params, cache.preacts, delta_top)
    fwd = np.array([np.mean(z * z) for z in cache.preacts])
    bwd = np.array([np.mean(d * d) for d in deltas])
    act = get_activation(activation)
    sat = None
    if activation in SATURATING:
        d0 = float(act.df(np.zeros(1))[0])
        sat = np.array([np.mean(act.df(z) < SATURATION_LEVEL * d0) for z in cache.preacts[:-1]])
    return VarianceProfile(
        scheme=sch.name, activation=activation, widths=widths, batch=int(batch), seed=int(seed),
        bias_std=float(bias_std),
        forward_measured=fwd, forward_predicted=pred.q, forward_band=pred.forward_bias + k * pred.forward_sd,
        backward_measured=bwd, backward_predicted=bwd[-1] * pred.grad_ratio,
        backward_band=pred.backward_bias + k * pred.backward_sd,
        chi=pred.chi, saturated_fraction=sat, alpha=float(alpha), k=k,
        forward_sd=pred.forward_sd, backward_sd=pred.backward_sd,
    )


def trend(measured: np.ndarray, band: np.ndarray) -> str:
    """Classify a measured per-layer curve against a flat one: ``"steady"``, ``"vanishing"``,
    ``"exploding"`` or ``"drifting"``.

    ``band_l`` bounds ``|log(m_l/q_l)|`` for a curve whose prediction is ``q_l``; when the prediction is
    flat, ``|log(m_l/m_1)| <= band_l + band_1`` (triangle inequality).  ``steady``: that holds at every
    layer; otherwise ``vanishing`` / ``exploding`` when the last layer lies below / above ``m_1`` by more
    than its band (a drop to a nonzero fixed point, e.g. sigmoid's ``q* = 0.265``, also counts as
    ``vanishing``); else ``drifting``.  A ``steady`` verdict only excludes changes larger than the band,
    which grows like ``√(depth/width)``.
    """
    dev = np.log(measured) - math.log(measured[0])
    allowed = np.asarray(band) + band[0]
    if np.all(np.abs(dev) <= allowed):
        return "steady"
    if dev[-1] < -allowed[-1]:
        return "vanishing"
    if dev[-1] > allowed[-1]:
        return "exploding"
    return "drifting"


def forward_trend(profile: VarianceProfile) -> str:
    """:func:`trend` of the forward curve (layer 1 is the reference)."""
    return trend(profile.forward_measured, profile.forward_band)


def backward_trend(profile: VarianceProfile) -> str:
    """:func:`trend` of the backward curve from the top down: ``"vanishing"`` = small at layer 1."""
    return trend(profile.backward_measured[::-1], profile.backward_band[::-1])


def profile_grid(schemes: Sequence[str | Scheme], activations: Sequence[str], depth: int = 50,
                 width: int | Sequence[int] = 256, batch: int = 64, seed: int = 0,
                 alpha: float = 1e-6) -> list[dict[str, Any]]:
    """Figure data: :meth:`VarianceProfile.to_dict` for every scheme × activation (same seed each).

    Plot ``forward_measured`` and ``forward_predicted`` against ``layer`` on a log axis (in the style of
    Glorot & Bengio 2010's per-layer activation and gradient plots), with ``exp(±forward_band)`` around
    the prediction; likewise backward.
    """
    return [variance_profile(s, a, depth, width, batch, seed, alpha=alpha).to_dict()
            for s in schemes for a in activations]
