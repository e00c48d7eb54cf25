"""Symmetry claims: constant / zero initialization and interchangeable hidden units (SYM-*), one module
per claim (``const_01`` is SYM-CONST-01; ``grad_rows_01`` holds SYM-GRAD-01 and SYM-ROWS-01, which share
their properties).  Importing this package registers nothing; :mod:`invariants.claims.index` maps each
claim ID to its module.

Vocabulary (see :mod:`invariants.symmetry`): hidden unit j of layer l is the triple (incoming row
W_l[j, :], bias b_l[j], outgoing column W_{l+1}[:, j]); units with bitwise-equal triples are
*interchangeable*; a layer whose units are all interchangeable is a *single class*.  Layout and
notation follow :mod:`invariants.reference.network`: z_l = h_{l-1} W_lᵀ + b_l, h_l = φ(z_l),
δ_l = ∂L/∂z_l, ∂L/∂W_l = δ_lᵀ h_{l-1}.

The helpers the claims share (constant-init networks, data, the "every hidden layer is one class"
oracle, a training loop that checks it after every step, the XOR runs) live in
:mod:`invariants.experiments`.  Every evidence function is deterministic (fixed seeds, derandomized
Hypothesis) and checks exact claims bitwise on the reference network's exact kernel.
"""
