"""The row-wise log-sum-exp and softmax of the reference network's cross-entropy (invariants.reference.losses)
against SciPy's, bit for bit: both dtypes, ties at the maximum, ±0, ±∞, NaN, huge and rounded values; and the
mutation self-test showing the comparison can fail."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from invariants.reference import losses

SPECIALS = (np.inf, -np.inf, np.nan, 1e30, -1e30, 0.0, -0.0)


def _cases(n: int = 3000):
    for seed in range(n):
        rng = np.random.default_rng(seed)
        dtype = (np.float32, np.float64)[seed % 2]
        rows, classes = int(rng.integers(1, 70)), int(rng.integers(1, 12))
        y = (rng.normal(size=(rows, classes)) * 10.0 ** rng.integers(-3, 4)).astype(dtype)
        if seed % 5 == 0:
            y[:, 0] = y[:, -1]  # ties at the maximum
        if seed % 3 == 0:
            y[rng.integers(rows), rng.integers(classes)] = SPECIALS[seed % len(SPECIALS)]
        if seed % 11 == 0:
            y = np.round(y)
        yield y


def _same(a, b) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def test_rows_match_scipy_bit_for_bit():
    with np.errstate(all="ignore"):
        for y in _cases():
            assert _same(losses.logsumexp_rows(y), special.logsumexp(y, axis=1))
            assert _same(losses.softmax_rows(y), special.softmax(y, axis=1))


def test_comparison_rejects_the_plain_formula(monkeypatch):
    # mutation self-test: log Σ exp(y − M) + M without counting the maxima apart differs from SciPy in the
    # last bits on some rows, and the comparison says so
    def plain(y):
        top = y.max(axis=1, keepdims=True)
        return (np.log(np.sum(np.exp(y - top), axis=1, keepdims=True)) + top)[:, 0]

    monkeypatch.setattr(losses, "logsumexp_rows", plain)
    with np.errstate(all="ignore"):
        assert not all(_same(losses.logsumexp_rows(y), special.logsumexp(y, axis=1)) for y in _cases(300)
                       if np.all(np.isfinite(y)))
