"""PyTorch adapter: ``torch.nn.init.*`` and the default initialization of ``torch.nn`` layers.

Calling convention for user callables: ``fn(tensor)`` fills a float32 CPU tensor (or one of the
requested ``--dtype``: float16, bfloat16, float64) in place (the return
value, if a tensor of the same shape, is used instead).  The tensor starts out filled with a sentinel
NaN, so an initializer that writes nothing (or only part of it) is reported as bad input, never
audited.  If ``fn`` accepts a ``generator`` keyword (all ``torch.nn.init`` functions do in torch 2.13)
it gets a ``torch.Generator`` seeded with the seed;
otherwise the CPU default generator is seeded inside ``torch.random.fork_rng(devices=[])``, which
restores the global RNG state afterwards.  Layer defaults (``reset_parameters``) take no generator, so
layers are built the same way, inside ``fork_rng`` with ``torch.default_generator.manual_seed(seed)``.

Layout ``torch``: weights ``(out, in, *k)``, transposed convs ``(C_in, C_out/G, *k)``; framework fans
are those of ``torch.nn.init._calculate_fan_in_and_fan_out`` (``(size(1)·rf, size(0)·rf)``).

Catalogue: each documented default is stated with its reference (PyTorch docs, torch 2.13), so the
report separates conventions (``documented-deviation``) from faults (``deviates``).  Measured
conventions: shared/reference/initializer-conventions.md §1.1, §2.1.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from invariants.core.errors import UsageError
from invariants.frameworks.base import CatalogueBuilder, Framework
from invariants.frameworks.torch.model import bfloat16_array, param_layer
from invariants.frameworks.subjects import (
    BadInitializer,
    Documented,
    Expectation,
    Sampler,
    Subject,
    accepts_keyword,
    call_initializer,
    check_array,
    seeded_by,
)
from invariants.frameworks.global_rng import GlobalRNG
from invariants.layers import Embedding, Layer, parse_layer
from invariants.specs import (
    GLOROT_UNIFORM,
    HE_UNIFORM,
    KAIMING_NORMAL_TORCH,
    ONES,
    XAVIER_NORMAL_TORCH,
    ZEROS,
    Constant,
    Dirac,
    Eye,
    Normal,
    Orthogonal,
    Sparse,
    TruncatedNormal,
    Uniform,
    VarianceScaling,
)

import torch  # noqa: E402  (this module is imported only when torch is installed)

#: torch's Linear/Conv default: kaiming_uniform_(a=sqrt(5)) = U(+-1/sqrt(fan_in)), i.e. scale 1/3
LINEAR_DEFAULT = VarianceScaling(1 / 3, "fan_in", "uniform", name="torch_linear_default")
HE_UNIFORM_LABEL = "He uniform (kaiming_uniform_ at its default gain sqrt(2))"

REF_LINEAR = ("torch.nn.Linear docs (torch 2.13): weight and bias ~ U(-sqrt(k), sqrt(k)), k = 1/in_features "
              "(Linear.reset_parameters calls kaiming_uniform_(a=sqrt(5)))")
REF_CONV = ("torch.nn.Conv{1,2,3}d docs: weight and bias ~ U(-sqrt(k), sqrt(k)), "
            "k = groups/(C_in * prod(kernel_size))")
REF_CONVT = ("torch.nn.ConvTranspose{1,2,3}d docs: weight and bias ~ U(-sqrt(k), sqrt(k)), "
             "k = groups/(C_out * prod(kernel_size)) (the weight is (C_in, C_out/groups, *k), so torch's "
             "fan_in is the layer's fan_out)")
REF_BILINEAR = "torch.nn.Bilinear docs: weight and bias ~ U(-sqrt(k), sqrt(k)), k = 1/in1_features"
REF_RNN = ("torch.nn.RNN/LSTM/GRU docs: all weights and biases ~ U(-sqrt(k), sqrt(k)), k = 1/hidden_size "
           "(RNNBase.reset_parameters)")
REF_TRUNC = ("torch.nn.init.trunc_normal_ docs: values effectively drawn from N(mean, std^2) with values "
             "outside [a, b] redrawn; a and b are the minimum and maximum cutoff values (absolute; defaults "
             "-2, 2); std is the untruncated normal's")


def _accepts_generator(fn: Callable[..., Any]) -> bool:
    return accepts_keyword(fn, "generator")


def _to_numpy(t: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A tensor as a checked numpy array in the dtype torch returned: bfloat16, which numpy lacks, as
    ``ml_dtypes.bfloat16`` (its bits, copied once: :func:`invariants.frameworks.torch.model.bfloat16_array`),
    requested or not, as the MLX, JAX and numpy
    samplers keep it (:func:`invariants.frameworks.mlx.initializers.drawn`): the auditor then judges the law
    at bfloat16's precision and states its quantization band (:func:`invariants.audit.precision.is_quantized`),
    where a float32 widening stated a float32 resolution (about 1% for a 300x100 layer) the bfloat16 values
    do not have (38%), in twice the memory; widened to float32 only without ``ml_dtypes``."""
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        t = (bfloat16_array(t) if t.dtype == torch.bfloat16 else t.numpy()).copy()
    return check_array(t, shape, what)


