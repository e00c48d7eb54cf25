"""The bottom layer: the exception hierarchy and exit codes every command shares
(:mod:`~invariants.core.errors`), the result vocabulary every command's result follows
(:mod:`~invariants.core.results`), the plain-text helpers results and the render layer share
(:mod:`~invariants.core.text`), the resolution of a user's ``MODULE:ATTR`` target (:mod:`~invariants.core.imports`) and
the persistent JAX compile cache set up before any framework is imported (:mod:`~invariants.core.compile_cache`:
here, not under ``frameworks/jax``, so that the pytest plugin and the CLI set it up without importing the
framework layer).

Imports nothing from the rest of the package (see ``tests/core/test_layering.py``).
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
