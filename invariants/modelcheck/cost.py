"""What ``check-model`` will cost, estimated from the model's tensors before any check runs.

:func:`model_cost` reads only shapes and dtypes (no value is touched) and returns a
:class:`~invariants.core.cost.Cost`; :func:`check_model <invariants.modelcheck.check.check_model>` and
``invariants check-model --max-memory/--max-seconds`` refuse a model beyond the limits with one line
(:func:`invariants.core.cost.check`).  ``bytes`` is what the check holds *beyond the model itself* (the
model is already in memory when the factory returns):

* **in memory** — parameters are read as read-only views (:func:`invariants.frameworks.torch.model.read_only`,
  ``np.asarray`` of JAX and Flax arrays, :func:`invariants.frameworks.mlx.model.read_only` of MLX arrays;
  bfloat16 as ``ml_dtypes.bfloat16``, which JAX hands over itself), so only tensors numpy cannot share are
  copied: tensors off the CPU (their own size), bfloat16 where it is widened to float32 (4 bytes a value:
  torch or MLX without ``ml_dtypes``), and Keras weights on a backend other than JAX, in their own dtype
  (``keras.ops.convert_to_numpy`` is ``np.array(x)``: a copy; on the JAX backend the reader takes
  ``np.asarray`` views like Flax's); measured by ``benchmarks/large_models.py --in-memory`` (peak beyond the
  model, its record in ``docs/data/benchmarks.json``);
  plus the largest tensor's temporaries
  (:data:`PER_VALUE_TEMP` bytes a value: the ``extreme-values`` mask and magnitudes,
  :func:`invariants.modelcheck.extremes.extreme_test`), the per-tensor samples (``Profile.max_values``
  values, :data:`SAMPLE_COPIES` float64 copies) and :data:`BASE_BYTES` for the probe's per-layer moments and
  the report;
* **the probe** (:func:`estimate`) — :data:`ACTIVATION_FACTOR` times every layer's output on the probe batch
  (:func:`activation_bytes`, a shape-only pass: torch's meta device, Keras' symbolic outputs, ``jax.eval_shape``
  for Flax and Equinox, MLX's lazy graph; reference networks are not estimated yet, and the estimate says
  it excludes them): the Keras
  MobileNetV2 of a new user's trial, 299 MiB estimated without it, peaked at 5.4 GB (measured ÷ estimated
  with it, ``benchmarks/model_cost.py``: 0.7-0.9 on MobileNetV2 at batch 32 and 4, below 0.5 on small models);
* **streamed** (a meta-device torch model, :mod:`invariants.modelcheck.stream`) — :data:`STREAM_PEAK_FACTOR`
  times the largest module in float32.

``seconds`` is :data:`SECONDS_PER_TENSOR` per tensor plus :data:`SECONDS_PER_VALUE` per value (in memory;
the probe's forward and backward pass included), or :data:`SECONDS_PER_MODULE` per module plus
:data:`SECONDS_PER_BILLION` per billion values (streamed).  The constants are upper fits of
``benchmarks/large_models.py`` on the shared 2-core development machine (figures in its record,
``docs/data/benchmarks.json``, key ``large_models``).

**Compilation.**  A JAX-traced probe (Keras on JAX, Flax, Equinox) with an output of more than 2 axes jits its
whole forward and backward pass into one XLA program, and on a cold compile cache that compile can dominate:
a Keras ``DenseNet121(weights=None, input_shape=(64, 64, 3))`` took 96 s cold, 49.6 s of it compiling
``jit(moments)``, against an estimate of 19 s without a compile term.  :func:`estimate` adds
:data:`SECONDS_PER_COMPILED_LAYER` a layer of that program (:func:`shape_pass` counts them from the same
shapes, so the estimate compiles nothing), assumes a **cold** cache and says so in its note, with the figure
for a program already in the persistent cache (:mod:`invariants.core.compile_cache`: read, not compiled).
Measured by ``benchmarks/compile_cost.py`` (fresh processes; cold, then warm on the same new cache folder; the
command line's cache set up; two runs on 2 shared cores under a load average of 5-6, so every wall is
inflated and noisy), XLA's compile a layer of the program: Keras MobileNetV2 (156 layers) 0.15-0.28 s,
ResNet50 (177) 0.11-0.18 s, DenseNet121 (429) 0.25-0.27 s; Flax CNNs of 8 and 24 convolutions 0.07-0.14 s;
Equinox 0.06-0.29 s.  Cold wall ÷ estimate with 0.18 s a layer: Keras 0.72-1.74 (3.4-7.5 without the term),
Flax 1.0-1.3, Equinox 0.44-1.84; warm wall ÷ the note's figure without the compile: Keras 1.2-2.3, Flax
1.0-2.6 and 5 on the 8-layer CNN (its warm run slower than its cold one in both runs, not explained),
Equinox 0.46-1.5.  torch compiles nothing (ResNet-18 on 64x64: 1.1-1.9).
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from typing import Any, Iterator

from invariants.core.cost import Cost
from invariants.frameworks.model import unpack_model

#: whether torch bfloat16 parameters are read as views (``ml_dtypes`` installed:
#: :func:`invariants.frameworks.torch.model.read_only`), not widened to float32 copies
BFLOAT16_VIEWS = importlib.util.find_spec("ml_dtypes") is not None

#: bytes a value of a copy in the tensor's own dtype (Keras' reader; another name: 4)
ITEMSIZE = {"bfloat16": 2, "float16": 2, "float32": 4, "float64": 8}
#: in memory: bytes of temporaries per value of the largest tensor (a mask byte, the magnitudes in float64
#: at most, the flagged indices are few)
PER_VALUE_TEMP = 9
#: float64 copies of a tensor's (at most ``max_values``) sample alive at once (the values, the sorted pool,
#: a CDF evaluation)
SAMPLE_COPIES = 4
#: probe moments, report rows, interpreter growth during the check
BASE_BYTES = 256 * 2**20
#: in memory, seconds per tensor (the per-tensor battery on a bounded sample) and per value (views,
#: digests, extreme values, the probe's matrix products)
SECONDS_PER_TENSOR = 0.05
SECONDS_PER_VALUE = 1e-7
#: streamed: peak = this x the largest module in float32 (its tensor, the numpy view or copy, the checks'
#: temporaries); seconds per module and per billion values (init, digests)
STREAM_PEAK_FACTOR = 4.2
#: the probe's forward and backward pass holds this x the bytes of every layer's output
#: (:func:`activation_bytes`: the activations, their gradients, the framework's temporaries and the
#: per-layer float64 statistics), and takes :data:`SECONDS_PER_ACTIVATION_GB` a GB of them; upper fits of
#: ``benchmarks/model_cost.py`` (Keras MobileNetV2 at batch 32 and 4, torch ResNet-18, small MLPs)
ACTIVATION_FACTOR = 2.5
SECONDS_PER_ACTIVATION_GB = 12.0
SECONDS_PER_MODULE = 0.69
SECONDS_PER_BILLION = 56.0
#: a JAX-traced probe (Keras on JAX, Flax, Equinox) jits its whole forward and backward pass as one XLA program
#: (:func:`invariants.frameworks.jax.probe.perturbed_pass`); on a cold compile cache XLA's compile takes about
#: this many seconds a layer of it (:func:`shape_pass`'s count).  Fit of ``benchmarks/compile_cost.py`` on the
#: shared 2-core development machine, within 2x of every measured cold wall but the 24-layer Equinox CNN's
#: (over by 2.1-2.3x; figures in the module docstring): a middle fit, not an upper bound
SECONDS_PER_COMPILED_LAYER = 0.18


def tensor_sizes(obj: Any) -> Iterator[tuple[int, int, bool]]:
    """``(values, bytes of the copy the reader makes, 0 if none; is the tensor off the CPU)`` for every
    distinct parameter tensor of a model in any accepted form (:func:`unpack_model`), from shapes and
    dtypes only: a torch module's ``parameters()``, a Keras model's ``trainable_weights``, else every array leaf
    (``shape`` and ``dtype``) of the model and its variables (Flax variables, reference params, an
    Equinox or MLX module's arrays)."""
    parts = unpack_model(obj)
    model = parts.model
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        for p in model.parameters():
            off = p.device.type != "cpu"
            widened = p.dtype == torch.bfloat16 and not BFLOAT16_VIEWS
            copy = p.numel() * (4 if widened else p.element_size()) if (widened or off) else 0
            yield int(p.numel()), int(copy), off
        return
    weights = getattr(model, "weights", None)
    if isinstance(weights, (list, tuple)) and not callable(weights):
        # Keras: views on the JAX backend, else each weight copied in its own dtype (convert_to_numpy); the
        # reader takes the trainable weights only (not BatchNorm's moving statistics), so they are what is counted
        keras = sys.modules.get("keras")
        copied = keras is None or keras.backend.backend() != "jax"
        seen = set()
        for w in getattr(model, "trainable_weights", weights):
            if id(w) not in seen:
                seen.add(id(w))
                n, _, off = _leaf(w)
                yield n, (n * ITEMSIZE.get(str(getattr(w, "dtype", "")), 4) if copied else 0), off
        return
    for leaf in _leaves((model, parts.variables)):
        yield _leaf(leaf)


def _leaf(x: Any) -> tuple[int, int, bool]:
    """``(values, bytes copied, off the CPU)`` of an array leaf read as a view: nothing copied but an MLX
    bfloat16 array without ``ml_dtypes`` (widened to float32); JAX arrays are ``ml_dtypes`` bfloat16 already."""
    n = 1
    for s in tuple(getattr(x, "shape", ())):
        n *= int(s)
    widened = not BFLOAT16_VIEWS and "bfloat16" in str(getattr(x, "dtype", "")) and type(x).__module__.startswith("mlx")
    return n, (4 * n if widened else 0), False


def _leaves(x: Any, depth: int = 0) -> Iterator[Any]:
    """Array-like leaves (``shape`` and ``dtype``) of nested dicts, lists, tuples and module objects."""
    if depth > 64 or x is None or isinstance(x, (str, bytes, int, float, bool)):
        return
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        yield x
        return
    if isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v, depth + 1)
        return
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from _leaves(v, depth + 1)
        return
    params = getattr(x, "parameters", None)  # an MLX module: a nested dict of arrays
    if callable(params) and type(x).__module__.startswith("mlx"):
        yield from _leaves(params(), depth + 1)
        return
    jax = sys.modules.get("jax")
    if jax is not None and depth <= 1:  # the model itself (an Equinox module) sits at depth 1 of (model, variables)
        yield from (leaf for leaf in jax.tree_util.tree_leaves(x) if hasattr(leaf, "shape"))


