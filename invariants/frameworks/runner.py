"""What a framework provides to ``scale-check`` (:mod:`invariants.scaling`): a :class:`ScalingRunner`.

The scale check builds one model per (size, seed), runs it on a fixed input for a few optimizer steps and
keeps, per tensor role, only the running second moment ``mean(x²)`` of each hooked tensor (a scalar per
``(name, kind, step)``: :class:`Moments`); nothing else of a forward pass outlives it, except each weight
layer's input at initialization, which ``ΔW·x_0`` needs.  A framework opts in with
:meth:`invariants.frameworks.base.Framework.scaling_runner`, which returns the runner of its package's
``scaling`` module (torch: :mod:`invariants.frameworks.torch.scaling`; Flax linen:
:mod:`invariants.frameworks.flax.scaling`; Keras 3 on JAX: :mod:`invariants.frameworks.keras.scaling`).

A runner must provide (the methods of :class:`ScalingRunner`):

- ownership: :meth:`~ScalingRunner.owns` (is this factory result a model of mine?);
- a shape-only build: :meth:`~ScalingRunner.shape_scope` (a context in which the factory builds without
  allocating: torch's ``meta`` device, Keras' deferred variables) and :meth:`~ScalingRunner.size`
  (parameters and activation values of one size, allocating nothing), :meth:`~ScalingRunner.built_size`
  (the fallback: one real build);
- a run: :meth:`~ScalingRunner.session` (process settings for the run), :meth:`~ScalingRunner.seed` (before
  each factory call), :meth:`~ScalingRunner.prepare` (the model at a seed, with its fixed input),
  :meth:`~ScalingRunner.record` (the second moments over the steps, with per-parameter learning-rate
  multipliers and ``ΔW·x_0``);
- layer semantics: :meth:`~ScalingRunner.roles`, :meth:`~ScalingRunner.fans` and
  :meth:`~ScalingRunner.mean_field_inputs` (depth mode).

The recorded kinds (:data:`PREACT` ... :data:`OUTPUT_CHANGE`) and the training protocol (linear loss
``Σ_b ⟨f(x_b), r_b⟩ / B``, SGD without momentum or Adam with torch's defaults) are described in
:mod:`invariants.frameworks.torch.scaling`, the reference runner; every runner follows them.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager, Iterator

PREACT, LAYER_INPUT, ACT, NORM, OTHER, OUTPUT, UPDATE, OUTPUT_CHANGE = (
    "preact", "layer-input", "act", "norm", "other", "output", "update", "output-change")
#: depth mode's backward kind: the loss's gradient w.r.t. the first weight layer's pre-activation
GRAD = "grad"

#: a recorded quantity: (tensor name, kind, step)
Key = tuple[str, str, int]

#: activation names (torch module types, Keras layer/function names) -> their mean-field activations
#: (:data:`invariants.reference.activations.ACTIVATIONS`)
ACTIVATION_NAMES = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "GELU": "gelu", "SELU": "selu"}

#: Adam's constants (torch's defaults, ``torch.optim.Adam``): β1, β2, ε
ADAM = (0.9, 0.999, 1e-8)


class Moments:
    """The running second moments of one run: ``values[(name, kind, step)] = mean(x²)``, averaged over the
    calls of a module called several times (a shared layer: the mean of its calls)."""

    def __init__(self) -> None:
        self.values: dict[Key, float] = {}
        self.counts: dict[Key, int] = {}

    def add(self, key: Key, v: float) -> None:
        """Add one call's second moment ``v`` of ``key``."""
        n = self.counts.get(key, 0)
        self.values[key] = v if n == 0 else (self.values[key] * n + v) / (n + 1)
        self.counts[key] = n + 1


def role(layer: Any, name: str, has_params: bool, types: tuple[tuple[type, ...], ...],
         skipped: dict[str, str]) -> str | None:
    """A leaf layer's role by its type: ``types`` = (weight layers, activations, norms, pass-through layers) of
    the framework gives :data:`PREACT`, :data:`ACT`, :data:`NORM` or none; any other layer with parameters is
    :data:`OTHER` (its update not measured); ``skipped`` gets the reason for a layer not measured (or not
    updated)."""
    weights, activations, norms, passing = types
    kind = PREACT if isinstance(layer, weights) else ACT if isinstance(layer, activations) else \
        NORM if isinstance(layer, norms) else None
    what = type(layer).__name__
    if kind is None and isinstance(layer, passing):
        skipped[name] = f"{what} passes its input through (measured where it is used)"
    elif kind is None and has_params:
        skipped[name + " (update)"] = f"no ΔW·x rule for {what}: its update is not measured"
        kind = OTHER
    elif kind is None:
        skipped[name] = f"{what} is not a known role"
    return kind


