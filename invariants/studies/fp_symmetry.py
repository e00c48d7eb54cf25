"""Floating-point symmetry breaking: how far do tied hidden units drift apart in a real implementation?

In exact arithmetic, units tied by a constant initialization stay tied forever (SYM-CONST-01), and the
reference network's ``exact`` kernel keeps them tied bit for bit.  A BLAS matmul does not promise that:
an output element's accumulation order (SIMD lanes, register tiles, edge tiles, K-blocking) can depend
on its position, so two units computing the same sum may round differently.  Once two units differ by
one ulp, training decides what happens: the difference can shrink back to 0, stay at the rounding
level, or grow — the symmetric subspace is a saddle when the task rewards two different features, and
an optimizer that normalizes each coordinate (Adam) can amplify a tiny difference to O(1).

This module measures the **symmetry defect** (largest |difference| between the signatures — incoming
row, bias, outgoing column — of units that were tied at initialization, in parameter units) over
training steps, for:

- ``backend``: ``exact`` (reference network, the multiset-determined exact kernel), ``blas`` (reference network,
  ``numpy.matmul``), ``torch`` (``torch.nn.Linear`` layers and ``torch.optim``, CPU, or CUDA when
  available and asked for) — torch is optional: its rows are skipped when it is not importable;
- ``start``: ``tied`` (the constant initialization) or ``nudged`` (unit 0's first incoming weight
  moved up by one ulp: what a single rounding difference does, separated from where it comes from);
- ``dtype`` float32/float64, ``optimizer`` SGD/Adam, and the hidden ``width``.

Task (default): XOR of the signs of the first two of d = 100 uniform inputs, n = 1024 examples, network
(d, w, 2) tanh with softmax cross-entropy, weights 0.1 and biases 0, 1000 full-batch steps (SGD lr 0.1,
Adam lr 0.01).  A tied network is a width-1 network, which cannot represent XOR, so the symmetric
subspace is a saddle here: a difference between units, once present, is rewarded.  Results depend on
the machine's BLAS (recorded with the rows), its thread count and the shapes: they are measurements of
one implementation, not properties of the mathematics.

Regenerate: ``python -m invariants.studies.fp_symmetry`` (a few minutes on 2 cores; ``--quick`` for a
subset of about 30 seconds; ``--json PATH`` to save the rows and the environment).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from invariants.reference import Architecture, init_params, make_optimizer
from invariants.reference.network import loss_and_grad, predict
from invariants.symmetry import unit_signatures

BACKENDS = ("exact", "blas", "torch")
STARTS = ("tied", "nudged")
DEFAULT_WIDTHS = (4, 16, 64, 100, 256)
DEFAULT_CHECKPOINTS = (1, 10, 100, 300, 1000)
DEFAULT_STEPS = 1000
LEARNING_RATES = {"sgd": 0.1, "adam": 0.01}


@dataclass(frozen=True)
class Task:
    """A classification task whose best solution needs two different features in a hidden layer."""

    x: np.ndarray  # (n, d)
    labels: np.ndarray  # (n,) int in {0, 1}


def xor_task(n: int = 1024, d: int = 100, seed: int = 0) -> Task:
    """x uniform in [-1, 1]^d, label 1 when x_0·x_1 > 0 (XOR of two signs; the other d − 2 inputs are
    distractors)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, d))
    return Task(x, (x[:, 0] * x[:, 1] > 0).astype(np.int64))


@dataclass
class Trace:
    """One training run: the symmetry defect after the listed steps and summary figures."""

    backend: str
    start: str
    dtype: str
    optimizer: str
    width: int
    steps: int
    defects: dict[int, float] = field(default_factory=dict)  # step -> defect after that step
    first_untied: int | None = None  # first step after which the defect was nonzero
    max_defect: float = 0.0
    accuracy: float = float("nan")  # training accuracy at the end
    reached_at: int | None = None  # first step whose defect reached run_numpy's stop_at, if given
    seconds: float = 0.0


