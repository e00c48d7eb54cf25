"""Central finite-difference gradient check for the reference network (float64).

For each parameter tensor θ_k the analytic gradient a_k is compared with the central difference
n_k[i] = (L(θ + h e_i) − L(θ − h e_i)) / (2h) through the norm-wise relative error
‖a_k − n_k‖ / max(‖a_k‖ + ‖n_k‖, floor_k).  With h = 1e-6 the truncation error is O(h²·|L‴|) ≈ 1e-12.
The rounding error of one central difference is at most κ·ε·|L|/h (a loss evaluation is a short chain
of sums and products with relative error ≤ κ·ε, κ = 16; ε = 2.2e-16), so over a tensor of ``size``
entries ‖n_k − ∇_k L‖ ≤ noise_k = κ·ε·max(|L|, ε)·√size / h ≈ 3.5e-9·|L|·√size.  A gradient smaller
than noise_k / TOL cannot be resolved to relative error TOL by finite differences (e.g. the exactly
zero gradient of a weight feeding a batch norm over a single input), so floor_k = noise_k / TOL:
such tensors are compared absolutely at the noise level, not by a ratio of two rounding residues.
TOL = 1e-6 is the acceptance bound the suite uses.  Finite differences are only
valid away from kinks: :func:`kink_margin` reports the distance of the nearest pre-activation to a
kink so callers can skip such points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invariants.reference.activations import get_activation
from invariants.reference.network import Architecture, Params, forward, loss_and_grad
from invariants.reference.losses import get_loss

STEP = 1e-6
#: acceptance bound on the norm-wise relative error
TOL = 1e-6
#: rounding-error multiplier of one loss evaluation (module docstring)
KAPPA = 16


@dataclass(frozen=True)
class GradCheck:
    """Per-tensor norm-wise relative errors and the worst one."""

    errors: dict[str, float]

    @property
    def max_error(self) -> float:
        return max(self.errors.values())

    def ok(self, tol: float = 1e-6) -> bool:
        return self.max_error <= tol


def numeric_grad(arch: Architecture, params: Params, x, t, h: float = STEP) -> Params:
    """Central-difference gradient of the loss (dropout must be off: the loss must be deterministic)."""
    if arch.input_dropout or arch.hidden_dropout:
        raise ValueError("finite differences need a deterministic loss; disable dropout")
    loss = get_loss(arch.loss)
    out: Params = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            orig = p[i]
            p[i] = orig + h
            lp = float(loss(forward(arch, params, x).output, t)[0])
            p[i] = orig - h
            lm = float(loss(forward(arch, params, x).output, t)[0])
            p[i] = orig
            g[i] = (lp - lm) / (2 * h)
        out[name] = g
    return out


def gradient_check(arch: Architecture, params: Params, x, t, backward=loss_and_grad) -> GradCheck:
    """Compare ``backward``'s gradient with central differences; ``backward`` is swappable for mutation tests."""
    if np.dtype(arch.dtype) != np.float64:
        raise ValueError("gradient checks run in float64")
    params = {k: v.copy() for k, v in params.items()}
    _, analytic = backward(arch, params, x, t)
    numeric = numeric_grad(arch, params, x, t)
    loss = abs(float(get_loss(arch.loss)(forward(arch, params, x).output, t)[0]))
    eps = float(np.finfo(np.float64).eps)
    errors = {}
    for name in params:
        a, n = analytic[name], numeric[name]
        floor = KAPPA * eps * max(loss, eps) * np.sqrt(a.size) / STEP / TOL
        errors[name] = float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), floor))
    return GradCheck(errors)


def kink_margin(arch: Architecture, params: Params, x) -> float:
    """Smallest |z| over all hidden pre-activations for activations with a kink at 0 (inf otherwise)."""
    if not get_activation(arch.activation).has_kink or arch.depth == 1:
        return float("inf")
    cache = forward(arch, params, x)
    return float(min(np.abs(z).min() for z in cache.preacts[:-1]))
