"""numpy: initializers written as ``f(shape, rng) -> array`` with ``rng`` a ``numpy.random.Generator``.

Layout ``torch`` (``(out, in, *k)``, the reference network's ``W_l`` of shape ``(n_l, n_{l-1})``);
orthogonal rows on the first axis.  Its catalogue is this package's own reference initializers
(:mod:`invariants.frameworks.numpy.initializers`).  No model check (numpy models are the
``reference`` framework's).
"""
from __future__ import annotations

from invariants.frameworks.base import Framework
from invariants.layers import TORCH


class NumpyFramework(Framework):
    """numpy initializers ``f(shape, rng)``; see the package docstring."""

    name = "numpy"
    import_name = "numpy"
    requirements = ("numpy",)
    layout = TORCH
    computes_fans = False  # the callables are the user's: no framework fan rule to document
    callable_modules = ("invariants.frameworks.numpy",)
    order = 0
    initializers_module = "invariants.frameworks.numpy.initializers"


FRAMEWORK = NumpyFramework()
