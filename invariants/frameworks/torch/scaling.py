"""The torch runner of ``scale-check`` (:class:`TorchRunner`, :mod:`invariants.frameworks.runner`): one torch run
of the coordinate check, the second moments of every hooked tensor at each requested step.

What is recorded (mean of ``x²`` over all elements of the tensor: batch and coordinates, like μP's
``coord_check``, Yang et al. 2022, "Tensor Programs V", Sec. 5 and the ``mup`` package's ``coord_check.py``,
which records the mean absolute value instead), for each leaf module, by its dotted name:

- ``preact``: the output of a weight layer (``Linear``, ``Conv1d/2d/3d``, ``Embedding``), and ``layer-input``:
  its input (``gain`` = preact over layer-input is what the layer itself multiplies the signal by);
- ``act``: the output of an activation module (``ReLU``, ``GELU``, ``Tanh``, ...); activations applied as
  functions (``F.relu`` inside ``forward``) have no module and are not seen (the next layer's input is);
- ``norm``: the output of a normalization module; ``other``: any other leaf module with parameters;
- ``output``: the model's output (its first tensor);
- ``update`` (steps >= 1): ``ΔW·x = (W_t − W_0) x_0`` of each weight layer: the weight change alone (no bias)
  applied to the layer's input at initialization, the quantity of Yang & Hu 2021 ("Tensor Programs IV",
  Sec. 5) whose scaling separates SP from μP.  The input is held at ``x_0`` so that the row measures the
  layer's own update; the change of its input is the previous rows' (with ``x_t`` the growth of every
  earlier layer would compound into this one's: under SP with Adam the k-th hidden layer would show slope
  ``2k`` instead of 2);
- ``output-change`` (steps >= 1): ``f_t(x) − f_0(x)``.

Training: ``steps`` optimizer steps (SGD without momentum, or Adam with torch's defaults) on one fixed
synthetic batch with the linear loss ``L = Σ_b ⟨f(x_b), r_b⟩ / B``, ``r`` i.i.d. N(0, 1) of the output's shape.
Its gradient at the output is ``r/B`` whatever the output's size, so the loss does not itself feed back the
growth being measured (a squared loss would); each parameter's learning rate is ``lr`` times the model's
``lr_multipliers[name]`` (default 1): how a μP model declares its per-layer rates.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from invariants.frameworks.runner import (ACT, ACTIVATION_NAMES, LAYER_INPUT, NORM, OTHER, OUTPUT, OUTPUT_CHANGE,
                                          PREACT, UPDATE, Key, Moments, ScalingRunner, multipliers)
from invariants.frameworks.torch.seeding import seed_generators

#: modules whose output is an activation
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
               nn.Tanh, nn.Sigmoid, nn.Softplus, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Tanhshrink,
               nn.Softsign, nn.LogSigmoid)
NORMS = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm) + \
    ((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())
#: modules that pass their input through (their output is another role's): not roles of their own
PASS_THROUGH = (nn.Identity, nn.Dropout, nn.Flatten, nn.Unflatten)
WEIGHT_LAYERS = (nn.Linear, nn.modules.conv._ConvNd, nn.Embedding)


def weight_delta_apply(m: nn.Module, x: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
    """``ΔW·x`` for a weight layer: its forward with the weight ``dw`` and no bias."""
    if isinstance(m, nn.Linear):
        return F.linear(x, dw)
    if isinstance(m, nn.modules.conv._ConvNd):
        return m._conv_forward(x, dw, None)
    return F.embedding(x, dw)


def first_tensor(out: Any) -> torch.Tensor | None:
    """The first floating tensor of a module's output (a tensor, or a tuple/list/dict holding one)."""
    if isinstance(out, torch.Tensor):
        return out if out.is_floating_point() else None
    items = out.values() if isinstance(out, dict) else out if isinstance(out, (tuple, list)) else ()
    for v in items:
        t = first_tensor(v)
        if t is not None:
            return t
    return None


def roles(model: nn.Module) -> tuple[dict[str, tuple[nn.Module, str]], dict[str, str]]:
    """The hooked leaf modules ``{name: (module, kind)}`` and the ones not hooked ``{name: reason}``."""
    hooked: dict[str, tuple[nn.Module, str]] = {}
    skipped: dict[str, str] = {}
    for name, m in model.named_modules():
        if any(True for _ in m.children()):
            own = [n for n, _ in m.named_parameters(recurse=False)]
            if own:  # e.g. MultiheadAttention's in_proj_weight: no hook sees that product alone
                skipped[name or type(m).__name__] = (f"{type(m).__name__} holds parameters of its own "
                                                     f"({', '.join(own)}) beside its submodules: their products and "
                                                     "updates are not measured")
            continue
        name = name or type(m).__name__
        if isinstance(m, WEIGHT_LAYERS):
            hooked[name] = (m, PREACT)
        elif isinstance(m, ACTIVATIONS):
            hooked[name] = (m, ACT)
        elif isinstance(m, NORMS):
            hooked[name] = (m, NORM)
        elif isinstance(m, PASS_THROUGH):
            skipped[name] = f"{type(m).__name__} passes its input through (measured where it is used)"
        elif any(True for _ in m.parameters(recurse=False)):
            hooked[name] = (m, OTHER)
            skipped[name + " (update)"] = f"no ΔW·x rule for {type(m).__name__}: its update is not measured"
        else:
            skipped[name] = f"{type(m).__name__} is not a known role"
    return hooked, skipped


