"""``invariants audit TARGET ...`` and ``invariants identify TARGET ...``: audit a framework's catalogue of
initializers or one ``MODULE:ATTR`` initializer against a spec (:mod:`invariants.audit`), or fingerprint one.

Exit codes: 0 everything conforms (documented deviations allowed) / a spec was identified; 1 a finding / no
candidate passed; 2 usage error or bad input (an initializer that raises, ``SystemExit`` included, a
framework that is not installed, for a catalogue too), and an audit that checked no tensor (every result
skipped — a zero-size layer, no kernel for the dtype —, or a catalogue ``--dtype`` none of its initializers
can be asked for): nothing audited is never a pass; 130 interrupted (what finished is written to ``--json``).  JSON schemas: ``invariants/schemas/audit.json``, ``identify.json``.
"""
from __future__ import annotations

import argparse
import textwrap
import sys
from typing import Any

from invariants.cli.common import (
    add_limits,
    audit_config,
    check_json_path,
    cli_worded,
    draws_count,
    limits_of,
    partial_on_interrupt,
    require_framework,
    result_exit,
    stderr_is_tty,
    table_width,
    timeout_seconds,
    write_json,
)
from invariants.core.errors import UsageError
from invariants.core.timeout import limit_for
from invariants.frameworks import registry


def add_audit(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit",
        help="audit initializers against their specs (statistical conformance)",
        description="Audit a framework's whole catalogue of initializers and layer defaults (TARGET = "
        f"{', '.join(registry.names('initializers'))}) or one initializer MODULE:ATTR against --expect on each "
        "--layer. Exit code 0: everything conforms (documented deviations allowed); 1: a finding; "
        "2: usage error or bad input (a framework that is not installed included), or an audit that checked no "
        "tensor (every row skipped: nothing audited is never a pass); 130: interrupted.",
    )
    p.add_argument("target", metavar="TARGET", help="framework name, or MODULE:ATTR (an initializer)")
    p.add_argument("--expect", metavar="SPEC", help="spec for MODULE:ATTR, e.g. he_normal, normal(std=0.02), "
                   "variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal)")
    p.add_argument("--layer", metavar="LAYER", action="append", default=[],
                   help="layer to audit on (repeatable), e.g. dense(300,100), conv2d(32,64,k=3,groups=32), "
                   "conv_transpose2d(32,64,k=3), embedding(1000,64), qkv(512), lstm(32,64)")
    p.add_argument("--framework", metavar="NAME", help="calling convention of MODULE:ATTR (default numpy: "
                   "f(shape, rng) -> array)")
    p.add_argument("--json", metavar="PATH", dest="json_path",
                   help="write the JSON report to PATH ('-' for stdout, which then replaces the table)")
    p.add_argument("--rel-error", type=float, default=0.01, metavar="X",
                   help="relative variance error to detect with power 0.99 (default 0.01)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--no-determinism", dest="determinism", action="store_false",
                   help="skip the seed-determinism checks (same seed -> same tensor, different seeds -> different "
                   "tensors, no draws from a global RNG beside the seed/generator/key passed; 2 extra calls per "
                   "tensor)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no table; findings only")
    add_dtype(p)
    add_timeout(p)
    add_limits(p)
    add_max_draws(p)
    p.set_defaults(func=cmd_audit)


def add_identify(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "identify",
        help="fingerprint an initializer: family, fan mode, scale constant",
        description="Sample MODULE:ATTR on layers with fan_in != fan_out and report the best-supported "
        "spec among normal/uniform/truncated normal x fan_in/fan_out/fan_avg/fan_geo_avg x scale, with "
        "the evidence. Exit code 0: a spec passed every check; 1: none did; 2: usage error or bad input; "
        "130: interrupted.",
    )
    p.add_argument("target", metavar="TARGET", help="MODULE:ATTR (an initializer)")
    p.add_argument("--framework", metavar="NAME", default="numpy", help="calling convention (default numpy)")
    p.add_argument("--layer", metavar="LAYER", action="append", default=[],
                   help="layer to sample (repeatable; default dense(300,100), conv2d(16,48,k=3), dense(64,512))")
    p.add_argument("--json", metavar="PATH", dest="json_path", help="write the fingerprint as JSON ('-': stdout)")
    p.add_argument("--rel-error", type=float, default=0.01, metavar="X",
                   help="relative variance error to resolve (default 0.01)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress")
    add_dtype(p)
    add_timeout(p)
    add_limits(p)
    add_max_draws(p)
    p.set_defaults(func=cmd_identify)