def activation_bytes(obj: Any, example_input: Any = None, batch: int = 32, seed: int = 0) -> int | None:
    """:func:`shape_pass`'s bytes: every layer's output on the probe batch (``None``: no shape pass)."""
    return shape_pass(obj, example_input, batch, seed)[0]


def shape_pass(obj: Any, example_input: Any = None, batch: int = 32, seed: int = 0) -> tuple[int | None, int]:
    """``(bytes, compiled layers)``: the bytes of every layer's output on the probe batch, from shapes only (no
    value computed), or ``None`` where no shape pass is made (the estimate then excludes the probe's activations
    and says so); and the layers of the one XLA program a JAX-traced probe jits (0: nothing compiled), read
    from the same shapes: every layer counted below (Keras: on the JAX backend), when the probe jits its pass
    (an output of more than 2 axes, batch included, or a Keras recurrent layer:
    :func:`invariants.frameworks.jax.probe.perturbed_pass` and the Equinox probe), else 0 (dense-only models
    run op by op; torch and MLX compile nothing).

    * **torch** — one forward pass on the ``meta`` device (every parameter and buffer swapped for a meta
      twin and the originals put back, :func:`_swapped`: shapes and dtypes only, the model untouched), else,
      for a model that makes CPU tensors inside its forward, under
      ``torch._subclasses.fake_tensor.FakeTensorMode`` (with fake twins swapped in the same way), on the probe
      input (``example_input``, the one packed
      with the model, else :func:`invariants.frameworks.torch.model.infer_input` with ``batch``; 0 when no
      input can be inferred: no probe runs), summing the outputs of the modules without children (each
      tensor object once: an in-place ReLU's output is its input; a view such as ``Flatten``'s counts again,
      an overestimate);
    * **Keras** — the symbolic ``layer.output`` shapes of a model with ``model.inputs`` (a functional or
      built ``Sequential`` model), every layer once, batch = the example input's first axis else ``batch``,
      unknown axes 8 (as :func:`invariants.frameworks.keras.model` infers the probe input), scaled by the
      example input's values per sample over the declared ones (a larger image: larger maps);
    * **Flax**: every submodule's output from ``jax.eval_shape`` of ``module.apply(...,
      capture_intermediates=True)`` (shapes only) on the given input (``example_input``, ``--input-shape``,
      or packed with the model), else on the probe's inferred one
      (:func:`invariants.frameworks.flax.model.infer_input`);
    * **Equinox**: every weight layer's output and input from ``jax.eval_shape`` of the probe's tapped
      forward (:func:`invariants.frameworks.equinox.model.layer_io_shapes`), on the given or inferred input
      (compiled layers: the weight layers);
    * **MLX**: the same from MLX's lazy graph, nothing evaluated
      (:func:`invariants.frameworks.mlx.model.layer_io_bytes`);
    * reference networks: ``None`` (not estimated yet).

    The probe's forward and backward pass keeps about :data:`ACTIVATION_FACTOR` times this
    (:func:`model_cost`).  Any failure of the shape pass (a model the fake mode cannot trace) gives ``None``.
    """
    parts = unpack_model(obj)
    model = parts.model
    torch = sys.modules.get("torch")
    if (torch is not None and isinstance(model, torch.nn.Module)) or type(model).__module__.startswith("keras") \
            or hasattr(model, "_flatten_layers"):
        parts = parts.second_as_input()  # torch and Keras read ``(model, x)``'s second element as the input
    x = example_input if example_input is not None else parts.input
    try:
        if torch is not None and isinstance(model, torch.nn.Module):
            return _torch_shape_pass(torch, model, x, batch, seed)
        if type(model).__module__.startswith("keras") or hasattr(model, "_flatten_layers"):
            return _keras_shape_pass(model, x, batch)
        linen = sys.modules.get("flax.linen")
        if linen is not None and isinstance(model, linen.Module):
            return _flax_shape_pass(model, parts.variables, x, parts.apply_kwargs, batch, seed)
        eqx = sys.modules.get("equinox")
        if eqx is not None and isinstance(model, eqx.Module):
            return _equinox_shape_pass(model, x, parts.apply_kwargs, batch, seed)
        mlx_nn = sys.modules.get("mlx.nn")
        if mlx_nn is not None and isinstance(model, mlx_nn.Module):
            return _mlx_shape_pass(model, x, batch, seed)
    except (Exception, SystemExit):  # noqa: BLE001 - a model the shape pass cannot trace (a forward that calls
        # sys.exit included: the probe reports it): the estimate says it excludes the activations
        return None, 0
    return None, 0


