"""Elementwise activations φ and their derivatives φ' for the reference network.

Every function is elementwise (so it cannot break permutation equivariance) and keeps the input's
floating dtype.  Derivative conventions at kinks follow PyTorch's autograd: relu'(0) = 0 and
leaky_relu'(0) = negative_slope (the "x > 0" branch is taken only for x > 0).

Sources: SELU constants from Klambauer et al. 2017, eq. 2 (α ≈ 1.6733, λ ≈ 1.0507, the values
``torch.nn.SELU`` uses); GELU is the exact form x·Φ(x) of Hendrycks & Gimpel 2016.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

LEAKY_SLOPE = 0.01
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@dataclass(frozen=True)
class Activation:
    """An activation: ``f(z)``, its derivative ``df(z)``, and whether φ(0) = 0."""

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    #: True where the activation is not differentiable at some points (finite differences invalid there)
    has_kink: bool = False
    #: φ'(z) computed from the output y = φ(z) instead, where that is the same arithmetic as ``df(z)`` (the
    #: same bits): tanh 1 − y², sigmoid y(1 − y), relu [y > 0], identity 1; None for the others.  The
    #: backward pass has y at hand and saves recomputing φ
    df_out: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def zero_at_zero(self) -> bool:
        """φ(0) == 0 (tanh, relu, sin, …), the case where all-zero weights freeze every hidden gradient."""
        return float(self.f(np.zeros(1))[0]) == 0.0


def _cast(z: np.ndarray, v) -> np.ndarray:
    return np.asarray(v, dtype=z.dtype)


def _sigmoid(z):
    return special.expit(z)


def _dsigmoid(z):
    s = special.expit(z)
    return s * (1 - s)


def _selu(z):
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))


def _dselu(z):
    return SELU_SCALE * np.where(z > 0, _cast(z, 1.0), SELU_ALPHA * np.exp(np.minimum(z, 0)))


_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def _gelu(z):
    return z * (0.5 * (1 + special.erf(z * _INV_SQRT2)))


def _dgelu(z):
    cdf = 0.5 * (1 + special.erf(z * _INV_SQRT2))
    return cdf + z * (_INV_SQRT_2PI * np.exp(-0.5 * z * z))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", lambda z: z, lambda z: np.ones_like(z), df_out=lambda y: np.ones_like(y)),
        Activation("sigmoid", _sigmoid, _dsigmoid, df_out=lambda s: s * (1 - s)),
        Activation("tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2, df_out=lambda y: 1 - y ** 2),
        # y = max(z, 0) > 0 exactly where z > 0 (NaN: neither)
        Activation("relu", lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype), has_kink=True,
                   df_out=lambda y: (y > 0).astype(y.dtype)),
        Activation(
            "leaky_relu",
            lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
            lambda z: np.where(z > 0, _cast(z, 1.0), _cast(z, LEAKY_SLOPE)),
            has_kink=True,
        ),
        Activation("selu", _selu, _dselu, has_kink=True),
        Activation("gelu", _gelu, _dgelu),
        Activation("sin", np.sin, np.cos),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; raises ``ValueError`` listing the known names."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}") from None
