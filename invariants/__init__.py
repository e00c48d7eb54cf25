"""invariants: executable verification of claims about neural-network weight initialization.

Subpackages (imported on demand; importing :mod:`invariants` itself loads none of them):

- ``invariants.claims``: the claim registry (ID, seed quotes, statement, conditions, verdict,
  evidence) and one module per claim family.
- ``invariants.symbolic``: SymPy derivations used as proofs.
- ``invariants.reference``: the numpy reference network (layers, activations, losses, optimizers).
- ``invariants.stats``: statistical tests with stated alpha and power.
- ``invariants.audit``: auditing initializers of real frameworks against specs.
- ``invariants.report``: plain-text tables and progress output for ``invariants verify``.

``invariants.verify`` runs claims' evidence; ``invariants.cli`` is the command line
(``invariants verify`` or ``python -m invariants verify``).
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
