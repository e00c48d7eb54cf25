"""One torch backward pass of the scale check's linear loss: the gradient's second moment at the first weight
layer's pre-activation (depth mode's backward quantity, :mod:`invariants.scaling.depth`; the torch runner's
:meth:`~invariants.frameworks.runner.ScalingRunner.gradient_moments`).

The loss is :func:`invariants.frameworks.torch.scaling.record`'s ``L = Σ_b ⟨f(x_b), r_b⟩ / B`` with the same ``r`` (i.i.d.
N(0, 1) of the output's shape, drawn from ``torch.Generator().manual_seed(seed)``), so the gradient arriving
at the output is ``r/B`` at every depth: ``E[(∂L/∂f)²] = 1/B²`` per coordinate.  What is recorded is
``mean((∂L/∂z_1)²)`` over the batch and the coordinates of ``z_1``, the output of the first weight layer the
forward pass calls (``Linear``, ``Conv``, ``Embedding``): the gradient after it has passed back through every
later layer, the backward counterpart of the output's second moment after the signal has passed forward
through every layer (Schoenholz et al. 2017, "Deep Information Propagation", ICLR, Sec. 4).
"""
from __future__ import annotations

from typing import Any

import torch

from invariants.frameworks.runner import GRAD, PREACT, Key
from invariants.frameworks.torch.scaling import call, first_tensor, roles


def gradient_moments(model: torch.nn.Module, x: Any, seed: int) -> dict[Key, float]:
    """``{(first weight layer's name, "grad", 0): mean((∂L/∂z_1)²)}`` after one backward pass of the linear loss,
    at initialization; ``{}`` when the first weight layer's output does not require a gradient (frozen).

    The model is left as it was but for batch norms' running statistics (one training-mode forward pass, as
    :func:`~invariants.frameworks.torch.scaling.record`'s first): the parameters' ``.grad`` are cleared and torch's
    global RNG state (used by dropout) is restored.  A non-finite moment is recorded as is (``inf``/``nan``).

    Raises:
        ValueError: a model output without a floating tensor.
    """
    hooked, _ = roles(model)
    seen: dict[str, torch.Tensor] = {}
    got: dict[Key, float] = {}

    def hook(name: str):
        def fn(m: torch.nn.Module, args: tuple, result: Any) -> None:
            y = first_tensor(result)
            if not seen and y is not None and y.requires_grad:
                seen[name] = y

                def grad_hook(g: torch.Tensor) -> None:
                    got[(name, GRAD, 0)] = float(g.detach().double().pow(2).mean())
                y.register_hook(grad_hook)
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, (m, kind) in hooked.items() if kind == PREACT]
    state = torch.get_rng_state()
    try:
        y = first_tensor(call(model, x))
        if y is None:
            raise ValueError("the model's output holds no floating tensor")
        if seen and y.requires_grad:
            gen = torch.Generator().manual_seed(int(seed))  # the same r as torchrun.record's loss
            r = torch.randn(y.shape, generator=gen, dtype=y.dtype)
            ((y * r).sum() / max(1, y.shape[0] if y.ndim else 1)).backward()
    finally:
        for h in handles:
            h.remove()
        torch.set_rng_state(state)
        for p in model.parameters():
            p.grad = None
    return got


__all__ = ["GRAD", "gradient_moments"]
