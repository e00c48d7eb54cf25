"""The ``invariants report`` subcommand: generate the documentation site's pages and figures.

``invariants report [--out DIR] [--audit FRAMEWORK]... [--check] [--force] [--quiet]``

Runs every claim's evidence, draws the figures and writes the generated pages under ``DIR`` (default
``docs``); see :mod:`invariants.report.site` for the files.  ``DIR`` becomes a complete site that
``mkdocs build`` turns into HTML offline: ``DIR/mkdocs.yml`` with the pages under ``DIR/docs/``, unless
``DIR`` is already the ``docs_dir`` of an ``mkdocs.yml`` in the folder above it (this repository's
``docs``), where the pages go straight into ``DIR`` (:mod:`invariants.report.layout`).
``--audit FRAMEWORK`` (repeatable, or ``all``) first audits that framework's catalogue and stores the
result in the pages' ``data/audit/``; otherwise the audit pages are rendered from the stored data.
``--check`` writes nothing and reports the generated files whose committed version differs (PNG files:
presence only).

``DIR`` must be new, empty, or hold the manifest of an earlier ``invariants report``
(:mod:`invariants.report.manifest`): files the manifest does not list, or that were edited since, are
never overwritten or removed; anything else is refused (exit 2) before any work, unless ``--force``.

Exit codes: 0 the pages are written (or, with ``--check``, up to date) and every piece of evidence
passed; 1 some evidence failed (the pages are still written and show the failure) or ``--check``
found differences; 2 usage error (matplotlib missing, unknown framework, unwritable ``DIR``, ``DIR`` or
a file in it not written by ``invariants report``).

Registered in :data:`invariants.cli.COMMAND_MODULES` through :func:`add_report`; errors are
:mod:`invariants.core.errors` (the CLI maps them to exit codes), so this module does not import the CLI.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from invariants.core.errors import EXIT_FINDINGS, EXIT_OK, UsageError


def add_report(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="generate the documentation pages and figures (mkdocs source)",
        description="Run every claim's evidence, draw the figures and write the documentation pages "
        "(claim pages, index, methods, seed, figures, audit pages) under DIR. Exit code 0: written and all "
        "evidence passed; 1: some evidence failed (pages still written) or --check found differences; "
        "2: usage error.",
    )
    p.add_argument("--out", metavar="DIR", default="docs",
                   help="folder to write (default: docs): a complete mkdocs site (DIR/mkdocs.yml, pages under "
                   "DIR/docs/), or only the pages when DIR is the docs_dir of an mkdocs.yml in its parent folder")
    p.add_argument("--audit", metavar="FRAMEWORK", action="append", default=[],
                   help="audit this framework's catalogue now and store the data (repeatable; 'all': every "
                   "installed framework); without it, audit pages use the stored data")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and list the files that differ from what would be generated")
    p.add_argument("--force", action="store_true",
                   help="write into DIR even if it was not created by invariants report (no manifest) or holds "
                   "files it did not write; overwrites the generated paths, removes nothing it did not write")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    import os

    from invariants.render import Ticker, render_verify
    from invariants.report.layout import layout_for
    from invariants.report.site import build_site, compare_site, other_platform, unified_diff, write_site

    out = args.out
    layout = layout_for(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out: {out!r} is not a directory")
    if args.check and not os.path.isdir(out):
        raise UsageError(f"--check: {out!r} does not exist")
    if not args.check:
        from pathlib import Path

        from invariants.core.paths import check_output_dir
        from invariants.report import manifest
        from invariants.report.site import generated_in

        check_output_dir(out, "--out")  # an unwritable DIR is refused now, not after the evidence has run

        # refuse before minutes of evidence: a folder that is not ours is refused whatever the build holds
        manifest.plan({}, Path(out), generated_in(layout), force=args.force)

    err = sys.stderr
    start = time.perf_counter()
    # one elapsed-time line on a terminal for every stage (nothing in a file or pipe, nothing with --quiet)
    ticker = None if args.quiet else Ticker("report", err)

    def stage(kind: str, name: str) -> None:
        if ticker is not None:
            ticker.status(f"{kind} {name}")

    def verify_progress(index: int, total: int, claim: Any, outcome: Any) -> None:
        if ticker is not None:
            ticker(index, total, f"verify {claim.id}", outcome)

    try:
        site = build_site(layout.docs_dir, audit=args.audit, progress=stage, verify_progress=verify_progress)
    except ValueError as exc:
        raise UsageError(f"--audit: {exc}") from exc
    finally:
        if ticker is not None:
            ticker.close()

    failures = render_verify(site.report, table=False)
    if failures:
        print(failures, file=err)
    for note in site.notes:
        print(f"note: {note}", file=err)

    if args.check:
        diffs = compare_site(site, out, layout=layout)
        across = other_platform(site, out, layout=layout)
        if across:
            print(f"note: {across}", file=err)
        if diffs:
            print(f"{len(diffs)} generated file(s) differ from {out}/ (run `invariants report --out {out}`):", file=err)
            for d in diffs:
                print(f"  {d}", file=err)
            detail = unified_diff(site, out, [d.split(" ", 1)[1] for d in diffs if d.startswith("differs ")],
                                  layout=layout)
            if detail:
                print(detail, file=err)
            return EXIT_FINDINGS
        if not args.quiet:
            print(f"{out}/ is up to date ({len(site.files)} generated files) "
                  f"in {time.perf_counter() - start:.1f}s")
        return EXIT_OK if site.ok else EXIT_FINDINGS

    try:
        changed, removed = write_site(site, out, force=args.force, layout=layout)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {out!r}: {exc.strerror or exc}") from exc
    n = len(site.report.outcomes)
    n_ok = n - len(site.report.failed)
    print(f"{len(layout.place(site.files))} generated files in {out}/: {len(changed)} written, {len(removed)} removed; "
          f"{n} claims, {n_ok} with all evidence passing; {time.perf_counter() - start:.1f}s")
    if not args.quiet:
        print(layout.describe())
    return EXIT_OK if site.ok else EXIT_FINDINGS
