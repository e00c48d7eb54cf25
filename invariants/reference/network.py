"""The numpy reference multilayer perceptron: forward, backward, dropout, permutations.

Layout (PyTorch's): layer l = 1..L maps h_{l-1} (B, n_{l-1}) to z_l = h_{l-1} W_lᵀ + b_l with
W_l of shape (n_l, n_{l-1}) and b_l of shape (n_l,); hidden layers apply h_l = φ(a_l) to
a_l = z_l, or, with ``norm="batch"`` / ``"layer"``, to a_l = g_l ⊙ norm(z_l) + s_l (see
:mod:`invariants.reference.norms`); the output layer is linear and feeds the loss.  Parameters live in
an ordered dict ``{"W1", "b1", "g1", "s1", "W2", ...}`` (no ``b*`` entries when ``bias=False``, no
``g*``/``s*`` entries without a norm).  The hidden units of layer l (1 ≤ l < L) are the rows of W_l,
the entries of b_l, g_l, s_l and the columns of W_{l+1}.

Dropout is inverted dropout (kept values scaled by 1/(1 − p)); masks come from an explicit
``np.random.Generator`` and are returned so an experiment can replay or permute them.

With ``kernel="exact"`` (the default, see :mod:`invariants.reference.kernels`) every output, gradient
and, through the optimizers, every optimizer state is bitwise equivariant under permutations of
hidden units.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from invariants.reference import kernels
from invariants.reference.activations import get_activation
from invariants.reference.losses import get_loss
from invariants.reference.norms import NORMS, NormCache, norm_backward, norm_forward

Params = dict[str, np.ndarray]
DTYPES = (np.float32, np.float64)


@dataclass(frozen=True)
class Architecture:
    """Shape and behaviour of a reference MLP.

    Attributes:
        sizes: (n_in, n_1, ..., n_out); at least two entries, every entry ≥ 1.
        activation: name in :data:`invariants.reference.activations.ACTIVATIONS`.
        loss: ``"mse"`` or ``"softmax_xent"``.
        bias: whether layers have biases.
        kernel: ``"exact"`` (bitwise equivariant) or ``"blas"``.
        input_dropout, hidden_dropout: drop probabilities in [0, 1).
        dtype: ``"float32"`` or ``"float64"``.
        norm: ``None`` (default), ``"batch"`` or ``"layer"``: normalization of every hidden layer's
            pre-activation, with learnable per-unit scale ``g<l>`` (init 1) and shift ``s<l>`` (init 0).
    """

    sizes: tuple[int, ...]
    activation: str = "tanh"
    loss: str = "mse"
    bias: bool = True
    kernel: str = "exact"
    input_dropout: float = 0.0
    hidden_dropout: float = 0.0
    dtype: str = "float64"
    norm: str | None = None

    def __post_init__(self) -> None:
        if len(self.sizes) < 2 or any(int(n) < 1 for n in self.sizes):
            raise ValueError(f"sizes must list ≥ 2 layer widths, each ≥ 1; got {self.sizes}")
        get_activation(self.activation)
        get_loss(self.loss)
        if self.kernel not in kernels.KERNELS:
            raise ValueError(f"unknown kernel {self.kernel!r}; expected one of {kernels.KERNELS}")
        for p in (self.input_dropout, self.hidden_dropout):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"dropout probability must lie in [0, 1), got {p}")
        if np.dtype(self.dtype) not in [np.dtype(d) for d in DTYPES]:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        if self.norm is not None and self.norm not in NORMS:
            raise ValueError(f"unknown norm {self.norm!r}; expected None or one of {NORMS}")

    @property
    def depth(self) -> int:
        """Number of weight layers L."""
        return len(self.sizes) - 1

    @property
    def hidden_layers(self) -> range:
        """Indices l of the hidden layers, 1..L-1."""
        return range(1, self.depth)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name → shape for every parameter, in order."""
        shapes: dict[str, tuple[int, ...]] = {}
        for l in range(1, self.depth + 1):
            shapes[f"W{l}"] = (self.sizes[l], self.sizes[l - 1])
            if self.bias:
                shapes[f"b{l}"] = (self.sizes[l],)
            if self.norm is not None and l < self.depth:
                shapes[f"g{l}"] = (self.sizes[l],)
                shapes[f"s{l}"] = (self.sizes[l],)
        return shapes


