"""Factories of width-scalable MLPs for ``scale-check`` (``invariants.scaling.examples:mlp_sp`` and friends).

Each factory takes the hidden width ``n`` and returns a ``torch.nn.Module``: ``Linear(16, n)`` (input layer),
two ``Linear(n, n)`` (hidden), ``Linear(n, 64)`` (output), ``ReLU`` modules between them, no biases.  The
input layer's fan-in (16) and the output's fan-out (64) do not change with ``n``: only the hidden sizes scale,
as in μP's coordinate check.  Per-parameter learning-rate factors are in the module's ``lr_multipliers``
(a function of the optimizer's name).

- :func:`mlp_sp`: the standard parametrization, every weight ``N(0, 1/fan_in)``, one learning rate.
- :func:`mlp_mup`: μP (Yang et al. 2022, "Tensor Programs V", Table 3): output weights ``N(0, 1/fan_in²)``;
  SGD rates ×(n, 1, 1/n) and Adam rates ×(1, 1/n, 1/n) for the input, hidden and output layers.
- :func:`mlp_mup_narrow`: the same μP MLP with :data:`D_OUT_NARROW` = 2 outputs instead of 64: the width then
  dwarfs the output size already at 64..512, so the output change ``f_1 − f_0`` reaches μP's Θ(1)
  (:mod:`invariants.scaling.theory`: the cross-output term of relative size ``κ·d_out/width``).
- :func:`mlp_std002`: every weight ``normal(std=0.02)`` (GPT-2's init, width-independent): hidden
  pre-activations grow like ``√n`` in RMS per layer (second-moment slope +1 per hidden layer).
- :func:`mlp_planted`: SP with one planted fault: the second hidden layer's weights scaled by ``n`` instead of
  ``1/√n`` (``std = n`` for unit-variance entries): its gain ``Var(W)·fan_in = n³`` (slope +3).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

D_IN, D_OUT = 16, 64
#: the output size of :func:`mlp_mup_narrow`
D_OUT_NARROW = 2


def _mlp(width: int, stds: tuple[float, float, float, float],
         multipliers: Callable[[str], dict[str, float]] | None = None, d_out: int = D_OUT) -> nn.Module:
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    model = nn.Sequential(nn.Linear(D_IN, width, bias=False), nn.ReLU(), nn.Linear(width, width, bias=False),
                          nn.ReLU(), nn.Linear(width, width, bias=False), nn.ReLU(),
                          nn.Linear(width, d_out, bias=False))
    with torch.no_grad():
        for layer, std in zip((model[0], model[2], model[4], model[6]), stds):
            layer.weight.normal_(0.0, std)
    model.lr_multipliers = multipliers or (lambda optimizer: {})
    return model


def mlp_sp(width: int) -> nn.Module:
    """The SP MLP (module docstring)."""
    return _mlp(width, (1 / math.sqrt(D_IN), 1 / math.sqrt(width), 1 / math.sqrt(width), 1 / math.sqrt(width)))


def mup_multipliers(width: int) -> Callable[[str], dict[str, float]]:
    """μP's learning-rate factors for :func:`mlp_mup` (Tensor Programs V, Table 3)."""
    def of(optimizer: str) -> dict[str, float]:
        inp, hid, out = (width, 1.0, 1.0 / width) if optimizer == "sgd" else (1.0, 1.0 / width, 1.0 / width)
        return {"0.weight": inp, "2.weight": hid, "4.weight": hid, "6.weight": out}
    return of


def mlp_mup(width: int, d_out: int = D_OUT) -> nn.Module:
    """The μP MLP (module docstring), with ``d_out`` outputs."""
    return _mlp(width, (1 / math.sqrt(D_IN), 1 / math.sqrt(width), 1 / math.sqrt(width), 1 / width),
                mup_multipliers(width), d_out)


def mlp_mup_narrow(width: int) -> nn.Module:
    """:func:`mlp_mup` with :data:`D_OUT_NARROW` outputs (module docstring)."""
    return mlp_mup(width, D_OUT_NARROW)


def mlp_std002(width: int) -> nn.Module:
    """Every weight ``normal(std=0.02)`` (module docstring)."""
    return _mlp(width, (0.02, 0.02, 0.02, 0.02))


