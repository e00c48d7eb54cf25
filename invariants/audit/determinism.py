"""Seed determinism: an initializer's output is a function of the seed it is handed, and of nothing else.

Three checks per audited tensor (or packed block), run by the auditor on every subject
(:class:`~invariants.audit.auditor.AuditConfig` ``determinism=True``, the default):

``same_seed_same_tensor``
    Two calls with the same seed, and every global RNG in the same state, give bitwise-identical
    tensors.  A failure means randomness from outside the seed and the global RNGs: the clock,
    ``os.urandom``, an unseeded ``np.random.default_rng()``.
``different_seeds_differ``
    Two calls with different seeds, every global RNG in the same state, give different tensors (an
    initializer that ignores its seed, generator or key is a fault).  Run only where the expected law is
    random: the structure battery's ``identical_draws`` applicability (:mod:`invariants.stats.battery`);
    constant laws are exempt.
``generator_isolation``
    The same seed with every global RNG reseeded to another state gives the same tensor: the seed the
    sampler passes (a ``torch.Generator`` as ``generator=``, a numpy ``Generator``, a JAX key, a Keras
    ``seed=``) is the only source of randomness.  An initializer that also draws from a global RNG
    (``torch.manual_seed``'s generator, ``np.random``, Python's ``random``, Keras' global ``SeedGenerator``,
    MLX's global key: :func:`invariants.frameworks.global_rng.global_rngs`) is a fault.  On a failure
    each global RNG is then reseeded alone, to name the one the initializer draws from.

Calls: the auditor's first two draws (seeds ``s0``, ``s1``) are taken with every global RNG seeded with
:data:`PIN`; the checks add two calls, ``s0`` under :data:`PIN` again and ``s0`` under :data:`OTHER`
(plus one per global RNG on an isolation failure).  Samplers that seed a global RNG themselves (torch
layer constructors inside ``fork_rng``, MLX) pass isolation as long as the initializer draws only from
the RNG they seed.

Error rates.  ``same_seed_same_tensor`` and ``generator_isolation`` are exact: bitwise equality of two
outputs of a function that is deterministic in its seed cannot fail by chance, so their false-alarm
probability is 0 (``p_value`` is 0 or 1).  ``different_seeds_differ`` fails a correct initializer only
when two independent draws coincide in every entry, probability at most ``p_cell^N`` for ``N`` entries
(:func:`invariants.stats.structure.identical_draws_test`), reported as its p-value.  All three are counted
in the run's Bonferroni split (:func:`check_names`) like the other deterministic checks, so the
family-wise bound of the run holds as stated.  Power: every check detects its fault with probability 1
whenever the fault changes at least one entry of the tensor (for ``generator_isolation``: whenever the
values drawn from a global RNG under :data:`PIN` and :data:`OTHER` differ somewhere).
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import numpy as np

from invariants.frameworks.global_rng import GlobalRNG, all_seeded, global_rngs
from invariants.frameworks.subjects import Subject, check_array, seeding_of
from invariants.laws import Law
from invariants.stats.battery import STRUCTURE, Sample, battery
from invariants.stats.checks import CheckResult, decide

SAME_SEED = "same_seed_same_tensor"
DIFFERENT_SEEDS = "different_seeds_differ"
ISOLATION = "generator_isolation"
CHECK_NAMES = (SAME_SEED, DIFFERENT_SEEDS, ISOLATION)

#: the global RNGs' seed for the pinned calls, and the other seed for the isolation call
PIN = 20_241_205
OTHER = 977

#: draws the auditor takes with the global RNGs pinned (its first two: seeds s0 and s1)
PINNED_DRAWS = 2


def random_law(law: Law) -> bool:
    """Whether ``different_seeds_differ`` applies to ``law``: when the structure battery runs
    ``identical_draws`` on it (every law but a constant one)."""
    return any(c.name == "identical_draws" for c in battery(law, groups=(STRUCTURE,)))


def check_names(law: Law) -> tuple[str, ...]:
    """The determinism checks run on a unit whose expected law is ``law`` (for the Bonferroni count)."""
    return CHECK_NAMES if random_law(law) else (SAME_SEED, ISOLATION)


@contextlib.contextmanager
def pinned(index: int) -> Iterator[None]:
    """Context for the auditor's draw number ``index``: the first :data:`PINNED_DRAWS` draws run with
    every global RNG seeded with :data:`PIN` (restored after), the rest as they are."""
    if index >= PINNED_DRAWS:
        yield
        return
    with all_seeded(global_rngs(), PIN):
        yield


class Replays:
    """The extra calls of the determinism checks for one subject: seed ``s0`` again under :data:`PIN`
    (``again``) and under :data:`OTHER` (``moved``), and on demand under :data:`OTHER` for one global RNG
    at a time (:meth:`culprits`).

    Args:
        subject: the subject whose sampler is called.
        seed: ``s0``, the seed of the auditor's first (pinned) draw.

    Raises:
        BadInitializer: the sampler misbehaves on a replay (as on any draw).
    """

    def __init__(self, subject: Subject, seed: int) -> None:
        self.subject = subject
        self.seed = int(seed)
        self.rngs = global_rngs()
        self.again = self._call(self.rngs, PIN)
        self.moved = self._call(self.rngs, OTHER)
        self._culprits: dict[str, np.ndarray] | None = None

    def _call(self, rngs: Sequence[GlobalRNG], seed: int) -> np.ndarray:
        with all_seeded(rngs, seed):
            return check_array(self.subject.sampler(self.seed), self.subject.shape, self.subject.name)

    def culprits(self) -> dict[str, np.ndarray]:
        """Per global RNG name, seed ``s0``'s draw with that RNG alone reseeded to :data:`OTHER` (the
        others at :data:`PIN`); computed once, on the first isolation failure."""
        if self._culprits is None:
            self._culprits = {}
            for rng in self.rngs:
                others = [r for r in self.rngs if r is not rng]
                with all_seeded(others, PIN), rng.seeded(OTHER):
                    self._culprits[rng.name] = check_array(self.subject.sampler(self.seed), self.subject.shape,
                                                           self.subject.name)
        return self._culprits


def differing(a: np.ndarray, b: np.ndarray) -> int:
    """Entries whose bits differ (``-0.0`` vs ``0.0`` included); every entry if the dtypes or shapes differ."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return max(a.size, b.size)
    bits = np.dtype(f"u{a.dtype.itemsize}")
    return int(np.count_nonzero(np.ascontiguousarray(a).view(bits) != np.ascontiguousarray(b).view(bits)))


