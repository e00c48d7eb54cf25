"""What an all-zero norm scale does, read from the norm module's own forward rather than its class name.

A norm computing ``γ·x̂ + β`` (``torch.nn.LayerNorm``/``BatchNorm``/``GroupNorm``/``RMSNorm``, transformers'
``LlamaRMSNorm``) outputs its shift alone when ``γ = 0`` (the zero-γ residual-branch practice, Goyal et al. 2017);
one computing ``x̂·(1 + γ)`` (transformers ``models/gemma/modeling_gemma.py``, ``GemmaRMSNorm.forward``:
``output * (1.0 + self.weight.float())``) is the identity there.  The two store the same zeros, so the module is
run: on a batch of distinct random rows the first gives identical rows, the second does not.
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from invariants.frameworks.model import INPUT_ROUNDING_ULPS, varies

#: rows in the batch the norm is run on (distinct ``N(0, 1)`` rows; a batch norm in eval mode, or one without
#: running statistics in train mode, needs at least 2)
ROWS = 4


def zero_scale_passes(module: Any, scale: torch.Tensor) -> bool | None:
    """Whether ``module``'s normalized signal still reaches its output with its scale ``scale`` (all zero):
    ``False`` when every row of its output on a random batch is the same (the output is its shift: ``γ·x̂ + β``),
    ``True`` when the rows differ (``x̂·(1 + γ)``), ``None`` when no input shape was accepted.

    The module is deep-copied and run in eval mode under ``no_grad`` on ``(4, *scale.shape)`` (a layer or RMS
    norm over its trailing features), else ``(4, C, 2)``, ``(4, C, 2, 2)``, ``(4, C, 2, 2, 2)`` (a batch, instance
    or group norm over channel axis 1), so the model's running statistics and mode are left as they were.
    """
    try:
        m = copy.deepcopy(module).eval()
    except Exception:  # a module that cannot be copied (an open handle): not run, not guessed
        return None
    c = int(scale.shape[0]) if scale.dim() else 1
    gen = torch.Generator().manual_seed(0)
    for shape in ((ROWS, *scale.shape), (ROWS, c, 2), (ROWS, c, 2, 2), (ROWS, c, 2, 2, 2)):
        x = torch.randn(shape, generator=gen).to(device=scale.device, dtype=scale.dtype)
        try:
            with torch.no_grad():
                y = m(x)
        except Exception:  # this rank is not the module's: try the next
            continue
        if not isinstance(y, torch.Tensor) or y.shape[:1] != x.shape[:1]:
            return None
        return varies(y.detach().float().cpu().numpy().astype(np.float64), INPUT_ROUNDING_ULPS)
    return None


__all__ = ["ROWS", "zero_scale_passes"]
