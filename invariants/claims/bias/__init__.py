"""Bias claims, one module per claim: BIAS-ZERO-01 (verified, almost surely: random weights break
symmetry with zero biases; floating point makes "almost surely" fall short of "surely", quantified),
BIAS-EFFECT-01 (refuted: zero-initialized biases are trained and matter) and BIAS-INPUT-01
(conditional: the bias is exactly the weight on a constant-1 input, but it is not itself constant).
Importing this package registers nothing (see :mod:`invariants.claims.index`).
"""