def init_params(arch: Architecture, weight, bias=0.0, scale=1.0, shift=0.0) -> Params:
    """Build parameters from per-tensor initializers.

    ``weight``, ``bias`` and the norm parameters' ``scale`` (``g*``) and ``shift`` (``s*``) are each a
    number (constant init) or a callable ``f(name, shape) -> array`` (or a dict name → array).  Results
    are cast to ``arch.dtype``; shape mismatches raise ``ValueError``.
    """
    dtype = np.dtype(arch.dtype)
    params: Params = {}
    specs = {"W": weight, "b": bias, "g": scale, "s": shift}
    for name, shape in arch.param_shapes().items():
        spec = specs[name[0]]
        if callable(spec):
            value = spec(name, shape)
        elif isinstance(spec, dict):
            value = spec[name]
        else:
            value = np.full(shape, spec)
        value = np.array(value, dtype=dtype)
        if value.shape != shape:
            raise ValueError(f"initializer for {name} returned shape {value.shape}, expected {shape}")
        params[name] = value
    return params


def random_params(arch: Architecture, rng: np.random.Generator, weight_std: str | float = "lecun",
                  bias_std: float = 0.0) -> Params:
    """Gaussian weights (std 1/√fan_in for ``"lecun"``, or a given std) and Gaussian or zero biases."""

    def w(name, shape):
        std = 1.0 / np.sqrt(shape[1]) if weight_std == "lecun" else float(weight_std)
        return rng.normal(0.0, std, size=shape)

    def b(name, shape):
        return rng.normal(0.0, bias_std, size=shape) if bias_std else np.zeros(shape)

    return init_params(arch, w, b)


@dataclass
class ForwardCache:
    """Everything the backward pass needs: inputs h_{l-1}, pre-activations z_l, dropout masks."""

    inputs: list[np.ndarray] = field(default_factory=list)  # h_0 (after input dropout), h_1, ..., h_{L-1}
    #: the same inputs and the weights W_1..W_L as kernel operands: the exact kernel splits each once
    #: for the forward and the backward products (:func:`invariants.reference.kernels.operand`)
    input_operands: list = field(default_factory=list)
    weight_operands: list = field(default_factory=list)
    #: the activations' arguments a_1, ..., a_{L-1} and the output z_L (a_l = z_l without a norm)
    preacts: list[np.ndarray] = field(default_factory=list)
    #: z_1, ..., z_L before any normalization (the same arrays as ``preacts`` without a norm)
    linear: list[np.ndarray] = field(default_factory=list)
    norms: dict[int, NormCache] = field(default_factory=dict)  # hidden layer index -> norm cache
    masks: dict[int, np.ndarray] = field(default_factory=dict)  # layer index (0 = input) -> scaled mask
    output: np.ndarray | None = None


@dataclass(frozen=True)
class Layout:
    """What every pass of one :class:`Architecture` looks up: computed once per architecture
    (:func:`layout`), so that the tiny networks of ``invariants verify`` (~80k passes) do not redo it."""

    depth: int
    dtype: np.dtype
    act: Any
    loss: Any
    bias: bool
    norm: str | None
    weights: tuple[str, ...]  # "W1", ..., "WL"
    biases: tuple[str, ...]  # "b1", ..., "bL" (names even without biases)


def layout(arch: Architecture) -> Layout:
    """The :class:`Layout` of ``arch`` (cached: architectures are frozen and hashable; one built from a
    list of sizes, which is not, gets a new one)."""
    # by identity first: hashing a frozen dataclass hashes all its fields (~1 µs), and a training loop asks
    # for the layout of the same object at every pass (two or three times a step); the entry holds the
    # object, so its id cannot be reused while the entry lives
    hit = _BY_ID.get(id(arch))
    if hit is not None and hit[0] is arch:
        return hit[1]
    try:
        plan = _cached_layout(arch)
    except TypeError:
        return _make_layout(arch)
    if len(_BY_ID) >= 256:  # many architectures (a sweep): start afresh
        _BY_ID.clear()
    _BY_ID[id(arch)] = (arch, plan)
    return plan


#: id(architecture) → (the architecture, its layout), for :func:`layout`
_BY_ID: dict[int, tuple[Architecture, "Layout"]] = {}


@functools.lru_cache(maxsize=1024)
def _cached_layout(arch: Architecture) -> Layout:
    return _make_layout(arch)


def _make_layout(arch: Architecture) -> Layout:
    depth = arch.depth
    return Layout(depth, np.dtype(arch.dtype), get_activation(arch.activation), get_loss(arch.loss), arch.bias,
                  arch.norm, tuple(f"W{l}" for l in range(1, depth + 1)), tuple(f"b{l}" for l in range(1, depth + 1)))


