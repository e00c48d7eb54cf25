"""A framework catalogue replaced by a few small subjects, for command-line tests of catalogue runs (progress,
the per-call timeout, Ctrl-C): a real catalogue audit takes minutes."""
from __future__ import annotations

from typing import Any, Sequence


def fake_catalogue(monkeypatch: Any, targets: Sequence[str], framework: str = "numpy",
                   expect: str = "normal(std=0.2582)", layer: str = "dense(30,10)") -> list[Any]:
    """Make ``framework``'s catalogue the numpy-convention initializers ``targets`` (``MODULE:ATTR``), each on
    ``layer`` against ``expect``; returns the subjects."""
    from invariants.frameworks.registry import get_framework
    from invariants.frameworks.subjects import Expectation, load_callable
    from invariants.layers import parse_layer
    from invariants.specs import parse_spec

    adapter = get_framework(framework, "initializers")
    expectation = Expectation(parse_spec(expect))
    subjects = [adapter.subject_for(load_callable(t), parse_layer(layer), expectation, f"{t}#{i}")
                for i, t in enumerate(targets)]
    monkeypatch.setattr(type(adapter), "catalogue", lambda self: list(subjects))
    return subjects
