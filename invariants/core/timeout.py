"""A per-call time limit for user code (an initializer under audit): a call that hangs must not hang the tool.

How: :func:`per_call` sets the limit for a block of work (an audit, a fingerprint); :func:`limited` wraps each
call of user code inside it.  On Unix, in the main thread, :func:`limited` arms ``ITIMER_REAL``
(:func:`signal.setitimer`); when it fires, the ``SIGALRM`` handler raises :class:`CallTimedOut` in the frame
that runs, and :func:`limited` turns it into :class:`TimedOut` (a :class:`~invariants.core.errors.BadInput`:
the call is the input's fault), naming the call and the limit.

Limits of the mechanism (Python runs a signal handler between bytecodes, in the main thread only):

- it interrupts pure-Python loops (``while True: pass``) and blocking C calls that return ``EINTR`` and then
  check for signals (``time.sleep``, most I/O waits, numpy's long loops release to Python between calls);
- it cannot interrupt one C call that loops without checking signals (a single huge BLAS/LAPACK call, a
  compiled kernel): the limit then takes effect when that call returns, at the next bytecode;
- user code that catches ``BaseException`` (a bare ``except:``) can swallow it — :class:`CallTimedOut`
  derives from ``BaseException`` so that ``except Exception`` in user code does not;
- off the main thread, or where ``signal.setitimer`` does not exist (Windows), there is no timeout:
  :attr:`Limit.enforced` is then ``False`` and :attr:`Limit.why` says why (the commands record both in
  their JSON ``config``).
"""
from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

from invariants.core.errors import BadInput, UsageError

#: Default per-call limit, seconds.  Generous on purpose: it exists to stop a call that hangs, not a slow one.
#: The slowest legitimate single calls we know are a framework's first call on the largest tensor the auditor
#: accepts (2^24 values: a QR for ``orthogonal`` on 4096 x 4096, a JAX/Keras compilation) which take seconds
#: to tens of seconds on a loaded 2-core machine; 120 s leaves an order of magnitude above that.
DEFAULT_TIMEOUT = 120.0


class CallTimedOut(BaseException):
    """Raised by the ``SIGALRM`` handler inside the limited call (``BaseException``: user code's
    ``except Exception`` does not swallow it); :func:`limited` turns it into :class:`TimedOut`."""


class TimedOut(BadInput):
    """A call of user code did not return within the per-call limit (bad input: one line, exit 2).

    Args:
        what: the call, e.g. ``"mypkg.init.he"``.
        seconds: the limit.
    """

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what} did not return within {format_limit(seconds)} (the per-call timeout); "
                         "treated as a hang")
        self.what = what
        self.seconds = seconds


@dataclass(frozen=True)
class Limit:
    """The per-call limit in force: ``seconds`` (``None``: none asked), whether it can be enforced here, and
    why not when it cannot."""

    seconds: float | None
    enforced: bool
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``config`` keys: ``timeout`` (seconds or null) and ``timeout_enforced``."""
        return {"timeout": self.seconds, "timeout_enforced": self.enforced}


_current: Limit = Limit(None, False, "no per-call timeout asked")
_armed = False


def format_limit(seconds: float) -> str:
    """``0.2 s``, ``120 s``."""
    return f"{seconds:g} s"


def check_seconds(value: Any, what: str = "timeout") -> float | None:
    """A per-call limit: a finite number of seconds > 0, or ``0``/``None`` for none.

    Raises:
        UsageError: a negative, non-finite or non-numeric value (one line naming ``what``).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{what}: expected a number of seconds (0 or None: no timeout), got "
                         f"{type(value).__name__} {value!r}"[:300])
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"{what}: expected seconds >= 0 (0: no timeout), got {value!r}")
    return value or None


def parse_seconds(text: str, flag: str = "--timeout") -> float | None:
    """Command-line text of a per-call limit: seconds (``120``, ``0.5``), or ``0``/``none``/``off`` for none.

    Raises:
        UsageError: anything else (one line naming ``flag``).
    """
    word = text.strip().lower()
    if word in ("none", "off", "0"):
        return None
    try:
        value = float(word)
    except ValueError:
        raise UsageError(f"{flag}: expected seconds (e.g. 120, 0.5) or 0/none to disable, got {text!r}") from None
    return check_seconds(value, flag)


def enforceable() -> str:
    """``""`` when a per-call limit can be enforced here; else why not."""
    if not hasattr(signal, "setitimer"):
        return "this platform has no signal.setitimer (Windows): no per-call timeout"
    if threading.current_thread() is not threading.main_thread():
        return "not in the main thread (signals reach only the main thread): no per-call timeout"
    return ""


def limit_for(seconds: float | None) -> Limit:
    """The :class:`Limit` that ``seconds`` gives here (enforced or not, and why)."""
    why = "no per-call timeout asked" if seconds is None else enforceable()
    return Limit(seconds, seconds is not None and not why, why)


@contextlib.contextmanager
def per_call(seconds: float | None) -> Iterator[Limit]:
    """Set the per-call limit for the calls :func:`limited` wraps inside the block (``None``: none).

    Yields the :class:`Limit` in force (``enforced`` is ``False`` off the main thread or on Windows: the
    calls then run unlimited).  Outside such a block nothing is limited.
    """
    global _current
    limit = limit_for(seconds)
    before, _current = _current, limit
    try:
        yield limit
    finally:
        _current = before


def current() -> Limit:
    """The limit :func:`per_call` set (none outside such a block)."""
    return _current


@contextlib.contextmanager
def limited(what: str) -> Iterator[None]:
    """Run the block (one call of user code) under the per-call limit in force.

    Nested blocks share the outer timer (the inner one arms nothing).

    Raises:
        TimedOut: the block did not finish within the limit.
    """
    global _armed
    limit = _current
    if not limit.enforced or _armed or threading.current_thread() is not threading.main_thread():
        yield
        return
    active = [True]

    def alarm(signum: int, frame: Any) -> None:
        if active[0]:  # a late alarm, after the call returned, is ignored
            raise CallTimedOut()

    seconds = float(limit.seconds)  # type: ignore[arg-type]
    # ITIMER_REAL is one timer per process: someone else's pending alarm (pytest-timeout's, the user's) that
    # fires first is left alone; a later one is re-armed with its remaining time when the call returns
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer and outer <= seconds:
        yield
        return
    previous = signal.signal(signal.SIGALRM, alarm)
    _armed = True
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except CallTimedOut:
        raise TimedOut(what, seconds) from None
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _armed = False
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-6))


__all__ = ["DEFAULT_TIMEOUT", "CallTimedOut", "Limit", "TimedOut", "check_seconds", "current", "enforceable",
           "format_limit", "limit_for", "limited", "parse_seconds", "per_call"]
