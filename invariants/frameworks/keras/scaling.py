"""The Keras 3 runner of ``scale-check`` (:class:`KerasRunner`, :mod:`invariants.frameworks.runner`), on the JAX
backend.

The factory returns a built ``keras.Model`` (``Sequential`` or functional, possibly nested), or ``(model, x)``;
without ``x`` the input is ``N(0, 1)`` of the model's input shape, drawn from the seed.  Before each factory
call ``keras.utils.set_random_seed(seed)`` fixes Keras' global seed (so initializers without their own seed
draw from it; it also seeds Python's and NumPy's global generators, as Keras documents).

Recording: each leaf layer's ``call`` is wrapped on the instance (a call hook Keras itself has no API for);
while a recording forward runs, the wrapper adds the second moment of the layer's output (and of a weight
layer's input) to a running mean and drops the tensor (streamed).  A ``Dense``/``Conv`` with a fused
activation is called with a linear activation so its pre-activation is seen, then its activation is applied
and recorded as ``NAME.activation`` (role ``act``).  The forward is ``model.stateless_call(trainable,
non_trainable, x, training=False)`` (inference mode: dropout off, batch normalization on its moving
statistics) inside ``jax.value_and_grad``; training is :func:`invariants.frameworks.jax.coordcheck.run_steps`.
Wrappers pass calls through unchanged outside a recording forward.

Names: a layer's position in its model's ``layers`` (``"2"``; nested models ``"1.0"``), because Keras'
automatic layer names change with every model built in a process; learning-rate multipliers key on
``position.variable`` (``"2.kernel"``) through the model's ``lr_multipliers`` attribute (a dict, or a
function of the optimizer's name returning one).  Roles: ``preact`` for ``Dense``, ``Conv1D/2D/3D`` and
``Embedding``; ``act`` for the activation layers; ``norm`` for the normalization layers; ``other`` for any
other layer with weights; ``Dropout``, ``Flatten``, ``Reshape`` and the ``InputLayer`` pass through.  Not
supported: backends other than JAX, sublayers of custom (non-``Model``) layers (such a layer is one
``other`` role), training-mode behaviour.

Cost estimate: the model built inside ``keras.StatelessScope(initialize_variables=False)``: its variables
get shapes and no values (Keras' deferred initialization), and the layers' symbolic output shapes give the
activations.
"""
from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from invariants.frameworks.keras import choose_backend

choose_backend()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from invariants.frameworks.errors import BadModel  # noqa: E402
from invariants.frameworks.jax.coordcheck import (Accumulator, Compiled, CompiledCache, JaxRunner,  # noqa: E402
                                                  first_floating, run_steps, structure, synthetic)
from invariants.frameworks.runner import ACT, ACTIVATION_NAMES, PREACT, Key, multipliers, role  # noqa: E402

L = keras.layers
CONVS = (L.Conv1D, L.Conv2D, L.Conv3D)
WEIGHT_LAYERS = (L.Dense, L.Embedding) + CONVS
ACTIVATIONS = (L.ReLU, L.Activation, L.LeakyReLU, L.PReLU, L.ELU, L.Softmax)
NORMS = tuple(getattr(L, n) for n in ("LayerNormalization", "BatchNormalization", "GroupNormalization",
                                      "UnitNormalization", "RMSNormalization") if hasattr(L, n))
PASS_THROUGH = (L.Dropout, L.Flatten, L.Reshape)
#: the weight of each weight layer type, by variable name
WEIGHT_NAME = {L.Embedding: "embeddings"}

#: the accumulator of the recording forward now running (none: the wrappers pass calls through)
RECORDING: list[Accumulator] = []


@dataclass
class KerasModel:
    """A Keras model with its leaf layers by role (:func:`discover`)."""

    model: Any
    hooked: dict[str, str] = field(default_factory=dict)
    layers: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # id(variable) -> "position.variable"


