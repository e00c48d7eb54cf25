"""Activation gains: which framework values are derived, and which are conventions.

A *gain* multiplies the standard deviation of a fan-scaled initializer: ``Var(W) = gain^2 / fan_in``
(PyTorch's ``kaiming_*`` and ``xavier_*`` take it from ``torch.nn.init.calculate_gain``).  In the
mean-field notation of :mod:`invariants.propagation`, ``sigma_w^2 = gain^2``.

Two derivations give a gain from the activation ``phi`` (pre-activations ``z ~ N(0, q)``, zero bias):

- *second-moment gain* ``1/sqrt(E[phi(z)^2])`` at ``q = 1``: the gain that makes ``q = 1`` a fixed
  point of the variance map ``q -> gain^2 E[phi(sqrt(q) z)^2]``.  For a positively homogeneous ``phi``
  (identity, ReLU, leaky ReLU) the map is linear in ``q``, so this gain preserves *every* variance
  (He et al. 2015, eq. 10 and 15).  For a zero-mean ``phi`` it preserves the variance; for the
  sigmoid (mean 1/2) only the second moment.
- *linearized gain* ``1/|phi'(0)|``: variance preservation in the linear regime ``q -> 0`` (LeCun et
  al. 1998; Glorot & Bengio 2010 assume tanh near 0).  For an odd ``phi`` with ``phi(0) = 0`` it is the
  critical (edge-of-chaos) gain at ``q* = 0``, where ``chi = gain^2 phi'(0)^2 = 1`` (Poole et al. 2016).

PyTorch's table (``torch.nn.init.calculate_gain``) lists: linear/conv 1, sigmoid 1, tanh 5/3, ReLU
``sqrt(2)``, leaky ReLU ``sqrt(2/(1 + slope^2))``, SELU 3/4.  The documentation gives no derivation
for 5/3 and 3/4, and warns that for self-normalizing networks one should use ``nonlinearity='linear'``
(gain 1) for SELU, the default 3/4 trading the normalization for "more stable gradient flow".
:func:`gain_table` classifies each value and reports what it does in mean field.

SELU: Klambauer et al. (2017), "Self-Normalizing Neural Networks", NeurIPS, eq. 2 and 14: ``alpha``
and ``lambda`` make ``(mean, var) = (0, 1)`` a fixed point for ``N(0, 1)`` pre-activations, so the
derived SELU gain is 1 (LeCun).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from invariants.reference.activations import LEAKY_SLOPE, SELU_ALPHA, SELU_SCALE
from invariants.symbolic.variance import (
    leaky_relu_second_moment_ratio,
    relu_second_moment_ratio,
    slope,
)

#: Standard-normal variable of the derivations.
z = sp.Symbol("z", real=True)
_PDF = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)

#: PyTorch ``calculate_gain`` values (torch/nn/init.py), keyed by the reference network's activation
#: names (PyTorch's ``'linear'`` is ``'identity'`` here).  ``leaky_relu`` keeps the slope symbolic.
PYTORCH_GAINS: dict[str, sp.Expr] = {
    "identity": sp.Integer(1),
    "sigmoid": sp.Integer(1),
    "tanh": sp.Rational(5, 3),
    "relu": sp.sqrt(2),
    "leaky_relu": sp.sqrt(2 / (1 + slope**2)),
    "selu": sp.Rational(3, 4),
}

#: SELU constants as published (Klambauer et al. 2017; the values torch.nn.SELU uses), 32 digits.
SELU_PUBLISHED = (sp.Float("1.6732632423543772848170429916717", 32), sp.Float("1.0507009873554804934193349852946", 32))

#: Smooth activations as SymPy expressions in ``z`` (for phi'(0)).
_SMOOTH: dict[str, sp.Expr] = {
    "identity": z,
    "tanh": sp.tanh(z),
    "sigmoid": 1 / (1 + sp.exp(-z)),
    "sin": sp.sin(z),
    "gelu": z * (1 + sp.erf(z / sp.sqrt(2))) / 2,
}

#: mpmath versions for the expectations SymPy cannot do in closed form.
_MP: dict[str, object] = {
    "tanh": mpmath.tanh,
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    "gelu": lambda x: x * (1 + mpmath.erf(x / mpmath.sqrt(2))) / 2,
}

DIGITS = 30


def linearized_gain(activation: str) -> sp.Expr | None:
    """``1/|phi'(0)|`` (exact), or ``None`` where phi has a kink at 0 (relu, leaky_relu, selu).

    tanh -> 1, sigmoid -> 4 (``sigmoid'(0) = 1/4``), identity -> 1, sin -> 1, gelu -> 2.
    """
    expr = _SMOOTH.get(activation)
    if expr is None:
        return None
    return sp.nsimplify(1 / sp.Abs(sp.diff(expr, z).subs(z, 0)))


@lru_cache(maxsize=None)
def selu_moments() -> tuple[sp.Expr, sp.Expr, sp.Symbol, sp.Symbol]:
    """``(E[selu(z)], E[selu(z)^2], alpha, lam)`` for ``z ~ N(0, 1)`` in closed form (erf, exp).

    ``selu(z) = lam*z`` for ``z > 0`` and ``lam*alpha*(e^z - 1)`` otherwise (Klambauer et al. 2017, eq. 2).
    """
    alpha, lam = sp.symbols("alpha lam", positive=True)
    pos1 = sp.integrate(z * _PDF, (z, 0, sp.oo))
    neg1 = sp.integrate((sp.exp(z) - 1) * _PDF, (z, -sp.oo, 0))
    pos2 = sp.integrate(z**2 * _PDF, (z, 0, sp.oo))
    neg2 = sp.integrate((sp.exp(z) - 1) ** 2 * _PDF, (z, -sp.oo, 0))
    mean = sp.simplify(lam * (pos1 + alpha * neg1))
    second = sp.simplify(lam**2 * (pos2 + alpha**2 * neg2))
    return mean, second, alpha, lam


@lru_cache(maxsize=None)
def selu_constants() -> tuple[sp.Float, sp.Float]:
    """Solve ``E[selu(z)] = 0, E[selu(z)^2] = 1`` (z ~ N(0, 1)) for ``(alpha, lambda)``, 30 digits.

    These are the conditions for ``(0, 1)`` to be the self-normalizing fixed point at ``gain = 1``
    (LeCun variance), Klambauer et al. 2017, eq. 14.
    """
    mean, second, alpha, lam = selu_moments()
    sol = sp.nsolve([mean, second - 1], [alpha, lam], [1.67, 1.05], prec=DIGITS + 5)
    return sp.Float(sol[0], DIGITS), sp.Float(sol[1], DIGITS)


@lru_cache(maxsize=None)
def second_moment(activation: str) -> sp.Expr:
    """``E[phi(z)^2]`` for ``z ~ N(0, 1)``: exact where SymPy can integrate, else a 30-digit Float.

    identity 1; relu 1/2; leaky_relu ``(1 + slope^2)/2`` (symbolic slope); sin ``(1 - e^-2)/2``; selu 1
    at the published constants (to their 32 digits); tanh, sigmoid, gelu by mpmath quadrature.
    """
    if activation == "identity":
        return sp.integrate(z**2 * _PDF, (z, -sp.oo, sp.oo))
    if activation == "relu":
        return relu_second_moment_ratio()
    if activation == "leaky_relu":
        return leaky_relu_second_moment_ratio()
    if activation == "sin":
        return sp.simplify(sp.integrate(sp.sin(z) ** 2 * _PDF, (z, -sp.oo, sp.oo)))
    if activation == "selu":
        _, second, alpha, lam = selu_moments()
        return sp.Float(second.subs({alpha: SELU_PUBLISHED[0], lam: SELU_PUBLISHED[1]}).evalf(32), DIGITS)
    if activation in _MP:
        f = _MP[activation]
        with mpmath.workdps(DIGITS + 10):
            val = mpmath.quad(lambda x: f(x) ** 2 * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])
        return sp.Float(val, DIGITS)
    raise ValueError(f"no second moment for activation {activation!r}")


@lru_cache(maxsize=None)
def second_moment_gain(activation: str) -> sp.Expr:
    """``1/sqrt(E[phi(z)^2])``: the gain making ``q = 1`` a fixed point (exact or 30-digit Float); cached
    (:func:`gain_table` reads it twice per activation, once through :func:`classify`; ``simplify`` is
    most of its cost)."""
    return sp.simplify(1 / sp.sqrt(second_moment(activation)))


def tanh_fixed_point_gain() -> sp.Float:
    """Gain with ``gain^2 E[tanh(z)^2] = 1``, z ~ N(0, 1): ``1.5925374197228...`` (vs PyTorch's 5/3)."""
    return sp.Float(second_moment_gain("tanh"), 20)


@dataclass(frozen=True)
class GainRow:
    """One activation's conventional gain against the derivable ones.

    Attributes:
        activation: reference-network activation name.
        conventional: PyTorch's value (exact).
        linearized: ``1/|phi'(0)|`` or ``None`` at a kink.
        second_moment: ``1/sqrt(E[phi(z)^2])`` (exact or 30-digit Float).
        status: ``"derived"`` when the conventional value equals a derived gain, else ``"conventional"``.
        q_star, chi_star: mean-field fixed point and per-layer gradient factor at the conventional gain
            (``sigma_w^2 = gain^2``, zero bias, iterated from a pre-activation second moment ``q = 1``;
            leaky slope 0.01).
        q_50: mean-field pre-activation second moment at layer 50 of an equal-width network whose
            input has second moment 1 (``q_1 = gain^2``: the input is not passed through phi).
    """

    activation: str
    conventional: sp.Expr
    linearized: sp.Expr | None
    second_moment: sp.Expr
    status: str
    q_star: float
    chi_star: float
    q_50: float


def _equal(x: sp.Expr, y: sp.Expr | None) -> bool:
    if y is None:
        return False
    if x.free_symbols or y.free_symbols or not (x.has(sp.Float) or y.has(sp.Float)):
        return bool(sp.simplify(x - y) == 0)
    return abs(float(x) - float(y)) <= 1e-25 * max(1.0, abs(float(y)))


def classify(activation: str, value: sp.Expr) -> str:
    """``"derived"`` if ``value`` equals the linearized or second-moment gain of ``activation``."""
    derived = (linearized_gain(activation), second_moment_gain(activation))
    return "derived" if any(_equal(sp.sympify(value), d) for d in derived) else "conventional"


@lru_cache(maxsize=None)
def gain_table() -> tuple[GainRow, ...]:
    """Classify every PyTorch gain and report its mean-field behaviour (see the module docstring)."""
    from invariants import propagation  # numerical mean field; imported lazily (heavier module)

    rows: list[GainRow] = []
    for act, value in PYTORCH_GAINS.items():
        g = float(value.subs(slope, LEAKY_SLOPE))
        fp = propagation.fixed_point(act, g * g)
        q50 = float(propagation.variance_curve(act, g * g, 50)[-1])
        rows.append(GainRow(act, value, linearized_gain(act), second_moment_gain(act), classify(act, value),
                            fp.q_star, fp.chi, q50))
    return tuple(rows)


#: Sanity reference: the SELU constants the reference network uses, as floats.
SELU_REFERENCE = (SELU_ALPHA, SELU_SCALE)
