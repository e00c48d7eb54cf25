"""Independent training runs of one reference network, advanced together along a leading *run* axis.

Layout: a *stack* of R runs holds each parameter of :func:`invariants.reference.network.loss_and_grad`'s
layout with a leading axis of length R — W_l (R, n_l, n_{l-1}), b_l (R, n_l) — built by :func:`stack` and
taken apart by :func:`unstack`.  Inputs are shared by every run, x (B, n_in), or one per run, (R, B, n_in);
targets likewise ((B, C) or (R, B, C) for MSE, integer labels (B,) or (R, B) for softmax cross-entropy).
Every run has the same :class:`~invariants.reference.network.Architecture`; an optimizer
(:class:`~invariants.reference.optimizers.Optimizer`, whose update is elementwise) updates a stack as it
updates one run, with the same hyper-parameters and step count for all (:func:`step`; a run that finishes
early leaves the stack and its state with :func:`take` and :func:`take_optimizer`), or each run has its own
(:func:`step_each`).

Why: ``invariants verify`` trains tens of thousands of steps of networks with a few dozen parameters, where
a step's cost is Python and numpy's fixed cost per call, not arithmetic.  With the ``blas`` kernel a stack
costs much less than its runs one by one (4 runs of a (2, 2, 1) network, batch 64: ~45 µs a
``loss_and_grad_runs`` against 4 × ~25 µs, measured at load 4); with the ``exact`` kernel the gain starts
at about 4 runs (a stack's canonical sums go through numpy broadcasting and one compiled sum, dearer than
one run's fused compiled product).

**Run r of every result is bit for bit what the one-run functions give on run r alone** (tested in
tests/reference/test_runs.py, float32 and float64, both kernels, signed zeros and NaN), because each
operation is one of:

- elementwise (bias, activation and its derivative, loss gradient, optimizer update): numpy computes each
  element by itself, whatever array it sits in;
- a product with the ``exact`` kernel below :data:`~invariants.reference.kernels.CROSSOVER`: the one-run
  path is a canonical sum of IEEE products (:func:`~invariants.reference.kernels.canonical_matmul`); here
  the products of all runs are formed by one numpy multiplication (one rounding each, the same values) and
  summed by :func:`~invariants.reference.kernels.canonical_sum`, a function of the multiset of a sum's
  terms whichever loop computes it (tests/reference/test_compiled.py);
- a product with the ``exact`` kernel from CROSSOVER: the one-run call on run r's slice;
- a ``blas`` product: one ``numpy.matmul`` of the stacks, which calls BLAS once per run with that run's
  one-run arguments (same shape, strides and transposition flags; only the addresses differ);
- a sum that is not canonical (the loss value, a ``blas`` bias gradient): numpy's sum along the reduced
  axis of each run's slice, as for one run.
  The last two rest on numpy's loops rather than on a definition of ours, so tests/reference/test_runs.py
  checks them against the one-run calls on shapes from 1 to 300, both dtypes, shared and per-run inputs.

Not supported (``ValueError``): dropout (masks are drawn per run from its own generator) and
normalization layers.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from invariants.reference import kernels
from invariants.reference.network import Architecture, Layout, Params, layout, splits_pay
from invariants.reference.optimizers import Optimizer


def stack(trees: Sequence[Params]) -> Params:
    """One stack from R parameter-shaped dicts with the same keys and shapes: name → (R, *shape)."""
    if not trees:
        raise ValueError("stack needs at least one run")
    return {k: np.stack([tree[k] for tree in trees]) for k in trees[0]}


def unstack(tree: Params) -> list[Params]:
    """The runs of a stack, each a dict of new arrays (run r is ``{k: v[r]}``)."""
    n = len(next(iter(tree.values())))
    return [{k: v[r].copy() for k, v in tree.items()} for r in range(n)]


def step_each(optimizers: Sequence[Optimizer], params: Params, grads: Params) -> Params:
    """One step of run r's own optimizer ``optimizers[r]`` on run r of the stack (runs that differ in their
    optimizer or hyper-parameters), restacked: each run's update is its optimizer's on that run's slices,
    which are the run's arrays (the update is elementwise)."""
    if len(optimizers) != len(next(iter(params.values()))):
        raise ValueError(f"{len(optimizers)} optimizers for a stack of {len(next(iter(params.values())))} runs")
    new = [opt.step({k: v[r] for k, v in params.items()}, {k: g[r] for k, g in grads.items()})
           for r, opt in enumerate(optimizers)]
    return stack(new)


