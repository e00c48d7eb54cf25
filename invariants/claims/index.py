"""Which module registers which claim: claim ID → module, kept by hand and checked by a test.

``invariants verify --only ID`` and :func:`invariants.claims.registry.get` import only the modules listed
here for the IDs asked for (a full run imports them all).  tests/claims/test_registry.py checks that this
table equals what the modules register, and that selecting one claim imports no other claim module.
"""
from __future__ import annotations

import importlib
from typing import Iterable

_BIAS = "invariants.claims.bias."
_GEN = "invariants.claims.general."
_RES = "invariants.claims.residual."
_SYM = "invariants.claims.symmetry."
_VAR = "invariants.claims.variance."

#: Claim ID → the module that registers it, in ID order.
CLAIM_MODULES: dict[str, str] = {
    "BIAS-EFFECT-01": _BIAS + "effect_01",
    "BIAS-FORGET-01": _BIAS + "forget_01",
    "BIAS-INPUT-01": _BIAS + "input_01",
    "BIAS-PRIOR-01": _BIAS + "prior_01",
    "BIAS-ZERO-01": _BIAS + "zero_01",
    "DEF-LEARNABLE-01": _GEN + "def_learnable_01",
    "DEF-WEIGHT-01": _GEN + "def_weight_01",
    "INIT-SCALE-01": _GEN + "init_scale_01",
    "INIT-SGD-01": _GEN + "init_sgd_01",
    "INIT-SMALL-01": _GEN + "init_small_01",
    "NORM-SCALE-01": _GEN + "norm_scale_01",
    "RES-ZERO-01": _RES + "zero_01",
    "SYM-ARCH-01": _SYM + "arch_01",
    "SYM-BREAK-01": _SYM + "break_01",
    "SYM-CONST-01": _SYM + "const_01",
    "SYM-EQUIV-01": _SYM + "equiv_01",
    "SYM-FP-01": _SYM + "fp_01",
    "SYM-GRAD-01": _SYM + "grad_rows_01",
    "SYM-GROWTH-01": _SYM + "growth_01",
    "SYM-LEARN-01": _SYM + "learn_01",
    "SYM-LINEAR-01": _SYM + "linear_01",
    "SYM-NEVER-01": _SYM + "never_01",
    "SYM-POOR-01": _SYM + "poor_01",
    "SYM-ROWS-01": _SYM + "grad_rows_01",
    "SYM-SIGNAL-01": _SYM + "signal_01",
    "SYM-SIGNAL-02": _SYM + "signal_02",
    "SYM-UPDATE-01": _SYM + "update_01",
    "SYM-ZERO-FWD-01": _SYM + "zero_fwd_01",
    "SYM-ZERO-GRAD-01": _SYM + "zero_grad_01",
    "VAR-CRIT-01": _VAR + "crit_01",
    "VAR-FANIN-01": _VAR + "fanin_01",
    "VAR-GAINS-01": _VAR + "gains_01",
    "VAR-GLOROT-01": _VAR + "glorot_01",
    "VAR-HE-01": _VAR + "he_01",
    "VAR-ISO-01": _VAR + "iso_01",
    "VAR-ORTHO-01": _VAR + "ortho_01",
    "VAR-PROP-01": _VAR + "prop_01",
    "VAR-TORCHDEFAULT-01": _VAR + "torchdefault_01",
    "VAR-TRUNC-01": _VAR + "trunc_01",
    "VAR-WIDTHS-01": _VAR + "widths_01",
}


def load(modules: Iterable[str]) -> None:
    """Import these claim modules (each registers its claims once: Python caches modules).

    ``modules``: module names, or a mapping whose values are module names (e.g. :data:`CLAIM_MODULES`).
    """
    names = modules.values() if isinstance(modules, dict) else modules
    for name in dict.fromkeys(names):
        importlib.import_module(name)
