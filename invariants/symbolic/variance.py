"""SymPy derivations of the variance-scaling rules (LeCun, Glorot/Xavier, He/Kaiming).

Every rule is *derived* from the variance of a weighted sum and compared against the formula printed
in the paper by :func:`check_against_literature`; nothing on the derived side is typed in.

Symbols (all positive): ``fan_in`` and ``fan_out`` (numbers of inputs/outputs of a dense layer, or
channels times receptive field for a convolution), ``v`` = Var(W) of a weight entry, ``a`` = half
width of a uniform distribution.

Sources:
    - LeCun, Bottou, Orr, Müller (1998), "Efficient BackProp", Sec. 4.6: weights with standard
      deviation ``fan_in**-1/2`` keep unit-variance inputs at unit variance.
    - Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
      networks", AISTATS: eq. 10 (forward, ``n_i Var[W] = 1``), eq. 11 (backward,
      ``n_{i+1} Var[W] = 1``), eq. 12 (compromise ``Var[W] = 2/(n_i + n_{i+1})``), eq. 16 (normalized
      initialization ``W ~ U[-sqrt6/sqrt(n_j+n_{j+1}), sqrt6/sqrt(n_j+n_{j+1})]``).
    - He, Zhang, Ren, Sun (2015), "Delving Deep into Rectifiers", ICCV: eq. 10
      (``(1/2) n_l Var[w_l] = 1``, i.e. ``Var = 2/fan_in`` for ReLU).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy import stats as sps

fan_in, fan_out = sp.symbols("fan_in fan_out", positive=True)
#: Var(W) of one weight entry.
v = sp.Symbol("v", positive=True)
#: Half width of a uniform distribution U(-a, a).
a = sp.Symbol("a", positive=True)
#: Number of terms in a weighted sum.
n = sp.Symbol("n", positive=True, integer=True)
#: E[w^2] = Var(w) of a zero-mean weight.
sw2 = sp.Symbol("sw2", positive=True)
#: Second moment E[x^2] of an input.
q = sp.Symbol("q", positive=True)


def var_of_weighted_sum() -> sp.Expr:
    """Var(y) for ``y = sum_{i=1}^{n} w_i x_i``: returns ``n*sw2*q``.

    Assumptions: the ``w_i`` are independent, zero mean, ``E[w_i^2] = sw2``, and independent of the
    ``x_i``; ``E[x_i^2] = q`` (the ``x_i`` may have any mean and need not be independent of each other).

    Derivation (carried out symbolically below, with ``E[x_i] = mu`` arbitrary):

    - one term: ``Var(w x) = E[w^2 x^2] - (E[w x])^2 = E[w^2] E[x^2] - (E[w] E[x])^2 = sw2*q``, using
      independence of ``w`` and ``x`` and ``E[w] = 0``;
    - cross terms, ``i != j``: ``Cov(w_i x_i, w_j x_j) = E[w_i] E[w_j] E[x_i x_j]
      - E[w_i] E[x_i] E[w_j] E[x_j] = 0``, because ``w_i`` is independent of everything else;
    - so the variances add: ``Var(y) = sum_{i=1}^{n} sw2*q = n*sw2*q``.

    Units: ``sw2*q`` has the units of ``y**2``.  This is the one-layer case of Glorot & Bengio (2010) eq. 5
    and He et al. (2015) eq. 7.
    """
    mu, m_xixj = sp.symbols("mu m_xixj", real=True)  # E[x_i], E[x_i x_j]: arbitrary
    e_w, e_w2, e_x, e_x2 = sp.Integer(0), sw2, mu, q
    var_term = e_w2 * e_x2 - (e_w * e_x) ** 2
    cov_term = e_w * e_w * m_xixj - (e_w * e_x) * (e_w * e_x)
    if sp.simplify(cov_term) != 0:  # pragma: no cover - guards the derivation itself
        raise AssertionError("cross covariances must vanish for zero-mean independent weights")
    i = sp.Symbol("i", positive=True, integer=True)
    return sp.simplify(sp.Sum(var_term, (i, 1, n)).doit())


def uniform_variance() -> sp.Expr:
    """Var U(-a, a) = ``a**2/3``, by integrating against the density ``1/(2a)`` on ``[-a, a]``."""
    x = sp.Symbol("x", real=True)
    density = 1 / (2 * a)
    mean = sp.integrate(x * density, (x, -a, a))
    return sp.simplify(sp.integrate((x - mean) ** 2 * density, (x, -a, a)))


@lru_cache(maxsize=None)
def relu_second_moment_ratio() -> sp.Expr:
    """``E[relu(y)^2] / Var(y)`` for ``y ~ N(0, s^2)``: returns ``1/2`` (He et al. 2015, eq. 8).

    Integrated against the normal density; the factor holds for any zero-mean symmetric ``y``.
    """
    s = sp.Symbol("s", positive=True)
    y = sp.Symbol("y", real=True)
    density = sps.density(sps.Normal("Y", 0, s))(y)
    # relu(y)^2 vanishes for y <= 0
    second_moment = sp.integrate(y**2 * density, (y, 0, sp.oo))
    return sp.simplify(second_moment / s**2)


def _solve_for_v(equation: sp.Expr) -> sp.Expr:
    (solution,) = sp.solve(equation, v)
    return sp.simplify(solution)


@dataclass(frozen=True)
class VarianceRules:
    """Derived Var(W) rules and the matching uniform half width (all SymPy expressions).

    Attributes:
        forward: Var(W) keeping activations' variance: ``1/fan_in`` (LeCun; Glorot eq. 10).
        backward: Var(W) keeping back-propagated gradients' variance: ``1/fan_out`` (Glorot eq. 11).
        glorot: compromise ``2/(fan_in + fan_out)`` (Glorot eq. 12).
        glorot_uniform_bound: ``a`` with Var U(-a, a) = glorot: ``sqrt(6/(fan_in+fan_out))`` (eq. 16).
        he: ReLU forward rule ``2/fan_in`` (He et al. 2015, eq. 10).
        forward_lhs, backward_lhs: the per-layer gain factors ``fan_in*v`` and ``fan_out*v`` that the
            conditions set to 1.
    """

    forward: sp.Expr
    backward: sp.Expr
    glorot: sp.Expr
    glorot_uniform_bound: sp.Expr
    he: sp.Expr
    forward_lhs: sp.Expr
    backward_lhs: sp.Expr


@lru_cache(maxsize=None)  # pure and immutable: derive once per process
def glorot_variance() -> VarianceRules:
    """Derive the LeCun, Glorot (Xavier) and He (Kaiming) variance rules from :func:`var_of_weighted_sum`.

    - Forward: a pre-activation sums ``fan_in`` terms, so Var(y) = ``fan_in * v * q``; keeping
      ``Var(y) = q`` gives ``fan_in*v = 1`` -> ``v = 1/fan_in``.
    - Backward: a back-propagated gradient ``dL/dx = W^T dL/dy`` sums ``fan_out`` terms ->
      ``fan_out*v = 1`` -> ``v = 1/fan_out``.
    - Glorot compromise: both cannot hold unless ``fan_in = fan_out``; average the two conditions,
      ``(fan_in*v + fan_out*v)/2 = 1`` -> ``v = 2/(fan_in + fan_out)`` (the harmonic mean of the two
      rules).
    - Uniform bound: solve ``Var U(-a, a) = v`` for ``a > 0``.
    - He: after a ReLU, ``E[x^2] = Var(y_prev)/2`` (:func:`relu_second_moment_ratio`), so the forward
      condition becomes ``fan_in*v/2 = 1``.
    """
    var_y = var_of_weighted_sum()
    # layer gain Var(out)/E[in^2] with n summed terms, as a function of v
    forward_lhs = sp.simplify(var_y.subs({n: fan_in, sw2: v}) / q)
    backward_lhs = sp.simplify(var_y.subs({n: fan_out, sw2: v}) / q)
    forward = _solve_for_v(sp.Eq(forward_lhs, 1))
    backward = _solve_for_v(sp.Eq(backward_lhs, 1))
    glorot = _solve_for_v(sp.Eq((forward_lhs + backward_lhs) / 2, 1))
    (bound,) = sp.solve(sp.Eq(uniform_variance(), glorot), a)  # a is positive: one root
    he = _solve_for_v(sp.Eq(forward_lhs * relu_second_moment_ratio(), 1))
    return VarianceRules(
        forward=forward,
        backward=backward,
        glorot=glorot,
        glorot_uniform_bound=sp.simplify(bound),
        he=he,
        forward_lhs=forward_lhs,
        backward_lhs=backward_lhs,
    )


#: Formulas as printed in the papers (typed in, deliberately independent of the derivations).
LITERATURE: dict[str, tuple[sp.Expr, str]] = {
    "lecun_variance": (1 / fan_in, "LeCun et al. 1998, Efficient BackProp, Sec. 4.6"),
    "backward_variance": (1 / fan_out, "Glorot & Bengio 2010, eq. 11"),
    "glorot_variance": (2 / (fan_in + fan_out), "Glorot & Bengio 2010, eq. 12"),
    "glorot_uniform_bound": (sp.sqrt(6) / sp.sqrt(fan_in + fan_out), "Glorot & Bengio 2010, eq. 16"),
    "he_variance": (2 / fan_in, "He et al. 2015, eq. 10"),
    "uniform_variance": (a**2 / 3, "variance of U(-a, a)"),
}


def matches(derived: sp.Expr, literature: sp.Expr) -> bool:
    """True iff ``simplify(derived - literature) == 0`` (symbolic identity, positive symbols)."""
    return bool(sp.simplify(derived - literature) == 0)


@dataclass(frozen=True)
class LiteratureCheck:
    """One derived-vs-published comparison."""

    name: str
    derived: sp.Expr
    literature: sp.Expr
    equal: bool
    source: str


def check_against_literature() -> list[LiteratureCheck]:
    """Compare every derived rule with the published formula in :data:`LITERATURE`.

    Returns:
        one :class:`LiteratureCheck` per rule; ``equal`` is :func:`matches` of the two expressions.
    """
    return list(_literature_checks())


@lru_cache(maxsize=None)
def _literature_checks() -> tuple[LiteratureCheck, ...]:
    rules = glorot_variance()
    derived = {
        "lecun_variance": rules.forward,
        "backward_variance": rules.backward,
        "glorot_variance": rules.glorot,
        "glorot_uniform_bound": rules.glorot_uniform_bound,
        "he_variance": rules.he,
        "uniform_variance": uniform_variance(),
    }
    return tuple(
        LiteratureCheck(name, expr, LITERATURE[name][0], matches(expr, LITERATURE[name][0]), LITERATURE[name][1])
        for name, expr in derived.items()
    )
