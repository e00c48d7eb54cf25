"""General claims: what weights and biases are, and why initial weights are random (or need not be), one
module per claim: DEF-WEIGHT-01 (a weight is the partial derivative of a unit's pre-activation with
respect to one input), DEF-LEARNABLE-01 (weights and biases are trained), INIT-SMALL-01 (refuted:
initial weights need be neither random nor small; they must be asymmetric and scaled to the fans) and
INIT-SGD-01 (refuted: randomness breaks symmetry; SGD does not "expect" it, and its own stochasticity
never breaks symmetry).  Importing this package registers nothing (see :mod:`invariants.claims.index`).
"""