#: bit pattern of a quiet NaN with a payload no arithmetic produces: the tensor handed to a user
#: initializer is filled with it, so entries the initializer never writes are found exactly
#: (``torch.empty`` would leave arbitrary memory there, and the audit would judge garbage)
_SENTINEL_BITS = 0x7FC0DEAD


#: the same for the other dtypes a tensor can be requested in: (integer view, NaN bit pattern); the
#: 16-bit patterns are quiet NaNs (all-ones exponent, top mantissa bit set) with a payload
_SENTINELS = {
    torch.float32: (torch.int32, _SENTINEL_BITS),
    torch.float64: (torch.int64, 0x7FF8DEADDEADDEAD),
    torch.float16: (torch.int16, 0x7EAD),
    torch.bfloat16: (torch.int16, 0x7FED),
}
#: ``--dtype`` names as torch dtypes
TORCH_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
                "float64": torch.float64}


def _sentinel_tensor(shape: tuple[int, ...], dtype: Any = torch.float32) -> Any:
    t = torch.empty(shape, dtype=dtype)
    view, bits = _SENTINELS[dtype]
    t.view(view).fill_(bits)
    return t


def _unwritten(t: Any) -> int:
    """Entries of a tensor still holding its dtype's sentinel NaN."""
    view, bits = _SENTINELS[t.dtype]
    return int((t.detach().view(view) == bits).sum())


def _torch_dtype(dtype: str | None) -> Any:
    """The torch dtype of a requested ``--dtype`` name (``None``: float32).

    Raises:
        UsageError: a dtype torch initializers cannot be audited in (complex).
    """
    if dtype is None:
        return torch.float32
    if dtype not in TORCH_DTYPES:
        raise UsageError(f"torch: a tensor of dtype {dtype} cannot be audited (real dtypes: "
                         f"{', '.join(TORCH_DTYPES)})")
    return TORCH_DTYPES[dtype]


