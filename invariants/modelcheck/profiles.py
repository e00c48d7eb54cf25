"""Statistical profiles: how hard the model check, ``assert_initializer`` and property tests look.

Two named profiles trade time for resolution:

=============  ==========  =======================================================================
profile        rel_error   use
=============  ==========  =======================================================================
``fast``       5%          every commit: the auditor pools ~50k values per layer (chi-square test
                           at alpha <= 1e-6, power 0.99); model probe of 32 inputs; 20 Hypothesis
                           examples per property
``thorough``   1%          nightly: ~1.1M values per layer, probe of 256 inputs, 200 examples
=============  ==========  =======================================================================

``rel_error`` is the relative variance error the auditor's sample size detects with probability
``power`` (:class:`invariants.audit.auditor.AuditConfig`).  A single model tensor cannot be resampled,
so the model check states, per tensor, the error its ``numel`` values can detect instead.

The *current* profile is, in order: the one set by :func:`use_profile` (the pytest plugin's
``--invariants-profile`` option sets it), else ``$INVARIANTS_PROFILE``, else ``fast``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

from invariants.core.errors import UsageError


@dataclass(frozen=True)
class Profile:
    """Sampling and testing parameters shared by the model check, the assertions and the plugin.

    Attributes:
        name: ``fast`` or ``thorough`` (or a custom name).
        rel_error: relative variance error the auditor must detect (``assert_initializer``).
        power: probability of detecting it.
        total_alpha: family-wise false-alarm bound of one audit or one model check.
        probe_batch: inputs in the model check's probe batch (signal propagation, gradients).
        hypothesis_examples: ``max_examples`` of :meth:`hypothesis_settings`.
        note_ratio, error_ratio: signal-propagation thresholds: a change of the per-layer second moment
            across the hidden stack by more than this factor (beyond the sampling band) is a note /
            an error (see :mod:`invariants.modelcheck.signal`).
        max_values: values per tensor the model check's variance tests use (a fixed stride beyond).
    """

    name: str
    rel_error: float
    power: float = 0.99
    total_alpha: float = 1e-4
    probe_batch: int = 32
    hypothesis_examples: int = 20
    note_ratio: float = 10.0
    error_ratio: float = 100.0
    max_values: int = 1 << 20

    def __post_init__(self) -> None:
        if not 0 < self.rel_error < 1:
            raise ValueError(f"rel_error must lie in (0, 1), got {self.rel_error!r}")
        if not 0 < self.total_alpha < self.power < 1:
            raise ValueError("need 0 < total_alpha < power < 1")
        if self.probe_batch < 2:
            raise ValueError(f"probe_batch must be >= 2, got {self.probe_batch!r}")
        if not 1 < self.note_ratio <= self.error_ratio:
            raise ValueError("need 1 < note_ratio <= error_ratio")

    def hypothesis_settings(self) -> Any:
        """Hypothesis settings for property tests: derandomized, no deadline, ``hypothesis_examples``."""
        from hypothesis import HealthCheck, settings

        return settings(max_examples=self.hypothesis_examples, derandomize=True, deadline=None, database=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

    def with_(self, **changes: Any) -> "Profile":
        return replace(self, **changes)


FAST = Profile("fast", rel_error=0.05, probe_batch=32, hypothesis_examples=20)
THOROUGH = Profile("thorough", rel_error=0.01, probe_batch=256, hypothesis_examples=200, max_values=1 << 22)
PROFILES: dict[str, Profile] = {p.name: p for p in (FAST, THOROUGH)}

_current: Profile | None = None


def get_profile(name: "str | Profile | None" = None) -> Profile:
    """The profile called ``name`` (a :class:`Profile` is returned as is; ``None``: :func:`current`).

    Raises:
        UsageError: unknown name (a ``ValueError`` too).
    """
    if isinstance(name, Profile):
        return name
    if name is None:
        return current()
    try:
        return PROFILES[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name (a list)
        raise UsageError(f"unknown profile {name!r}; expected one of {', '.join(PROFILES)}") from None


def current() -> Profile:
    """The active profile (see the module docstring)."""
    if _current is not None:
        return _current
    return get_profile(os.environ.get("INVARIANTS_PROFILE") or "fast")


def use_profile(profile: "str | Profile | None") -> Profile | None:
    """Make ``profile`` current (``None``: back to ``$INVARIANTS_PROFILE`` / ``fast``).

    Returns:
        the profile set before (``None`` if none was), to restore later with ``use_profile(previous)``.
    """
    global _current
    previous = _current
    _current = None if profile is None else get_profile(profile)
    return previous


__all__ = ["FAST", "PROFILES", "THOROUGH", "Profile", "current", "get_profile", "use_profile"]
