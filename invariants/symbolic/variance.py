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
      (``(1/2) n_l Var[w_l] = 1``, i.e. ``Var = 2/fan_in`` for ReLU) and eq. 15 (leaky ReLU / PReLU
      with negative slope ``a``: ``(1/2)(1 + a^2) n_l Var[w_l] = 1``).
    - Truncated normal: the variance of ``N(0, 1)`` truncated to ``[-b, b]`` is
      ``1 - 2 b phi(b) / (2 Phi(b) - 1)`` (e.g. Johnson, Kotz & Balakrishnan 1994, *Continuous
      Univariate Distributions* vol. 1, truncated normal moments); JAX and Keras hard-code its square
      root at ``b = 2`` as ``.87962566103423978`` (jax/_src/nn/initializers.py, ``variance_scaling``).
    - PyTorch's default ``nn.Linear``/``nn.ConvNd`` weights: ``kaiming_uniform_(w, a=math.sqrt(5))``
      (``reset_parameters``), documented as ``U(-sqrt(k), sqrt(k))`` with ``k = 1/in_features``.
    - Orthogonal initialization: Saxe, McClelland & Ganguli (2014), "Exact solutions to the nonlinear
      dynamics of learning in deep linear neural networks", ICLR; ``torch.nn.init.orthogonal_``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

import sympy as sp
from sympy import stats as sps

from invariants.symbolic.reduce import simplified, vanishes

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
#: Negative slope of a leaky ReLU / PReLU (He et al. 2015's ``a``); 0 is the ReLU.
slope = sp.Symbol("slope", nonnegative=True)
#: Truncation point, in standard deviations, of a truncated normal.
b = sp.Symbol("b", positive=True)
#: Target standard deviation of a weight.
sigma = sp.Symbol("sigma", positive=True)
#: Multiplier of an orthogonal matrix (PyTorch's ``gain``).
gain = sp.Symbol("gain", positive=True)
#: Shape of a weight matrix (rows = fan_out, cols = fan_in for a dense layer).
rows, cols = sp.symbols("rows cols", positive=True, integer=True)


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


# pure and immutable: torch_default_linear (twice), glorot_variance, VAR-FANIN-01 (twice) and the literature
# check each re-derived it (two integrals and a simplify)
@lru_cache(maxsize=None)
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


@lru_cache(maxsize=None)
def leaky_relu_second_moment_ratio() -> sp.Expr:
    """``E[leaky_relu(y)^2] / Var(y)`` for ``y ~ N(0, s^2)``: returns ``(1 + slope^2)/2`` (He et al. 2015).

    ``leaky_relu(y) = y`` for ``y > 0`` and ``slope*y`` otherwise; the positive half carries ``s^2/2``
    and the negative half ``slope^2 s^2/2``.  ``slope = 0`` gives :func:`relu_second_moment_ratio`.
    """
    s = sp.Symbol("s", positive=True)
    y = sp.Symbol("y", real=True)
    density = sps.density(sps.Normal("Y", 0, s))(y)
    positive = sp.integrate(y**2 * density, (y, 0, sp.oo))
    negative = sp.integrate((slope * y) ** 2 * density, (y, -sp.oo, 0))
    return sp.simplify((positive + negative) / s**2)


@lru_cache(maxsize=None)  # pure and immutable: the literature check and torch_default_linear each re-solved it
def leaky_relu_gain() -> sp.Expr:
    """The std multiplier making a leaky-ReLU layer variance-preserving: ``sqrt(2/(1 + slope^2))``.

    Solves ``gain^2 * ratio = 1`` with the second-moment ratio of
    :func:`leaky_relu_second_moment_ratio` (``Var(W) = gain^2/fan_in``); PyTorch's
    ``calculate_gain('leaky_relu', slope)``.
    """
    g = sp.Symbol("g", positive=True)
    (solution,) = sp.solve(sp.Eq(g**2 * leaky_relu_second_moment_ratio(), 1), g)
    return sp.simplify(solution)


def he_leaky_variance() -> sp.Expr:
    """Forward-preserving ``Var(W)`` for a leaky ReLU: ``2/((1 + slope^2) fan_in)`` (He et al. 2015, eq. 15)."""
    rules = glorot_variance()
    return _solve_for_v(sp.Eq(rules.forward_lhs * leaky_relu_second_moment_ratio(), 1))


