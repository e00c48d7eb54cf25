"""The claim registry and the claims, one module per claim (or per 2-3 claims that share evidence),
grouped by family in subpackages; :mod:`invariants.claims.index` maps every claim ID to its module."""
from __future__ import annotations

from invariants.claims.registry import (  # noqa: F401
    Claim,
    Evidence,
    EvidenceResult,
    Mutant,
    Reading,
    Verdict,
    all_claims,
    get,
    mutant,
    register,
    select,
)


def load_all() -> None:
    """Import every claim module once (idempotent: Python caches modules)."""
    from invariants.claims import index

    index.load(index.CLAIM_MODULES)
