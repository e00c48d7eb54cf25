"""One exception hierarchy, mapped to exit codes in one place.

Every error this package raises on purpose is an :class:`InvariantsError`; the CLI turns it into one
line on stderr and :func:`exit_code` (``2``).  Anything else that escapes a command is a crash of ours
(or of user code we called) and is reported the same way, never as a finding or a pass.

Exit codes (the CLI's contract, documented in the README):

======  =======================================================================
code    meaning
======  =======================================================================
0       ok: everything that was checked passed
1       findings: a check failed (a claim's evidence, an audit, a model check)
2       usage error, bad input, a framework that is not installed, or a crash
3       incomplete: the run found nothing wrong but checked too little to say ok
130     interrupted (Ctrl-C); partial results are written where asked
======  =======================================================================
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_CRASH = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130


class InvariantsError(Exception):
    """Base of every error this package raises on purpose (CLI: one line, exit 2)."""

    exit_code = EXIT_USAGE


class UsageError(InvariantsError, ValueError):
    """A command or API call used wrongly: unknown option value, conflicting arguments, bad path."""


class BadInput(InvariantsError, ValueError):
    """The thing under test is not usable: an initializer that raises or returns a wrong shape,
    a model object of an unsupported kind, a malformed layer or spec text."""


class Unavailable(InvariantsError, RuntimeError):
    """Something the request needs is not installed or not present (a framework, a data folder)."""


class FrameworkUnavailable(Unavailable):
    """A framework is not installed, or has no support in this version; ``.hint`` says what to do.

    Args:
        name: the framework's name (``"torch"``, ``"mlx"``, ...).
        hint: how to make it available, e.g. ``"pip install torch==2.13.0"``.
    """

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(f"{name}: skipped: {hint}")
        self.framework = name
        self.hint = hint


def exit_code(exc: BaseException) -> int:
    """The CLI exit code for an exception that ended a command.

    :class:`InvariantsError` subclasses carry their own code; ``KeyboardInterrupt`` is 130; anything
    else is a crash (2).
    """
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, InvariantsError):
        return exc.exit_code
    return EXIT_CRASH