def _exact(name: str, changed: int, size: int, alpha: float, detail: str) -> CheckResult:
    return decide(name, changed, 0.0 if changed else 1.0, alpha, detail)


def same_seed_check(first: np.ndarray, again: np.ndarray, alpha: float) -> CheckResult:
    """``same_seed_same_tensor`` on the pinned draw of ``s0`` and its replay (exact; statistic = entries that
    differ)."""
    k, n = differing(first, again), int(np.size(first))
    detail = (f"{k} of {n} values differ between two calls with the same seed and the same global RNG state: "
              "the initializer draws from a source outside its seed and the global RNGs (the clock, os.urandom, "
              "an unseeded generator)") if k else f"two calls with the same seed gave the same {n} values bit for bit"
    return _exact(SAME_SEED, k, n, alpha, detail)


def different_seeds_check(law: Law, first: np.ndarray, second: np.ndarray, bits: int, alpha: float) -> CheckResult | None:
    """``different_seeds_differ`` on the pinned draws of ``s0`` and ``s1`` (the structure battery's
    ``identical_draws`` test on the pair: p-value ``p_cell^N`` when they coincide); ``None`` for a law that
    is not random (:func:`random_law`)."""
    checks = [c for c in battery(law, groups=(STRUCTURE,)) if c.name == "identical_draws"]
    if not checks:
        return None
    res = checks[0].run(law, Sample(np.empty(0), [first, second], bits), alpha)
    n = int(np.size(first))
    detail = (f"two different seeds gave the same {n} values bit for bit (global RNGs in the same state): "
              "the initializer ignores its seed" if res.statistic else
              f"two different seeds gave different tensors ({differing(first, second)} of {n} values differ)")
    return CheckResult(DIFFERENT_SEEDS, res.statistic, res.p_value, res.alpha, res.passed, detail)


