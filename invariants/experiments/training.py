"""Training runs that check the ties after every step, and the randomness they are checked under.

:func:`train_checking_ties` trains like :func:`invariants.reference.train` and compares every unit
class of the initialization (:func:`invariants.symmetry.all_classes`) bit for bit after each step;
:func:`augmented`, :func:`dropconnect` and :func:`noisy_gradients` build the input-side and per-unit
random operations it can train under; :data:`LR` holds the learning rates of the training properties.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invariants.reference import Architecture, Params, loss_and_grad, train
from invariants.symmetry import all_classes, symmetry_defect

#: Learning rates used with each reference optimizer in the training properties: small enough that
#: 10-50 steps on the small networks here stay finite, large enough that parameters move visibly.
LR: dict[str, float] = {
    "sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adam": 0.01, "adamw": 0.01,
    "rmsprop": 0.005, "adagrad": 0.05,
}


@dataclass
class TieRun:
    """Outcome of :func:`train_checking_ties`.

    Attributes:
        params: parameters after the last step run (the last finite ones if training overflowed).
        losses: loss before each step (empty if training overflowed).
        defect: largest :func:`symmetry_defect` over the steps, relative to the classes at
            initialization (0.0 while every tie holds bitwise).
        first_untied: first step (1-based) after which an initially tied pair differs, or ``None``.
        diverged_at: first step whose parameters were not all finite (training stopped there), or ``None``.
    """

    params: Params
    losses: list[float]
    defect: float = 0.0
    first_untied: int | None = None
    diverged_at: int | None = None

    @property
    def tied(self) -> bool:
        return self.defect == 0.0 and self.first_untied is None


class _Overflow(Exception):
    pass


def train_checking_ties(arch: Architecture, params: Params, x, t, optimizer, steps: int,
                        batch_size: int | None = None, rng: np.random.Generator | None = None,
                        loss_grad=None) -> TieRun:
    """Train like :func:`invariants.reference.train`, checking after every step that the units tied
    at initialization are still tied bit for bit.

    ``loss_grad(arch, params, xb, tb, rng) -> (loss, grads)`` replaces
    :func:`invariants.reference.loss_and_grad` when given (data augmentation, DropConnect, gradient
    noise: see :func:`augmented`, :func:`dropconnect`, :func:`noisy_gradients`); minibatches are then
    drawn exactly as ``train`` draws them.  Training stops at the first step whose parameters are not
    all finite (an overflow, e.g. a large constant init with a large step): ties are a statement about
    finite trajectories, and inf − inf comparisons are meaningless.  The returned :class:`TieRun`
    records where that happened.
    """
    classes = all_classes(arch, params)
    run = TieRun(params, [])

    def watch(step, p):
        if not all(np.all(np.isfinite(v)) for v in p.values()):
            run.diverged_at = step + 1
            raise _Overflow
        run.params = p
        d = symmetry_defect(arch, p, classes)
        if d != 0.0:
            run.defect = max(run.defect, d)
            run.first_untied = step + 1 if run.first_untied is None else run.first_untied

    with np.errstate(over="ignore", invalid="ignore"):
        try:
            if loss_grad is None:
                result = train(arch, params, x, t, optimizer, steps, batch_size=batch_size, rng=rng, callback=watch)
                run.losses = result.losses
            else:
                losses, p = [], params
                for step in range(steps):
                    if batch_size is not None and batch_size < len(x):
                        idx = rng.choice(len(x), size=batch_size, replace=False)
                        xb, tb = x[idx], t[idx]
                    else:
                        xb, tb = x, t
                    loss, grads = loss_grad(arch, p, xb, tb, rng)
                    losses.append(loss)
                    p = optimizer.step(p, grads)
                    watch(step, p)
                run.losses = losses
        except _Overflow:
            pass
    return run


def augmented(kind: str):
    """A ``loss_grad`` for :func:`train_checking_ties` that augments each batch before the usual loss
    and gradient: ``"noise"`` adds N(0, 0.1²) to every input, ``"flip"`` reverses the feature order of
    a random half of the examples (a horizontal flip of a 1-D "image"), ``"scale"`` multiplies each
    example by a factor uniform in [0.5, 1.5].  All draw from the run's generator; raises
    ``ValueError`` for an unknown kind."""
    if kind not in ("noise", "flip", "scale"):
        raise ValueError(f"unknown augmentation {kind!r}")

    def loss_grad(arch, params, xb, tb, rng):
        if kind == "noise":
            xb = xb + rng.normal(0.0, 0.1, xb.shape).astype(xb.dtype)
        elif kind == "flip":
            flip = rng.random(len(xb)) < 0.5
            xb = np.where(flip[:, None], xb[:, ::-1], xb)
        else:
            xb = xb * rng.uniform(0.5, 1.5, (len(xb), 1)).astype(xb.dtype)
        return loss_and_grad(arch, params, xb, tb, rng=rng)

    return loss_grad


def dropconnect(p: float):
    """A ``loss_grad`` with DropConnect (Wan et al. 2013): every weight entry of every layer is dropped
    independently with probability ``p`` (kept ones scaled by 1/(1 − p)) for the forward and
    backward pass of each step; ∂L/∂W = mask ⊙ ∂L/∂(mask ⊙ W)."""

    def loss_grad(arch, params, xb, tb, rng):
        masks = {k: (rng.random(v.shape) >= p).astype(v.dtype) / v.dtype.type(1 - p)
                 for k, v in params.items() if k.startswith("W")}
        loss, grads = loss_and_grad(arch, {k: v * masks[k] if k in masks else v for k, v in params.items()}, xb, tb)
        return loss, {k: g * masks[k] if k in masks else g for k, g in grads.items()}

    return loss_grad


def noisy_gradients(sigma: float):
    """A ``loss_grad`` adding independent N(0, σ²) noise to every gradient entry (per-parameter noise,
    as in Langevin dynamics or gradient-noise regularization)."""

    def loss_grad(arch, params, xb, tb, rng):
        loss, grads = loss_and_grad(arch, params, xb, tb)
        return loss, {k: g + rng.normal(0.0, sigma, g.shape).astype(g.dtype) for k, g in grads.items()}

    return loss_grad
