"""The resolution an audit reached when a bound stopped it short of the one asked.

An audit sizes its sample to detect a relative variance error ``rel_error`` with the asked power; a bound on
the sample (``AuditConfig.max_draws``, the most fresh draws per tensor) can stop it short, and the audit then
detects only a coarser error.  The verdict stays what the checks decided (this is not a finding), but the
result says so: a run must never look as if it checked more than it did.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: relative slack on ``achieved > asked``: the sample-size rules round up, so a met request states at most
#: ``asked``; this only absorbs floating-point noise in the two computations
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Resolution:
    """A requested resolution that was not reached.

    Attributes:
        asked: the relative variance error requested (``AuditConfig.rel_error``), a fraction (0.01 = 1%).
        achieved: the smallest relative variance error the run's checks detect with the asked power, a fraction.
        limited_by: the bound that stopped it, with its value, e.g. ``"max_draws (20000)"``.
        raise_with: what reaches ``asked``, imperative, e.g. ``"raise AuditConfig.max_draws (--max-draws N)"``.
    """

    asked: float
    achieved: float
    limited_by: str
    raise_with: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON: ``{"asked", "achieved", "limited_by", "raise_with"}`` (schema ``common.json#/$defs/resolution``)."""
        return {"asked": self.asked, "achieved": self.achieved, "limited_by": self.limited_by,
                "raise_with": self.raise_with}

    def sentence(self, power: float | None = None) -> str:
        """One sentence for a result's message; ``power``: the power the figures are stated at, said so (the
        achieved error is what is detected with that power: larger ones are detected too, smaller ones may be)."""
        at = (f" with power {power:g} (larger errors are detected too, smaller ones may be)"
              if power is not None else "")
        return (f"Coarser than asked: detects a {100 * self.achieved:.2g}% relative variance error, not the "
                f"{100 * self.asked:.2g}% requested,{at + ',' if at else ''} limited by {self.limited_by}"
                + (f"; to reach it, {self.raise_with}" if self.raise_with else "") + ".")


def coarser(asked: float, achieved: float | None, limited_by: str, raise_with: str = "") -> Resolution | None:
    """A :class:`Resolution` when ``achieved`` is coarser than ``asked`` (both relative variance errors, as
    fractions), else ``None`` (the request was met, or the checks state no variance resolution)."""
    if achieved is None or not achieved > asked * (1 + TOLERANCE):
        return None
    return Resolution(float(asked), float(achieved), limited_by, raise_with)


def coverage_line(limited: list[tuple[str, Resolution]], total: int, what: str = "tensors") -> str:
    """The terminal summary line: ``"k of N tensors audited at a coarser resolution than asked: ..."``
    naming each (up to 3) with its achieved error, and the bound and how to raise it; ``""`` when none."""
    if not limited:
        return ""
    names = ", ".join(f"{name} ({100 * r.achieved:.2g}%)" for name, r in limited[:3])
    more = f" and {len(limited) - 3} more" if len(limited) > 3 else ""
    bounds = sorted({r.limited_by for _, r in limited})
    hints = sorted({r.raise_with for _, r in limited if r.raise_with})
    return (f"{len(limited)} of {total} {what} audited at a coarser resolution than asked "
            f"({100 * limited[0][1].asked:.2g}%): {names}{more}; limited by {', '.join(bounds)}"
            + (f"; to reach it, {' or '.join(hints)}" if hints else ""))


__all__ = ["TOLERANCE", "Resolution", "coarser", "coverage_line"]
