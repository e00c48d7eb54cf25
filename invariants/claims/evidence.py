"""Small adapters that turn checks into :class:`EvidenceResult` values.

Evidence functions are plain callables.  These helpers run a Hypothesis property under the fixed,
derandomized ``verify`` profile (so a verify run is reproducible) and catch failures into a detail line
instead of a traceback.
"""
from __future__ import annotations

import traceback
from typing import Callable, Union

from invariants.claims.registry import EvidenceResult


def short(v: float) -> str:
    """A number in 3 significant digits (``format(v, ".3g")``), the form detail lines quote figures in."""
    return f"{float(v):.3g}"


def run_property(test: Callable[[], None], summary: Union[str, Callable[[], str]]) -> EvidenceResult:
    """Run a Hypothesis ``@given`` test (already decorated) and report it as evidence.

    The test must carry its own ``@settings``; use :data:`invariants.hypothesis_profiles.VERIFY` so
    that examples are derandomized; they are also made independent of the modules the caller has
    loaded (:func:`invariants.hypothesis_profiles.independent_of_loaded_modules`).  ``summary``
    describes what a pass establishes; pass a callable to
    build it after the run (e.g. to quote figures the examples collected).
    """
    from invariants.hypothesis_profiles import independent_of_loaded_modules

    try:
        with independent_of_loaded_modules():
            test()
    except AssertionError as exc:  # a falsifying example: the property does not hold
        return EvidenceResult(False, f"property failed: {exc}".strip())
    except Exception as exc:  # noqa: BLE001  evidence must report, never crash verify
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return EvidenceResult(False, f"property raised {last}")
    return EvidenceResult(True, summary() if callable(summary) else summary)


def check(condition: bool, ok: str, bad: str) -> EvidenceResult:
    """Evidence from a single boolean condition with a detail line for each outcome."""
    return EvidenceResult(bool(condition), ok if condition else bad)


def property_with_coverage(build: Callable[[dict], Callable[[], None]], n_examples: Union[int, str],
                           summary: str) -> EvidenceResult:
    """Run the Hypothesis property ``build(seen)`` (see :func:`run_property`) and append what it drew.

    ``seen`` maps a key to the set of values the examples drew for it; keys starting with ``#`` are
    reported as counts only.  ``n_examples`` is quoted as given (e.g. ``"20 + 2 pinned"``).
    """
    seen: dict[str, set] = {}
    result = run_property(build(seen), summary)
    cover = "; ".join(f"{k[1:]}: {len(v)}" if k.startswith("#") else f"{k}: {len(v)} ({', '.join(sorted(map(str, v)))})"
                      for k, v in sorted(seen.items()))
    return EvidenceResult(result.passed, f"{result.detail} [{n_examples} examples; drawn {cover}]")
