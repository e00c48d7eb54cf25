"""False-alarm budget for a run of many statistical checks (Bonferroni correction).

If each of ``m`` checks has false-alarm rate ``alpha_i``, the union bound gives
``P(any false alarm) <= sum(alpha_i)`` whatever the dependence between the checks
(Bonferroni 1936, "Teoria statistica delle classi e calcolo delle probabilità"; Dunn 1961,
*JASA* 56:52-64).  Splitting a total budget evenly, ``alpha_i = total / m``, therefore keeps the
family-wise false-alarm rate at most ``total``.  This library also caps every check at
``1e-6`` (:data:`invariants.stats.variance.DEFAULT_ALPHA`), so small runs are not looser than that.
"""
from __future__ import annotations

from invariants.stats.variance import DEFAULT_ALPHA, check_open_unit


def _check_m(m: int) -> int:
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"number of checks m must be an integer >= 1, got {m!r}")
    return m


def bonferroni(total_alpha: float, m: int) -> float:
    """Per-check false-alarm rate ``total_alpha / m`` (Bonferroni correction).

    Args:
        total_alpha: family-wise false-alarm rate to guarantee, in (0, 1).
        m: number of checks, integer >= 1.

    Returns:
        ``total_alpha / m``; running ``m`` checks at this level gives a family-wise false-alarm rate
        ``<= total_alpha`` (union bound, no independence needed).

    Raises:
        ValueError: ``total_alpha`` not in (0, 1) or ``m`` not an integer >= 1.
    """
    return check_open_unit(total_alpha, "total_alpha") / _check_m(m)


class AlphaBudget:
    """Hands out per-check false-alarm rates for a run of ``m`` checks.

    ``per_check = min(cap, bonferroni(total_alpha, m))``, so the family-wise false-alarm rate of the run
    is at most ``m * per_check <= total_alpha`` and no single check is looser than ``cap`` (1e-6;
    ``cap=None``: no cap, ``per_check = total_alpha / m``).

    Example::

        budget = AlphaBudget(total_alpha=1e-4, m=300)   # per_check = 1e-4/300 = 3.3e-7
        result = chi2_variance_test(x, v, alpha=budget.take())

    Raises:
        ValueError: (constructor) ``total_alpha`` not in (0, 1), ``m`` not an integer >= 1,
            ``cap`` neither ``None`` nor in (0, 1).
    """

    def __init__(self, total_alpha: float, m: int, cap: float | None = DEFAULT_ALPHA) -> None:
        if cap is not None:
            cap = float(cap)
            if not (0.0 < cap < 1.0):
                raise ValueError(f"cap must lie in (0, 1), got {cap!r}")
        self.total_alpha = check_open_unit(total_alpha, "total_alpha")
        self.m = _check_m(m)
        self.cap = cap
        share = bonferroni(self.total_alpha, self.m)
        self.per_check = share if cap is None else min(cap, share)
        self.used = 0

    def take(self) -> float:
        """Return the per-check alpha for the next check.

        Raises:
            RuntimeError: more than ``m`` checks requested (the family-wise bound would no longer hold).
        """
        if self.used >= self.m:
            raise RuntimeError(f"alpha budget exhausted: all {self.m} checks already taken")
        self.used += 1
        return self.per_check

    @property
    def remaining(self) -> int:
        """Checks still available."""
        return self.m - self.used

    @property
    def spent(self) -> float:
        """Union bound on the false-alarm probability of the checks taken so far."""
        return self.used * self.per_check

    @property
    def family_wise_bound(self) -> float:
        """Union bound ``m * per_check`` on the false-alarm probability of the whole run (<= total_alpha)."""
        return self.m * self.per_check

    def __repr__(self) -> str:
        return (
            f"AlphaBudget(total_alpha={self.total_alpha:g}, m={self.m}, per_check={self.per_check:.3g}, "
            f"used={self.used})"
        )


__all__ = ["AlphaBudget", "bonferroni"]
