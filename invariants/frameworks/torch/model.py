"""PyTorch models: ``nn.Module`` -> :class:`~invariants.frameworks.model.ModelView`.

Parameters are read from ``named_modules()`` (each tensor once; a parameter shared by two modules —
weight tying — is reported under its first name and is not a copy).  Layer semantics by module type:
``Linear`` (dense), ``Bilinear``, ``Conv{1,2,3}d`` (conv, or depthwise when ``groups = C_in``),
``ConvTranspose{1,2,3}d``, ``Embedding``/``EmbeddingBag``, ``RNN``/``LSTM``/``GRU`` and their cells
(packed gate matrices), ``MultiheadAttention`` (packed q/k/v), norms (``*Norm*``: scale and shift).

**Probe.** One forward and backward pass in the module's current mode (train mode after construction),
with torch's RNG seeded inside ``fork_rng`` (dropout) and every buffer (BatchNorm running statistics)
restored afterwards, so the model is left as it was.  A forward hook on each node returns ``z + ε``
with ``ε = 0`` requiring grad, so ``∂L/∂ε = ∂L/∂z`` even when an in-place activation follows; the
activation applied directly to ``z`` is read from the activation module that receives ``z + ε``.

Probe input: ``example_input`` if given, else ``model.example_input_array`` (the Lightning
convention), else inferred from the first layer: ``Linear(in)`` -> ``N(0, 1)`` of shape ``(B, in)``,
``Conv{n}d(C)`` -> ``(B, C, 32)`` / ``(B, C, 16, 16)`` / ``(B, C, 8, 8, 8)``, ``Embedding(V)`` ->
uniform token ids ``(B, 8)``, an RNN -> ``(8, B, in)`` (``(B, 8, in)`` if ``batch_first``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from invariants.layers import (QKV, RECURRENT, Bilinear, Conv, ConvTranspose, Dense, Depthwise, Embedding,
                               TORCH, Layer, Packed, Spatial)
from invariants.frameworks.model import ModelView, Node, Param, Probe, Signal, activation_key, units_last, varies

_ACTIVATIONS = {
    nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.GELU: "gelu",
    nn.SELU: "selu", nn.ReLU6: "relu6", nn.Hardtanh: "hardtanh", nn.ELU: "elu", nn.SiLU: "silu",
    nn.Softplus: "softplus",
}
_PASS_THROUGH = (nn.Dropout, nn.Identity, nn.AlphaDropout)
_NORMS = tuple(t for t in (getattr(nn.modules.batchnorm, "_NormBase", None), nn.LayerNorm, nn.GroupNorm,
                           getattr(nn, "RMSNorm", None), nn.LocalResponseNorm) if t is not None)


def is_model(obj: Any) -> bool:
    return isinstance(obj, nn.Module)


# ------------------------------------------------------------------------------------------ semantics


def _conv_layer(m: Any) -> Layer:
    k = tuple(m.kernel_size)
    ci, co, g = m.in_channels, m.out_channels, m.groups
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        # the stride is kept for transposed convs only: there it changes the average fan_in (layers docstring)
        return ConvTranspose(ci, co, k, groups=g, stride=tuple(m.stride))
    if g == ci and g > 1 and co % ci == 0:
        return Depthwise(ci, co, k)
    return Conv(ci, co, k, groups=g)


def _rnn_packing(m: Any) -> str:
    mode = getattr(m, "mode", "")
    if isinstance(m, (nn.LSTM, nn.LSTMCell)) or mode == "LSTM":
        return "lstm"
    if isinstance(m, (nn.GRU, nn.GRUCell)) or mode == "GRU":
        return "gru"
    return "rnn"


def _module_params(path: str, m: Any, seen: dict[int, str]) -> tuple[list[Param], Node | None]:
    """Params owned directly by module ``m`` and its node (if it has output units)."""
    own = [(n, p) for n, p in m.named_parameters(recurse=False) if p is not None]
    out: list[Param] = []
    typ = type(m).__name__
    node: Node | None = None
    layer: Layer | None = None
    weight_role = "other"
    if isinstance(m, nn.Linear):
        layer, weight_role = Dense(m.in_features, m.out_features), "weight"
    elif isinstance(m, nn.Bilinear):
        layer, weight_role = Bilinear(m.in1_features, m.in2_features, m.out_features), "weight"
    elif isinstance(m, nn.modules.conv._ConvNd):
        layer, weight_role = _conv_layer(m), "weight"
    elif isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
        layer, weight_role = Embedding(m.num_embeddings, m.embedding_dim), "embedding"

    def full(n: str) -> str:
        return f"{path}.{n}" if path else n

    for n, p in own:
        if id(p) in seen:
            continue  # tied to an earlier parameter: the same tensor, not a copy
        seen[id(p)] = full(n)
        value = p.detach().cpu()
        value = value.float().numpy() if value.dtype == torch.bfloat16 else value.numpy().copy()  # float(): a copy
        role, lay = "other", None
        if layer is not None:
            if n == "weight":
                role, lay = weight_role, layer
            elif n == "bias":
                role = "bias"
        elif isinstance(m, (nn.RNNBase, nn.RNNCellBase)):
            role, lay = _rnn_param(m, n, value.shape)
        elif isinstance(m, nn.MultiheadAttention):
            if n == "in_proj_weight":
                role, lay = "weight", QKV(m.embed_dim)
            elif n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                role, lay = "weight", Dense(value.shape[1], value.shape[0])
            elif "bias" in n:
                role = "bias"
        elif isinstance(m, _NORMS):
            role = "norm_scale" if n == "weight" else "norm_shift" if n == "bias" else "other"
        out.append(Param(full(n), value, role, owner=path, owner_type=typ, layer=lay, layout=TORCH))
    if layer is not None and not isinstance(layer, Packed):
        w = next((p for p in out if p.name == full("weight")), None)
        b = next((p for p in out if p.name == full("bias")), None)
        if w is not None:
            node = Node(path or typ, typ, layer, w, b)
    return out, node


def own_params(path: str, module: Any, seen: dict[int, str]) -> tuple[list[Param], Node | None]:
    """The :class:`Param` s owned directly by ``module`` (not its children) at ``path``, and its node.

    Parameters whose ``id`` is in ``seen`` are skipped (tied to an earlier one); the others are added to
    it.  What :func:`extract_params` does for each module, one module at a time: the streamed check of a
    meta-device model (:mod:`invariants.frameworks.torch.stream`) materialises and reads one module at a time.
    Values are copied to numpy in the tensor's dtype (bfloat16, which numpy lacks, exactly as float32).
    """
    return _module_params(path, module, seen)


def _rnn_param(m: Any, n: str, shape: tuple[int, ...]) -> tuple[str, Layer | None]:
    if n.startswith("bias"):
        return "bias", None
    if not n.startswith("weight_"):
        return "other", None
    pk = _rnn_packing(m)
    h = m.hidden_size
    if len(shape) != 2 or getattr(m, "proj_size", 0):
        return "recurrent", None
    rows, cols = shape
    if pk == "rnn":
        return "recurrent", Dense(cols, h)
    return "recurrent", RECURRENT[pk](cols, h)


def param_layer(module: Any, name: str) -> Layer | None:
    """The layer semantics this extractor gives parameter ``name`` (dotted, e.g. ``"out_proj.weight"``)
    of ``module``; ``None`` for a parameter without fans (bias, norm) or one it does not know.  The
    catalogue's layer defaults read their layers here, so a layer is described once."""
    params, _, _ = extract_params(module)
    return next((p.layer for p in params if p.name == name), None)


