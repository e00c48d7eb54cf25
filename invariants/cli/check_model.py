"""``invariants check-model MODULE:FACTORY ...``: check a whole model's initialization
(:func:`invariants.modelcheck.check_model`).

Exit codes: 0 healthy; 1 unhealthy (errors); 2 usage error, bad input or a crash (unimportable target, a
factory that raises or calls ``sys.exit``, an unsupported object or tuple, a framework that is not installed
or not the model's); 3 incomplete (no errors, but too little analysed or the probe could not run);
130 interrupted (an ``interrupted`` report is written to ``--json``).  JSON schema:
``invariants/schemas/check-model.json``.
"""
from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from invariants.cli.common import (
    add_limits,
    check_json_path,
    cli_worded,
    limits_of,
    partial_on_interrupt,
    result_exit,
    say,
    table_width,
    write_json,
)
from invariants.cli.audit import ticker
from invariants.core.errors import UsageError
from invariants.frameworks.registry import frameworks


def add_check_model(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check-model",
        help="check a whole model's initialization (copies, zeros, dead and interchangeable units, variance, "
        "signal propagation)",
        description="Check the initialization of the model returned by MODULE:FACTORY (a PyTorch nn.Module, a Keras "
        "model, a Flax (module, variables) pair, an Equinox or MLX module, or a reference (Architecture, params) "
        "pair; optionally with an "
        "example input as the last tuple element, a tuple for several positional inputs or a dict of keyword "
        "inputs such as {'input_ids': ids}). Every parameter tensor is either analysed or listed as not analysed "
        "with the reason; the verdict line states the analysed share of tensors and values and whether signal "
        "propagation was checked. Exit code 0: healthy (no errors, notes allowed, at least --min-coverage of the "
        "values analysed and the probe ran, or was skipped with --no-probe); 1: errors (whatever the coverage); "
        "2: usage error, bad input or a crash (unimportable target, unsupported object, framework not installed; "
        "one line on stderr); 3: incomplete (no errors, but too little analysed, no parameters, or the probe "
        "could not run or measured no layer: not a pass); 130: interrupted.",
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
    p.add_argument("--framework", metavar="NAME",
                   help=f"force the framework ({', '.join(f.name for f in frameworks('models'))})")
    p.add_argument("--seed", type=int, default=0, help="seed of the probe input and loss (default 0)")
    p.add_argument("--json", metavar="PATH", dest="json_path",
                   help="write the JSON report to PATH ('-' for stdout; the text report then goes to stderr)")
    p.add_argument("--quiet", "-q", action="store_true", help="findings only: no tensor table, no signal profile, "
                   "no progress, no estimate line")
    p.add_argument("--expect", metavar="PATTERN=SPEC", action="append", default=[],
                   help="expected scheme, repeatable: PATTERN is a module type (Linear, Conv2d, Embedding: their "
                   "weights) or an fnmatch pattern on the parameter name ('*.bias'); SPEC as for audit --expect, "
                   "resolved by the model's framework, e.g. --expect 'Linear=normal(std=0.02)' --expect "
                   "'*.bias=zeros'. A tensor that does not match is an error; a pattern that selects nothing is a "
                   "usage error (exit 2); the most specific pattern wins (exact name > wildcard > module type); a packed "
                   "tensor (q/k/v, gates) is tested block by block, PATTERN[packed] tests it as one matrix on its "
                   "whole fans")
    add_limits(p, memory="memory beyond the model itself")
    p.set_defaults(func=cmd_check_model)


def cmd_check_model(args: argparse.Namespace) -> int:
    from invariants.modelcheck import check_model, get_profile
    from invariants.modelcheck.check import run_config
    from invariants.modelcheck.report import MIN_COVERAGE, ModelReport
    from invariants.render import render_model, render_model_findings

    check_json_path(args.json_path)
    try:
        profile = get_profile(args.profile)
    except ValueError as exc:
        raise UsageError(f"--profile: {exc}") from exc
    shapes = input_shapes(args.input_shape)
    min_cov = MIN_COVERAGE if args.min_coverage is None else args.min_coverage
    if not 0.0 <= min_cov <= 1.0:
        raise UsageError(f"--min-coverage: expected a share in [0, 1], got {args.min_coverage!r}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    limits = limits_of(args)
    config = {**run_config(profile, min_cov, not args.no_probe, args.expect), "seed": args.seed}

    def partial() -> Any:
        return ModelReport(args.target, args.framework or "unknown", profile.name, config=config, interrupted=True)

    progress = ticker(args, f"check-model {args.target}")

    def say_estimate(cost: Any, excludes: "str | None") -> None:  # one line on stderr before any check
        say(args, f"check-model {args.target}: estimated {cost}" + (f" ({excludes})" if excludes else ""), progress)

    try:
        with partial_on_interrupt(args.json_path, partial), cli_worded():
            report = check_model(args.target, input_shape=shapes, profile=profile, seed=args.seed,
                                 framework=args.framework, min_coverage=min_cov, probe=not args.no_probe,
                                 expect=args.expect or None, progress=False,  # one line: the ticker's
                                 limits=limits, on_estimate=say_estimate)
    finally:
        if progress is not None:
            progress.close()
    out = sys.stderr if args.json_path == "-" else sys.stdout
    width = table_width(out)
    print(render_model_findings(report) if args.quiet else render_model(report, width=width), file=out)
    write_json(args.json_path, report.to_dict())
    return result_exit(report)


def input_shapes(values: "list[str] | None") -> Any:
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


__all__ = ["add_check_model", "cmd_check_model", "input_shapes"]
