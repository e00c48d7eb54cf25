"""MLX (CPU backend): ``mlx.nn.init.*`` and the default initialization of ``mlx.nn`` layers.

Calling convention (``mlx/nn/init.py``): an initializer is a *factory's product* ``init(a) -> array``
taking ONE positional array and returning a NEW array of ``a``'s shape (``a``'s values are ignored;
``he_normal``/``he_uniform``/``glorot_*`` products also take ``mode=``/``gain=`` keywords).  The sampler
hands the callable a float32 array filled with a sentinel NaN, so a callable that returns its argument
(or leaves part of it) is reported as bad input, never audited; ``None`` or a non-array result is bad
input too.  A factory given where an initializer is expected (``mlx.nn.init:he_normal``) is called with
its defaults first.

Seeding: neither the initializers nor the layers take a key; every draw uses MLX's global PRNG state
(``mx.random.state``).  A sampler therefore seeds it (``mx.random.seed(seed)``) inside a context that
saves the global key and restores it afterwards (``mx.random.seed((hi << 32) | lo)`` re-creates the saved
``[hi, lo]`` key exactly: ``mx.random.key(s)`` is ``[s >> 32, s & 0xffffffff]``), so auditing leaves the
user's random stream as it was (:class:`Seeded`).

Layout and fan rule: :data:`invariants.frameworks.mlx.layout.MLX` (dense ``(out, in)``, conv
``(C_out, *k, C_in/G)``, conv transpose ``(C_out, *k, C_in)``, bilinear ``(out, in2, in1)``; fans
``(shape[-1]*rf, shape[0]*rf)``, blind to groups: ``Conv2d(32, 64, 3, groups=4)`` weight ``(64, 3, 3, 8)``
gets (72, 576) against the textbook (72, 144)).

Measured (8 seeds each): ``glorot_uniform``/``glorot_normal`` on (100, 300) ratio 1.0008/1.0015 to 2/400,
the normal untruncated (kurtosis 2.999); ``he_normal``/``he_uniform`` at their default ``gain=1.0`` give
variance 1/fan_in (ratios 1.0015, 1.0008 to 1/300): LeCun's, half of He's, as their docstrings' formula
(sigma = gain/sqrt(fan)) says; ``uniform()`` is U[0, 1); ``orthogonal`` is 2-D only (rows orthonormal to
8e-7); ``sparse(s)`` zeroes ceil(s*cols) entries per **row** (torch's ``sparse_``: per column).  Layers:
``Linear``/``Bilinear``/``Conv*``/``ConvTranspose*`` weight U(+-1/sqrt(fan_in)) with the textbook fan_in
((C_in/G)*K; ``Bilinear`` in1 only), ``Linear``/``Bilinear`` bias the same, conv biases **zero**;
``Embedding`` N(0, 1/D); ``RNN``/``GRU``/``LSTM`` every parameter U(+-1/sqrt(H));
``MultiHeadAttention`` four bias-free ``Linear``; norms 1/0.

Structured: ``sparse(s, mean, std)`` (spec ``sparse(s, std, mean=..., per=row)``: exactly ``ceil(s*cols)``
zeros in each row at random columns, the rest ``N(mean, std^2)``) and ``identity`` (``eye()``, square only).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import mlx.core as mx
import mlx.nn as mnn
import numpy as np
from mlx.utils import tree_flatten

from invariants.frameworks.base import CatalogueBuilder, Framework
from invariants.frameworks.errors import BadInitializer
from invariants.frameworks.global_rng import GlobalRNG
from invariants.frameworks.subjects import (Documented, DtypeSampler, Expectation, Sampler, Subject,
                                            call_initializer, check_array, seeded_by)
from invariants.layers import Layer, parse_layer
from invariants.specs import (
    GLOROT_UNIFORM,
    HE_UNIFORM,
    KAIMING_NORMAL_TORCH,
    ONES,
    XAVIER_NORMAL_TORCH,
    ZEROS,
    Constant,
    Eye,
    Normal,
    Orthogonal,
    Sparse,
    Uniform,
    VarianceScaling,
)

I = mnn.init

#: MLX's Linear/Bilinear/Conv default: U(+-1/sqrt(fan_in)), variance 1/(3 fan_in)
MLX_LINEAR_DEFAULT = VarianceScaling(1 / 3, "fan_in", "uniform", name="mlx_linear_default")
HE_LABEL = "He uniform (the default the layer would need for ReLU nets)"

REF_HE = ("mlx.nn.init.he_normal / he_uniform docstrings (mlx 0.32.4): sigma = gain / sqrt(fan) and "
          "limit = gain * sqrt(3 / fan), gain defaults to 1.0")
REF_LINEAR = ("mlx.nn.Linear docstring: 'The values are initialized from the uniform distribution U(-k, k), where "
              "k = 1/sqrt(D_i) and D_i is equal to input_dims'")
REF_BILINEAR = "mlx.nn.Bilinear docstring: U(-k, k), k = 1/sqrt(D_1), D_1 = input1_dims"
REF_CONV = ("mlx/nn/layers/convolution.py Conv{1,2,3}d.__init__ and convolution_transpose.py: "
            "scale = sqrt(1 / (in_channels // groups * prod(kernel_size))), weight ~ U(-scale, scale), bias zeros")
REF_EMBED = "mlx/nn/layers/embedding.py Embedding.__init__: weight = mx.random.normal(scale=sqrt(1 / dims))"
REF_RNN = ("mlx/nn/layers/recurrent.py RNN/GRU/LSTM.__init__: scale = 1/sqrt(hidden_size); every weight and bias "
           "~ U(-scale, scale)")

#: bit pattern of a quiet NaN no arithmetic produces: entries still holding it were never written
SENTINEL_BITS = 0x7FC0DEAD


class Seeded:
    """Seed MLX's global PRNG with ``seed``; restore the key that was there on exit."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._saved: tuple[int, int] | None = None

    def __enter__(self) -> None:
        hi, lo = (int(v) for v in np.asarray(mx.random.state[0]).tolist())
        self._saved = (hi, lo)
        mx.random.seed(self.seed)

    def __exit__(self, *exc: Any) -> None:
        hi, lo = self._saved  # type: ignore[misc]
        mx.random.seed((hi << 32) | lo)


