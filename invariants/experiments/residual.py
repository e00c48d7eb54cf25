"""A small residual MLP with zero-initialised branches (Fixup, SkipInit/ReZero, zero-γ), trained in numpy.

The network of RES-ZERO-01's evidence.  Layout (rows are examples, as in :mod:`invariants.reference`):
the stream ``h_0 = x`` (B, d) passes through K blocks ``h_k = h_{k-1} + r_k(h_{k-1})`` and a linear
readout ``y = h_K W_oᵀ + b_o`` (B, o); the loss is ``½·mean_b ‖y − t‖²``.  Each branch is two layers,
``u = h W1ᵀ + b1`` (B, m), ``a = φ(u)``, ``v = a W2ᵀ + b2`` (B, d), and its output ``r`` is

- ``"plain"`` (``last_zero``, ``both_zero``, ``random``): ``r = v``;
- ``"rezero"``: ``r = α·v`` with a trainable scalar α per block (ReZero, Bachlechner et al. 2020; SkipInit,
  De & Smith 2020);
- ``"bn"``: ``r = γ ⊙ BN(v) + β`` with training-mode batch statistics, per-feature γ, β (the last batch
  norm of a ResNet block; Goyal et al. 2017 §5.1 set its γ to 0) and no b2 (BN removes it).

Initializations (:data:`VARIANTS`): ``last_zero`` is Fixup's (Zhang et al. 2019 §3: last layer of each
branch 0, the first scaled by K^{-1/2} — the rule K^{-1/(2m-2)} for m = 2 layers; its scalar biases and
multiplier are omitted), ``rezero`` α = 0, ``zero_gamma`` γ = 0 (both with LeCun branch weights),
``both_zero`` W1 = W2 = 0 and zero biases, ``random`` LeCun everywhere (the usual init), ``tied_first``
W2 = 0 and every row of W1 equal (a mutant: symmetric hidden units).  LeCun: ``N(0, 1/fan_in)``.
Gradients are written out by hand (checked against finite differences in the tests); the optimizers are
:mod:`invariants.reference.optimizers`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from invariants.propagation import single_threaded_blas
from invariants.reference import get_activation, make_optimizer

#: Initializations of the branches; see the module docstring.
VARIANTS: tuple[str, ...] = ("last_zero", "rezero", "zero_gamma", "both_zero", "random", "tied_first")
_KIND = {"last_zero": "plain", "both_zero": "plain", "random": "plain", "tied_first": "plain",
         "rezero": "rezero", "zero_gamma": "bn"}
BN_EPS = 1e-5

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class ResidualNet:
    """Sizes and activation: stream width ``d`` (= input width), branch width ``m``, ``blocks`` K,
    ``outputs`` o, elementwise ``activation`` (a name of :mod:`invariants.reference.activations`)."""

    d: int = 8
    m: int = 32
    blocks: int = 3
    outputs: int = 2
    activation: str = "tanh"
    variant: str = "last_zero"

    @property
    def kind(self) -> str:
        """Branch output form: ``"plain"``, ``"rezero"`` or ``"bn"``."""
        return _KIND[self.variant]


def init_params(net: ResidualNet, rng: np.random.Generator) -> Params:
    """Parameters of ``net.variant`` (float64): ``W1_k`` (m, d), ``b1_k`` (m,), ``W2_k`` (d, m), ``b2_k``
    (d,) (not for ``"bn"``), ``alpha_k`` (1,) for rezero, ``gamma_k``/``beta_k`` (d,) for bn, ``Wo``
    (o, d), ``bo`` (o,).  Raises ``ValueError`` for an unknown variant."""
    if net.variant not in VARIANTS:
        raise ValueError(f"unknown variant {net.variant!r}; expected one of {VARIANTS}")
    d, m, K = net.d, net.m, net.blocks
    p: Params = {}
    for k in range(K):
        w1 = rng.standard_normal((m, d)) / math.sqrt(d)
        w2 = rng.standard_normal((d, m)) / math.sqrt(m)
        if net.variant == "last_zero":
            w1, w2 = w1 / math.sqrt(K), np.zeros((d, m))
        elif net.variant == "both_zero":
            w1, w2 = np.zeros((m, d)), np.zeros((d, m))
        elif net.variant == "tied_first":
            w1, w2 = np.repeat(w1[:1], m, axis=0), np.zeros((d, m))
        p[f"W1_{k}"], p[f"b1_{k}"], p[f"W2_{k}"] = w1, np.zeros(m), w2
        if net.kind == "bn":
            p[f"gamma_{k}"], p[f"beta_{k}"] = np.zeros(d), np.zeros(d)
        else:
            p[f"b2_{k}"] = np.zeros(d)
        if net.kind == "rezero":
            p[f"alpha_{k}"] = np.zeros(1)
    p["Wo"] = rng.standard_normal((net.outputs, d)) / math.sqrt(d)
    p["bo"] = np.zeros(net.outputs)
    return p


def loss_and_grad(net: ResidualNet, p: Params, x: np.ndarray, t: np.ndarray) -> tuple[float, Params]:
    """Loss ``½·mean_b ‖y − t‖²`` and its gradient with respect to every parameter (same keys and shapes).

    ``x``: (B, d) inputs; ``t``: (B, o) targets.  Backpropagation by hand (the chain rule of the module
    docstring's layout; batch norm's backward from Ioffe & Szegedy 2015, §3)."""
    act = get_activation(net.activation)
    B = x.shape[0]
    h, cache = x, []
    for k in range(net.blocks):
        u = h @ p[f"W1_{k}"].T + p[f"b1_{k}"]
        a = act.f(u)
        v = a @ p[f"W2_{k}"].T
        if net.kind == "bn":
            mu, var = v.mean(axis=0), v.var(axis=0)
            inv = 1.0 / np.sqrt(var + BN_EPS)
            n = (v - mu) * inv
            r = p[f"gamma_{k}"] * n + p[f"beta_{k}"]
            cache.append((h, u, a, v, n, inv))
        else:
            v = v + p[f"b2_{k}"]
            r = p[f"alpha_{k}"][0] * v if net.kind == "rezero" else v
            cache.append((h, u, a, v, None, None))
        h = h + r
    y = h @ p["Wo"].T + p["bo"]
    diff = y - t
    loss = 0.5 * float(np.sum(diff * diff)) / B
    gy = diff / B
    g: Params = {"Wo": gy.T @ h, "bo": gy.sum(axis=0)}
    gh = gy @ p["Wo"]
    for k in range(net.blocks - 1, -1, -1):
        h_in, u, a, v, n, inv = cache[k]
        if net.kind == "bn":
            g[f"gamma_{k}"] = np.sum(gh * n, axis=0)
            g[f"beta_{k}"] = gh.sum(axis=0)
            gn = gh * p[f"gamma_{k}"]
            gv = inv * (gn - gn.mean(axis=0) - n * np.mean(gn * n, axis=0))
        else:
            if net.kind == "rezero":
                g[f"alpha_{k}"] = np.array([np.sum(gh * v)])
                gv = p[f"alpha_{k}"][0] * gh
            else:
                gv = gh
            g[f"b2_{k}"] = gv.sum(axis=0)
        g[f"W2_{k}"] = gv.T @ a
        gu = (gv @ p[f"W2_{k}"]) * act.df(u)
        g[f"W1_{k}"] = gu.T @ h_in
        g[f"b1_{k}"] = gu.sum(axis=0)
        gh = gh + gu @ p[f"W1_{k}"]
    return loss, g


def task(n: int = 128, d: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A regression task no linear map fits: ``x ~ N(0, I_d)`` (n, d), targets (n, 2)
    ``t = (x₀x₁, sin 2x₂)`` (the first is uncorrelated with every linear function of x)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return x, np.stack([x[:, 0] * x[:, 1], np.sin(2 * x[:, 2])], axis=1)


@dataclass(frozen=True)
class ResidualRun:
    """One training run: ``losses`` (steps + 1 values, before each step and after the last), the final
    parameters, and ``branch_max_abs[t]`` = max |entry| of every branch weight (W1, W2) after step t
    (index 0: at init)."""

    losses: np.ndarray
    params: Params
    branch_max_abs: np.ndarray


def train(net: ResidualNet, optimizer: str, steps: int, lr: float, seed: int = 0,
          params: Params | None = None, data: tuple[np.ndarray, np.ndarray] | None = None) -> ResidualRun:
    """Full-batch training with one of the reference optimizers (``"sgd"``, ``"adam"``, …) for ``steps``
    steps; init from ``seed`` unless ``params`` is given, data :func:`task` unless ``data`` is.

    The optimizer sees all parameters as one flat vector (its updates are elementwise, so this is the
    same arithmetic as per-parameter updates, with far fewer numpy calls)."""
    x, t = task(d=net.d) if data is None else data
    p0 = init_params(net, np.random.default_rng(seed)) if params is None else params
    keys = list(p0)
    sizes = np.cumsum([0] + [p0[k].size for k in keys])
    theta = {"theta": np.concatenate([p0[k].ravel() for k in keys])}
    branch = np.concatenate([np.arange(sizes[i], sizes[i + 1]) for i, k in enumerate(keys)
                             if k.startswith(("W1_", "W2_"))])
    opt = make_optimizer(optimizer, lr=lr)
    losses, moved = np.empty(steps + 1), np.empty(steps + 1)
    with single_threaded_blas():
        for s in range(steps + 1):
            flat = theta["theta"]
            p = {k: flat[sizes[i]:sizes[i + 1]].reshape(p0[k].shape) for i, k in enumerate(keys)}
            moved[s] = float(np.max(np.abs(flat[branch])))
            loss, g = loss_and_grad(net, p, x, t)
            losses[s] = loss
            if s < steps:
                theta = opt.step(theta, {"theta": np.concatenate([g[k].ravel() for k in keys])})
    flat = theta["theta"]
    return ResidualRun(losses, {k: flat[sizes[i]:sizes[i + 1]].reshape(p0[k].shape).copy()
                                for i, k in enumerate(keys)}, moved)