def _torch_shape_pass(torch: Any, model: Any, x: Any, batch: int, seed: int) -> tuple[int | None, int]:
    from invariants.frameworks.torch.model import as_tensors, inferred_input
    if x is None:
        try:
            x = inferred_input(model, batch, seed)[0]
        except ValueError:  # no input can be made: the probe will not run either (the report says so)
            return 0, 0
    else:
        x = as_tensors(x)
    seen: dict[int, int] = {}
    keep: list[Any] = []  # outputs alive until the sum: ids stay unique

    def hook(_m: Any, _i: Any, out: Any) -> None:
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, torch.Tensor) and id(t) not in seen:
                keep.append(t)
                seen[id(t)] = int(t.numel()) * t.element_size()

    def call(to: Any) -> None:
        def conv(v: Any) -> Any:
            if isinstance(v, torch.Tensor):
                return to(v)
            if isinstance(v, dict):
                return {k: conv(w) for k, w in v.items()}
            if isinstance(v, (tuple, list)):
                return type(v)(conv(w) for w in v)
            return v
        fx = conv(x)
        args, kwargs = ((), fx) if isinstance(fx, dict) else (fx if isinstance(fx, tuple) else (fx,), {})
        with torch.no_grad():
            model(*args, **kwargs)

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        try:  # meta tensors: milliseconds; a model that makes CPU tensors inside its forward cannot mix them
            with _swapped(torch, model, lambda v: torch.empty_like(v, device="meta")):
                call(lambda v: v.to("meta"))
        except Exception as exc:  # noqa: BLE001 - a CPU tensor made inside the forward: fake tensors instead
            if "device" not in str(exc):  # any other failure (a wrong input shape) fails the probe too
                raise
            import logging

            from torch._subclasses.fake_tensor import FakeTensorMode

            seen.clear()
            log = logging.getLogger("torch._subclasses.fake_tensor")  # its failures are ours to report
            was, log.disabled = log.disabled, True
            try:
                with FakeTensorMode(allow_non_fake_inputs=True) as mode, _swapped(torch, model, mode.from_tensor):
                    call(mode.from_tensor)
            finally:
                log.disabled = was
    finally:
        for h in handles:
            h.remove()
    return (sum(seen.values()) if seen else None), 0  # torch runs op by op: nothing compiled


