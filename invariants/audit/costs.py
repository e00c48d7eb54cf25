"""What an ``audit`` or ``identify`` run will cost, estimated from the request before the first draw
(:class:`invariants.core.cost.Cost`, checked by :func:`invariants.core.cost.check`).

**Values.** An audit draws :func:`~invariants.audit.auditor.draw_count` tensors per subject (the sample
size its laws need for ``rel_error`` at ``power``, within ``[min_draws, max_draws]``), plus
:data:`DETERMINISM_CALLS` replays for the seed-determinism checks; ``identify`` draws
``max(min_draws, ceil(n / size))`` tensors per layer (at most ``max_draws``) for the chi-square sample
size ``n`` of a normal law.

**Peak memory** (bytes, an upper bound).  An audit holds :func:`~invariants.audit.auditor.kept_draws`
tensors of one subject at a time: all its draws when pooled, the first ones within
``AuditConfig.max_pool_values`` when it streams (:mod:`invariants.stats.streaming`), so since streaming the
peak no longer grows with ``1/rel_error^2``.  Each pooled value costs at most :data:`BYTES_PER_POOLED_VALUE`
(the draws as returned, the pool, its float64 copy, the sorted copy and the checks' float64 temporaries),
the draw in flight :data:`BYTES_PER_DRAWN_VALUE` per value, plus :data:`BASE_BYTES`.  ``identify`` holds
every layer's pool at once (not streamed) at :data:`IDENTIFY_BYTES_PER_VALUE`.

**Seconds** (an estimate, not a bound: a deviating tensor's explanation search can re-run the checks up to
40 times).  ``fixed[framework] + drawn values * SECONDS_PER_DRAWN_VALUE[framework] + pooled values *
SECONDS_PER_POOLED_VALUE`` per subject.

How the constants were measured (``benchmarks/audit_cost.py``: He normal with an untruncated normal law on
``dense(300,100)`` in each framework, one warm-up call, then single runs; 2-core x86-64 VM shared with other
jobs at load average ~10, numpy 2, torch 2.13 CPU, JAX and Keras 3 on JAX, 2026-12-05):

- bytes: ``tracemalloc`` peak of ``audit.initializer`` (numpy allocations are traced) at ``rel_error`` 1e-2
  (1.08M values, pooled): 48-54 B per pooled value in every framework, normal and uniform laws, conforming
  and deviating; 45 B per value when streaming with a 300k-value pool.  Rounded up to 64 B, and 64 B per
  value of the draw in flight (its float64 copy and the deviations of the running sums, the framework's own
  buffer).  ``identify``: 23 B per value on the default layers (3 pools of 1.11M values, normal and uniform
  initializers), rounded up to 32 B.
- seconds per drawn value: the slope of wall time between ``rel_error`` 1e-2 (1.08M values) and 2e-3 (26.1M,
  streamed): numpy 93 ns, torch 50 ns, JAX 98 ns, Keras 56 ns at load ~10; numpy's 1e-3 run (104M values)
  took 4.8 s in all at load ~2 (about 40 ns per value).  The constants sit between the two.
- seconds per pooled value: the pooled 1e-2 run less its drawn values, 200-250 ns (sort, KS, point mass,
  extremes, structure checks).
- by law kind: torch's ``orthogonal_`` audited on ``dense(300,100)`` took 2.2 s for 180k values (12 us per
  value) and on ``conv2d(16,48,k=3)`` 5.3 s for 76k (70 us); ``sparse_`` 3.8 s for 2.1M (1.8 us); 50 us and
  2 us per pooled value.
- fixed seconds: per subject, the sampler's set-up; JAX and Keras compile it once per shape (the compile
  cache makes later runs cheaper, so 0.5 s is an upper figure).
"""
from __future__ import annotations

import math
from typing import Sequence

from invariants.audit.auditor import (
    AuditConfig,
    audit_units,
    draw_count,
    kept_draws,
    plan,
)
from invariants.audit.precision import requested_dtype
from invariants.core.cost import Cost
from invariants.frameworks.subjects import Subject, numel

#: replays of the first seed the determinism checks make per subject (same seed again, with the global RNGs
#: moved; more only when one fails, to name the culprit)
DETERMINISM_CALLS = 2
#: upper bound of the bytes one pooled value costs an audit (measured 52-54 B, module docstring)
BYTES_PER_POOLED_VALUE = 64
#: bytes per value of the draw in flight (the framework's buffer, its float64 copy for the running sums)
BYTES_PER_DRAWN_VALUE = 64
#: fixed allocations of a run beyond its values (bytes)
BASE_BYTES = 16 * 2**20
#: upper bound of the bytes one value costs ``identify`` (all pools held at once; measured 23 B)
IDENTIFY_BYTES_PER_VALUE = 32
#: seconds per drawn value, by framework (measured, module docstring); others use :data:`DEFAULT_SECONDS_PER_VALUE`
SECONDS_PER_DRAWN_VALUE = {"numpy": 60e-9, "torch": 40e-9, "jax": 70e-9, "flax": 70e-9, "keras": 50e-9}
DEFAULT_SECONDS_PER_VALUE = 100e-9
#: seconds per pooled value for the checks that read the pool (sort, KS, point mass, extremes, structure)
SECONDS_PER_POOLED_VALUE = 250e-9
#: seconds per pooled value where a law's sampling or checks cost more per value (module docstring): an
#: orthogonal draw is a QR factorization and the Haar checks read matrix products; torch's ``sparse_`` draws
#: column by column
SECONDS_PER_POOLED_VALUE_BY_KIND = {"orthogonal": 50e-6, "sparse": 2e-6}
#: fixed seconds per subject, by framework (sampler set-up, compiles)
FIXED_SECONDS = {"numpy": 0.02, "torch": 0.02, "jax": 0.5, "flax": 0.5, "keras": 0.5}
DEFAULT_FIXED_SECONDS = 0.5