class _Seeded:
    """Seed torch's CPU default generator inside fork_rng, restoring the global state afterwards."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._ctx = torch.random.fork_rng(devices=[])

    def __enter__(self) -> None:
        self._ctx.__enter__()
        torch.default_generator.manual_seed(int(self.seed))

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


class TorchCatalogue(CatalogueBuilder):

    # ----------------------------------------------------------------- user callables
    # ----------------------------------------------------------------- catalogue
    def catalogue(self) -> list[Subject]:
        return self._init_functions() + self._layer_defaults()

    def _fn_subject(self, fname: str, layer: Layer, expect: Expectation, kwargs: dict[str, Any] | None = None,
                    documented: Documented | None = None) -> Subject:
        fn = getattr(torch.nn.init, fname)
        kwargs = dict(kwargs or {})
        shape = self.shape(layer)
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        call = f"torch.nn.init.{fname}(torch.empty{shape}{', ' + args if args else ''})"
        init = ((lambda t, generator=None: fn(t, **kwargs, generator=generator))
                if _accepts_generator(fn) else (lambda t: fn(t, **kwargs)))
        init.__qualname__ = f"torch.nn.init.{fname}"  # messages name the initializer, not this lambda
        return Subject(
            target=f"torch.nn.init.{fname}({args})",
            param="",
            layer=layer,
            shape=shape,
            sampler=self.wrap(init, shape),
            expect=expect,
            documented=documented,
            framework_fans=self.framework_fans(shape),
            blocks=self.blocks(layer),
            call=call,
        )

    def _init_functions(self) -> list[Subject]:
        L = parse_layer
        dense = L("dense(300,100)")
        conv = L("conv2d(32,64,k=3)")
        tn_corrected = "truncated normal with std = {std} at +-2 std (realised std {std}, as variance-scaling initializers)"
        s = self._fn_subject
        return [
            s("uniform_", dense, Expectation(Uniform(0.0, 1.0))),
            s("normal_", dense, Expectation(Normal(0.0, 1.0))),
            s("normal_", dense, Expectation(Normal(0.5, 2.0)), {"mean": 0.5, "std": 2.0}),
            # a truncated normal "with std s": realised std s and cut at +-2 std is the variance-scaling reading
            s("trunc_normal_", dense,
              Expectation(TruncatedNormal(0.0, 1.0, -2.0, 2.0, "std", corrected=True), label=tn_corrected.format(std=1)),
              documented=Documented(TruncatedNormal(0.0, 1.0, -2.0, 2.0, "absolute", corrected=False), REF_TRUNC,
                                    label="N(0, 1) cut at the absolute values [-2, 2], uncorrected")),
            s("trunc_normal_", dense,
              Expectation(TruncatedNormal(0.0, 0.02, -2.0, 2.0, "std", corrected=True), label=tn_corrected.format(std=0.02)),
              {"std": 0.02},
              documented=Documented(TruncatedNormal(0.0, 0.02, -2.0, 2.0, "absolute", corrected=False), REF_TRUNC,
                                    label="N(0, 0.02^2) cut at the absolute values [-2, 2] = +-100 std")),
            s("trunc_normal_", dense,
              Expectation(TruncatedNormal(0.0, 0.02, -2.0, 2.0, "std", corrected=True), label=tn_corrected.format(std=0.02)),
              {"std": 0.02, "a": -0.04, "b": 0.04},
              documented=Documented(TruncatedNormal(0.0, 0.02, -0.04, 0.04, "absolute", corrected=False), REF_TRUNC,
                                    label="N(0, 0.02^2) cut at [-0.04, 0.04], uncorrected")),
            s("xavier_uniform_", dense, Expectation(GLOROT_UNIFORM)),
            s("xavier_uniform_", conv, Expectation(GLOROT_UNIFORM)),
            s("xavier_uniform_", L("conv2d(4,4,k=3,groups=4)"), Expectation(GLOROT_UNIFORM)),
            s("xavier_uniform_", L("conv2d(32,64,k=3,groups=32)"), Expectation(GLOROT_UNIFORM)),
            s("xavier_uniform_", L("conv_transpose2d(32,64,k=3)"), Expectation(GLOROT_UNIFORM)),
            s("xavier_normal_", dense, Expectation(XAVIER_NORMAL_TORCH)),
            s("xavier_normal_", L("depthwise_conv2d(32,k=3,m=2)"), Expectation(XAVIER_NORMAL_TORCH)),
            s("kaiming_uniform_", dense, Expectation(HE_UNIFORM)),
            s("kaiming_uniform_", conv, Expectation(VarianceScaling(25 / 9, "fan_in", "uniform", name="kaiming_uniform_tanh")),
              {"nonlinearity": "tanh"}),
            s("kaiming_normal_", conv, Expectation(KAIMING_NORMAL_TORCH), {"mode": "fan_in", "nonlinearity": "relu"}),
            s("kaiming_normal_", conv, Expectation(VarianceScaling(2.0, "fan_out", "normal", name="kaiming_normal_fan_out")),
              {"mode": "fan_out", "nonlinearity": "relu"}),
            s("kaiming_normal_", L("conv2d(32,64,k=3,groups=32)"),
              Expectation(VarianceScaling(2.0, "fan_out", "normal", name="kaiming_normal_fan_out")),
              {"mode": "fan_out", "nonlinearity": "relu"}),
            s("kaiming_normal_", L("conv_transpose2d(32,64,k=3)"), Expectation(KAIMING_NORMAL_TORCH),
              {"mode": "fan_in", "nonlinearity": "relu"}),
            s("orthogonal_", dense, Expectation(Orthogonal(1.0, "first"))),
            s("orthogonal_", conv, Expectation(Orthogonal(2.0, "first")), {"gain": 2.0}),
            s("constant_", dense, Expectation(Constant(0.5)), {"val": 0.5}),
            # structured: (100, 300) -> exactly ceil(0.1 * 100) = 10 zeros per column, others N(0, 0.01^2)
            s("sparse_", dense, Expectation(Sparse(0.1, 0.01, per="column")), {"sparsity": 0.1}),
            s("dirac_", conv, Expectation(Dirac(1, out_axis="first"))),
            # grouped (64, 8, 3, 3): each group of 16 output channels passes its own 8 inputs through
            s("dirac_", L("conv2d(32,64,k=3,groups=4)"), Expectation(Dirac(4, out_axis="first")), {"groups": 4}),
            # an even kernel: torch's centre tap is k // 2 = 2, not (k - 1) // 2
            s("dirac_", L("conv1d(16,16,k=4)"), Expectation(Dirac(1, out_axis="first"))),
            s("eye_", dense, Expectation(Eye(1.0))),
            s("zeros_", dense, Expectation(ZEROS)),
            s("ones_", dense, Expectation(ONES)),
        ]

    # ----------------------------------------------------------------- layer defaults
    def _module_subject(self, cls_name: str, ctor: Callable[[], Any], call: str, param: str,
                        expect: Expectation, documented: Documented | None = None, blocks: bool = False,
                        fan_candidates: tuple[tuple[str, int], ...] = ()) -> Subject:
        """A layer default: ``param`` of the module ``ctor()`` builds, its layer semantics read by the
        model extractor (:func:`invariants.frameworks.torch.model.param_layer`), not restated here."""
        getter = _getter(param)
        with _Seeded(0):
            built = ctor()
        shape = tuple(getter(built).shape)
        layer = param_layer(built, param)
        if layer is not None and len(shape) >= 2 and not isinstance(layer, Embedding):
            expected_shape = self.shape(layer)
            if expected_shape != shape:
                raise AssertionError(f"{call}.{param}: shape {shape} != layout {expected_shape}")

        def sample(seed: int) -> np.ndarray:
            with _Seeded(seed):
                module = ctor()
            return _to_numpy(getter(module), shape, f"{call}.{param}")

        return Subject(
            target=f"torch.nn.{call}",
            param=param,
            layer=layer,
            shape=shape,
            sampler=seeded_by(sample, SEEDED_INSIDE + " (layer constructors take no generator)"),
            expect=expect,
            documented=documented,
            framework_fans=self.framework_fans(shape) if len(shape) >= 2 else None,
            blocks=self.blocks(layer) if (blocks and layer is not None) else (),
            fan_candidates=fan_candidates,
            call=call,
        )

    def _layer_defaults(self) -> list[Subject]:
        nn = torch.nn
        he = Expectation(HE_UNIFORM, label=HE_UNIFORM_LABEL)
        m = self._module_subject
        out: list[Subject] = []

        def lin_doc(ref: str) -> Documented:
            return Documented(LINEAR_DEFAULT, ref, label="U(+-1/sqrt(fan_in)) with torch's fan_in, variance 1/(3 fan_in)")

        # Linear and Bilinear
        out.append(m("Linear", lambda: nn.Linear(300, 100), "Linear(300, 100)", "weight", he,
                     lin_doc(REF_LINEAR)))
        out.append(m("Linear", lambda: nn.Linear(300, 100), "Linear(300, 100)", "bias",
                     Expectation(Uniform(-1 / math.sqrt(300), 1 / math.sqrt(300)), label="U(+-1/sqrt(300)) (documented)")))
        b = 1 / math.sqrt(20)
        out.append(m("Bilinear", lambda: nn.Bilinear(20, 50, 30), "Bilinear(20, 50, 30)", "weight",
                     he, Documented(Uniform(-b, b), REF_BILINEAR, label="U(+-1/sqrt(in1_features)) = U(+-1/sqrt(20))"),
                     fan_candidates=(("in1_features 20", 20),)))
        # convolutions
        convs = [
            ("Conv1d", lambda: nn.Conv1d(16, 32, 5), "Conv1d(16, 32, 5)"),
            ("Conv2d", lambda: nn.Conv2d(32, 64, 3), "Conv2d(32, 64, 3)"),
            ("Conv2d", lambda: nn.Conv2d(32, 64, 3, groups=4), "Conv2d(32, 64, 3, groups=4)"),
            ("Conv2d", lambda: nn.Conv2d(32, 64, 3, groups=32), "Conv2d(32, 64, 3, groups=32)"),  # depthwise, m = 2
            ("Conv3d", lambda: nn.Conv3d(8, 16, (2, 3, 4)), "Conv3d(8, 16, (2, 3, 4))"),
        ]
        for cls, ctor, call in convs:
            out.append(m(cls, ctor, call, "weight", he, lin_doc(REF_CONV)))
        fi = 32 * 9
        out.append(m("Conv2d", lambda: nn.Conv2d(32, 64, 3), "Conv2d(32, 64, 3)", "bias",
                     Expectation(Uniform(-1 / math.sqrt(fi), 1 / math.sqrt(fi)), label="U(+-1/sqrt(C_in K)) (documented)")))
        convts = [
            ("ConvTranspose1d", lambda: nn.ConvTranspose1d(16, 32, 5), "ConvTranspose1d(16, 32, 5)"),
            ("ConvTranspose2d", lambda: nn.ConvTranspose2d(32, 64, 3), "ConvTranspose2d(32, 64, 3)"),
            ("ConvTranspose2d", lambda: nn.ConvTranspose2d(32, 64, 3, groups=4), "ConvTranspose2d(32, 64, 3, groups=4)"),
            ("ConvTranspose2d", lambda: nn.ConvTranspose2d(32, 64, 3, stride=2), "ConvTranspose2d(32, 64, 3, stride=2)"),
            ("ConvTranspose3d", lambda: nn.ConvTranspose3d(8, 16, (2, 3, 4)), "ConvTranspose3d(8, 16, (2, 3, 4))"),
        ]
        for cls, ctor, call in convts:
            out.append(m(cls, ctor, call, "weight", he, lin_doc(REF_CONVT)))
        # embedding: documented N(0, 1)
        out.append(m("Embedding", lambda: nn.Embedding(1000, 64), "Embedding(1000, 64)", "weight",
                     Expectation(Normal(0.0, 1.0), label="N(0, 1) (torch.nn.Embedding docs)")))
        # recurrent layers: every parameter U(+-1/sqrt(H)); textbook: torch's own rule on the textbook fan_in
        rnn_rule = Expectation(LINEAR_DEFAULT, label="U(+-1/sqrt(fan_in)) on the textbook fan_in (torch's Linear rule)")
        h = 64
        bh = 1 / math.sqrt(h)
        rnn_doc = Documented(Uniform(-bh, bh), REF_RNN, label=f"U(+-1/sqrt(hidden_size)) = U(+-{bh:.6g})")
        hidden = (("hidden_size H 64", h),)
        for cls, ctor, call in (
            ("RNN", lambda: nn.RNN(32, h), "RNN(32, 64)"),
            ("LSTM", lambda: nn.LSTM(32, h), "LSTM(32, 64)"),
            ("GRU", lambda: nn.GRU(32, h), "GRU(32, 64)"),
            ("LSTMCell", lambda: nn.LSTMCell(32, h), "LSTMCell(32, 64)"),
        ):
            cell = cls.endswith("Cell")
            sfx = "" if cell else "_l0"
            packed = cls != "RNN"  # LSTM/GRU gates are packed blocks
            out.append(m(cls, ctor, call, f"weight_ih{sfx}", rnn_rule, rnn_doc, blocks=packed, fan_candidates=hidden))
            if cls in ("LSTM", "RNN"):
                out.append(m(cls, ctor, call, f"weight_hh{sfx}", rnn_rule, rnn_doc, blocks=packed, fan_candidates=hidden))
                out.append(m(cls, ctor, call, f"bias_ih{sfx}", Expectation(Uniform(-bh, bh), label="U(+-1/sqrt(H)) (documented)")))
        # multi-head attention: xavier_uniform_ on the packed (3E, E) in_proj; per projection the fans are (E, E)
        e = 64
        out.append(m("MultiheadAttention", lambda: nn.MultiheadAttention(e, 4), f"MultiheadAttention({e}, 4)", "in_proj_weight",
                     Expectation(GLOROT_UNIFORM, label="Glorot uniform per projection"), blocks=True))
        out.append(m("MultiheadAttention", lambda: nn.MultiheadAttention(e, 4), f"MultiheadAttention({e}, 4)", "in_proj_bias",
                     Expectation(ZEROS)))
        out.append(m("MultiheadAttention", lambda: nn.MultiheadAttention(e, 4), f"MultiheadAttention({e}, 4)", "out_proj.weight",
                     he, lin_doc(REF_LINEAR + "; out_proj is a Linear")))
        out.append(m("MultiheadAttention", lambda: nn.MultiheadAttention(e, 4), f"MultiheadAttention({e}, 4)", "out_proj.bias",
                     Expectation(ZEROS)))
        out.append(m("MultiheadAttention", lambda: nn.MultiheadAttention(e, 4, kdim=32, vdim=48),
                     f"MultiheadAttention({e}, 4, kdim=32, vdim=48)", "k_proj_weight",
                     Expectation(GLOROT_UNIFORM, label="Glorot uniform per projection")))
        # normalization layers
        out.append(m("LayerNorm", lambda: nn.LayerNorm(64), "LayerNorm(64)", "weight", Expectation(ONES)))
        out.append(m("LayerNorm", lambda: nn.LayerNorm(64), "LayerNorm(64)", "bias", Expectation(ZEROS)))
        out.append(m("BatchNorm2d", lambda: nn.BatchNorm2d(16), "BatchNorm2d(16)", "weight", Expectation(ONES)))
        return out


def _getter(path: str) -> Callable[[Any], Any]:
    parts = path.split(".")

    def get(module: Any) -> Any:
        obj = module
        for p in parts:
            obj = getattr(obj, p)
        return obj

    return get


def wrap(fn: Callable[..., Any], shape: tuple[int, ...], dtype: str | None = None) -> Sampler:
    """``fn(tensor)`` on a sentinel-filled CPU tensor created in ``dtype`` (``None``: float32; see the
    module docstring); the result comes back in the dtype torch returned (bfloat16 as
    ``ml_dtypes.bfloat16``, requested or not: :func:`_to_numpy`)."""
    what = getattr(fn, "__qualname__", None) or repr(fn)
    use_gen = _accepts_generator(fn)
    shape = tuple(int(s) for s in shape)
    tdtype = _torch_dtype(dtype)

    def sample(seed: int) -> np.ndarray:
        t = _sentinel_tensor(shape, tdtype)
        if use_gen:
            g = torch.Generator().manual_seed(int(seed))
            out = call_initializer(fn, what, t, generator=g)
        else:
            with _Seeded(seed):
                out = call_initializer(fn, what, t)
        if isinstance(out, torch.Tensor) and out is not t:
            if tuple(out.shape) != shape:
                raise BadInitializer(f"{what} returned shape {tuple(out.shape)}, expected {shape}")
            return _to_numpy(out, shape, what)
        if tuple(t.shape) != shape:
            raise BadInitializer(f"{what} resized the tensor to shape {tuple(t.shape)}, expected {shape}")
        left = _unwritten(t)
        if left:
            returned = "" if out is None or out is t else f" and returned {type(out).__name__}, not a torch.Tensor"
            if left == t.numel():
                raise BadInitializer(f"{what} did not fill the tensor in place{returned} (a torch initializer "
                                     "fills its argument, e.g. w.normal_(0, std), or returns a new tensor)")
            raise BadInitializer(f"{what} left {left} of {t.numel()} entries of the tensor unwritten{returned}")
        return _to_numpy(t, shape, what)

    return seeded_by(sample, "a torch.Generator as generator= (torch.Generator().manual_seed(seed))" if use_gen
                     else SEEDED_INSIDE + f" ({what} takes no generator=)")


#: how a sampler seeds an initializer or layer that takes no generator
SEEDED_INSIDE = "torch's global generator, seeded inside fork_rng"


def global_rngs() -> list[GlobalRNG]:
    """torch's process-wide RNG: the default CPU generator (``torch.manual_seed``), which an
    initializer given ``generator=`` must not draw from (:func:`invariants.frameworks.global_rng.global_rngs`)."""
    return [GlobalRNG("torch's global generator (torch.manual_seed)", _Seeded)]

def known_expectation(fn: Callable[..., Any]) -> Expectation | None:
    init = torch.nn.init
    table = {
        init.uniform_: Uniform(0.0, 1.0),
        init.normal_: Normal(0.0, 1.0),
        init.trunc_normal_: TruncatedNormal(0.0, 1.0, -2.0, 2.0, bounds="absolute", corrected=False),
        init.xavier_uniform_: GLOROT_UNIFORM,
        init.xavier_normal_: XAVIER_NORMAL_TORCH,
        init.kaiming_uniform_: HE_UNIFORM,
        init.kaiming_normal_: KAIMING_NORMAL_TORCH,
        init.orthogonal_: Orthogonal(1.0, "first"),
        init.dirac_: Dirac(1, out_axis="first"),
        init.eye_: Eye(1.0),
        init.zeros_: ZEROS,
        init.ones_: ONES,
    }
    spec = table.get(fn)
    return Expectation(spec) if spec is not None else None


def catalogue(framework: Framework) -> list[Subject]:
    """The framework's initializers and layer defaults as audit subjects (see the module docstring)."""
    return TorchCatalogue(framework).catalogue()


def examples() -> list[Callable[..., Any]]:
    """A few ``torch.nn.init`` initializers (the conformance checks wrap them)."""
    return [torch.nn.init.xavier_uniform_, torch.nn.init.kaiming_normal_, torch.nn.init.orthogonal_]