def take(tree: Params, runs) -> Params:
    """The stack of the runs at positions ``runs`` (indices or a boolean mask over the run axis)."""
    return {k: v[runs] for k, v in tree.items()}


def take_optimizer(optimizer: Optimizer, runs) -> None:
    """Keep only the runs ``runs`` (as :func:`take`) in ``optimizer``'s state, in place: after a
    finished run leaves the stack, the others step on as before."""
    for slot, tree in optimizer.state.items():
        optimizer.state[slot] = take(tree, runs)


def step(optimizer: Optimizer, params: Params, grads: Params) -> Params:
    """``optimizer.step`` on a stack (every run with the optimizer's hyper-parameters and step count).

    Raises:
        ValueError: the optimizer clips the global gradient norm (a norm per run, not supported here).
    """
    if optimizer.clip_norm is not None:
        raise ValueError("global-norm clipping is computed per run: not supported on a stack of runs")
    return optimizer.step(params, grads)


def loss_and_grad_runs(arch: Architecture, params: Params, x: np.ndarray, t: np.ndarray,
                       ) -> tuple[list[float], Params]:
    """:func:`~invariants.reference.network.loss_and_grad` of every run of the stack ``params``: the
    losses (a list of R floats) and the stacked gradients (same keys and shapes as ``params``).

    Raises:
        ValueError: dropout or a norm in ``arch``; inputs or targets of the wrong shape.
    """
    if arch.input_dropout or arch.hidden_dropout or arch.norm is not None:
        raise ValueError("loss_and_grad_runs supports networks without dropout or normalization")
    plan = layout(arch)
    kernel, depth = arch.kernel, plan.depth
    n_runs = params[plan.weights[0]].shape[0]
    h = np.asarray(x, dtype=plan.dtype)
    if h.ndim not in (2, 3) or h.shape[-1] != arch.sizes[0] or (h.ndim == 3 and h.shape[0] != n_runs):
        raise ValueError(f"inputs must have shape (B, {arch.sizes[0]}) or ({n_runs}, B, {arch.sizes[0]}), "
                         f"got {h.shape}")
    rows = h.shape[-2]
    blas = kernel == "blas"
    inputs, preacts, operands = [], [], []
    for l in range(1, depth + 1):
        w = params[plan.weights[l - 1]]
        inputs.append(h)
        if blas:  # one stacked matmul: a BLAS call per run with the one-run arguments
            z = np.matmul(h, w.swapaxes(-1, -2))
            operands.append(None)
        elif not splits_pay(arch, rows, w[0]):
            z = canonical_products(h[..., :, None, :], w[..., None, :, :])
            operands.append(None)
        else:  # the one-run product per run (split operands kept for the backward products)
            ops = [(kernels.operand(_run(h, r), kernel), kernels.operand(w[r], kernel)) for r in range(n_runs)]
            z = np.stack([kernels.matmul(hop, wop.T, kernel) for hop, wop in ops])
            operands.append(ops)
        if plan.bias:
            z = z + params[plan.biases[l - 1]][:, None, :]
        preacts.append(z)
        h = plan.act.f(z) if l < depth else z
    losses, delta = _loss(arch, plan, h, t, n_runs)
    grads: Params = {}
    for l in range(depth, 0, -1):
        wname, h, ops = plan.weights[l - 1], inputs[l - 1], operands[l - 1]
        w = params[wname]
        if blas:
            grads[wname] = np.matmul(delta.swapaxes(-1, -2), h)
            if plan.bias:
                grads[plan.biases[l - 1]] = delta.sum(axis=-2)
            back = np.matmul(delta, w) if l > 1 else None
        elif ops is None:
            d = delta.swapaxes(-1, -2)[..., :, None, :]  # (R, n_l, 1, B)
            if plan.bias:  # δᵀ·[h, 1] as one canonical product per run (network._weight_and_bias_grads)
                ones = np.ones(h.shape[:-1] + (1,), dtype=h.dtype)
                both = canonical_products(d, np.concatenate((h, ones), axis=-1).swapaxes(-1, -2)[..., None, :, :])
                grads[wname], grads[plan.biases[l - 1]] = both[..., :-1].copy(), both[..., -1].copy()
            else:
                grads[wname] = canonical_products(d, h.swapaxes(-1, -2)[..., None, :, :])
            back = canonical_products(delta[..., :, None, :], w.swapaxes(-1, -2)[..., None, :, :]) if l > 1 else None
        else:
            ds = [kernels.operand(delta[r], kernel) for r in range(n_runs)]
            grads[wname] = np.stack([kernels.matmul(d.T, hop, kernel) for d, (hop, _) in zip(ds, ops)])
            if plan.bias:
                grads[plan.biases[l - 1]] = np.stack([kernels.sum_rows(delta[r], kernel) for r in range(n_runs)])
            back = np.stack([kernels.matmul(d, wop, kernel) for d, (_, wop) in zip(ds, ops)]) if l > 1 else None
        if l > 1:  # as network.loss_and_grad: φ' from the layer's output where the activation allows
            act = plan.act
            delta = back * (act.df(preacts[l - 2]) if act.df_out is None else act.df_out(inputs[l - 1]))
    return losses, {name: grads[name] for name in params}