def call(model: nn.Module, x: Any) -> Any:
    """``model(x)``: a dict as keyword inputs, a tuple as positional ones."""
    if isinstance(x, dict):
        return model(**x)
    if isinstance(x, tuple):
        return model(*x)
    return model(x)


def record(model: nn.Module, x: Any, steps: Iterable[int], optimizer: str, lr: float, seed: int,
           lr_multipliers: dict[str, float] | None = None) -> dict[Key, float]:
    """Second moments ``{(name, kind, step): mean(x²)}`` of one model over the training steps.

    Args:
        model: the torch module (trained in place).
        x: its input (a tensor, a tuple of positional inputs or a dict of keyword inputs).
        steps: the steps at which to record (0: at initialization).
        optimizer: ``"sgd"`` or ``"adam"``.
        lr: the base learning rate.
        seed: seeds the loss direction ``r`` and torch's RNG (dropout).
        lr_multipliers: ``{parameter name: factor}``, or a function of the optimizer's name returning one
            (default: the model's ``lr_multipliers`` attribute, else 1 for every parameter).

    A non-finite moment is recorded as is (``inf``/``nan``): the caller reports it.

    Raises:
        ValueError: an unknown optimizer, or a model output without a floating tensor.
    """
    steps = sorted(set(int(s) for s in steps))
    hooked, _ = roles(model)
    mult = multipliers(model, optimizer, lr_multipliers)
    groups = [{"params": [p], "lr": lr * float(mult.get(n, 1.0))}
              for n, p in model.named_parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(groups, lr=lr)
    elif optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=lr)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r} (sgd, adam)")
    w0 = {name: m.weight.detach().clone() for name, (m, kind) in hooked.items() if kind == PREACT}
    moments = Moments()
    state = {"step": 0, "record": False}
    x0: dict[str, torch.Tensor] = {}

    def put(key: Key, t: torch.Tensor) -> None:
        moments.add(key, float(t.detach().double().pow(2).mean()))

    def hook(name: str, kind: str):
        def fn(m: nn.Module, args: tuple, result: Any) -> None:
            if not state["record"]:
                return
            step = state["step"]
            y = first_tensor(result)
            if y is not None and step in steps:
                put((name, kind, step), y)
            if kind == PREACT and args and isinstance(args[0], torch.Tensor):
                if args[0].is_floating_point():
                    if step in steps:
                        put((name, LAYER_INPUT, step), args[0])
                if step == 0 and name not in x0:
                    x0[name] = args[0].detach().clone()
        return fn

    handles = [m.register_forward_hook(hook(n, k)) for n, (m, k) in hooked.items()]
    gen = torch.Generator().manual_seed(int(seed))
    seed_generators(int(seed))
    r = None
    y0 = None
    try:
        for step in range(steps[-1] + 1):
            state["step"], state["record"] = step, step in steps or step == 0
            if step > 0 and step in steps:
                with torch.no_grad():
                    for name, inp in x0.items():
                        m = hooked[name][0]
                        put((name, UPDATE, step), weight_delta_apply(m, inp, m.weight - w0[name]))
            opt.zero_grad(set_to_none=True)
            y = first_tensor(call(model, x))
            if y is None:
                raise ValueError("the model's output holds no floating tensor")
            if step == 0:
                y0 = y.detach().clone()
            if step in steps:
                put(("output", OUTPUT, step), y)
                if step > 0:
                    put(("output", OUTPUT_CHANGE, step), y.detach() - y0)
            if step == steps[-1]:
                break
            if r is None:
                r = torch.randn(y.shape, generator=gen, dtype=y.dtype)
            loss = (y * r).sum() / max(1, y.shape[0] if y.ndim else 1)
            loss.backward()
            opt.step()
    finally:
        for h in handles:
            h.remove()
    return moments.values


def synthetic_input(model: nn.Module, batch: int, seed: int) -> tuple[Any, str]:
    """The fixed probe batch from the model's first layer (:func:`invariants.frameworks.torch.model.layer_input`),
    drawn from ``seed``: the same input at every width when the input's shape does not depend on it."""
    from invariants.frameworks.torch.model import layer_input

    return layer_input(model, batch, np.random.default_rng(seed), seed)