@dataclass(frozen=True)
class TruncatedNormal:
    """Exact moments of a zero-mean normal truncated at ``+-b`` standard deviations.

    Attributes:
        variance_general: ``Var`` of ``N(0, 1)`` truncated to ``[-b, b]`` (function of the symbol ``b``).
        variance: the same at ``b = 2``: ``c^2 = 1 - 2 sqrt(2) e^-2 / (sqrt(pi) erf(sqrt(2)))``.
        std: ``c = sqrt(variance)``, the JAX/Keras constant (``0.87962566103423975...``).
        std_digits: ``c`` to 17 significant digits, correctly rounded from a 40-digit evaluation.
        corrected_scale: scale of the untruncated normal to draw so that the truncated draw has
            standard deviation ``sigma``: ``sigma/c``.
        corrected_variance: variance of that draw, ``(sigma/c)^2 c^2 = sigma^2``.
        uncorrected_variance: variance when the scale is ``sigma`` (no correction): ``c^2 sigma^2``.
    """

    variance_general: sp.Expr
    variance: sp.Expr
    std: sp.Expr
    std_digits: str
    corrected_scale: sp.Expr
    corrected_variance: sp.Expr
    uncorrected_variance: sp.Expr


@lru_cache(maxsize=None)
def truncated_normal() -> TruncatedNormal:
    """Derive the truncated-normal correction by integrating the truncated density.

    The density of ``N(0, 1)`` truncated to ``[-b, b]`` is ``exp(-x^2/2) / Z`` with
    ``Z = int_{-b}^{b} exp(-x^2/2) dx``; its mean is 0 by symmetry, so its variance is
    ``int x^2 exp(-x^2/2) dx / Z``.  SymPy evaluates both integrals in closed form (``erf``), the second by
    parts (``u = x``, ``dv = x exp(-x^2/2) dx``, whose antiderivative ``V`` SymPy integrates:
    ``[x V]_{-b}^{b} - int V dx``), giving ``1 - 2 b phi(b) / (2 Phi(b) - 1)``; at ``b = 2`` this is
    ``c^2``.  Scaling a draw by ``t`` multiplies its variance by ``t^2``, so the scale ``sigma/c`` yields
    standard deviation ``sigma``.
    """
    x = sp.Symbol("x", real=True)
    kernel = sp.exp(-(x**2) / 2)
    z = sp.integrate(kernel, (x, -b, b))
    mean = sp.integrate(x * kernel, (x, -b, b)) / z
    if sp.simplify(mean) != 0:  # pragma: no cover - guards the derivation itself
        raise AssertionError("a symmetric truncation must have zero mean")
    # by parts: the same closed form as integrating x^2 exp(-x^2/2) directly, whose heuristic Risch search
    # cost ~0.9 CPU-s (three quarters of this derivation; each of two workers may derive it)
    anti = sp.integrate(x * kernel, x)
    second = (x * anti).subs(x, b) - (x * anti).subs(x, -b) - sp.integrate(anti, (x, -b, b))
    general = sp.simplify(second / z)
    at2 = sp.simplify(general.subs(b, 2))
    std = sp.sqrt(at2)
    digits = sp.N(std, 40)
    std_digits = f"{sp.Float(digits, 17)}"
    scale = sigma / std
    return TruncatedNormal(
        variance_general=general,
        variance=at2,
        std=std,
        std_digits=std_digits,
        corrected_scale=scale,
        corrected_variance=sp.simplify(scale**2 * at2),
        uncorrected_variance=sp.simplify(sigma**2 * at2),
    )


@dataclass(frozen=True)
class TorchDefaultLinear:
    """PyTorch's default ``nn.Linear``/``nn.ConvNd`` weight rule, ``kaiming_uniform_(a=sqrt(5))``, derived.

    Attributes:
        slope: the ``a`` passed, ``sqrt(5)``.
        gain: ``calculate_gain('leaky_relu', a) = sqrt(2/(1 + a^2)) = sqrt(1/3)``.
        std: ``gain/sqrt(fan_in)`` (mode ``'fan_in'``).
        bound: uniform half width with ``Var = std^2``: ``sqrt(3)*std = 1/sqrt(fan_in)``.
        variance: ``bound^2/3 = 1/(3 fan_in)``.
        ratio_to_lecun, ratio_to_he: ``variance`` divided by ``1/fan_in`` and by ``2/fan_in``.
    """

    slope: sp.Expr
    gain: sp.Expr
    std: sp.Expr
    bound: sp.Expr
    variance: sp.Expr
    ratio_to_lecun: sp.Expr
    ratio_to_he: sp.Expr


