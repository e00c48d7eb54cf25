"""PyTorch models: ``nn.Module`` -> :class:`~invariants.frameworks.model.ModelView`.

Parameters are read from ``named_modules()`` (each tensor once; a parameter shared by two modules —
weight tying — is reported under its first name and is not a copy).  Layer semantics by module type:
``Linear`` (dense), ``Bilinear``, ``Conv{1,2,3}d`` (conv, or depthwise when ``groups = C_in``),
``ConvTranspose{1,2,3}d``, ``Embedding``/``EmbeddingBag``, ``RNN``/``LSTM``/``GRU`` and their cells
(packed gate matrices), ``MultiheadAttention`` (packed q/k/v), norms (``*Norm*``: scale and shift; an all-zero
scale is run to see what it does, :mod:`invariants.frameworks.torch.norms`), and
transformers' mixture-of-experts modules (stacked experts, one dense block per expert and gate, and top-k
routers: :mod:`invariants.frameworks.torch.experts`; weights without a node, the probe reads no output of theirs).
A weight-normed layer (either torch form) is read through its effective weight ``g·v/‖v‖``: the Param of ``v``
holds it (:mod:`invariants.frameworks.torch.weightnorm`), ``g`` is a norm scale.

**Probe.** One forward and backward pass in the module's current mode (train mode after construction),
with torch's generators seeded inside ``fork_rng`` (dropout; CPU and every initialised CUDA device:
:func:`invariants.frameworks.torch.seeding.probe_rng`; the other global RNGs are seeded around the whole view
by :mod:`invariants.frameworks.probe_seeding`), the active dropout modules and whether the forward drew from
torch's generators recorded in ``Probe.stochastic``, and every buffer (BatchNorm running statistics)
restored afterwards, so the model is left as it was.  A forward hook on each node returns ``z + ε``
with ``ε = 0`` requiring grad, so ``∂L/∂ε = ∂L/∂z`` even when an in-place activation follows; the
activation applied directly to ``z`` is read from the activation module that receives ``z + ε``.
A forward pre-hook on each node passes its first input ``x`` through an identity autograd function that
records ``mean(x²)`` and, in the backward pass, ``mean((∂L/∂x)²)`` (moments only, no arrays: the
quantities :mod:`invariants.modelcheck.signal` compares).  ``Node.scale_invariant`` is read from the
first module that receives ``z`` (through Dropout/Identity): a scale-free normalization
(:func:`is_scale_free_norm`) makes it ``True``, any other leaf module ``False``; a node whose output
only meets functional code (a residual add) stays ``None``.

Probe input: ``example_input`` if given, else ``model.example_input_array`` (the Lightning
convention), else inferred from the first layer: ``Linear(in)`` -> ``N(0, 1)`` of shape ``(B, in)``,
``Conv{n}d(C)`` -> ``(B, C, 32)`` / ``(B, C, 16, 16)`` / ``(B, C, 8, 8, 8)``, ``Embedding(V)`` ->
uniform token ids ``(B, 8)``, an RNN -> ``(8, B, in)`` (``(B, 8, in)`` if ``batch_first``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from invariants.layers import (JAX, QKV, RECURRENT, Bilinear, Conv, ConvTranspose, Dense, Depthwise, Embedding,
                               TORCH, Layer, Packed, Spatial)
from invariants.frameworks.model import (INPUT_ROUNDING_ULPS, BatchStat, ModelView, Node, Param, Probe, Signal, activation_key,
                                         kept_input, units_last, varies)
from invariants.frameworks.torch.experts import expert_view, merged_experts, router_layer, stacked_experts
from invariants.frameworks.torch.norms import zero_scale_passes
from invariants.frameworks.torch.weightnorm import magnitude_ratio, weight_norm
from invariants.frameworks.torch.seeding import generator_states, manual_seed, probe_rng

_ACTIVATIONS = {
    nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.GELU: "gelu",
    nn.SELU: "selu", nn.ReLU6: "relu6", nn.Hardtanh: "hardtanh", nn.ELU: "elu", nn.SiLU: "silu",
    nn.Softplus: "softplus",
}
_PASS_THROUGH = (nn.Dropout, nn.Identity, nn.AlphaDropout)
#: the modules that draw from torch's generator in train mode (``torch/nn/modules/dropout.py``)
_DROPOUTS = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)
_NORMS = tuple(t for t in (getattr(nn.modules.batchnorm, "_NormBase", None), nn.LayerNorm, nn.GroupNorm,
                           getattr(nn, "RMSNorm", None), nn.LocalResponseNorm) if t is not None)
#: norms whose output is invariant to a positive rescaling of their input (LocalResponseNorm is not: it
#: divides by ``(k + α·Σx²)^β``)
_SCALE_FREE_NORMS = tuple(t for t in _NORMS if t is not nn.LocalResponseNorm)


def is_scale_free_norm(m: Any) -> bool:
    """Whether module ``m`` normalizes its input's scale away: torch's BatchNorm/InstanceNorm/LayerNorm/
    GroupNorm/RMSNorm, or any class named ``*Norm*`` (HF ``LlamaRMSNorm``, ``T5LayerNorm``,
    ``ConvNextLayerNorm``, timm ``LayerNorm2d``, ``BatchNormAct2d``) except ``*Normalize*`` and
    ``LocalResponseNorm``."""
    if isinstance(m, nn.LocalResponseNorm):
        return False
    name = type(m).__name__
    return isinstance(m, _SCALE_FREE_NORMS) or ("Norm" in name and "Normaliz" not in name)


class _GradMoment(torch.autograd.Function):
    """Identity on ``x`` that records ``mean(g²)`` of the gradient arriving at it.

    ``anchor`` (a 0-dim leaf requiring grad) puts every such node on a path to a differentiated input, so
    ``torch.autograd.grad(loss, [..., anchor])`` runs its backward; nothing the size of ``x`` is kept.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, anchor: Any, store: dict, name: str) -> Any:  # type: ignore[override]
        ctx.store, ctx.name, ctx.anchor_dtype = store, name, anchor.dtype
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:  # type: ignore[override]
        ctx.store[ctx.name] = float(torch.mean(torch.square(g.detach().double())))
        return g, torch.zeros((), dtype=ctx.anchor_dtype), None, None


