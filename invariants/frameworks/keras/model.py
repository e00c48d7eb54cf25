"""Keras 3 models -> :class:`~invariants.frameworks.model.ModelView`.

Parameters are the *trainable* variables (BatchNorm moving statistics are state, not parameters),
each assigned to the innermost layer that owns it, named by ``variable.path``
(``"sequential/dense/kernel"``; made unique where two variables share one, :func:`param_names`).  Layers, nodes,
biases and probe records are keyed by the layer's path in the model (:func:`layer_paths`), never its bare name.  Layer semantics by class: ``Dense`` (dense), ``Conv{1,2,3}D``
(conv, groups from ``layer.groups``), ``DepthwiseConv{1,2}D`` (``(*k, C_in, m)``),
``Conv{1,2,3}DTranspose`` (``(*k, C_out, C_in)``), ``Embedding``, ``EinsumDense`` (a
:class:`~invariants.layers.Kernel` from its declared equation, e.g. ``MultiHeadAttention``'s
``(d, heads, head_dim)`` kernels; a node whose units are the output's trailing axes), ``LSTM``/``GRU``/``SimpleRNN``
cells (``kernel`` and ``recurrent_kernel`` packed along the last axis), normalization layers
(``gamma``/``scale`` and ``beta``; a library's own norm by what it holds, :func:`invariants.frameworks.keras.norms.
is_norm`, and an all-zero scale run to see what it does), an untied ``ReversibleEmbedding``'s ``reverse_embeddings``
(``(dim, vocab)``: a dense map, no node).  The activation of a node is its own ``activation`` argument, or
an activation layer that directly follows it in a ``Sequential`` model.  ``SeparableConv{1,2}D``: two kernels, no
node (:func:`separable_layer`).

**Probe** (JAX backend only; other backends get a static check and a note).  Each node's ``call`` is
wrapped on the instance for the duration of the probe: the layer's own activation is switched off,
``z + ε`` is formed, and the activation is applied after it, so ``∂L/∂ε = ∂L/∂z`` is the gradient at the
pre-activation.  The model runs through ``model.stateless_call(..., training=True)`` (no variable is
updated) under ``jax.value_and_grad`` with respect to ``ε``; ``ε`` is sized from the shapes of the functional
graph (:func:`graph_shapes`, checked against the pass), or, where the graph does not give them, from a first,
shape-only run.

``Node.scale_invariant`` is read from the functional graph (the layers consuming a node's output,
:func:`mark_scale_invariant`).  The probe also passes each node's first input as ``x + ε_x`` and keeps
the moments of ``x`` and ``∂L/∂x`` (:mod:`invariants.frameworks.jax.probe`).

Probe input: ``example_input``, else ``model.inputs`` (unknown dims: batch ``B``, others 8), else the
first node (``Dense(in)``, ``Conv2D`` on ``(B, 16, 16, C)``, ``Embedding`` on token ids ``(B, 8)``).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from invariants.frameworks.keras import choose_backend  # noqa: E402

choose_backend()  # before keras is imported: Keras' default backend (tensorflow) is not installed here

import keras  # noqa: E402

from invariants.layers import (KERAS, RECURRENT, Conv, ConvTranspose, Dense, Depthwise, Embedding, Kernel,  # noqa: E402
                               Layer)
from invariants.frameworks.keras.norms import is_norm, norm_role, zero_scale_passes  # noqa: E402
from invariants.frameworks.model import (  # noqa: E402
    ModelView,
    Node,
    Param,
    Probe,
    Signal,
    activation_key,
    varies,
)

KL = keras.layers


def is_model(obj: Any) -> bool:
    return isinstance(obj, KL.Layer)


#: Keras layer classes whose probe pass is jitted even when every output is 2-D (their loops traced op by op
#: are slow): read by the probe and by the cost estimate's compile term (:mod:`invariants.modelcheck.cost`)
RECURRENT_LAYERS = ("LSTM", "GRU", "SimpleRNN", "RNN")


def _flat_layers(model: Any) -> list[Any]:
    flat = getattr(model, "_flatten_layers", None)
    if flat is not None:
        return [l for l in flat(include_self=False, recursive=True)]
    out: list[Any] = []

    def walk(l: Any) -> None:
        for s in getattr(l, "layers", []):
            out.append(s)
            walk(s)

    walk(model)
    return out


def einsum_kernel(equation: str, shape: tuple[int, ...]) -> tuple[Kernel, bool] | None:
    """The :class:`~invariants.layers.Kernel` of an ``EinsumDense`` kernel from its declared equation
    (``keras/src/layers/core/einsum_dense.py``, ``_analyze_split_string``: ``"input,kernel->output"``), and
    whether its output units are the output's trailing axes (then it is a node).

    Kernel axes in the input only are input axes (contracted), in the output only output axes; an axis in
    input, kernel and output indexes independent matrices (per-head weights): a batch axis, in neither fan.
    E.g. a multi-head attention query kernel ``"abc,cde->abde"`` of shape ``(d, heads, head_dim)``: fans
    ``(d, heads·head_dim)``, units ``heads·head_dim`` (the output's last two axes); its output kernel
    ``"abcd,cde->abe"`` of shape ``(heads, head_dim, d)``: ``(heads·head_dim, d)``.  The units are the
    output's trailing axes when the output spec ends with the kernel's batch then output axes in the
    kernel's order (the order :meth:`~invariants.layers.Kernel.unit_rows` gives).  ``None`` when the
    equation does not parse or does not match the shape.  (Keras' own ``EinsumDense.build`` hands
    ``VarianceScaling`` initializers ``input_axes`` = the input-only axes and ``output_axes`` = every
    other axis, batch axes included: the framework fans.)"""
    eq = equation.replace(" ", "").replace("...", "")
    try:
        lhs, out = eq.split("->")
        inp, ker = lhs.split(",")
    except ValueError:
        return None
    if len(ker) != len(shape) or not ker.isalpha() or len(set(ker)) != len(ker):
        return None
    in_axes = tuple(i for i, a in enumerate(ker) if a not in out)
    out_axes = tuple(i for i, a in enumerate(ker) if a in out and a not in inp)
    batch = tuple(i for i, a in enumerate(ker) if a in out and a in inp)
    if not in_axes or not out_axes:
        return None
    kernel = Kernel(tuple(int(n) for n in shape), in_axes, out_axes, batch)
    units = "".join(ker[i] for i in batch + out_axes)
    return kernel, out.endswith(units)


def einsum_fans(equation: str, shape: tuple[int, ...]) -> tuple[int, int] | None:
    """Textbook ``(fan_in, fan_out)`` of an ``EinsumDense`` kernel (:func:`einsum_kernel`), ``None`` as there."""
    k = einsum_kernel(equation, shape)
    return k[0].textbook_fans() if k is not None else None


def trailing_units(a: np.ndarray, n_units: int) -> np.ndarray:
    """``a`` flattened to ``(M, n_units)`` when its trailing axes hold ``n_units`` entries (an ``EinsumDense``
    output ``(B, T, heads, head_dim)``: units ``heads·head_dim``).

    Raises:
        ValueError: no run of trailing axes (short of the batch axis) has ``n_units`` entries.
    """
    a = np.asarray(a)
    k, p = a.ndim, 1
    while k > 1 and p < n_units:
        k -= 1
        p *= a.shape[k]
    if p != n_units:
        raise ValueError(f"output of shape {a.shape} has no trailing axes holding {n_units} units")
    return a.reshape(-1, n_units)


def _layer_of(l: Any, shape: tuple[int, ...]) -> tuple[Layer | None, str, bool]:
    """(layer semantics, weight role, whether it is a node) for layer ``l``'s main kernel.  An
    ``EinsumDense`` kernel (any rank) is a :class:`~invariants.layers.Kernel` from its equation
    (:func:`einsum_kernel`), a node when its units are the output's trailing axes."""
    if isinstance(l, KL.Dense) and len(shape) == 2:
        return Dense(shape[0], shape[1]), "weight", True
    if type(l).__name__ == "EinsumDense" and isinstance(getattr(l, "equation", None), str):
        k = einsum_kernel(l.equation, shape)
        return (k[0], "weight", k[1]) if k is not None else (None, "weight", False)
    if isinstance(l, KL.Embedding):
        return Embedding(shape[0], shape[1]), "embedding", True
    name = type(l).__name__
    nd = len(shape) - 2
    if nd in (1, 2, 3) and "Transpose" in name:
        cout, cin = shape[-2], shape[-1]
        return ConvTranspose(cin, cout, shape[:-2]), "weight", True
    if nd in (1, 2) and name.startswith("DepthwiseConv"):
        c, m = shape[-2], shape[-1]
        return Depthwise(c, c * m, shape[:-2]), "weight", True
    if nd in (1, 2, 3) and name.startswith("Conv"):
        g = int(getattr(l, "groups", 1) or 1)
        cin, cout = shape[-2] * g, shape[-1]
        if g == cin and g > 1 and cout % cin == 0:
            return Depthwise(cin, cout, shape[:-2]), "weight", True
        return Conv(cin, cout, shape[:-2], groups=g), "weight", True
    return None, "weight", False


#: ``SeparableConv{1,2}D``'s two kernels (``keras/src/layers/convolutional/base_separable_conv.py``)
SEPARABLE_KERNELS = ("depthwise_kernel", "pointwise_kernel")


def separable_layer(var_name: str, shape: tuple[int, ...]) -> Layer:
    """A ``SeparableConv{1,2}D`` kernel's semantics: ``depthwise_kernel`` ``(*k, C_in, m)`` a depthwise conv
    (as ``DepthwiseConv``), ``pointwise_kernel`` ``(*1, C_in·m, filters)`` a 1x1 conv.  Neither is a node:
    the layer's output is the pointwise conv of the depthwise conv's output (no probe reads the map between),
    so the probe's input moments at the layer would not be the pointwise kernel's input."""
    if var_name == "depthwise_kernel":
        return Depthwise(shape[-2], shape[-2] * shape[-1], shape[:-2])
    return Conv(shape[-2], shape[-1], shape[:-2])


def _rnn_layer(cell: Any, var_name: str, shape: tuple[int, ...]) -> tuple[str, Layer | None]:
    name = type(cell).__name__
    pk = "lstm" if "LSTM" in name else "gru" if "GRU" in name else "rnn"
    if var_name == "bias":
        return "bias", None
    if len(shape) != 2 or var_name not in ("kernel", "recurrent_kernel"):
        return "other", None
    units = int(getattr(cell, "units", shape[1]))
    if pk == "rnn":
        return "recurrent", Dense(shape[0], units)
    return "recurrent", RECURRENT[pk](shape[0], units)


def _act_name(fn: Any) -> str | None:
    name = getattr(fn, "__name__", None)
    return None if name in (None, "linear") else name


def _activation_layer_name(l: Any) -> str | None:
    if isinstance(l, KL.ReLU):
        return "relu"
    if isinstance(l, KL.LeakyReLU):
        return "leaky_relu"
    if isinstance(l, KL.Activation):
        return _act_name(l.activation)
    if type(l).__name__ in ("ELU", "PReLU", "Softmax"):
        return type(l).__name__.lower()
    return None


def _unique(base: str, used: set[str]) -> str:
    """``base``, else ``base~2``, ``base~3``, ... the first not in ``used`` (added to it)."""
    name, k = base, 1
    while name in used:
        k += 1
        name = f"{base}~{k}"
    used.add(name)
    return name


def layer_paths(model: Any) -> dict[int, str]:
    """``{id(layer): path}`` for every sublayer of ``model``: the chain of layer names from the model's direct
    sublayer down (keras-hub's ``transformer_layer_0/self_attention_layer/query``; a ``Sequential``'s
    ``dense``), the key of every layer, node, bias and probe record here.  A bare ``layer.name`` is no key:
    keras-hub reuses inner names (``query``, ``feedforward_output_dense``) in every block, and keying by it
    probed only the last block and credited its figures to all of them.  Neither is ``Variable.path``: a
    variable created outside its layer's build scope is named without the parents (keras-hub T5's encoder and
    decoder ``self_attention/embeddings``).  Breadth-first, so a layer shared by two parents gets its shortest
    chain; two sublayers of one parent with one name (a subclassed layer may do that) get ``~2``, ``~3`` in
    traversal order, so no two layers share a key."""
    paths: dict[int, str] = {}
    used: set[str] = set()
    queue: list[tuple[Any, str]] = [(model, "")]
    while queue:
        parent, prefix = queue.pop(0)
        flat = getattr(parent, "_flatten_layers", None)
        children = flat(include_self=False, recursive=False) if flat is not None else getattr(parent, "layers", [])
        for c in children:
            if id(c) in paths or c is model:
                continue
            paths[id(c)] = path = _unique(prefix + c.name, used)
            queue.append((c, path + "/"))
    return paths


def param_names(variables: list[Any], owner_path: dict[int, str]) -> dict[int, str]:
    """``{id(variable): name}``: its ``Variable.path``, unique.  Distinct variables sharing one path (keras-hub
    T5's ``self_attention/embeddings``, once in the encoder and once in the decoder) are each named by their
    owning layer's path (:func:`layer_paths`) and the variable's own name, ``~2``, ``~3`` where even that
    repeats: a finding, expectation or coverage entry keyed by tensor name never merges two tensors."""
    count: dict[str, int] = {}
    for v in variables:
        count[v.path] = count.get(v.path, 0) + 1
    names: dict[int, str] = {}
    used: set[str] = {path for path, n in count.items() if n == 1}
    for v in variables:
        if count[v.path] == 1:
            names[id(v)] = v.path
            continue
        names[id(v)] = _unique(f"{owner_path[id(v)]}/{v.path.rsplit('/', 1)[-1]}", used)
    return names


def extract_params(model: Any) -> tuple[list[Param], list[Node], dict[str, Any]]:
    """``(params, nodes, {node name: layer})``: every node, bias owner and probe record keyed by the layer's
    path in the model (:func:`layer_paths`), every parameter named by its unique variable path
    (:func:`param_names`)."""
    layers = _flat_layers(model)
    paths = layer_paths(model)
    owner: dict[int, Any] = {}
    for l in reversed(layers):  # pre-order reversed: the innermost owner claims a variable first
        for v in l.trainable_weights:
            owner.setdefault(id(v), l)
    # the model itself (a variable it owns directly) has no path in it: its own name
    owner_path = {id(v): paths.get(id(owner.get(id(v), model)), model.name) for v in model.trainable_weights}
    names = param_names(list(model.trainable_weights), owner_path)
    params: list[Param] = []
    nodes: list[Node] = []
    node_layers: dict[str, Any] = {}
    kernels: dict[int, tuple[Param, Any]] = {}
    jax_backend = keras.backend.backend() == "jax"
    for v in model.trainable_weights:
        l = owner.get(id(v), model)
        key = owner_path[id(v)]
        # on the JAX backend a CPU array's np.asarray is a read-only view (no copy of the model);
        # convert_to_numpy is np.array(x), a copy in the weight's dtype, kept for other backends
        value = np.asarray(v.value) if jax_backend else np.asarray(keras.ops.convert_to_numpy(v.value))
        shape = tuple(int(s) for s in value.shape)
        vname = v.path.rsplit("/", 1)[-1] if "/" in v.path else v.name
        typ = type(l).__name__
        role, lay = "other", None
        is_cell = isinstance(l, (KL.LSTMCell, KL.GRUCell, KL.SimpleRNNCell)) or typ.endswith("Cell")
        if is_cell:
            role, lay = _rnn_layer(l, vname, shape)
        elif is_norm(l):  # keras' *Normalization, or a library's own (keras-hub LlamaLayerNorm): norms.is_norm
            role = norm_role(vname)
        elif vname == "reverse_embeddings" and isinstance(l, KL.Embedding) and len(shape) == 2:
            # an untied ReversibleEmbedding's output projection (keras/src/layers/core/reversible_embedding.py,
            # ReversibleEmbedding.call(reverse=True): logits = inputs @ reverse_embeddings, shape (dim, vocab)):
            # a dense map dim -> vocab in Keras' (in, out) layout; no node, the probe reads no output of its own
            role, lay = "weight", Dense(shape[0], shape[1])
        elif vname in ("kernel", "embeddings"):
            lay, role, is_node = _layer_of(l, shape)
            p = Param(names[id(v)], value, role, key, typ, lay, KERAS)
            params.append(p)
            if is_node and lay is not None:
                kernels[id(l)] = (p, l)
            continue
        elif vname in SEPARABLE_KERNELS and len(shape) >= 3:  # not a node: the layer's input is not the pointwise's
            role, lay = "weight", separable_layer(vname, shape)
        elif vname == "bias":
            role = "bias"
        params.append(Param(names[id(v)], value, role, key, typ, lay, KERAS))
        if role == "norm_scale" and value.size >= 2 and not np.any(value):  # γ·x̂ + β or x̂·(1 + γ): run the norm
            params[-1].zero_scale_passes = zero_scale_passes(l, shape)
    by_path = {p.owner: p for p in params if p.role == "bias"}
    for i, l in enumerate(layers):
        if id(l) not in kernels:
            continue
        p, _ = kernels[id(l)]
        act = _act_name(getattr(l, "activation", None))
        if act is None and isinstance(model, keras.Sequential) and i + 1 < len(layers):
            act = _activation_layer_name(layers[i + 1])
        nodes.append(Node(p.owner, type(l).__name__, p.layer, p, by_path.get(p.owner),  # type: ignore[arg-type]
                          activation=activation_key(act) if act else None))
        node_layers[p.owner] = l
    return params, nodes, node_layers


def _is_scale_free_norm(l: Any) -> bool:
    """BatchNormalization, LayerNormalization, GroupNormalization, RMSNormalization, UnitNormalization (any
    ``*Normalization`` but the preprocessing ``Normalization`` with its fixed mean and variance)."""
    name = type(l).__name__
    return name.endswith("Normalization") and name != "Normalization"


def mark_scale_invariant(nodes: list[Node], node_layers: dict[str, Any]) -> None:
    """Set ``Node.scale_invariant`` from the model graph: ``True`` when every layer consuming the node's
    output is a scale-free normalization (and the node applies no activation of its own), ``False`` when
    another layer consumes it, ``None`` when the graph does not say (a subclassed model)."""
    for node in nodes:
        l = node_layers.get(node.name)
        consumers = [getattr(o, "operation", None) for o in (getattr(l, "_outbound_nodes", None) or [])]
        consumers = [c for c in consumers if c is not None]
        if not consumers:
            continue
        own_act = _act_name(getattr(l, "activation", None))
        node.scale_invariant = own_act is None and all(_is_scale_free_norm(c) for c in consumers)


def param_layer(layer: Any, path: str) -> Layer | None:
    """The layer semantics this extractor gives the variable at ``path`` (a Keras ``Variable.path``, e.g.
    ``"lstm/lstm_cell/kernel"``) of the built ``layer``; ``None`` for a variable without fans (bias, norm)
    or one it does not know.  The catalogue's layer defaults read their layers here, so a Keras layer is
    described once."""
    params, _, _ = extract_params(layer)
    return next((p.layer for p in params if p.name == path), None)


# ------------------------------------------------------------------------------------------ probe


def _infer_input(model: Any, nodes: list[Node], batch: int, rng: np.random.Generator) -> tuple[Any, str]:
    inputs = getattr(model, "inputs", None)
    try:
        specs = list(inputs) if inputs else []
    except (TypeError, ValueError):
        specs = []
    if specs:
        xs = []
        for s in specs:
            shape = tuple(batch if i == 0 else (8 if d is None else int(d)) for i, d in enumerate(s.shape))
            if "int" in str(s.dtype):
                emb = next((n for n in nodes if isinstance(n.layer, Embedding)), None)
                hi = emb.layer.in_features if emb else 2
                xs.append(rng.integers(0, hi, size=shape).astype(str(s.dtype)))
            else:
                xs.append(rng.standard_normal(shape).astype("float32"))
        desc = ", ".join(f"{x.dtype} {x.shape}" for x in xs)
        return (xs[0] if len(xs) == 1 else xs), f"from model.inputs: {desc}"
    if not nodes:
        raise ValueError("cannot infer a probe input (no model.inputs and no Dense, Conv or Embedding layer)")
    lay = nodes[0].layer
    if isinstance(lay, Embedding):
        return rng.integers(0, lay.in_features, size=(batch, 8)).astype("int32"), f"token ids ({batch}, 8)"
    if isinstance(lay, Dense):
        return rng.standard_normal((batch, lay.in_features)).astype("float32"), f"N(0, 1) ({batch}, {lay.in_features})"
    nd = len(lay.kernel)
    shape = (batch,) + ({1: (32,), 2: (16, 16), 3: (8, 8, 8)}[nd]) + (lay.in_features,)
    return rng.standard_normal(shape).astype("float32"), f"N(0, 1) {shape}"


def graph_shapes(model: Any, layers: dict[str, Any], x: Any) -> tuple[list[Any], dict[str, Any], dict[str, Any]] | None:
    """The shapes the probe pass will trace, read from the model's symbolic graph instead of a shape-only trace
    (:func:`invariants.frameworks.jax.probe.perturbed_pass`, which checks them): ``(output, {node: z},
    {node: floating first input})`` as ``jax.ShapeDtypeStruct``, the symbolic batch axis set to ``x``'s.
    ``None`` where the graph does not say: a subclassed model, several outputs or inputs, a node called more than
    once or with several outputs, an axis other than the batch axis unknown."""
    import jax

    def spec(t: Any) -> Any:
        shape = tuple(t.shape)
        if not shape or any(d is None for d in shape[1:]):
            raise ValueError("unknown axis")
        return jax.ShapeDtypeStruct((batch if shape[0] is None else int(shape[0]),) + tuple(int(d) for d in shape[1:]),
                                    np.dtype(t.dtype))

    try:
        outputs = list(model.outputs or [])
        inputs = list(model.inputs or [])
        first_input = x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x
        if len(outputs) != 1 or len(inputs) != 1 or not len(getattr(first_input, "shape", ())):
            return None
        batch = int(first_input.shape[0])
        zs, xs = {}, {}
        for name, l in layers.items():
            calls = getattr(l, "_inbound_nodes", None) or []
            if len(calls) != 1 or len(calls[0].outputs) != 1 or not calls[0].arguments.args:
                return None
            zs[name] = spec(calls[0].outputs[0])
            first = calls[0].arguments.args[0]
            if not isinstance(first, keras.KerasTensor):
                return None
            if np.issubdtype(np.dtype(first.dtype), np.floating) and len(first.shape):
                xs[name] = spec(first)
        return [spec(outputs[0])], zs, xs
    except (AttributeError, TypeError, ValueError):  # no symbolic graph to read: the pass traces the shapes
        return None


def probe(model: Any, nodes: list[Node], layers: dict[str, Any], x: Any, batch: int, seed: int, desc: str) -> Probe:
    """One jitted forward/backward pass through ``stateless_call`` (see the module docstring).

    Raises:
        RuntimeError: a backend other than JAX.
        Exception: whatever the model raises.
    """
    if keras.backend.backend() != "jax":
        raise RuntimeError(f"the probe needs the jax backend (this is {keras.backend.backend()!r})")
    import jax

    from invariants.frameworks.jax.probe import new_state, perturbed_pass, record, record_input  # jax backend only
    from invariants.frameworks.keras.batchstats import watch
    from invariants.frameworks.keras.calls import wrap_calls

    state = new_state()
    shapes = graph_shapes(model, layers, x)
    names = {id(l): name for name, l in layers.items()}

    def wrap(l: Any, orig: Callable[..., Any]) -> Callable[..., Any]:
        name = names[id(l)]

        def call(*args: Any, **kwargs: Any) -> Any:
            args = record_input(state, name, args)
            act = getattr(l, "activation", None)
            if act is not None:
                object.__setattr__(l, "activation", None)
            try:
                z = orig(*args, **kwargs)
            finally:
                if act is not None:
                    object.__setattr__(l, "activation", act)
            z = record(state, name, z, args)
            return act(z) if act is not None else z

        return call

    def run(eps: Any, weights: Any) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
        state.update(new_state(), eps=eps)
        out, _ = model.stateless_call(*weights, x, training=True)
        return jax.tree_util.tree_leaves(out), dict(state["z"]), dict(state["inp"]), dict(state["x"])

    unwrap = wrap_calls(layers.values(), wrap)
    stats, unwatch = watch(_flat_layers(model), lambda: state["order"][-1] if state["order"] else None,
                           layer_paths(model))
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    try:
        # Keras recurrent layers are jitted even when every z is 2-D
        recurrent = any(type(l).__name__ in RECURRENT_LAYERS for l in _flat_layers(model))
        zs, inp, outs, grads, xin = perturbed_pass(run, seed, force_jit=recurrent, weights=(tv, ntv), shapes=shapes)
        order = list(state["order"])
    finally:
        unwatch()
        unwrap()
        state["eps"] = None
    by_name = {n.name: n for n in nodes}
    signals = []
    for n in order:
        node = by_name[n]
        try:
            signals.append(Signal(n, trailing_units(np.asarray(zs[n]), node.n_units),
                                  trailing_units(np.asarray(grads[n]), node.n_units),
                                  bool(inp[n]) if n in inp else None, *xin.get(n, (None,) * 4)))
        except ValueError:
            continue
    first = x[0] if isinstance(x, (list, tuple)) else x
    return Probe(signals, batch, desc, any(varies(np.asarray(o)) for o in outs), varies(np.asarray(first)),
                 batch_stats=list(stats.values()))


def view(model: Any, name: str, example_input: Any = None, batch: int = 32, seed: int = 0) -> ModelView:
    params, nodes, layers = extract_params(model)
    mark_scale_invariant(nodes, layers)

    def make_input() -> tuple[Any, str]:
        nonlocal batch
        if example_input is None:
            return _infer_input(model, nodes, batch, np.random.default_rng(seed))
        first = example_input
        while isinstance(first, (list, tuple, dict)) and len(first):  # keyword (dict) or positional inputs
            first = next(iter(first.values())) if isinstance(first, dict) else first[0]
        if not np.shape(first):
            raise ValueError("the example input holds no array with a batch axis")
        batch = int(np.shape(first)[0])
        return example_input, f"the given example input of shape {tuple(np.shape(first))}"

    def run(x: Any, desc: str) -> Probe:
        return probe(model, nodes, layers, x, batch, seed, desc)

    return ModelView("keras", name, params, nodes).run_probe(make_input, run,
                                                             "return (model, example_input) from the factory",
                                                             failure_hint="")


__all__ = ["RECURRENT_LAYERS", "einsum_fans", "extract_params", "graph_shapes", "is_model", "layer_paths",
           "mark_scale_invariant", "param_names", "probe", "view"]


def example() -> tuple[Any, int]:
    """A small ReLU MLP built with ``keras.layers`` and its parameter count (conformance checks)."""
    L = keras.layers
    model = keras.Sequential([keras.Input((8,)), L.Dense(16, activation="relu", kernel_initializer="he_normal"),
                              L.Dense(4)])
    return model, int(model.count_params())