def _dropout_mask(p: float, shape, rng, dtype) -> np.ndarray:
    keep = rng.random(shape) >= p
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


def forward(arch: Architecture, params: Params, x: np.ndarray, rng: np.random.Generator | None = None,
            masks: dict[int, np.ndarray] | None = None) -> ForwardCache:
    """Forward pass on a batch ``x`` of shape (B, n_in); returns the cache (output (B, n_out)).

    Dropout masks are taken from ``masks`` (layer index → (B, n_l) scaled mask, 0 = input) when given,
    else drawn from ``rng``; dropout without either raises ``ValueError``.
    """
    plan = layout(arch)
    h = np.asarray(x, dtype=plan.dtype)
    if h.ndim != 2 or h.shape[1] != arch.sizes[0]:
        raise ValueError(f"inputs must have shape (B, {arch.sizes[0]}), got {h.shape}")
    masks = dict(masks) if masks else {}
    inputs: list[np.ndarray] = []
    input_operands: list = []
    weight_operands: list = []
    preacts: list[np.ndarray] = []
    linear: list[np.ndarray] = []
    norms: dict[int, NormCache] = {}
    dropout = arch.input_dropout or arch.hidden_dropout
    if dropout:
        h = _apply_dropout(plan, masks, rng, 0, h, arch.input_dropout)
    kernel, depth, f = arch.kernel, plan.depth, plan.act.f
    exact = kernel == "exact"
    rows = h.shape[0]
    for l in range(1, depth + 1):
        inputs.append(h)
        w = params[plan.weights[l - 1]]
        if splits_pay(arch, rows, w):
            hop, wop = kernels.operand(h, kernel), kernels.operand(w, kernel)
            z = kernels.matmul(hop, wop.T, kernel)
        else:
            hop, wop = h, w
            # below CROSSOVER kernels.matmul is canonical_matmul (exact) or ``@`` (blas): called directly
            z = kernels.canonical_matmul(h, w.T) if exact else kernels.matmul(h, w.T, kernel)
        input_operands.append(hop)
        weight_operands.append(wop)
        if plan.bias:
            z = z + params[plan.biases[l - 1]]
        linear.append(z)
        if l < depth:
            if plan.norm is not None:
                z, norms[l] = norm_forward(plan.norm, z, params[f"g{l}"], params[f"s{l}"], kernel)
            preacts.append(z)
            h = f(z)
            if dropout:
                h = _apply_dropout(plan, masks, rng, l, h, arch.hidden_dropout)
        else:
            preacts.append(z)
            h = z
    return ForwardCache(inputs, input_operands, weight_operands, preacts, linear, norms, masks, h)


def _apply_dropout(plan: "Layout", masks: dict[int, np.ndarray], rng: np.random.Generator | None, layer: int,
                   h: np.ndarray, p: float) -> np.ndarray:
    if p == 0.0:
        return h
    if layer not in masks:
        if rng is None:
            raise ValueError("dropout needs an explicit np.random.Generator (rng=...) or masks")
        masks[layer] = _dropout_mask(p, h.shape, rng, plan.dtype)
    return h * masks[layer]


