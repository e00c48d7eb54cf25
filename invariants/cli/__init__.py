"""Command line: ``invariants <command> ...`` (also ``python -m invariants``), one module per subcommand.

Commands:

- ``verify [--only ID]... [--json PATH] [--quiet]``: run every registered claim's evidence (or only
  the named claims), print a table, and optionally write the JSON report (:mod:`invariants.cli.verify`).
- ``audit TARGET [--expect SPEC] [--layer LAYER]... [--framework NAME] [--dtype DTYPE] [--json PATH]``: audit a
  framework's catalogue of initializers (TARGET = a registered framework name) or one initializer
  ``MODULE:ATTR`` against a spec on layers (:mod:`invariants.cli.audit`, :mod:`invariants.audit`).
- ``identify TARGET [--framework NAME] [--layer LAYER]...``: fingerprint an initializer.
- ``check-model TARGET ...``: check a whole model's initialization (:mod:`invariants.cli.check_model`).
- ``scale-check TARGET --widths N,N,... [--steps K,...] [--expect sp|mup]``: how every tensor scales with
  width or depth (:mod:`invariants.cli.scale_check`, :mod:`invariants.scaling`).
- ``report [--out DIR] [--audit FRAMEWORK]... [--check]``: regenerate the documentation pages and figures.

Exit codes (:mod:`invariants.core.errors`, the one place they are defined): 0 when everything checked
passed; 1 on a finding (failed evidence, a deviating initializer, an unhealthy model); 2 on a usage error,
bad input, a framework that is not installed, or a crash (ours or the user code's, ``SystemExit`` included);
3 incomplete (``check-model``, ``scale-check``); 130 interrupted (Ctrl-C: one line, and the partial results written where
``--json`` asked).  :func:`main` is the one exception boundary: whatever ends a command becomes one line on
stderr and its exit code, never a traceback (``INVARIANTS_TRACEBACK=1`` shows the crash's traceback first).

The ``--json`` outputs of verify, audit, identify and check-model share one schema family
(``invariants/schemas/*.json``: ``ok``, ``summary``, ``findings``, ``versions``, ``config``).

Each command is one ``add_<command>(subparsers)`` function that adds its subparser and sets ``func`` to the
handler; register it in :data:`COMMAND_MODULES`.  Results are drawn by :mod:`invariants.render`.
"""
from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
import traceback
from typing import Callable, Sequence

from invariants import __version__
from invariants.cli.common import PROG, Interrupted
from invariants.core.errors import EXIT_CRASH, EXIT_USAGE, InvariantsError, exit_code
from invariants.core import compile_cache

#: Subcommands, in the order ``--help`` lists them: name -> ``(module, registrar)``.  A registrar's module is
#: imported only when its parser is built (:func:`build_parser`): ``audit``'s imports the framework registry,
#: which brings SciPy's statistics along, ~0.2 CPU-s that ``verify`` paid before its claims started.
COMMAND_MODULES: dict[str, tuple[str, str]] = {
    "verify": ("invariants.cli.verify", "add_verify"),
    "audit": ("invariants.cli.audit", "add_audit"),
    "identify": ("invariants.cli.audit", "add_identify"),
    "check-model": ("invariants.cli.check_model", "add_check_model"),
    "scale-check": ("invariants.cli.scale_check", "add_scale_check"),
    "report": ("invariants.report.cli_report", "add_report"),
}


def registrar(command: str) -> Callable[[argparse._SubParsersAction], None]:
    """The ``add_<command>(subparsers)`` function of a name in :data:`COMMAND_MODULES` (its module imported
    now); raises ``KeyError`` for another name."""
    module, name = COMMAND_MODULES[command]
    return getattr(importlib.import_module(module), name)


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line: ``invariants: error: ...; usage: invariants audit ...`` (the
    same prefix as every other error; the usage names the command)."""

    def error(self, message: str):  # type: ignore[override]
        usage = " ".join(self.format_usage().split())
        self.exit(EXIT_USAGE, f"{PROG}: error: {' '.join(message.split())}; {usage}\n")


#: the environment variables of every command, shown at the end of ``invariants --help``
ENVIRONMENT_HELP = (
    "environment: JAX and Keras programs are compiled once and kept in a persistent cache "
    f"(${compile_cache.CACHE_DIR_VAR}/jax, default ~/.cache/invariants/jax; never the current folder); "
    f"{compile_cache.OFF_SWITCH}=1 turns the cache off.  With numba installed (invariants[fast]) the exact "
    f"kernel's compiled loops are cached likewise (${compile_cache.CACHE_DIR_VAR}/numba; same off switch); "
    "INVARIANTS_NO_COMPILED=1 uses the numpy kernel instead (same results).  "
    "INVARIANTS_TRACEBACK=1 prints a crash's traceback."
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with every subcommand, or (``command`` a name in :data:`COMMAND_MODULES`)
    with that one only, so that only its module is imported (what :func:`main` builds once the command line
    names one; ``--help``, no command or an unknown one get every subcommand)."""
    parser = Parser(prog=PROG, description="Verify claims about neural-network weight initialization.",
                    epilog=ENVIRONMENT_HELP)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subparsers.required = True
    for name in COMMAND_MODULES if command not in COMMAND_MODULES else (command,):
        registrar(name)(subparsers)
    return parser


