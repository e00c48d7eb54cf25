"""A weight or embedding drawn around a nonzero mean, said for what it is.

Every named scheme (:mod:`invariants.modelcheck.schemes`) draws around 0, so a tensor whose values share a
mean ``μ`` far from 0 matches none of them, and the variance note would read its second moment
``E[w²] = μ² + σ²`` as if it were a variance: keras-hub T5's token embedding (``keras_hub/src/models/t5/
t5_backbone.py``, ``T5Backbone.__init__``: ``embeddings_initializer=keras.initializers.TruncatedNormal(1.0)``;
Keras' initializers take ``mean`` first, ``keras/src/initializers/random_initializers.py``
``TruncatedNormal(mean=0.0, stddev=0.05, seed=None)``) draws mean 1, std 0.05 · 0.88: ``E[w²]·fan_in`` of 256
on a 256-token table, "closest: normal(std=1), ratio 1", though its variance is 0.0019.

The test is the battery's own mean check (:func:`invariants.stats.moments.mean_test_from_mean`: a two-sided
z-test of the mean against the scheme's 0 with the tensor's own std, at the variance family's per-check α and
the profile's power, whose detail states the smallest shift detected), run on tensors that already matched no
scheme.  Severity from what the mean does: every row (a token's vector, a unit's incoming weights) is
``μ·1 + ε`` with ``ε`` of std ``σ``, so two rows have expected cosine ``μ²/(μ² + σ²)`` whatever the width; at
``|μ| ≥ COLLINEAR_STDS·σ`` that is ≥ 0.990: the rows start nearly collinear (the tokens or units all but
indistinguishable), which breaks training: an error.  A smaller significant mean is a note.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from invariants.layers import Embedding
from invariants.modelcheck.report import ERROR, NOTE, Finding
from invariants.stats.moments import mean_test_from_mean

#: ``|μ|/σ`` from which the rows' expected pairwise cosine ``μ²/(μ² + σ²)`` is ≥ 0.990 (nearly collinear): an error
COLLINEAR_STDS = 10.0
#: rows whose pairwise cosines are measured for the message (the first ones, in order)
MAX_ROWS = 64


def expected_cosine(mean: float, std: float) -> float:
    """``μ²/(μ² + σ²)``: the expected cosine of two long rows of iid entries with mean ``μ`` and std ``σ``."""
    return mean * mean / (mean * mean + std * std)


def min_row_cosine(u: Any) -> float | None:
    """The smallest pairwise cosine among the first :data:`MAX_ROWS` rows of ``u``'s tensor (an embedding's
    token vectors, axis 0; a weight's units' incoming weights, the layout's unit axis); ``None`` for fewer than
    2 rows or a zero row."""
    v = np.asarray(u.values, dtype=np.float64)
    rows = v.reshape(v.shape[0], -1) if isinstance(u.layer, Embedding) else u.param.layout.out_matrix(v)
    rows = rows[:MAX_ROWS]
    norms = np.linalg.norm(rows, axis=1)
    if rows.shape[0] < 2 or not np.all(norms > 0):
        return None
    r = rows / norms[:, None]
    c = r @ r.T
    return float(c[np.triu_indices(rows.shape[0], 1)].min())


def nonzero_mean(u: Any, row: Any, scheme_mean: float, alpha: float, power: float) -> Finding | None:
    """The ``nonzero-mean`` finding of unit ``u`` (its table ``row``: mean, variance, fans, n) when the schemes it
    is read against have mean ``scheme_mean == 0`` and its mean is significantly away from 0 (the mean check at
    ``alpha`` with ``power``); ``None`` otherwise (and for a scheme with a nonzero mean, or a zero variance)."""
    if scheme_mean != 0 or not row.variance > 0 or row.n < 2:
        return None
    std = math.sqrt(row.variance)
    res = mean_test_from_mean(row.mean, row.n, 0.0, std, alpha, power)
    if res.passed:
        return None
    ratio = abs(row.mean) / std
    cos = expected_cosine(row.mean, std)
    measured = min_row_cosine(u)
    fan_in = row.fans[0] if row.fans else None
    word = "token vectors" if isinstance(u.layer, Embedding) else "units' incoming weight vectors"
    seen = f"; the first {MAX_ROWS} {word} measured: smallest pairwise cosine {measured:.4g}" \
        if measured is not None else ""
    fans = "" if fan_in is None else (f" Var*fan_in = {row.variance * fan_in:.4g}; E[w^2]*fan_in = "
                                      f"{(row.variance + row.mean ** 2) * fan_in:.4g}, which the mean dominates.")
    severe = ratio >= COLLINEAR_STDS
    text = (f"{u.label} ({row.layer}, fans {row.fans}) is drawn around mean {row.mean:.4g} with std {std:.4g} "
            f"(|mean| = {ratio:.3g} std; {res.detail}), where every named scheme draws around 0.{fans} Every pair of "
            f"its {word} shares the mean: expected cosine mean^2/(mean^2 + std^2) = {cos:.4g}{seen}. "
            + (f"At |mean| >= {COLLINEAR_STDS:g} std the rows start nearly collinear, all but indistinguishable "
               "(a mean given where a std was meant? keras.initializers.TruncatedNormal(1.0) is mean 1, std 0.05)."
               if severe else "The shared offset is not a scheme's; check the initializer's arguments."))
    return Finding(ERROR if severe else NOTE, "nonzero-mean", (u.label,), text,
                   {"mean": row.mean, "std": std, "mean_over_std": ratio, "z": res.statistic, "p_value": res.p_value,
                    "expected_row_cosine": cos, "min_row_cosine": measured, "n": row.n,
                    "fans": list(row.fans) if row.fans else None})


__all__ = ["COLLINEAR_STDS", "MAX_ROWS", "expected_cosine", "min_row_cosine", "nonzero_mean"]