def is_model(obj: Any) -> bool:
    return isinstance(obj, nn.Module)


def read_only(t: Any) -> np.ndarray:
    """The values of tensor ``t`` as a read-only numpy array in its own dtype, without a copy where numpy
    can share them.

    A CPU tensor of a dtype numpy has (float16/32/64, integers) is returned as a view of its storage (the
    array keeps the tensor alive; strides kept), marked non-writeable so no check can alter the model.
    bfloat16, which numpy lacks, is viewed the same way as ``ml_dtypes.bfloat16`` (the type JAX's arrays
    use, :func:`invariants.frameworks.dtypes.numpy_dtype`): the storage is reinterpreted as int16 by torch
    and as bfloat16 by numpy, both same-size views, so no value is converted (the checks widen a bounded
    sample when they compute: :func:`invariants.frameworks.dtypes.widen`).  Without ``ml_dtypes`` (an
    install without the ``torch`` extra) bfloat16 is converted exactly to float32, a copy of this tensor.
    A tensor on another device is copied to the CPU first.  ``Tensor.numpy`` (torch ``_tensor.py``) shares
    the storage; ``Tensor.view(dtype)`` (torch ``_tensor_docs.py``) keeps shape and strides when the element
    sizes agree; ``detach`` drops the autograd link so the view is legal for a parameter.

    Shape and layout: ``t.shape``, the framework's layout.
    """
    value = t.detach()
    if value.device.type != "cpu":
        value = value.cpu()
    arr = bfloat16_array(value) if value.dtype == torch.bfloat16 else value.numpy()
    arr.flags.writeable = False
    return arr


def bfloat16_array(value: Any) -> np.ndarray:
    """A CPU bfloat16 tensor as a numpy array: a view of its bits as ``ml_dtypes.bfloat16`` (no copy), or,
    without ``ml_dtypes``, its exact float32 widening (one copy)."""
    try:
        import ml_dtypes
    except ImportError:  # the exact float32 conversion: correct, one copy of this tensor
        return value.float().numpy()
    return value.view(torch.int16).numpy().view(ml_dtypes.bfloat16)


def probe_array(t: Any) -> np.ndarray:
    """An activation or gradient of the probe pass as a read-only numpy array the signal statistics read
    directly: :func:`read_only`, with bfloat16 widened exactly to float32 (probe tensors are one batch of one
    layer's outputs, small; the statistics of :mod:`invariants.modelcheck.signal` sum them in numpy, which
    must not accumulate in bfloat16)."""
    value = t.detach()
    return read_only(value.float() if value.dtype == torch.bfloat16 else value)


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


def is_hf_conv1d(m: Any) -> bool:
    """transformers' ``Conv1D`` (``transformers/pytorch_utils.py``): a dense layer whose weight is stored
    ``(nx, nf)`` = ``(in, out)``, transposed vs ``nn.Linear`` (GPT-2, GPT, ...).  Recognised by shape and
    attributes, so transformers is never imported."""
    w = getattr(m, "weight", None)
    return (type(m).__name__ == "Conv1D" and isinstance(w, torch.Tensor) and w.dim() == 2
            and tuple(w.shape) == (getattr(m, "nx", None), getattr(m, "nf", None)))


def _hf_conv1d_layers(path: str, m: Any) -> tuple[Layer, Layer]:
    """(the weight's layer, the node's layer) of a transformers ``Conv1D``: GPT-2's ``c_attn`` packs
    q, k, v along the output axis (``Conv1D(3 * embed_dim, embed_dim)``, ``GPT2Attention.__init__``), so its
    weight is a :class:`~invariants.layers.QKV` (each block audited as its own matrix) while its output
    units are those of one dense map ``in -> 3·in``."""
    dense = Dense(m.nx, m.nf)
    if path.rsplit(".", 1)[-1] == "c_attn" and m.nf == 3 * m.nx:
        return QKV(m.nx), dense
    return dense, dense


