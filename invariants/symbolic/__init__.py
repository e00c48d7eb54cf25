"""Symbolic (SymPy) derivations behind the initialization rules."""
from invariants.symbolic.variance import (
    LITERATURE,
    LiteratureCheck,
    VarianceRules,
    check_against_literature,
    glorot_variance,
    matches,
    relu_second_moment_ratio,
    uniform_variance,
    var_of_weighted_sum,
)

__all__ = [
    "LITERATURE",
    "LiteratureCheck",
    "VarianceRules",
    "check_against_literature",
    "glorot_variance",
    "matches",
    "relu_second_moment_ratio",
    "uniform_variance",
    "var_of_weighted_sum",
]