def host(value: Any) -> Any:
    """An MLX array as a numpy copy (bfloat16, which numpy lacks, widened exactly); anything else as is.
    For arithmetic in numpy (the probe's signal statistics); a draw to audit keeps its dtype: :func:`drawn`."""
    if isinstance(value, mx.array):
        return np.array(value.astype(mx.float32) if value.dtype == mx.bfloat16 else value, copy=True)
    return value


def bfloat16_view(value: Any) -> np.ndarray | None:
    """A bfloat16 MLX array's values as an ``ml_dtypes.bfloat16`` numpy array sharing its buffer (no value
    converted: MLX reinterprets it as uint16, ``mx.view``, mlx ``ops.cpp`` ``view``, and numpy as bfloat16,
    whose buffer format numpy does not parse); ``None`` without ``ml_dtypes``.  Shape and strides kept."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    return np.asarray(memoryview(mx.view(value, mx.uint16))).view(ml_dtypes.bfloat16)


def drawn(value: Any) -> Any:
    """A sampler's MLX array as a numpy copy in the dtype MLX drew it in: bfloat16 as ``ml_dtypes.bfloat16``
    (:func:`bfloat16_view`, copied: 2 bytes a value), so the audit judges the law at bfloat16's precision and
    states bfloat16's detectable error (:func:`invariants.audit.precision.is_quantized`), as for torch, JAX and
    numpy draws in that dtype; widened exactly to float32 only without ``ml_dtypes``.  Anything else as is."""
    if isinstance(value, mx.array) and value.dtype == mx.bfloat16:
        view = bfloat16_view(value)
        if view is not None:
            return np.array(view, copy=True)
    return host(value)


#: MLX's dtype object for each requested dtype name (:data:`invariants.frameworks.dtypes.REAL_DTYPES`)
MX_DTYPES = {"float16": mx.float16, "bfloat16": mx.bfloat16, "float32": mx.float32, "float64": mx.float64}


def mx_dtype(dtype: str | None) -> Any:
    """MLX's dtype for a requested dtype name (``None``: float32, MLX's default)."""
    return MX_DTYPES[dtype or "float32"]


def is_factory(fn: Any) -> bool:
    """Whether ``fn`` is an ``mlx.nn.init`` factory (``he_normal``), not the initializer it returns."""
    return getattr(fn, "__module__", "") == "mlx.nn.init" and getattr(fn, "__name__", "") != "initializer"


def resolve_factory(fn: Any, dtype: str | None = None) -> Any:
    """``fn()`` for an ``mlx.nn.init`` factory whose arguments all default (``he_normal``), else ``fn``;
    with a requested ``dtype``, ``fn(dtype=...)`` (every ``mlx.nn.init`` factory takes ``dtype``, default
    ``mx.float32``: ``mlx/nn/init.py``)."""
    if is_factory(fn):
        try:
            return fn() if dtype is None else fn(dtype=mx_dtype(dtype))
        except TypeError:  # a factory with a required argument (constant, sparse): not an initializer
            return fn
    return fn


def in_dtype(init: Callable[..., Any], dtype: str) -> Callable[..., Any]:
    """``init`` with MLX's "no kernel for this dtype" (``RuntimeError: [uniform] Unsupported type.``, e.g.
    ``mx.random.uniform`` in float64 on the CPU) raised as ``NotImplementedError``, so a catalogue audited
    in ``dtype`` records the initializer as not implemented in it (``skipped``), as for torch's missing
    bfloat16 kernels, instead of as the initializer's error."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return init(*args, **kwargs)
        except RuntimeError as exc:
            if "Unsupported type" not in str(exc):
                raise
            raise NotImplementedError(f"MLX has no {dtype} kernel for it ({' '.join(str(exc).split())})") from None

    return call