def mlp_planted(width: int) -> nn.Module:
    """SP with the second hidden layer scaled by ``width`` instead of ``1/√width`` (module docstring)."""
    return _mlp(width, (1 / math.sqrt(D_IN), 1 / math.sqrt(width), float(width), 1 / math.sqrt(width)))





#: tanh's mean-field critical point at ``σ_b² = 0.05``: ``χ_1(q*) = 1`` (:func:`invariants.propagation.fixed_point`;
#: Schoenholz et al. 2017, Fig. 1's edge of chaos)
TANH_SIGMA_B2, TANH_CRITICAL_SIGMA_W2 = 0.05, 1.761
#: tanh in the chaotic phase at ``σ_b² = 0.05``: ``χ_1 ≈ 1.34``, gradients explode by ~1.34× per layer while the
#: forward second moment settles at its fixed point ``q* ≈ 2.2``
TANH_CHAOTIC_SIGMA_W2 = 4.0


def mlp_depth(width: int, depth: int, gain2: float = 2.0, activation: str = "relu", bias2: float = 0.0) -> nn.Module:
    """Depth mode: ``depth`` hidden ``Linear(width, width)`` + activation blocks after ``Linear(16, width)`` +
    activation, then ``Linear(width, 64)``; every weight ``N(0, gain2/fan_in)`` (``gain2 = 2``: He, the ReLU
    mean-field critical value: the second moment is flat in depth), biases ``N(0, bias2)`` (none when
    ``bias2 = 0``); ``activation`` ``relu`` or ``tanh``."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"depth must be an integer >= 0, got {depth!r}")
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
    bias = bias2 > 0
    layers: list[nn.Module] = [nn.Linear(D_IN, width, bias=bias), act()]
    for _ in range(depth):
        layers += [nn.Linear(width, width, bias=bias), act()]
    layers.append(nn.Linear(width, D_OUT, bias=bias))
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, math.sqrt(gain2 / m.in_features))
                if bias:
                    m.bias.normal_(0.0, math.sqrt(bias2))
    return model


def mlp_depth_he(width: int, depth: int) -> nn.Module:
    """:func:`mlp_depth` with He init (``σ_w² = 2``): Θ(1) in depth, forward and backward (``χ_1 = 1``)."""
    return mlp_depth(width, depth, 2.0)


def mlp_depth_lecun(width: int, depth: int) -> nn.Module:
    """:func:`mlp_depth` with LeCun init (``σ_w² = 1``) under ReLU: the second moment halves per layer (slope −1
    log2 per layer, depth scale 1/ln 2 ≈ 1.44 layers), and so does the gradient (``χ_1 = 1/2``)."""
    return mlp_depth(width, depth, 1.0)


def mlp_depth_tanh_critical(width: int, depth: int) -> nn.Module:
    """:func:`mlp_depth` with tanh at its critical point (``σ_w² = 1.761``, ``σ_b² = 0.05``): ``χ_1 = 1``."""
    return mlp_depth(width, depth, TANH_CRITICAL_SIGMA_W2, "tanh", TANH_SIGMA_B2)


def mlp_depth_tanh_chaotic(width: int, depth: int) -> nn.Module:
    """:func:`mlp_depth` with tanh in the chaotic phase (``σ_w² = 4``, ``σ_b² = 0.05``): the forward second moment
    settles, the gradient explodes (``χ_1 ≈ 1.34``, ``ξ_∇ ≈ 3.4`` layers)."""
    return mlp_depth(width, depth, TANH_CHAOTIC_SIGMA_W2, "tanh", TANH_SIGMA_B2)


__all__ = ["D_IN", "D_OUT", "D_OUT_NARROW", "TANH_CHAOTIC_SIGMA_W2", "TANH_CRITICAL_SIGMA_W2", "TANH_SIGMA_B2",
           "mlp_depth", "mlp_depth_he", "mlp_depth_lecun", "mlp_depth_tanh_chaotic", "mlp_depth_tanh_critical",
           "mlp_mup", "mlp_mup_narrow", "mlp_planted", "mlp_sp", "mlp_std002", "mup_multipliers"]