def per_value_seconds(framework: str | None) -> tuple[float, float]:
    """``(fixed seconds per subject, seconds per drawn value)`` for ``framework`` (module docstring)."""
    fw = framework or ""
    return FIXED_SECONDS.get(fw, DEFAULT_FIXED_SECONDS), SECONDS_PER_DRAWN_VALUE.get(fw, DEFAULT_SECONDS_PER_VALUE)


def subject_cost(subject: Subject, cfg: AuditConfig, alpha: float, framework: str | None = None) -> Cost:
    """The cost of auditing one subject at per-check ``alpha`` (module docstring).

    Raises:
        ValueError: a subject whose expectation cannot be resolved (as :func:`~invariants.audit.auditor.audit_units`).
    """
    size = numel(subject.shape)
    if not size:
        return Cost(0, BASE_BYTES, 0.0)
    units = audit_units(subject)
    requested = requested_dtype(subject)
    n_draws = draw_count(units, cfg, alpha, requested)
    kept = kept_draws(units, size, n_draws, cfg, requested)
    drawn = (n_draws + (DETERMINISM_CALLS if cfg.determinism else 0)) * size
    fixed, per_value = per_value_seconds(framework)
    peak = BASE_BYTES + BYTES_PER_POOLED_VALUE * kept * size + BYTES_PER_DRAWN_VALUE * size
    per_pooled = max(SECONDS_PER_POOLED_VALUE_BY_KIND.get(law.kind, SECONDS_PER_POOLED_VALUE)
                     for u in units for law in (u.expected, u.documented) if law is not None)
    return Cost(drawn, peak, fixed + drawn * per_value + kept * size * per_pooled)


def audit_cost(subjects: Sequence[Subject], cfg: AuditConfig, framework: str | None = None) -> Cost:
    """The cost of :func:`~invariants.audit.auditor.audit_subjects` on ``subjects``: values and seconds add
    over the subjects, which run one after the other, and the peak is the largest subject's.

    Raises:
        BadInput: a tensor larger than ``cfg.max_elements`` (as :func:`~invariants.audit.auditor.plan`).
    """
    alpha, _ = plan(subjects, cfg)
    total = Cost(0, BASE_BYTES, 0.0)
    for s in subjects:
        total = total + subject_cost(s, cfg, alpha, framework)
    return total


def identify_cost(shapes: Sequence[Sequence[int]], n_target: int, cfg: AuditConfig,
                  framework: str | None = None) -> Cost:
    """The cost of fingerprinting on tensors of ``shapes`` with ``n_target`` values per layer
    (:func:`invariants.audit.fingerprint.identify`, which pools every layer at once)."""
    fixed, per_value = per_value_seconds(framework)
    values = 0
    for shape in shapes:
        size = max(math.prod(int(s) for s in shape), 1)
        values += min(max(cfg.min_draws, math.ceil(n_target / size)), cfg.max_draws) * size
    seconds = len(shapes) * fixed + values * (per_value + SECONDS_PER_POOLED_VALUE)
    return Cost(values, BASE_BYTES + IDENTIFY_BYTES_PER_VALUE * values, seconds)


#: how to ask an audit or identify for less when a limit refuses it (:class:`invariants.core.cost.ResourceLimit`):
#: ``(Python API, command line)``; the values pooled grow as 1/rel_error^2, capped by the draws per tensor
AUDIT_LESS = ("a coarser AuditConfig(rel_error=...) or a smaller max_draws",
              "a coarser --rel-error (e.g. 0.05) or a smaller --max-draws")

__all__ = ["AUDIT_LESS", "BASE_BYTES", "BYTES_PER_DRAWN_VALUE", "BYTES_PER_POOLED_VALUE", "DETERMINISM_CALLS",
           "FIXED_SECONDS", "IDENTIFY_BYTES_PER_VALUE", "SECONDS_PER_DRAWN_VALUE", "SECONDS_PER_POOLED_VALUE",
           "SECONDS_PER_POOLED_VALUE_BY_KIND",
           "audit_cost", "identify_cost", "per_value_seconds", "subject_cost"]
