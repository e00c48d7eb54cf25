"""The claim registry and the claim families (one module per family)."""
from __future__ import annotations

import importlib

from invariants.claims.registry import (  # noqa: F401
    Claim,
    Evidence,
    EvidenceResult,
    Verdict,
    all_claims,
    get,
    register,
)

#: Claim-family modules, each registering its claims on import.
FAMILIES: tuple[str, ...] = ("symmetry", "bias", "variance", "general")


def load_all() -> None:
    """Import every claim family once (idempotent: Python caches modules)."""
    for name in FAMILIES:
        importlib.import_module(f"invariants.claims.{name}")