def mlx_sampler(fn: Callable[..., Any], shape: Sequence[int], what: str | None = None,
                dtype: str | None = None) -> Sampler:
    """Sampler for an MLX-convention initializer ``fn(a) -> new array`` of ``a``'s shape.

    ``dtype`` (a name of :data:`MX_DTYPES`; ``None``: float32): an ``mlx.nn.init`` factory given as ``fn``
    is called with ``dtype=`` (:func:`resolve_factory`), any other callable gets its argument ``a`` in that
    dtype; the draw comes back in the dtype MLX returned (:func:`drawn`: bfloat16 as ``ml_dtypes.bfloat16``),
    for the auditor's ``dtype_returned`` check.

    Raises (from the sampler):
        BadInitializer: ``fn`` raised, returned no array, returned its sentinel argument (entries never
            written), or a wrong shape, a non-float dtype or non-finite values;
            ``NotImplementedByFramework`` (a subclass): MLX has no kernel for ``dtype`` (:func:`in_dtype`).
    """
    shape = tuple(int(s) for s in shape)
    what = what or getattr(fn, "__qualname__", None) or repr(fn)
    fn = resolve_factory(fn, dtype)
    if dtype is not None:
        fn = in_dtype(fn, dtype)
    sentinel = np.full(shape, SENTINEL_BITS, dtype=np.uint32).view(np.float32)

    def sample(seed: int) -> np.ndarray:
        a = mx.array(sentinel) if dtype in (None, "float32") else mx.array(sentinel).astype(mx_dtype(dtype))
        with Seeded(seed):
            out = call_initializer(fn, what, a)
            if isinstance(out, mx.array):
                mx.eval(out)  # MLX is lazy: draw inside the seeded context
        if out is None:
            raise BadInitializer(f"{what} returned None (an MLX initializer returns a new array, e.g. "
                                 "mx.random.normal(shape=a.shape))")
        arr = drawn(out)
        if isinstance(arr, np.ndarray) and arr.dtype == np.float32 and arr.shape == shape:
            left = int(np.count_nonzero(arr.view(np.uint32) == SENTINEL_BITS))
            if left:
                raise BadInitializer(f"{what} left {left} of {arr.size} entries of its argument unwritten (an MLX "
                                     "initializer returns a new array of the argument's shape)")
        return check_array(arr, shape, what)  # in another dtype an unwritten NaN is caught here as non-finite

    return seeded_by(sample, SEEDED_INSIDE)


