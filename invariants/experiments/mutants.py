"""Broken optimizers and initializations that the claims' mutation self-tests (``Evidence.mutant``) swap in
for the real ones.

Each optimizer is a reference :class:`~invariants.reference.optimizers.Optimizer` with one deliberate defect, named
after it; a mutant factory has :func:`~invariants.reference.make_optimizer`'s signature
``(name, **kwargs) -> Optimizer``, so evidence that takes ``make_opt`` runs unchanged on it.  Evidence that
still passes on such an optimizer could not have detected the defect.
"""
from __future__ import annotations

import numpy as np

from invariants.reference import Architecture, Optimizer, Params, init_params


class PositionNudging(Optimizer):
    """After a normal step, moves the first entry of every tensor up by one ulp: a position-dependent
    update, as a per-unit learning rate would be (it breaks every tie that involves unit 0)."""

    def step(self, params: Params, grads: Params) -> Params:
        new = super().step(params, grads)
        for v in new.values():
            v.flat[0] = np.nextafter(v.flat[0], np.inf)
        return new


class FrozenBiases(Optimizer):
    """A normal step for the weights that leaves every bias (``b*``) where it was: training without
    learnable biases."""

    def step(self, params: Params, grads: Params) -> Params:
        new = super().step(params, grads)
        return {k: params[k].copy() if k.startswith("b") else v for k, v in new.items()}


def tiny_weights(arch: Architecture, weights, biases) -> Params:
    """``init_params``'s signature, but every weight 10⁻³ whatever ``weights`` asks for (the biases as given):
    the premise 'all weights zero' broken."""
    return init_params(arch, 1e-3, biases)


def nudging(name: str, **kwargs) -> Optimizer:
    """:class:`PositionNudging` with ``make_optimizer``'s signature."""
    return PositionNudging(name=name, **kwargs)


def frozen_biases(name: str, **kwargs) -> Optimizer:
    """:class:`FrozenBiases` with ``make_optimizer``'s signature."""
    return FrozenBiases(name=name, **kwargs)


def plain_sgd(name: str, **kwargs) -> Optimizer:
    """Every optimizer replaced by plain SGD at the same learning rate, without weight decay or clipping:
    stateless and blind to the weights, so equal gradients always give equal updates."""
    return Optimizer(name="sgd", lr=kwargs.get("lr", 0.1))


class FirstLayerRowMean(Optimizer):
    """Replaces each row of ∂L/∂W1 by its mean before a normal step: a unit's incoming first-layer weights
    receive equal updates, as if its inputs were tied."""

    def step(self, params: Params, grads: Params) -> Params:
        g = dict(grads)
        g["W1"] = np.repeat(grads["W1"].mean(axis=1, keepdims=True), grads["W1"].shape[1], axis=1)
        return super().step(params, g)


def first_layer_row_mean(name: str, **kwargs) -> Optimizer:
    """:class:`FirstLayerRowMean` with ``make_optimizer``'s signature."""
    return FirstLayerRowMean(name=name, **kwargs)