def named_command(argv: Sequence[str]) -> str | None:
    """The subcommand a command line names: its first argument unless that is an option, else ``None`` (the
    top-level options, ``--help`` and ``--version``, end the run before any command, so a command after one
    must not narrow the parser: ``invariants --help verify`` lists every command)."""
    return argv[0] if argv and not argv[0].startswith("-") else None


def one_line(text: object, limit: int = 2000) -> str:
    """``text`` with every whitespace run folded to one space, cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def skip_exit_collection() -> None:
    """Have the interpreter's exit skip its garbage collection of what this process holds (``gc.freeze`` at
    exit, registered once).

    Why: a command leaves SymPy, SciPy, Hypothesis and its results in the heap, and the full collections of
    interpreter shutdown scanned all of it: ~1.1 s of wall after ``invariants verify`` had written its report
    (measured on a 2-core machine at load ~5; 0.1 s with the heap frozen).  Nothing is lost: the process ends
    and the system reclaims its memory; atexit handlers still run, and every output is written and closed
    before ``main`` returns.
    """
    global _EXIT_COLLECTION_SKIPPED
    if not _EXIT_COLLECTION_SKIPPED:
        atexit.register(gc.freeze)
        _EXIT_COLLECTION_SKIPPED = True


_EXIT_COLLECTION_SKIPPED = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (argparse's own errors give 2, ``--help`` 0).

    The one place errors become exit codes (:func:`~invariants.core.errors.exit_code`):

    - an :class:`~invariants.core.errors.InvariantsError`: one line on stderr, its code (2);
    - Ctrl-C (``KeyboardInterrupt``, also when user code raises it: the two cannot be told apart): one line,
      130; the command has written its partial results where ``--json`` asked (:class:`Interrupted`);
    - ``SystemExit`` raised by user code the command called (the engines already turn an initializer's or a
      factory's into that subject's bad-input error; this catches any other): one line, 2 — never its own code;
    - stdout closed by its reader (``BrokenPipeError``, e.g. ``... | head``): one line, 2 — the output is
      incomplete, so it is not a result;
    - anything else is a crash of ours (or of user code we called): one line, 2 — never reported as a pass or
      a finding.  Set ``INVARIANTS_TRACEBACK=1`` to see the crash's traceback before that line.
    """
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(named_command(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    compile_cache.configure()  # before any command imports JAX (the first compile reads the cache)
    skip_exit_collection()
    try:
        return args.func(args)
    except InvariantsError as exc:
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt as exc:
        line = str(exc) if isinstance(exc, Interrupted) else "interrupted"
        print(f"{PROG}: {one_line(line)}", file=sys.stderr)
        return exit_code(exc)
    except SystemExit as exc:
        print(f"{PROG}: error: user code called sys.exit({exc.code!r}) during {args.command}; not a result",
              file=sys.stderr)
        return EXIT_CRASH
    except BrokenPipeError:
        # the reader closed stdout (``... | head``): say so instead of "internal error", and point stdout at
        # /dev/null so that the interpreter's final flush does not raise again; not a result, so exit 2
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{PROG}: error: stdout was closed by its reader (broken pipe); the output is incomplete",
              file=sys.stderr)
        return EXIT_CRASH
    except Exception as exc:  # noqa: BLE001  a crash exits 2 (not 1, which means findings), in one line
        if os.environ.get("INVARIANTS_TRACEBACK"):
            traceback.print_exc(file=sys.stderr)
        print(f"{PROG}: error: internal error: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return exit_code(exc)


__all__ = ["COMMAND_MODULES", "ENVIRONMENT_HELP", "Parser", "build_parser", "main", "named_command", "one_line",
           "registrar", "skip_exit_collection"]
