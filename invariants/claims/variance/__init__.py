"""Variance claims, one module per claim: the variance-scaling rules (Glorot, LeCun, He, PyTorch's
default, truncated normals, orthogonal, activation gains) and what they do to the signal through depth.
:mod:`~invariants.claims.variance.shared` holds the seed sentences two claims quote and the literature
check of the SymPy derivations; the fixed propagation runs live in :mod:`invariants.experiments.propagation`.
Importing this package registers nothing (see :mod:`invariants.claims.index`).
"""
