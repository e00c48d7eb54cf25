"""A framework-neutral view of a model at initialization: named tensors with layer semantics.

Every framework (:meth:`invariants.frameworks.base.Framework.model_view`) turns a model into a
:class:`ModelView`:

- :class:`Param`: every parameter tensor, as a numpy array in the framework's layout, with its *role*
  (``weight``, ``embedding``, ``recurrent``: random values expected; ``bias``, ``norm_scale``,
  ``norm_shift``: conventional constants allowed; ``other``: no semantics known) and, for weights, the
  :class:`~invariants.layers.Layer` it belongs to (textbook fans, packed blocks).
- :class:`Node`: a layer whose *output units* are analysed (dense, conv, transposed conv, depthwise,
  embedding, bilinear): its weight, bias and, when the extractor can see it, the activation applied
  directly to its output.  :meth:`Node.incoming` gives, per output unit, the weights feeding it.
- :class:`Probe`: what one forward and backward pass on a probe batch measured, per node, in execution
  order: the node's output ``z`` (pre-activation) and ``δ = ∂L/∂z`` for the probe loss
  ``L = Σ y·r`` with a fixed ``r ~ N(0, 1)`` of the output's shape (so ``δ`` at the output is ``r``, the
  setting of the mean-field backward recursion, :mod:`invariants.propagation`), and whether the node's
  input varies across the batch.

Output-unit axes: a dense/embedding/bilinear output has its units on the last axis in every framework;
a torch convolution on axis 1 (NCHW), a JAX/Keras one on the last axis (NHWC).
"""
from __future__ import annotations

import contextlib
import contextvars
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from invariants.frameworks.dtypes import all_equal
from invariants.layers import TORCH, Layer, Layout

ROLES = ("weight", "embedding", "recurrent", "bias", "norm_scale", "norm_shift", "other")
#: roles whose tensors a framework initializes with random values
RANDOM_ROLES = ("weight", "embedding", "recurrent")


@dataclass(frozen=True)
class ModelParts:
    """A model as the user packed it: ``(model, variables, input, apply_kwargs)``.

    Accepted forms (what a ``module:factory`` target may return): a bare model; ``(model, second)`` or
    ``(model, second, input)`` (``second`` is the variables of a Flax module or the params of a
    reference network; torch and Keras read it as the example input); a dict
    ``{"model"|"module": ..., "variables"|"params": ..., "input": ..., "apply_kwargs": ...}``.
    """

    model: Any
    variables: Any = None
    input: Any = None
    apply_kwargs: dict[str, Any] = field(default_factory=dict)

    def with_input(self, x: Any) -> "ModelParts":
        return ModelParts(self.model, self.variables, x, self.apply_kwargs)

    def second_as_input(self) -> "ModelParts":
        """``(model, x)``: the second element is the example input (torch, Keras)."""
        if self.variables is not None and self.input is None:
            return ModelParts(self.model, None, self.variables, self.apply_kwargs)
        return self


def unpack_model(obj: Any) -> ModelParts:
    """The :class:`ModelParts` of any accepted form (see :class:`ModelParts`)."""
    if isinstance(obj, ModelParts):
        return obj
    if isinstance(obj, dict) and ("model" in obj or "module" in obj):
        model = obj.get("model", obj.get("module"))
        variables = obj.get("variables", obj.get("params"))
        return ModelParts(model, variables, obj.get("input"), dict(obj.get("apply_kwargs") or {}))
    if isinstance(obj, (tuple, list)) and 2 <= len(obj) <= 3:
        return ModelParts(obj[0], obj[1], obj[2] if len(obj) == 3 else None)
    return ModelParts(obj)


