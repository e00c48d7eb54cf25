"""Order-to-chaos criticality with biases: the critical line χ₁(σ_w, σ_b) = 1, the correlation depth
scale ξ_c and its measurement on reference networks (the evidence of VAR-CRIT-01).

Mean field (Poole et al. 2016, eq. 3 and §3; Schoenholz et al. 2017, §3), weights ``N(0, σ_w²/N)``, biases
``N(0, σ_b²)``, ``z ~ N(0, 1)``:

- length map ``V(q) = σ_w²·E[φ(√q z)²] + σ_b²`` with fixed point ``q*`` (:func:`q_star`);
- ``χ₁ = σ_w²·E[φ'(√q* z)²]`` (:func:`invariants.propagation.chi` at ``q*``), the slope of the correlation
  map ``C(c) = (σ_w²·E[φ(u₁)φ(u₂)] + σ_b²)/q*`` at ``c = 1`` (u₁ = √q* z₁, u₂ = √q*(c z₁ + √(1−c²) z₂));
- ordered phase χ₁ < 1: ``c = 1`` is stable and ``1 − c_l ∝ χ₁^l``, depth scale ``ξ_c = −1/ln χ₁``;
  χ₁ > 1: ``c = 1`` is unstable (chaos); ``ξ_c`` diverges on the critical line χ₁ = 1.

Measurement (:func:`correlation_runs`): two inputs with correlation ``c₀`` close to 1 through one random tanh
network; ``1 − c_l = ½‖ẑ_l − ẑ'_l‖²`` (``ẑ = z/‖z‖``, computed from the difference so that no
cancellation occurs).  To first order the perpendicular perturbation obeys ``v_{l+1} = W_{l+1} D_l v_l``,
whose log-norm is the same multiplicative random walk as the back-propagated ``δ`` of
:mod:`invariants.propagation` (same per-layer factors ``σ_w²·mean_i φ'(z_i)² ξ_i²``, transposed), so the
sampling band of ``ln((1 − c_L)/(1 − c_1)) − (L − 1)·ln χ₁`` is that module's backward band plus the
endpoint terms (the measured norms: forward band at both ends).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
from scipy import optimize, stats

from invariants import propagation as prop
from invariants.reference import get_activation


def q_star(activation: str, sigma_w: float, sigma_b: float) -> float:
    """Fixed point ``q* = V(q*)`` of the length map for ``σ_b > 0`` (Brent's method on ``[σ_b², σ_w²·sup φ²
    + σ_b²]``; for a bounded φ with φ(0) = 0 such as tanh, V is increasing and concave, so q* is unique).

    Raises ``ValueError`` for ``σ_b <= 0`` (then q* = 0 may be the fixed point: see the claim's proof)."""
    if sigma_b <= 0:
        raise ValueError(f"q_star needs sigma_b > 0, got {sigma_b!r}")
    sw2, sb2 = sigma_w * sigma_w, sigma_b * sigma_b

    def gap(q):
        return float(prop.variance_map(activation, q, sw2, sb2)) - q

    hi = sb2 + sw2 * 4.0
    for _ in range(40):  # unbounded activations: widen until V(q) < q
        if gap(hi) <= 0:
            break
        hi *= 4.0
    else:
        raise ValueError(f"{activation} at sigma_w={sigma_w}, sigma_b={sigma_b}: V(q) > q up to q = {hi:.3g} (no fixed point)")
    return optimize.brentq(gap, sb2, hi, xtol=1e-15, rtol=1e-14)


def chi1(activation: str, sigma_w: float, sigma_b: float) -> float:
    """``χ₁ = σ_w²·E[φ'(√q* z)²]`` at the length map's fixed point (Schoenholz et al. 2017, §3)."""
    return float(prop.chi(activation, q_star(activation, sigma_w, sigma_b), sigma_w * sigma_w))


def depth_scale(chi: float) -> float:
    """``ξ_c = −1/ln χ₁`` (Schoenholz et al. 2017, §3, with c* = 1); ``inf`` at χ₁ = 1."""
    return math.inf if chi == 1.0 else -1.0 / math.log(chi)


def critical_sigma_w(activation: str, sigma_b: float, lo: float = 0.5, hi: float = 16.0) -> float:
    """The σ_w with ``χ₁(σ_w, σ_b) = 1`` (Brent's method on ``[lo, hi]``), for ``σ_b > 0``; raises
    ``ValueError`` when χ₁ − 1 has no sign change there or the length map has no fixed point."""
    return sigma_w_for_chi(activation, sigma_b, 1.0, lo, hi)


def sigma_w_for_chi(activation: str, sigma_b: float, chi: float, lo: float = 0.5, hi: float = 16.0) -> float:
    """The σ_w with ``χ₁(σ_w, σ_b) = chi`` (Brent's method), for ``σ_b > 0``."""
    return optimize.brentq(lambda s: chi1(activation, s, sigma_b) - chi, lo, hi, xtol=1e-13, rtol=1e-13)


def correlation_map_curvature(activation: str, sigma_w: float, sigma_b: float) -> float:
    """``C''(1) = σ_w²·q*·E[φ''(√q* z)²]`` (Price's theorem twice: d/dc E[φ(u₁)φ(u₂)] = q*·E[φ'(u₁)φ'(u₂)]);
    tanh only (φ'' = −2 tanh·sech²)."""
    if activation != "tanh":
        raise ValueError("correlation_map_curvature knows tanh only")
    q = q_star(activation, sigma_w, sigma_b)
    e = prop.gaussian_expectation(lambda x: (2 * np.tanh(x) / np.cosh(x) ** 2) ** 2, q)
    return sigma_w * sigma_w * q * float(e)


@lru_cache(maxsize=1)
def _hermite_2d(n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    z1, z2 = np.meshgrid(x, x, indexing="ij")
    return z1.ravel(), z2.ravel(), np.outer(w, w).ravel()


def correlation_map(activation: str, sigma_w: float, sigma_b: float, c: float) -> float:
    """``C(c) = (σ_w²·E[φ(u₁)φ(u₂)] + σ_b²)/q*`` at the fixed point q* (2-D Gauss-Hermite, 160² nodes;
    Schoenholz et al. 2017, §3)."""
    act = get_activation(activation)
    q = q_star(activation, sigma_w, sigma_b)
    z1, z2, w = _hermite_2d()
    u1 = math.sqrt(q) * z1
    u2 = math.sqrt(q) * (c * z1 + math.sqrt(max(0.0, 1 - c * c)) * z2)
    return (sigma_w * sigma_w * float(np.sum(w * act.f(u1) * act.f(u2))) + sigma_b * sigma_b) / q


@dataclass(frozen=True)
class CorrelationRun:
    """One network's ``1 − c_l`` (l = 1..L) for two inputs, with the mean-field prediction and band.

    ``log_ratio = ln((1 − c_L)/(1 − c_1))``; ``predicted = (L − 1)·ln χ₁``; ``band``: allowed
    ``|log_ratio − predicted|`` (bias + k·sd); ``measured_chi = exp(log_ratio/(L − 1))``."""

    activation: str
    sigma_w: float
    sigma_b: float
    width: int
    depth: int
    one_minus_c: np.ndarray
    chi: float
    log_ratio: float
    predicted: float
    band: float

    @property
    def measured_chi(self) -> float:
        return math.exp(self.log_ratio / (self.depth - 1))

    @property
    def passed(self) -> bool:
        return abs(self.log_ratio - self.predicted) <= self.band


def correlation_runs(phases: Sequence[tuple[float, int]], sigma_b: float, width: int, seed: int, k: float,
                     activation: str = "tanh", predict_activation: str = "tanh",
                     gap: float = 1e-4) -> list[CorrelationRun]:
    """Measure ``1 − c_l`` through random networks and compare it with ``χ₁^{l−1}`` of the prediction.

    One network per phase ``(σ_w, depth)``: ``activation``, weights ``N(0, σ_w²/width)``, biases
    ``N(0, σ_b²)``, ``depth`` layers of ``width`` units.  The phases share one draw of standard normals
    (scaled by each σ_w), which costs one network's sampling; each phase alone is an exact sample, and the
    caller's Bonferroni split needs no independence.  Inputs are scaled so that ``q_1 = q*`` of the
    *prediction* (``predict_activation`` at the phase's σ_w; mutants change the network, not the prediction)
    and ``1 − c_1 = gap`` in expectation.  ``k``: band multiplier (normal quantile of the caller's
    per-check false-alarm rate)."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(width)
    e0 = rng.standard_normal(width)
    e0 -= (e0 @ x0) / (x0 @ x0) * x0
    act = get_activation(activation)
    setups, states = [], []
    for sw, depth in phases:
        qs = q_star(predict_activation, sw, sigma_b)
        q0 = (qs - sigma_b**2) / sw**2  # q_1 = σ_w²·q0 + σ_b² = q*
        x = x0 * (math.sqrt(width * q0) / np.linalg.norm(x0))
        e = e0 * (math.sqrt(2 * gap) * np.linalg.norm(x) / np.linalg.norm(e0))
        setups.append((sw, depth, qs, q0))
        states.append([x, x + e, np.empty(depth)])
    with prop.single_threaded_blas():
        for l in range(max(d for _, d in phases)):
            w0, b0 = rng.standard_normal((width, width)), rng.standard_normal(width)
            for (sw, depth, _, _), st in zip(setups, states):
                if l >= depth:
                    continue
                h, hp, out = st
                g, b = sw / math.sqrt(width), b0 * sigma_b  # W = g·w0 (scaling the products, not the matrix)
                z, zp = g * (w0 @ h) + b, g * (w0 @ hp) + b
                d = g * (w0 @ (hp - h))  # z' − z without cancellation (the bias cancels exactly)
                nz, nzp = np.linalg.norm(z), np.linalg.norm(zp)
                # ẑ' − ẑ = (z + d)/‖z'‖ − z/‖z‖ = d/‖z'‖ + z·(1/‖z'‖ − 1/‖z‖)
                diff = d / nzp + z * ((nz - nzp) / (nz * nzp))
                out[l] = 0.5 * float(diff @ diff)
                st[0], st[1] = act.f(z), act.f(zp)
    runs = []
    for (sw, depth, qs, q0), (_, _, out) in zip(setups, states):
        chi = float(prop.chi(predict_activation, qs, sw * sw))
        mf = prop.mean_field(prop.gain_scheme(sw), predict_activation, depth, width, bias_std=sigma_b, q0=q0)
        # sd: the backward walk from layer L down to 1 (same factors), plus the two measured endpoints
        sd = float(mf.backward_sd[0]) + 2 * float(np.max(mf.forward_sd))
        bias = float(mf.backward_bias[0]) + 2 * float(np.max(mf.forward_bias))
        runs.append(CorrelationRun(activation, sw, sigma_b, width, depth, out, chi, float(math.log(out[-1] / out[0])),
                                   (depth - 1) * math.log(chi), bias + k * sd))
    return runs


def band_k(alpha: float, checks: int) -> float:
    """Two-sided normal quantile for a false-alarm rate ``alpha`` split over ``checks`` checks (Bonferroni)."""
    return float(stats.norm.isf(alpha / (2.0 * checks)))
