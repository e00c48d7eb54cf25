"""The numpy reference LSTM (``torch.nn.LSTM``'s equations), its backward pass, and a T-step recall task.

Equations (PyTorch ``torch.nn.LSTM`` documentation; one layer, batch-first inputs x (B, T, D), hidden size H)::

    a_t = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh            (B, 4H), chunks in the order i, f, g, o
    i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)
    c_t = f ⊙ c_{t−1} + i ⊙ g;         h_t = o ⊙ tanh(c_t),   h_0 = c_0 = 0

W_ih (4H, D), W_hh (4H, H).  Only the sum b = b_ih + b_hh enters, so parameters hold the sum ``b`` (4H,); the forget
gate's effective bias is ``b[H:2H]``.  ``torch_default`` draws every tensor, both biases included, from
U(−1/√H, 1/√H) as ``RNNBase.reset_parameters`` does (torch/nn/modules/rnn.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from invariants.reference.optimizers import make_optimizer

Params = dict[str, np.ndarray]


def torch_default(D: int, H: int, rng: np.random.Generator) -> Params:
    """{W_ih (4H, D), W_hh (4H, H), b (4H,) = b_ih + b_hh}, each of the four torch tensors U(±1/√H)."""
    k = 1.0 / np.sqrt(H)
    return {"W_ih": rng.uniform(-k, k, (4 * H, D)), "W_hh": rng.uniform(-k, k, (4 * H, H)),
            "b": rng.uniform(-k, k, 4 * H) + rng.uniform(-k, k, 4 * H)}


def forget_slice(H: int) -> slice:
    """Rows of the forget gate in torch's gate order (i, f, g, o)."""
    return slice(H, 2 * H)


def with_forget_bias(params: Params, value: float, rows: slice | None = None) -> Params:
    """A copy with the effective forget bias (b_ih + b_hh over ``rows``, default the forget gate's) set to
    ``value``, as setting ``b_ih[H:2H] = value, b_hh[H:2H] = 0`` does in torch."""
    H = params["W_hh"].shape[1]
    out = {k: v.copy() for k, v in params.items()}
    out["b"][forget_slice(H) if rows is None else rows] = value
    return out


@dataclass
class Cache:
    """Per-step values the backward pass needs."""

    steps: list


def forward(params: Params, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, Cache]:
    """(h_T (B, H), c_T (B, H), cache) for inputs x (B, T, D)."""
    B, T, _ = x.shape
    H = params["W_hh"].shape[1]
    h, c, steps = np.zeros((B, H)), np.zeros((B, H)), []
    for t in range(T):
        a = x[:, t] @ params["W_ih"].T + h @ params["W_hh"].T + params["b"]
        i, f = expit(a[:, :H]), expit(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), expit(a[:, 3 * H:])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        steps.append((x[:, t], h, c, i, f, g, o, tc))
        h, c = o * tc, c_new
    return h, c, Cache(steps)


def backward(params: Params, cache: Cache, dh: np.ndarray, dc: np.ndarray) -> tuple[Params, list[np.ndarray]]:
    """Gradients of a loss with ∂L/∂h_T = ``dh`` and ∂L/∂c_T = ``dc`` (B, H): (parameter gradients, ∂L/∂x_t for
    t = 1..T, each (B, D)).  Backpropagation through time of the equations in the module docstring."""
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dxs = []
    for x, h_prev, c_prev, i, f, g, o, tc in reversed(cache.steps):
        do = dh * tc
        dc = dc + dh * o * (1.0 - tc * tc)
        da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), do * o * (1 - o)], 1)
        grads["W_ih"] += da.T @ x
        grads["W_hh"] += da.T @ h_prev
        grads["b"] += da.sum(axis=0)
        dh, dc = da @ params["W_hh"], dc * f
        dxs.append(da @ params["W_ih"])
    return grads, dxs[::-1]


def input_gradient_decay(params: Params, T: int, batch: int, rng: np.random.Generator) -> float:
    """Geometric-mean per-step factor r of ‖∂c_T/∂x_1‖ relative to ‖∂c_T/∂x_T‖ for random inputs N(0, 1) and a
    random upstream ∂L/∂c_T: r = (rms(∂L/∂x_1)/rms(∂L/∂x_T))^{1/(T−1)}."""
    D, H = params["W_ih"].shape[1], params["W_hh"].shape[1]
    x = rng.standard_normal((batch, T, D))
    _, _, cache = forward(params, x)
    _, dxs = backward(params, cache, np.zeros((batch, H)), rng.standard_normal((batch, H)))
    return float((np.sqrt(np.mean(dxs[0] ** 2)) / np.sqrt(np.mean(dxs[-1] ** 2))) ** (1.0 / (T - 1)))


def recall_batch(T: int, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The T-step recall task: x_1 = (±1, 0) carries the label, x_t = (0, ξ_t) with ξ_t ~ N(0, 1) for t ≥ 2
    (distractors); the label (0/1) must be read from h_T.  Returns (x (B, T, 2), labels (B,))."""
    labels = rng.integers(0, 2, batch)
    x = np.zeros((batch, T, 2))
    x[:, 0, 0] = 2.0 * labels - 1.0
    x[:, 1:, 1] = rng.standard_normal((batch, T - 1))
    return x, labels


def train_recall(forget_bias: float, optimizer: str, lr: float, steps: int, T: int, H: int = 8, batch: int = 32,
                 seed: int = 0) -> np.ndarray:
    """Train an LSTM (torch default init, then the effective forget bias set to ``forget_bias``) with a linear
    read-out y = h_T·v + u (v ~ U(±1/√H), u = 0) and logistic loss on fresh recall batches; returns the loss of
    every step.  ``optimizer``: a name of :data:`invariants.reference.optimizers.OPTIMIZERS` with its PyTorch
    defaults (Adam: β = (0.9, 0.999), ε = 1e-8)."""
    rng = np.random.default_rng(seed)
    params = with_forget_bias(torch_default(2, H, rng), forget_bias)
    params["v"], params["u"] = rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), H), np.zeros(1)
    opt = make_optimizer(optimizer, lr=lr)
    losses = np.empty(steps)
    for step in range(steps):
        x, labels = recall_batch(T, batch, rng)
        h, c, cache = forward(params, x)
        y = h @ params["v"] + params["u"][0]
        losses[step] = np.mean(np.logaddexp(0.0, y) - labels * y)
        dy = (expit(y) - labels) / batch
        grads, _ = backward({k: params[k] for k in ("W_ih", "W_hh", "b")}, cache, dy[:, None] * params["v"][None, :],
                            np.zeros_like(c))
        grads["v"], grads["u"] = h.T @ dy, np.array([dy.sum()])
        params = opt.step(params, grads)
    return losses