def _signature_spread(sigs: list[np.ndarray]) -> float:
    """max over layers of max |sig_j − sig_0| (every unit of a layer starts in one class)."""
    return max(float(np.max(np.abs(s - s[:1]))) for s in sigs)


def _record(trace: Trace, step: int, defect: float, checkpoints) -> None:
    if defect != 0.0 and trace.first_untied is None:
        trace.first_untied = step
    trace.max_defect = max(trace.max_defect, defect)
    if step in checkpoints:
        trace.defects[step] = defect


def run_numpy(backend: str, start: str, dtype: str, optimizer: str, width: int, steps: int, task: Task,
              checkpoints=DEFAULT_CHECKPOINTS, lr: float | None = None, depth: int = 1,
              stop_at: float | None = None) -> Trace:
    """Train the reference network (``backend`` = ``"exact"`` or ``"blas"`` kernel) from the constant
    initialization; returns the :class:`Trace`.  ``depth`` is the number of hidden layers.  With
    ``stop_at``, training stops after the first step whose defect reaches it (``Trace.reached_at``)."""
    arch = Architecture((task.x.shape[1], *([width] * depth), 2), "tanh", "softmax_xent", kernel=backend,
                        dtype=dtype)
    params = init_params(arch, 0.1, 0.0)
    if start == "nudged":
        params["W1"][0, 0] = np.nextafter(params["W1"][0, 0], np.inf)
    x = task.x.astype(dtype)
    opt = make_optimizer(optimizer, lr=LEARNING_RATES[optimizer] if lr is None else lr)
    trace = Trace(backend, start, dtype, optimizer, width, steps)
    t0 = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, steps + 1):
            _, grads = loss_and_grad(arch, params, x, task.labels)
            params = opt.step(params, grads)
            sigs = [unit_signatures(arch, params, l).astype(np.float64) for l in arch.hidden_layers]
            defect = _signature_spread(sigs)
            _record(trace, step, defect, checkpoints)
            if stop_at is not None and defect >= stop_at:
                trace.reached_at = step
                break
    trace.accuracy = float(np.mean(predict(arch, params, x).argmax(axis=1) == task.labels))
    trace.seconds = time.perf_counter() - t0
    return trace


def torch_available() -> bool:
    """Whether PyTorch can be imported (it is optional)."""
    try:
        import torch  # noqa: F401
    except Exception:  # noqa: BLE001  any import failure means "not available"
        return False
    return True


def run_torch(start: str, dtype: str, optimizer: str, width: int, steps: int, task: Task,
              checkpoints=DEFAULT_CHECKPOINTS, lr: float | None = None, device: str = "cpu", depth: int = 1) -> Trace:
    """The same run with ``torch.nn.Linear`` layers, ``torch.nn.Tanh``, ``torch.nn.functional.cross_entropy``
    and ``torch.optim.SGD`` / ``torch.optim.Adam`` (PyTorch's own kernels).  Raises ``ImportError`` when
    torch is missing."""
    import torch

    tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    d = task.x.shape[1]
    sizes = (d, *([width] * depth), 2)
    layers = []
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1]).to(device=device, dtype=tdtype)
        with torch.no_grad():
            lin.weight.fill_(0.1)
            lin.bias.zero_()
        layers.append(lin)
    if start == "nudged":
        with torch.no_grad():
            w = layers[0].weight
            w[0, 0] = torch.nextafter(w[0, 0], torch.tensor(float("inf"), dtype=tdtype, device=device))
    x = torch.as_tensor(task.x, dtype=tdtype, device=device)
    y = torch.as_tensor(task.labels, device=device)
    params = [p for lin in layers for p in lin.parameters()]
    rate = LEARNING_RATES[optimizer] if lr is None else lr
    opt = torch.optim.SGD(params, lr=rate) if optimizer == "sgd" else torch.optim.Adam(params, lr=rate)

    def forward(inp):
        h = inp
        for i, lin in enumerate(layers):
            h = lin(h)
            if i < len(layers) - 1:
                h = torch.tanh(h)
        return h

    trace = Trace("torch" if device == "cpu" else f"torch-{device}", start, dtype, optimizer, width, steps)
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(forward(x), y).backward()
        opt.step()
        with torch.no_grad():
            sigs = [torch.cat([layers[l].weight, layers[l].bias[:, None], layers[l + 1].weight.T], dim=1)
                    for l in range(depth)]
            defect = max(float((s - s[:1]).abs().max()) for s in sigs)
        _record(trace, step, defect, checkpoints)
    with torch.no_grad():
        trace.accuracy = float((forward(x).argmax(dim=1) == y).double().mean())
    trace.seconds = time.perf_counter() - t0
    return trace


