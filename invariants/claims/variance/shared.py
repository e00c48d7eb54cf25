"""What several variance claims share: the seed sentences two claims each quote, and the check of the
SymPy derivations against their literature values."""
from __future__ import annotations

import sympy as sp

from invariants.symbolic import variance as symvar

QUOTE_GAUSSIAN = (
    "The idea is to initialize each weight with a small Gaussian value with mean = 0.0 and variance based "
    "on the fan-in and fan-out of the weight."
)
QUOTE_FAN_IN = (
    "According to this approach, the weights should be inversely proportional to the square root of the "
    "number of neurons in the previous layer."
)


def literature_check(names: tuple[str, ...]) -> tuple[bool, str]:
    """Whether every named derivation of :mod:`invariants.symbolic.variance` equals its literature value
    (:func:`invariants.symbolic.variance.check_against_literature`), and a detail line quoting each."""
    rows = symvar.check_against_literature(names)
    ok = len(rows) == len(names) and all(c.equal for c in rows)
    detail = "; ".join(f"{c.name}: {sp.sstr(c.derived)} {'=' if c.equal else '≠'} {c.source}" for c in rows)
    return ok, detail