def extract_params(model: Any) -> tuple[list[Param], list[Node], dict[str, Any]]:
    """All parameters, the nodes (definition order) and ``{node name: module}``."""
    params: list[Param] = []
    nodes: list[Node] = []
    modules: dict[str, Any] = {}
    seen: dict[int, str] = {}
    for path, m in model.named_modules():
        ps, node = _module_params(path, m, seen)
        params += ps
        if node is not None:
            nodes.append(node)
            modules[node.name] = m
    # static activation guess: a node followed by an activation module inside the same nn.Sequential
    by_module = {id(m): name for name, m in modules.items()}
    for m in model.modules():
        if isinstance(m, nn.Sequential):
            kids = list(m.children())
            for a, b in zip(kids, kids[1:]):
                if id(a) in by_module and type(b) in _ACTIVATIONS:
                    for node in nodes:
                        if node.name == by_module[id(a)]:
                            node.activation = activation_key(_ACTIVATIONS[type(b)])
    return params, nodes, modules


# ------------------------------------------------------------------------------------------ probe


def _infer_input(model: Any, batch: int, rng: np.random.Generator) -> tuple[Any, str]:
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    if hasattr(model, "example_input_array") and model.example_input_array is not None:
        return model.example_input_array, "model.example_input_array"
    for m in model.modules():
        if isinstance(m, nn.Linear):
            x = rng.standard_normal((batch, m.in_features))
            return torch.tensor(x, dtype=dtype), f"N(0, 1) of shape ({batch}, {m.in_features})"
        if isinstance(m, nn.Bilinear):
            a, b = rng.standard_normal((batch, m.in1_features)), rng.standard_normal((batch, m.in2_features))
            return (torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype)), \
                f"two N(0, 1) inputs ({batch}, {m.in1_features}), ({batch}, {m.in2_features})"
        if isinstance(m, nn.modules.conv._ConvNd):
            nd = len(m.kernel_size)
            side = {1: 32, 2: 16, 3: 8}[nd]
            side = max(side, 2 * max(m.kernel_size))
            shape = (batch, m.in_channels) + (side,) * nd
            return torch.tensor(rng.standard_normal(shape), dtype=dtype), f"N(0, 1) of shape {shape}"
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            ids = rng.integers(0, m.num_embeddings, size=(batch, 8))
            return torch.tensor(ids, dtype=torch.long), f"token ids uniform in [0, {m.num_embeddings}) of shape ({batch}, 8)"
        if isinstance(m, nn.RNNBase):
            shape = (batch, 8, m.input_size) if m.batch_first else (8, batch, m.input_size)
            return torch.tensor(rng.standard_normal(shape), dtype=dtype), f"N(0, 1) of shape {shape}"
    raise ValueError("cannot infer a probe input (no Linear, Conv, Embedding or RNN layer found)")


