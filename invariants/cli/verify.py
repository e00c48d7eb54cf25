"""``invariants verify [--only ID]... [--json PATH] [--quiet] [--jobs N] [--list]``: run the registered claims'
evidence, print a table, and optionally write the JSON report (schema ``invariants/schemas/verify.json``);
``--list`` prints the claims (ID, verdict, title) without running anything.  Claim IDs are matched whatever
their case (they are all upper case).

Exit codes: 0 all evidence passed; 1 some failed; 2 usage error (unknown claim ID, unwritable ``--json``
path, a claim registry that cannot be loaded); 130 interrupted (the claims finished so far are written to
``--json``).
"""
from __future__ import annotations

import argparse
import gc
import sys
from typing import Any, Iterable, Sequence

from invariants.cli.common import (check_json_path, partial_on_interrupt, positive_int, result_exit, say, table_width,
                                   write_json)
from invariants.core.errors import UsageError
from invariants.verify import frozen_heap


def add_verify(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "verify",
        help="run the evidence of the registered claims",
        description="Run every registered claim's evidence functions and report which pass. A claim's verdict "
        "is what its evidence supports: proved (a symbolic proof for every size the statement names), verified "
        "(checked where the statement says: sizes, architectures, optimizers, horizons), conditional (true under "
        "its stated conditions and false outside them, both shown) or refuted (false as stated, with a minimal "
        "counterexample); OK means every piece of its evidence passed. Each claim's statement, derivation and "
        "evidence are on its page (docs/claims/ID.md; `invariants verify --list` names them). "
        "Exit code 0: all evidence passed; 1: some failed; 2: usage error; 130: interrupted (the claims "
        "finished so far are written to --json).",
    )
    p.add_argument("--only", metavar="ID", action="append", default=[],
                   help="run only this claim (repeatable; any case: sym-const-01 is SYM-CONST-01)")
    p.add_argument("--list", action="store_true", dest="list_claims",
                   help="print the claims (ID, verdict, title) and exit without running their evidence")
    p.add_argument("--json", metavar="PATH", dest="json_path",
                   help="write the JSON report to PATH ('-' for stdout, which then replaces the table)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress, no table, no one-time compile line; only failed "
                   "evidence is printed")
    p.add_argument("--jobs", "-j", metavar="N", type=positive_int("--jobs"), default=None,
                   help="worker processes (default: one per CPU; the results are the same for any N)")
    p.set_defaults(func=cmd_verify)


def load_claims(only: Sequence[str] = ()) -> list[Any]:
    """The registered claims (only the asked-for claims' modules are imported).

    Raises:
        UsageError: the registry cannot be loaded (the exception named in one line).
    """
    from invariants.claims import registry

    try:
        return registry.select(only)
    except Exception as exc:  # noqa: BLE001  a broken registry is reported, not a traceback
        message = " ".join(str(exc).split())
        raise UsageError(
            f"cannot load the claim registry: {type(exc).__name__}: {message} "
            "(python -c 'import invariants.claims as c; c.load_all()' shows the traceback)"
        ) from exc


def suggest(cid: str, known: Iterable[str]) -> str:
    """What to say after an unknown claim ID: the IDs it starts (``SYM-CONST`` -> ``SYM-CONST-01``) or
    resembles (:func:`difflib.get_close_matches`) as "did you mean ...", else the IDs (8 at most) or where
    the list is."""
    import difflib

    known = sorted(known)
    if not known:
        return "no claims are registered"
    close = [k for k in known if k.startswith(cid)] or difflib.get_close_matches(cid, known, n=3, cutoff=0.8)
    if close:
        return f"did you mean {' or '.join(close[:3])}?"
    return f"known: {', '.join(known)}" if len(known) <= 8 else "invariants verify --list lists the claims"


def select(claims: Sequence[Any], only: Sequence[str]) -> list[Any]:
    """The claims named in ``only`` (all when empty), in registry order.

    Raises:
        UsageError: an ID that is not registered.
    """
    if not only:
        return list(claims)
    known = {c.id for c in claims}
    unknown = [cid for cid in dict.fromkeys(only) if cid not in known]
    if unknown:
        raise UsageError(f"unknown claim id {unknown[0]!r}; {suggest(unknown[0], known)}")
    wanted = set(only)
    return [c for c in claims if c.id in wanted]


def cmd_verify(args: argparse.Namespace) -> int:
    args.only = [cid.upper() for cid in args.only]  # every registered ID is upper case
    check_json_path(args.json_path)
    # the claim modules import SymPy, SciPy and Hypothesis: collecting during those imports scans the growing
    # heap again and again (~0.3 CPU-s before the first claim runs).  What they made then leaves the
    # collector's reach (gc.freeze) until the run ends: re-enabled with all of it in the youngest generation,
    # the collector's next pass scanned the whole imported heap (0.6 s at load 5, before the workers fork)
    # (frozen_heap: given back when the command ends, and left alone where a caller froze objects of its own)
    with frozen_heap() as owned:
        collecting = gc.isenabled()
        gc.disable()
        try:
            claims = select(load_claims(args.only), args.only)
            if owned:
                gc.freeze()
        finally:
            if collecting:
                gc.enable()
        return _run_selected(args, claims)


def _run_selected(args: argparse.Namespace, claims: list[Any]) -> int:
    from invariants.render import Progress, render_claim_list, render_verify
    from invariants.verify import VerifyReport, run_claims, warm_kernel

    if not claims:
        raise UsageError("no claims are registered")
    if args.list_claims:
        print(render_claim_list(claims, table_width()))
        return 0

    progress = None if args.quiet else Progress(sys.stderr)
    done: list[Any] = []

    def observe(index: int, total: int, claim: Any, outcome: Any) -> None:
        if outcome is not None:
            done.append(outcome)
        if progress is not None:
            progress(index, total, claim, outcome)

    config = {"only": list(args.only), "jobs": args.jobs}

    def say_compile(folder: str) -> None:  # one line, only when this run compiles it (a new machine or cache)
        where = folder if folder.startswith("not cached") else f"cached in {folder}"
        say(args, f"verify: compiling the exact kernel's accelerator once for this machine ({where})")

    warm_kernel(say_compile)  # before any claim's clock (run_claims finds it loaded)
    try:
        with partial_on_interrupt(args.json_path, lambda: VerifyReport(list(done), config=config, interrupted=True)):
            report = run_claims(claims, progress=observe, jobs=args.jobs)
    finally:
        if progress is not None:
            progress.close()
    report.config.update(config)

    json_to_stdout = args.json_path == "-"
    text = render_verify(report, table=not (args.quiet or json_to_stdout), width=table_width())
    if text:
        print(text, file=sys.stderr if json_to_stdout else sys.stdout)
    write_json(args.json_path, report.to_dict())
    return result_exit(report)


__all__ = ["add_verify", "cmd_verify", "load_claims", "select"]
