"""A linear layer followed by batch or layer norm: training from W and from c·W (NORM-SCALE-01's experiment).

Model (numpy, float64): x (B, D) → z = x Wᵀ (W (H, D), no bias: a bias before a norm is cancelled by its mean) →
a = g ⊙ norm_ε(z) + s (:func:`invariants.reference.norms.norm_forward`, ε chosen) → h = tanh(a) → y = h Vᵀ + u
(V (O, H), u (O,)) → MSE against a fixed teacher's targets.  W is trained by its own optimizer (learning rate and weight
decay of its own), the other parameters (g, s, V, u) by a second optimizer of the same kind with an unchanged learning
rate, so that rescaling W's learning rate is the only difference between two runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from invariants.reference.losses import mse
from invariants.reference.norms import norm_backward, norm_forward
from invariants.reference.optimizers import make_optimizer

D, H, O, B, SEED = 8, 16, 1, 32, 20261205


@lru_cache(maxsize=1)
def task() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(inputs (B, D), teacher targets (B, O), initial parameters {W, g, s, V, u}) for a fixed seed."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((B, D))
    teacher = rng.standard_normal((H, D))
    t = np.tanh(x @ teacher.T) @ rng.standard_normal((H, O)) / np.sqrt(H)
    params = {"W": rng.normal(0.0, 1.0 / np.sqrt(D), (H, D)), "g": np.ones(H), "s": np.zeros(H),
              "V": rng.normal(0.0, 1.0 / np.sqrt(H), (O, H)), "u": np.zeros(O)}
    return x, t, params


def loss_and_grad(params: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray, norm: str, eps: float,
                  ) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """(loss, gradients with the keys of ``params``, outputs y (B, O)) of the model in the module docstring."""
    z = x @ params["W"].T
    a, cache = norm_forward(norm, z, params["g"], params["s"], kernel="blas", eps=eps)
    h = np.tanh(a)
    y = h @ params["V"].T + params["u"]
    loss, dy = mse(y, t)
    grads = {"V": dy.T @ h, "u": dy.sum(axis=0)}
    da = (dy @ params["V"]) * (1.0 - h * h)
    dz, grads["g"], grads["s"] = norm_backward(da, cache, params["g"], kernel="blas")
    grads["W"] = dz.T @ x
    return float(loss), {k: grads[k] for k in params}, y


@dataclass
class Run:
    """One training run: outputs y_t (B, O) and ‖W_t‖ before each step and after the last, and the per-step
    residual of the norm identity ‖W_{t+1}‖² = (1 − ηλ)²‖W_t‖² + η²‖g_t‖² (SGD only; relative)."""

    outputs: list[np.ndarray] = field(default_factory=list)
    norms: list[float] = field(default_factory=list)
    identity_residual: float = 0.0


def train(scale: float, optimizer: str, lr_w: float, lr: float, steps: int, norm: str = "batch", eps: float = 0.0,
          weight_decay: float = 0.0) -> Run:
    """Train from W = scale·W_0 with W's learning rate ``lr_w`` (and L2 ``weight_decay`` on W only) and ``lr`` for
    the rest; Adam runs with ε_Adam = 0 so that its update is exactly invariant to the gradient's scale."""
    x, t, init = task()
    params = {k: v.copy() for k, v in init.items()}
    params["W"] = params["W"] * scale
    extra = {"eps": 0.0} if optimizer == "adam" else {}
    opt_w = make_optimizer(optimizer, lr=lr_w, weight_decay=weight_decay, **extra)
    opt_rest = make_optimizer(optimizer, lr=lr, **extra)
    run = Run()
    worst = 0.0
    for _ in range(steps + 1):
        _, grads, y = loss_and_grad(params, x, t, norm, eps)
        run.outputs.append(y)
        run.norms.append(float(np.linalg.norm(params["W"])))
        if len(run.outputs) == steps + 1:
            break
        w_old, g_w = params["W"], grads["W"]
        params = {**opt_rest.step({k: v for k, v in params.items() if k != "W"},
                                  {k: v for k, v in grads.items() if k != "W"}),
                  "W": opt_w.step({"W": w_old}, {"W": g_w})["W"]}
        if optimizer == "sgd":
            lhs = float(np.sum(params["W"] ** 2))
            rhs = (1 - lr_w * weight_decay) ** 2 * float(np.sum(w_old ** 2)) + lr_w ** 2 * float(np.sum(g_w ** 2))
            worst = max(worst, abs(lhs - rhs) / rhs)
    run.identity_residual = worst
    return run
