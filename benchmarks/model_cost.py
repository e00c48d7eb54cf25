"""``check-model``'s cost estimate against what the check measures: peak memory and seconds, probe included.

Usage (from the repository root)::

    PYTHONPATH=$PWD python3 benchmarks/model_cost.py [--cases mobilenet,mobilenet-b4,mlp,resnet18]

Each case runs in a fresh subprocess: the model is built, the resident set's peak is reset to it
(:func:`large_models.after_build_rss`), the estimate is made (:func:`invariants.modelcheck.cost.estimate`:
parameters plus ``ACTIVATION_FACTOR`` x the probe's layer outputs from a shape pass), then
:func:`invariants.modelcheck.check_model` runs.  The table gives the layer outputs the shape pass found,
the estimated and measured peak beyond the built model and their ratio (measured ÷ estimated: below 1 is
what the limit needs), the same for seconds.  Cases: ``mobilenet`` = Keras MobileNetV2 (``weights=None``,
JAX backend, inferred probe batch 32 of 224x224x3), ``mobilenet-b4`` = the same with
``input_shape=(4, 224, 224, 3)`` (``--input-shape 4,224,224,3``), ``mlp`` = torch 4 x Linear(256) + ReLU,
``keras-mlp`` = Keras Dense 32-128-128-10, ``resnet18`` = torchvision ResNet-18 (10 classes, the zoo's),
``resnet18-64`` = the same with ``input_shape=(8, 3, 64, 64)``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from _common import case_args, footer, header

CASES = ["mobilenet", "mobilenet-b4", "mlp", "keras-mlp", "resnet18", "resnet18-64"]


def build(case: str):
    """The model and the ``input_shape`` the case passes (``None``: inferred)."""
    if case.startswith("mobilenet") or case == "keras-mlp":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras

        keras.utils.set_random_seed(0)
        if case == "keras-mlp":
            return keras.Sequential([keras.Input((32,)), keras.layers.Dense(128, activation="relu"),
                                     keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)]), None
        return keras.applications.MobileNetV2(weights=None), ((4, 224, 224, 3) if case == "mobilenet-b4" else None)
    import torch

    torch.manual_seed(0)
    if case == "mlp":
        layers = [torch.nn.Linear(64, 256), torch.nn.ReLU()]
        for _ in range(2):
            layers += [torch.nn.Linear(256, 256), torch.nn.ReLU()]
        return torch.nn.Sequential(*layers, torch.nn.Linear(256, 10)), None
    from tests.zoo.models import tv_resnet18_build

    return tv_resnet18_build(), ((8, 3, 64, 64) if case == "resnet18-64" else None)


def run_case(case: str) -> None:
    """One case in this process: a JSON line."""
    from large_models import after_build_rss, peak_rss

    model, shape = build(case)
    from invariants.modelcheck import check_model, get_profile
    from invariants.modelcheck.check import example_from_shapes
    from invariants.modelcheck.cost import activation_bytes, estimate

    prof = get_profile(None)
    base = after_build_rss()
    t0 = time.perf_counter()
    x = None if shape is None else example_from_shapes(model, shape)
    act = activation_bytes(model, x, prof.probe_batch)
    cost, excludes = estimate(model, prof.max_values, x, prof.probe_batch)
    est_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = check_model(model, input_shape=shape)
    seconds = time.perf_counter() - t0
    print(json.dumps({"case": case, "activations": act, "est_bytes": cost.bytes, "est_seconds": cost.seconds,
                      "excludes": excludes, "peak_beyond": peak_rss() - base, "seconds": seconds,
                      "estimate_seconds": est_s, "status": report.status}), flush=True)


def main() -> None:
    args = case_args(__doc__, CASES, run_case)
    if args is None:
        return
    t0 = header("check-model cost estimate vs measured (benchmarks/model_cost.py)")
    print(f"{'case':<14} {'layer outputs':>13} {'est. peak':>10} {'peak':>10} {'peak/est':>8} {'est. s':>7} "
          f"{'s':>7} {'s/est':>6} {'shape pass s':>12}  status")
    for case in args.cases.split(","):
        out = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True,
                             env={**os.environ, "KERAS_BACKEND": "jax"})
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            print(f"{case:<14} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(lines[-1])
        mib = 2**20
        act = "-" if r["activations"] is None else f"{r['activations'] / mib:.0f} MiB"
        print(f"{case:<14} {act:>13} {r['est_bytes'] / mib:>6.0f} MiB {r['peak_beyond'] / mib:>6.0f} MiB "
              f"{r['peak_beyond'] / r['est_bytes']:>8.2f} {r['est_seconds']:>7.2f} {r['seconds']:>7.2f} "
              f"{r['seconds'] / r['est_seconds']:>6.2f} {r['estimate_seconds']:>12.2f}  {r['status']}"
              + (f" ({r['excludes']})" if r["excludes"] else ""), flush=True)
    footer(t0)


if __name__ == "__main__":
    main()