def _tensors(out: Any) -> list[Any]:
    """Every floating tensor in a (nested) model output."""
    if isinstance(out, torch.Tensor):
        return [out] if out.is_floating_point() else []
    if isinstance(out, dict):
        out = list(out.values())
    elif hasattr(out, "to_tuple"):
        out = out.to_tuple()
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    return []


def probe(model: Any, nodes: list[Node], modules: dict[str, Any], x: Any, batch: int, seed: int,
          input_desc: str) -> Probe:
    """Forward and backward pass (see the module docstring); sets ``node.activation`` where seen.

    Raises:
        Exception: whatever the model's forward raises (the caller reports it).
    """
    rng = np.random.default_rng(seed)
    by_name = {n.name: n for n in nodes}
    records: dict[str, tuple[np.ndarray, bool | None]] = {}
    eps: dict[str, Any] = {}
    order: list[str] = []
    owner: dict[int, str] = {}
    keep: list[Any] = []
    act_of: dict[str, str] = {}
    handles = []

    def node_hook(name: str):
        def hook(mod: Any, args: tuple, out: Any) -> Any:
            if name in records or not isinstance(out, torch.Tensor) or not out.is_floating_point():
                return None
            inp = args[0] if args and isinstance(args[0], torch.Tensor) else None
            e = torch.zeros_like(out, requires_grad=True)
            out2 = out + e
            records[name] = (out.detach().cpu().numpy().copy(),
                             None if inp is None else varies(inp.detach().cpu().numpy()))
            eps[name] = e
            order.append(name)
            owner[id(out2)] = name
            keep.append(out2)
            return out2
        return hook

    def act_hook(act: str):
        def hook(mod: Any, args: tuple, out: Any) -> None:
            if args and isinstance(args[0], torch.Tensor):
                n = owner.get(id(args[0]))
                if n is not None and n not in act_of:
                    act_of[n] = act
        return hook

    def pass_hook(mod: Any, args: tuple, out: Any) -> None:
        if args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor):
            n = owner.get(id(args[0]))
            if n is not None:
                owner[id(out)] = n
                keep.append(out)

    for name, m in modules.items():
        handles.append(m.register_forward_hook(node_hook(name)))
    for m in model.modules():
        if type(m) in _ACTIVATIONS:
            handles.append(m.register_forward_hook(act_hook(_ACTIVATIONS[type(m)])))
        elif isinstance(m, _PASS_THROUGH):
            handles.append(m.register_forward_hook(pass_hook))
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed) % (2**63))
            inputs = x if isinstance(x, (tuple, list)) else (x,)
            out = model(*inputs)
            outs = _tensors(out)
            if not outs:
                raise ValueError("the model output contains no floating tensor")
            loss = 0.0
            for t in outs:
                r = torch.tensor(rng.standard_normal(tuple(t.shape)), dtype=t.dtype)
                loss = loss + (t * r).sum()
            names = [n for n in order if eps[n] is not None]
            grads = torch.autograd.grad(loss, [eps[n] for n in names], allow_unused=True)
            output_varies = any(varies(t.detach().cpu().numpy()) for t in outs)
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for k, b in model.named_buffers():
                if k in buffers:
                    b.copy_(buffers[k])
    signals = []
    for n, g in zip(names, grads):
        node = by_name[n]
        z, inp_varies = records[n]
        axis = 1 if isinstance(node.layer, Spatial) and z.ndim >= 3 else -1
        d = np.zeros_like(z) if g is None else g.detach().cpu().numpy()
        try:
            signals.append(Signal(n, units_last(z, axis, node.n_units), units_last(d, axis, node.n_units), inp_varies))
        except ValueError:
            continue
        if n in act_of:
            node.activation = activation_key(act_of[n])
    first = x[0] if isinstance(x, (tuple, list)) else x
    in_varies = varies(first.detach().cpu().numpy()) if isinstance(first, torch.Tensor) else True
    return Probe(signals, batch, input_desc, output_varies, in_varies)


