"""The smallest detectable error a bounded law's extremes checks state holds at the values' precision.

The support test flags a value only beyond the bounds' rounding tolerance (4 ulps, ``bound_tolerance``), and
the extremes test reads the maximum moved out by it: in bfloat16 that tolerance is ~3% of the bound, so a
law rescaled by less passes both surely.  A stated detectable error below that would be a silent claim of
power the checks do not have (found by a new user: check-model said "detects 0.092%" on bfloat16 layers
whose +0.8% variance error it passed)."""
from __future__ import annotations

import math

import ml_dtypes
import numpy as np

from invariants.laws import Law
from invariants.stats.battery import LAW, battery
from invariants.stats.extremes import (bound_slack, bounded_scale_min_detectable_rel_error, extremes_test,
                                       support_test)

N, ALPHA, POWER = 65_536, 1e-6, 0.99
BOUND = 1 / 16  # torch's default Linear(256, 256) weight bound 1/sqrt(fan_in)


def _extremes_detectable(law: Law, bits: int) -> float | None:
    check = next(c for c in battery(law, groups=(LAW,)) if c.name == "extremes")
    return check.min_detectable_rel_error(law, N, ALPHA, POWER, (256, 256), bits)


def test_a_rescaling_below_the_bfloat16_tolerance_passes_and_the_stated_error_says_so():
    law = Law.uniform(-BOUND, BOUND)
    scale = 1.004  # +0.8% variance
    rng = np.random.default_rng(0)
    x = rng.uniform(-scale * BOUND, scale * BOUND, N).astype(ml_dtypes.bfloat16).astype(np.float32)
    # the checks cannot see it: every value within the tolerance, the maximum near the bound
    assert support_test(x, -BOUND, BOUND, ALPHA, bits=7).passed
    assert extremes_test(x, law.dist(), -BOUND, BOUND, ALPHA, bits=7).passed
    # known-bad: the textbook figure (exact values, no tolerance) claims to detect it
    textbook = max(bounded_scale_min_detectable_rel_error(N, law.dist(), -BOUND, BOUND, ALPHA, POWER))
    assert textbook < scale ** 2 - 1
    # the stated figure at bfloat16's 7 bits does not
    assert _extremes_detectable(law, 7) > scale ** 2 - 1


def test_the_stated_error_is_met_just_beyond_it_in_bfloat16_and_unchanged_in_float32():
    law = Law.uniform(-BOUND, BOUND)
    stated = _extremes_detectable(law, 7)
    scale = math.sqrt(1 + stated) * 1.002  # a rescaling just beyond the stated (upward) error
    rng = np.random.default_rng(1)
    x = rng.uniform(-scale * BOUND, scale * BOUND, N).astype(ml_dtypes.bfloat16).astype(np.float32)
    assert not support_test(x, -BOUND, BOUND, ALPHA, bits=7).passed
    # known-good: at float32 the slack is ~5e-7 of the bound and the figure is the textbook one
    assert bound_slack(-BOUND, BOUND, 23) < 1e-6 * BOUND
    textbook = max(bounded_scale_min_detectable_rel_error(N, law.dist(), -BOUND, BOUND, ALPHA, POWER))
    assert math.isclose(_extremes_detectable(law, 23), textbook, rel_tol=1e-2)  # the slack against ~7e-5 of scale
