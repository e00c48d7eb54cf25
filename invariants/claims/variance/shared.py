"""What several variance claims share: the seed sentences two claims each quote, the check of the
SymPy derivations against their literature values, and the comparison of a per-layer factor that a
statement quotes with the one measured on a reference network."""
from __future__ import annotations

import dataclasses
import math
from typing import Mapping, Optional

import sympy as sp

from invariants import propagation as prop
from invariants.experiments.propagation import per_layer_factors
from invariants.symbolic import variance as symvar

QUOTE_GAUSSIAN = (
    "The idea is to initialize each weight with a small Gaussian value with mean = 0.0 and variance based "
    "on the fan-in and fan-out of the weight."
)
QUOTE_FAN_IN = (
    "According to this approach, the weights should be inversely proportional to the square root of the "
    "number of neurons in the previous layer."
)


def literature_rows(names: tuple[str, ...], literature: Optional[Mapping[str, sp.Expr]] = None
                    ) -> list[symvar.LiteratureCheck]:
    """:func:`invariants.symbolic.variance.check_against_literature` for ``names``, with the published
    formula of each name in ``literature`` replaced by the given expression (the evidence's mutation hook:
    a mistyped formula must be reported unequal)."""
    rows = symvar.check_against_literature(names)
    if not literature:
        return rows
    return [dataclasses.replace(c, literature=literature[c.name], source="mutant",
                                equal=symvar.matches(c.derived, literature[c.name]))
            if c.name in literature else c for c in rows]


def literature_check(names: tuple[str, ...], literature: Optional[Mapping[str, sp.Expr]] = None
                     ) -> tuple[bool, str]:
    """Whether every named derivation of :mod:`invariants.symbolic.variance` equals its literature value
    (:func:`literature_rows`; ``literature`` replaces published formulas, for mutants), and a detail line
    quoting each."""
    rows = literature_rows(names, literature)
    ok = len(rows) == len(names) and all(c.equal for c in rows)
    detail = "; ".join(f"{c.name}: {sp.sstr(c.derived)} {'=' if c.equal else '≠'} {c.source}" for c in rows)
    return ok, detail


def stated_factor_check(p: prop.VarianceProfile, stated: float,
                        direction: str = "forward") -> tuple[bool, float, float]:
    """Compare a per-layer factor that a statement quotes (e.g. 1/3 per linear layer) with the geometric-mean
    factor measured on the profile ``p`` (:func:`invariants.experiments.propagation.per_layer_factors`).

    Tolerance, derived from the profile's band: when ``p`` passes its band check, log q_l is within
    ``band_l`` of the mean-field prediction at l = 1 and l = L, so the measured log-factor is within
    ``(band_1 + band_L)/(L − 1)`` of the mean-field one; a stated factor further than that from the
    measurement cannot be the mean-field factor (false-alarm rate: the profile's α).  Backward, the
    prediction is anchored at the measured top (band_L = 0).

    Returns (within tolerance, measured factor, tolerance on the log-factor).
    """
    f, b = per_layer_factors(p)
    measured = f if direction == "forward" else b
    band = p.forward_band if direction == "forward" else p.backward_band
    tol = float(band[0] + band[-1]) / (p.depth - 1)
    return p.passed and abs(math.log(measured / stated)) <= tol, measured, tol