#: how every MLX sampler seeds: neither the initializers nor the layers take a key
SEEDED_INSIDE = "MLX's global key, seeded inside the call (MLX initializers and layers take no key)"


def global_rngs() -> list[GlobalRNG]:
    """MLX's process-wide RNG: the global key ``mx.random.state`` (``mx.random.seed``)."""
    return [GlobalRNG("MLX's global key (mx.random.seed)", Seeded)]


def mlx_expectation(fn: Any) -> Expectation | None:
    """The documented spec of an ``mlx.nn.init`` product, read from its closure; ``None`` if unknown."""
    fn = resolve_factory(fn)
    if getattr(fn, "__module__", "") != "mlx.nn.init" or getattr(fn, "__name__", "") != "initializer":
        return None
    factory = fn.__qualname__.split(".")[0]
    cells = dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in (fn.__closure__ or ()))))
    try:
        if factory == "glorot_uniform":
            return Expectation(GLOROT_UNIFORM)
        if factory == "glorot_normal":
            return Expectation(XAVIER_NORMAL_TORCH)
        if factory == "he_normal":
            return Expectation(VarianceScaling(1.0, "fan_in", "normal"), label="gain**2/fan_in at gain 1 (documented)")
        if factory == "he_uniform":
            return Expectation(VarianceScaling(1.0, "fan_in", "uniform"), label="gain**2/fan_in at gain 1 (documented)")
        if factory == "normal":
            return Expectation(Normal(float(cells["mean"]), float(cells["std"])))
        if factory == "uniform":
            return Expectation(Uniform(float(cells["low"]), float(cells["high"])))
        if factory == "orthogonal":
            return Expectation(Orthogonal(float(cells["gain"]), rows_axis="first"))
        if factory == "constant":
            return Expectation(Constant(float(cells["value"])))
        if factory == "sparse":
            return Expectation(Sparse(float(cells["sparsity"]), float(cells["std"]), float(cells["mean"]), per="row"))
        if factory == "identity":
            return Expectation(Eye(1.0))
    except (KeyError, TypeError, ValueError):
        return None
    return None


def bound_rule(reference: str, fan_in: int) -> Documented:
    """The layers' documented rule U(+-1/sqrt(fan_in)) (variance 1/(3 fan_in)) with its source."""
    return Documented(MLX_LINEAR_DEFAULT, reference,
                      label=f"U(+-1/sqrt(fan_in)) = U(+-{1 / math.sqrt(fan_in):.6g}), variance 1/(3 fan_in)")