def fans(model: nn.Module) -> dict[str, tuple[int, int]]:
    """``{weight layer name: (fan_in, fan_out)}`` read from the layers' shapes (Linear ``in/out_features``,
    Conv channels times kernel size, Embedding ``(1, embedding_dim)``: a lookup has no fan-in)."""
    out: dict[str, tuple[int, int]] = {}
    for name, (m, kind) in roles(model)[0].items():
        if kind != PREACT:
            continue
        if isinstance(m, nn.Linear):
            out[name] = (m.in_features, m.out_features)
        elif isinstance(m, nn.Embedding):
            out[name] = (1, m.embedding_dim)
        else:
            k = int(np.prod(m.kernel_size))
            out[name] = (m.in_channels // m.groups * k, m.out_channels * k)
    return out


def parameter_count(model: nn.Module) -> int:
    """How many parameter values the model holds."""
    return sum(p.numel() for p in model.parameters())


def meta_size(build: Callable[[int], Any], size: int) -> tuple[int, int] | None:
    """``(parameters, activation values per forward)`` of the model at ``size`` built on ``meta``; ``None``
    when the factory or the forward does not run there, or builds no torch module (the activations are 0
    when only the forward fails)."""
    try:
        with torch.device("meta"):
            model, x = build(size)
        params = sum(p.numel() for p in model.parameters())
    except Exception:  # noqa: BLE001  any factory may refuse meta tensors: fall back to scaling
        return None
    acts = [0]

    def count(m: Any, args: tuple, out: Any) -> None:
        t = first_tensor(out)
        acts[0] += 0 if t is None else t.numel()

    handles = [m.register_forward_hook(count) for m in model.modules()]
    try:
        if x is None:
            x = synthetic_input(model, 1, 0)[0]
        x = x.to("meta") if isinstance(x, torch.Tensor) else x
        with torch.no_grad():
            call(model, x)
    except Exception:  # noqa: BLE001
        acts[0] = 0
    finally:
        for h in handles:
            h.remove()
    return int(params), int(acts[0])


def mean_field_inputs(model: nn.Module) -> dict[str, Any] | None:
    """``{"activation", "sigma_w2": [per weight layer], "fans": [[fan_in, fan_out] per weight layer], "sigma_b2"}``
    of a torch MLP (layers in module order), or ``None`` when the mean field does not apply (no Linear layers, or not exactly one known activation type): ``σ_w,l² =
    E[W_l²]·fan_in_l`` read from the sampled weights, ``σ_b²`` the mean over the biases of ``E[b²]``
    (:mod:`invariants.scaling.depth`)."""
    acts = {ACTIVATION_NAMES.get(type(m).__name__, "?") for m in model.modules()
            if type(m).__name__ in ACTIVATION_NAMES or isinstance(m, (nn.LeakyReLU, nn.ELU, nn.SiLU, nn.Softplus))}
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if len(acts) != 1 or "?" in acts or not linears:
        return None
    s_w2 = [float(m.weight.detach().double().var(unbiased=False) + m.weight.detach().double().mean() ** 2)
            * m.in_features for m in linears]
    biases = [m.bias.detach().double() for m in linears if m.bias is not None]
    s_b2 = float(np.mean([float((b ** 2).mean()) for b in biases])) if biases else 0.0
    return {"activation": acts.pop(), "sigma_w2": s_w2, "fans": [[m.in_features, m.out_features] for m in linears],
            "sigma_b2": s_b2}


class TorchRunner(ScalingRunner):
    """The torch :class:`~invariants.frameworks.runner.ScalingRunner`: ``nn.Module`` models, forward hooks,
    ``torch.optim`` optimizers, the ``meta`` device for the cost estimate."""

    name = "torch"

    def owns(self, obj: Any) -> bool:
        return isinstance(obj, nn.Module)

    def shape_scope(self) -> Any:
        return torch.device("meta")

    def size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> tuple[int, int] | None:
        return meta_size(build, n)

    def built_size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> int:
        return parameter_count(build(n)[0])

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        # one thread: the models of a scale check are small and many; torch's intra-op threads spin against each
        # other on a shared machine (a 20x slowdown measured on 2 loaded cores); restored after the run
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    def seed(self, seed: int) -> None:
        seed_generators(seed)  # CPU and initialised CUDA only: nothing queued for a later CUDA start

    def prepare(self, obj: Any, x: Any, batch: int, seed: int) -> tuple[Any, Any]:
        return obj, synthetic_input(obj, batch, seed)[0] if x is None else x

    def record(self, model: Any, x: Any, steps: list[int], optimizer: str, lr: float,
               seed: int) -> dict[Key, float]:
        return record(model, x, steps, optimizer, lr, seed)

    def roles(self, model: Any) -> tuple[list[str], dict[str, str]]:
        hooked, skipped = roles(model)
        return list(hooked), skipped

    def fans(self, model: Any) -> dict[str, tuple[int, int]]:
        return fans(model)

    def gradient_moments(self, model: Any, x: Any, seed: int) -> dict[Key, float]:
        from invariants.frameworks.torch.gradients import gradient_moments

        return gradient_moments(model, x, seed)

    def mean_field_inputs(self, model: Any) -> dict[str, Any] | None:
        return mean_field_inputs(model)


#: the runner :meth:`invariants.frameworks.torch.TorchFramework.scaling_runner` returns
RUNNER = TorchRunner()


__all__ = ["ACTIVATIONS", "NORMS", "PASS_THROUGH", "RUNNER", "TorchRunner", "WEIGHT_LAYERS", "call", "fans",
           "first_tensor", "mean_field_inputs", "meta_size", "parameter_count", "record", "roles",
           "synthetic_input", "weight_delta_apply"]