@contextlib.contextmanager
def _swapped(torch: Any, model: Any, make: Any) -> Iterator[None]:
    """Every parameter and buffer of ``model`` replaced by its twin ``make(tensor)`` (a meta tensor or a fake
    tensor of its shape and dtype) inside the block, and the very original objects put back after it, whatever
    the block raised: their devices, storages and values are never touched, not even by a forward that
    updates its buffers in place (BatchNorm's ``num_batches_tracked += 1``, which fake mode alone writes
    through to the real buffer).

    Each distinct module is visited once and each distinct tensor gets one twin, so a parameter tied
    across modules stays tied and a module registered under two paths (timm CoaT's shared ``cpe``/``crpe``
    modules) is swapped and restored once.  Not ``torch.func.functional_call``: it records the originals per
    *name*, so a module under two names is restored from the second name's record, which is already the
    meta tensor, and keeps it (torch 2.13, ``torch.nn.utils.stateless._reparametrize_module``): the user's
    model was left on the meta device and every later read of it crashed.
    """
    twins: dict[int, Any] = {}
    saved: list[tuple[Any, str, Any]] = []

    def twin(v: Any) -> Any:
        if id(v) not in twins:
            t = make(v)
            twins[id(v)] = torch.nn.Parameter(t, v.requires_grad) if isinstance(v, torch.nn.Parameter) else t
        return twins[id(v)]

    try:
        for mod in model.modules():  # distinct modules only
            for k, v in [*mod.named_parameters(recurse=False, remove_duplicate=False),
                         *mod.named_buffers(recurse=False, remove_duplicate=False)]:
                saved.append((mod, k, v))
                setattr(mod, k, twin(v))
        yield
    finally:
        for mod, k, v in reversed(saved):
            setattr(mod, k, v)


