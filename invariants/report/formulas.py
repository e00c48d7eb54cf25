"""The SymPy expressions behind claims, as LaTeX and plain text, for the claim pages.

Claims carry their derivation as prose; the SymPy expressions live in :mod:`invariants.symbolic`.
:data:`CLAIM_FORMULAS` links a claim ID to the derivations its symbolic evidence checks, so its page
can show each derived expression next to the published formula it is compared with.  Every
expression is *computed* here by the same functions the evidence calls (nothing is typed in), so a
page can only show what SymPy derives today.

Rendering: LaTeX, which the pages carry as MathML (:func:`invariants.report.markdown.math_inline`),
plus SymPy's plain-text form (``sympy.sstr``), which can be copied into code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

#: Readable LaTeX for the derivations' symbols (sympy would print ``fan_in`` as ``fan_{in}``).
_LATEX_NAMES = {
    "fan_in": r"\mathrm{fan}_{\mathrm{in}}",
    "fan_out": r"\mathrm{fan}_{\mathrm{out}}",
    "slope": r"\mathrm{slope}",
    "sw2": r"\sigma_w^{2}",
    "gain": r"\mathrm{gain}",
    "rows": r"\mathrm{rows}",
    "cols": r"\mathrm{cols}",
}


def latex(expr: sp.Expr) -> str:
    """``sympy.latex`` with the symbol names above (deterministic: SymPy's canonical ordering)."""
    names = {s: _LATEX_NAMES[s.name] for s in expr.free_symbols if getattr(s, "name", None) in _LATEX_NAMES}
    return sp.latex(expr, symbol_names=names)


def plain(expr: sp.Expr) -> str:
    """SymPy's plain-text form of ``expr``."""
    return sp.sstr(expr)


@dataclass(frozen=True)
class FormulaRow:
    """One derived quantity.

    Attributes:
        quantity: what the expression is, in words (e.g. "Glorot variance Var(W)").
        derived: the SymPy expression as derived.
        published: the formula as printed in the source, or ``None`` for an intermediate step.
        source: where ``published`` comes from (paper and equation), or how ``derived`` is obtained.
        equal: SymPy's verdict that ``derived`` and ``published`` are identical (``None`` without one).
    """

    quantity: str
    derived: sp.Expr
    published: sp.Expr | None
    source: str
    equal: bool | None


#: Readable names of the entries of :data:`invariants.symbolic.variance.LITERATURE`.
_QUANTITY = {
    "lecun_variance": "forward rule Var(W) (LeCun)",
    "backward_variance": "backward rule Var(W)",
    "glorot_variance": "Glorot compromise Var(W)",
    "glorot_uniform_bound": "Glorot uniform bound a, W ~ U(−a, a)",
    "he_variance": "He rule Var(W), ReLU",
    "uniform_variance": "Var U(−a, a)",
    "he_leaky_variance": "He rule Var(W), leaky ReLU with slope",
    "leaky_relu_gain": "leaky ReLU gain",
    "truncated_normal_variance": "variance of N(0, 1) truncated to [−2, 2] (c²)",
    "truncated_normal_corrected_variance": "variance after dividing the std by c",
    "torch_default_bound": "PyTorch default bound, U(−bound, bound)",
    "torch_default_variance": "PyTorch default Var(W)",
    "orthogonal_mean_square": "mean square entry E[W²] of gain·Q",
}


def _literature(*names: str) -> Callable[[], list[FormulaRow]]:
    def rows() -> list[FormulaRow]:
        from invariants.symbolic import variance as symvar

        return [FormulaRow(_QUANTITY.get(c.name, c.name), c.derived, c.literature, c.source, c.equal)
                for c in symvar.check_against_literature(names)]

    return rows


def _weighted_sum() -> list[FormulaRow]:
    from invariants.symbolic import variance as symvar

    return [FormulaRow("Var(Σᵢ wᵢ xᵢ) of n terms, E[w²] = σ_w², E[x²] = q", symvar.var_of_weighted_sum(), None,
                       "derived by SymPy from independence and zero-mean weights", None)]


def _relu_ratios() -> list[FormulaRow]:
    from invariants.symbolic import variance as symvar

    return [
        FormulaRow("E[relu(y)²] / Var(y), y symmetric", symvar.relu_second_moment_ratio(), None,
                   "SymPy integral over a zero-mean normal", None),
        FormulaRow("E[leaky(y)²] / Var(y)", symvar.leaky_relu_second_moment_ratio(), None,
                   "SymPy integral over a zero-mean normal", None),
    ]


def _gains() -> list[FormulaRow]:
    from invariants.symbolic import gains as symgains

    out = []
    for row in symgains.gain_table():
        linear = "" if row.linearized is None else f"; linearized gain 1/|φ'(0)| = {plain(row.linearized)}"
        out.append(FormulaRow(
            f"PyTorch gain for {row.activation}", row.conventional, None,
            f"{row.status}: second-moment gain 1/√E[φ(z)²] = {_short(row.second_moment)}{linear}", None))
    return out


def _short(expr: sp.Expr) -> str:
    """Plain text of an expression, floats cut to 12 significant digits."""
    if expr.is_Float:
        return f"{float(expr):.12g}"
    return plain(expr)


def _join(*parts: Callable[[], list[FormulaRow]]) -> Callable[[], list[FormulaRow]]:
    return lambda: [row for part in parts for row in part()]


#: claim ID -> function returning its formula rows (computed on demand; SymPy work is cached).
CLAIM_FORMULAS: dict[str, Callable[[], list[FormulaRow]]] = {
    "VAR-GLOROT-01": _join(_weighted_sum, _literature(
        "lecun_variance", "backward_variance", "glorot_variance", "uniform_variance", "glorot_uniform_bound")),
    "VAR-HE-01": _join(_relu_ratios, _literature("he_variance", "he_leaky_variance", "leaky_relu_gain")),
    "VAR-TORCHDEFAULT-01": _literature("leaky_relu_gain", "torch_default_bound", "torch_default_variance"),
    "VAR-TRUNC-01": _literature("truncated_normal_variance", "truncated_normal_corrected_variance"),
    "VAR-ORTHO-01": _literature("orthogonal_mean_square"),
    "VAR-GAINS-01": _gains,
}


def formulas_for(claim_id: str) -> list[FormulaRow]:
    """The formula rows of ``claim_id`` (empty when the claim has no SymPy expressions)."""
    fn = CLAIM_FORMULAS.get(claim_id)
    return [] if fn is None else fn()