def view(model: Any, name: str, example_input: Any = None, batch: int = 32, seed: int = 0) -> ModelView:
    """The :class:`ModelView` of a torch module, with a probe pass when an input is known or inferable."""
    params, nodes, modules = extract_params(model)

    def make_input() -> tuple[Any, str]:
        nonlocal batch
        if example_input is None:
            return _infer_input(model, batch, np.random.default_rng(seed))
        x = example_input
        first = x[0] if isinstance(x, (tuple, list)) else x
        if isinstance(first, np.ndarray):
            x = torch.as_tensor(x) if not isinstance(x, (tuple, list)) else tuple(torch.as_tensor(a) for a in x)
            first = x[0] if isinstance(x, tuple) else x
        batch = int(first.shape[0]) if hasattr(first, "shape") and len(first.shape) else batch
        return x, f"the given example input of shape {tuple(first.shape)}"

    def run(x: Any, desc: str) -> Probe:
        return probe(model, nodes, modules, x, batch, seed, desc)

    return ModelView("torch", name, params, nodes).run_probe(make_input, run,
                                                             "return (model, example_input) from the factory")


__all__ = ["extract_params", "is_model", "own_params", "probe", "view"]


def example() -> tuple[Any, int]:
    """A small ReLU MLP built with ``torch.nn`` and its parameter count (conformance checks)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return model, sum(p.numel() for p in model.parameters())
