"""What every subcommand shares: option parsers, output paths, the JSON writer, exit codes from results,
progress switches and the Ctrl-C contract (partial results written where ``--json`` asked).

Errors are raised as :class:`~invariants.core.errors.InvariantsError` subclasses; the boundary in
:func:`invariants.cli.main` turns each into one line on stderr and its exit code.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any, Callable, Iterator, TextIO

from invariants.core.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from invariants.core.paths import check_output_file

PROG = "invariants"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C after the command saved what it had: ``str()`` is the one line :func:`invariants.cli.main` prints
    (exit 130)."""


def say(args: argparse.Namespace, line: str, progress: Any = None) -> None:
    """One line on stderr before or beside the work (a cost estimate, a one-time compile): above the
    ``progress`` line when one is drawn, else printed; nothing with ``--quiet`` (quiet: the findings only;
    the JSON records what the line says)."""
    if progress is not None:
        progress.write(line)
    elif not getattr(args, "quiet", False):
        print(line, file=sys.stderr, flush=True)


def positive_int(flag: str) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers >= 1 (``flag`` names the option in the error)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
        return value

    return parse


def timeout_seconds(text: str) -> float | None:
    """The argparse ``type`` of ``--timeout``: seconds > 0, or ``0``/``none``/``off`` for no limit
    (:func:`invariants.core.timeout.parse_seconds`); a malformed value is argparse's one-line usage error."""
    from invariants.core.timeout import parse_seconds

    try:
        return parse_seconds(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--timeout: ")) from None


def draws_count(text: str) -> int:
    """The argparse ``type`` of ``--max-draws``: an integer >= ``AuditConfig.min_draws`` (4); a malformed
    value is argparse's one-line usage error."""
    from invariants.audit.auditor import AuditConfig

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= {AuditConfig.min_draws}, got {text!r}") from None
    if n < AuditConfig.min_draws:
        raise argparse.ArgumentTypeError(f"must be >= {AuditConfig.min_draws} (the fewest draws per tensor), "
                                         f"got {n}")
    return n


def check_json_path(path: str | None) -> None:
    """Refuse an unwritable ``--json`` path before any work (:func:`invariants.core.paths.check_output_file`).

    Raises:
        UsageError: one line naming the path and the reason.
    """
    check_output_file(path, "--json")


def write_json(path: str | None, payload_obj: Any) -> None:
    """Write ``payload_obj`` (a result's ``to_dict()``) as JSON to ``path`` (``"-"``: stdout; ``None``: nothing).

    Raises:
        UsageError: the file cannot be written (one line).
    """
    from invariants.render import json_text

    if path is None:
        return
    payload = json_text(payload_obj)
    if path == "-":
        sys.stdout.write(payload)
        sys.stdout.flush()
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(payload)
    except OSError as exc:
        raise UsageError(f"--json: cannot write {path!r}: {exc.strerror or exc}") from exc


def result_exit(result: Any) -> int:
    """Exit code of a finished command from its result (:class:`invariants.core.results.Result`): a result
    with its own ``exit_code`` (a model check: 0 healthy, 1 unhealthy, 3 incomplete) gives it, else 0 ok /
    1 findings."""
    code = getattr(result, "exit_code", None)
    if isinstance(code, int):
        return code
    return EXIT_OK if result.ok else EXIT_FINDINGS


@contextlib.contextmanager
def partial_on_interrupt(json_path: str | None, partial: Callable[[], Any]) -> Iterator[None]:
    """On Ctrl-C inside the block, write ``partial()`` (a result marked ``interrupted``: what finished so far)
    to ``json_path`` when one was asked, then raise :class:`Interrupted` with the line to print (exit 130).

    A ``KeyboardInterrupt`` raised by user code (an initializer, a factory, a model's ``forward``) cannot be
    told apart from the user's Ctrl-C — Python delivers SIGINT as that exception in whatever frame runs —
    so it is treated the same way.
    """
    try:
        yield
    except Interrupted:
        raise
    except KeyboardInterrupt:
        line = "interrupted"
        if json_path is not None:
            try:
                write_json(json_path, partial().to_dict())
                line += f"; partial results written to {'stdout' if json_path == '-' else repr(json_path)}"
            except Exception as exc:  # noqa: BLE001  saving is best effort: the interrupt is still reported
                line += f"; the partial results could not be written: {type(exc).__name__}: {exc}"
        raise Interrupted(" ".join(line.split())) from None


def stderr_is_tty(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stderr) is a terminal: progress is drawn, and tables fitted, only there."""
    from invariants.render.progress import is_terminal

    return is_terminal(sys.stderr if stream is None else stream)


def table_width(stream: TextIO | None = None) -> int | None:
    """The width tables must fit: the terminal's columns (``$COLUMNS`` wins, as for
    :func:`shutil.get_terminal_size`) when ``stream`` (default stdout) is a terminal; ``None`` (no limit) when
    the output goes to a file or a pipe, whatever ``$COLUMNS`` says."""
    import shutil

    stream = sys.stdout if stream is None else stream
    if not stderr_is_tty(stream):
        return None
    return max(40, shutil.get_terminal_size().columns)


def audit_config(args: argparse.Namespace) -> Any:
    """The :class:`~invariants.audit.auditor.AuditConfig` of ``--rel-error``, ``--seed``, ``--no-determinism``,
    ``--max-draws``.

    Raises:
        UsageError: a negative seed or a relative error outside (0, 1).
    """
    from invariants.audit.auditor import AuditConfig

    if getattr(args, "seed", 0) < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    try:
        return AuditConfig(rel_error=args.rel_error, base_seed=getattr(args, "seed", 0),
                           determinism=getattr(args, "determinism", True),
                           max_draws=getattr(args, "max_draws", AuditConfig.max_draws))
    except ValueError as exc:
        raise UsageError(f"--rel-error: {exc}") from exc


def require_framework(name: str, what: str | None = None) -> None:
    """A framework the command needs must be installed: a missing one is a usage error (exit 2, never a pass).

    Args:
        name: the framework.
        what: how the message names it (default ``--framework NAME``).

    Raises:
        UsageError: not installed (the install hint), or not a framework with initializers.
    """
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.registry import get_framework

    try:
        get_framework(name, "initializers")
    except FrameworkUnavailable as exc:
        raise UsageError(f"{what or f'--framework {name}'}: not available: {exc.hint}") from exc


def add_limits(p: argparse.ArgumentParser, memory: str = "peak memory") -> None:
    """The ``--max-memory SIZE`` and ``--max-seconds S`` options of a heavy command (:mod:`invariants.core.cost`);
    ``memory`` says what the estimate counts (``check-model``: the memory beyond the model itself)."""
    from invariants.core.cost import DEFAULT_MAX_BYTES, DEFAULT_MAX_SECONDS, format_bytes

    p.add_argument("--max-memory", metavar="SIZE", default=None,
                   help=f"refuse, before any work, a run whose estimated {memory} exceeds SIZE (e.g. 512M, 8G; "
                   f"0 or none: no limit; default {format_bytes(DEFAULT_MAX_BYTES)})")
    p.add_argument("--max-seconds", metavar="S", default=None,
                   help="refuse, before any work, a run whose estimated time exceeds S seconds "
                   f"(0 or none: no limit, as --timeout; default {DEFAULT_MAX_SECONDS:g})")


def limits_of(args: argparse.Namespace) -> Any:
    """The :class:`~invariants.core.cost.Limits` of ``--max-memory`` and ``--max-seconds`` (defaults where absent;
    ``0`` — with any unit for a size —, ``none`` or ``off``: no limit, as ``--timeout``'s).

    Raises:
        UsageError: a size that :func:`~invariants.core.cost.parse_size` refuses, or seconds that are not a
            positive finite number.
    """
    import math
    import re

    from invariants.core.cost import DEFAULT_MAX_BYTES, DEFAULT_MAX_SECONDS, Limits, parse_size

    def off(text: str) -> bool:
        # 0 (any unit: 0G), none or off: no limit, as --timeout 0 (invariants.core.timeout.parse_seconds)
        word = str(text).strip().lower()
        return word in ("none", "off") or bool(re.fullmatch(r"0*\.?0+\s*[a-z]*", word))

    if args.max_memory is None:
        max_bytes: int | None = DEFAULT_MAX_BYTES
    else:
        max_bytes = None if off(args.max_memory) else parse_size(args.max_memory, "--max-memory")
    if args.max_seconds is None:
        return Limits(max_bytes, DEFAULT_MAX_SECONDS)
    if off(args.max_seconds):
        return Limits(max_bytes, None)
    try:
        seconds = float(args.max_seconds)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise UsageError(f"--max-seconds: {args.max_seconds!r} is not a positive number of seconds (0 or none: "
                         "no limit)")
    return Limits(max_bytes, seconds)


#: the command line's words for the :class:`~invariants.core.cost.Limits` fields a refusal names (the
#: Python API's are :data:`invariants.core.cost.API_WORDS`), by field; the format takes the value
FLAG_WORDS = {"max_bytes": "--max-memory {}G", "max_seconds": "--max-seconds {}"}
#: the sentence the command line adds to an initializer's per-call timeout (the API's line names no keyword)
TIMEOUT_WORDS = "--timeout SECONDS raises the limit, --timeout 0 removes it"


@contextlib.contextmanager
def cli_worded() -> Iterator[None]:
    """Re-raise the Python API's errors that say how to go on in the command line's words, the one place a
    command rewords them:

    - a :class:`~invariants.core.cost.ResourceLimit` names the flag (:data:`FLAG_WORDS`: ``--max-memory 2G``)
      instead of ``limits=Limits(max_bytes=2 * 2**30)`` (:meth:`~invariants.core.cost.ResourceLimit.worded`);
    - an :class:`~invariants.frameworks.errors.InitializerTimedOut` gains :data:`TIMEOUT_WORDS` (only the
      commands with ``--timeout`` pass a per-call limit, so only they can raise it).

    Raises:
        ResourceLimit, InitializerTimedOut: as raised inside, reworded (type, fields and exit code kept).
    """
    from invariants.core.cost import ResourceLimit
    from invariants.frameworks.errors import InitializerTimedOut

    try:
        yield
    except ResourceLimit as exc:
        raise exc.worded(FLAG_WORDS) from None
    except InitializerTimedOut as exc:
        raise InitializerTimedOut(f"{exc}; {TIMEOUT_WORDS}", exc.seconds) from None


__all__ = ["FLAG_WORDS", "PROG", "TIMEOUT_WORDS", "Interrupted", "add_limits", "audit_config", "check_json_path", "cli_worded", "draws_count", "limits_of",
           "partial_on_interrupt", "positive_int", "require_framework", "result_exit", "say", "stderr_is_tty",
           "table_width", "timeout_seconds", "write_json"]
