"""XOR: the four points, their targets and the cached training runs several claims and the XOR figure share."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from invariants.reference import Architecture, init_params, make_optimizer, predict, random_params, train

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([[0.0], [1.0], [1.0], [0.0]])


@lru_cache(maxsize=None)
def xor_run(init: str, activation: str = "tanh", steps: int = 300, seed: int = 0):
    """Train a 2-4-1 net (MSE, Adam lr 0.05, full batch) on XOR from ``init``; cached across claims.

    ``init``: ``"constant"`` (weights 0.5, biases 0), ``"random"`` (N(0, 1) weights, zero biases),
    ``"zero-output"`` (random hidden layer, W2 = 0), ``"zero-weights-random-bias"`` (all weights 0,
    biases N(0, 1)).  Returns ``(arch, TrainResult, accuracy)`` with accuracy of the 0.5 threshold.
    """
    arch = Architecture((2, 4, 1), activation)
    rng = np.random.default_rng(seed)
    if init == "constant":
        params = init_params(arch, 0.5, 0.0)
    elif init == "random":
        params = random_params(arch, rng, weight_std=1.0)
    elif init == "zero-output":
        params = random_params(arch, rng, weight_std=1.0)
        params["W2"] = np.zeros_like(params["W2"])
    elif init == "zero-weights-random-bias":
        params = init_params(arch, 0.0, lambda name, shape: rng.normal(0.0, 1.0, shape))
    else:
        raise ValueError(f"unknown init {init!r}")
    result = train(arch, params, XOR_X, XOR_T, make_optimizer("adam", lr=0.05), steps)
    acc = float(np.mean((predict(arch, result.params, XOR_X) > 0.5) == (XOR_T > 0.5)))
    return arch, result, acc