@dataclass
class Param:
    """One named parameter tensor.

    Attributes:
        name: the framework's name (``"encoder.0.weight"``, ``"sequential/dense/kernel"``,
            ``"params/Dense_0/kernel"``, ``"W1"``).
        value: the values (numpy, framework layout, dtype kept).
        role: one of :data:`ROLES`.
        owner: path of the layer/module that owns it.
        owner_type: the framework class of the owner (``"Linear"``, ``"Dense"``, ``"LSTM"``).
        layer: layer semantics of a weight (``None`` for biases and norm parameters).
        layout: the :class:`~invariants.layers.Layout` of ``value`` (the framework's, e.g.
            :data:`~invariants.layers.TORCH`; Flax's ``ConvTranspose(transpose_kernel=True)`` kernels
            are :data:`~invariants.layers.KERAS`; transformers' ``Conv1D`` weights, stored ``(in, out)``,
            are :data:`~invariants.layers.JAX`).
        tied: the tensor's other names when one tensor is registered under several (weight tying,
            e.g. GPT-2's ``lm_head.weight`` = ``transformer.wte.weight``, or a module shared by two
            parents): it is one parameter, checked once under :attr:`name`.
        padding_rows: rows of an embedding table the framework zeroes on purpose (``torch.nn.Embedding(
            padding_idx=i)``: the pad token's vector, zero at init and never updated); ``()`` when none.
        owner_classes: the owner's class and base-class names, nearest first (``("NonDynamicallyQuantizableLinear",
            "Linear", "Module")``), where the extractor records them (torch); ``()``: only :attr:`owner_type`.
            A module-type expectation (``check-model --expect Linear=...``) matches any of them.
        magnitude: for the effective weight ``g·v/‖v‖`` of a weight-normed layer (read under the name of ``v``,
            :mod:`invariants.frameworks.torch.weightnorm`), the name of ``g``, whose per-slice values are the
            weight's norms and so set its scale; ``""`` otherwise.
        magnitude_ratio: with :attr:`magnitude`, ``(min, max)`` over the slices of ``g/‖v‖`` (``1, 1`` as the
            wrap leaves them: ``_WeightNorm.right_inverse`` sets ``g = ‖w‖``, ``v = w``); ``None`` otherwise.
        zero_scale_passes: for an all-zero ``norm_scale``, what running its norm module at its weights on a random
            batch showed (:func:`invariants.frameworks.torch.norms.zero_scale_passes`, the Keras one alike):
            ``False``, every row came out the same, so the output is its shift alone (``γ·x̂ + β``: the zero scale
            cuts the normalized signal); ``True``, the rows still differ, so the zero scale is no multiplier of the
            output (``x̂·(1 + γ)``: keras-hub Gemma's ``RMSNormalization.call``, transformers' ``GemmaRMSNorm``,
            where a zero scale is the identity); ``None``, not run (another role, a non-zero scale, a framework
            without the runner, or the module refused the batch).
    """

    name: str
    value: np.ndarray
    role: str
    owner: str = ""
    owner_type: str = ""
    layer: Layer | None = None
    layout: Layout = TORCH
    tied: tuple[str, ...] = ()
    padding_rows: tuple[int, ...] = ()
    owner_classes: tuple[str, ...] = ()
    magnitude: str = ""
    magnitude_ratio: tuple[float, float] | None = None
    zero_scale_passes: bool | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {ROLES}")
        self.value = np.asarray(self.value)

    @property
    def size(self) -> int:
        return int(self.value.size)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.value.shape)

    def is_constant(self) -> bool:
        """All entries equal (a tensor of one entry counts as constant only if it is 0)."""
        v = self.value.ravel()
        if v.size == 0:
            return False
        return bool(v[0] == 0) if v.size == 1 else all_equal(v)

    def zero_padding_rows(self) -> list[int]:
        """The declared :attr:`padding_rows` that are all zero, as the framework leaves them
        (``torch.nn.Embedding.reset_parameters`` -> ``_fill_padding_idx_with_zero``; HuggingFace
        ``PreTrainedModel._init_weights`` zeroes ``weight[padding_idx]`` again after its normal draw)."""
        if self.value.ndim != 2:
            return []
        return [r for r in self.padding_rows if 0 <= r < self.value.shape[0] and not np.any(self.value[r] != 0)]

    def blocks(self) -> list[tuple[str, tuple[slice, ...] | None, Layer | None]]:
        """``[(label, index, layer)]``: the packed blocks (``name[i]``) or the whole tensor."""
        if self.layer is not None and self.layer.blocks:
            return [(f"{self.name}[{b}]", idx, self.layer.block_layer())
                    for b, idx in self.layer.block_index(self.layout)]
        return [(self.name, None, self.layer)]


