"""Residual-network claims (RES-*): what initializing a residual branch to zero does (Fixup, SkipInit,
ReZero, zero-γ).  Importing this package registers nothing (see :mod:`invariants.claims.index`); the
network of the evidence is :mod:`invariants.experiments.residual`.
"""
