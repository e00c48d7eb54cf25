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
#: all-zero (padding) rows a table may hold, as a share of its rows
MAX_PADDING_SHARE = 0.1


def sinusoid_table(v: np.ndarray) -> bool:
    """Whether ``v`` (``(positions, channels)``) is a table of sinusoids of the position: every column obeys
    ``x[p+1] + x[p-1] = 2cos(ω)·x[p]`` (least squares, largest residual at most :data:`SINUSOID_TOL` of the
    column's amplitude) and at least one column turns (``|2cos ω| < 1.9``: a table of constant or linear columns
    also obeys the recurrence with ``c = 2``).  A random draw fails the recurrence in every column.

    All-zero rows (at most :data:`MAX_PADDING_SHARE` of them) are padding rows that break the recurrence, not
    part of it: fairseq's table zeroes its padding position (transformers ``fsmt/modeling_fsmt.py``
    ``SinusoidalPositionalEmbedding.get_embedding``: ``emb[padding_idx, :] = 0``).  The recurrence is then read on
    every stretch of rows between them long enough (:data:`MIN_POSITIONS`), with the same ``c`` per column."""
    if v.ndim != 2 or v.shape[0] < MIN_POSITIONS or v.dtype.kind != "f":
        return False
    x = v.astype(np.float64)
    zero = np.flatnonzero(~np.any(x != 0, axis=1))
    if zero.size > MAX_PADDING_SHARE * x.shape[0]:
        return False
    bounds = np.concatenate(([-1], zero, [x.shape[0]]))
    stretches = [x[lo + 1:hi] for lo, hi in zip(bounds[:-1], bounds[1:]) if hi - lo - 1 >= MIN_POSITIONS]
    if not stretches:
        return False
    a = np.concatenate([t[1:-1] for t in stretches])
    s = np.concatenate([t[2:] + t[:-2] for t in stretches])
    aa = (a * a).sum(axis=0)
    c = np.divide((a * s).sum(axis=0), aa, out=np.zeros_like(aa), where=aa > 0)
    amp = np.maximum(np.abs(x).max(axis=0), np.finfo(np.float64).tiny)
    if np.any(np.abs(s - c * a).max(axis=0) > SINUSOID_TOL * amp):
        return False
    return bool(np.any(np.abs(c) < 1.9))


__all__ = ["MAX_PADDING_SHARE", "MIN_POSITIONS", "SINUSOID_TOL", "sinusoid_table"]
