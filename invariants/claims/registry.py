"""Claim registry: the data model for claims, their evidence and verdicts.

A claim is data (ID, seed quotes, precise statement, conditions, verdict, derivation) plus a tuple of
small evidence functions.  Each evidence function runs a symbolic proof, a Hypothesis property, a
counterexample or an experiment and returns an :class:`EvidenceResult`.  ``passed`` means *the evidence
supports the registered verdict* (for a refuted claim: the counterexample really refutes it).

Claim modules (``invariants/claims/<family>/<claim>.py``) build their claims and call :func:`register`;
:mod:`invariants.claims.index` says which module registers which ID, so that :func:`select` imports
only the modules of the claims asked for.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional, Sequence

EvidenceKind = Literal["symbolic", "property", "counterexample", "experiment"]
EVIDENCE_KINDS: tuple[str, ...] = ("symbolic", "property", "counterexample", "experiment")


class Verdict(str, enum.Enum):
    """Verdict vocabulary.  A verdict applies to the claim's precise ``statement`` (with its ``scope`` and
    ``conditions``), never to a looser paraphrase; a seed sentence with several reasonable readings gets
    one verdict per reading (:class:`Reading`).

    - ``proved``: a symbolic proof valid for *every* size the statement names (symbolic dimensions,
      index-free matrix calculus, induction over layers, a generic permutation, or a written proof
      whose every step SymPy checks on generic symbols), backed by exact checks.  SymPy at fixed small
      sizes is evidence, not a proof for all sizes: such a claim is ``verified`` and names its sizes.
    - ``verified``: established by properties, experiments or audits (a fact about a framework's code
      is verified by auditing that code); the statement or its conditions say where (sizes,
      architectures, optimizers, training horizons).
    - ``conditional``: true under the stated conditions and false outside them, the evidence showing
      both.  A statement that is simply true within its scope is ``proved`` or ``verified``, not
      conditional.
    - ``refuted``: false as stated; the evidence includes a minimal counterexample.
    """

    PROVED = "proved"
    VERIFIED = "verified"
    CONDITIONAL = "conditional"
    REFUTED = "refuted"


@dataclass(frozen=True)
class EvidenceResult:
    """Outcome of one evidence function: whether it supports the verdict, and a one-paragraph detail."""

    passed: bool
    detail: str


@dataclass(frozen=True)
class Mutant:
    """A known-bad input for one piece of evidence (its mutation self-test).

    ``fn`` runs the same evidence on a mutated premise, network, optimizer or formula and must return an
    :class:`EvidenceResult` with ``passed=False``: evidence that still passes on its mutant could not have
    failed.  ``what`` says what was mutated, in one phrase (shown on the claim's page).
    """

    what: str
    fn: Callable[[], EvidenceResult]


def mutant(what: str, run: Callable[[], EvidenceResult]) -> Callable[[Callable], Callable]:
    """Decorator attaching a :class:`Mutant` to an evidence function (``fn.__mutant__``), so that the mutant
    sits beside the function it mutates; :class:`Evidence` picks it up.  ``run`` is called lazily (it may
    refer to the decorated function by name)."""

    def attach(fn: Callable) -> Callable:
        fn.__mutant__ = Mutant(what, run)
        return fn

    return attach


@dataclass(frozen=True)
class Evidence:
    """One piece of executable evidence.

    ``fn`` takes no argument and returns an :class:`EvidenceResult`; it must be deterministic
    (fixed seeds, derandomized Hypothesis) so that a verify run is reproducible.  ``mutant`` is its
    known-bad input (:class:`Mutant`), given here or attached to ``fn`` with :func:`mutant`.
    """

    kind: EvidenceKind
    name: str
    fn: Callable[[], EvidenceResult]
    mutant: Optional[Mutant] = None

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            raise ValueError(f"unknown evidence kind {self.kind!r}; expected one of {EVIDENCE_KINDS}")
        if self.mutant is None and isinstance(getattr(self.fn, "__mutant__", None), Mutant):
            object.__setattr__(self, "mutant", self.fn.__mutant__)


@dataclass(frozen=True)
class Reading:
    """One reasonable reading of an ambiguous seed sentence, with the verdict for that reading.

    ``reading`` states the interpretation in words; ``evidence`` names the claim's :class:`Evidence`
    entries (by ``name``) that settle it.  The claim's own ``verdict`` applies to its precise statement.
    """

    reading: str
    verdict: "Verdict"
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Claim:
    """A precisely stated claim about weight initialization.

    Attributes:
        id: stable identifier (``FAMILY-TOPIC-NN``); never reused or renamed once published.
        title: one-line summary.
        seed_quotes: exact sentences of ``shared/seed/weight-init-claims.txt`` this claim covers.
        statement: the precise statement the verdict applies to.
        conditions: the conditions under which the statement holds (or, for a conditional claim,
            where it holds and where it fails).
        verdict: see :class:`Verdict`.
        derivation: the argument (proof sketch, or why the counterexample refutes the seed's text).
        evidence: executable evidence, at least one piece.
        scope: the architecture, optimizer and size scope the statement is made for (e.g. "MLPs with
            elementwise activations; the 7 reference optimizers; every width and depth").
        readings: for a claim quoting an ambiguous sentence, each reasonable reading with its verdict
            (:class:`Reading`); empty when the sentence has one reading.
    """

    id: str
    title: str
    seed_quotes: tuple[str, ...]
    statement: str
    verdict: Verdict
    evidence: tuple[Evidence, ...]
    conditions: tuple[str, ...] = ()
    derivation: str = ""
    references: tuple[str, ...] = field(default=())
    scope: str = ""
    readings: tuple[Reading, ...] = ()

    def __post_init__(self) -> None:
        if not self.evidence:
            raise ValueError(f"claim {self.id} has no evidence")
        if not self.seed_quotes:
            raise ValueError(f"claim {self.id} quotes nothing from the seed")
        names = {e.name for e in self.evidence}
        for r in self.readings:
            missing = [n for n in r.evidence if n not in names]
            if not r.evidence or missing:
                raise ValueError(f"claim {self.id}: reading {r.reading[:40]!r} cites no evidence or unknown "
                                 f"evidence {missing}")


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add ``claim`` to the registry; IDs must be unique."""
    if claim.id in _REGISTRY:
        raise ValueError(f"duplicate claim id {claim.id}")
    _REGISTRY[claim.id] = claim
    return claim


def registered() -> tuple[str, ...]:
    """The IDs registered so far, in registration order, without importing any claim module (tests use it
    to check :mod:`invariants.claims.index` against what each module registers)."""
    return tuple(_REGISTRY)


def all_claims() -> list[Claim]:
    """Every registered claim, in ID order (imports every claim module on first use)."""
    from invariants.claims import index

    index.load(index.CLAIM_MODULES)
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def select(ids: Sequence[str] = ()) -> list[Claim]:
    """The claims with these IDs, in ID order, importing only their modules (:mod:`invariants.claims.index`).

    No IDs: every claim (:func:`all_claims`).  When an ID is not in the index (a typo, or a claim
    registered at run time by other code) this falls back to :func:`all_claims`, so that the caller can
    report the unknown ID against every known one (``invariants verify --only`` does).
    """
    from invariants.claims import index

    wanted = list(dict.fromkeys(ids))
    if not wanted or any(cid not in index.CLAIM_MODULES for cid in wanted):
        return all_claims()
    index.load(index.CLAIM_MODULES[cid] for cid in wanted)
    return [_REGISTRY[cid] for cid in sorted(wanted)]


def get(claim_id: str) -> Claim:
    """The claim with this ID (importing only its module when the index knows it); raises ``KeyError``
    naming the known IDs when absent."""
    claims = {c.id: c for c in select([claim_id])}
    if claim_id not in claims:
        raise KeyError(f"unknown claim id {claim_id!r}; known: {', '.join(sorted(claims))}")
    return claims[claim_id]
