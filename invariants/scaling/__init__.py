"""Width and depth scaling: does an initialization (and a few optimizer steps) keep every tensor Θ(1) as the
model grows?  (issue 18; μP's coordinate check made a verdict with stated error rates.)

- :mod:`~invariants.scaling.target`: the factory convention (``factory(width) -> model``) and the framework
  runner that owns the model (:mod:`invariants.frameworks.runner`: torch, Flax linen, Keras 3);
- the runners (:mod:`invariants.frameworks.torch.scaling` and the Flax and Keras ones): one run's second
  moments per tensor role and step, and ``ΔW·x_0``;
- :mod:`~invariants.scaling.fit`: per-seed log-log slopes, the t-interval, the verdict (Θ(1), growing,
  vanishing, undecided) and the smallest slope that matters;
- :mod:`~invariants.scaling.theory`: expected slopes under SP and μP;
- :mod:`~invariants.scaling.findings`: the findings, with causes;
- :mod:`~invariants.scaling.cost`: the cost estimated before work;
- :mod:`~invariants.scaling.report`: the result and its JSON;
- :mod:`~invariants.scaling.engine`: :func:`scale_check`;
- :mod:`~invariants.scaling.examples`: SP, μP and faulty MLP factories;
- :mod:`~invariants.scaling.study`: the stored study of the docs page ``scaling.md`` (GPT-2- and ResNet-style
  families, :mod:`invariants.studies.scale_families`).
"""
from __future__ import annotations

from invariants.scaling.engine import scale_check
from invariants.scaling.fit import GROWING, S_MIN, THETA1, UNDECIDED, VANISHING
from invariants.scaling.report import ScaleReport

__all__ = ["GROWING", "S_MIN", "ScaleReport", "THETA1", "UNDECIDED", "VANISHING", "scale_check"]
