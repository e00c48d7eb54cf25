"""numpy adapter: initializers written as ``f(shape, rng) -> array`` with ``rng`` a ``numpy.random.Generator``.

Layout: the ``torch`` layout (``(out, in, *k)``), which is also the reference network's ``W_l`` of shape
``(n_l, n_{l-1})``.  A function that only sees the shape must infer the fans from it; the auditor
compares against the *textbook* fans of the layer, so an initializer that reads them off the shape
is caught on grouped or transposed convolutions.

Catalogue: this package's own reference initializers (every named :class:`VarianceScaling` spec's
sampler, the reference network's ``random_params`` LeCun normal, numpy's normal/uniform draws and a
QR-based orthogonal initializer), all of which must conform.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from invariants.frameworks.base import CatalogueBuilder, Framework
from invariants.frameworks.dtypes import numpy_dtype
from invariants.frameworks.subjects import (
    Expectation,
    Sampler,
    Subject,
    accepts_keyword,
    call_initializer,
    check_array,
    seeded_by,
)
from invariants.layers import Layer, parse_layer
from invariants.specs import NAMED_SPECS, Constant, Normal, Orthogonal, Uniform, VarianceScaling


def orthogonal(shape: tuple[int, ...], rng: np.random.Generator, gain: float = 1.0) -> np.ndarray:
    """Reference orthogonal initializer (Saxe et al. 2014, as ``torch.nn.init.orthogonal_``).

    Rows = ``shape[0]``, columns = the rest flattened; QR of a standard normal matrix with the signs of
    ``R``'s diagonal folded into ``Q`` (so ``Q`` is Haar-distributed; Mezzadri 2007, *Notices AMS* 54:592).
    """
    rows = shape[0]
    cols = int(np.prod(shape[1:]))
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape)


class NumpyCatalogue(CatalogueBuilder):

    def catalogue(self) -> list[Subject]:
        layers = [parse_layer("dense(300,100)"), parse_layer("conv2d(16,48,k=3)")]
        subjects: list[Subject] = []
        for layer in layers:
            fi, fo = layer.textbook_fans()
            for name, spec in NAMED_SPECS.items():
                subjects.append(self._subject(
                    f"invariants.specs.{name.upper()}.sample", layer, spec,
                    lambda shp, rng, spec=spec, fi=fi, fo=fo: spec.sample(shp, rng, fi, fo, dtype=np.float32),
                    call=f"{name.upper()}.sample(shape, rng, {fi}, {fo}, float32)"))
        dense = layers[0]
        subjects.append(self._subject(
            "invariants.reference.random_params", dense, VarianceScaling(1.0, "fan_in", "normal", name="lecun_normal_untruncated"),
            _reference_lecun, call="random_params(Architecture((300, 100)), rng)['W1']"))
        subjects.append(self._subject("numpy.random.Generator.normal", dense, Normal(0.0, 0.02),
                                      lambda shp, rng: rng.normal(0.0, 0.02, size=shp), call="rng.normal(0, 0.02, shape)"))
        subjects.append(self._subject("numpy.random.Generator.uniform", dense, Uniform(-0.05, 0.05),
                                      lambda shp, rng: rng.uniform(-0.05, 0.05, size=shp), call="rng.uniform(-0.05, 0.05, shape)"))
        subjects.append(self._subject("invariants.frameworks.numpy.initializers.orthogonal", dense, Orthogonal(1.0, "first"),
                                      orthogonal, call="orthogonal(shape, rng)"))
        subjects.append(self._subject("numpy.zeros", dense, Constant(0.0), lambda shp, rng: np.zeros(shp), call="np.zeros(shape)"))
        return subjects

    def _subject(self, target: str, layer: Layer, spec: Any, fn: Callable[..., Any], call: str) -> Subject:
        shape = self.shape(layer)
        return Subject(target=target, param="", layer=layer, shape=shape, sampler=self.wrap(fn, shape),
                       expect=Expectation(spec), framework_fans=self.framework_fans(shape), call=call)


def _reference_lecun(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    from invariants.reference.network import Architecture, random_params

    arch = Architecture((shape[1], shape[0]), activation="tanh")
    return random_params(arch, rng)["W1"]


def wrap(fn: Callable[..., Any], shape: tuple[int, ...], dtype: str | None = None) -> Sampler:
    """``fn(shape, rng)``; with a requested ``dtype``, ``fn(shape, rng, dtype=<numpy dtype>)`` when ``fn``
    accepts a ``dtype`` keyword (:func:`accepts_dtype`), else ``fn(shape, rng)`` taken as it comes (numpy
    has no dtype convention: the auditor's ``dtype_returned`` check then says whether it is the one asked
    for).  bfloat16 is ``ml_dtypes.bfloat16``."""
    what = getattr(fn, "__qualname__", None) or repr(fn)
    kwargs = {"dtype": numpy_dtype(dtype)} if dtype is not None and accepts_dtype(fn) else {}

    def sample(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = call_initializer(fn, what, tuple(shape), rng, **kwargs)
        return check_array(out, shape, what)

    return seeded_by(sample, "a numpy Generator as rng (np.random.default_rng(seed))")


def accepts_dtype(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes a ``dtype`` keyword (its signature names one, or takes ``**kwargs``)."""
    return accepts_keyword(fn, "dtype")


def known_expectation(fn: Callable[..., Any]) -> Expectation | None:
    """numpy has no initializers of its own to recognise: always ``None``."""
    return None


def catalogue(framework: Framework) -> list[Subject]:
    """The framework's initializers and layer defaults as audit subjects (see the module docstring)."""
    return NumpyCatalogue(framework).catalogue()


def examples() -> list[Callable[..., Any]]:
    """This framework's own random initializers (the conformance checks wrap them)."""
    return [orthogonal]
