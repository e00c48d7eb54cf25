"""The bottom layer: the exception hierarchy and exit codes every command shares.

Imports nothing from the rest of the package (see ``tests/test_layering.py``).
"""
from invariants.core.errors import (
    EXIT_CRASH,
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    BadInput,
    FrameworkUnavailable,
    InvariantsError,
    Unavailable,
    UsageError,
    exit_code,
)

__all__ = [
    "EXIT_CRASH",
    "EXIT_FINDINGS",
    "EXIT_INCOMPLETE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "BadInput",
    "FrameworkUnavailable",
    "InvariantsError",
    "Unavailable",
    "UsageError",
    "exit_code",
]
