"""The common result of one statistical or structural check.

Every check of the initializer auditor returns a :class:`CheckResult`: the test's name, its statistic,
p-value, false-alarm rate ``alpha`` and whether it passed (``p_value > alpha``), plus, where meaningful,
the smallest relative variance error it detects with probability ``power``.  Deterministic checks
(values outside the support, duplicate rows, orthogonality to a tolerance) report ``p_value`` 0 or 1:
their false-alarm probability under the null is bounded separately and stated in the check's docstring.
"""
from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from scipy import stats

from invariants.stats.variance import VarianceTestResult


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check.

    Attributes:
        name: check identifier (``chi2_variance``, ``moment_variance``, ``mean``, ``support``,
            ``extremes``, ``point_mass``, ``ks_shape``, ``orthogonality``, ``duplicates``,
            ``identical_draws``, ``degenerate``, ``constant``; the Haar law of orthogonal draws: ``haar_entries``,
            ``haar_sums``, ``haar_signs``, ``haar_trace``).
        statistic: the test statistic (its meaning is given by each check's docstring).
        p_value: p-value in [0, 1] (0 or 1 for deterministic checks).
        alpha: false-alarm rate the check was run at.
        passed: ``p_value > alpha``.
        detail: one line with the figures (observed vs expected).
        min_detectable_rel_error: smallest relative *variance* error the check detects with
            probability ``power`` (``None`` where the check is not about the variance).
        power: power at which ``min_detectable_rel_error`` is quoted.
    """

    name: str
    statistic: float
    p_value: float
    alpha: float
    passed: bool
    detail: str = ""
    min_detectable_rel_error: float | None = None
    power: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: exactly ``name, statistic, p_value, alpha, passed`` (non-finite -> ``None``)."""
        return {
            "name": self.name,
            "statistic": _finite(self.statistic),
            "p_value": _finite(self.p_value),
            "alpha": float(self.alpha),
            "passed": bool(self.passed),
        }

    def renamed(self, prefix: str) -> "CheckResult":
        return CheckResult(f"{prefix}{self.name}", self.statistic, self.p_value, self.alpha, self.passed,
                           self.detail, self.min_detectable_rel_error, self.power)


class _SharedP:
    """A deferred p-value that a result, its renamed twins and its copies hold as one: ``p()`` is called on the
    first read by any of them, clipped to [0, 1], and kept for all.  Pickled, it carries the uncalled ``p`` (one
    cell per pickle, shared by the results pickled together)."""

    __slots__ = ("get", "value")

    def __init__(self, get: Any) -> None:
        self.get, self.value = get, None

    def __call__(self) -> float:
        get = self.get  # read once: another thread may have computed the value and dropped ``get`` meanwhile
        if get is not None:
            self.value, self.get = float(min(1.0, max(0.0, get()))), None
        return self.value  # type: ignore[return-value]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _SharedP, (self.get,)  # only while uncalled: DeferredCheckResult.__reduce__ passes a known value


class DeferredCheckResult(CheckResult):
    """A :class:`CheckResult` whose ``passed`` is already known and whose ``p_value`` is computed on first
    read (then kept): for a check whose p-value is dear and whose verdict a cheap bound settles (the exact KS
    tail, :func:`invariants.stats.shape.ks_test`).  ``p_value`` is ``p()`` clipped to [0, 1] as :func:`decide`
    clips it, so every field reads exactly as ``decide(name, statistic, p(), alpha, ...)``'s would; equal to and
    hashed as that plain :class:`CheckResult`.  The result, its :meth:`renamed` twins and its copies
    (``copy.copy``, ``copy.deepcopy``, the results of one pickle) share one deferred p-value: computed once, on
    the first read by any of them.  Pickled still deferred (``p`` travels, uncalled, and the copy
    computes the same p-value when read) where ``p`` itself pickles (a module-level function, a
    ``functools.partial`` of one, or another deferred result's :meth:`settle_p`: what this package's checks
    pass); a ``p`` that does not pickle (a lambda) is called and the plain result pickled instead.

    The caller guarantees ``passed == (p() > alpha)``; :func:`deferred_decision` is the constructor.
    """

    def __init__(self, name: str, statistic: float, p_value: Any, alpha: float, passed: bool, detail: str = "",
                 min_detectable_rel_error: float | None = None, power: float | None = None) -> None:
        # p_value: a float, or a zero-argument callable giving it (dataclasses.replace passes the float); a
        # shared cell (a copy's, a twin's) is kept as it is
        for key, value in (("name", name), ("statistic", statistic), ("alpha", alpha), ("passed", passed),
                           ("detail", detail), ("min_detectable_rel_error", min_detectable_rel_error),
                           ("power", power)):
            object.__setattr__(self, key, value)
        p = p_value if isinstance(p_value, _SharedP) else _SharedP(p_value) if callable(p_value) else float(p_value)
        object.__setattr__(self, "_p", p)

    @property
    def p_value(self) -> float:  # type: ignore[override]
        p = self.__dict__["_p"]
        if isinstance(p, _SharedP):
            p = p()
            object.__setattr__(self, "_p", p)
        return p

    def settle_p(self) -> float:
        """``p_value``, as a method: a deferred p-value another result can hold (and pickle) as its own."""
        return self.p_value

    def renamed(self, prefix: str) -> CheckResult:
        """As :meth:`CheckResult.renamed`, the p-value still deferred (and computed once for both)."""
        return DeferredCheckResult(f"{prefix}{self.name}", self.statistic, self.__dict__["_p"], self.alpha,
                                   self.passed, self.detail, self.min_detectable_rel_error, self.power)

    def settled(self) -> CheckResult:
        """The plain :class:`CheckResult` (its p-value computed)."""
        return CheckResult(self.name, self.statistic, self.p_value, self.alpha, self.passed, self.detail,
                           self.min_detectable_rel_error, self.power)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CheckResult):
            return NotImplemented
        mine = self.settled()
        theirs = other.settled() if isinstance(other, DeferredCheckResult) else other
        return CheckResult.__eq__(mine, theirs)

    def __hash__(self) -> int:
        return hash(self.settled())

    def __repr__(self) -> str:
        return repr(self.settled())

    def __copy__(self) -> "DeferredCheckResult":
        """A twin holding the same deferred p-value (every other field is an immutable scalar or string)."""
        return DeferredCheckResult(self.name, self.statistic, self.__dict__["_p"], self.alpha, self.passed,
                                   self.detail, self.min_detectable_rel_error, self.power)

    def __deepcopy__(self, memo: dict) -> "DeferredCheckResult":
        return self.__copy__()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # a p-value some twin already read travels as that value
        p = self.__dict__["_p"]
        if isinstance(p, _SharedP) and p.value is not None:
            p = p.value
        elif isinstance(p, _SharedP):
            try:  # a few hundred bytes for this package's callables; the p-value can cost seconds
                pickle.dumps(p.get)
            except (pickle.PicklingError, TypeError, AttributeError):
                return self.settled().__reduce__()
        return (DeferredCheckResult, (self.name, self.statistic, p, self.alpha, self.passed, self.detail,
                                      self.min_detectable_rel_error, self.power))