@lru_cache(maxsize=None)
def torch_default_linear() -> TorchDefaultLinear:
    """Derive the variance of PyTorch's default Linear/Conv weights: ``1/(3 fan_in)``.

    ``kaiming_uniform_(w, a)`` draws ``U(-bound, bound)`` with ``bound = sqrt(3) * gain / sqrt(fan_in)``,
    ``gain = sqrt(2/(1 + a^2))`` (:func:`leaky_relu_gain`).  With ``a = sqrt(5)``: ``gain^2 = 1/3``,
    ``bound = 1/sqrt(fan_in)`` and ``Var = bound^2/3 = 1/(3 fan_in)`` (:func:`uniform_variance`): a third
    of LeCun's ``1/fan_in`` and a sixth of He's ``2/fan_in``.
    """
    a_torch = sp.sqrt(5)
    g = sp.simplify(leaky_relu_gain().subs(slope, a_torch))
    std = g / sp.sqrt(fan_in)
    (bound,) = sp.solve(sp.Eq(uniform_variance(), std**2), a)
    variance = sp.simplify(uniform_variance().subs(a, bound))
    rules = glorot_variance()
    return TorchDefaultLinear(
        slope=a_torch,
        gain=g,
        std=sp.simplify(std),
        bound=sp.simplify(bound),
        variance=variance,
        ratio_to_lecun=sp.simplify(variance / rules.forward),
        ratio_to_he=sp.simplify(variance / rules.he),
    )


@dataclass(frozen=True)
class Orthogonal:
    """Facts about (semi-)orthogonal weights ``W = gain * Q``.

    Attributes:
        mean_square_tall: mean of ``W_ij^2`` when ``rows >= cols`` (orthonormal columns):
            ``gain^2 tr(Q^T Q)/(rows cols) = gain^2/rows``.
        mean_square_wide: the same when ``rows < cols`` (orthonormal rows): ``gain^2/cols``.
        example: the fixed rational matrix whose exact QR is used below.
        q: its ``Q`` factor (orthonormal columns, exact entries with square roots).
        gram_defect: ``Q^T Q - I``, simplified (the zero matrix).
        norm_defect: ``||Q x||^2 - ||x||^2`` for a symbolic vector ``x``, simplified (0).
        deep_norm_defect: the same for the product ``Q_2 Q_1`` of two square orthogonal factors (0).
        wide_kernel_vector: a nonzero ``v`` with ``Q^T v = 0``: orthonormal *rows* do not preserve norms.
    """

    mean_square_tall: sp.Expr
    mean_square_wide: sp.Expr
    example: sp.Matrix
    q: sp.Matrix
    gram_defect: sp.Matrix
    norm_defect: sp.Expr
    deep_norm_defect: sp.Expr
    wide_kernel_vector: sp.Matrix


#: Fixed full-column-rank matrix whose exact QR gives the orthonormal example.
ORTHOGONAL_EXAMPLE = ((2, -1, 0), (1, 3, 1), (0, 1, 2), (1, 0, 1))
#: Square matrices whose QR factors give the deep (two-layer) example.
ORTHOGONAL_SQUARE_EXAMPLES = (((1, 2, 0), (0, 1, 1), (1, 0, 3)), ((2, 0, 1), (1, 1, 0), (0, 3, 1)))


