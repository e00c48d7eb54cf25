"""Command line: ``invariants <command> ...`` (also ``python -m invariants``).

Commands:

- ``verify [--only ID]... [--json PATH] [--quiet]``: run every registered claim's evidence (or only
  the named claims), print a table, and optionally write the JSON report.

Exit codes: 0 when every evidence function passed; 1 when any failed; 2 on a usage error or bad input
(unknown claim ID, unwritable ``--json`` path, a claim registry that cannot be loaded).

Each command is one ``_add_<command>(subparsers)`` function that adds its subparser and sets
``func`` to the handler; register it in :data:`COMMANDS`.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable, Sequence

from invariants import __version__

PROG = "invariants"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input detected after parsing; reported as one line on stderr with exit code 2."""


# --------------------------------------------------------------------------------------------- verify


def _add_verify(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "verify",
        help="run the evidence of the registered claims",
        description="Run every registered claim's evidence functions and report which pass. "
        "Exit code 0: all evidence passed; 1: some failed; 2: usage error.",
    )
    p.add_argument(
        "--only",
        metavar="ID",
        action="append",
        default=[],
        help="run only this claim (repeatable)",
    )
    p.add_argument(
        "--json",
        metavar="PATH",
        dest="json_path",
        help="write the JSON report to PATH ('-' for stdout, which then replaces the table)",
    )
    p.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress and no table; only failed evidence is printed",
    )
    p.set_defaults(func=_cmd_verify)


def _load_claims():
    from invariants.claims import registry

    try:
        return registry.all_claims()
    except Exception as exc:  # noqa: BLE001  a broken registry is reported, not a traceback
        message = " ".join(str(exc).split())
        raise UsageError(
            f"cannot load the claim registry: {type(exc).__name__}: {message} "
            "(python -c 'import invariants.claims as c; c.load_all()' shows the traceback)"
        ) from exc


def _select(claims, only: Sequence[str]):
    if not only:
        return list(claims)
    known = {c.id for c in claims}
    unknown = [cid for cid in dict.fromkeys(only) if cid not in known]
    if unknown:
        raise UsageError(f"unknown claim id {unknown[0]!r}; known: {', '.join(sorted(known)) or '(none)'}")
    wanted = set(only)
    return [c for c in claims if c.id in wanted]


def _check_json_path(path: str | None) -> None:
    if path is None or path == "-":
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"--json: directory {parent!r} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"--json: {path!r} is a directory")


def _cmd_verify(args: argparse.Namespace) -> int:
    from invariants.report import Progress, render_verify
    from invariants.verify import run_claims

    _check_json_path(args.json_path)
    claims = _select(_load_claims(), args.only)
    if not claims:
        raise UsageError("no claims are registered")

    progress = None if args.quiet else Progress(sys.stderr)
    try:
        report = run_claims(claims, progress=progress)
    finally:
        if progress is not None:
            progress.close()

    json_to_stdout = args.json_path == "-"
    text = render_verify(report, table=not (args.quiet or json_to_stdout))
    if text:
        print(text, file=sys.stderr if json_to_stdout else sys.stdout)

    if args.json_path is not None:
        payload = json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
        if json_to_stdout:
            sys.stdout.write(payload)
        else:
            try:
                with open(args.json_path, "w", encoding="utf-8") as fh:
                    fh.write(payload)
            except OSError as exc:
                raise UsageError(f"--json: cannot write {args.json_path!r}: {exc.strerror or exc}") from exc
    return EXIT_OK if report.passed else EXIT_FAILED


# ----------------------------------------------------------------------------------------------- main

#: Subcommand registrars, in the order ``--help`` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_verify]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Verify claims about neural-network weight initialization.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for add in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (argparse's own errors give 2, ``--help`` 0)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
