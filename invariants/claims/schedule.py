"""How ``invariants verify`` spreads the claims over worker processes: which claims run in one worker, and
which start first.  Scheduling only: the report is the same for any plan (every piece of evidence is
deterministic, and the report lists the claims in the order given).

- :data:`TOGETHER`: claims whose evidence shares work that a process keeps once done — a cached derivation,
  a cached training run, an imported framework.  In one worker that work is done once; in two workers it
  is done twice.
- :data:`SECONDS`: each claim's CPU seconds, measured in a worker process of ``invariants verify``
  (one BLAS thread); the heaviest tasks start first (longest-processing-time order), so that no worker
  is left running a long claim alone at the end.  A claim not listed counts as 0 s and keeps its place.

Both are hand-kept and checked by tests/claims/test_schedule.py (every ID is a registered claim, every claim
is timed); a stale entry costs time, never a different result.
"""
from __future__ import annotations

#: Groups of claims that run in the same worker, with what they share.
TOGETHER: tuple[tuple[str, ...], ...] = (
    # symmetry/shared.py: the SymPy proof for every width (prove_hidden_transposition, cached)
    ("SYM-CONST-01", "SYM-EQUIV-01"),
    # torch itself (about 2 CPU-seconds to import)
    ("SYM-ARCH-01", "VAR-TORCHDEFAULT-01"),
    # symbolic.variance.glorot_variance (cached) and its literature checks; VAR-HE-01's two ReLU networks
    # are among VAR-PROP-01's (experiments/propagation.reference_profile, cached: 0.19 CPU-s)
    ("VAR-GLOROT-01", "VAR-HE-01", "VAR-FANIN-01", "VAR-WIDTHS-01", "VAR-PROP-01"),
    # the XOR training runs of experiments/xor.py (cached)
    ("SYM-POOR-01", "SYM-NEVER-01", "SYM-LINEAR-01"),
    # experiments/fits.py: the offset fit and the DCT-initialized run (dct_run, 0.09 CPU-s; cached)
    ("BIAS-EFFECT-01", "BIAS-INPUT-01", "INIT-SGD-01", "INIT-SMALL-01"),
    # the cached runs of symmetry/grad_rows_01.py, the module of both claims
    ("SYM-GRAD-01", "SYM-ROWS-01"),
)

#: Claim ID → CPU seconds of its evidence alone in a fresh worker (2-core machine, load 1-6, rounded).
SECONDS: dict[str, float] = {
    "BIAS-EFFECT-01": 0.4,
    "BIAS-FORGET-01": 0.9,
    "BIAS-INPUT-01": 0.4,
    "BIAS-PRIOR-01": 0.8,
    "BIAS-ZERO-01": 1.4,
    "DEF-LEARNABLE-01": 0.3,
    "DEF-WEIGHT-01": 0.2,
    "INIT-SCALE-01": 0.3,
    "INIT-SGD-01": 0.8,
    "INIT-SMALL-01": 0.9,
    "NORM-SCALE-01": 0.8,
    "RES-ZERO-01": 0.7,
    "SYM-ARCH-01": 1.5,
    "SYM-BREAK-01": 0.8,
    "SYM-CONST-01": 2.7,
    "SYM-EQUIV-01": 1.4,
    "SYM-FP-01": 0.8,
    "SYM-GRAD-01": 0.3,
    "SYM-GROWTH-01": 1.0,
    "SYM-LEARN-01": 1.1,
    "SYM-LINEAR-01": 0.7,
    "SYM-NEVER-01": 1.2,
    "SYM-POOR-01": 1.4,
    "SYM-ROWS-01": 0.4,
    "SYM-SIGNAL-01": 0.2,
    "SYM-SIGNAL-02": 0.0,
    "SYM-UPDATE-01": 0.2,
    "SYM-ZERO-FWD-01": 0.2,
    "SYM-ZERO-GRAD-01": 1.0,
    "VAR-CRIT-01": 0.6,
    "VAR-FANIN-01": 0.5,
    "VAR-GAINS-01": 1.7,
    "VAR-GLOROT-01": 0.5,
    "VAR-HE-01": 0.8,
    "VAR-ISO-01": 0.5,
    "VAR-ORTHO-01": 0.7,
    "VAR-PROP-01": 2.2,
    "VAR-TORCHDEFAULT-01": 2.0,
    "VAR-TRUNC-01": 0.9,
    "VAR-WIDTHS-01": 0.5,
}


def plan(ids: list[str]) -> list[list[int]]:
    """The worker tasks for claims with these IDs (a list in report order): lists of positions in ``ids``,
    every position in exactly one task.  Claims of a :data:`TOGETHER` group form one task (in the order
    given); every other claim is a task of its own.  Tasks come heaviest first by :data:`SECONDS`; ties
    (unlisted claims: 0 s) keep the order of their first claim."""
    group_of = {cid: n for n, group in enumerate(TOGETHER) for cid in group}
    tasks: list[list[int]] = []
    by_group: dict[int, list[int]] = {}
    for pos, cid in enumerate(ids):
        n = group_of.get(cid)
        if n is None:
            tasks.append([pos])
        elif n in by_group:
            by_group[n].append(pos)
        else:
            by_group[n] = [pos]
            tasks.append(by_group[n])
    return sorted(tasks, key=lambda task: -sum(SECONDS.get(ids[pos], 0.0) for pos in task))


__all__ = ["SECONDS", "TOGETHER", "plan"]