@lru_cache(maxsize=None)
def orthogonal() -> Orthogonal:
    """Derive the second moment of orthogonal weights and check exact norm preservation.

    Mean square: ``sum_ij Q_ij^2 = tr(Q^T Q)``; with orthonormal columns (``rows >= cols``) that is
    ``tr(I_cols) = cols``, with orthonormal rows ``tr(Q Q^T) = tr(I_rows) = rows``; divide by the
    ``rows*cols`` entries.  For a Haar-random ``Q`` every entry has the same distribution (the Haar
    measure is invariant under row and column permutations), so ``E[W_ij^2] = gain^2/max(rows, cols)``.

    Norm preservation: ``||Q x||^2 = x^T Q^T Q x = ||x||^2`` iff ``Q^T Q = I``; shown exactly with the QR
    of :data:`ORTHOGONAL_EXAMPLE` (entries in ``Q(sqrt)``), for a symbolic ``x``, and for the product of
    two square orthogonal factors (a depth-2 linear network).  Orthonormal *rows* (``rows < cols``) map
    the nonzero kernel vector of ``Q^T`` to 0.
    """
    mean_tall = gain**2 * sp.trace(sp.Identity(cols)) / (rows * cols)
    mean_wide = gain**2 * sp.trace(sp.Identity(rows)) / (rows * cols)
    m = sp.Matrix(ORTHOGONAL_EXAMPLE)
    qm, _ = m.QRdecomposition()
    k = qm.shape[1]
    gram = (qm.T * qm - sp.eye(k)).applyfunc(simplified)
    xs = sp.Matrix(sp.symbols(f"x0:{k}", real=True))
    norm_defect = simplified(((qm * xs).T * (qm * xs))[0] - (xs.T * xs)[0])
    q1, _ = sp.Matrix(ORTHOGONAL_SQUARE_EXAMPLES[0]).QRdecomposition()
    q2, _ = sp.Matrix(ORTHOGONAL_SQUARE_EXAMPLES[1]).QRdecomposition()
    ys = sp.Matrix(sp.symbols("y0:3", real=True))
    out = q2 * (q1 * ys)
    deep_defect = simplified((out.T * out)[0] - (ys.T * ys)[0])
    (kernel_vec,) = qm.T.nullspace()
    return Orthogonal(
        mean_square_tall=sp.simplify(mean_tall),
        mean_square_wide=sp.simplify(mean_wide),
        example=m,
        q=qm,
        gram_defect=gram,
        norm_defect=norm_defect,
        deep_norm_defect=deep_defect,
        wide_kernel_vector=kernel_vec,
    )


@dataclass(frozen=True)
class OrthogonalIdentities:
    """Facts about semi-orthogonal weights ``W = gain * Q`` proved for every shape, index-free.

    ``Q`` is a SymPy ``MatrixSymbol`` of symbolic shape ``(m, k)`` and the premise ``Q^T Q = I_k``
    (orthonormal columns, ``m >= k``) or ``Q Q^T = I_m`` (orthonormal rows) is substituted as a matrix
    identity, so no entry and no size is fixed.

    Attributes:
        norm_defect: ``||gain Q x||^2 - gain^2 ||x||^2`` for a symbolic ``x`` (``0``).
        deep_norm_defect: ``||Q_2 Q_1 x||^2 - ||x||^2`` for two square factors with ``Q_i^T Q_i = I``
            (``0``); by induction over layers (step: ``h_l = Q_l h_{l-1}``, the one-layer identity with
            ``x = h_{l-1}``) a linear network of any depth preserves every norm.
        wide_trace_gap: ``tr(I_k) - tr(Q^T Q) = k - m`` for orthonormal rows (``Q Q^T = I_m``, ``m < k``):
            nonzero, so ``Q^T Q != I_k`` and some ``x`` has ``||Q x|| != ||x||`` (``Q^T Q - I`` is a nonzero
            symmetric matrix).
        mean_square_tall, mean_square_wide: ``E[W_ij^2]``: a column (rows) of a Haar ``Q`` is a unit vector
            in ``R^rows`` (``R^cols``) whose coordinates are exchangeable (Haar measure is invariant under
            permutations, which are orthogonal), so ``rows`` equal second moments sum to 1:
            ``gain^2/rows`` when ``rows >= cols``, ``gain^2/cols`` otherwise (SymPy solves the sum).
    """

    norm_defect: sp.Expr
    deep_norm_defect: sp.Expr
    wide_trace_gap: sp.Expr
    mean_square_tall: sp.Expr
    mean_square_wide: sp.Expr