@dataclass
class Node:
    """A layer whose output units are analysed.

    Attributes:
        name: layer path (also the key of its probe signal).
        owner_type: framework class (``"Conv2d"``).
        layer: layer semantics (a layer kind with output units: ``layer.has_units``).
        weight, bias: its parameters (``bias`` may be ``None``).
        activation: name of the activation applied directly to the output, when the extractor can see
            it (a key of :data:`ACTIVATION_DERIVATIVES`), else ``None``.
        scale_invariant: ``True`` when the output feeds a normalization directly (BatchNorm, LayerNorm,
            GroupNorm, RMSNorm over the output units), so rescaling this layer's weight and bias leaves
            the network function unchanged; ``False`` when the probe saw it feed something else; ``None``
            when unknown.
    """

    name: str
    owner_type: str
    layer: Layer
    weight: Param
    bias: Param | None = None
    activation: str | None = None
    scale_invariant: bool | None = None

    @property
    def n_units(self) -> int:
        return self.layer.out_features

    def incoming(self) -> np.ndarray:
        """``(n_units, k)``: row ``j`` holds every weight feeding output unit ``j``."""
        return self.layer.unit_rows(self.weight.value, self.weight.layout)

    def bias_values(self) -> np.ndarray | None:
        """Per-unit bias ``(n_units,)`` or ``None``."""
        if self.bias is None:
            return None
        b = np.asarray(self.bias.value).ravel()
        return b if b.size == self.n_units else None


@dataclass
class Signal:
    """What the probe measured at one node (first call only).

    Attributes:
        name: the node name.
        z: the node's output with units on the last axis, flattened to ``(M, n_units)`` (M = batch x
            positions).
        delta: ``∂L/∂z`` in the same layout, or ``None`` when no backward pass ran.
        input_varies: whether the node's input differs between probe examples by more than rounding
            (:func:`varies` with :data:`INPUT_ROUNDING_ULPS`; ``None``: unknown).
        input_moment: ``mean(x²)`` of the node's (first) input ``x``, float64; ``None`` when the probe
            did not measure inputs (or the input is not floating, e.g. token ids).
        input_grad_moment: ``mean(g²)`` of ``g = ∂L/∂x`` through this node (``x`` perturbed as it
            enters the node only), ``None`` as above.
        input_width: units of ``x`` (its channel axis for a spatial layer, else its last axis).
        input_rows: ``x.size / input_width`` (batch x positions).

    The input moments are what :mod:`invariants.modelcheck.signal` compares through depth: unlike ``z``
    and ``δ``, they do not change when a layer feeding a normalization is rescaled, or when a scale is
    moved between a layer and a following LayerScale (see that module).
    """

    name: str
    z: np.ndarray
    delta: np.ndarray | None = None
    input_varies: bool | None = None
    input_moment: float | None = None
    input_grad_moment: float | None = None
    input_width: int | None = None
    input_rows: int | None = None

    @property
    def forward_moment(self) -> float:
        """``mean(z²)``: second moment of the output (the mean-field ``q``)."""
        return float(np.mean(np.square(self.z, dtype=np.float64)))

    @property
    def backward_moment(self) -> float | None:
        """``mean(δ²)``."""
        return None if self.delta is None else float(np.mean(np.square(self.delta, dtype=np.float64)))


@dataclass(frozen=True)
class BatchStat:
    """One normalization the probe ran on statistics it took from the probe's own values, over few enough of
    them that the signal check must know how many (:mod:`invariants.modelcheck.batchstats`).

    Two kinds:

    - ``"batch"``: a BatchNorm normalising with the batch's statistics (torch ``BatchNorm*``/``SyncBatchNorm``
      in train mode, Keras ``BatchNormalization`` called with ``training=True``, Flax linen ``BatchNorm`` with
      ``use_running_average=False``, MLX ``BatchNorm`` in training mode): per channel, over batch × spatial
      positions (``numel / channels``).
    - ``"group"``: a per-sample normalization over one group of channels (torch ``GroupNorm``,
      ``InstanceNorm*d`` on input statistics; Keras ``GroupNormalization``; Flax ``GroupNorm``/
      ``InstanceNorm``; Equinox ``GroupNorm``; MLX ``GroupNorm``/``InstanceNorm``): per sample and group,
      over channels per group × spatial positions (an InstanceNorm is a GroupNorm of one channel per group).
      The batch does not change it; a larger input does.  Only inputs with positions are recorded: on an
      ``(N, C)`` input the count is the architecture's (``C / G``), the same at every input size and batch, so
      what the probe measures through it (a GroupNorm(C, C) on a Linear's output passes its shift alone) is
      what the model does with every input, and the signal check reports it as measured.

    Attributes:
        name: the normalization's module path / layer name.
        values: values each statistic is computed over (per channel for ``"batch"``, per sample and group for
            ``"group"``).
        after: the node executed last before it (``None`` when no node ran before it): it sits between
            that node and the next one in :attr:`Probe.signals` order.
        kind: ``"batch"`` or ``"group"`` (above).
        channels: for ``"group"``, the channels per group (``values / channels`` positions); 0 for ``"batch"``.
        layer: the framework class, as the report names it (``"BatchNorm"``, ``"GroupNorm"``, ``"InstanceNorm2d"``).
    """

    name: str
    values: int
    after: str | None
    kind: str = "batch"
    channels: int = 0
    layer: str = "BatchNorm"