def isolation_check(first: np.ndarray, replays: Replays, index: tuple[slice, ...] | None, alpha: float) -> CheckResult:
    """``generator_isolation`` on the pinned draw of ``s0`` and its replay with every global RNG moved
    (exact; statistic = entries that differ); the detail names the global RNG(s) responsible."""
    moved = replays.moved if index is None else replays.moved[index]
    k, n = differing(first, moved), int(np.size(first))
    if not k:
        return _exact(ISOLATION, 0, n, alpha, f"reseeding every global RNG left the {n} values unchanged")
    again = replays.again if index is None else replays.again[index]
    if differing(first, again):
        return _exact(ISOLATION, k, n, alpha, "not assessed: two calls with the same seed and the same global "
                      "RNG state already differ (same_seed_same_tensor), so no global RNG can be blamed")
    names = [name for name, arr in replays.culprits().items()
             if differing(first, arr if index is None else arr[index])]
    source = " and ".join(names) if names else "the global RNGs together"
    how = seeding_of(replays.subject.sampler)
    part = "part of its randomness" if k < n else "its randomness"
    cause = (f"draws {part} from {source} although the sampler passed {how}" if how and "seeded inside" not in how
             else f"draws {part} from {source}, which the sampler does not seed ({how or 'no seeding recorded'})")
    zeros = int(np.count_nonzero((np.asarray(first) == 0) != (np.asarray(moved) == 0)))
    where = (f"; at {zeros} of them one call has a zero and the other not: the positions of the zeros come "
             f"from the global RNG" if zeros and zeros == k else "")
    detail = (f"{k} of {n} values change when only the global RNGs are reseeded between two calls with the "
              f"same seed: the initializer {cause}{where}")
    return _exact(ISOLATION, k, n, alpha, detail)


def determinism_checks(law: Law, first: np.ndarray, second: np.ndarray, replays: Replays,
                       index: tuple[slice, ...] | None, bits: int, alpha: float) -> list[CheckResult]:
    """The determinism checks of one unit (:func:`check_names` ``(law)`` of them), each at ``alpha``.

    Args:
        law: the unit's expected law (decides whether ``different_seeds_differ`` applies).
        first, second: the unit's slices of the auditor's pinned draws for seeds ``s0`` and ``s1``.
        replays: the subject's replays of ``s0`` (:class:`Replays`).
        index: the unit's index in the subject's tensor (``None``: the whole tensor).
        bits: mantissa bits of the draws (for the coincidence bound).
        alpha: per-check false-alarm rate of the run.
    """
    again = replays.again if index is None else replays.again[index]
    out = [same_seed_check(first, again, alpha)]
    diff = different_seeds_check(law, first, second, bits, alpha)
    if diff is not None:
        out.append(diff)
    out.append(isolation_check(first, replays, index, alpha))
    return out


def _merged_seedings(texts: Sequence[str]) -> str:
    """Seeding descriptions with one head merged: ``"torch's global generator, seeded inside fork_rng (layer
    constructors take no generator)"`` and ``"... (the initializer takes no generator=)"`` read as one RNG
    with both reasons, not as the same clause twice."""
    heads: dict[str, list[str]] = {}
    for t in texts:
        head, _, why = t.partition(" (")
        reasons = heads.setdefault(head, [])
        if why and why.rstrip(")") not in reasons:
            reasons.append(why[:-1] if why.endswith(")") else why)
    return "; ".join(h + (f" ({'; '.join(_named_reasons(r))})" if r else "") for h, r in heads.items())


def _named_reasons(reasons: list[str]) -> list[str]:
    """``"sparse_ takes no generator="``, ``"orthogonal_ takes no generator="`` as one clause naming them all
    (``"sparse_ and orthogonal_ take no generator="``; more than 4: the first 3 and a count)."""
    out: list[str] = []
    named: dict[str, list[str]] = {}
    for r in reasons:
        who, sep, what = r.partition(" takes ")
        if sep and " " not in who:
            named.setdefault(what, []).append(who)
        else:
            out.append(r)
    for what, who in named.items():
        if len(who) == 1:
            out.append(f"{who[0]} takes {what}")
            continue
        names = who if len(who) <= 4 else who[:3] + [f"{len(who) - 3} more"]
        out.append(f"{', '.join(names[:-1])} and {names[-1]} take {what}")
    return out