def orthogonal_identities(gram: sp.Expr = sp.Integer(1)) -> OrthogonalIdentities:
    """Prove the orthogonal-initialization identities for symbolic shapes (see :class:`OrthogonalIdentities`).

    Args:
        gram: the premise ``Q^T Q = gram * I`` (1 for orthonormal columns); another value is the
            mutation self-test's mutated premise (the norm identities then fail).

    Sources: Saxe, McClelland & Ganguli (2014), ICLR (orthogonal layers preserve norms in deep linear
    networks); Mezzadri (2007), "How to generate random matrices from the classical compact groups"
    (Haar measure, its invariance under orthogonal, hence permutation, matrices).
    """
    m, k = sp.symbols("m k", positive=True, integer=True)
    q = sp.MatrixSymbol("Q", m, k)
    x = sp.MatrixSymbol("x", k, 1)
    premise = {q.T * q: gram * sp.Identity(k)}
    one = ((gain * q * x).T * (gain * q * x)).subs(premise).doit()
    norm_defect = sp.simplify((one - gain**2 * x.T * x).doit())
    q1, q2 = sp.MatrixSymbol("Q1", k, k), sp.MatrixSymbol("Q2", k, k)
    deep = ((q2 * q1 * x).T * (q2 * q1 * x)).subs({q2.T * q2: gram * sp.Identity(k)})
    deep = deep.subs({q1.T * q1: gram * sp.Identity(k)}).doit()
    deep_defect = sp.simplify((deep - x.T * x).doit())
    # wide: Q Q^T = I_m, so tr(Q^T Q) = tr(Q Q^T) = m, while tr(I_k) = k
    wide_gap = sp.simplify(sp.trace(sp.Identity(k)) - sp.trace(gram * sp.Identity(m)).subs(m, k - sp.Symbol("d", positive=True, integer=True)))
    mu = sp.Symbol("mu", positive=True)
    i = sp.Symbol("i", positive=True, integer=True)

    def per_entry(length: sp.Expr) -> sp.Expr:
        (solution,) = sp.solve(sp.Eq(sp.Sum(mu, (i, 1, length)).doit(), gram), mu)
        return gain**2 * solution

    return OrthogonalIdentities(
        norm_defect=_scalar(norm_defect),
        deep_norm_defect=_scalar(deep_defect),
        wide_trace_gap=wide_gap,
        mean_square_tall=per_entry(rows),
        mean_square_wide=per_entry(cols),
    )


def _scalar(expr: sp.Expr) -> sp.Expr:
    """A 1×1 matrix expression as a scalar (``ZeroMatrix`` → 0)."""
    if isinstance(expr, sp.MatrixExpr):
        return sp.Integer(0) if expr.is_ZeroMatrix or expr == sp.ZeroMatrix(1, 1) else expr
    return expr


def orthogonal_mean_square() -> sp.Expr:
    """``E[W_ij^2]`` of ``gain * Q`` for any shape: ``gain^2 min(rows, cols)/(rows cols)``.

    Equal to ``gain^2/max(rows, cols)`` (checked on both orderings by :func:`check_against_literature`).
    """
    o = orthogonal()
    return sp.Piecewise((o.mean_square_tall, rows >= cols), (o.mean_square_wide, True))


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
    "he_leaky_variance": (2 / ((1 + slope**2) * fan_in), "He et al. 2015, eq. 15"),
    "leaky_relu_gain": (sp.sqrt(2 / (1 + slope**2)), "PyTorch calculate_gain('leaky_relu', a)"),
    # phi(2) = exp(-2)/sqrt(2 pi), 2 Phi(2) - 1 = erf(2/sqrt(2)): textbook truncated-normal variance
    "truncated_normal_variance": (
        1 - 2 * 2 * (sp.exp(-2) / sp.sqrt(2 * sp.pi)) / sp.erf(2 / sp.sqrt(2)),
        "variance of N(0,1) truncated to [-2, 2]: 1 - 2b phi(b)/(2 Phi(b) - 1) at b = 2",
    ),
    "truncated_normal_corrected_variance": (sigma**2, "JAX/Keras variance_scaling: stddev / .87962566103423978"),
    "torch_default_bound": (1 / sp.sqrt(fan_in), "PyTorch nn.Linear docs: U(-sqrt(k), sqrt(k)), k = 1/in_features"),
    "torch_default_variance": (sp.Rational(1, 3) / fan_in, "Var U(-sqrt(k), sqrt(k)) = k/3, k = 1/in_features"),
    "orthogonal_mean_square": (gain**2 / sp.Max(rows, cols), "semi-orthogonal gain*Q: sum of squares = gain^2 min(rows, cols)"),
}

#: The JAX/Keras literal for the std of N(0, 1) truncated to [-2, 2] (jax/_src/nn/initializers.py).
JAX_TRUNCATED_NORMAL_STD = "0.87962566103423978"


