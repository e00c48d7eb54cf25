"""A third-party framework in one module, registered through the ``invariants.frameworks`` entry point
(``stub_framework-0.1.dist-info/entry_points.txt`` next to this file): the proof that adding a framework
touches only its own folder.

Its conventions differ on purpose from every built-in one: an initializer is ``fn(shape, seed) -> array``
(a new array, seeded by an integer), weights are stored ``(in, out)`` (the ``jax`` layout), and a model
is a :class:`StubMLP` holding its kernels.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import numpy as np

from invariants.frameworks.base import CatalogueBuilder, Framework
from invariants.frameworks.model import ModelParts, ModelView, Node, Param, Probe, Signal
from invariants.frameworks.subjects import Expectation, Sampler, Subject, call_initializer, check_array
from invariants.layers import JAX, parse_layer
from invariants.specs import GLOROT_UNIFORM, Normal


def normal(shape: tuple[int, ...], seed: int, std: float = 0.05) -> np.ndarray:
    """N(0, std^2) in the stub's convention."""
    return np.random.default_rng(seed).normal(0.0, std, size=shape).astype(np.float32)


def glorot_uniform(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Glorot uniform on an ``(in, out)`` kernel."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return np.random.default_rng(seed).uniform(-limit, limit, size=shape).astype(np.float32)


class StubMLP:
    """A ReLU MLP whose kernels ``(in, out)`` were drawn by :func:`glorot_uniform`."""

    def __init__(self, sizes: tuple[int, ...] = (8, 16, 4), seed: int = 0) -> None:
        self.sizes = sizes
        self.kernels = [glorot_uniform((a, b), seed + i) for i, (a, b) in enumerate(zip(sizes, sizes[1:]))]


class StubFramework(Framework):
    name = "stub"
    import_name = "numpy"
    requirements = ("stub-framework",)
    layout = JAX
    callable_modules = ("stub_framework",)
    model_form = "a StubMLP"
    order = 50
    initializers_module = "stub_framework"
    models_module = "stub_framework"
    model_type = "stub_framework:StubMLP"

    def view(self, module: ModuleType, parts: ModelParts, name: str, batch: int, seed: int) -> ModelView:
        return view(parts.model, name, batch, seed)


FRAMEWORK = StubFramework()


# ---------------------------------------------------------------- initializers module protocol
def wrap(fn: Callable[..., Any], shape: tuple[int, ...]) -> Sampler:
    what = getattr(fn, "__qualname__", None) or repr(fn)

    def sample(seed: int) -> np.ndarray:
        return check_array(call_initializer(fn, what, tuple(shape), int(seed)), shape, what)

    return sample


def known_expectation(fn: Callable[..., Any]) -> Expectation | None:
    return {normal: Expectation(Normal(0.0, 0.05)), glorot_uniform: Expectation(GLOROT_UNIFORM)}.get(fn)


class _Catalogue(CatalogueBuilder):
    def catalogue(self) -> list[Subject]:
        out = []
        for layer in (parse_layer("dense(300,100)"), parse_layer("conv2d(16,48,k=3)")):
            for fn in (normal, glorot_uniform):
                shape = self.shape(layer)
                out.append(Subject(target=f"stub_framework.{fn.__name__}", param="", layer=layer, shape=shape,
                                   sampler=self.wrap(fn, shape), expect=known_expectation(fn),
                                   framework_fans=self.framework_fans(shape), call=f"{fn.__name__}({shape}, seed)"))
        return out


def catalogue(framework: Framework) -> list[Subject]:
    return _Catalogue(framework).catalogue()


def examples() -> list[Callable[..., Any]]:
    return [normal, glorot_uniform]


# ---------------------------------------------------------------- models module protocol
def view(model: StubMLP, name: str, batch: int = 32, seed: int = 0) -> ModelView:
    params, nodes, signals = [], [], []
    x = np.random.default_rng(seed).standard_normal((batch, model.sizes[0]))
    for i, w in enumerate(model.kernels):
        layer = parse_layer(f"dense({w.shape[0]},{w.shape[1]})")
        p = Param(f"kernel{i}", w, "weight", f"layer{i}", "StubDense", layer, JAX)
        last = i == len(model.kernels) - 1
        params.append(p)
        nodes.append(Node(f"layer{i}", "StubDense", layer, p, None, None if last else "relu"))
        z = x @ w
        signals.append(Signal(f"layer{i}", z))
        x = z if last else np.maximum(z, 0.0)
    return ModelView("stub", name, params, nodes, Probe(signals, batch, f"N(0, 1) ({batch}, {model.sizes[0]})"))


def example() -> tuple[Any, int]:
    model = StubMLP()
    return model, sum(int(k.size) for k in model.kernels)
