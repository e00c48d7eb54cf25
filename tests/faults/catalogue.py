"""A catalogue of publicly reported initialization faults, each as a buggy and a fixed case (issue 14).

Every :class:`Fault` cites the report (issue, pull request or commit), reproduces the reported code offline
in a few lines (:mod:`tests.faults.impls`, :mod:`tests.faults.models`) next to its fix, and says how a user
who knows the right init audits it, through the public API only: ``invariants.audit.initializer(fn,
expect=..., layer=..., framework=..., dtype=...)`` or ``invariants.modelcheck.check_model(model,
expect=[...])``.  ``fault.run(impl)`` returns a :class:`Verdict`:

- ``caught``: the audit flags it (a tensor ``deviates`` or errs, the initializer is reported as broken
  (``BadInitializer``), or ``check_model`` finds an error);
- ``passed``: no finding (audit ``ok``; model ``healthy``);
- ``refused``: the tool rejects the request although input and model are legal (exit 2: an unknown layer
  or spec text, an unsupported option, a model it cannot read); ``incomplete``: ``check_model`` could
  not analyse enough of the model (exit 3); ``skipped``: a framework the case needs is not installed.

A case is right when the buggy implementation is ``caught`` and the fixed one ``passed``.  Cases that need a
capability issue 14 adds are written against the names of ``CONTRACT14.md`` (layer texts ``vector(n)``,
``kernel(shape, in_axes, out_axes)``, zero sizes; specs ``sparse(...)``, ``dirac(...)``; ``dtype=``;
``check_model(..., expect=[...])``; framework-resolved ``he_normal``; the Haar and determinism checks
that run by default) and listed in :data:`PENDING` until the branch that provides it is merged.  Where the
option does not exist yet, the case runs the way a user can today (no ``expect`` for ``check_model``, the
default float32 for a real ``dtype``), so on main it measures what the tool catches now.

Statistical resolution: the ``fast`` profile (5% variance error with power 0.99, family-wise alpha 1e-4 per
audit, every check at alpha <= 1e-6), fixed seeds.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from tests.faults import impls as I
from tests.faults import models as M

CAUGHT, PASSED, REFUSED, INCOMPLETE, SKIPPED = "caught", "passed", "refused", "incomplete", "skipped"
PROFILE = "fast"


@dataclass(frozen=True)
class Verdict:
    """What the tool said on one implementation: ``kind`` (``caught``/``passed``/``refused``/``incomplete``/
    ``skipped``) and the first line of its reason."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Fault:
    """One reported fault.

    Attributes:
        id: short identifier (``project_what``).
        source: project the fault was reported against (PyTorch, JAX, Keras/TF, tfjs, MLX, ...).
        url: the public report (issue, pull request or commit).
        what: the fault in one line.
        gap: the issue-14 gap the audit of this case needs (``""``: none, the tool had it before).
        buggy, fixed: the implementations (``impl_name`` strings resolved by :meth:`impl`, or factories).
        run: ``run(impl, seed=0) -> Verdict``: the audit as a user runs it.
        how: the call, in words (for the table).
    """

    id: str
    source: str
    url: str
    what: str
    gap: str
    buggy: Any
    fixed: Any
    run: Callable[..., Verdict]
    how: str = ""
    tags: tuple[str, ...] = field(default=())

    @property
    def framework(self) -> str:
        """The framework the case imports (``numpy``, ``torch``, ``jax``, ``keras``): the test's xdist group."""
        ref = self.buggy
        if isinstance(ref, str):
            return ref.partition(":")[0]
        if isinstance(ref, functools.partial):
            return "keras" if ref.func.__name__.startswith("keras") else "torch"
        return "numpy"

    def impl(self, which: str) -> Any:
        """The ``"buggy"`` or ``"fixed"`` implementation, resolved (torch/keras implementations are built
        lazily so the numpy cases need neither)."""
        ref = self.buggy if which == "buggy" else self.fixed
        if isinstance(ref, str):
            group, _, name = ref.partition(":")
            return {"torch": _torch_impls, "keras": _keras_impls, "jax": _jax_impls}[group]()[name]
        return ref

    def verdict(self, which: str, seed: int = 0) -> Verdict:
        try:
            impl = self.impl(which)
        except ImportError as exc:
            return Verdict(SKIPPED, f"{type(exc).__name__}: {exc}")
        return self.run(impl, seed=seed)


