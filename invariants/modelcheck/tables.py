"""Fixed tables that are not random draws, recognised so a report says what they are.

:func:`sinusoid_table`: a position table whose every column is a sinusoid of the position,
``T[p, j] = A_j·sin(ω_j·p + φ_j)`` (Vaswani et al. 2017, Sec. 3.5; Whisper's ``sinusoids(length, channels)``
copied into ``encoder.embed_positions`` by ``transformers`` ``modeling_whisper.py``
``WhisperPreTrainedModel._init_weights``, frozen with ``requires_grad_(False)``).  Such a table matches no
variance scheme by construction; it is no init fault.
"""
from __future__ import annotations

import numpy as np

#: a column is a sinusoid when ``T[p+1] + T[p-1] = c·T[p]`` (``c = 2cos ω``) holds to this share of its amplitude
#: (float32 ``sin`` of arguments up to a few thousand radians: about 1e-4 absolute)
SINUSOID_TOL = 1e-3
#: positions needed to read the recurrence
MIN_POSITIONS = 4


def sinusoid_table(v: np.ndarray) -> bool:
    """Whether ``v`` (``(positions, channels)``) is a table of sinusoids of the position: every column obeys
    ``x[p+1] + x[p-1] = 2cos(ω)·x[p]`` (least squares, largest residual at most :data:`SINUSOID_TOL` of the
    column's amplitude) and at least one column turns (``|2cos ω| < 1.9``: a table of constant or linear columns
    also obeys the recurrence with ``c = 2``).  A random draw fails the recurrence in every column."""
    if v.ndim != 2 or v.shape[0] < MIN_POSITIONS or v.dtype.kind != "f":
        return False
    x = v.astype(np.float64)
    a, s = x[1:-1], x[2:] + x[:-2]
    aa = (a * a).sum(axis=0)
    c = np.divide((a * s).sum(axis=0), aa, out=np.zeros_like(aa), where=aa > 0)
    amp = np.maximum(np.abs(x).max(axis=0), np.finfo(np.float64).tiny)
    if np.any(np.abs(s - c * a).max(axis=0) > SINUSOID_TOL * amp):
        return False
    return bool(np.any(np.abs(c) < 1.9))


__all__ = ["MIN_POSITIONS", "SINUSOID_TOL", "sinusoid_table"]