@dataclass
class Probe:
    """One forward/backward pass on a probe batch.

    Attributes:
        signals: per node, in execution order.
        batch: number of probe inputs.
        input: description of the probe input (shape, distribution).
        output_varies: whether the model output differs between probe examples.
        input_varies: whether the probe inputs differ (a constant output means nothing otherwise).
        stochastic: what made the pass random, for the report: the stochastic layers active (torch:
            ``"Dropout x12 (train mode)"``, ``p > 0``) and the global RNGs the forward drew from (``"draws
            from torch's global generator"``, numpy's, Python's); every one was seeded with the check's seed
            (:mod:`invariants.frameworks.probe_seeding`), so the figures are those of that seed.
        batch_stats: the normalizations the pass ran on statistics of the probe's own values (batch statistics,
            and per-sample group statistics), in execution order (:class:`BatchStat`).
    """

    signals: list[Signal]
    batch: int
    input: str
    output_varies: bool = True
    input_varies: bool = True
    stochastic: list[str] = field(default_factory=list)
    batch_stats: list[BatchStat] = field(default_factory=list)

    def get(self, name: str) -> Signal | None:
        for s in self.signals:
            if s.name == name:
                return s
        return None

    def next_after(self, name: str) -> Signal | None:
        """The signal of the node executed right after ``name``."""
        for i, s in enumerate(self.signals):
            if s.name == name:
                return self.signals[i + 1] if i + 1 < len(self.signals) else None
        return None


@dataclass
class ModelView:
    """A model reduced to what the checks need.

    Attributes:
        framework: ``torch``, ``keras``, ``flax`` or ``reference``.
        name: display name of the model.
        params: every parameter tensor.
        nodes: the layers with output units, in execution order when a probe ran (else definition order).
        probe: the probe pass, or ``None``.
        probe_error: why no probe ran (or why it failed).
        exact_ties: per node, unit classes computed exactly from incoming *and* outgoing weights (the
            reference network, :func:`invariants.symmetry.unit_classes`); ``None``: use the probe.
        mean_field: for the reference network, a callable returning the mean-field per-layer factors.
        hints: facts the model declares about its own init, read by the extractor (e.g. a HuggingFace
            config's ``{"initializer_range": 0.02}``); checks may use them, never require them.
    """

    framework: str
    name: str
    params: list[Param]
    nodes: list[Node] = field(default_factory=list)
    probe: Probe | None = None
    probe_error: str = ""
    exact_ties: dict[str, list[tuple[int, ...]]] | None = None
    mean_field: Callable[[], dict[str, Any]] | None = None
    hints: dict[str, Any] = field(default_factory=dict)

    @property
    def n_values(self) -> int:
        return sum(p.size for p in self.params)

    def output_node(self) -> Node | None:
        """The last node executed (the model's output layer, for a model that ends in one)."""
        if self.probe is not None and self.probe.signals:
            last = self.probe.signals[-1].name
            for n in self.nodes:
                if n.name == last:
                    return n
        return self.nodes[-1] if self.nodes else None

    def run_probe(self, make_input: Callable[[], tuple[Any, str]], run: Callable[[Any, str], Probe],
                  hint: str, failure_hint: str | None = None) -> "ModelView":
        """Attach the probe pass an extractor runs, or say in :attr:`probe_error` why there is none.

        Args:
            make_input: ``() -> (probe input, description)``; raises ``ValueError`` when no input can be
                made (``"no probe input: ..."``).
            run: ``(input, description) -> Probe``; whatever it raises is reported (``"the probe pass
                failed on ..."``): a model that cannot run on the probe is a finding, not a crash.
            hint: what the user can do, appended to either message (``"return (model, example_input)
                from the factory"``).
            failure_hint: the hint appended to the probe-failure message instead (``""``: none);
                ``None``: ``hint``.

        Returns:
            ``self``, with :attr:`nodes` in execution order when the probe ran.  Inside :func:`no_probe`
            nothing runs and :attr:`probe_error` says so.
        """
        if _NO_PROBE.get():
            self.probe_error = NO_PROBE_REASON
            return self
        try:
            x, desc = make_input()
        except ValueError as exc:
            self.probe_error = f"no probe input: {exc}; {hint}"
            return self
        try:
            self.probe = run(x, desc)
        except (Exception, SystemExit) as exc:  # noqa: BLE001  reported, not fatal (see the docstring); a forward()
            after = hint  # that calls sys.exit is the model's failure, not the end of the check if failure_hint is None else failure_hint
            self.probe_error = f"the probe pass failed on {desc}: {type(exc).__name__}: " \
                f"{' '.join(str(exc).split())[:200]}" + (f"; {after}" if after else "")
            return self
        order = {s.name: i for i, s in enumerate(self.probe.signals)}
        self.nodes.sort(key=lambda n: order.get(n.name, len(order)))
        return self