def _flax_shape_pass(module: Any, variables: Any, x: Any, kwargs: dict, batch: int,
                           seed: int) -> tuple[int, int]:
    import jax
    import numpy as np

    if x is None:  # the probe's own inferred input (invariants.frameworks.flax.model.view)
        from invariants.frameworks.flax.model import extract_params, infer_input

        tree = variables if "params" in variables else {"params": variables}
        try:
            x = infer_input(extract_params(tree)[1], batch, np.random.default_rng(seed))[0]
        except ValueError:  # no input can be made: the probe will not run either (the report says so)
            return 0, 0

    def intermediates(v: Any, inp: Any) -> Any:
        return module.apply(v, inp, capture_intermediates=True, mutable=["intermediates"], **kwargs)[1]

    leaves = jax.tree_util.tree_leaves(jax.eval_shape(intermediates, variables, x))
    # the probe jits its pass when an output has more than 2 axes (perturbed_pass), else runs it op by op
    compiled = len(leaves) if any(len(leaf.shape) > 2 for leaf in leaves) else 0
    return sum(int(np.prod(leaf.shape)) * np.dtype(leaf.dtype).itemsize for leaf in leaves), compiled


def _equinox_shape_pass(model: Any, x: Any, kwargs: dict, batch: int, seed: int) -> tuple[int, int]:
    """Every weight layer's output and input (:func:`invariants.frameworks.equinox.model.layer_io_shapes`) on
    the given or the probe's inferred input: an Equinox forward has no per-module outputs to hook beyond its
    nodes, so a layer's input stands for the activation before it."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from invariants.frameworks.equinox.model import extract_params, infer_input, layer_io_shapes

    if x is None:
        try:
            x = infer_input(extract_params(model)[1], batch, np.random.default_rng(seed))[0]
        except ValueError:
            return 0, 0
    x = jnp.asarray(x)
    zs, inputs = layer_io_shapes(model, x, kwargs, seed)
    leaves = jax.tree_util.tree_leaves((zs, inputs))
    # one example's shapes: the probe jits its vmapped pass when an output has more than 1 axis (probe)
    compiled = len(zs) if any(len(z.shape) > 1 for z in jax.tree_util.tree_leaves(zs)) else 0
    return int(x.shape[0]) * sum(int(np.prod(v.shape)) * np.dtype(v.dtype).itemsize for v in leaves), compiled


def _mlx_shape_pass(model: Any, x: Any, batch: int, seed: int) -> tuple[int, int]:
    """As :func:`_equinox_shape_pass`, from MLX's lazy graph
    (:func:`invariants.frameworks.mlx.model.layer_io_bytes`: shapes known, nothing evaluated)."""
    import numpy as np

    from invariants.frameworks.mlx.model import extract_params, float_dtype, infer_input, layer_io_bytes

    if x is None:
        try:
            x = infer_input(extract_params(model)[1], batch, np.random.default_rng(seed), float_dtype(model))[0]
        except ValueError:
            return 0, 0
    return layer_io_bytes(model, x), 0  # MLX evaluates lazily: no XLA program


def _keras_shape_pass(model: Any, x: Any, batch: int) -> tuple[int | None, int]:
    import numpy as np

    from invariants.frameworks.keras.model import RECURRENT_LAYERS

    inputs = list(getattr(model, "inputs", None) or [])
    if not inputs:
        return None, 0

    def per_sample(shape: Any) -> int:
        n = 1
        for d in tuple(shape)[1:]:
            n *= 8 if d is None else int(d)
        return n

    first = x[0] if isinstance(x, (list, tuple)) and x else next(iter(x.values())) if isinstance(x, dict) else x
    scale = 1.0
    if first is not None and np.ndim(first) >= 1:
        batch = int(np.shape(first)[0])
        declared = per_sample(inputs[0].shape)
        scale = int(np.prod(np.shape(first)[1:])) / declared if declared else 1.0
    total = layers = 0
    jit = False  # the probe jits its pass when an output has more than 2 axes or a layer is recurrent
    for layer in model._flatten_layers(include_self=False, recursive=True):
        jit = jit or type(layer).__name__ in RECURRENT_LAYERS
        try:
            outs = layer.output
        except (AttributeError, ValueError):  # a layer called more than once or never: counted by its callers
            continue
        layers += 1
        for t in (outs if isinstance(outs, (list, tuple)) else (outs,)):
            shape = getattr(t, "shape", None)
            if shape is not None:
                total += per_sample(shape) * ITEMSIZE.get(str(getattr(t, "dtype", "")), 4)
                jit = jit or len(tuple(shape)) > 2
    keras = sys.modules.get("keras")
    on_jax = keras is not None and keras.backend.backend() == "jax"
    return (int(total * batch * scale) or None), (layers if jit and on_jax else 0)


def model_cost(obj: Any, max_values: int) -> Cost:
    """The :class:`~invariants.core.cost.Cost` of checking ``obj`` (see the module docstring).

    Args:
        obj: the model in any accepted form (a meta-device torch module is costed as streamed).
        max_values: ``Profile.max_values``, the per-tensor sample cap.
    """
    from invariants.modelcheck.stream import streams

    if streams(obj):
        from invariants.frameworks.torch.stream import plan

        p = plan(unpack_model(obj).model)
        largest = max((m[1] for m in p.modules), default=0)
        return Cost(int(p.values), int(STREAM_PEAK_FACTOR * largest * 4),
                    SECONDS_PER_MODULE * len(p.modules) + SECONDS_PER_BILLION * p.values / 1e9)
    sizes = list(tensor_sizes(obj))
    values = sum(n for n, _, _ in sizes)
    largest = max((n for n, _, _ in sizes), default=0)
    copies = sum(c for _, c, _ in sizes)
    peak = copies + PER_VALUE_TEMP * largest + SAMPLE_COPIES * 8 * min(largest, max_values) + BASE_BYTES
    return Cost(int(values), int(peak), SECONDS_PER_TENSOR * len(sizes) + SECONDS_PER_VALUE * values)


def estimate(obj: Any, max_values: int, example_input: Any = None, batch: int = 32, seed: int = 0,
             probe: bool = True) -> tuple[Cost, str | None]:
    """The cost of checking ``obj`` with its probe pass, and a note on what the estimate leaves out or assumes
    (``None``: nothing to say).

    :func:`model_cost` (the parameters) plus, when ``probe``, :data:`ACTIVATION_FACTOR` times the probe's
    layer outputs (:func:`shape_pass` on ``example_input`` or the inferred input of ``batch``) in
    memory and :data:`SECONDS_PER_ACTIVATION_GB` a GB of them in time, plus the XLA compile of a JAX-traced
    probe (Keras on JAX, Flax, Equinox; not torch or MLX): :data:`SECONDS_PER_COMPILED_LAYER` a layer of the
    program it jits, on a **cold** compile cache; the note then says so and gives the estimate without it
    (a program already in JAX's persistent cache, :mod:`invariants.core.compile_cache`, is read, not
    compiled).  Whether this model's program is cached is not looked up: that needs the traced program, and
    the estimate traces nothing.  Where no shape pass is made (reference networks, a model the pass cannot
    trace) the note says the estimate excludes the probe's activations.  A meta-device model is streamed
    without a probe: no activations, nothing compiled.
    """
    from invariants.modelcheck.stream import streams

    cost = model_cost(obj, max_values)
    if not probe or streams(obj):
        return cost, None
    act, layers = shape_pass(obj, example_input, batch, seed)
    if act is None:
        return cost, "excludes the probe's activations: no shape pass for this model"
    cost = Cost(cost.values, cost.bytes + int(ACTIVATION_FACTOR * act),
                cost.seconds + SECONDS_PER_ACTIVATION_GB * act / 1e9)
    if not layers:
        return cost, None
    compile_s = SECONDS_PER_COMPILED_LAYER * layers
    return Cost(cost.values, cost.bytes, cost.seconds + compile_s), compile_note(compile_s, layers, cost.seconds)


def compile_note(compile_s: float, layers: int, without: float) -> str:
    """What :func:`estimate` says of its compile term: the seconds, the layers, that they assume a cold cache,
    and the estimate without them, with where the persistent cache is (or that none is set: the Python API
    without :func:`invariants.core.compile_cache.configure`, which the command line calls)."""
    from invariants.core.cost import format_seconds

    jax = sys.modules.get("jax")
    folder = getattr(getattr(jax, "config", None), "jax_compilation_cache_dir", None) or \
        os.environ.get("JAX_COMPILATION_CACHE_DIR")
    where = (f"about {format_seconds(without)} once compiled (JAX's persistent cache: {folder})" if folder else
             "no persistent compile cache is set: every process compiles it again")
    return f"of it about {format_seconds(compile_s)} XLA compile of the probe ({layers} layers, a cold cache); {where}"


#: how to ask check-model for less when a limit refuses it (:class:`invariants.core.cost.ResourceLimit`):
#: ``(Python API, command line)``; the probe's activations grow with its batch, and without the probe there are none
LESS = ("a smaller example_input or input_shape batch, or probe=False: no activations",
        "--input-shape with a smaller batch, e.g. its first number 4, or --no-probe: no activations")

FLOOR = (f"the estimate holds a fixed {BASE_BYTES // 2**20} MiB floor (probe moments, report, interpreter) that no "
         "option lowers")


def less_hint(probe: bool, batch: int | None) -> tuple[str, str]:
    """:data:`LESS` without what the run already does, with the fixed memory floor (:data:`BASE_BYTES`) stated.

    Args:
        probe: whether the probe pass was asked for (without it there are no activations to shrink).
        batch: the probe batch the user gave (the first number of ``input_shape``, the leading axis of
            ``example_input``), ``None`` when not given (then the default probe batch applies).

    Returns:
        ``(Python API, command line)`` hints for :class:`invariants.core.cost.ResourceLimit`.
    """
    if not probe:
        return (f"nothing left to drop: the probe is off, and {FLOOR}",) * 2  # type: ignore[return-value]
    if batch is not None and batch <= 4:
        return (f"probe=False: no activations; {FLOOR}", f"--no-probe: no activations; {FLOOR}")
    return (f"{LESS[0]}; {FLOOR}", f"{LESS[1]}; {FLOOR}")


__all__ = ["FLOOR", "LESS", "less_hint", "ACTIVATION_FACTOR", "BASE_BYTES", "BFLOAT16_VIEWS", "ITEMSIZE", "PER_VALUE_TEMP",
           "SAMPLE_COPIES", "SECONDS_PER_ACTIVATION_GB", "SECONDS_PER_BILLION", "SECONDS_PER_COMPILED_LAYER",
           "SECONDS_PER_MODULE", "SECONDS_PER_TENSOR", "SECONDS_PER_VALUE", "STREAM_PEAK_FACTOR", "activation_bytes",
           "compile_note", "estimate", "model_cost", "shape_pass", "tensor_sizes"]