def matches(derived: sp.Expr, literature: sp.Expr) -> bool:
    """True iff ``derived - literature`` vanishes (:func:`invariants.symbolic.reduce.vanishes`: ``simplify`` after
    cheaper tries; a symbolic identity, positive symbols).

    Expressions involving ``rows`` and ``cols`` with ``Min``/``Max``/``Piecewise`` are compared on both
    orderings (``rows = cols + d``, ``d >= 0``, and ``cols = rows + d``, ``d >= 1``).
    """
    if any(expr.has(sp.Min, sp.Max, sp.Piecewise) for expr in (derived, literature)):
        d = sp.Symbol("d", nonnegative=True, integer=True)
        d1 = sp.Symbol("d1", positive=True, integer=True)
        cases = ({rows: cols + d}, {cols: rows + d1})
        return all(
            vanishes(sp.piecewise_fold((derived - literature).subs(case))) for case in cases
        )
    return vanishes(derived - literature)


@dataclass(frozen=True)
class LiteratureCheck:
    """One derived-vs-published comparison."""

    name: str
    derived: sp.Expr
    literature: sp.Expr
    equal: bool
    source: str


def check_against_literature(names: Iterable[str] | None = None) -> list[LiteratureCheck]:
    """Compare derived rules with the published formulas in :data:`LITERATURE`.

    Args:
        names: the rules to check (default: every rule in :data:`LITERATURE`); only the requested
            derivations are run.

    Returns:
        one :class:`LiteratureCheck` per rule; ``equal`` is :func:`matches` of the two expressions.

    Raises:
        KeyError: a name with no literature entry or no derivation.
    """
    return list(cached_literature_checks(None if names is None else tuple(names)))


#: name -> zero-argument function returning the derived expression compared with LITERATURE[name].
DERIVATIONS: dict[str, Callable[[], sp.Expr]] = {
    "lecun_variance": lambda: glorot_variance().forward,
    "backward_variance": lambda: glorot_variance().backward,
    "glorot_variance": lambda: glorot_variance().glorot,
    "glorot_uniform_bound": lambda: glorot_variance().glorot_uniform_bound,
    "he_variance": lambda: glorot_variance().he,
    "uniform_variance": uniform_variance,
    "he_leaky_variance": he_leaky_variance,
    "leaky_relu_gain": leaky_relu_gain,
    "truncated_normal_variance": lambda: truncated_normal().variance,
    "truncated_normal_corrected_variance": lambda: truncated_normal().corrected_variance,
    "torch_default_bound": lambda: torch_default_linear().bound,
    "torch_default_variance": lambda: torch_default_linear().variance,
    "orthogonal_mean_square": orthogonal_mean_square,
}


@lru_cache(maxsize=None)
def cached_literature_checks(names: tuple[str, ...] | None = None) -> tuple[LiteratureCheck, ...]:
    """:func:`literature_checks` for a tuple of names (``None``: all), cached; tests that change
    :data:`LITERATURE` call ``cached_literature_checks.cache_clear()``."""
    selected = tuple(LITERATURE) if names is None else names
    out = []
    for name in selected:
        if name not in LITERATURE or name not in DERIVATIONS:
            raise KeyError(f"no literature value or derivation for {name!r}; known: {sorted(DERIVATIONS)}")
        expr, (lit, source) = DERIVATIONS[name](), LITERATURE[name]
        out.append(LiteratureCheck(name, expr, lit, matches(expr, lit), source))
    return tuple(out)


@dataclass(frozen=True)
class ConstantCheck:
    """A derived constant against a published decimal literal."""

    name: str
    derived_digits: str
    literature: str
    same_float64: bool
    abs_difference: float
    source: str


def check_truncated_normal_constant(literal: str | None = None) -> ConstantCheck:
    """Compare the exact ``c`` with a decimal literal (default: :data:`JAX_TRUNCATED_NORMAL_STD`).

    ``same_float64``: both round to the same IEEE double (what the frameworks compute with).
    ``abs_difference``: ``|c - literal|`` evaluated with 40 digits.
    """
    literal = JAX_TRUNCATED_NORMAL_STD if literal is None else literal
    t = truncated_normal()
    exact = sp.N(t.std, 40)
    diff = abs(exact - sp.Float(literal, 40))
    return ConstantCheck(
        name="truncated_normal_std",
        derived_digits=t.std_digits,
        literature=literal,
        same_float64=float(exact) == float(literal),
        abs_difference=float(diff),
        source="jax/_src/nn/initializers.py variance_scaling (also Keras)",
    )
