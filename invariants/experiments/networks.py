"""Networks and data for the experiments: constant and tied initializations, deterministic data.

Layout and notation follow :mod:`invariants.reference.network`: W_l has shape (n_l, n_{l-1}), b_l shape
(n_l,), z_l = h_{l-1} W_lᵀ + b_l.
"""
from __future__ import annotations

import numpy as np

from invariants.reference import Architecture, Params, init_params


def constant_net(sizes: tuple[int, ...], activation: str = "tanh", loss: str = "mse", weight: float = 0.5,
                 bias: float = 0.0, **arch_kw) -> tuple[Architecture, Params]:
    """An architecture and its constant initialization: every weight ``weight``, every bias ``bias``."""
    arch = Architecture(tuple(sizes), activation, loss, **arch_kw)
    return arch, init_params(arch, weight, bias)


def make_data(arch: Architecture, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` inputs uniform in [-1, 1]^{n_in} and targets (standard normal (n, n_out) for MSE, uniform
    integer labels (n,) for softmax cross-entropy), in ``arch.dtype``, from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, arch.sizes[0])).astype(arch.dtype)
    if arch.loss == "mse":
        t = rng.normal(size=(n, arch.sizes[-1])).astype(arch.dtype)
    else:
        t = rng.integers(0, arch.sizes[-1], size=n)
    return x, t


def tied_net(rng: np.random.Generator, sizes: tuple[int, ...], activation: str,
             dtype: str = "float64") -> tuple[Architecture, Params]:
    """Random parameters inside the symmetric subspace: per layer one random row, bias and column value
    (W_l = repeated row, hidden-to-hidden W_l constant, W_L rows constant)."""
    arch = Architecture(sizes, activation, dtype=dtype)
    params = {}
    for l in range(1, arch.depth + 1):
        n, m = arch.sizes[l], arch.sizes[l - 1]
        if l == 1:
            W = np.tile(rng.normal(size=m), (n, 1))
        elif l < arch.depth:
            W = np.full((n, m), rng.normal())
        else:
            W = np.repeat(rng.normal(size=(n, 1)), m, axis=1)
        b = np.full(n, rng.normal()) if l < arch.depth else rng.normal(size=n)
        params[f"W{l}"], params[f"b{l}"] = W.astype(dtype), b.astype(dtype)
    return arch, params


def grid_data(n_side: int = 8, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic regression data, no random numbers involved.

    Returns ``x`` of shape (n_side², 2), the points of an n_side × n_side grid on [-1, 1]², and
    ``t`` of shape (n_side², 1), t = sin(2·x₁)·cos(x₂) + ``offset`` (mean ≈ ``offset``).
    """
    g = np.linspace(-1.0, 1.0, n_side)
    x = np.array([(a, b) for a in g for b in g])
    t = (np.sin(2 * x[:, 0]) * np.cos(x[:, 1]))[:, None] + offset
    return x, t


def dct_init(shape: tuple[int, int]) -> np.ndarray:
    """Deterministic weights W[j, k] = √(2/N)·cos(π(j + ½)(k + ½)/N), N = max(shape); shape (n_out, n_in).

    The top-left block of the orthogonal N × N DCT-IV matrix, so its rows are orthonormal when
    n_out ≤ n_in (norm-preserving, like an orthogonal init) and its columns when n_out ≥ n_in.  Rows
    are pairwise distinct: column 0 is cos(π(j + ½)/(2N)), strictly decreasing in j on [0, N).
    Hence, for any zero or constant bias, no two units of a layer are interchangeable.
    """
    n_out, n_in = shape
    big = max(shape)
    j = np.arange(n_out)[:, None] + 0.5
    k = np.arange(n_in)[None, :] + 0.5
    return np.sqrt(2.0 / big) * np.cos(np.pi * j * k / big)
