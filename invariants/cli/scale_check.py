"""``invariants scale-check MODULE:FACTORY --widths 64,128,256,512``: how every tensor's second moment scales with
the model's width (or, with ``--depths``, its depth) at initialization and after a few optimizer steps
(:func:`invariants.scaling.scale_check`).

Exit codes: 0 every checked quantity as expected; 1 findings (a decided verdict against the expectation, or a
non-finite moment); 2 usage error, bad input or a crash (a malformed list, an unimportable target, a factory that
fails at the first size, a cost over ``--max-memory``/``--max-seconds``); 3 incomplete (an undecided checked
quantity, a size that failed, nothing fitted); 130 interrupted.  JSON schema: ``invariants/schemas/scale-check.json``.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from invariants.cli.audit import ticker
from invariants.cli.common import (add_limits, check_json_path, cli_worded, limits_of, partial_on_interrupt,
                                   positive_int, result_exit, say, table_width, write_json)
from invariants.core.errors import UsageError


def int_list(flag: str, minimum: int) -> Any:
    """An argparse ``type``: comma-separated integers >= ``minimum`` (``flag`` names the option)."""
    def parse(text: str) -> list[int]:
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            values = []
        if not values or any(v < minimum for v in values):
            raise argparse.ArgumentTypeError(f"expected comma-separated integers >= {minimum}, got {text!r}")
        return values

    return parse


#: ``invariants scale-check --help``: the one-line help and the description
HELP = ("does the initialization (and a few optimizer steps) keep every tensor Θ(1) as the model gets wider or "
        "deeper? (μP's coordinate check, with error rates)")
DESCRIPTION = ("Build the model of MODULE:FACTORY at several widths (FACTORY(width) -> torch.nn.Module, or (module, "
               "example_input); a Flax linen (module, example_input) pair; a Keras 3 model on the JAX backend), "
               "several seeds each; record every layer's pre-activation, activation and output "
               "second moment, and with --steps the update ΔW·x after k optimizer steps on a fixed synthetic batch "
               "(linear loss); fit each one's log-log slope against width (second moment; RMS slope is half) with a "
               "t-interval over seeds, and classify it Θ(1), growing, vanishing or undecided (family-wise α over the"
               " fits made, at most 1e-6 per fit). --expect sp or mup compares with the parametrization's theory "
               "(Yang & Hu 2021; Tensor Programs V, Table 3). Exit 0: as expected; 1: findings; 2: usage error or "
               "bad input; 3: incomplete (undecided, or a size failed); 130: interrupted. With --depths L,L,... and "
               "--width W: FACTORY(width=W, depth=L) along depth, the output's change per layer and the loss "
               "gradient's at the first layer against the mean-field depth scales.")


def add_scale_check(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("scale-check", help=HELP, description=DESCRIPTION)
    p.add_argument("target", metavar="TARGET", help="MODULE:FACTORY, e.g. invariants.scaling.examples:mlp_mup")
    p.add_argument("--widths", type=int_list("--widths", 1), metavar="N,N,...",
                   help="widths to build (at least 2 distinct; default 64,128,256,512,1024)")
    p.add_argument("--depths", type=int_list("--depths", 1), metavar="L,L,...",
                   help="depth mode: call FACTORY(width=W, depth=L) at these depths, W = --width")
    p.add_argument("--width", type=positive_int("--width"), default=None,
                   help="the fixed width of depth mode (default 256)")
    p.add_argument("--steps", type=int_list("--steps", 0), default=[0], metavar="K,K,...",
                   help="optimizer steps at which to record (default 0: initialization only)")
    p.add_argument("--seeds", type=positive_int("--seeds"), default=16,
                   help="seeds per size; the slope's interval is over them (default 16, at least 2)")
    p.add_argument("--seed", type=int, default=0, help="first seed: the seeds are SEED .. SEED+SEEDS-1 (default 0)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="adam", help="optimizer of --steps (default adam)")
    p.add_argument("--lr", type=float, default=None, help="base learning rate (default 0.1 for sgd, 0.01 for adam)")
    p.add_argument("--batch", type=positive_int("--batch"), default=64, help="synthetic batch size (default 64)")
    p.add_argument("--expect", choices=("theta1", "sp", "mup"), default="theta1",
                   help="theta1 (default: every quantity Θ(1)), sp or mup (the parametrization's predicted slopes)")
    add_limits(p)
    p.add_argument("--json", metavar="PATH", dest="json_path",
                   help="write the JSON report to PATH ('-' for stdout; the text report then goes to stderr)")
    p.add_argument("--plot", metavar="PATH", default=None,
                   help="write the coord-check figure (one panel per tensor, one line per step) to PATH (.png, .svg)")
    p.add_argument("--quiet", "-q", action="store_true", help="findings only: no table, no progress, no estimate line "
                   "(the JSON keeps the estimate)")
    p.set_defaults(func=cmd_scale_check)


def cmd_scale_check(args: argparse.Namespace) -> int:
    from invariants.core.paths import check_output_file
    from invariants.render import render_scale, render_scale_findings
    from invariants.scaling import scale_check
    from invariants.scaling.plot import write_plot
    from invariants.scaling.report import ScaleReport

    check_json_path(args.json_path)
    check_output_file(args.plot, "--plot")
    if args.widths and args.depths:
        raise UsageError("give --widths or --depths, not both")
    if args.width is not None and not args.depths:
        raise UsageError("--width is the fixed width of depth mode: it needs --depths")
    mode = "depth" if args.depths else "width"
    sizes = args.depths or args.widths or [64, 128, 256, 512, 1024]
    if len(set(sizes)) < 2:
        raise UsageError(f"--{mode}s: need at least 2 distinct sizes, got {','.join(map(str, sizes))}")
    if args.seeds < 2:
        raise UsageError(f"--seeds: a slope's interval needs at least 2 seeds (16 or more decide most), "
                         f"got {args.seeds}")
    if args.lr is not None and not (args.lr > 0 and args.lr != float("inf")):
        raise UsageError(f"--lr: expected a positive number, got {args.lr!r}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    lim = limits_of(args)
    progress = ticker(args, f"scale-check {args.target}")
    config = {"mode": mode, "sizes": sorted(set(sizes)), "seeds": args.seeds, "steps": sorted(set(args.steps)),
              "optimizer": args.optimizer, "expect": args.expect}

    def partial() -> Any:
        return ScaleReport(args.target, mode, config, interrupted=True)

    started = time.monotonic()

    def say_estimate(cost: Any) -> None:  # one line on stderr before any model is trained (not with --quiet)
        # the estimate covers what follows (the runs, the fits, the report); loading the target and sizing
        # it from shapes are already spent, and the final line's seconds include them
        say(args, f"scale-check {args.target}: estimated {cost} from here (after "
                  f"{time.monotonic() - started:.1f} s loading and sizing the target)", progress)

    try:
        with partial_on_interrupt(args.json_path, partial), cli_worded():
            report = scale_check(args.target, sizes, steps=args.steps, seeds=args.seeds, optimizer=args.optimizer,
                                 lr=args.lr, batch=args.batch, expect=args.expect, mode=mode,
                                 width=(args.width or 256) if mode == "depth" else None, limits=lim,
                                 progress=progress, base_seed=args.seed, on_estimate=say_estimate)
    finally:
        if progress is not None:
            progress.close()
    if args.plot:
        report.plot = write_plot(report, args.plot)
    out = sys.stderr if args.json_path == "-" else sys.stdout
    print(render_scale_findings(report) if args.quiet else render_scale(report, width=table_width(out)), file=out)
    write_json(args.json_path, report.to_dict())
    return result_exit(report)


__all__ = ["DESCRIPTION", "HELP", "add_scale_check", "cmd_scale_check", "int_list"]