class MlxCatalogue(CatalogueBuilder):
    """``mlx.nn.init`` and the ``mlx.nn`` layer defaults (module docstring) as audit subjects."""

    # ------------------------------------------------------------------ catalogue
    def catalogue(self) -> list[Subject]:
        return self._init_functions() + self._layer_defaults()

    def _fn_subject(self, fname: str, layer: Layer, expect: Expectation, fargs: dict[str, Any] | None = None,
                    kwargs: dict[str, Any] | None = None, documented: Documented | None = None) -> Subject:
        """``mlx.nn.init.<fname>(**fargs)`` called on ``layer``'s weight with ``kwargs`` (``gain=``, ``mode=``)."""
        fargs, kwargs = dict(fargs or {}), dict(kwargs or {})
        shape = self.shape(layer)
        factory = getattr(I, fname)

        def text(d: dict[str, Any]) -> str:
            return ", ".join(f"{k}={'sqrt(2)' if v == math.sqrt(2) else repr(v)}" for k, v in d.items())

        target = f"mlx.nn.init.{fname}({text(fargs)})" + (f"(a, {text(kwargs)})" if kwargs else "")
        def make(dtype: str | None) -> Sampler:
            # the factory's dtype= (default mx.float32) asks MLX for the tensor in the requested dtype
            init = factory(**fargs) if dtype is None else factory(**fargs, dtype=mx_dtype(dtype))
            return mlx_sampler(lambda a: init(a, **kwargs), shape, target, dtype)

        return Subject(target=target, param="", layer=layer, shape=shape,
                       sampler=DtypeSampler(make), expect=expect,
                       documented=documented, framework_fans=self.framework_fans(shape), blocks=self.blocks(layer),
                       call=f"mlx.nn.init.{fname}({text(fargs)})(mx.zeros({shape})"
                            f"{', ' + text(kwargs) if kwargs else ''})")

    def _init_functions(self) -> list[Subject]:
        L = parse_layer
        dense, conv = L("dense(300,100)"), L("conv2d(32,64,k=3)")
        grouped, depthwise = L("conv2d(32,64,k=3,groups=4)"), L("depthwise_conv2d(32,k=3,m=2)")
        s = self._fn_subject
        he_n_doc = Documented(VarianceScaling(1.0, "fan_in", "normal"), REF_HE,
                              label="N(0, gain^2/fan_in) at gain 1.0: LeCun's variance, half of He's")
        he_u_doc = Documented(VarianceScaling(1.0, "fan_in", "uniform"), REF_HE,
                              label="U(+-gain*sqrt(3/fan_in)) at gain 1.0: LeCun's variance, half of He's")
        relu = {"gain": math.sqrt(2.0)}
        return [
            s("glorot_uniform", dense, Expectation(GLOROT_UNIFORM)),
            s("glorot_uniform", conv, Expectation(GLOROT_UNIFORM)),
            s("glorot_uniform", grouped, Expectation(GLOROT_UNIFORM)),  # MLX fan_out C_out*K: deviates
            s("glorot_normal", dense, Expectation(XAVIER_NORMAL_TORCH)),
            s("glorot_normal", depthwise, Expectation(XAVIER_NORMAL_TORCH)),
            s("he_normal", dense, Expectation(KAIMING_NORMAL_TORCH), documented=he_n_doc),
            s("he_normal", conv, Expectation(KAIMING_NORMAL_TORCH), kwargs=relu),
            s("he_normal", conv, Expectation(VarianceScaling(2.0, "fan_out", "normal", name="he_normal_fan_out")),
              kwargs={"mode": "fan_out", **relu}),
            s("he_uniform", dense, Expectation(HE_UNIFORM), documented=he_u_doc),
            s("he_uniform", conv, Expectation(HE_UNIFORM), kwargs=relu),
            s("normal", dense, Expectation(Normal(0.0, 1.0))),
            s("normal", dense, Expectation(Normal(0.5, 2.0)), {"mean": 0.5, "std": 2.0}),
            s("uniform", dense, Expectation(Uniform(0.0, 1.0))),
            s("orthogonal", L("dense(256,64)"), Expectation(Orthogonal(1.0, "first"))),  # (64, 256): wide
            s("orthogonal", L("dense(64,256)"), Expectation(Orthogonal(2.0, "first")), {"gain": 2.0}),
            s("constant", dense, Expectation(Constant(0.5)), {"value": 0.5}),
            # (100, 300): ceil(0.1 * 300) = 30 zeros in every row (torch's sparse_ counts per column)
            s("sparse", dense, Expectation(Sparse(0.1, 1.0, per="row")), {"sparsity": 0.1}),
            s("identity", L("dense(64,64)"), Expectation(Eye(1.0))),
        ]

    def _layer_subject(self, call: str, ctor: Callable[[], Any], param: str, layer: Layer | None,
                       expect: Expectation, documented: Documented | None = None, blocks: bool = False,
                       fan_candidates: tuple[tuple[str, int], ...] = ()) -> Subject:
        """``mlx.nn.<call>``'s parameter named ``param`` in ``tree_flatten(module.parameters())``
        (``"query_proj.weight"``), the layer built in a seeded context."""
        what = f"mlx.nn.{call}.{param}"

        def draw(seed: int) -> Any:
            with Seeded(seed):
                value = dict(tree_flatten(ctor().parameters()))[param]
                mx.eval(value)  # MLX is lazy: draw inside the seeded context
            return value

        shape = tuple(int(s) for s in draw(0).shape)
        if layer is not None and len(shape) >= 2 and layer.kind != "embedding" and self.shape(layer) != shape:
            raise AssertionError(f"{what}: shape {shape} != MLX layout {self.shape(layer)}")
        return Subject(target=f"mlx.nn.{call}", param=param, layer=layer, shape=shape,
                       sampler=seeded_by(lambda seed: check_array(drawn(draw(seed)), shape, what), SEEDED_INSIDE),
                       expect=expect,
                       documented=documented, framework_fans=self.framework_fans(shape) if len(shape) >= 2 else None,
                       blocks=self.blocks(layer) if (blocks and layer is not None) else (),
                       fan_candidates=fan_candidates, call=call)

    def _layer_defaults(self) -> list[Subject]:
        nn = mnn
        L = parse_layer
        m = self._layer_subject
        he = Expectation(HE_UNIFORM, label=HE_LABEL)
        out: list[Subject] = []


        out.append(m("Linear(300, 100)", lambda: nn.Linear(300, 100), "weight", L("dense(300,100)"), he,
                     bound_rule(REF_LINEAR, 300)))
        b = 1 / math.sqrt(300)
        out.append(m("Linear(300, 100)", lambda: nn.Linear(300, 100), "bias", None,
                     Expectation(Uniform(-b, b), label="U(+-1/sqrt(300)) (documented)")))
        b = 1 / math.sqrt(20)
        out.append(m("Bilinear(20, 50, 30)", lambda: nn.Bilinear(20, 50, 30), "weight", L("bilinear(20,50,30)"), he,
                     Documented(Uniform(-b, b), REF_BILINEAR, label="U(+-1/sqrt(input1_dims)) = U(+-1/sqrt(20))"),
                     fan_candidates=(("input1_dims 20", 20),)))
        convs = [
            ("Conv1d(16, 32, 5)", lambda: nn.Conv1d(16, 32, 5), "conv1d(16,32,k=5)"),
            ("Conv2d(32, 64, 3)", lambda: nn.Conv2d(32, 64, 3), "conv2d(32,64,k=3)"),
            ("Conv2d(32, 64, 3, groups=4)", lambda: nn.Conv2d(32, 64, 3, groups=4), "conv2d(32,64,k=3,groups=4)"),
            ("Conv2d(32, 64, 3, groups=32)", lambda: nn.Conv2d(32, 64, 3, groups=32), "depthwise_conv2d(32,k=3,m=2)"),
            ("Conv3d(8, 16, (2, 3, 4))", lambda: nn.Conv3d(8, 16, (2, 3, 4)), "conv3d(8,16,k=(2,3,4))"),
            ("ConvTranspose1d(16, 32, 5)", lambda: nn.ConvTranspose1d(16, 32, 5), "conv_transpose1d(16,32,k=5)"),
            ("ConvTranspose2d(32, 64, 3)", lambda: nn.ConvTranspose2d(32, 64, 3), "conv_transpose2d(32,64,k=3)"),
            ("ConvTranspose2d(32, 64, 3, stride=2)", lambda: nn.ConvTranspose2d(32, 64, 3, stride=2),
             "conv_transpose2d(32,64,k=3,stride=2)"),
            ("ConvTranspose3d(8, 16, (2, 3, 4))", lambda: nn.ConvTranspose3d(8, 16, (2, 3, 4)),
             "conv_transpose3d(8,16,k=(2,3,4))"),
        ]
        for call, ctor, text in convs:
            lay = L(text)
            out.append(m(call, ctor, "weight", lay, he, bound_rule(REF_CONV, lay.textbook_fans()[0])))
        out.append(m("Conv2d(32, 64, 3)", lambda: nn.Conv2d(32, 64, 3), "bias", None, Expectation(ZEROS)))
        out.append(m("Embedding(1000, 64)", lambda: nn.Embedding(1000, 64), "weight", L("embedding(1000,64)"),
                     Expectation(VarianceScaling(1.0, "fan_in", "normal"),
                                 label="variance_scaling(1, fan_in, normal) with the one-hot fan_in V"),
                     Documented(Normal(0.0, 1 / 8), REF_EMBED, label="N(0, 1/dims) = N(0, 1/64)")))
        h = 64
        bh = 1 / math.sqrt(h)
        rnn_rule = Expectation(MLX_LINEAR_DEFAULT,
                               label="U(+-1/sqrt(fan_in)) on the textbook fan_in (MLX's Linear rule)")
        rnn_doc = Documented(Uniform(-bh, bh), REF_RNN, label=f"U(+-1/sqrt(hidden_size)) = U(+-{bh:.6g})")
        hidden = (("hidden_size H 64", h),)
        out.append(m(f"RNN(32, {h})", lambda: nn.RNN(32, h), "Wxh", L(f"dense(32,{h})"), rnn_rule, rnn_doc,
                     fan_candidates=hidden))
        out.append(m(f"RNN(32, {h})", lambda: nn.RNN(32, h), "Whh", L(f"dense({h},{h})"), rnn_rule, rnn_doc,
                     fan_candidates=hidden))
        for cls, ctor, packing in (("GRU", lambda: nn.GRU(32, h), "gru"), ("LSTM", lambda: nn.LSTM(32, h), "lstm")):
            call = f"{cls}(32, {h})"
            out.append(m(call, ctor, "Wx", L(f"{packing}(32,{h})"), rnn_rule, rnn_doc, blocks=True,
                         fan_candidates=hidden))
            out.append(m(call, ctor, "Wh", L(f"{packing}({h},{h})"), rnn_rule, rnn_doc, blocks=True,
                         fan_candidates=hidden))
        out.append(m(f"LSTM(32, {h})", lambda: nn.LSTM(32, h), "bias", None,
                     Expectation(Uniform(-bh, bh), label="U(+-1/sqrt(H)) (source)")))
        e = 64
        for proj in ("query_proj", "out_proj"):
            out.append(m(f"MultiHeadAttention({e}, 4)", lambda: nn.MultiHeadAttention(e, 4), f"{proj}.weight",
                         L(f"dense({e},{e})"), he, bound_rule(REF_LINEAR + f"; {proj} is a Linear", e)))
        out.append(m("LayerNorm(64)", lambda: nn.LayerNorm(64), "weight", None, Expectation(ONES)))
        out.append(m("LayerNorm(64)", lambda: nn.LayerNorm(64), "bias", None, Expectation(ZEROS)))
        out.append(m("RMSNorm(64)", lambda: nn.RMSNorm(64), "weight", None, Expectation(ONES)))
        out.append(m("BatchNorm(16)", lambda: nn.BatchNorm(16), "weight", None, Expectation(ONES)))
        return out