def loss_and_grad(arch: Architecture, params: Params, x: np.ndarray, t: np.ndarray,
                  rng: np.random.Generator | None = None, masks: dict[int, np.ndarray] | None = None,
                  ) -> tuple[float, Params]:
    """Loss on the batch (x, t) and its gradient with respect to every parameter (same keys/shapes).

    Backpropagation: δ_L = ∂L/∂z_L; ∂L/∂W_l = δ_lᵀ h_{l-1}; ∂L/∂b_l = Σ_batch δ_l;
    ∂L/∂a_{l-1} = (δ_l W_l) ⊙ mask_{l-1} ⊙ φ'(a_{l-1}), which is δ_{l-1} without a norm and is mapped
    to δ_{l-1} = ∂L/∂z_{l-1} (and ∂L/∂g, ∂L/∂s) by :func:`invariants.reference.norms.norm_backward`.
    """
    plan = layout(arch)
    cache = forward(arch, params, x, rng=rng, masks=masks)
    loss, delta = plan.loss(cache.output, t)
    df, df_out = plan.act.df, plan.act.df_out
    kernel = arch.kernel
    exact = kernel == "exact"
    grads: Params = {}
    rows = cache.output.shape[0]
    for l in range(plan.depth, 0, -1):
        if l in cache.norms:
            delta, grads[f"g{l}"], grads[f"s{l}"] = norm_backward(delta, cache.norms[l], params[f"g{l}"], kernel)
        h = cache.inputs[l - 1]
        wname = plan.weights[l - 1]
        split = splits_pay(arch, rows, params[wname])
        if split:
            d = kernels.operand(delta, kernel)  # split once for both products
            grads[wname] = kernels.matmul(d.T, cache.input_operands[l - 1], kernel)
            if plan.bias:
                grads[plan.biases[l - 1]] = kernels.sum_rows(delta, kernel)
        elif exact and plan.bias and delta.dtype == h.dtype:
            grads[wname], grads[plan.biases[l - 1]] = _weight_and_bias_grads(delta, h)
        else:
            grads[wname] = (kernels.canonical_matmul(delta.T, h) if exact else kernels.matmul(delta.T, h, kernel))
            if plan.bias:
                grads[plan.biases[l - 1]] = kernels.sum_rows(delta, kernel)
        if l > 1:
            if split:
                back = kernels.matmul(d, cache.weight_operands[l - 1], kernel)
            elif exact:
                back = kernels.canonical_matmul(delta, params[wname])
            else:
                back = kernels.matmul(delta, params[wname], kernel)
            if l - 1 in cache.masks:
                back = back * cache.masks[l - 1]
                delta = back * df(cache.preacts[l - 2])
            else:  # the layer's output h_{l-1} = φ(a_{l-1}) itself (no mask on it)
                delta = back * (df(cache.preacts[l - 2]) if df_out is None else df_out(cache.inputs[l - 1]))
    return float(loss), {name: grads[name] for name in params}


def splits_pay(arch: Architecture, batch: int, weight: np.ndarray) -> bool:
    """Whether layer products of ``batch`` rows with ``weight`` go to the exact kernel's error-free
    transformation, where wrapping their operands (:func:`invariants.reference.kernels.operand`) saves
    splitting them again.  The three products of a layer (forward h·Wᵀ, backward δᵀ·h and δ·W) have the
    same m·k·n = batch·n_l·n_{l-1}, so one test decides for all; below :data:`~invariants.reference.kernels.CROSSOVER`
    the operands are the arrays themselves (a wrapper costs ~2.5 µs per product and changes no bit)."""
    return arch.kernel == "exact" and batch * weight.size >= kernels.CROSSOVER


def _weight_and_bias_grads(delta: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # ∂L/∂W_l and ∂L/∂b_l (exact kernel, below CROSSOVER) as one canonical product δᵀ·[h, 1]: the terms of
    # its last column are δ·1.0 = δ exactly (−0.0, ±∞ and NaN included), so that column is bit for bit
    # sum_rows(δ) and the others are δᵀ·h; one sort-sum instead of two (~5 µs a layer)
    ones = np.ones((h.shape[0], 1), dtype=h.dtype)
    both = kernels.canonical_matmul(delta.T, np.concatenate((h, ones), axis=1))
    return both[:, :-1].copy(), both[:, -1].copy()


def predict(arch: Architecture, params: Params, x: np.ndarray) -> np.ndarray:
    """Network output (B, n_out) without dropout (evaluation mode; batch norm still uses the statistics
    of ``x``, see :mod:`invariants.reference.norms`)."""
    eval_arch = Architecture(**{**arch.__dict__, "input_dropout": 0.0, "hidden_dropout": 0.0})
    return forward(eval_arch, params, x).output


def permute_hidden(arch: Architecture, tree: Params, layer: int, perm: np.ndarray) -> Params:
    """Permute the hidden units of ``layer`` in a parameter-shaped dict (params, grads or optimizer state).

    Unit j of the result is unit ``perm[j]`` of the input: rows of W_l and entries of b_l, g_l, s_l
    are taken in ``perm`` order, and so are the columns of W_{l+1}.  Raises ``ValueError`` for an output or
    input layer index or a ``perm`` that is not a permutation of the layer's units.
    """
    if layer not in arch.hidden_layers:
        raise ValueError(f"layer {layer} is not a hidden layer (hidden layers: {list(arch.hidden_layers)})")
    perm = np.asarray(perm)
    if sorted(perm.tolist()) != list(range(arch.sizes[layer])):
        raise ValueError(f"perm must be a permutation of range({arch.sizes[layer]})")
    out = dict(tree)
    out[f"W{layer}"] = tree[f"W{layer}"][perm, :]
    for name in (f"b{layer}", f"g{layer}", f"s{layer}"):
        if name in tree:
            out[name] = tree[name][perm]
    out[f"W{layer + 1}"] = tree[f"W{layer + 1}"][:, perm]
    return out