#: :attr:`ModelView.probe_error` of a view extracted inside :func:`no_probe`
NO_PROBE_REASON = "not run, by request (--no-probe)"
_NO_PROBE: contextvars.ContextVar[bool] = contextvars.ContextVar("invariants_no_probe", default=False)


@contextlib.contextmanager
def no_probe():
    """Extract views without the probe pass (``check-model --no-probe``): every framework's extractor
    goes through :meth:`ModelView.run_probe`, which then records :data:`NO_PROBE_REASON` instead."""
    token = _NO_PROBE.set(True)
    try:
        yield
    finally:
        _NO_PROBE.reset(token)


_KEPT_INPUTS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("invariants_kept_inputs", default=None)


@contextlib.contextmanager
def keep_inferred_inputs():
    """Within the block, a probe input inferred through :func:`kept_input` is built once per model, batch and
    seed: check-model's cost estimate and its probe pass both need it, and torch's ``layer_input`` finds a conv
    net's side by trial forwards (1.5 s for torchvision's ResNet-50 on a 2-core machine).  Outside the block
    nothing is kept (a model edited between two checks is read afresh)."""
    token = _KEPT_INPUTS.set({})
    try:
        yield
    finally:
        _KEPT_INPUTS.reset(token)


def kept_input(model: Any, batch: int, seed: int, build: Callable[[], tuple[Any, str]],
               copy: Callable[[Any], Any]) -> tuple[Any, str]:
    """``build()`` (an inferred ``(input, description)`` for ``model`` at ``batch`` and ``seed``, drawn from
    ``seed`` alone so every build gives the same), kept within :func:`keep_inferred_inputs`: each caller gets
    ``copy`` of the kept input (a forward may edit its input in place).  A ``ValueError`` (no input can be made)
    is kept and raised again."""
    kept = _KEPT_INPUTS.get()
    if kept is None:
        return build()
    key = (id(model), int(batch), int(seed))
    hit = kept.get(key)
    if hit is None or hit[0] is not model:
        try:
            x, desc = build()
        except ValueError as exc:
            kept[key] = (model, exc, "")
            raise
        kept[key] = hit = (model, copy(x), desc)
        return x, desc
    if isinstance(hit[1], ValueError):
        raise hit[1]  # the kept exception itself: its class (BadModel, BadInput) carries the exit code
    return copy(hit[1]), hit[2]


# ------------------------------------------------------------------------------------------ activations


def _relu6_d(c: float) -> float:
    return 1.0 if 0.0 < c < 6.0 else 0.0


def _hardtanh_d(c: float) -> float:
    return 1.0 if -1.0 < c < 1.0 else 0.0


def _elu_d(c: float) -> float:
    return 1.0 if c > 0 else math.exp(c)


def _silu_d(c: float) -> float:
    s = 1.0 / (1.0 + math.exp(-c))
    return s * (1 + c * (1 - s))


def _softplus_d(c: float) -> float:
    return 1.0 / (1.0 + math.exp(-c))


def _ref(name: str) -> Callable[[float], float]:
    def d(c: float) -> float:
        from invariants.reference.activations import get_activation

        return float(get_activation(name).df(np.array([c], dtype=np.float64))[0])

    return d