def _unchecked(results: Sequence[Any], ran: Sequence[Any]) -> str:
    """Why the tensor counts differ from the report's total: ``" (the 2 skipped tensors excluded)"``, or
    ``""`` when every result was checked."""
    rest = [r for r in results if not any(r is x for x in ran)]
    if not rest:
        return ""
    skipped = all(getattr(r, "verdict", "") == "skipped" for r in rest)
    return (f" (the {len(rest)} {'skipped ' if skipped else ''}tensor{'s' if len(rest) > 1 else ''} "
            f"{'excluded' if skipped else 'not drawn for these checks'})")


def coverage_line(subjects: Sequence[Subject], checked: bool, results: Sequence[Any] = ()) -> str:
    """What a run's determinism checks covered and what they found, one paragraph for the report under its
    counts: not checked (``checked`` false: ``AuditConfig(determinism=False)``, ``--no-determinism``), or
    checked with the global RNGs reseeded between calls (:func:`invariants.frameworks.global_rng.global_rngs`),
    then which checks failed on which tensors of ``results`` (the audit's
    :class:`~invariants.audit.auditor.AuditResult` list: each with ``target`` and ``checks``), or that every
    tensor checked passed; last, the subjects whose sampler seeds a global RNG itself (MLX, whose initializers
    take no key; torch and Keras layer constructors): for them ``generator_isolation`` cannot tell that RNG
    from the seed and covers the others only.  ``""`` for a run without subjects."""
    if not subjects:
        return ""
    if not checked:
        return ("Seed determinism: not checked (determinism off): same seed -> same tensor, different seeds -> "
                "different tensors and no draws from a global RNG beside the seed were not tested.")
    inside = sorted({seeding_of(s.sampler) for s in subjects if "seeded inside" in seeding_of(s.sampler)})
    n_inside = sum("seeded inside" in seeding_of(s.sampler) for s in subjects)
    n = len(subjects)
    line = (f"Seed determinism: checked on {'the' if n == 1 else f'all {n}'} subject{'' if n == 1 else 's'} "
            "(same seed -> same tensor, different seeds -> different tensors, no draws from a global RNG beside "
            f"the seed; reseeded between calls: {', '.join(r.name for r in global_rngs())}).")
    ran = [r for r in results if any(c.name in CHECK_NAMES for c in r.checks)]
    failed: dict[str, list[str]] = {}
    for r in ran:
        for c in r.checks:
            if c.name in CHECK_NAMES and not c.passed:
                failed.setdefault(c.name, []).append(r.target)
    if failed:
        bad = sum(any(c.name in CHECK_NAMES and not c.passed for c in r.checks) for r in ran)
        line += (f" FAILED on {bad} of the {len(ran)} tensors checked{_unchecked(results, ran)}: " + "; ".join(
            f"{name} on {len(ts)} ({', '.join(ts[:3])}{f' and {len(ts) - 3} more' if len(ts) > 3 else ''})"
            for name, ts in failed.items()) + " (their findings say why); the others passed.")
    elif ran:
        line += f" All {len(ran)} tensors checked passed{_unchecked(results, ran)}."
    if n_inside:
        which = "the subject takes" if n == 1 else (f"all {n} subjects take" if n_inside == n
                                                    else f"{n_inside} of the {n} subjects take")
        line += (f" {which[0].upper() + which[1:]} no seed, so the audit seeds a global RNG itself ("
                 f"{_merged_seedings(inside)}): isolation then covers the other global RNGs only.")
    return line


def cause(checks: Sequence[CheckResult]) -> str:
    """One line naming every failed determinism check and its cause (``""`` when all pass)."""
    return "; ".join(f"{c.name}: {c.detail}" for c in checks if c.name in CHECK_NAMES and not c.passed)


__all__ = ["CHECK_NAMES", "DIFFERENT_SEEDS", "ISOLATION", "OTHER", "PIN", "PINNED_DRAWS", "SAME_SEED", "Replays",
           "cause", "check_names", "coverage_line", "determinism_checks", "different_seeds_check", "differing", "isolation_check",
           "pinned", "random_law", "same_seed_check"]
