"""Exact yes/no checks the evidence applies to arrays, networks and optimizer steps.

Each oracle answers bitwise (no tolerance) unless its docstring says otherwise; the claims' mutation
self-tests show every one rejecting a known-bad input.
"""
from __future__ import annotations

import copy
import math

import numpy as np
from scipy.optimize import linprog

from invariants.reference import Architecture, Params, loss_and_grad
from invariants.symmetry import all_classes


def columns_identical(z: np.ndarray) -> bool:
    """Every column of ``z`` (B, n) is bitwise equal to the first: all n units got the same signal."""
    return bool(np.array_equal(z, np.repeat(z[:, :1], z.shape[1], axis=1)))


def monotone_along(s: np.ndarray, y: np.ndarray) -> bool:
    """``y`` is a monotone (non-decreasing or non-increasing) function of ``s``: sorted by ``s``, the
    values of ``y`` never change direction (ties in ``s`` must come with equal ``y``)."""
    order = np.lexsort((y, s))
    d = np.diff(y[order])
    up, down = np.all(d >= 0), np.all(d <= 0)
    if not (up or down):
        return False
    # equal s must give equal y (the lexsort above would hide a tie with different y)
    same = np.diff(s[order]) == 0
    return bool(np.all(d[same] == 0))


def linearly_separable(x: np.ndarray, labels: np.ndarray) -> bool:
    """Whether some (w, b) has (2·label − 1)(w·x + b) ≥ 1 for every row: an LP feasibility problem
    (scipy ``linprog``, HiGHS).  ``labels`` are 0/1 of shape (B,)."""
    y = 2 * np.asarray(labels, float) - 1
    A = -y[:, None] * np.hstack([x, np.ones((len(x), 1))])
    res = linprog(np.zeros(x.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(x)),
                  bounds=[(None, None)] * (x.shape[1] + 1), method="highs")
    if res.status not in (0, 2):
        raise RuntimeError(f"linprog ended with status {res.status}: {res.message}")
    return res.status == 0


def tie_structure(g: np.ndarray, kind: str) -> bool:
    """The tie structure of a weight matrix (or its gradient) in the symmetric subspace: ``all`` entries
    equal (hidden-to-hidden), ``rows`` equal to each other (first layer), ``cols`` equal (output layer:
    each row constant)."""
    if kind == "all":
        return bool(np.all(g == g.flat[0]))
    if kind == "rows":
        return bool(np.all(g == g[0:1, :]))
    return bool(np.all(g == g[:, 0:1]))


def update_unties_rows(opt, params: Params, grads: Params, name: str) -> bool:
    """Whether the optimizer's next step makes two entries of one row of ``params[name]`` differ by more
    than 2 ulp in exact arithmetic (replayed in float64 on a copy of the optimizer), so that no rounding
    to ``params[name].dtype`` can leave them equal: round(a) ≤ a + ulp/2 < b − ulp/2 ≤ round(b)."""
    exact = copy.deepcopy(opt).step({k: v.astype(np.float64) for k, v in params.items()},
                                    {k: v.astype(np.float64) for k, v in grads.items()})[name]
    spread = np.ptp(exact, axis=1)
    ulp = np.spacing(np.abs(exact).max(axis=1).astype(params[name].dtype)).astype(np.float64)
    return bool(np.any(spread > 2 * ulp))


def zero_weight_start_is_stationary(arch: Architecture, bias: float, t: np.ndarray) -> bool:
    """Whether all-zero weights with every bias ``bias`` are a stationary point on targets ``t``, exactly.

    The output is then the constant ``bias`` for every input, so Σ_batch δ_L = 0 (and with it every
    gradient) iff that constant is already the best constant fit: for MSE, the mean of every target
    column equals ``bias`` (``math.fsum``: exact up to one final rounding); for softmax cross-entropy
    (equal logits, so uniform probabilities), every class occurs equally often.
    """
    n, k = len(t), arch.sizes[-1]
    if arch.loss == "softmax_xent":
        return bool(np.all(np.bincount(np.asarray(t), minlength=k) * k == n))
    b = float(np.asarray(bias, dtype=arch.dtype))  # the bias the network holds
    return all(math.fsum(float(v) for v in t[:, o]) == n * b for o in range(k))


def gradient_step_descends(arch: Architecture, params: Params, x, t, halvings: int = 40) -> bool:
    """Whether some plain gradient step θ − η∇L(θ), η = 2⁻ᵏ (k = 0..``halvings``), lowers the loss: the
    backtracking line search of Armijo (1966), which succeeds for a small enough η whenever ∇L(θ) ≠ 0
    and L is differentiable at θ."""
    loss0, grads = loss_and_grad(arch, params, x, t)
    for k in range(halvings + 1):
        eta = 2.0 ** -k
        trial = {n: (v - v.dtype.type(eta) * grads[n]) for n, v in params.items()}
        if loss_and_grad(arch, trial, x, t)[0] < loss0:
            return True
    return False


def tied_pairs(arch: Architecture, params: Params) -> int:
    """Number of unordered pairs of interchangeable hidden units, summed over hidden layers
    (0 ⇔ stabilizer order 1; see :mod:`invariants.symmetry`)."""
    return sum(len(c) * (len(c) - 1) // 2 for cs in all_classes(arch, params).values() for c in cs)


def fully_tied(arch: Architecture, params: Params) -> bool:
    """True when every hidden layer is a single class (all its units interchangeable)."""
    return all(len(cs) == 1 for cs in all_classes(arch, params).values())