def _module_params(path: str, m: Any, seen: dict[int, Param]) -> tuple[list[Param], Node | None]:
    """Params owned directly by module ``m`` and its node (if it has output units).

    A parameter already in ``seen`` (tied, or a module reached twice) is not a new tensor: its name is
    added to the first one's :attr:`~invariants.frameworks.model.Param.tied`."""
    own = [(n, p) for n, p in m.named_parameters(recurse=False) if p is not None]
    out: list[Param] = []
    typ = type(m).__name__
    node: Node | None = None
    layer: Layer | None = None
    node_layer: Layer | None = None
    weight_role = "other"
    weight_layout = TORCH
    if isinstance(m, nn.Linear):
        layer, weight_role = Dense(m.in_features, m.out_features), "weight"
    elif isinstance(m, nn.Bilinear):
        layer, weight_role = Bilinear(m.in1_features, m.in2_features, m.out_features), "weight"
    elif isinstance(m, nn.modules.conv._ConvNd):
        layer, weight_role = _conv_layer(m), "weight"
    elif isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
        layer, weight_role = Embedding(m.num_embeddings, m.embedding_dim), "embedding"
    elif is_hf_conv1d(m):
        (layer, node_layer), weight_role, weight_layout = _hf_conv1d_layers(path, m), "weight", JAX
    # a weight-normed layer: its direction v carries the effective weight g·v/‖v‖ the forward uses (new form: v and
    # g are parameters of the child ParametrizationList, read here where the layer's semantics are known)
    wn = weight_norm(m) if weight_role == "weight" else None
    weight_name = "weight"
    if wn is not None:
        own = [(n, p) for n, p in own if n not in (wn.g_name, wn.v_name)] + [(wn.v_name, wn.v), (wn.g_name, wn.g)]
        weight_name = wn.v_name
    # mixture-of-experts parameters: weights with layer semantics but no node (no output the probe can read)
    moe: dict[str, tuple[Layer, Any]] = {}
    if layer is None and own:
        router = router_layer(m)
        moe = {"weight": (router, TORCH)} if router is not None else stacked_experts(m) or merged_experts(m) or {}

    def full(n: str) -> str:
        return f"{path}.{n}" if path else n

    for n, p in own:
        if id(p) in seen:  # tied to an earlier parameter: the same tensor, not a copy
            first = seen[id(p)]  # a Param, or a name the streamed check marks as not to be read
            if isinstance(first, Param) and full(n) != first.name and full(n) not in first.tied:
                first.tied = first.tied + (full(n),)
            continue
        value = read_only(p)
        role, lay, layout = "other", None, TORCH
        if layer is not None:
            if n == weight_name:
                role, lay, layout = weight_role, layer, weight_layout
                if wn is not None:
                    value = read_only(wn.weight)
            elif wn is not None and n == wn.g_name:
                role = "norm_scale"
            elif n == "bias":
                role = "bias"
        elif moe:
            role, (lay, layout) = ("weight", moe[n]) if n in moe else ("bias" if n.endswith("bias") else "other",
                                                                     (None, TORCH))
            if lay is not None:  # DBRX's experts merged into rows: read as the forward views them
                value = expert_view(value, lay, layout)
        elif isinstance(m, (nn.RNNBase, nn.RNNCellBase)):
            role, lay = _rnn_param(m, n, value.shape)
        elif isinstance(m, nn.MultiheadAttention):
            if n == "in_proj_weight":
                role, lay = "weight", QKV(m.embed_dim)
            elif n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                role, lay = "weight", Dense(value.shape[1], value.shape[0])
            elif "bias" in n:
                role = "bias"
        elif isinstance(m, _NORMS) or _is_norm(m):
            role = "norm_scale" if n == "weight" else "norm_shift" if n == "bias" else "other"
        pad = getattr(m, "padding_idx", None) if role == "embedding" else None
        param = Param(full(n), value, role, owner=path, owner_type=typ, layer=lay, layout=layout,
                      padding_rows=(int(pad) % value.shape[0],) if pad is not None else (),
                      owner_classes=tuple(c.__name__ for c in type(m).__mro__[:-1]),
                      magnitude=full(wn.g_name) if wn is not None and n == weight_name else "",
                      magnitude_ratio=magnitude_ratio(wn) if wn is not None and n == weight_name else None)
        if role == "norm_scale" and layer is None and value.size >= 2 and not np.any(value):
            param.zero_scale_passes = zero_scale_passes(m, p)  # γ·x̂ + β or x̂·(1 + γ): the module's forward says
        seen[id(p)] = param
        out.append(param)
    node_layer = node_layer or layer
    if node_layer is not None and not isinstance(node_layer, Packed):
        w = next((p for p in out if p.name == full(weight_name)), None)
        b = next((p for p in out if p.name == full("bias")), None)
        tied = getattr(m, "weight", None)
        if w is None and isinstance(tied, torch.Tensor) and isinstance(seen.get(id(tied)), Param) and \
                seen[id(tied)].shape == tuple(tied.shape):
            w = seen[id(tied)]  # a tied weight (an LM head reusing the embedding): the node reads the one tensor
        if w is not None:
            node = Node(path or typ, typ, node_layer, w, b)
    return out, node


