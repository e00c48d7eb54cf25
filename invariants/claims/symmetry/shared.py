"""Evidence shared by SYM-EQUIV-01 and its corollary SYM-CONST-01: the symbolic proof for every size.

Not a claim module (it registers nothing; :mod:`invariants.claims.index` does not list it), so that
``verify --only SYM-CONST-01`` need not import SYM-EQUIV-01's module.  The proof itself:
:mod:`invariants.symbolic.equivariance`.
"""
from __future__ import annotations

from functools import lru_cache

from invariants.claims.evidence import check
from invariants.claims.registry import EvidenceResult


def lemma_evidence(orthogonal: bool = True) -> EvidenceResult:
    """Steps (S1)–(S3) of the theorem, index-free (:func:`invariants.symbolic.equivariance.prove_lemma`);
    ``orthogonal=False`` (g a scaling) is the mutant."""
    from invariants.symbolic.equivariance import prove_lemma

    steps = prove_lemma(orthogonal)
    ok = all(s.holds for s in steps)
    return check(ok, "index-free, matrices of symbolic dimension D, undefined U: " + "; ".join(
        f"{s.what}: residual 0" for s in steps) + " ((S3) is the hypothesis (H2) applied as a rewrite: a written "
        "step, shown for completeness)",
                 "a step of the abstract proof left a residual: " + "; ".join(
                     f"{s.what}: {s.residual}" for s in steps if not s.holds))


@lru_cache(maxsize=None)
def _instance_proof(mask: bool = False):
    from invariants.symbolic.equivariance import prove_hidden_transposition

    return prove_hidden_transposition(mask=mask, fail_fast=mask)


def instance_evidence(mask: bool = False) -> EvidenceResult:
    """The MLP instance, every width/depth/batch (:func:`prove_hidden_transposition`); ``mask`` (a
    per-unit dropout mask σ does not move) is the mutant."""
    proof = _instance_proof(mask)
    counts: dict[str, int] = {}
    for i in proof.identities:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    ok = proof.holds and len(proof.identities) == 25
    return check(ok, f"units 1, 2 of a hidden layer of symbolic width n = N + 2, input width m, next width p, "
                     f"batch B, any depth (layers below through h and ∂h/∂q, above through z and ∂L/∂z), undefined "
                     f"phi, U, V, clip: {len(proof.identities)}/25 identities reduce to 0 — "
                     + ", ".join(f"{n} {k}" for k, n in counts.items())
                     + " (plain, layer-norm and batch-norm layers invariant; gradients of unit, rest-unit and "
                       "lower-layer parameters equivariant; one clipped per-coordinate step equivariant)",
                 f"{len(proof.failures())} identities failed (of {len(proof.identities)} checked): "
                 + "; ".join(i.what for i in proof.failures()[:3]))