def multipliers(model: Any, optimizer: str, given: Any = None) -> dict[str, float]:
    """The per-parameter learning-rate factors ``{parameter name: factor}``: ``given``, else the model's
    ``lr_multipliers`` attribute (a dict, or a function of the optimizer's name returning one), else none
    (every factor 1)."""
    mult = given if given is not None else getattr(model, "lr_multipliers", None) or {}
    return dict(mult(optimizer) if callable(mult) else mult)


class ScalingRunner:
    """What a framework implements for ``scale-check`` (module docstring).  Every method but the light
    :meth:`owns` may import the framework."""

    #: the framework's name (``"torch"``)
    name = ""
    #: whether each size's runs compile a program first (JAX's ``jit``: Flax, Keras), a time the cost estimate
    #: counts per size (:data:`invariants.scaling.cost.SECONDS_PER_COMPILE`)
    compiles = False

    def owns(self, obj: Any) -> bool:
        """Whether the factory's result ``obj`` (the model, without the example input) is this framework's."""
        raise NotImplementedError

    def shape_scope(self) -> ContextManager[Any]:
        """A context in which a factory builds its model without allocating the parameters (default: none)."""
        return contextlib.nullcontext()

    def size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> tuple[int, int] | None:
        """``(parameter values, activation values of one forward per example)`` at size ``n`` from shapes only
        (torch counts on the factory's input when it gives one); ``None`` when the factory or the forward does
        not run that way (the activations are 0 when only the forward fails)."""
        return None

    def built_size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> int:
        """The parameter values of a real build at size ``n`` (the estimate's fallback).

        Raises:
            BadModel: the factory fails.
        """
        raise NotImplementedError

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Process settings held for a whole run (torch: one intra-op thread)."""
        yield

    def seed(self, seed: int) -> None:
        """Seed the framework's global RNG before the factory is called (torch: ``torch.manual_seed``)."""

    def prepare(self, obj: Any, x: Any, batch: int, seed: int) -> tuple[Any, Any]:
        """``(model, input)``: the factory's model ready to run at ``seed`` (variables initialized where the
        framework keeps them apart), and its input (``x``, else a synthetic ``N(0, 1)`` batch of ``batch``
        examples drawn from ``seed``).

        Raises:
            BadModel: the model cannot run as given (e.g. a Flax module without an example input).
        """
        raise NotImplementedError

    def record(self, model: Any, x: Any, steps: list[int], optimizer: str, lr: float,
               seed: int) -> dict[Key, float]:
        """Second moments ``{(name, kind, step): mean(x²)}`` over the training steps (the model's
        ``lr_multipliers`` apply); a non-finite moment is recorded as is."""
        raise NotImplementedError

    def roles(self, model: Any) -> tuple[list[str], dict[str, str]]:
        """The hooked tensors' names in call order, and ``{name: reason}`` for the modules not measured."""
        raise NotImplementedError

    def fans(self, model: Any) -> dict[str, tuple[int, int]]:
        """``{weight layer name: (fan_in, fan_out)}`` read from the layers' shapes."""
        raise NotImplementedError

    def gradient_moments(self, model: Any, x: Any, seed: int) -> dict[Key, float]:
        """Depth mode's backward quantity, at initialization (before :meth:`record` trains the model):
        ``{(first weight layer's name, GRAD, 0): mean((∂L/∂z_1)²)}`` after one backward pass of :meth:`record`'s
        linear loss (the same ``r``); ``{}`` (this default) where the framework does not record it, and the
        report then says the gradient was not measured (:func:`invariants.scaling.depth.depth_report`)."""
        return {}

    def mean_field_inputs(self, model: Any) -> dict[str, Any] | None:
        """``{"activation", "sigma_w2": [per weight layer], "sigma_b2"}`` of an MLP
        (:func:`invariants.scaling.depth.predicted_slope`), or ``None`` when the mean field does not apply."""
        return None


__all__ = ["ACT", "ACTIVATION_NAMES", "ADAM", "GRAD", "Key", "LAYER_INPUT", "Moments", "NORM", "OTHER", "OUTPUT",
           "OUTPUT_CHANGE", "PREACT", "ScalingRunner", "UPDATE", "multipliers", "role"]