def _is_norm(m: Any) -> bool:
    """A library's own normalization module (HF ``T5LayerNorm``/``LlamaRMSNorm``, timm ``LayerNorm2d``
    subclass nn.LayerNorm, but the RMS norms do not): a class named ``*Norm*`` whose parameters are a
    per-feature ``weight`` (and ``bias``), both 1-D."""
    name = type(m).__name__
    if "Norm" not in name or "Normal" in name:
        return False
    own = list(m.named_parameters(recurse=False))
    return bool(own) and all(n in ("weight", "bias") and p.dim() == 1 for n, p in own)


def own_params(path: str, module: Any, seen: dict[int, Any]) -> tuple[list[Param], Node | None]:
    """The :class:`Param` s owned directly by ``module`` (not its children) at ``path``, and its node.

    Parameters whose ``id`` is in ``seen`` are skipped (tied to an earlier one); the others are added to
    it.  What :func:`extract_params` does for each module, one module at a time: the streamed check of a
    meta-device model (:mod:`invariants.frameworks.torch.stream`) materialises and reads one module at a time.
    Values are read-only numpy views of the tensors in their dtype (:func:`read_only`; bfloat16 as
    ``ml_dtypes.bfloat16``).
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
    seen: dict[int, Param] = {}
    # remove_duplicate=False: a module registered under two parents is visited under both names (its
    # parameters are then recorded as tied, not lost)
    for path, m in model.named_modules(remove_duplicate=False):
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


def infer_input(model: Any, batch: int, rng: np.random.Generator, seed: int = 0) -> tuple[Any, str]:
    """A probe input for ``model``: its Lightning ``example_input_array``, else from its config (a
    HuggingFace ``config``: :func:`config_input`), else from its first layer (:func:`layer_input`).

    Raises:
        ValueError: no input can be made.
    """
    if hasattr(model, "example_input_array") and model.example_input_array is not None:
        return model.example_input_array, "model.example_input_array"
    made = config_input(model, batch, rng)
    if made is not None:
        return made
    return layer_input(model, batch, rng, seed)


def inferred_input(model: Any, batch: int, seed: int = 0) -> tuple[Any, str]:
    """``infer_input(model, batch, np.random.default_rng(seed), seed)``, built once within
    :func:`invariants.frameworks.model.keep_inferred_inputs` (check-model's estimate and probe share it).

    Raises:
        ValueError: no input can be made.
    """
    return kept_input(model, batch, seed, lambda: infer_input(model, batch, np.random.default_rng(seed), seed),
                      _cloned)


def _cloned(x: Any) -> Any:
    """``x`` with every tensor in it (alone, or in a tuple, list or dict) cloned."""
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, (tuple, list)):
        return type(x)(_cloned(v) for v in x)
    if isinstance(x, dict):
        return {k: _cloned(v) for k, v in x.items()}
    return x


def _float_dtype(model: Any) -> Any:
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


def _side(size: Any) -> tuple[int, int] | None:
    """``(H, W)`` from an int, a pair, or timm's ``(C, H, W)`` ``input_size``."""
    if isinstance(size, int) and size > 0:
        return size, size
    if isinstance(size, (tuple, list)) and len(size) in (2, 3) and all(isinstance(s, int) and s > 0 for s in size):
        return int(size[-2]), int(size[-1])
    return None


#: HuggingFace config attributes copied into :attr:`~invariants.frameworks.model.ModelView.hints`
#: (the model's own declared init and normalization constants)
HF_HINTS = ("initializer_range", "initializer_factor", "init_std", "layer_norm_eps", "layer_norm_epsilon",
            "rms_norm_eps", "batch_norm_eps", "layer_scale_init_value", "tie_word_embeddings", "n_layer",
            "num_hidden_layers")


def config_hints(model: Any) -> dict[str, Any]:
    """The numbers a HuggingFace model's ``config`` declares about its init (:data:`HF_HINTS`)."""
    cfg = getattr(model, "config", None)
    if cfg is None or not hasattr(cfg, "to_dict"):
        return {}
    return {k: getattr(cfg, k) for k in HF_HINTS
            if isinstance(getattr(cfg, k, None), (int, float)) and getattr(cfg, k) is not None}


def config_input(model: Any, batch: int, rng: np.random.Generator) -> tuple[Any, str] | None:
    """Keyword inputs from a HuggingFace ``config`` (``transformers/configuration_utils.py``
    ``PretrainedConfig``), or ``None`` when the model has none or it does not say enough.

    ``main_input_name`` ``pixel_values`` (or a config with ``image_size`` and ``num_channels``):
    ``pixel_values`` ``N(0, 1)`` of ``(B, num_channels, *image_size)``; ``input_ids``: token ids uniform in
    ``[0, vocab_size)`` of ``(B, min(16, max positions))``, and ``decoder_input_ids`` of the same shape
    when ``is_encoder_decoder``.
    """
    cfg = getattr(model, "config", None)
    if cfg is None or not hasattr(cfg, "to_dict"):
        return None
    main = getattr(model, "main_input_name", None)
    hw = _side(getattr(cfg, "image_size", None))
    channels = getattr(cfg, "num_channels", None)
    if hw is not None and isinstance(channels, int) and main in (None, "pixel_values"):
        shape = (batch, channels) + hw
        x = torch.tensor(rng.standard_normal(shape), dtype=_float_dtype(model))
        return {"pixel_values": x}, f"pixel_values N(0, 1) of shape {shape} (from the model's config)"
    vocab = getattr(cfg, "vocab_size", None)
    if main in (None, "input_ids") and isinstance(vocab, int) and vocab > 0:
        limit = next((getattr(cfg, k) for k in ("max_position_embeddings", "n_positions", "max_length")
                      if isinstance(getattr(cfg, k, None), int)), 16)
        seq = max(1, min(16, limit))
        keys = ["input_ids"] + (["decoder_input_ids"] if getattr(cfg, "is_encoder_decoder", False) else [])
        inputs = {k: torch.tensor(rng.integers(0, vocab, size=(batch, seq)), dtype=torch.long) for k in keys}
        return inputs, f"{' and '.join(keys)}: token ids uniform in [0, {vocab}) of shape ({batch}, {seq}) " \
            "(from the model's config)"
    return None


def declared_image_size(model: Any) -> tuple[int, int] | None:
    """The input image size a vision model declares and requires (a ViT's position table fixes it):
    torchvision ``VisionTransformer.image_size``, ``model.img_size``, timm ``model.patch_embed.img_size``;
    ``None`` if none (timm's ``pretrained_cfg["input_size"]`` is only a default: see :func:`layer_input`)."""
    for owner in (model, getattr(model, "patch_embed", None)):
        for attr in ("image_size", "img_size"):
            hw = _side(getattr(owner, attr, None)) if owner is not None else None
            if hw is not None:
                return hw
    return None


def _default_image_size(model: Any) -> tuple[int, int] | None:
    """timm's declared default input (``model.pretrained_cfg`` / ``default_cfg`` ``input_size``)."""
    for attr in ("pretrained_cfg", "default_cfg"):
        cfg = getattr(model, attr, None)
        if isinstance(cfg, dict):
            hw = _side(cfg.get("input_size"))
            if hw is not None:
                return hw
    return None


def _runs(model: Any, x: Any) -> bool:
    """Whether ``model`` accepts ``x`` (a no-grad forward, RNG and buffers restored)."""
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    try:
        with probe_rng(0), torch.no_grad():  # the CUDA generators a trial draws from restored too
            model(x)
        return True
    except Exception:  # noqa: BLE001  any failure means: not this size
        return False
    finally:
        with torch.no_grad():
            for k, b in model.named_buffers():
                if k in buffers:
                    b.copy_(buffers[k])


def layer_input(model: Any, batch: int, rng: np.random.Generator, seed: int = 0) -> tuple[Any, str]:
    """A probe input from the first layer: ``Linear(in)`` -> ``N(0, 1)`` ``(B, in)``; ``Conv{n}d(C)`` ->
    ``N(0, 1)`` ``(B, C, *side)`` with the side the model declares (:func:`declared_image_size`), else the
    smallest of 16/32 (1-D: 32, 3-D: 8; at least twice the kernel, a multiple of the stride), 32, 64,
    128, timm's default input size and 224 on which a 2-example forward runs (a ConvNeXt needs 32 for
    its four downsamplings); ``Embedding(V)`` -> token ids ``(B, 8)``; an RNN -> ``(8, B, in)``.

    Raises:
        ValueError: no such layer.
    """
    dtype = _float_dtype(model)
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
            declared = declared_image_size(model) if nd == 2 else None
            if declared is not None:
                shape = (batch, m.in_channels) + declared
                return torch.tensor(rng.standard_normal(shape), dtype=dtype), \
                    f"N(0, 1) of shape {shape} (the model's declared image size)"
            side = max({1: 32, 2: 16, 3: 8}[nd], 2 * max(m.kernel_size))
            stride = max(m.stride)
            side = -(-side // stride) * stride
            sides = [side] + [s for s in (32, 64, 128) if s > side and nd < 3]
            default = _default_image_size(model) if nd == 2 else None
            if default is not None and default[0] == default[1] and default[0] > sides[-1]:
                sides.append(default[0])
            if nd == 2 and 224 > sides[-1]:
                sides.append(224)
            tried = np.random.default_rng(seed)
            for s in sides:
                shape = (batch, m.in_channels) + (s,) * nd
                trial = torch.tensor(tried.standard_normal((2,) + shape[1:]), dtype=dtype)
                if len(sides) == 1 or _runs(model, trial):
                    why = (f"the smallest side of {sides} the model runs on, not necessarily its working resolution: "
                           "pass --input-shape for that") if len(sides) > 1 else "a side the first layer accepts"
                    return torch.tensor(rng.standard_normal(shape), dtype=dtype), f"N(0, 1) of shape {shape} ({why})"
            raise ValueError(f"no input side in {sides} runs through the model (first layer {type(m).__name__}"
                             f"({m.in_channels}, ...)); pass --input-shape")
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            ids = rng.integers(0, m.num_embeddings, size=(batch, 8))
            return torch.tensor(ids, dtype=torch.long), f"token ids uniform in [0, {m.num_embeddings}) of shape ({batch}, 8)"
        if isinstance(m, nn.RNNBase):
            shape = (batch, 8, m.input_size) if m.batch_first else (8, batch, m.input_size)
            return torch.tensor(rng.standard_normal(shape), dtype=dtype), f"N(0, 1) of shape {shape}"
    raise ValueError("cannot infer a probe input (no config, and no Linear, Conv, Embedding or RNN layer found)")


def as_tensors(x: Any) -> Any:
    """A user's example input with numpy arrays made tensors: one array, a tuple/list (positional) or a
    dict (keyword arguments); integer arrays stay integer (token ids)."""
    if isinstance(x, np.ndarray):
        return torch.as_tensor(x)
    if isinstance(x, dict):
        return {k: as_tensors(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return tuple(as_tensors(a) for a in x)
    return x


def first_tensor(x: Any) -> Any:
    """The first tensor of an input (positional or keyword), or ``None``."""
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, (tuple, list)):
        return next((t for t in (first_tensor(a) for a in x) if t is not None), None)
    return x if isinstance(x, torch.Tensor) else None


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


_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
                nn.LazyBatchNorm1d, nn.LazyBatchNorm2d, nn.LazyBatchNorm3d)


def uses_batch_stats(m: Any) -> bool:
    """Whether a BatchNorm module normalises with the batch's statistics on its next call: in train mode, or
    always without running statistics (``torch/nn/modules/batchnorm.py``, ``_BatchNorm.forward``'s
    ``bn_training``)."""
    return bool(m.training or (getattr(m, "running_mean", None) is None and getattr(m, "running_var", None) is None))


_INSTANCE_NORMS = (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
                   nn.LazyInstanceNorm1d, nn.LazyInstanceNorm2d, nn.LazyInstanceNorm3d)


def sample_stats(m: Any, x: Any) -> tuple[int, int] | None:
    """``(values per group, channels per group)`` a per-sample normalization takes its statistics over on input
    ``x`` (``(N, C, *spatial)``): ``GroupNorm`` over ``C/G`` channels x positions (``torch/nn/functional.py``,
    ``group_norm``); ``InstanceNorm*d`` on input statistics (train mode, or without running statistics:
    ``torch/nn/modules/instancenorm.py``, ``_InstanceNorm.forward``'s ``use_input_stats``) over the positions of
    one channel.  ``None`` for anything else (an InstanceNorm on running statistics: none taken; a GroupNorm on
    ``(N, C)``, without positions: :class:`~invariants.frameworks.model.BatchStat`)."""
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or (isinstance(m, nn.GroupNorm) and x.ndim == 2):
        return None  # (N, C): no positions, so no input size changes the count (BatchStat)
    per_sample = int(x.numel() // max(int(x.shape[0]), 1))
    channels = int(x.shape[1])
    if isinstance(m, nn.GroupNorm):
        group = channels // max(int(m.num_groups), 1)
        return per_sample // max(int(m.num_groups), 1), group
    if isinstance(m, _INSTANCE_NORMS) and (m.training or not m.track_running_stats):
        # the last 1, 2 or 3 axes are the positions (an unbatched (C, *spatial) input included)
        k = next(i + 1 for i, group in enumerate(_INSTANCE_NORMS[:3]) if isinstance(m, (group, _INSTANCE_NORMS[i + 3])))
        return int(math.prod(int(d) for d in x.shape[-k:])), 1
    return None


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

    site = _CallSites(model, modules)

    def node_hook(fixed: str):
        def hook(mod: Any, args: tuple, out: Any) -> Any:
            name = site.name(mod, fixed)
            if name in records or not isinstance(out, torch.Tensor) or not out.is_floating_point():
                return None
            inp = args[0] if args and isinstance(args[0], torch.Tensor) else None
            e = torch.zeros_like(out, requires_grad=True)
            out2 = out + e
            records[name] = (probe_array(out).copy(), None if inp is None else varies(probe_array(inp), INPUT_ROUNDING_ULPS))
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

    anchor = torch.zeros((), requires_grad=True)
    x_moments: dict[str, tuple[float, int, int]] = {}
    g_moments: dict[str, float] = {}

    def input_hook(fixed: str):
        # the node's first input x, as it enters this node only: E[x²] now, E[(∂L/∂x)²] in the backward
        # pass (signal module docstring: these are invariant to rescaling a layer that feeds a norm)
        def hook(mod: Any, args: tuple) -> Any:
            name = site.name(mod, fixed)
            if name in x_moments or not args or not isinstance(args[0], torch.Tensor) \
                    or not args[0].is_floating_point() or args[0].ndim == 0:
                return None
            x = args[0]
            width = int(x.shape[1] if isinstance(by_name[name].layer, Spatial) and x.ndim >= 3 else x.shape[-1])
            with torch.no_grad():
                m = float(torch.mean(torch.square(x.detach().double())))
            x_moments[name] = (m, width, int(x.numel() // max(width, 1)))
            return (_GradMoment.apply(x, anchor, g_moments, name),) + tuple(args[1:])
        return hook

    consumer: dict[str, bool] = {}

    def consume_hook(norm: bool):
        # the first module to receive a node's output (through pass-through modules) decides whether
        # the node is scale invariant: a normalization (True) or anything else (False)
        def hook(mod: Any, args: tuple) -> None:
            if args and isinstance(args[0], torch.Tensor):
                n = owner.get(id(args[0]))
                if n is not None and n not in consumer:
                    consumer[n] = norm
        return hook

    batch_stats: list[BatchStat] = []

    def stats_hook(name: str):
        # how many values per channel the batch statistics are taken over (the signal check's m_min)
        def hook(mod: Any, args: tuple) -> None:
            if uses_batch_stats(mod) and args and isinstance(args[0], torch.Tensor) and args[0].ndim >= 2:
                batch_stats.append(BatchStat(name, int(args[0].numel() // max(int(args[0].shape[1]), 1)),
                                             order[-1] if order else None))
        return hook

    def group_hook(name: str):
        # a per-sample normalization: how many values each sample's group statistics are taken over
        def hook(mod: Any, args: tuple) -> None:
            made = sample_stats(mod, args[0]) if args else None
            if made is not None:
                batch_stats.append(BatchStat(name, made[0], order[-1] if order else None, kind="group",
                                             channels=made[1], layer=type(mod).__name__))
        return hook

    for mname, m in model.named_modules():
        if isinstance(m, _BATCH_NORMS):
            handles.append(m.register_forward_pre_hook(stats_hook(mname)))
        elif isinstance(m, (nn.GroupNorm,) + _INSTANCE_NORMS):
            handles.append(m.register_forward_pre_hook(group_hook(mname)))
    for m in model.modules():
        if type(m) in _ACTIVATIONS:
            handles.append(m.register_forward_hook(act_hook(_ACTIVATIONS[type(m)])))
        elif isinstance(m, _PASS_THROUGH):
            handles.append(m.register_forward_hook(pass_hook))
        if is_scale_free_norm(m):
            handles.append(m.register_forward_pre_hook(consume_hook(True)))
        elif not isinstance(m, _PASS_THROUGH) and next(m.children(), None) is None:
            handles.append(m.register_forward_pre_hook(consume_hook(False)))  # a leaf: containers defer
    handles += site.enter_hooks()  # before the node's own pre-hook, which reads the call site
    # after the consumer hooks: a node's pre-hook replaces its input, which they must see first; one hook pair
    # per distinct module (a module under several names is hooked once and names each call by its site)
    hooked: set[int] = set()
    for name, m in modules.items():
        if id(m) not in hooked:
            hooked.add(id(m))
            handles.append(m.register_forward_pre_hook(input_hook(name)))
            handles.append(m.register_forward_hook(node_hook(name)))
    handles += site.exit_hooks()  # after the node's own hook, which reads the call site
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    try:
        with probe_rng(int(seed) % (2**63)):
            seeded = generator_states()
            out = model(**x) if isinstance(x, dict) else model(*(x if isinstance(x, (tuple, list)) else (x,)))
            drew = generator_states() != seeded
            outs = _tensors(out)
            if not outs:
                raise ValueError("the model output contains no floating tensor")
            loss = 0.0
            for t in outs:
                r = torch.tensor(rng.standard_normal(tuple(t.shape)), dtype=t.dtype)
                loss = loss + (t * r).sum()
            names = [n for n in order if eps[n] is not None]
            grads = torch.autograd.grad(loss, [eps[n] for n in names] + [anchor], allow_unused=True)[:-1]
            output_varies = any(varies(probe_array(t)) for t in outs)
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
        d = np.zeros_like(z) if g is None else probe_array(g)
        xm, width, rows = x_moments.get(n, (None, None, None))
        try:
            signals.append(Signal(n, units_last(z, axis, node.n_units), units_last(d, axis, node.n_units), inp_varies,
                                  xm, None if xm is None else g_moments.get(n, 0.0), width, rows))
        except ValueError:
            continue
        if n in act_of:
            node.activation = activation_key(act_of[n])
        node.scale_invariant = consumer.get(n)
    first = first_tensor(x)
    in_varies = varies(probe_array(first)) if isinstance(first, torch.Tensor) else True
    stochastic = active_dropout(model) + (["draws from torch's global generator"] if drew else [])
    return Probe(signals, batch, input_desc, output_varies, in_varies, stochastic=stochastic, batch_stats=batch_stats)


class _CallSites:
    """The name of each call of a module registered under several names (timm CoaT's ``cpe``/``crpe`` modules,
    shared between blocks): among its names, the one under the innermost running module that holds one of them,
    as its child (``b2.pos`` when ``b2``'s forward calls its ``pos``) or deeper, through a container that is never
    called itself (``...crpe.conv_list.0`` when ``crpe`` loops over its ``ModuleList``), else its first name; a caller that reaches it
    under several names (``ModuleList([layer] * 4)`` in a loop) gets them in turn.  Each call site is then a signal
    record of its own, with that call's figures; before, every name of
    the module was recorded on its first call and showed the first call's figures, out of execution order (a
    '25.5x' growth note on timm CoaT came from that; a shared Linear called by a second block on a 30x larger
    input showed the first call's moments there, 0.99 for 69.5).  A name of the module that is no call site
    (``cpe1``, the owner's attribute) gets no record.  A model without such a module gets no hooks here."""

    def __init__(self, model: Any, modules: dict[str, Any]) -> None:
        names: dict[int, list[str]] = {}
        for name, m in modules.items():
            names.setdefault(id(m), []).append(name)
        self.shared = {k: v for k, v in names.items() if len(v) > 1}
        self.model = model
        self.paths: dict[int, list[str]] = {}
        self.stack: list[str] = []  # the call-site names of the modules running now, outermost first
        self.current: dict[int, list[str]] = {}  # a shared module's call site, per running call
        self.used: set[str] = set()  # the call-site names given in this forward pass (reset at the model's own call)

    def name(self, mod: Any, fixed: str) -> str:
        """The name of ``mod``'s running call (``fixed`` for a module with one name)."""
        running = self.current.get(id(mod))
        return running[-1] if running else fixed

    def _resolve(self, mod: Any) -> str:
        names = self.paths[id(mod)]
        if len(names) == 1:
            return names[0]
        for caller in reversed(self.stack):  # the innermost running module that holds one of its names
            for fits in (lambda n: n.rpartition(".")[0] == caller,  # as its child
                         # deeper, through a container never called itself (a ModuleList)
                         lambda n: n.startswith(caller + ".") or not caller):
                held = [n for n in names if fits(n)]
                if held:
                    # one caller reaching the module under several of its names (``ModuleList([layer] * 4)`` in a
                    # loop, ``self.a = self.b``) calls them in turn: the first this pass has not named yet
                    n = next((n for n in held if n not in self.used), held[0])
                    self.used.add(n)
                    return n
        return names[0]

    def enter_hooks(self) -> list[Any]:
        """Pre-hooks on every module that push its call site (none when no node module is shared)."""
        if not self.shared:
            return []
        for path, m in self.model.named_modules(remove_duplicate=False):
            self.paths.setdefault(id(m), []).append(path)

        def enter(mod: Any, args: tuple) -> None:
            if not self.stack:
                self.used.clear()  # a new forward pass of the model
            n = self._resolve(mod)
            self.stack.append(n)
            if id(mod) in self.shared:
                self.current.setdefault(id(mod), []).append(n)

        return [m.register_forward_pre_hook(enter) for m in self.model.modules()]

    def exit_hooks(self) -> list[Any]:
        """Hooks on every module that pop its call site (after the node hooks read it)."""
        if not self.shared:
            return []

        def leave(mod: Any, args: tuple, out: Any) -> None:
            if self.stack:
                self.stack.pop()
            if self.current.get(id(mod)):
                self.current[id(mod)].pop()

        return [m.register_forward_hook(leave) for m in self.model.modules()]


def active_dropout(model: Any) -> list[str]:
    """The dropout modules that drop in a forward of ``model`` as it is (train mode, ``p > 0``), counted by
    class: ``["Dropout x12 (train mode)", "Dropout2d x1 (train mode)"]`` (``torch/nn/modules/dropout.py``)."""
    counts: dict[str, int] = {}
    for m in model.modules():
        if isinstance(m, _DROPOUTS) and m.training and float(m.p) > 0:
            counts[type(m).__name__] = counts.get(type(m).__name__, 0) + 1
    return [f"{k} x{n} (train mode)" for k, n in counts.items()]


def view(model: Any, name: str, example_input: Any = None, batch: int = 32, seed: int = 0) -> ModelView:
    """The :class:`ModelView` of a torch module, with a probe pass when an input is known or inferable
    (a positional example, a tuple of them, or a dict of keyword inputs), and the model's declared init
    constants as hints (:func:`config_hints`)."""
    params, nodes, modules = extract_params(model)

    def make_input() -> tuple[Any, str]:
        nonlocal batch
        if example_input is None:
            return inferred_input(model, batch, seed)
        x = as_tensors(example_input)
        first = first_tensor(x)
        if first is None:
            raise ValueError("the example input holds no tensor")
        batch = int(first.shape[0]) if len(first.shape) else batch
        kind = f"keyword ({', '.join(x)}) " if isinstance(x, dict) else ""
        return x, f"the given {kind}example input of shape {tuple(first.shape)}"

    def run(x: Any, desc: str) -> Probe:
        return probe(model, nodes, modules, x, batch, seed, desc)

    mv = ModelView("torch", name, params, nodes, hints=config_hints(model))
    return mv.run_probe(make_input, run, "return (model, example_input) from the factory, or pass --input-shape")


__all__ = ["HF_HINTS", "as_tensors", "bfloat16_array", "config_hints", "config_input", "declared_image_size", "extract_params", "first_tensor",
           "infer_input", "inferred_input",
           "is_hf_conv1d", "is_model", "is_scale_free_norm", "layer_input", "own_params", "probe", "probe_array", "read_only", "view"]


def example() -> tuple[Any, int]:
    """A small ReLU MLP built with ``torch.nn`` and its parameter count (conformance checks)."""
    with torch.random.fork_rng(devices=[]):
        manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return model, sum(p.numel() for p in model.parameters())