def leaves(layer: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(position name, leaf layer)`` of a model, depth first in the models' ``layers`` order."""
    for i, sub in enumerate(layer.layers):
        name = f"{prefix}{i}"
        if isinstance(sub, keras.Model):
            yield from leaves(sub, name + ".")
        else:
            yield name, sub


def linear(layer: Any) -> bool:
    """Whether the layer has no fused activation (or none at all)."""
    act = getattr(layer, "activation", None)
    return act is None or act is keras.activations.linear or getattr(act, "__name__", "") == "linear"


def weight(layer: Any) -> Any:
    """The weight variable of a weight layer (``kernel``; ``embeddings`` of an ``Embedding``)."""
    want = WEIGHT_NAME.get(type(layer), "kernel")
    return next(v for v in layer.trainable_weights if v.name == want)


def discover(model: Any) -> KerasModel:
    """The leaf layers by role, the layers not measured, the variables' names; wraps each hooked layer's
    ``call`` once (:func:`wrap`)."""
    km = KerasModel(model)
    for name, layer in leaves(model):
        for v in layer.weights:
            km.names[id(v)] = f"{name}.{v.name}"
        if isinstance(layer, L.InputLayer):  # the model's input: no role, nothing to say
            continue
        kind = role(layer, name, bool(layer.weights), (WEIGHT_LAYERS, ACTIVATIONS, NORMS, PASS_THROUGH), km.skipped)
        if kind is None:
            continue
        km.hooked[name] = kind
        km.layers[name] = layer
        if kind == PREACT and not linear(layer):
            km.hooked[name + ".activation"] = ACT
        wrap(layer, name, kind)
    return km


def wrap(layer: Any, name: str, kind: str) -> None:
    """Wrap ``layer.call`` (on the instance, once) to record into the running :data:`RECORDING` accumulator."""
    if getattr(layer, "_invariants_wrapped", False):
        return
    original = layer.call

    def call(*args: Any, **kwargs: Any) -> Any:
        if not RECORDING:
            return original(*args, **kwargs)
        acc = RECORDING[-1]
        fused = None if kind != PREACT or linear(layer) else layer.activation
        if fused is not None:
            layer.activation = keras.activations.linear
        try:
            out = original(*args, **kwargs)
        finally:
            if fused is not None:
                layer.activation = fused
        y = first_floating(out)
        if y is not None:
            acc.add(name, kind, y)
        if kind == PREACT and args:
            acc.layer_input(name, args[0])
        if fused is not None:
            out = fused(out)
            acc.add(name + ".activation", ACT, out)
        return out

    layer.call = call
    layer._invariants_wrapped = True


def structure_key(km: KerasModel, params: Any, x: Any) -> Any:
    """A key of the model's structure: each leaf's class and configuration (Keras' automatic names left out)
    and the shapes of the parameters and the input."""
    parts = []
    for name, layer in leaves(km.model):
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        parts.append((name, type(layer), json.dumps(config, sort_keys=True, default=str)))
    return tuple(parts), structure(params, x)


class KerasRunner(JaxRunner):
    """The Keras 3 (JAX backend) :class:`~invariants.frameworks.runner.ScalingRunner` (module docstring)."""

    name = "keras"

    def __init__(self) -> None:
        self.cache = CompiledCache()

    def owns(self, obj: Any) -> bool:
        return isinstance(obj, keras.Model)

    @contextlib.contextmanager
    def shape_scope(self) -> Iterator[None]:
        # Keras keeps the variables created in a stateless scope in a process-wide list and initializes them
        # all at the next scope exit that asks for it: restore the list, so nothing built here is ever allocated
        from keras.src.backend.common import global_state

        before = list(global_state.get_global_attribute("uninitialized_variables") or [])
        try:
            with keras.StatelessScope(initialize_variables=False):
                yield
        finally:
            global_state.set_global_attribute("uninitialized_variables", before)

    def size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> tuple[int, int] | None:
        try:
            with self.shape_scope():
                model, _ = build(n)
                if not self.owns(model) or not model.weights:
                    return None
                params = sum(math.prod(v.shape) for v in model.weights)
                try:
                    acts = sum(math.prod(d or 1 for d in layer.output.shape) for _, layer in leaves(model)
                               if not isinstance(layer, L.InputLayer))
                except Exception:  # noqa: BLE001  a subclassed model has no symbolic outputs
                    acts = 0
        except Exception:  # noqa: BLE001  the estimate falls back to a real build
            return None
        return int(params), int(acts)

    def built_size(self, build: Callable[[int], tuple[Any, Any]], n: int) -> int:
        return int(build(n)[0].count_params())

    def seed(self, seed: int) -> None:
        keras.utils.set_random_seed(int(seed))

    def prepare(self, obj: Any, x: Any, batch: int, seed: int) -> tuple[Any, Any]:
        if keras.backend.backend() != "jax":
            raise BadModel(f"scale-check runs Keras models on the JAX backend; this process uses "
                           f"{keras.backend.backend()!r} (set KERAS_BACKEND=jax before Keras is imported)")
        if x is None:
            shape = tuple(obj.inputs[0].shape) if getattr(obj, "inputs", None) else ()
            if not shape or any(d is None for d in shape[1:]):
                raise BadModel("the Keras model declares no fixed input shape: return (model, x) from the factory")
            x = synthetic((batch,) + shape[1:], seed)
        else:
            x = jax.tree_util.tree_map(jnp.asarray, x)
        return discover(obj), x

    def record(self, model: Any, x: Any, steps: list[int], optimizer: str, lr: float,
               seed: int) -> dict[Key, float]:
        km: KerasModel = model
        m = km.model
        trainable = list(m.trainable_variables)
        params = [v.value for v in trainable]
        fixed = [v.value for v in m.non_trainable_variables]
        mult = multipliers(m, optimizer)
        rates = [lr * float(mult.get(km.names.get(id(v), v.path), 1.0)) for v in trainable]
        index = {id(v): i for i, v in enumerate(trainable)}
        kernels = {name: index[id(weight(layer))] for name, layer in km.layers.items()
                   if km.hooked[name] == PREACT and id(weight(layer)) in index}

        def forward(p: Any, x_: Any, keep: bool) -> tuple[Any, Any, Any]:
            acc = Accumulator(keep)
            RECORDING.append(acc)
            try:
                y, _ = m.stateless_call(p, fixed, x_, training=False)
            finally:
                RECORDING.pop()
            y = first_floating(y)
            if y is None:
                raise ValueError("the model's output holds no floating array")
            return y, acc.means(), {k: v for k, v in acc.inputs.items() if k in kernels}

        def delta(name: str, dw: Any, x0: Any) -> Any:
            layer = km.layers[name]
            if isinstance(layer, L.Embedding):
                return jnp.take(dw, x0, axis=0)
            if isinstance(layer, CONVS):
                return layer.convolution_op(x0, dw)
            return jnp.matmul(x0, dw)

        try:
            key = structure_key(km, params, x)
        except Exception:  # noqa: BLE001  a configuration that does not serialize: compiled afresh
            key = None
        compiled = self.cache.get(key, lambda: Compiled(forward, delta, lambda p, name: p[kernels[name]]))
        return run_steps(compiled, params, x, rates, steps, optimizer, seed)

    def weight_shape(self, model: Any, name: str) -> tuple[int, ...]:
        return tuple(weight(model.layers[name]).shape)

    def is_lookup(self, layer: Any) -> bool:
        return isinstance(layer, L.Embedding)

    def mean_field_inputs(self, model: Any) -> dict[str, Any] | None:
        """As the torch runner's: the ``Dense`` layers' ``σ_w² = E[W²]·fan_in`` and ``σ_b²``, when the model has
        exactly one known activation (activation layers and fused activations)."""
        names = set(ACTIVATION_NAMES.values())
        acts = set()
        dense = [layer for _, layer in leaves(model.model) if isinstance(layer, L.Dense)]
        for _, layer in leaves(model.model):
            if isinstance(layer, L.ReLU):
                acts.add("relu")
            elif isinstance(layer, (L.Activation, L.Dense)) and not linear(layer):
                acts.add(getattr(layer.activation, "__name__", "?"))
            elif isinstance(layer, ACTIVATIONS):
                acts.add("?")
        if len(acts) != 1 or not acts <= names or not dense:
            return None
        s_w2 = [float(np.mean(np.square(np.asarray(layer.kernel.value, np.float64)))) * layer.kernel.shape[0]
                for layer in dense]
        biases = [np.asarray(layer.bias.value, np.float64) for layer in dense if layer.bias is not None]
        s_b2 = float(np.mean([float(np.mean(b * b)) for b in biases])) if biases else 0.0
        return {"activation": acts.pop(), "sigma_w2": s_w2, "sigma_b2": s_b2}


#: the runner :meth:`invariants.frameworks.keras.KerasFramework.scaling_runner` returns
RUNNER = KerasRunner()

__all__ = ["ACTIVATIONS", "CONVS", "KerasModel", "KerasRunner", "NORMS", "PASS_THROUGH", "RECORDING", "RUNNER",
           "WEIGHT_LAYERS", "discover", "leaves", "linear", "structure_key", "weight", "wrap"]
