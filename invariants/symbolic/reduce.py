"""``sympy.simplify`` with a cheap first try, for the identities the symbolic evidence expects to vanish.

Why: ``simplify`` runs a long list of rewrites (seconds in all across ``invariants verify``, ~0.1 s for some
single identities); most residuals of a true identity already vanish under ``expand`` or, for a rational
function, ``cancel``.  Both rewrite an expression into an equal one, so a 0 from either proves the identity
exactly as a 0 from ``simplify`` does; anything else goes to ``simplify`` itself, so what a caller gets is
what ``simplify`` gives wherever the identity does not hold (a mutant's residual, a value to print).
"""
from __future__ import annotations

import sympy as sp
from sympy.polys.polyerrors import BasePolynomialError  # PolynomialError, CoercionFailed, GeneratorsError


def simplified(expr: sp.Expr) -> sp.Expr:
    """``sympy.S.Zero`` when ``expand(expr)`` or ``cancel(together(expand(expr)))`` is 0, else ``sympy.simplify(expr)``."""
    expr = sp.sympify(expr)
    try:
        expanded = sp.expand(expr)
        if expanded == 0 or sp.cancel(sp.together(expanded)) == 0:  # functions (exp, phi) act as variables
            return sp.S.Zero
    except (BasePolynomialError, NotImplementedError, TypeError, ValueError):
        pass  # a rewrite SymPy cannot do here proves nothing either way: simplify decides
    return sp.simplify(expr)


def vanishes(expr: sp.Expr) -> bool:
    """Whether ``expr`` is identically 0: ``simplified(expr) == 0``."""
    return bool(simplified(expr) == 0)


__all__ = ["simplified", "vanishes"]