#: (B, K, N) shapes for :func:`matmul_probe`: the study's layers, shapes seen to break on OpenBLAS
#: (SkylakeX kernels), and a few small and square ones.
PROBE_SHAPES = ((64, 8, 4), (1024, 100, 4), (1024, 100, 64), (1024, 100, 100), (257, 129, 250), (3, 1000, 9),
                (100, 300, 37), (256, 64, 64), (33, 17, 5))


@dataclass(frozen=True)
class ProbeRow:
    """One probe of a tied layer of N units, batch B, fan_in K: ``forward`` computes x (B, K) @ Wᵀ with
    W (N, K) of identical rows (are the N output columns identical?); ``gradient`` computes δᵀ x with δ
    (B, N) of identical columns (are the N rows of ∂L/∂W identical?)."""

    backend: str
    kind: str
    dtype: str
    shape: tuple[int, int, int]
    untied_units: int  # units whose result is not bitwise equal to unit 0's (0 = the tie survived)
    max_difference: float


def matmul_probe(backend: str = "blas", shapes=PROBE_SHAPES, dtypes=("float32", "float64"), seed: int = 0,
                 matmul=None) -> list[ProbeRow]:
    """The two products of a tied layer for each shape (B, K, N) and dtype, with ``numpy.matmul``
    (``"blas"``) or ``torch.matmul`` (``"torch"``, CPU), or a given ``matmul(a, b)``.  In exact
    arithmetic — and with the ``exact`` kernel — every unit's result is the same; count the units whose
    bits differ.  Milliseconds per shape."""
    rng = np.random.default_rng(seed)
    if matmul is not None:
        mm = matmul
    elif backend == "torch":
        import torch

        def mm(a, b):
            ta, tb = (torch.from_numpy(np.ascontiguousarray(m)) for m in (a, b))
            return torch.matmul(ta, tb).numpy()
    else:
        def mm(a, b):
            return a @ b
    rows = []
    for dtype in dtypes:
        for (B, K, N) in shapes:
            x = rng.normal(size=(B, K)).astype(dtype)
            W = np.tile(rng.normal(size=K).astype(dtype), (N, 1))
            delta = np.tile(rng.normal(size=(B, 1)).astype(dtype), (1, N))
            for kind, out in (("forward", mm(x, W.T).T), ("gradient", mm(delta.T, x))):  # unit j = row j
                diff = np.abs(out.astype(np.float64) - out[:1].astype(np.float64))
                rows.append(ProbeRow(backend, kind, dtype, (B, K, N), int(np.sum(np.any(out != out[:1], axis=1))),
                                     float(diff.max())))
    return rows


_LIMITERS: list = []


def limit_threads(n: int) -> None:
    """Limit the BLAS (via threadpoolctl, when installed) and torch to ``n`` threads for the rest of the
    process.  Thread count changes how a BLAS splits a product, and hence which tied layers it unties."""
    try:
        from threadpoolctl import threadpool_limits

        _LIMITERS.append(threadpool_limits(n))
    except ImportError:
        pass
    if torch_available():
        import torch

        torch.set_num_threads(n)