#: activation name -> derivative at a point, with PyTorch's / JAX's convention at kinks (relu'(0) = 0).
ACTIVATION_DERIVATIVES: dict[str, Callable[[float], float]] = {
    "relu": _ref("relu"),
    "leaky_relu": _ref("leaky_relu"),
    "tanh": _ref("tanh"),
    "sigmoid": _ref("sigmoid"),
    "gelu": _ref("gelu"),
    "selu": _ref("selu"),
    "identity": _ref("identity"),
    "sin": _ref("sin"),
    "relu6": _relu6_d,
    "hardtanh": _hardtanh_d,
    "elu": _elu_d,
    "silu": _silu_d,
    "softplus": _softplus_d,
}

#: framework activation names -> keys of :data:`ACTIVATION_DERIVATIVES`
ACTIVATION_ALIASES = {
    "relu": "relu", "relu_": "relu", "leakyrelu": "leaky_relu", "leaky_relu": "leaky_relu", "tanh": "tanh",
    "sigmoid": "sigmoid", "gelu": "gelu", "selu": "selu", "identity": "identity", "linear": "identity",
    "relu6": "relu6", "hardtanh": "hardtanh", "elu": "elu", "silu": "silu", "swish": "silu",
    "softplus": "softplus", "sin": "sin",
}


def activation_key(name: str | None) -> str | None:
    """The key of :data:`ACTIVATION_DERIVATIVES` for a framework's activation name, else ``None``."""
    if not name:
        return None
    return ACTIVATION_ALIASES.get(name.lower().replace("-", "_"))


#: The spread across a batch, in units of ``eps * max |a|``, that a layer's input may show and still count as
#: constant (:func:`varies` with ``rounding_ulps``).
INPUT_ROUNDING_ULPS = 8


def varies(a: np.ndarray, rounding_ulps: int = 0) -> bool:
    """Whether ``a`` (batch on axis 0) differs between batch entries (by more than rounding, with ``rounding_ulps``).

    Exact by default: a model output that moves at all is not constant (timm's ViT with LayerScale 1e-5 moves its
    logits by 61 ulps of their largest, and by about 6 at DeiT-III's 1e-6; calling that constant would accuse
    correct code).  A layer's input (:attr:`Signal.input_varies`, which decides whether a zero layer sits on a
    branch the signal bypasses) is read with ``rounding_ulps = INPUT_ROUNDING_ULPS``: identical batch rows need not
    come out of a framework bit-identical, since a CPU kernel may give rows in a tile and rows in its remainder
    different summation orders (torch's ``nn.LSTM`` on an AVX2 machine, zero input: rows 1.1 ulps apart, which read
    as a signal carried past a zero embedding).  With ``rounding_ulps`` a float array varies when
    ``max |a - a[0]| > rounding_ulps * eps * max |a|``; any other array (integer, or with a non-finite entry) when
    any entry differs from the first row's.
    """
    a = np.asarray(a)
    if a.ndim == 0 or a.shape[0] < 2:
        return False
    if rounding_ulps <= 0 or a.dtype.kind != "f" or a.size == 0 or not np.all(np.isfinite(a)):
        return bool(np.any(a != a[:1]))
    tol = rounding_ulps * float(np.finfo(a.dtype).eps) * float(np.max(np.abs(a)))
    return bool(np.max(np.abs(a - a[:1])) > tol)


def units_last(a: np.ndarray, axis: int, n_units: int) -> np.ndarray:
    """``a`` with ``axis`` moved last and flattened to ``(M, n_units)``.

    Raises:
        ValueError: the axis does not have ``n_units`` entries.
    """
    a = np.asarray(a)
    if a.ndim == 0:
        raise ValueError("a scalar output has no units")
    a = np.moveaxis(a, axis, -1)
    if a.shape[-1] != n_units:
        raise ValueError(f"output axis has {a.shape[-1]} entries, expected {n_units} units")
    return a.reshape(-1, n_units)


__all__ = [
    "ACTIVATION_ALIASES", "ACTIVATION_DERIVATIVES", "BatchStat", "NO_PROBE_REASON", "ModelParts", "ModelView", "Node", "Param", "Probe",
    "INPUT_ROUNDING_ULPS", "RANDOM_ROLES", "ROLES", "Signal", "activation_key", "keep_inferred_inputs",
    "kept_input", "no_probe", "units_last", "unpack_model", "varies",
]