def add_max_draws(p: argparse.ArgumentParser) -> None:
    from invariants.audit.auditor import AuditConfig

    default = AuditConfig.max_draws
    p.add_argument("--max-draws", metavar="N", type=draws_count, default=default,
                   help=f"most fresh draws per tensor (AuditConfig.max_draws, default {default}); a tensor it "
                   "stops short of --rel-error is audited at the coarser resolution it reaches, stated in the "
                   "result and the summary")


def add_dtype(p: argparse.ArgumentParser) -> None:
    from invariants.frameworks.dtypes import REAL_DTYPES

    # complex64 is not offered: there is no complex law to audit it against (the API refuses it in one line)
    p.add_argument("--dtype", choices=REAL_DTYPES, default=None,
                   help="request the tensor in this dtype from the framework, check it comes back in it "
                   "(dtype_returned) and audit the law at that precision; a catalogue then audits its "
                   "initializers only (a catalogue with none that takes a dtype, flax or numpy, is refused). Default: "
                   "float32, and a catalogue's initializers (not its layer defaults) are also audited once in "
                   "bfloat16 (torch, jax, equinox, mlx) or float16 (keras); flax, numpy: float32 only")


def add_timeout(p: argparse.ArgumentParser) -> None:
    from invariants.core.timeout import DEFAULT_TIMEOUT

    p.add_argument("--timeout", metavar="SECONDS", type=timeout_seconds, default=DEFAULT_TIMEOUT,
                   help=f"seconds one call of an initializer may take before it counts as hung (bad input: exit 2 "
                   f"for MODULE:ATTR; a framework catalogue reports that initializer as an error, not checked, and "
                   f"goes on); 0 or none: no limit (default {DEFAULT_TIMEOUT:g}; Unix only: SIGALRM, which "
                   "interrupts Python code and sleeping or waiting calls, not one C call that never returns to "
                   "Python)")


def ticker(args: argparse.Namespace, label: str) -> Any:
    """The elapsed-time line of a single-target run on a terminal (:class:`invariants.render.Ticker`), or
    ``None`` with ``--quiet``, with JSON on stdout, or when stderr is not a terminal."""
    from invariants.render import Ticker

    if args.quiet or args.json_path == "-" or not stderr_is_tty():
        return None
    return Ticker(label, sys.stderr)


