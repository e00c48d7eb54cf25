"""check-model's report on a zoo target (tests/zoo/models.py), computed once per test process and read by every
test that asks its question of that target: the zoo's verdict, coverage and planted-fault tests
(tests/zoo/test_zoo.py) and the finding-level tests on the same targets in tests/modelcheck
(test_structure_real.py, test_modelcheck_schemes.py).  Each such test carries the model's xdist group
(:func:`group`), so under ``--dist loadgroup`` (the README's test command) they all run in the worker that
holds the report: the same ``check_model(factory(target)(), name=target)`` ran up to three times, once per
test file, on every worker that drew one of them.

Every target is built fresh by its factory (a torch zoo build takes 1–230 ms, less than a deep copy), so a
planted fault never reaches another target's model.  Reports are shared read-only: tests read them, none
edits one.
"""
from __future__ import annotations

import functools

import pytest

from tests.zoo.models import factory


@functools.lru_cache(maxsize=None)
def report(target: str):
    """``check_model`` on the zoo target ``target`` (``NAME``, ``NAME__bare`` or ``NAME__FAULT``), named
    ``target``; cached for the test process.

    Raises:
        AttributeError: unknown target (:func:`tests.zoo.models.factory`).
    """
    from invariants.modelcheck import check_model

    return check_model(factory(target)(), name=target)


def group(target: str):
    """The xdist group of every test that reads ``target``'s model: its zoo entry's name."""
    return pytest.mark.xdist_group(target.split("__")[0])


__all__ = ["group", "report"]
