"""The errors a framework raises about what it was given, on the package's one hierarchy.

:class:`BadInitializer` and :class:`BadModel` are bad input (the thing under test is unusable);
:class:`FrameworkMissing` is also :class:`~invariants.core.errors.FrameworkUnavailable` (``.hint``
says what to install); :class:`UnknownFramework` is a usage error.  The CLI turns each into one line and
exit code 2 (:func:`invariants.core.errors.exit_code`).
"""
from __future__ import annotations

from invariants.core.errors import BadInput, FrameworkUnavailable, UsageError


class BadInitializer(BadInput):
    """The initializer under audit misbehaved: raised, returned a wrong shape or dtype, NaN/inf, ...

    The CLI reports it as one line with exit code 2.
    """


class NotImplementedByFramework(BadInitializer):
    """The initializer raised ``NotImplementedError`` (e.g. torch's QR has no bfloat16 kernel): a
    catalogue audited in a requested dtype records it as ``skipped``, not as an error."""


class InitializerTimedOut(BadInitializer):
    """The initializer did not return within the per-call limit (:mod:`invariants.core.timeout`): a hang is
    the initializer's fault (bad input); a catalogue audit records that subject as ``error`` (not checked).

    Args:
        message: the one line, naming the initializer and the limit.
        seconds: the limit.
    """

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class BadModel(BadInput):
    """The target is not a model this check understands (CLI: exit code 2)."""


class FrameworkMissing(BadModel, FrameworkUnavailable):
    """The model's framework is not installed; the message names the install command (``.hint``).

    Args:
        name: the framework.
        hint: how to install it.
        message: the full message (default ``"<name> is not installed: <hint>"``).
    """

    def __init__(self, name: str, hint: str, message: str = "") -> None:
        Exception.__init__(self, message or f"{name} is not installed: {hint}")
        self.framework = name
        self.hint = hint


class UnknownFramework(UsageError):
    """A framework name that no registered framework has."""


__all__ = ["BadInitializer", "BadModel", "InitializerTimedOut", "FrameworkMissing", "FrameworkUnavailable", "UnknownFramework"]