def cmd_audit(args: argparse.Namespace) -> int:
    from invariants.audit import DEFAULT_AUDIT_LAYERS, NoSpec, catalogue, initializer
    from invariants.audit.auditor import AuditReport
    from invariants.frameworks.registry import names
    from invariants.render import AuditProgress, render_audit, render_audit_findings

    check_json_path(args.json_path)
    cfg = audit_config(args)
    limits = limits_of(args)
    json_to_stdout = args.json_path == "-"
    out = sys.stderr if json_to_stdout else sys.stdout
    done: list[Any] = []
    catalogue_target = args.target in names("initializers")
    framework = args.target if catalogue_target else (args.framework or "numpy")

    def partial() -> Any:
        return AuditReport(results=list(done), config={**cfg.to_dict(), "dtype": args.dtype,
                                                       **limit_for(args.timeout).to_dict()},
                           frameworks=(framework,), interrupted=True)

    if catalogue_target:
        if args.expect or args.layer:
            raise UsageError("--expect and --layer apply to a MODULE:ATTR target, not to a framework catalogue")
        if args.framework and args.framework != args.target:
            raise UsageError(f"--framework {args.framework} contradicts the catalogue target {args.target}")
        require_framework(args.target, args.target)  # a catalogue we cannot run is not a pass (exit 2)
        progress = None if (args.quiet or json_to_stdout) else AuditProgress(sys.stderr, label=f"audit {args.target}")
    elif ":" in args.target:
        require_framework(framework)
        progress = ticker(args, f"audit {args.target}")
    else:
        raise UsageError(f"unknown target {args.target!r}: expected a framework ({', '.join(names('initializers'))}) "
                         "or MODULE:ATTR")

    # a single target is one subject per layer, in order: the ticker names the layer in work
    layers = [] if catalogue_target else list(args.layer or DEFAULT_AUDIT_LAYERS)

    def observe(index: int, total: int, name: str, result: Any) -> None:
        if result is not None:
            done.append(result)
        if progress is not None:
            on = f" on {layers[index - 1]}" if 0 < index <= len(layers) else ""
            progress(index, total, name + on, result)

    try:
        with partial_on_interrupt(args.json_path, partial), cli_worded():
            if catalogue_target:
                report = catalogue(args.target, cfg, progress=observe, dtype=args.dtype, timeout=args.timeout,
                                   limits=limits)
            else:
                try:
                    report = initializer(args.target, expect=args.expect, layer=args.layer or None,
                                         framework=framework, config=cfg, target=args.target, dtype=args.dtype,
                                         progress=observe, timeout=args.timeout, limits=limits)
                except NoSpec as exc:  # the API's wording names its keyword; the command line names its flag
                    raise UsageError(f"no --expect given and {exc.target} is not a known {exc.framework} "
                                     "initializer; give --expect SPEC, e.g. --expect he_normal (or fingerprint it "
                                     "with `invariants identify`)") from None
    finally:
        if progress is not None:
            progress.close()
    width = table_width(out)
    if args.quiet:
        text = render_audit_findings(report, width=width or 110) if not report.ok else ""
        if report.coverage:  # even quiet, a pass never hides that it was coarser than asked
            text = "\n\n".join(t for t in (textwrap.fill(report.coverage, width or 110), text) if t)
    else:
        text = render_audit(report, width=width)
    if text:
        print(text, file=out)
    write_json(args.json_path, report.to_dict())
    if report.ok and not report.n_audited:
        # a run that checked nothing (every result skipped: a zero-size layer, no kernel for the dtype) is no
        # pass: exit 2, after the report
        what = f"the {args.target} catalogue" if catalogue_target else args.target
        raise UsageError(f"nothing was audited: 0 of {len(report.results)} tensors of {what} were checked"
                         + (f" in {args.dtype}" if args.dtype else "") + " (see the skipped rows)")
    return result_exit(report)


def cmd_identify(args: argparse.Namespace) -> int:
    from invariants.audit import identify
    from invariants.audit.fingerprint import Fingerprint
    from invariants.render import render_fingerprint

    check_json_path(args.json_path)
    if ":" not in args.target:
        raise UsageError(f"identify needs a MODULE:ATTR target, got {args.target!r}")
    cfg = audit_config(args)
    limits = limits_of(args)
    require_framework(args.framework)
    progress = ticker(args, f"identify {args.target}")

    def partial() -> Any:
        return Fingerprint(None, False, config={**cfg.to_dict(), "dtype": args.dtype,
                                                **limit_for(args.timeout).to_dict()},
                           frameworks=(args.framework,), interrupted=True)

    try:
        with partial_on_interrupt(args.json_path, partial), cli_worded():
            fp = identify(args.target, framework=args.framework, layers=args.layer or None, config=cfg,
                          dtype=args.dtype, timeout=args.timeout, limits=limits)
    finally:
        if progress is not None:
            progress.close()
    out = sys.stderr if args.json_path == "-" else sys.stdout
    print(render_fingerprint(fp, width=table_width(out) or 110), file=out)
    write_json(args.json_path, fp.to_dict())
    return result_exit(fp)


__all__ = ["add_audit", "add_dtype", "add_identify", "add_max_draws", "add_timeout", "cmd_audit", "cmd_identify", "ticker"]