def _run(a: np.ndarray, r: int) -> np.ndarray:
    """Run r's slice of a stacked array, or the shared array itself (inputs (B, n_in))."""
    return a if a.ndim == 2 else a[r]


def canonical_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The product matrices of a stack: Σ over the last axis of ``a * b`` (broadcast; the reduction axis last in both) by canonical sums of
    the IEEE products: ``a[..., i, 1, p]`` and ``b[..., 1, j, p]`` give the product matrix ``[..., i, j]``."""
    with np.errstate(invalid="ignore", over="ignore"):  # 0·∞ is NaN by definition here, as in canonical_matmul
        products = a * b
    k = products.shape[-1]
    return kernels.canonical_sum(products.reshape(-1, k), axis=-1).reshape(products.shape[:-1])


def _loss(arch: Architecture, plan: Layout, y: np.ndarray, t: np.ndarray, n_runs: int,
          ) -> tuple[list[float], np.ndarray]:
    """Each run's loss (the one-run function's value) and the stacked ∂L/∂y; ``plan`` is ``layout(arch)``."""
    if arch.loss == "mse":  # as losses.mse on each run: elementwise, and a sum over each run's (B, C) values
        t = np.asarray(t, dtype=y.dtype)
        if t.shape not in (y.shape, y.shape[1:]):
            raise ValueError(f"mse targets have shape {t.shape}, outputs {y.shape}")
        diff = y - t
        scale = y.dtype.type(1.0 / (diff.size // n_runs))
        totals = (diff * diff).reshape(n_runs, -1).sum(axis=1) * scale
        return totals.tolist(), (2 * scale) * diff
    t = np.asarray(t)
    per_run = [plan.loss(y[r], t if t.ndim == 1 else t[r]) for r in range(n_runs)]
    return [float(loss) for loss, _ in per_run], np.stack([g for _, g in per_run])


__all__ = ["canonical_products", "loss_and_grad_runs", "stack", "step", "step_each", "take", "take_optimizer", "unstack"]