@functools.lru_cache(maxsize=None)
def _torch_impls() -> dict:
    return I.torch_impls()


@functools.lru_cache(maxsize=None)
def _jax_impls() -> dict:
    return I.jax_impls()


@functools.lru_cache(maxsize=None)
def _keras_impls() -> dict:
    return I.keras_impls()


# ------------------------------------------------------------------------------------------ running a case


def _accepts(fn: Callable, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _first_line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _classify_exception(exc: BaseException) -> Verdict:
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.errors import BadInitializer

    if isinstance(exc, BadInitializer):  # the code under audit crashed or returned a bad tensor: a finding
        return Verdict(CAUGHT, _first_line(f"BadInitializer: {exc}"))
    if isinstance(exc, FrameworkUnavailable):
        return Verdict(SKIPPED, _first_line(str(exc)))
    return Verdict(REFUSED, _first_line(f"{type(exc).__name__}: {exc}"))


class AuditRun:
    """``run(impl, seed=0) -> Verdict``: ``invariants.audit.initializer(impl, expect=expect, layer=layer,
    framework=framework[, dtype=dtype], config=...)`` with the ``fast`` profile's config unless one is given.

    Without ``dtype=`` in the installed API a real dtype falls back to the default (float32: what a user can
    run today) and a complex one is refused (no way to ask for it).  :meth:`report` returns the raw
    :class:`~invariants.audit.auditor.AuditReport` (the calibration benchmark reads its p-values)."""

    def __init__(self, expect: str, layer: str, framework: str = "numpy", dtype: str | None = None) -> None:
        self.expect, self.layer, self.framework, self.dtype = expect, layer, framework, dtype

    def report(self, impl: Any, seed: int = 0, config: Any = None) -> Any:
        """The audit report.

        Raises:
            Unsupported: a complex ``dtype`` this version cannot request.
            whatever ``invariants.audit.initializer`` raises.
        """
        from invariants import audit
        from invariants.testing import audit_config

        kwargs: dict = {}
        if self.dtype is not None:
            if _accepts(audit.initializer, "dtype"):
                kwargs["dtype"] = self.dtype
            elif self.dtype.startswith("complex"):
                raise Unsupported(f"audit.initializer has no dtype= (needed for {self.dtype})")
        return audit.initializer(impl, expect=self.expect, layer=self.layer, framework=self.framework,
                                 config=config if config is not None else audit_config(PROFILE, seed), **kwargs)

    def __call__(self, impl: Any, seed: int = 0) -> Verdict:
        try:
            report = self.report(impl, seed)
        except Exception as exc:  # noqa: BLE001  every failure is classified, none escapes the runner
            return _classify_exception(exc)
        bad = [r for r in report.results if r.verdict in ("deviates", "error")]
        if bad:
            return Verdict(CAUGHT, _first_line(f"{bad[0].verdict}: {bad[0].message}"))
        if report.results and all(r.verdict == "skipped" for r in report.results):
            return Verdict(SKIPPED, _first_line(report.results[0].message))
        return Verdict(PASSED, _first_line(str(report).splitlines()[0]))


class Unsupported(Exception):
    """The installed API has no way to state this case's requirement (classified ``refused``)."""


def audit_case(expect: str, layer: str, framework: str = "numpy", dtype: str | None = None) -> AuditRun:
    """The :class:`AuditRun` of a case audited with ``invariants.audit.initializer``."""
    return AuditRun(expect, layer, framework, dtype)


def model_case(expect: tuple[str, ...] = ()) -> Callable[..., Verdict]:
    """``run(factory, seed=0)``: ``invariants.modelcheck.check_model(model, example_input=...,
    expect=[...], profile="fast")`` on ``factory()``'s ``(model, example)``; without ``expect=`` in the
    installed API the check runs without it (what ``check-model`` can do today)."""

    def run(factory: Callable[[], Any], seed: int = 0) -> Verdict:
        from invariants.modelcheck import check_model

        try:
            model, example = factory()
        except ImportError as exc:
            return Verdict(SKIPPED, f"{type(exc).__name__}: {exc}")
        kwargs: dict = {}
        if expect and _accepts(check_model, "expect"):
            kwargs["expect"] = list(expect)
        try:
            report = check_model(model, example_input=example, profile=PROFILE, seed=seed, **kwargs)
        except Exception as exc:  # noqa: BLE001
            return _classify_exception(exc)
        if report.errors:
            f = report.errors[0]
            return Verdict(CAUGHT, _first_line(f"{f.kind}: {f}"))
        if report.status == "incomplete":
            why = report.coverage.why_incomplete() if report.coverage is not None else []
            return Verdict(INCOMPLETE, _first_line("; ".join(why)))
        return Verdict(PASSED, f"{report.status} ({len(report.notes)} notes)")

    return run


def _factory(fn: Callable[[bool], Any], buggy: bool) -> Callable[[], Any]:
    return functools.partial(fn, buggy)


# ------------------------------------------------------------------------------------------ the catalogue

D = "dense(300,100)"
CONV = "conv2d(16,32,k=3)"

FAULTS: list[Fault] = [
    # ---- truncated normals without the truncation's variance correction
    Fault("tf_variance_scaling_uncorrected", "TensorFlow",
          "https://github.com/tensorflow/tensorflow/issues/16344",
          "variance_scaling_initializer(distribution='normal') truncates N(0, scale/n) at 2 std: variance x0.774",
          "", I.tf_glorot_normal_uncorrected, I.tf_glorot_normal_corrected,
          audit_case("glorot_normal", D), "audit expect=glorot_normal dense(300,100)"),
    Fault("keras_truncated_normal_uncorrected", "Keras",
          "https://github.com/keras-team/keras/issues/8048",
          "K.truncated_normal(stddev) is the pre-truncation std: he_normal weights have 0.774 x the variance",
          "", I.keras_he_normal_uncorrected, I.keras_he_normal_corrected,
          audit_case("he_normal", CONV), "audit expect=he_normal conv2d(16,32,k=3)"),
    Fault("tfjs_lecun_normal_uncorrected", "tfjs",
          "https://github.com/tensorflow/tfjs/issues/8594",
          "tf.initializers.leCunNormal() variance 0.7735 instead of 1/fan_in (no 1/.8796 on the std)",
          "", I.tfjs_lecun_normal_uncorrected, I.tfjs_lecun_normal_corrected,
          audit_case("lecun_normal", "dense(512,256)"), "audit expect=lecun_normal dense(512,256)"),
    # ---- fans read from the wrong axes
    Fault("flux_glorot_sum_dims", "Flux.jl", "https://github.com/FluxML/Flux.jl/issues/442",
          "glorot_uniform(dims...) uses sum(dims) as fan_in + fan_out, wrong for conv kernels",
          "", I.flux_glorot_uniform_sumdims, I.glorot_uniform,
          audit_case("glorot_uniform", CONV), "audit expect=glorot_uniform conv2d(16,32,k=3)"),
    Fault("keras1_conv_fan_out", "Keras", "https://github.com/keras-team/keras/pull/2252",
          "get_fans: a conv kernel's fan_out = output channels, without the receptive field",
          "", I.keras1_glorot_fan_out_no_rf, I.glorot_uniform,
          audit_case("glorot_uniform", CONV), "audit expect=glorot_uniform conv2d(16,32,k=3)"),
    Fault("caffe_xavier_inner_product", "Caffe", "https://github.com/BVLC/caffe/issues/1575",
          "XavierFiller on an InnerProduct blob: fan_in = count/num = in*out, scale sqrt(3/(in*out))",
          "", I.caffe_xavier_count_over_num, I.caffe_xavier_fan_in,
          audit_case("lecun_uniform", D), "audit expect=lecun_uniform dense(300,100)"),
    Fault("caffe2_xavier_fill_not_glorot", "Caffe2", "https://github.com/facebookarchive/caffe2/issues/2531",
          "XavierFill draws U(+-sqrt(3/fan_in)), not Glorot's U(+-sqrt(6/(fan_in+fan_out)))",
          "", I.caffe2_xavier_fill, I.glorot_uniform,
          audit_case("glorot_uniform", D), "audit expect=glorot_uniform dense(300,100)"),
    Fault("tflearn_xavier_normal_sqrt3", "tflearn", "https://github.com/tflearn/tflearn/issues/870",
          "xavier(uniform=False) std sqrt(3/(in+out)) instead of sqrt(2/(in+out))",
          "", I.tflearn_xavier_normal_sqrt3, I.xavier_normal,
          audit_case("xavier_normal", D), "audit expect=xavier_normal dense(300,100)"),
    Fault("timm_goog_grouped_fan_out", "timm", "https://github.com/huggingface/pytorch-image-models/issues/84",
          "_init_weight_goog: fan_out = k*k*out_channels, not divided by groups",
          "", I.timm_goog_fan_out_ungrouped, I.timm_goog_fan_out_grouped,
          audit_case("variance_scaling(scale=2, mode=fan_out, distribution=normal)", "conv2d(32,64,k=3,groups=4)"),
          "audit expect=He fan_out normal conv2d(32,64,k=3,groups=4)"),
    Fault("mlx_grouped_conv_fan_in", "MLX", "https://github.com/ml-explore/mlx/issues/4536",
          "Conv1d/Conv2d scale 1/sqrt(in_channels*k) with in_channels//groups inputs per output",
          "", I.mlx_grouped_conv_ungrouped_fan_in, I.mlx_grouped_conv_fixed,
          audit_case("variance_scaling(scale=0.333333333333, mode=fan_in, distribution=uniform)",
                     "conv2d(32,64,k=3,groups=4)"),
          "audit expect=U(+-1/sqrt(fan_in)) conv2d(32,64,k=3,groups=4)"),
    Fault("torch_depthwise_fan_out", "PyTorch", "https://github.com/pytorch/pytorch/issues/23854",
          "kaiming_normal_(mode='fan_out') on a depthwise conv: torch's fan_out C*k*k, the layer's k*k",
          "", "torch:depthwise_fan_out_torch", "torch:depthwise_fan_out_fixed",
          audit_case("variance_scaling(scale=2, mode=fan_out, distribution=normal)", "depthwise_conv2d(64,k=3)",
                     "torch"), "audit torch expect=He fan_out normal depthwise_conv2d(64,k=3)"),
    Fault("keras_depthwise_compute_fans", "Keras", "https://github.com/keras-team/keras/issues/11773",
          "GlorotUniform on a DepthwiseConv2D kernel: compute_fans gives fan_in C*k*k (layer: k*k)",
          "", "keras:depthwise_glorot_keras", "keras:depthwise_glorot_fixed",
          audit_case("glorot_uniform", "depthwise_conv2d(64,k=3,m=2)", "keras"),
          "audit keras expect=glorot_uniform depthwise_conv2d(64,k=3,m=2)"),
    Fault("torch_mha_packed_in_proj", "PyTorch", "https://github.com/pytorch/pytorch/issues/166378",
          "MultiheadAttention: xavier_uniform_ over the packed (3E, E) in_proj_weight, fan_out 3E",
          "", "torch:mha_packed_xavier", "torch:mha_per_block_xavier",
          audit_case("glorot_uniform", "qkv(64)", "torch"), "audit torch expect=glorot_uniform qkv(64)"),
    # ---- wrong constants and gains
    Fault("torch_selu_gain", "PyTorch", "https://github.com/pytorch/pytorch/pull/53694",
          "calculate_gain('selu') = 3/4: kaiming_normal_(nonlinearity='selu') is not the LeCun normal SELU needs",
          "", "torch:selu_gain", "torch:lecun_normal",
          audit_case("variance_scaling(scale=1, mode=fan_in, distribution=normal)", D, "torch"),
          "audit torch expect=LeCun normal dense(300,100)"),
    Fault("nfnets_fan_out_relu", "nfnets-pytorch", "https://github.com/vballoli/nfnets-pytorch/issues/30",
          "NF-ResNet convs kaiming_normal_(fan_out, relu) instead of (fan_in, linear)",
          "", "torch:nfnet_fan_out_relu", "torch:nfnet_fan_in_linear",
          audit_case("variance_scaling(scale=1, mode=fan_in, distribution=normal)", "conv2d(32,32,k=3)", "torch"),
          "audit torch expect=LeCun normal conv2d(32,32,k=3)"),
    Fault("tinygrad_linear_kaiming", "tinygrad", "https://github.com/tinygrad/tinygrad/pull/901",
          "nn.Linear drew kaiming_uniform (a=0) U(+-sqrt(6/fan_in)) where torch draws U(+-1/sqrt(fan_in))",
          "", I.tinygrad_linear_kaiming_uniform, I.torch_linear_default,
          audit_case("variance_scaling(scale=0.333333333333, mode=fan_in, distribution=uniform)", D),
          "audit expect=U(+-1/sqrt(fan_in)) dense(300,100)"),
    Fault("asi_lecun_uniform_bound", "JAX", "https://github.com/SlopDotCash/asi/pull/131",
          "a JAX 'LeCun uniform' initializer drew U(+-1/sqrt(fan_in)): a third of LeCun's variance",
          "", "jax:asi_lecun_uniform_bound", "jax:asi_lecun_uniform_fixed",
          audit_case("lecun_uniform", D, "jax"), "audit jax expect=lecun_uniform dense(300,100)"),
    Fault("tch_kaiming_uniform_bound", "tch-rs", "https://github.com/LaurentMazare/tch-rs/pull/573",
          "Init::KaimingUniform bound 1/sqrt(fan_in): no sqrt(3), no ReLU gain",
          "", I.tch_kaiming_uniform_no_sqrt3, I.he_uniform,
          audit_case("he_uniform", D), "audit expect=he_uniform dense(300,100)"),
    Fault("hf_conv1d_initializer_range", "transformers", "https://github.com/huggingface/transformers/pull/48152",
          "Conv1D weights N(0, 0.02) hard-coded: config.initializer_range silently ignored",
          "", "torch:hf_conv1d_hardcoded", "torch:hf_conv1d_range",
          audit_case(f"normal(std={I.HF_RANGE})", "dense(64,192)", "torch"),
          f"audit torch expect=normal(std={I.HF_RANGE}) dense(64,192)"),
    Fault("hf_xclip_initializer_factor", "transformers", "https://github.com/huggingface/transformers/pull/39772",
          "x_clip _init_weights: Linear std = initializer_factor (1.0) instead of factor*0.02",
          "", "torch:xclip_factor", "torch:xclip_factor_002",
          audit_case("normal(std=0.02)", "dense(64,64)", "torch"), "audit torch expect=normal(std=0.02) dense(64,64)"),
    Fault("keras_seeded_initializer_reused", "Keras", "https://github.com/LeelaChessZero/lc0/issues/1883",
          "a seeded initializer returns the same values on every call: two layers get identical kernels",
          "", _factory(M.keras_shared_seed, True), _factory(M.keras_shared_seed, False),
          model_case(), "check-model keras Sequential(Dense 64, Dense 64, Dense 10)"),
    # ---- gap 1: shapes outside the layer grammar
    Fault("aprender_linear_bias_zeros", "aprender", "https://github.com/paiml/aprender/pull/2167",
          "Linear bias initialized to zeros where torch draws U(+-1/sqrt(fan_in))",
          "gap 1: vector(n) layer", "torch:bias_zeros", "torch:bias_uniform",
          audit_case(f"uniform({-1 / I.BIAS_FAN_IN ** 0.5}, {1 / I.BIAS_FAN_IN ** 0.5})", "vector(32)", "torch"),
          "audit torch expect=uniform(+-1/8) vector(32)"),
    Fault("bert_layernorm_gamma_normal", "transformers", "https://github.com/huggingface/transformers/issues/143",
          "init_bert_weights re-drew BERTLayerNorm gamma and beta from N(0, initializer_range)",
          "gap 1: vector(n) layer", "torch:bert_layernorm_normal", "torch:bert_layernorm_ones",
          audit_case("ones", "vector(64)", "torch"), "audit torch expect=ones vector(64)"),
    Fault("keras_einsumdense_fans", "Keras", "https://github.com/keras-team/keras/pull/22789",
          "compute_fans reads an EinsumDense (E, H, D) kernel as a conv: fans (H*E, D*E) instead of (E, H*D)",
          "gap 1: kernel(shape, in_axes, out_axes)", I.keras_einsum_compute_fans, I.keras_einsum_axes,
          audit_case("glorot_uniform", "kernel(shape=(64,4,16),in_axes=(0,),out_axes=(1,2))"),
          "audit expect=glorot_uniform kernel((64,4,16), in (0,), out (1,2))"),
    Fault("lasagne_c01b_fans", "Lasagne", "https://github.com/Lasagne/Lasagne/issues/49",
          "Glorot fans of a c01b (C_in, k, k, C_out) kernel computed with the bc01 rule",
          "gap 1: kernel(shape, in_axes, out_axes)", I.lasagne_bc01_on_c01b, I.lasagne_c01b_fixed,
          audit_case("glorot_uniform", "kernel(shape=(8,3,3,32),in_axes=(0,),out_axes=(3,))"),
          "audit expect=glorot_uniform kernel((8,3,3,32), in (0,), out (3,))"),
    Fault("torch_linear_zero_in_features", "PyTorch", "https://github.com/pytorch/pytorch/issues/48152",
          "Linear(0, k).reset_parameters divides by sqrt(fan_in) = 0 (ZeroDivisionError)",
          "gap 1: zero-size layers", "torch:linear_zero_in_features_old", "torch:linear_zero_in_features_new",
          audit_case("variance_scaling(scale=0.333333333333, mode=fan_in, distribution=uniform)", "dense(0,4)",
                     "torch"), "audit torch dense(0,4)"),
    Fault("torch_linear_zero_in_features_model", "PyTorch", "https://github.com/pytorch/pytorch/issues/133818",
          "a model with a legal nn.Linear(0, 5) head (and, buggy, a zeroed hidden layer)",
          "gap 1: zero-size layers", _factory(M.zero_input_linear, True), _factory(M.zero_input_linear, False),
          model_case(), "check-model torch Policy(Linear(16,64), Linear(64,5), Linear(0,5))"),
    # ---- gap 2: orthogonal law
    Fault("tf_orthogonal_uniform_svd", "TensorFlow", "https://github.com/tensorflow/tensorflow/pull/10719",
          "orthogonal_initializer from the SVD of a non-centred U(0,1) matrix: top singular vector ~ constant",
          "gap 2: Haar law of orthogonal", I.tf_orthogonal_uniform_svd, I.orthogonal_haar,
          audit_case("orthogonal", "dense(64,64)"), "audit expect=orthogonal dense(64,64)"),
    Fault("chainer_orthogonal_sign_bias", "Chainer", "https://github.com/chainer/chainer/pull/5615",
          "Orthogonal from QR without the sign(diag R) correction (Mezzadri 2007): biased signs, not Haar",
          "gap 2: Haar law of orthogonal", I.chainer_orthogonal_no_sign, I.orthogonal_haar,
          audit_case("orthogonal", "dense(64,64)"), "audit expect=orthogonal dense(64,64)"),
    # ---- gap 3 (and 4): structured inits
    Fault("torch_dirac_groups", "PyTorch", "https://github.com/pytorch/pytorch/pull/32825",
          "dirac_ without groups on a grouped conv: only the first C/G output channels are identities",
          "gap 3: dirac(groups) spec", "torch:dirac_no_groups", "torch:dirac_groups",
          audit_case("dirac(groups=4)", "conv2d(16,16,k=3,groups=4)", "torch"),
          "audit torch expect=dirac(groups=4) conv2d(16,16,k=3,groups=4)"),
    Fault("torch_sparse_ignores_generator", "PyTorch", "https://github.com/pytorch/pytorch/pull/196941",
          "nn.init.sparse_: zero positions from torch.randperm on the global RNG, not the given generator",
          "gap 3+4: sparse spec, generator isolation", "torch:sparse_torch", "torch:sparse_generator",
          audit_case("sparse(sparsity=0.5, std=0.01)", "dense(32,64)", "torch"),
          "audit torch expect=sparse(0.5, 0.01) dense(32,64)"),
    Fault("lux_sparse_init_rng", "Lux.jl", "https://github.com/LuxDL/Lux.jl/issues/1185",
          "sparse_init: the rng passed is not used for the shuffle of zero positions",
          "gap 3+4: sparse spec, generator isolation", I.lux_sparse_global_shuffle, I.lux_sparse_rng,
          audit_case("sparse(sparsity=0.5, std=0.01)", "dense(32,64)"),
          "audit expect=sparse(0.5, 0.01) dense(32,64)"),
    # ---- gap 4: seeds
    Fault("tfjs_initializer_ignores_seed", "tfjs", "https://github.com/tensorflow/tfjs/issues/7104",
          "randomUniform/glorotUniform/heUniform ignore their seed: a new tensor on every run",
          "gap 4: seed determinism", I.tfjs_glorot_uniform_ignores_seed, I.glorot_uniform,
          audit_case("glorot_uniform", D), "audit expect=glorot_uniform dense(300,100)"),
    # ---- gap 5: dtype
    Fault("torch_trunc_normal_bf16", "PyTorch", "https://github.com/pytorch/pytorch/issues/145498",
          "trunc_normal_ in bfloat16 (uniform_ + erfinv_ in low precision): ~0.4% of values stuck at a",
          "gap 5: dtype=bfloat16", "torch:trunc_normal_low_precision", "torch:trunc_normal_float32",
          audit_case("truncated_normal(mean=0, std=0.01, a=-2, b=2, bounds=absolute)", "dense(64,64)", "torch",
                     dtype="bfloat16"), "audit torch dtype=bfloat16 expect=trunc normal(0.01, [-2, 2]) dense(64,64)"),
    Fault("trabelsi_complex_rayleigh_scale", "deep_complex_networks",
          "https://github.com/ChihebTrabelsi/deep_complex_networks/issues/35",
          "ComplexInit('glorot'): Rayleigh mode 1/(fan_in+fan_out) instead of 1/sqrt(fan_in+fan_out)",
          "gap 5: complex laws", I.trabelsi_complex_glorot_s_not_sqrt, I.trabelsi_complex_glorot,
          audit_case("variance_scaling(scale=1, mode=fan_avg, distribution=normal)", D, dtype="complex64"),
          "audit dtype=complex64 expect=Glorot normal dense(300,100)"),
    Fault("netket_complex_zero_imag", "NetKet", "https://github.com/netket/netket/pull/424",
          "complex weights with a zero imaginary part (a real LeCun normal cast to complex)",
          "gap 5: complex laws", I.netket_complex_zero_imag, I.complex_lecun_normal,
          audit_case("variance_scaling(scale=1, mode=fan_in, distribution=normal)", D, dtype="complex64"),
          "audit dtype=complex64 expect=LeCun normal dense(300,100)"),
    # ---- gap 6: check-model expectations
    Fault("torch_mha_packed_in_proj_model", "PyTorch", "https://github.com/pytorch/pytorch/issues/166378",
          "the packed in_proj fault inside a model: any named scheme is accepted by check-model",
          "gap 6: check-model expect", _factory(M.mha_block, True), _factory(M.mha_block, False),
          model_case(("*in_proj_weight=glorot_uniform",)),
          "check-model --expect '*in_proj_weight=glorot_uniform'"),
    Fault("torch_selu_gain_model", "PyTorch", "https://github.com/pytorch/pytorch/pull/53694",
          "an SNN built with kaiming_normal_(nonlinearity='selu'): gain 3/4 instead of LeCun normal",
          "gap 6: check-model expect", _factory(M.selu_mlp, True), _factory(M.selu_mlp, False),
          model_case(("Linear=variance_scaling(scale=1, mode=fan_in, distribution=normal)", "*.bias=zeros")),
          "check-model --expect 'Linear=LeCun normal' --expect '*.bias=zeros'"),
    Fault("hf_initializer_range_model", "transformers", "https://github.com/huggingface/transformers/pull/48152",
          "a model whose _init_weights ignores config.initializer_range (0.05): every Linear N(0, 0.02)",
          "gap 6: check-model expect", _factory(M.hf_style_mlp, True), _factory(M.hf_style_mlp, False),
          model_case((f"Linear=normal(std={I.HF_RANGE})", "*.bias=zeros")),
          f"check-model --expect 'Linear=normal(std={I.HF_RANGE})' --expect '*.bias=zeros'"),
    # ---- gap 7: framework-ambiguous names
    Fault("flownet_msra_fan_out", "FlowNetPytorch", "https://github.com/ClementPinard/FlowNetPytorch/issues/19",
          "port of Caffe's msra filler (He, fan_in) drew normal(0, sqrt(2/(k*k*out_channels))): fan_out",
          "gap 7: he_normal resolved per framework", "torch:flownet_fan_out", "torch:flownet_fan_in",
          audit_case("he_normal", CONV, "torch"), "audit torch expect=he_normal conv2d(16,32,k=3)"),
]

#: cases that need a capability of issue 14 not merged yet: ``{id: "gap N: feature"}``; the test marks them
#: strict xfail (a merge that makes one pass turns it into a failure: remove the entry then)
PENDING: dict[str, str] = {}

#: cases whose request the tool refuses by design, in one line (issue 14 allows "a clear not-supported error"
#: for complex initializers: no complex law is implemented), with the reason; the test pins the refusal
UNSUPPORTED: dict[str, str] = {
    "trabelsi_complex_rayleigh_scale": "complex laws (Rayleigh modulus, uniform phase) are not implemented",
    "netket_complex_zero_imag": "complex laws (Rayleigh modulus, uniform phase) are not implemented",
}

BY_ID: dict[str, Fault] = {f.id: f for f in FAULTS}

__all__ = ["BY_ID", "CAUGHT", "FAULTS", "INCOMPLETE", "PASSED", "PENDING", "REFUSED", "SKIPPED", "UNSUPPORTED", "AuditRun",
           "Fault", "Unsupported", "Verdict", "audit_case", "model_case"]