def environment() -> dict:
    """What the figures depend on: numpy/BLAS (via threadpoolctl when installed), torch, CPU."""
    info = {"python": platform.python_version(), "machine": platform.machine(), "numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [{k: v for k, v in lib.items() if k in ("internal_api", "version", "architecture",
                                                                   "num_threads")} for lib in threadpool_info()]
    except Exception:  # noqa: BLE001  optional
        pass
    if torch_available():
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def run_study(backends=("blas", "torch"), starts=STARTS, dtypes=("float32", "float64"), optimizers=("sgd", "adam"),
              widths=DEFAULT_WIDTHS, steps: int = DEFAULT_STEPS, checkpoints=DEFAULT_CHECKPOINTS,
              task: Task | None = None,
              torch_device: str = "cpu", progress=None) -> list[Trace]:
    """Every combination of the arguments (torch rows only when torch is importable; ``nudged`` rows
    only for the ``blas`` backend and the smallest two widths of ``exact``, whose cost grows as
    width²·d·log d).  ``progress(trace)`` is called after each run."""
    task = task or xor_task()
    traces = []
    for backend in backends:
        if backend == "torch" and not torch_available():
            continue
        for start in starts:
            if start == "nudged" and backend == "torch":
                continue  # the nudge measures the dynamics; the blas rows already do
            for dtype in dtypes:
                for optimizer in optimizers:
                    for width in widths:
                        if backend == "exact" and width > 16:
                            continue
                        if backend == "torch":
                            tr = run_torch(start, dtype, optimizer, width, steps, task, checkpoints,
                                           device=torch_device)
                        else:
                            tr = run_numpy(backend, start, dtype, optimizer, width, steps, task, checkpoints)
                        traces.append(tr)
                        if progress is not None:
                            progress(tr)
    return traces


def format_table(traces: list[Trace]) -> str:
    """A fixed-width table: one row per run, defect after each checkpoint step."""
    steps = sorted({s for tr in traces for s in tr.defects})
    head = f"{'backend':<8} {'start':<7} {'dtype':<8} {'opt':<5} {'width':>5} " + " ".join(
        f"{'step ' + str(s):>10}" for s in steps) + f" {'first':>6} {'acc':>5} {'sec':>6}"
    lines = [head, "-" * len(head)]
    for tr in traces:
        cells = " ".join(f"{tr.defects.get(s, float('nan')):>10.1e}" for s in steps)
        first = "-" if tr.first_untied is None else str(tr.first_untied)
        lines.append(f"{tr.backend:<8} {tr.start:<7} {tr.dtype:<8} {tr.optimizer:<5} {tr.width:>5} {cells} "
                     f"{first:>6} {tr.accuracy:>5.2f} {tr.seconds:>6.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m invariants.studies.fp_symmetry",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="widths 4 and 64, 300 steps")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--widths", type=str, default=None, help="comma-separated hidden widths")
    parser.add_argument("--backends", type=str, default="blas,torch", help=f"comma-separated, from {BACKENDS}")
    parser.add_argument("--torch-device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS (threadpoolctl) and torch to this many threads; results depend on it")
    parser.add_argument("--json", default=None, help="also write the rows and the environment to this file")
    args = parser.parse_args(argv)
    if args.threads:
        limit_threads(args.threads)
    widths = (4, 64) if args.quick else DEFAULT_WIDTHS
    if args.widths:
        widths = tuple(int(w) for w in args.widths.split(","))
    steps = args.steps or (300 if args.quick else DEFAULT_STEPS)
    checkpoints = tuple(s for s in (1, 10, 100, 300, 1000, 3000, 10000) if s <= steps)
    env = environment()
    print("environment:", json.dumps(env))
    traces = run_study(backends=tuple(args.backends.split(",")), widths=widths, steps=steps, checkpoints=checkpoints,
                       torch_device=args.torch_device,
                       progress=lambda tr: print(".", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    print(format_table(traces))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"environment": env, "rows": [asdict(tr) for tr in traces]}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
