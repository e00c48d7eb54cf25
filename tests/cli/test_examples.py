"""``examples/``: the small project's test suite runs and passes in a fresh pytester project, and the CLI
finds the example's bug."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy  # noqa: F401  imported before pytester's in-process run: C extensions cannot load twice
import pytest
import scipy.stats  # noqa: F401

import invariants.modelcheck.check  # noqa: F401
import invariants.propagation  # noqa: F401
import invariants.testing  # noqa: F401

torch = pytest.importorskip("torch")  # the example project is a PyTorch one (imported once, before pytester)

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "torch_project"


def test_example_project_passes(pytester):
    for f in ("tinynet.py", "test_tinynet.py", "test_init_properties.py"):
        pytester.makepyfile(**{f[:-3]: (EXAMPLE / f).read_text()})
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)


def test_example_bug_is_found_by_the_cli(monkeypatch, capsys):
    from invariants import cli

    monkeypatch.syspath_prepend(str(EXAMPLE))
    try:
        assert cli.main(["check-model", "tinynet:build_model_with_shared_seed", "-q"]) == 1
        out = " ".join(capsys.readouterr().out.split())
        assert "[identical-tensors] bit-identical tensors: conv1.weight = conv2.weight (16x16x3x3)" in out
        assert cli.main(["check-model", "tinynet:build_model", "-q"]) == 0
        assert "[zero-output-layer] head.weight" in capsys.readouterr().out
    finally:
        sys.modules.pop("tinynet", None)
