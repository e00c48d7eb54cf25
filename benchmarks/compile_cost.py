"""``check-model``'s time estimate against the measured wall, cold and warm compile cache.

Usage (from the repository root)::

    PYTHONPATH=$PWD python3 benchmarks/compile_cost.py [--cases keras-mobilenetv2,flax-cnn8,...] [--json OUT]

A JAX-traced probe (Keras on JAX, Flax, Equinox) compiles its whole forward and backward pass with XLA once
(:func:`invariants.frameworks.jax.probe.perturbed_pass`); on a cold cache that compile can dominate the check.
Each case runs twice in fresh subprocesses sharing one new, empty cache folder (``INVARIANTS_CACHE_DIR``):
**cold** (nothing cached) then **warm** (the first run's programs in JAX's persistent cache,
:mod:`invariants.core.compile_cache`).  Each run builds the model, then times
:func:`invariants.modelcheck.check_model` with ``on_estimate`` (the estimate it prints) and sums
``jax.monitoring``'s ``/jax/core/compile/backend_compile_duration`` events (XLA's compile, zero on a cache
hit).  Columns: the estimate, the measured seconds, their ratio, the XLA compile seconds, and the count of
layers the estimate's compile term reads (:func:`invariants.modelcheck.cost.shape_pass`).

Cases (small inputs, ``weights=None``): Keras ``MobileNetV2``/``ResNet50``/``DenseNet121`` on 64x64x3
(probe batch 4; each run sets the cache up as the command line does,
:func:`invariants.core.compile_cache.configure`), Flax and Equinox CNNs of 8 and 24 conv layers on 32x32x3, torchvision ResNet-18 (no
compile: the contrast).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from _common import case_args, footer, header

CASES = ["keras-mobilenetv2", "keras-resnet50", "keras-densenet121", "flax-cnn8", "flax-cnn24", "eqx-cnn8",
         "eqx-cnn24", "torch-resnet18"]


def build(case: str):
    """The model and the ``input_shape`` the case passes."""
    kind, _, name = case.partition("-")
    if kind == "keras":
        os.environ.setdefault("KERAS_BACKEND", "jax")
        import keras

        keras.utils.set_random_seed(0)
        app = {"mobilenetv2": keras.applications.MobileNetV2, "resnet50": keras.applications.ResNet50,
               "densenet121": keras.applications.DenseNet121}[name]
        return app(weights=None, input_shape=(64, 64, 3)), (4, 64, 64, 3)
    if kind == "flax":
        import flax.linen as nn
        import jax

        depth = int(name[3:])

        class CNN(nn.Module):
            @nn.compact
            def __call__(self, x):
                for _ in range(depth):
                    x = nn.relu(nn.Conv(16, (3, 3))(x))
                return nn.Dense(10)(x.mean(axis=(1, 2)))

        m = CNN()
        x = jax.numpy.zeros((4, 32, 32, 3))
        return (m, m.init(jax.random.PRNGKey(0), x)), (4, 32, 32, 3)
    if kind == "eqx":
        import equinox as eqx
        import jax

        depth = int(name[3:])
        keys = jax.random.split(jax.random.PRNGKey(0), depth + 1)
        layers = [eqx.nn.Conv2d(3 if i == 0 else 16, 16, 3, padding=1, key=keys[i]) for i in range(depth)]

        class CNN(eqx.Module):
            convs: list
            head: eqx.nn.Linear

            def __call__(self, x):
                for c in self.convs:
                    x = jax.nn.relu(c(x))
                return self.head(x.mean(axis=(1, 2)))

        return CNN(layers, eqx.nn.Linear(16, 10, key=keys[-1])), (4, 3, 32, 32)
    import torch

    torch.manual_seed(0)
    from tests.zoo.models import tv_resnet18_build

    return tv_resnet18_build(), (4, 3, 64, 64)


def run_case(case: str) -> None:
    """One case in this process: a JSON line."""
    from invariants.core import compile_cache

    compile_cache.configure()  # as the command line does before any import of JAX
    model, shape = build(case)
    from invariants.modelcheck import check_model
    from invariants.modelcheck.cost import shape_pass

    compiles = [0.0, 0]
    if not case.startswith("torch"):
        import jax

        def listen(event: str, duration: float, **_: object) -> None:
            if event == "/jax/core/compile/backend_compile_duration":
                compiles[0] += duration
                compiles[1] += 1

        jax.monitoring.register_event_duration_secs_listener(listen)
    est = []
    t0 = time.perf_counter()
    report = check_model(model, input_shape=shape, on_estimate=lambda c, e: est.append((c.seconds, e)))
    seconds = time.perf_counter() - t0
    from invariants.modelcheck.check import example_from_shapes
    from invariants.modelcheck.cost import unpack_model

    x = example_from_shapes(unpack_model(model).model, shape, 0)
    layers = shape_pass(model, x)[1]
    print(json.dumps({"case": case, "est_seconds": est[0][0], "note": est[0][1], "seconds": seconds,
                      "compile_seconds": compiles[0], "compiles": compiles[1], "layers": layers,
                      "status": report.status}), flush=True)


def main() -> None:
    args = case_args(__doc__, CASES, run_case, lambda ap: ap.add_argument("--json", help="write the rows here too"))
    if args is None:
        return
    t0 = header("check-model time estimate vs measured, cold and warm compile cache (benchmarks/compile_cost.py)")
    print(f"{'case':<18} {'cache':<5} {'layers':>6} {'est. s':>7} {'s':>7} {'s/est':>6} {'XLA compile s':>13} "
          f"{'compiles':>8}  status")
    rows = []
    for case in args.cases.split(","):
        with tempfile.TemporaryDirectory() as cache:
            for cache_state in ("cold", "warm"):
                env = {**os.environ, "KERAS_BACKEND": "jax", "INVARIANTS_CACHE_DIR": cache}
                env.pop("JAX_COMPILATION_CACHE_DIR", None)
                out = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True, text=True,
                                     env=env)
                lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
                if not lines:
                    print(f"{case:<18} {cache_state:<5} failed: {out.stderr.strip().splitlines()[-3:]}", flush=True)
                    continue
                r = {**json.loads(lines[-1]), "cache": cache_state}
                rows.append(r)
                print(f"{case:<18} {cache_state:<5} {r['layers']:>6} {r['est_seconds']:>7.1f} {r['seconds']:>7.1f} "
                      f"{r['seconds'] / r['est_seconds']:>6.2f} {r['compile_seconds']:>13.1f} {r['compiles']:>8}  "
                      f"{r['status']}" + (f" ({r['note']})" if r["note"] else ""), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    footer(t0)


if __name__ == "__main__":
    main()
