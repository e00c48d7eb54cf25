"""The width-scaling study of the docs page ``scaling.md``: :func:`run` scale-checks every family of
:mod:`invariants.studies.scale_families` (a GPT-2-style decoder under GPT-2's ``normal(0.02)`` and under
``N(0, 1/fan_in)``, a ResNet-style conv net under PyTorch's defaults) and stores the results.

Regenerate (about 15 seconds on one core)::

    python -m invariants.scaling.study --json docs/data/scale_families.json
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from invariants.scaling.engine import scale_check
from invariants.studies import scale_families as F


def run(widths=F.WIDTHS, seeds: int = F.SEEDS, families=F.FAMILIES) -> dict[str, Any]:
    """Scale-check every family; returns ``{"config": ..., "families": {key: {"title", "target", "result"}}}``
    with ``result`` the scale check's JSON (:meth:`invariants.scaling.ScaleReport.to_dict`, timings removed)."""
    out: dict[str, Any] = {"config": {"widths": list(widths), "seeds": seeds, "steps": list(F.STEPS),
                                      "optimizer": F.OPTIMIZER, "expect": F.EXPECT},
                           "families": {}}
    for key, factory, title in families:
        report = scale_check(getattr(F, factory), widths, steps=F.STEPS, seeds=seeds, optimizer=F.OPTIMIZER,
                             expect=F.EXPECT)
        result = report.to_dict()
        result.pop("seconds", None)
        result["target"] = f"{F.MODULE}:{factory}"
        out["families"][key] = {"title": title, "target": f"{F.MODULE}:{factory}", "result": result}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--json", help="write the results here (docs/data/scale_families.json)")
    ap.add_argument("--seeds", type=int, default=F.SEEDS)
    args = ap.parse_args(argv)
    data = run(seeds=args.seeds)
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text)
    for key, fam in data["families"].items():
        print(f"{key}: {fam['result']['summary']}")
    return 0


__all__ = ["main", "run"]


if __name__ == "__main__":
    sys.exit(main())
