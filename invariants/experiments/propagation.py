"""The fixed reference network of the variance-propagation evidence and its cached variance profiles.

Several variance claims (VAR-HE-01, VAR-TORCHDEFAULT-01, VAR-GAINS-01, VAR-PROP-01) and the variance
figure of :mod:`invariants.report.figures` read the same runs; :func:`reference_profile` caches them, so
a report that has just run ``verify`` does not recompute them.
"""
from __future__ import annotations

from functools import lru_cache

from invariants import propagation as prop

#: Network size of the fixed propagation experiments (the Hypothesis property draws its own).
PROP_WIDTH, PROP_DEPTH, PROP_BATCH, PROP_SEED = 256, 50, 64, 20240601
#: False-alarm rate of one profile's band check (Bonferroni over layers, directions and examples).
PROP_ALPHA = 1e-6


@lru_cache(maxsize=64)
def reference_profile(scheme, activation: str, depth: int = PROP_DEPTH, width: int = PROP_WIDTH,
                      seed: int = PROP_SEED) -> prop.VarianceProfile:
    """One reference-network variance profile (:func:`invariants.propagation.variance_profile`, batch
    :data:`PROP_BATCH`, band false-alarm rate :data:`PROP_ALPHA`); cached by its arguments."""
    return prop.variance_profile(scheme, activation, depth, width, PROP_BATCH, seed, alpha=PROP_ALPHA)


def per_layer_factors(p: prop.VarianceProfile) -> tuple[float, float]:
    """Geometric-mean per-layer factor of the measured forward and backward curves (forward: growth of
    the second moment from layer 1 to L; backward: growth from layer L down to 1)."""
    L = p.depth
    f = (p.forward_measured[-1] / p.forward_measured[0]) ** (1 / (L - 1))
    b = (p.backward_measured[0] / p.backward_measured[-1]) ** (1 / (L - 1))
    return float(f), float(b)
