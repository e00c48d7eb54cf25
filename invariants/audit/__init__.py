"""Initializer specifications (as data) that audits sample from and check."""
from invariants.audit.specs import (
    DISTRIBUTIONS,
    GLOROT_NORMAL,
    GLOROT_UNIFORM,
    HE_NORMAL,
    HE_UNIFORM,
    KAIMING_NORMAL_TORCH,
    LECUN_NORMAL,
    LECUN_UNIFORM,
    MODES,
    NAMED_SPECS,
    TRUNCATED_NORMAL_STD,
    TRUNCATION,
    XAVIER_NORMAL_TORCH,
    VarianceScaling,
)

__all__ = [
    "DISTRIBUTIONS",
    "GLOROT_NORMAL",
    "GLOROT_UNIFORM",
    "HE_NORMAL",
    "HE_UNIFORM",
    "KAIMING_NORMAL_TORCH",
    "LECUN_NORMAL",
    "LECUN_UNIFORM",
    "MODES",
    "NAMED_SPECS",
    "TRUNCATED_NORMAL_STD",
    "TRUNCATION",
    "XAVIER_NORMAL_TORCH",
    "VarianceScaling",
]