def deferred_decision(name: str, statistic: float, p_value: Any, alpha: float, passed: bool, detail: str = "",
                      mde: float | None = None, power: float | None = None) -> CheckResult:
    """:func:`decide` for a verdict ``passed`` known without the p-value: ``p_value`` is a zero-argument
    callable, called on the first read of the result's ``p_value`` (:class:`DeferredCheckResult`).  The
    caller guarantees ``passed == (p_value() > alpha)``."""
    return DeferredCheckResult(name, float(statistic), p_value, float(alpha), bool(passed), detail, mde, power)


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def decide(name: str, statistic: float, p_value: float, alpha: float, detail: str = "",
           mde: float | None = None, power: float | None = None) -> CheckResult:
    p_value = float(min(1.0, max(0.0, p_value)))
    return CheckResult(name, float(statistic), p_value, float(alpha), bool(p_value > alpha), detail, mde, power)


def from_variance_result(res: VarianceTestResult) -> CheckResult:
    """Wrap a :class:`~invariants.stats.variance.VarianceTestResult` as a :class:`CheckResult`."""
    detail = (f"observed/expected variance {res.ratio:.6g} (observed {res.observed_variance:.6g}, "
              f"expected {res.expected_variance:.6g}, n = {res.n})")
    return CheckResult(res.name, res.statistic, res.p_value, res.alpha, res.passed, detail,
                       res.min_detectable_rel_error, res.power)


@lru_cache(maxsize=1024)
def z_quantiles(alpha: float, power: float, two_sided: bool = True) -> tuple[float, float]:
    """``(z_alpha, z_power)``: standard normal quantiles of the rejection threshold and of the power (memoized:
    a pure function, asked ~2,000 times per audit test file for a handful of ``(alpha, power)``)."""
    za = float(stats.norm.isf(alpha / 2 if two_sided else alpha))
    zp = float(stats.norm.ppf(power))
    return za, zp
