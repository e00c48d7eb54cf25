"""The cost of a run, estimated before any work starts, and the limits it is checked against.

Every command that draws or reads many values (``audit``, ``identify``, ``check-model``, ``scale-check``)
builds a :class:`Cost` from the request alone (shapes, sample sizes, the model's parameter count) and calls
:func:`check` before the first draw: beyond the :class:`Limits`, the run stops at once with one line that
gives the estimate and the value of ``limits=Limits(...)`` that would let it through, instead of taking
minutes and gigabytes first.  The line is worded for the Python API (:data:`API_WORDS`); the command line
shows the same refusal with its flags (``--max-memory``, ``--max-seconds``:
:func:`invariants.cli.common.cli_worded` rewords it through :meth:`ResourceLimit.worded`).

The estimates are upper bounds of the peak the engine holds, not measurements: each engine documents the
formula next to the function that builds its :class:`Cost`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Mapping

from invariants.core.errors import UsageError

#: Default limits: what a laptop run can afford without asking (``--max-memory``, ``--max-seconds``).
DEFAULT_MAX_BYTES = 4 * 2**30
DEFAULT_MAX_SECONDS = 900.0

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


#: how the Python API names a limit that would admit a refused run: ``{field of Limits: format}``, the format
#: taking the value (whole GiB for ``max_bytes``, seconds for ``max_seconds``)
API_WORDS = {"max_bytes": "limits=Limits(max_bytes={} * 2**30)", "max_seconds": "limits=Limits(max_seconds={})"}


class ResourceLimit(UsageError):
    """The estimated cost of a request exceeds a limit; the message says how to raise it and how to ask for less.

    Args:
        refused: what was refused and why, e.g. ``"check-model of M: needs ..., over the memory limit 1 KiB"``.
        field: the :class:`Limits` field that refused it (``"max_bytes"`` or ``"max_seconds"``).
        admit: a value of that field that lets the run through (whole GiB for ``max_bytes``, seconds).
        words: ``{field: format}`` naming how to set the field: :data:`API_WORDS` (default), or a command
            line's flags (:meth:`worded`).
        less: ``(Python API, command line)``: how to ask for less in either's words (the arguments or flags
            that shrink the run, e.g. ``"--input-shape with a smaller batch"``); ``("", "")``: no hint.
        command_line: whether ``words`` are a command line's (then ``less[1]`` is shown, else ``less[0]``).
    """

    def __init__(self, refused: str, field: str, admit: int, words: Mapping[str, str] = API_WORDS,
                 less: tuple[str, str] = ("", ""), command_line: bool = False) -> None:
        hint = less[1 if command_line else 0]
        super().__init__(f"{refused}; raise it with {words[field].format(admit)}, or ask for less"
                         + (f" ({hint})" if hint else ""))
        self.refused, self.field, self.admit, self.words = refused, field, admit, dict(words)
        self.less, self.command_line = tuple(less), command_line

    def worded(self, words: Mapping[str, str], command_line: bool = True) -> "ResourceLimit":
        """The same refusal naming the limit in ``words`` (e.g. a command's flags) and, for a command line,
        its way to ask for less; same fields."""
        return ResourceLimit(self.refused, self.field, self.admit, words, self.less, command_line)  # type: ignore[arg-type]

    def __reduce__(self) -> tuple:  # pickled (a worker process) with its fields, not only its message
        return type(self), (self.refused, self.field, self.admit, self.words, self.less, self.command_line)


def parse_size(text: str, flag: str = "size") -> int:
    """Bytes from a size such as ``"512M"``, ``"8GB"``, ``"1.5GiB"`` or ``"1000000"`` (binary units: 1 G = 2**30).

    Args:
        text: the size.
        flag: how the message names it (the command line passes its flag, ``--max-memory``).

    Raises:
        UsageError: ``text`` is not a positive size.
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    unit = match.group(2).upper() if match else None
    if match is None or unit not in _UNITS:
        raise UsageError(f"{flag}: {text!r} is not a size (e.g. 512M, 8G)")
    value = float(match.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{flag}: {text!r} must be a positive size")
    return int(value)


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, three significant figures: ``7.50 GiB``, ``512 MiB``, ``12 B``."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def format_seconds(s: float) -> str:
    """``s`` seconds for a person: ``40 s``, ``3.2 min``, ``1.5 h``."""
    if s < 120:
        return f"{s:.2g} s" if s < 10 else f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.2g} min"
    return f"{s / 3600:.2g} h"


@dataclass(frozen=True)
class Cost:
    """An estimate of one run's work, made before it starts.

    Attributes:
        values: how many values the run draws or reads (elements, all tensors and repeats together).
        bytes: the peak memory the engine holds at once for them (bytes; an upper bound).
        seconds: estimated wall time (seconds, on one core of the machine the constants were measured on).
    """

    values: int
    bytes: int
    seconds: float

    def __add__(self, other: "Cost") -> "Cost":
        """Two pieces of work run one after the other: values and seconds add, the peak is the larger."""
        return Cost(self.values + other.values, max(self.bytes, other.bytes), self.seconds + other.seconds)

    def __str__(self) -> str:
        return (f"{self.values:,} values, about {format_bytes(self.bytes)} peak memory, "
                f"about {format_seconds(self.seconds)}")


@dataclass(frozen=True)
class Limits:
    """What a run may cost before it is refused (``None``: no limit).

    Attributes:
        max_bytes: peak memory (bytes); the command line's ``--max-memory``.
        max_seconds: estimated wall time (seconds); the command line's ``--max-seconds``.
    """

    max_bytes: int | None = DEFAULT_MAX_BYTES
    max_seconds: float | None = DEFAULT_MAX_SECONDS


def check(cost: Cost, limits: Limits | None, what: str, less: tuple[str, str] = ("", "")) -> None:
    """Refuse ``cost`` beyond ``limits``, before any work, in one line that says how to go on.

    Args:
        cost: the run's estimate.
        limits: the limits in force; ``None``: the defaults (:class:`Limits`); ``Limits(None, None)``
            turns the check off.
        what: the request, for the message (``"audit of dense(300, 100) at rel_error 1e-05"``).
        less: ``(Python API, command line)`` words for asking for less (:class:`ResourceLimit`).

    Raises:
        ResourceLimit: the peak memory or the time exceeds its limit; the message gives the estimate and
            the ``limits=Limits(...)`` value that would admit the run (:data:`API_WORDS`; 1.25x the
            memory in whole GiB, 1.5x the seconds).
    """
    limits = Limits() if limits is None else limits
    if limits.max_bytes is not None and cost.bytes > limits.max_bytes:
        raise ResourceLimit(f"{what}: needs {cost}, over the memory limit {format_bytes(limits.max_bytes)}",
                            "max_bytes", math.ceil(cost.bytes * 1.25 / 2**30), less=less)
    if limits.max_seconds is not None and cost.seconds > limits.max_seconds:
        raise ResourceLimit(f"{what}: needs {cost}, over the time limit {format_seconds(limits.max_seconds)}",
                            "max_seconds", math.ceil(cost.seconds * 1.5), less=less)


__all__ = ["API_WORDS", "Cost", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_SECONDS", "Limits", "ResourceLimit", "check",
           "format_bytes", "format_seconds", "parse_size"]
