"""Keras normalization layers: recognised by what they hold, and run to see what an all-zero scale does.

Recognition.  Keras' own norms are ``*Normalization`` classes (``LayerNormalization``, ``BatchNormalization``,
``GroupNormalization``, ``RMSNormalization``); libraries write their own under other names: keras-hub's
``LlamaLayerNorm`` (``keras_hub/src/models/llama/llama_layernorm.py``: one ``scale`` of shape ``(dim,)``, call
``x·rsqrt(mean(x²) + ε)·scale``), used by Llama and Mistral.  :func:`is_norm` takes a class named ``*Norm*``
whose trainable weights are all 1-D and named as a norm's (``scale``/``gamma``, ``beta``/``bias``/``offset``).

Behaviour.  A norm computing ``γ·x̂ + β`` outputs its shift alone when ``γ = 0``; keras-hub Gemma's
``RMSNormalization.call`` (``keras_hub/src/models/gemma/rms_normalization.py``) computes
``normed_inputs * (1 + scale)`` with ``scale`` initialized to zeros, the identity.  Both store zeros, so
:func:`zero_scale_passes` runs the layer on a batch of distinct random rows: the first gives identical rows,
the second does not.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from invariants.frameworks.keras import choose_backend  # noqa: E402

choose_backend()  # before keras is imported: Keras' default backend (tensorflow) is not installed here

import keras  # noqa: E402

from invariants.frameworks.model import INPUT_ROUNDING_ULPS, varies  # noqa: E402

#: a norm's weight names, by role (Keras ``gamma``/``beta``, keras-hub and Keras ``RMSNormalization`` ``scale``,
#: keras-hub ``T5LayerNorm`` ``weight`` (``keras_hub/src/models/t5/t5_layer_norm.py``); ``offset``/``bias`` as shift)
SCALE_NAMES = ("gamma", "scale", "weight")
SHIFT_NAMES = ("beta", "bias", "offset")
#: rows of the random batch the norm is run on
ROWS = 4


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def is_norm(layer: Any) -> bool:
    """Whether ``layer`` is a normalization layer: a Keras ``*Normalization`` class (not the preprocessing
    ``Normalization``, which holds no trainable weight), or a class named ``*Norm*`` whose trainable weights
    (at least one) are all 1-D and named as a norm's (:data:`SCALE_NAMES`, :data:`SHIFT_NAMES`)."""
    name = type(layer).__name__
    if "Normalization" in name:
        return name != "Normalization"  # the preprocessing layer: a fixed mean and variance, no norm's weights
    if "Norm" not in name:
        return False
    ws = list(getattr(layer, "trainable_weights", None) or [])
    return bool(ws) and all(len(w.shape) == 1 and _short(w.path) in SCALE_NAMES + SHIFT_NAMES for w in ws)


def norm_role(var_name: str) -> str:
    """``norm_scale``, ``norm_shift`` or ``other`` for a norm layer's variable named ``var_name``."""
    return "norm_scale" if var_name in SCALE_NAMES else "norm_shift" if var_name in SHIFT_NAMES else "other"


def zero_scale_passes(layer: Any, shape: tuple[int, ...]) -> bool | None:
    """Whether norm ``layer`` (its scale of ``shape`` all zero) still passes its normalized signal: ``False`` when
    every row of its output on a random batch is the same (``γ·x̂ + β``: the output is its shift), ``True`` when
    the rows differ (``x̂·(1 + γ)``), ``None`` when the layer accepted none of the input shapes
    ``(4, *shape)``, ``(4, 2, *shape)``, ``(4, 2, 2, *shape)``, ``(4, 2, 2, 2, *shape)`` (features on the last
    axis, Keras' default; the last one a norm after a ``Conv3D``).

    The layer is called in inference mode (``training=False``: a batch norm reads its moving statistics and
    updates nothing), on ``N(0, 1)`` rows from a fixed numpy generator (no global RNG is drawn)."""
    rng = np.random.default_rng(0)
    for extra in ((), (2,), (2, 2), (2, 2, 2)):
        x = rng.standard_normal((ROWS, *extra, *shape)).astype("float32")
        try:  # Keras' Layer.__call__ drops ``training`` for a call() without it (keras-hub's RMS norms)
            y = layer(x, training=False)
        except Exception:  # this rank is not the layer's: try the next
            continue
        a = np.asarray(keras.ops.convert_to_numpy(y), dtype=np.float64)
        if a.shape[:1] != (ROWS,):
            return None
        return varies(a, INPUT_ROUNDING_ULPS)
    return None


__all__ = ["ROWS", "SCALE_NAMES", "SHIFT_NAMES", "is_norm", "norm_role", "zero_scale_passes"]
