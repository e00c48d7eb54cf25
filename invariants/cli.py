"""Command line: ``invariants <command> ...`` (also ``python -m invariants``).

Commands:

- ``verify [--only ID]... [--json PATH] [--quiet]``: run every registered claim's evidence (or only
  the named claims), print a table, and optionally write the JSON report.
- ``audit TARGET [--expect SPEC] [--layer LAYER]... [--framework NAME] [--dtype DTYPE] [--json PATH]``: audit a
  framework's catalogue of initializers (TARGET = a registered framework name) or one initializer
  ``MODULE:ATTR`` against a spec on layers (:mod:`invariants.audit`).
- ``identify TARGET [--framework NAME] [--layer LAYER]...``: fingerprint an initializer.
- ``report [--out DIR] [--audit FRAMEWORK]... [--check]``: regenerate the documentation pages and figures.

Exit codes (:mod:`invariants.core.errors`, the one place they are defined): 0 when everything checked
passed; 1 on a finding (failed evidence, a deviating initializer, an unhealthy model); 2 on a usage error
or bad input (unknown claim ID, unwritable ``--json`` path, a claim registry that cannot be loaded).
Every error raised on purpose is an :class:`~invariants.core.errors.InvariantsError`; :func:`main` turns
it into one line on stderr and its exit code, in one place.

Each command is one ``_add_<command>(subparsers)`` function that adds its subparser and sets
``func`` to the handler; register it in :data:`COMMANDS`.  Results are drawn by :mod:`invariants.render`.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from typing import Callable, Sequence

from invariants import __version__
from invariants.core.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, InvariantsError, UsageError, exit_code
from invariants.frameworks import registry
from invariants.report.cli_report import add_report

PROG = "invariants"


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
    p.add_argument(
        "--jobs",
        "-j",
        metavar="N",
        type=_positive_int("--jobs"),
        default=None,
        help="worker processes, one claim per task (default: one per CPU; the results are the same for any N)",
    )
    p.set_defaults(func=_cmd_verify)


def _positive_int(flag: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
        return value

    return parse


def _load_claims(only: Sequence[str] = ()):
    from invariants.claims import registry

    try:
        return registry.select(only)  # imports only the asked-for claims' modules
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
    from invariants.render import Progress, render_verify
    from invariants.verify import run_claims

    _check_json_path(args.json_path)
    claims = _select(_load_claims(args.only), args.only)
    if not claims:
        raise UsageError("no claims are registered")

    progress = None if args.quiet else Progress(sys.stderr)
    try:
        report = run_claims(claims, progress=progress, jobs=args.jobs)
    finally:
        if progress is not None:
            progress.close()

    json_to_stdout = args.json_path == "-"
    text = render_verify(report, table=not (args.quiet or json_to_stdout))
    if text:
        print(text, file=sys.stderr if json_to_stdout else sys.stdout)

    _write_json(args.json_path, report.to_dict())
    return _exit(report)


def _exit(result) -> int:
    """Exit code of a finished command from its result (:class:`invariants.core.results.Result`): a result
    with its own ``exit_code`` (a model check: 0 healthy, 1 unhealthy, 3 incomplete) gives it, else 0 ok /
    1 findings."""
    code = getattr(result, "exit_code", None)
    if isinstance(code, int):
        return code
    return EXIT_OK if result.ok else EXIT_FINDINGS


# ---------------------------------------------------------------------------------------------- audit


def _add_audit(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit",
        help="audit initializers against their specs (statistical conformance)",
        description="Audit a framework's whole catalogue of initializers and layer defaults (TARGET = "
        f"{', '.join(registry.names('initializers'))}) or one initializer MODULE:ATTR against --expect on each "
        "--layer. Exit code 0: everything conforms (documented deviations allowed); 1: a finding; "
        "2: usage error or bad input.",
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
    _add_dtype(p)
    p.set_defaults(func=_cmd_audit)


def _add_identify(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "identify",
        help="fingerprint an initializer: family, fan mode, scale constant",
        description="Sample MODULE:ATTR on layers with fan_in != fan_out and report the best-supported "
        "spec among normal/uniform/truncated normal x fan_in/fan_out/fan_avg/fan_geo_avg x scale, with "
        "the evidence. Exit code 0: a spec passed every check; 1: none did; 2: usage error or bad input.",
    )
    p.add_argument("target", metavar="TARGET", help="MODULE:ATTR (an initializer)")
    p.add_argument("--framework", metavar="NAME", default="numpy", help="calling convention (default numpy)")
    p.add_argument("--layer", metavar="LAYER", action="append", default=[],
                   help="layer to sample (repeatable; default dense(300,100), conv2d(16,48,k=3), dense(64,512))")
    p.add_argument("--json", metavar="PATH", dest="json_path", help="write the fingerprint as JSON ('-': stdout)")
    p.add_argument("--rel-error", type=float, default=0.01, metavar="X",
                   help="relative variance error to resolve (default 0.01)")
    _add_dtype(p)
    p.set_defaults(func=_cmd_identify)


def _add_dtype(p: argparse.ArgumentParser) -> None:
    from invariants.frameworks.dtypes import DTYPES

    p.add_argument("--dtype", choices=DTYPES, default=None,
                   help="request the tensor in this dtype from the framework, check it comes back in it "
                   "(dtype_returned) and audit the law at that precision; complex64 is refused (no complex "
                   "law). Default: float32, and a framework catalogue is also audited once per initializer in "
                   "bfloat16 (Keras, numpy: float16)")


def _audit_config(args: argparse.Namespace):
    from invariants.audit.auditor import AuditConfig

    if getattr(args, "seed", 0) < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    try:
        return AuditConfig(rel_error=args.rel_error, base_seed=getattr(args, "seed", 0),
                           determinism=getattr(args, "determinism", True))
    except ValueError as exc:
        raise UsageError(f"--rel-error: {exc}") from exc


def _write_json(path: str | None, payload_obj) -> None:
    from invariants.render import json_text

    if path is None:
        return
    payload = json_text(payload_obj)
    if path == "-":
        sys.stdout.write(payload)
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(payload)
    except OSError as exc:
        raise UsageError(f"--json: cannot write {path!r}: {exc.strerror or exc}") from exc


def _require_framework(name: str) -> None:
    """A MODULE:ATTR target needs its framework: a missing one is a usage error (a catalogue is skipped)."""
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.registry import get_framework

    try:
        get_framework(name, "initializers")
    except FrameworkUnavailable as exc:
        raise UsageError(f"--framework {name}: not available: {exc.hint}") from exc


def _cmd_audit(args: argparse.Namespace) -> int:
    from invariants.audit import catalogue, initializer
    from invariants.frameworks.registry import names
    from invariants.render import AuditProgress, render_audit, render_audit_findings

    _check_json_path(args.json_path)
    cfg = _audit_config(args)
    json_to_stdout = args.json_path == "-"
    out = sys.stderr if json_to_stdout else sys.stdout
    if args.target in names("initializers"):
        if args.expect or args.layer:
            raise UsageError("--expect and --layer apply to a MODULE:ATTR target, not to a framework catalogue")
        if args.framework and args.framework != args.target:
            raise UsageError(f"--framework {args.framework} contradicts the catalogue target {args.target}")
        progress = None if (args.quiet or json_to_stdout) else AuditProgress(sys.stderr)
        try:
            report = catalogue(args.target, cfg, progress=progress, dtype=args.dtype)
        finally:
            if progress is not None:
                progress.close()
    elif ":" in args.target:
        _require_framework(args.framework or "numpy")
        report = initializer(args.target, expect=args.expect, layer=args.layer or None,
                             framework=args.framework or "numpy", config=cfg, target=args.target, dtype=args.dtype)
    else:
        raise UsageError(f"unknown target {args.target!r}: expected a framework ({', '.join(names('initializers'))}) "
                         "or MODULE:ATTR")
    if args.quiet:
        text = render_audit_findings(report) if not report.ok else ""
    else:
        text = render_audit(report)
    if text:
        print(text, file=out)
    _write_json(args.json_path, report.to_dict())
    return _exit(report)


def _cmd_identify(args: argparse.Namespace) -> int:
    from invariants.audit import identify
    from invariants.core.errors import FrameworkUnavailable
    from invariants.render import render_fingerprint

    _check_json_path(args.json_path)
    if ":" not in args.target:
        raise UsageError(f"identify needs a MODULE:ATTR target, got {args.target!r}")
    cfg = _audit_config(args)
    try:
        _require_framework(args.framework)
        fp = identify(args.target, framework=args.framework, layers=args.layer or None, config=cfg, dtype=args.dtype)
    except FrameworkUnavailable as exc:
        raise UsageError(f"--framework {args.framework}: not available: {exc.hint}") from exc
    print(render_fingerprint(fp), file=sys.stderr if args.json_path == "-" else sys.stdout)
    _write_json(args.json_path, fp.to_dict())
    return _exit(fp)


# ---------------------------------------------------------------------------------------- check-model


def _add_check_model(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check-model",
        help="check a whole model's initialization (copies, zeros, dead and interchangeable units, variance, "
        "signal propagation)",
        description="Check the initialization of the model returned by MODULE:FACTORY (a PyTorch nn.Module, a Keras "
        "model, a Flax (module, variables) pair or a reference (Architecture, params) pair; optionally with an "
        "example input as the last tuple element, a tuple for several positional inputs or a dict of keyword "
        "inputs such as {'input_ids': ids}). Every parameter tensor is either analysed or listed as not analysed "
        "with the reason; the verdict line states the analysed share of tensors and values and whether signal "
        "propagation was checked. Exit code 0: healthy (no errors, notes allowed, at least --min-coverage of the "
        "values analysed and the probe ran, or was skipped with --no-probe); 1: errors (whatever the coverage); "
        "2: usage error, bad input or a crash (unimportable target, unsupported object, framework not installed; "
        "one line on stderr); 3: incomplete (no errors, but too little analysed or the probe could not run: "
        "not a pass).",
    )
    p.add_argument("target", metavar="TARGET", help="MODULE:FACTORY, e.g. mypkg.models:build_model")
    p.add_argument("--input-shape", metavar="SHAPE", action="append",
                   help="probe input N(0, 1) of this shape, e.g. 32,3,32,32; or a keyword input NAME=SHAPE, repeatable "
                   "(input_ids=8,16 --input-shape decoder_input_ids=8,16: names ending in 'ids' get token ids below "
                   "the model's vocabulary size) (default: given by the factory, else inferred from the model's "
                   "config or its first layer)")
    p.add_argument("--no-probe", action="store_true",
                   help="skip the probe pass: signal propagation is not checked, by request (the verdict says so and "
                   "may still be healthy)")
    p.add_argument("--min-coverage", type=float, default=None, metavar="SHARE",
                   help="share of the parameter values that must be analysed for a healthy verdict (default 0.95); "
                   "below it the verdict is incomplete (exit 3)")
    p.add_argument("--profile", default=None, metavar="NAME",
                   help="statistical profile: fast (default, or $INVARIANTS_PROFILE) or thorough")
    p.add_argument("--framework", metavar="NAME", help="force the framework (torch, keras, flax, reference)")
    p.add_argument("--seed", type=int, default=0, help="seed of the probe input and loss (default 0)")
    p.add_argument("--json", metavar="PATH", dest="json_path",
                   help="write the JSON report to PATH ('-' for stdout, which then replaces the text)")
    p.add_argument("--quiet", "-q", action="store_true", help="findings only: no tensor table, no signal profile")
    p.add_argument("--expect", metavar="PATTERN=SPEC", action="append", default=[],
                   help="expected scheme, repeatable: PATTERN is a module type (Linear, Conv2d, Embedding: their "
                   "weights) or an fnmatch pattern on the parameter name ('*.bias'); SPEC as for audit --expect, "
                   "resolved by the model's framework, e.g. --expect 'Linear=normal(std=0.02)' --expect "
                   "'*.bias=zeros'. A tensor that does not match is an error; a pattern that selects nothing is a "
                   "usage error (exit 2); the most specific pattern wins (exact name > wildcard > module type); a packed "
                   "tensor (q/k/v, gates) is tested block by block, PATTERN[packed] tests it as one matrix on its "
                   "whole fans")
    p.set_defaults(func=_cmd_check_model)


def _cmd_check_model(args: argparse.Namespace) -> int:
    from invariants.modelcheck import check_model, get_profile
    from invariants.render import render_model, render_model_findings

    _check_json_path(args.json_path)
    try:
        profile = get_profile(args.profile)
    except ValueError as exc:
        raise UsageError(f"--profile: {exc}") from exc
    from invariants.modelcheck.report import MIN_COVERAGE

    shapes = _input_shapes(args.input_shape)
    min_cov = MIN_COVERAGE if args.min_coverage is None else args.min_coverage
    if not 0.0 <= min_cov <= 1.0:
        raise UsageError(f"--min-coverage: expected a share in [0, 1], got {args.min_coverage!r}")
    report = check_model(args.target, input_shape=shapes, profile=profile, seed=args.seed, framework=args.framework,
                         min_coverage=min_cov, probe=not args.no_probe, expect=args.expect or None)
    out = sys.stderr if args.json_path == "-" else sys.stdout
    print(render_model_findings(report) if args.quiet else render_model(report), file=out)
    _write_json(args.json_path, report.to_dict())
    return _exit(report)


def _input_shapes(values: "list[str] | None"):
    """``--input-shape`` values -> one shape, or ``{name: shape}`` (every value ``NAME=SHAPE``).

    Raises:
        UsageError: a malformed shape, a mix of positional and keyword shapes, or two positional shapes.
    """
    if not values:
        return None

    def shape(text: str, whole: str) -> tuple[int, ...]:
        try:
            # every piece between separators must be an integer: "4,x7" is malformed, not (4, 7)
            out = tuple(int(s) for s in re.split(r"[,x]", text.strip()))
            if not out or any(s < 1 for s in out):
                raise ValueError
        except ValueError:
            raise UsageError(f"--input-shape: expected positive integers like 32,3,32,32 or input_ids=8,16, "
                             f"got {whole!r}") from None
        return out

    named = ["=" in v for v in values]
    if any(named) and not all(named) or (not any(named) and len(values) > 1):
        raise UsageError("--input-shape: give one positional shape, or NAME=SHAPE for every keyword input")
    if not any(named):
        return shape(values[0], values[0])
    return {v.split("=", 1)[0].strip(): shape(v.split("=", 1)[1], v) for v in values}


# ----------------------------------------------------------------------------------------------- main

#: Subcommand registrars, in the order ``--help`` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_add_verify, _add_audit, _add_identify,
                                                                _add_check_model, add_report]


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line: ``invariants audit: error: ...; usage: ...``."""

    def error(self, message: str):  # type: ignore[override]
        usage = " ".join(self.format_usage().split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())}; {usage}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    """Run the command line and return its exit code (argparse's own errors give 2, ``--help`` 0).

    The one place errors become exit codes (:func:`~invariants.core.errors.exit_code`): an
    :class:`~invariants.core.errors.InvariantsError` is printed as one line on stderr (2); Ctrl-C gives 130;
    anything else is a crash of ours (or of user code we called): one line, exit 2 — never reported as a pass
    or a finding.  Set ``INVARIANTS_TRACEBACK=1`` to see the crash's traceback before that line.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    try:
        return args.func(args)
    except InvariantsError as exc:
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt as exc:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return exit_code(exc)
    except Exception as exc:  # noqa: BLE001  a crash exits 2 (not 1, which means findings), in one line
        if os.environ.get("INVARIANTS_TRACEBACK"):
            traceback.print_exc(file=sys.stderr)
        print(f"{PROG}: error: internal error: {type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":
    sys.exit(main())
