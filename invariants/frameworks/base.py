"""The one interface every framework implements: :class:`Framework`.

A framework (``invariants/frameworks/<name>/``) tells the rest of the package everything that depends
on it, in one object:

- **who it is**: ``name`` (command line), ``import_name`` (its presence means installed),
  ``requirements`` (what to ``pip install``; :attr:`Framework.install_hint` is derived from them);
- **weight layout**: ``layout`` (a :class:`invariants.layers.Layout`: which axes of a weight are
  fan_in, fan_out, receptive field, output units; its ``unit_axis`` is also the axis the framework's
  orthogonal initializer keeps whole when it flattens a tensor: 0 in PyTorch, -1 in JAX and Keras);
- **initializer calling convention**: :meth:`Framework.wrap` turns a user callable into a sampler
  ``seed -> np.ndarray``; :meth:`Framework.owns_callable` recognises the framework's own initializers
  (by the module they live in); :meth:`Framework.known_expectation` states what a known one documents;
- **catalogue**: :meth:`Framework.catalogue`, its initializers and layer defaults as audit
  :class:`~invariants.frameworks.subjects.Subject` objects;
- **models**: :meth:`Framework.owns_model` and :meth:`Framework.model_view` (a
  :class:`~invariants.frameworks.model.ModelView` for the model check);
- **scaling**: :meth:`Framework.scaling_runner`, the
  :class:`~invariants.frameworks.runner.ScalingRunner` with which ``scale-check`` builds, runs and records
  the framework's models (``None``: not supported);
- **randomness**: :meth:`Framework.generator`, the framework's own seeded generator, and
  :meth:`Framework.global_rngs`, its process-wide RNGs (which a seeded initializer must leave alone).

A :class:`Framework` object is light: creating it, listing it, asking for its install hint or whether
it owns an object never imports the framework (``owns_model`` looks only at frameworks already in
``sys.modules``: a torch model cannot exist without torch imported).  The heavy parts live in two
modules of the framework's folder, imported on first use: ``initializers_module`` (defining ``wrap``,
``known_expectation`` and ``catalogue(framework)``) and ``models_module`` (defining ``view``, called by :meth:`Framework.view`).  A
framework with no initializer support (``reference``) or no model support (``numpy``) leaves the
module name empty.

Adding a framework: a folder ``invariants/frameworks/<name>/`` whose ``__init__.py`` defines
``FRAMEWORK`` (an instance of a :class:`Framework` subclass), or, outside this package, an entry point in
the group ``invariants.frameworks`` naming such an instance (:mod:`invariants.frameworks.registry`).
Every framework must pass :mod:`invariants.frameworks.conformance`.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from types import ModuleType
from typing import Any, Callable, ClassVar

import numpy as np

from invariants.core.errors import BadInput, FrameworkUnavailable, UsageError
from invariants.frameworks.errors import BadModel, FrameworkMissing
from invariants.frameworks.global_rng import GlobalRNG
from invariants.frameworks.probe_seeding import probe_seeded
from invariants.frameworks.model import ModelParts, ModelView, unpack_model
from invariants.frameworks.subjects import Block, DtypeSampler, Expectation, Sampler, Subject, load_callable, shape_rule
from invariants.layers import TORCH, Layer, Layout, fans_from_shape


class Framework:
    """Base class of every framework (see the module docstring).

    Class attributes (override in a subclass):
        name: the name used on the command line and in reports (``"torch"``).
        import_name: the module whose presence means the framework is installed (``"torch"``).
        requirements: the pip requirements that install it (``("torch==2.13.0",)``).
        layout: the weight :class:`~invariants.layers.Layout` (``TORCH``, ``JAX``, ``KERAS`` or the
            framework's own, e.g. MLX conv ``(out, *k, in)``): axes of fan_in, fan_out, kernel, units.
        callable_modules: top-level module names whose callables are this framework's initializers
            (``("keras", "tensorflow")``).
        model_form: how a model of this framework is given, for messages (``"a torch nn.Module"``).
        order: position in listings (CLI messages, the docs' framework table); ties sort by name.
        initializers_module: module with ``wrap(fn, shape)``, ``known_expectation(fn)`` and
            ``catalogue(framework)``; ``""``: no initializer support.
        models_module: module with the model extractor (called by :meth:`view`); ``""``: no model support.
        scaling_module: module whose ``RUNNER`` is the framework's
            :class:`~invariants.frameworks.runner.ScalingRunner` (``scale-check``); ``""``: not supported.
        scaling_form: how a ``scale-check`` factory returns this framework's model, for messages.
        model_type: ``"module:Class"`` of the framework's models (``"torch.nn:Module"``), for the default
            :meth:`owns_model`; resolved only once the module's top-level package is imported.
        variables_needed: for frameworks whose models keep their parameters apart (Flax, the reference
            network), the message of the :class:`BadModel` raised when one comes without them (a
            mapping packed with it); ``""``: the model holds its parameters.
        second_is_input: the model holds its parameters, so the second element of a ``(model, x)`` pair
            is the example input (torch, Keras, Equinox, MLX; :meth:`model_parts`).
        computes_fans: the framework's initializers compute fans themselves by the layout's rule (so a
            bare call on a :class:`~invariants.layers.Kernel` follows that rule: a documented deviation);
            ``False`` for ``numpy``, whose callables are the user's own.
    """

    name: ClassVar[str] = ""
    import_name: ClassVar[str] = ""
    requirements: ClassVar[tuple[str, ...]] = ()
    layout: ClassVar[Layout] = TORCH
    computes_fans: ClassVar[bool] = True
    callable_modules: ClassVar[tuple[str, ...]] = ()
    model_form: ClassVar[str] = ""
    order: ClassVar[int] = 100
    initializers_module: ClassVar[str] = ""
    models_module: ClassVar[str] = ""
    scaling_module: ClassVar[str] = ""
    scaling_form: ClassVar[str] = ""
    model_type: ClassVar[str] = ""
    variables_needed: ClassVar[str] = ""
    second_is_input: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<Framework {self.name}>"

    # ---------------------------------------------------------------- identity and availability
    @property
    def install_hint(self) -> str:
        """What to run when the framework is missing (``"pip install torch==2.13.0"``)."""
        return "pip install " + " ".join(self.requirements or (self.import_name,))

    @property
    def supports_initializers(self) -> bool:
        """Whether the framework has initializers to audit (``audit``/``identify``)."""
        return bool(self.initializers_module)

    @property
    def supports_models(self) -> bool:
        """Whether the framework's models can be checked (``check-model``)."""
        return bool(self.models_module)

    @property
    def supports_scaling(self) -> bool:
        """Whether ``scale-check`` runs the framework's models (:meth:`scaling_runner`)."""
        return bool(self.scaling_module)

    def available(self) -> bool:
        """Whether the framework can be imported (checked without importing it)."""
        return not self.import_name or importlib.util.find_spec(self.import_name) is not None

    def require(self) -> None:
        """Raise :class:`FrameworkUnavailable` (with the install hint) if the framework is missing."""
        if not self.available():
            raise FrameworkUnavailable(self.name, self.install_hint)

    def support(self, module_name: str) -> ModuleType:
        """Import one of the framework's heavy modules.

        Raises:
            FrameworkUnavailable: the framework is missing, its import fails, or ``module_name`` is empty
                or absent (no such support in this version).
        """
        self.require()
        if not module_name:
            raise FrameworkUnavailable(self.name, f"no {self.name} support of this kind in this version of invariants")
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                raise FrameworkUnavailable(self.name, f"no {self.name} adapter in this version of invariants") from None
            missing = exc.name or self.import_name
            raise FrameworkUnavailable(self.name, f"{self.install_hint} (import of {missing!r} failed)") from None
        except ImportError as exc:
            raise FrameworkUnavailable(self.name, f"{self.install_hint} (import failed: {exc})") from None

    # ---------------------------------------------------------------- initializers
    def wrap(self, fn: Callable[..., Any], shape: tuple[int, ...], dtype: str | None = None) -> DtypeSampler:
        """A sampler ``seed -> np.ndarray`` calling the user's ``fn`` in this framework's convention for a
        tensor of ``shape``; the sampler raises :class:`~invariants.frameworks.errors.BadInitializer` (one
        clear line) if ``fn`` raises or returns a wrong shape, a non-floating dtype or non-finite values.

        ``dtype`` (a name of :data:`invariants.frameworks.dtypes.DTYPES`, ``None``: the framework's float32)
        is requested from the framework (the module's ``wrap(fn, shape, dtype)``); the array comes back in
        the dtype the framework returned, for the auditor's ``dtype_returned`` check.  The result's
        :meth:`~invariants.frameworks.subjects.DtypeSampler.at_dtype` draws the same ``fn`` in another dtype.

        Raises:
            FrameworkUnavailable: the framework is missing.
            UsageError: a dtype requested from a framework whose adapter takes none (the sampler's first call).
        """
        module = self.support(self.initializers_module)
        accepts = getattr(module, "accepts_dtype", None)
        return DtypeSampler(lambda dt: self._wrap_at(module, fn, shape, dt), dtype,
                            accepts(fn) if accepts is not None else True)

    def _wrap_at(self, module: ModuleType, fn: Callable[..., Any], shape: tuple[int, ...],
                 dtype: str | None) -> Sampler:
        if dtype is None:
            return module.wrap(fn, shape)
        if "dtype" not in inspect.signature(module.wrap).parameters:
            raise UsageError(f"{self.name}: requesting a dtype ({dtype}) is not supported by this adapter")
        return module.wrap(fn, shape, dtype)

    def known_expectation(self, fn: Callable[..., Any]) -> Expectation | None:
        """The expectation the framework documents for ``fn`` (used when ``--expect`` is omitted)."""
        return self.support(self.initializers_module).known_expectation(fn)

    def catalogue(self) -> list[Subject]:
        """Every initializer and layer default of the framework, as audit subjects.

        Raises:
            FrameworkUnavailable: the framework is missing (or has no initializers).
        """
        return self.support(self.initializers_module).catalogue(self)

    def example_initializers(self) -> list[Callable[..., Any]]:
        """A few of the framework's own random initializers in its calling convention (for the
        conformance checks: :meth:`owns_callable` must claim them, :meth:`wrap` must draw from them).

        Raises:
            FrameworkUnavailable: the framework is missing.
        """
        return list(self.support(self.initializers_module).examples()) if self.supports_initializers else []

    def owns_callable(self, fn: Any) -> bool:
        """Whether ``fn`` is one of this framework's initializers: it lives in one of
        :attr:`callable_modules` (``torch.nn.init.*`` for torch).  Never imports the framework."""
        mod = getattr(fn, "__module__", None) or type(fn).__module__ or ""
        return any(mod == m or mod.startswith(m + ".") for m in self.callable_modules)

    def load(self, target: str) -> Callable[..., Any]:
        """Import ``module:attr`` (``attr`` may be dotted) and return the callable.

        Raises:
            BadInitializer: malformed target, import failure, missing attribute, not callable.
        """
        return load_callable(target)

    # ---------------------------------------------------------------- layout
    def shape(self, layer: Layer) -> tuple[int, ...]:
        """The weight shape of ``layer`` in this framework's layout."""
        return layer.shape(self.layout)

    def framework_fans(self, shape: tuple[int, ...]) -> tuple[int, int] | None:
        """The fans the framework's own fan function computes for a weight of ``shape`` (``None`` where it
        computes none: below 2 dims, unless the layout's ``small_fans``).  Default: the layout's documented
        rule, :func:`invariants.layers.fans_from_shape`."""
        try:
            return fans_from_shape(shape, self.layout)
        except BadInput:
            return None

    def blocks(self, layer: Layer) -> tuple[Block, ...]:
        """Packed blocks (gates, q/k/v) of ``layer``'s weight in this layout."""
        return tuple(Block(n, idx, layer.block_layer()) for n, idx in layer.block_index(self.layout))

    def subject_for(self, fn: Callable[..., Any], layer: Layer, expect: Expectation, target: str,
                    dtype: str | None = None) -> Subject:
        """An audit subject for a user callable on ``layer`` (used by ``invariants.audit.initializer``),
        drawn in ``dtype`` (``None``: the framework's default); a :class:`~invariants.layers.Kernel` whose
        framework fans differ from its textbook fans gets the framework's shape rule as its documented rule
        (:func:`~invariants.frameworks.subjects.shape_rule`).

        Raises:
            BadInput: a fan-based ``expect`` on a layer with no fans here (a vector in torch or JAX).
        """
        shape = self.shape(layer)
        fans = self.framework_fans(shape)
        documented = shape_rule(layer, expect, self.layout, fans, self.computes_fans)
        # a subclass may override wrap(fn, shape) without the dtype (an older adapter): pass it only when asked
        sampler = self.wrap(fn, shape) if dtype is None else self.wrap(fn, shape, dtype)
        return Subject(target=target, param="", layer=layer, shape=shape, sampler=sampler,
                       expect=expect, documented=documented, framework_fans=fans, blocks=self.blocks(layer))

    # ---------------------------------------------------------------- models
    def owns_model(self, obj: Any) -> bool:
        """Whether ``obj`` (a model, or a tuple/dict packing it, :func:`~invariants.frameworks.model.unpack_model`)
        is a model of this framework: an instance of :attr:`model_type`.  Never imports the framework (a
        model cannot exist before its framework's package is imported).

        Raises:
            BadModel: it is this framework's model but unusable as given (e.g. a Flax module without
                its variables).
        """
        if not self.model_type:
            return False
        module_name, _, attr = self.model_type.partition(":")
        if module_name.split(".")[0] not in sys.modules:
            return False
        cls: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            cls = getattr(cls, part)
        parts = unpack_model(obj)
        if not isinstance(parts.model, cls):
            return False
        if self.variables_needed and not hasattr(parts.variables, "items"):
            raise BadModel(self.variables_needed)
        return True

    def model_view(self, obj: Any, name: str = "model", example_input: Any = None, batch: int = 32,
                   seed: int = 0) -> ModelView:
        """The :class:`~invariants.frameworks.model.ModelView` of a model of this framework.

        Args:
            obj: the model, or a tuple/dict packing it with its variables and example input
                (:func:`~invariants.frameworks.model.unpack_model`).
            name: display name.
            example_input: probe input (overrides one packed in ``obj``).
            batch: probe batch size when the input is inferred.
            seed: seed of the probe input, the probe loss's ``r`` and every global RNG the probe can draw
                from (dropout, numpy-drawn masking), each restored afterwards
                (:func:`~invariants.frameworks.probe_seeding.probe_seeded`, whose draws end up in
                ``Probe.stochastic``).

        Raises:
            BadModel: inconsistent parts, or a framework without model support.
            FrameworkMissing: the framework is not installed.
        """
        if not self.supports_models:
            raise BadModel(f"{self.name} has no model check; frameworks with one: see `invariants check-model --help`")
        try:
            module = self.support(self.models_module)
        except FrameworkUnavailable as exc:
            message = (f"{self.name} is not installed: {self.install_hint}" if not self.available()
                       else f"{self.name} cannot be imported ({exc.hint}): {self.install_hint}")
            raise FrameworkMissing(self.name, self.install_hint, message) from None
        parts = unpack_model(obj)
        if example_input is not None:
            parts = parts.with_input(example_input)
        try:
            with probe_seeded(seed) as draws:  # the probe is a function of (model, input, seed) alone
                view = self.view(module, self.model_parts(parts), name, batch, seed)
            if view.probe is not None:
                view.probe.stochastic += [t for t in draws.text() if t not in view.probe.stochastic]
            return view
        except BadModel:
            raise
        except ValueError as exc:
            raise BadModel(" ".join(str(exc).split())) from None

    def view(self, module: ModuleType, parts: ModelParts, name: str, batch: int, seed: int) -> ModelView:
        """Call the models module's extractor on the parts (default ``view(model, name, x, batch, seed)``)."""
        return module.view(parts.model, name, parts.input, batch, seed)

    def example_model(self) -> tuple[Any, int] | None:
        """``(model, number of parameter values by the framework's own count)``: a small model built with
        the framework, for the conformance checks; ``None`` without model support.

        Raises:
            FrameworkUnavailable: the framework is missing.
        """
        return self.support(self.models_module).example() if self.supports_models else None

    def model_parts(self, parts: ModelParts) -> ModelParts:
        """The framework's reading of the packed parts: as given, or with a ``(model, x)`` pair's second
        element read as the example input where :attr:`second_is_input` is set."""
        return parts.second_as_input() if self.second_is_input else parts

    # ---------------------------------------------------------------- scaling
    def scaling_runner(self) -> Any:
        """The framework's :class:`~invariants.frameworks.runner.ScalingRunner` (``scale-check``): the ``RUNNER``
        of :attr:`scaling_module`, or ``None`` where the framework has none (its models have no layer
        structure to hook, or no runner was written yet).

        Raises:
            FrameworkUnavailable: the framework is missing or its import fails.
        """
        return self.support(self.scaling_module).RUNNER if self.supports_scaling else None

    # ---------------------------------------------------------------- randomness
    def generator(self, seed: int) -> Any:
        """The framework's own random generator seeded with ``seed`` (default a numpy ``Generator``)."""
        return np.random.default_rng(int(seed))

    def global_rngs(self) -> list[GlobalRNG]:
        """The framework's process-wide RNGs (torch's default generator, Keras' global ``SeedGenerator``,
        MLX's global key), which an initializer given an explicit seed must not draw from: the
        initializers module's ``global_rngs()``, or none (JAX, Flax, Equinox, numpy: explicit keys and
        generators only; numpy's legacy global RNG is listed for every process by
        :func:`invariants.frameworks.global_rng.global_rngs`).

        Raises:
            FrameworkUnavailable: the framework is missing.
        """
        if not self.supports_initializers:
            return []
        return list(getattr(self.support(self.initializers_module), "global_rngs", list)())






class CatalogueBuilder:
    """Base of a framework's catalogue code (``<framework>/initializers.py``): the framework's layout
    helpers (:meth:`Framework.shape`, :meth:`Framework.framework_fans`, :meth:`Framework.blocks`,
    :meth:`Framework.wrap`) as methods, so subject-building code reads ``self.shape(layer)``.

    Args:
        framework: the framework whose catalogue is built.
    """

    def __init__(self, framework: Framework) -> None:
        self.framework = framework

    @property
    def layout(self) -> Layout:
        return self.framework.layout

    def shape(self, layer: Layer) -> tuple[int, ...]:
        return self.framework.shape(layer)

    def framework_fans(self, shape: tuple[int, ...]) -> tuple[int, int] | None:
        return self.framework.framework_fans(shape)

    def blocks(self, layer: Layer) -> tuple[Block, ...]:
        return self.framework.blocks(layer)

    def wrap(self, fn: Callable[..., Any], shape: tuple[int, ...]) -> Sampler:
        return self.framework.wrap(fn, shape)

__all__ = ["CatalogueBuilder", "Framework"]
