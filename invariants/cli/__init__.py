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
handler; register it in :data:`COMMANDS`.  Results are drawn by :mod:`invariants.render`.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Callable, Sequence

from invariants import __version__
from invariants.cli.audit import add_audit, add_identify
from invariants.cli.check_model import add_check_model
from invariants.cli.common import PROG, Interrupted
from invariants.cli.scale_check import add_scale_check
from invariants.cli.verify import add_verify
from invariants.core.errors import EXIT_CRASH, EXIT_USAGE, InvariantsError, exit_code
from invariants.core import compile_cache
from invariants.report.cli_report import add_report

#: Subcommand registrars, in the order ``--help`` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [add_verify, add_audit, add_identify,
                                                                add_check_model, add_scale_check, add_report]


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


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Verify claims about neural-network weight initialization.",
                    epilog=ENVIRONMENT_HELP)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subparsers.required = True
    for add in COMMANDS:
        add(subparsers)
    return parser


def one_line(text: object, limit: int = 2000) -> str:
    """``text`` with every whitespace run folded to one space, cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


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
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    compile_cache.configure()  # before any command imports JAX (the first compile reads the cache)
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


__all__ = ["COMMANDS", "ENVIRONMENT_HELP", "Parser", "build_parser", "main", "one_line"]
