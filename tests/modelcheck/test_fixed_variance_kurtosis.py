"""The fixed-std homogeneity test (:func:`invariants.modelcheck.variance.fixed_variance_p`) weighs each tensor's
``log E[w²]`` by its kurtosis (``E[w⁴]`` from the squares it already computed): it accepts tensors of one std,
rejects a 10 % std difference, and a heavy-tailed tensor's larger standard error keeps a same-variance Laplace
tensor within its band."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from invariants.modelcheck.variance import fixed_variance_p

ALPHA = 1e-6


def _unit(values: np.ndarray) -> SimpleNamespace:
    return SimpleNamespace(values=values.astype(np.float32), fans=(values.shape[1], values.shape[0]))


@pytest.mark.parametrize("ratio, passes", [(1.0, True), (1.1, False)])
def test_one_std_accepted_and_a_tenth_more_rejected(ratio: float, passes: bool) -> None:
    rng = np.random.default_rng(20261206)
    us = [_unit(0.02 * rng.standard_normal((256, 256))), _unit(0.02 * ratio * rng.standard_normal((256, 256)))]
    assert (fixed_variance_p(us) > ALPHA) is passes


def test_the_kurtosis_widens_a_heavy_tailed_tensors_band() -> None:
    rng = np.random.default_rng(7)
    normal = _unit(rng.standard_normal((128, 128)))
    laplace = _unit(rng.laplace(0.0, 1.0 / np.sqrt(2.0), (128, 128)))  # variance 1, kurtosis 6
    # same variance: accepted; the Laplace pair's p is the larger one at the same relative error of E[w²]
    assert fixed_variance_p([normal, laplace]) > ALPHA
    scaled = _unit(1.03 * np.asarray(laplace.values, dtype=np.float64))
    scaled_normal = _unit(1.03 * np.asarray(normal.values, dtype=np.float64))
    assert fixed_variance_p([laplace, scaled]) > fixed_variance_p([normal, scaled_normal])
