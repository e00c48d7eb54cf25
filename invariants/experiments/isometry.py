"""Dynamical isometry: the singular values of a deep network's input-output Jacobian at initialization
(Saxe, McClelland & Ganguli 2014; Pennington, Schoenholz & Ganguli 2017), the evidence of VAR-ISO-01.

Network (Pennington et al.'s layout): ``h_l = W_l x_{l-1} + b_l``, ``x_l = φ(h_l)``, l = 1..L, square
N × N weights, so the Jacobian is ``J = D_L W_L ⋯ D_1 W_1`` with ``D_l = diag φ'(h_l)`` (identity for a
linear network).  Weights: ``"gaussian"`` ``N(0, σ_w²/N)`` or ``"orthogonal"`` ``σ_w·Q`` with Q Haar
(:func:`invariants.propagation.haar_orthogonal`); biases ``N(0, σ_b²)``; the input has ``‖x_0‖² = N·q0``.

Because ``det J = Π_l det D_l · det W_l``, the mean log squared singular value is computed stably (an SVD of
the product loses the small singular values of deep Gaussian products below ``eps·s_max``) as
``(1/N)·ln det JᵀJ = (2/N)·Σ_l (ln|det W_l| + Σ_i ln|φ'(h_{l,i})|)`` (:attr:`JacobianSpectrum.mean_log_s2`).
For Gaussian W this has an exact law (Bartlett decomposition): ``ln det(W_lᵀW_l) ~ Σ_{k=1}^N ln(σ_w² χ²_k/N)``,
independent over layers (:func:`gaussian_mean_log_s2_law`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from invariants import propagation as prop
from invariants.reference import get_activation


@dataclass(frozen=True)
class JacobianSpectrum:
    """One network's Jacobian: ``singular_values`` (N, descending, from an SVD of the explicit product),
    ``mean_log_s2`` = (1/N)·ln det JᵀJ computed stably from the factors (−inf when a D_l is singular),
    ``min_active`` = min over layers of the number of units with φ' ≠ 0, ``log_det_d`` = (2/N)·Σ ln|φ'|
    (the activations' share of ``mean_log_s2``), ``slogdet_j`` = (1/N)·ln det JᵀJ from the explicit product."""

    singular_values: np.ndarray
    mean_log_s2: float
    log_det_d: float
    min_active: int
    slogdet_j: float

    @property
    def spread(self) -> float:
        """Variance of the eigenvalues s² of JJᵀ (Pennington et al.'s σ²_{JJᵀ}), relative to their mean²."""
        s2 = self.singular_values ** 2
        return float(np.var(s2) / np.mean(s2) ** 2)


def sample_weight(kind: str, n: int, sigma_w: float, rng: np.random.Generator) -> np.ndarray:
    """An n × n weight matrix: ``"gaussian"`` N(0, σ_w²/n) or ``"orthogonal"`` σ_w·Haar.  Raises
    ``ValueError`` for another kind."""
    if kind == "gaussian":
        return rng.standard_normal((n, n)) * (sigma_w / math.sqrt(n))
    if kind == "orthogonal":
        return sigma_w * prop.haar_orthogonal((n, n), rng)
    raise ValueError(f"unknown weight kind {kind!r}; expected 'gaussian' or 'orthogonal'")


def jacobian_spectrum(kind: str, activation: str, width: int, depth: int, seed: int, sigma_w: float = 1.0,
                      sigma_b: float = 0.0, q0: float = 1.0) -> JacobianSpectrum:
    """Sample one network and return its Jacobian's spectrum (see the module docstring)."""
    rng = np.random.default_rng(seed)
    act = get_activation(activation)
    x = rng.standard_normal(width)
    x *= math.sqrt(width * q0) / np.linalg.norm(x)
    J = np.eye(width)
    log_det_w = log_det_d = 0.0
    min_active = width
    with prop.single_threaded_blas():
        for _ in range(depth):
            W = sample_weight(kind, width, sigma_w, rng)
            h = W @ x + rng.standard_normal(width) * sigma_b
            d = act.df(h)
            x = act.f(h)
            J = d[:, None] * (W @ J)
            log_det_w += np.linalg.slogdet(W)[1]
            with np.errstate(divide="ignore"):
                log_det_d += float(np.sum(np.log(np.abs(d))))
            min_active = min(min_active, int(np.count_nonzero(d)))
        s = np.linalg.svd(J, compute_uv=False)
        with np.errstate(divide="ignore"):
            slog = float(np.linalg.slogdet(J)[1])
    return JacobianSpectrum(s, 2 * (log_det_w + log_det_d) / width, 2 * log_det_d / width, min_active,
                            2 * slog / width)


def gaussian_mean_log_s2_law(width: int, depth: int, sigma_w: float = 1.0) -> tuple[float, float]:
    """Mean and sd of ``(1/N)·ln det JᵀJ`` for a deep *linear* network of Gaussian N(0, σ_w²/N) layers:
    ``(L/N)·Σ_{k=1}^N [ψ(k/2) + ln(2σ_w²/N)]`` and ``√(L·Σ_k ψ'(k/2))/N`` (Bartlett: ``det WᵀW`` is a product
    of independent ``σ_w²χ²_k/N``, k = 1..N; E ln χ²_k = ψ(k/2) + ln 2, Var = ψ'(k/2))."""
    k = np.arange(1, width + 1) / 2.0
    mean = depth / width * float(np.sum(special.digamma(k) + math.log(2 * sigma_w**2 / width)))
    sd = math.sqrt(depth * float(np.sum(special.polygamma(1, k)))) / width
    return mean, sd


def gaussian_mean_log_s2_band(width: int, depth: int, alpha: float, sigma_w: float = 1.0) -> tuple[float, float]:
    """Interval holding ``(1/N)·ln det JᵀJ`` (Gaussian linear network) with probability ≥ 1 − alpha: exact
    Chernoff bounds on the sum of L·N independent ``ln χ²_k`` (moment generating function
    ``E[(χ²_k)^t] = 2^t Γ(k/2 + t)/Γ(k/2)``), alpha/2 in each tail."""
    k = np.arange(1, width + 1) / 2.0
    shift = math.log(sigma_w**2 / width)  # ln(σ_w²χ²_k/N) = ln χ²_k + shift
    mu = float(np.sum(special.digamma(k) + math.log(2)))  # E Σ_k ln χ²_k (one layer)

    def log_mgf(t):  # ln E exp(t·(Σ_k ln χ²_k − mu)) for one layer
        return float(np.sum(t * math.log(2) + special.gammaln(k + t) - special.gammaln(k))) - t * mu

    def tail(a, sign):  # smallest a-deviation bound: inf_t exp(L·log_mgf(sign·t) − t·a) = alpha/2
        res = optimize.minimize_scalar(lambda t: depth * log_mgf(sign * t) - t * a, bounds=(1e-9, 0.49),
                                       method="bounded")
        return res.fun - math.log(alpha / 2)

    a_hi = optimize.brentq(lambda a: tail(a, 1.0), 1e-9, 1e4)
    a_lo = optimize.brentq(lambda a: tail(a, -1.0), 1e-9, 1e4)
    centre = depth * (mu + width * shift) / width
    return centre - a_lo / width, centre + a_hi / width


def pennington_spread(kind: str, activation: str, depth: int, q: float, sigma_w: float) -> float:
    """Large-width prediction of σ²_{JJᵀ}/m₁² = L·(μ₂/μ₁² − 1 − s₁) (Pennington et al. 2017, the moments of
    the JJᵀ spectrum, at χ = σ_w²μ₁ = 1), μ_k = E[φ'(√q z)^{2k}], s₁ = −1 Gaussian, 0 orthogonal."""
    act = get_activation(activation)
    mu1 = float(prop.gaussian_expectation(lambda x: act.df(x) ** 2, q))
    mu2 = float(prop.gaussian_expectation(lambda x: act.df(x) ** 4, q))
    s1 = -1.0 if kind == "gaussian" else 0.0
    return depth * (mu2 / mu1**2 - 1 - s1)
