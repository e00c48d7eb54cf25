"""The scaling study of the docs page ``scaling.md``: :func:`run` scale-checks every width family of
:mod:`invariants.studies.scale_families` (a GPT-2-style decoder under GPT-2's ``normal(0.02)`` and under
``N(0, 1/fan_in)``, a ResNet-style conv net under PyTorch's defaults); :func:`run_depth` checks the depth families
of :data:`DEPTH_FAMILIES` (:mod:`invariants.scaling.examples` MLPs: ReLU and tanh, each at its mean-field critical
point and off it), forward and backward against the mean field (:mod:`invariants.scaling.depth`).  Both are stored
in one file (the depth study under ``"depth"``).

Regenerate (about 30 seconds on one core)::

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


#: the depth study: factories of :data:`DEPTH_MODULE` at :data:`DEPTHS` hidden blocks, width :data:`DEPTH_WIDTH`
DEPTH_MODULE = "invariants.scaling.examples"
DEPTHS = (2, 4, 8, 12, 16)
DEPTH_WIDTH = 128
DEPTH_SEEDS = 16
#: ``(key, factory name, title)``: a critical and an off-critical initialization per activation
DEPTH_FAMILIES = (
    ("relu_he", "mlp_depth_he", "ReLU, He init (σ_w² = 2): critical, χ1 = 1"),
    ("relu_lecun", "mlp_depth_lecun", "ReLU, LeCun init (σ_w² = 1): off-critical, χ1 = 1/2"),
    ("tanh_critical", "mlp_depth_tanh_critical", "tanh, σ_w² = 1.761, σ_b² = 0.05: critical, χ1 = 1"),
    ("tanh_chaotic", "mlp_depth_tanh_chaotic", "tanh, σ_w² = 4, σ_b² = 0.05: chaotic, χ1 ≈ 1.34"),
)


def run_depth(depths=DEPTHS, width: int = DEPTH_WIDTH, seeds: int = DEPTH_SEEDS,
              families=DEPTH_FAMILIES) -> dict[str, Any]:
    """Depth-check every depth family; returns ``{"config": ..., "families": {key: {"title", "target", "result"}}}``
    like :func:`run` (``result["depth_scale"]`` holds the forward and backward comparisons with the mean field)."""
    import importlib

    module = importlib.import_module(DEPTH_MODULE)
    out: dict[str, Any] = {"config": {"depths": list(depths), "width": width, "seeds": seeds}, "families": {}}
    for key, factory, title in families:
        report = scale_check(getattr(module, factory), depths, mode="depth", width=width, seeds=seeds)
        result = report.to_dict()
        result.pop("seconds", None)
        result["target"] = f"{DEPTH_MODULE}:{factory}"
        out["families"][key] = {"title": title, "target": f"{DEPTH_MODULE}:{factory}", "result": result}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--json", help="write the results here (docs/data/scale_families.json)")
    ap.add_argument("--seeds", type=int, default=F.SEEDS)
    args = ap.parse_args(argv)
    data = run(seeds=args.seeds)
    data["depth"] = run_depth()
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(text)
    for key, fam in [*data["families"].items(), *data["depth"]["families"].items()]:
        print(f"{key}: {fam['result']['summary']}")
    return 0


__all__ = ["DEPTHS", "DEPTH_FAMILIES", "DEPTH_MODULE", "DEPTH_SEEDS", "DEPTH_WIDTH", "main", "run", "run_depth"]


if __name__ == "__main__":
    sys.exit(main())