def wrap(fn: Callable[..., Any], shape: tuple[int, ...], dtype: str | None = None) -> Sampler:
    """MLX's convention ``fn(a) -> new array`` (:func:`mlx_sampler`), asking for ``dtype`` (an
    ``mlx.nn.init`` factory's ``dtype=``, else the argument array in it; ``None``: float32)."""
    return mlx_sampler(fn, shape, dtype=dtype)


def known_expectation(fn: Callable[..., Any]) -> Expectation | None:
    """What ``mlx.nn.init`` documents for ``fn`` (:func:`mlx_expectation`)."""
    return mlx_expectation(fn)


def catalogue(framework: Framework) -> list[Subject]:
    """The MLX catalogue (module docstring)."""
    return MlxCatalogue(framework).catalogue()


def examples() -> list[Callable[..., Any]]:
    """A few ``mlx.nn.init`` initializers (the conformance checks wrap them)."""
    return [I.glorot_uniform(), I.he_normal(), I.normal(std=0.02)]

__all__ = ["MLX_LINEAR_DEFAULT", "MX_DTYPES", "MlxCatalogue", "Seeded", "bfloat16_view", "bound_rule", "catalogue",
           "drawn", "examples", "host", "in_dtype", "is_factory", "known_expectation", "mlx_expectation",
           "mlx_sampler", "mx_dtype", "resolve_factory", "wrap"]
