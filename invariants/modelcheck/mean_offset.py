"""A weight or embedding drawn around a nonzero mean, said for what it is.

Every named scheme (:mod:`invariants.modelcheck.schemes`) draws around 0, so a tensor whose values share a
mean ``μ`` far from 0 matches none of them, and the variance note would read its second moment
``E[w²] = μ² + σ²`` as if it were a variance: keras-hub T5's token embedding (``keras_hub/src/models/t5/
t5_backbone.py``, ``T5Backbone.__init__``: ``embeddings_initializer=keras.initializers.TruncatedNormal(1.0)``;
Keras' initializers take ``mean`` first, ``keras/src/initializers/random_initializers.py``
``TruncatedNormal(mean=0.0, stddev=0.05, seed=None)``) draws mean 1, std 0.05 · 0.88: ``E[w²]·fan_in`` of 256
on a 256-token table, "closest: normal(std=1), ratio 1", though its variance is 0.0019.

The test is Student's t-test of the mean against the schemes' 0 with the tensor's own std (:func:`mean_t_test`,
exact at every n for normal values), at the variance family's per-check α (one more check per tensor in the
model's budget, :func:`invariants.modelcheck.variance.model_budget`) and the profile's power, whose detail states
the smallest shift detected; run on tensors that already matched no scheme.  Severity from what the mean does: every row (a token's vector, a unit's incoming weights) is
``μ·1 + ε`` with ``ε`` of std ``σ``, so two rows have expected cosine ``μ²/(μ² + σ²)`` whatever the width; at
``|μ| ≥ COLLINEAR_STDS·σ`` that is ≥ 0.990: the rows start nearly collinear (the tokens or units all but
indistinguishable), which breaks training: an error.  A smaller significant mean is a note.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from invariants.layers import Embedding
from invariants.modelcheck.report import ERROR, NOTE, Finding
from invariants.stats.checks import CheckResult, decide, z_quantiles

#: ``|μ|/σ`` from which the rows' expected pairwise cosine ``μ²/(μ² + σ²)`` is ≥ 0.990 (nearly collinear): an error
COLLINEAR_STDS = 10.0
#: rows whose pairwise cosines are measured for the message (the first ones, in order)
MAX_ROWS = 64


def expected_cosine(mean: float, std: float) -> float:
    """``μ²/(μ² + σ²)``: the expected cosine of two long rows of iid entries with mean ``μ`` and std ``σ``."""
    return mean * mean / (mean * mean + std * std)


def _rows(u: Any) -> np.ndarray | None:
    """The first :data:`MAX_ROWS` rows of ``u``'s tensor (an embedding's token vectors, axis 0; a weight's units'
    incoming weights, the layout's unit axis), in float64; ``None`` where they cannot be read: a tensor larger
    than the profile's ``max_values`` reaches the checks as a strided flat sample (``variance.units``), so an
    embedding's rows are read from the tensor itself and a weight's are not read."""
    v = u.values
    if v.ndim < 2:
        value = u.param.value
        if not (isinstance(u.layer, Embedding) and u.label == u.param.name and value.ndim == 2):
            return None
        v = value[:MAX_ROWS]
    v = np.asarray(v, dtype=np.float64)
    try:
        rows = v.reshape(v.shape[0], -1) if isinstance(u.layer, Embedding) else u.param.layout.out_matrix(v)
    except ValueError:
        return None
    return rows[:MAX_ROWS]


def min_row_cosine(u: Any) -> float | None:
    """The smallest pairwise cosine among the first :data:`MAX_ROWS` rows of ``u``'s tensor (:func:`_rows`);
    ``None`` for fewer than 2 rows, a zero row, or rows that cannot be read."""
    return _min_cosine(_rows(u))


def _min_cosine(rows: np.ndarray | None) -> float | None:
    if rows is None:
        return None
    norms = np.linalg.norm(rows, axis=1)
    if rows.shape[0] < 2 or not np.all(norms > 0):
        return None
    r = rows / norms[:, None]
    c = r @ r.T
    return float(c[np.triu_indices(rows.shape[0], 1)].min())


def mean_t_test(mean: float, variance: float, n: int, alpha: float, power: float) -> CheckResult:
    """Student's t-test of ``E w = 0`` from the sample mean and the (biased, ``ddof = 0``) sample variance of ``n``
    values: ``t = mean·√n / s`` with ``s² = variance·n/(n−1)``, two-sided p from ``t_{n−1}``, exact for normal
    values at every ``n`` (the battery's z-test, :func:`invariants.stats.moments.mean_test_from_mean`, takes a
    known std: with the sample's own it is anti-conservative at small ``n``, 0.086 instead of 1e-4 at n = 3).
    The detail gives the smallest shift detected with ``power`` (normal approximation, large ``n``).

    Raises:
        ValueError: ``n < 2`` or ``variance <= 0``.
    """
    if n < 2 or not variance > 0:
        raise ValueError(f"the t-test needs n >= 2 and a positive variance, got n = {n}, variance = {variance}")
    s = math.sqrt(variance * n / (n - 1))
    t = mean * math.sqrt(n) / s
    p = float(min(1.0, 2.0 * stats.t.sf(abs(t), n - 1)))
    za, zp = z_quantiles(alpha, power)
    detail = (f"mean {mean:.6g} vs 0 (t = {t:.3g}, {n - 1} degrees of freedom); detects a shift of "
              f"{(za + zp) / math.sqrt(n):.3g} std with power {power:g}")
    return decide("mean", t, p, alpha, detail)


def nonzero_mean(u: Any, row: Any, scheme_mean: float, alpha: float, power: float) -> Finding | None:
    """The ``nonzero-mean`` finding of unit ``u`` (its table ``row``: mean, variance, fans, n) when the schemes it
    is read against have mean ``scheme_mean == 0`` and its mean is significantly away from 0 (the mean check at
    ``alpha`` with ``power``); ``None`` otherwise (and for a scheme with a nonzero mean, or a zero variance)."""
    if scheme_mean != 0 or not row.variance > 0 or row.n < 2:
        return None
    std = math.sqrt(row.variance)
    res = mean_t_test(row.mean, row.variance, row.n, alpha, power)
    if res.passed:
        return None
    ratio = abs(row.mean) / std
    cos = expected_cosine(row.mean, std)
    rows = _rows(u)
    measured = _min_cosine(rows)
    # the collinearity argument needs two rows: a one-unit weight (a 64 -> 1 head) has none to compare
    several = rows.shape[0] >= 2 if rows is not None else not row.fans or row.fans[1] >= 2
    fan_in = row.fans[0] if row.fans else None
    word = "token vectors" if isinstance(u.layer, Embedding) else "units' incoming weight vectors"
    seen = f"; the first {MAX_ROWS} {word} measured: smallest pairwise cosine {measured:.4g}" \
        if measured is not None else ""
    fans = "" if fan_in is None else (f" Var*fan_in = {row.variance * fan_in:.4g}; E[w^2]*fan_in = "
                                      f"{(row.variance + row.mean ** 2) * fan_in:.4g}"
                                      + (", which the mean dominates." if row.mean ** 2 > row.variance else "."))
    severe = ratio >= COLLINEAR_STDS and several
    text = (f"{u.label} ({row.layer}, fans {row.fans}) is drawn around mean {row.mean:.4g} with std {std:.4g} "
            f"(|mean| = {ratio:.3g} std; {res.detail}), where every named scheme draws around 0.{fans} Every pair of "
            f"its {word} shares the mean: expected cosine mean^2/(mean^2 + std^2) = {cos:.4g}{seen}. "
            + (f"At |mean| >= {COLLINEAR_STDS:g} std the rows start nearly collinear, all but indistinguishable "
               "(a mean given where a std was meant? keras.initializers.TruncatedNormal(1.0) is mean 1, std 0.05)."
               if severe else "The shared offset is not a scheme's; check the initializer's arguments."))
    return Finding(ERROR if severe else NOTE, "nonzero-mean", (u.label,), text,
                   {"mean": row.mean, "std": std, "mean_over_std": ratio, "t": res.statistic, "p_value": res.p_value,
                    "expected_row_cosine": cos, "min_row_cosine": measured, "n": row.n,
                    "fans": list(row.fans) if row.fans else None})


__all__ = ["COLLINEAR_STDS", "MAX_ROWS", "expected_cosine", "mean_t_test", "min_row_cosine", "nonzero_mean"]
