"""The candidate initialization schemes of the model check, as data.

One primitive, :class:`invariants.specs.VarianceScaling` (JAX's ``variance_scaling``: ``Var = scale /
n(mode)``), and the named schemes as rows over it: every ``scale`` a library uses (2: He/Kaiming, 1:
LeCun/Glorot, 1/3: PyTorch's layer default ``U(±1/sqrt(fan))`` and Keras EfficientNet's dense
``VarianceScaling(1/3, 'fan_out', 'uniform')``, keras/src/applications/efficientnet.py
``DENSE_KERNEL_INITIALIZER``) in every fan mode (``fan_in``, ``fan_out``, ``fan_avg``) and every
distribution (``normal``: PyTorch's untruncated ``kaiming_normal_``/``xavier_normal_``; ``uniform``;
``truncated_normal`` corrected to the target variance: JAX/Keras; uncorrected: TF1/old Keras, a
normal of the target std cut at ±2 std, variance 0.774x).  :func:`invariants.modelcheck.variance.candidates`
resolves each on the layer's textbook fans and on the framework's own fans where these differ (PyTorch's
``fan_out = size(0)·k²`` of a depthwise weight, torch/nn/init.py ``_calculate_fan_in_and_fan_out``;
timm's grouped ``fan_out = k²·out/groups`` is the textbook one).

Fixed-std families ``normal(σ)`` / ``trunc_normal(σ, ±2σ)`` are accepted only at a *plausible* σ
(:func:`plausible_stds`): the model's own declaration (``ModelView.hints["initializer_range"]``, a
HuggingFace config) or a conventional constant with a known source (:data:`CONVENTIONAL_STDS`).  A tensor
at any other fixed std (``0.02² = 4e-4``: the std-squared typo) matches nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from invariants.specs import Normal, TruncatedNormal, Uniform, VarianceScaling

#: (scale, name stem, source) of the variance-scaling families
SCALES: tuple[tuple[float, str, str], ...] = (
    (2.0, "he", "He et al. 2015 (torch kaiming_*, jax/keras he_*)"),
    (1.0, "lecun", "LeCun 1998 / Glorot & Bengio 2010 (fan_avg)"),
    (1 / 3, "torch_default", "PyTorch layer default kaiming_uniform_(a=sqrt(5)); Keras EfficientNet dense"),
)
FAN_MODES = ("fan_in", "fan_out", "fan_avg")
#: (distribution, corrected) in the order tried
DISTRIBUTIONS: tuple[tuple[str, bool], ...] = (("normal", True), ("truncated_normal", True), ("uniform", True),
                                               ("truncated_normal", False))

#: names the model check has always shown for these rows (kept so reports stay comparable)
LEGACY_NAMES: dict[tuple[float, str, str, bool], str] = {
    (2.0, "fan_in", "truncated_normal", True): "he_normal",
    (2.0, "fan_in", "uniform", True): "he_uniform",
    (2.0, "fan_in", "normal", True): "kaiming_normal_torch",
    (1.0, "fan_avg", "truncated_normal", True): "glorot_normal",
    (1.0, "fan_avg", "uniform", True): "glorot_uniform",
    (1.0, "fan_avg", "normal", True): "xavier_normal_torch",
    (1.0, "fan_in", "truncated_normal", True): "lecun_normal",
    (1.0, "fan_in", "uniform", True): "lecun_uniform",
    (1.0, "fan_in", "normal", True): "lecun_normal_untruncated",
    (1 / 3, "fan_in", "uniform", True): "torch_default U(+-1/sqrt(fan_in))",
    (1 / 3, "fan_out", "uniform", True): "torch_default_fan_out U(+-1/sqrt(fan_out))",
}
_DIST_TEXT = {("normal", True): "normal (untruncated)", ("truncated_normal", True): "truncated_normal",
              ("uniform", True): "uniform", ("truncated_normal", False): "truncated_normal uncorrected"}


@dataclass(frozen=True)
class Scheme:
    """One named candidate: a spec (fan-scaled or fixed) and where it comes from.

    Attributes:
        name: display name (``he_normal``, ``kaiming_normal_torch(fan_out)``, ``normal(std=0.01)``).
        spec: :class:`~invariants.specs.VarianceScaling`, or a fixed :class:`~invariants.specs.Normal` /
            :class:`~invariants.specs.TruncatedNormal` / :class:`~invariants.specs.Uniform`.
        source: the convention or library code that uses it.
    """

    name: str
    spec: Any
    source: str = ""

    @property
    def uses_fans(self) -> bool:
        return isinstance(self.spec, VarianceScaling)

    def swapped(self) -> "Scheme | None":
        """The same scheme with ``fan_in`` and ``fan_out`` exchanged (``None`` for fan_avg or fixed)."""
        s = self.spec
        if not isinstance(s, VarianceScaling) or s.mode not in ("fan_in", "fan_out"):
            return None
        mode = "fan_out" if s.mode == "fan_in" else "fan_in"
        return variance_scheme(s.scale, mode, s.distribution, s.corrected)


def variance_scheme(scale: float, mode: str, distribution: str, corrected: bool = True) -> Scheme:
    """The :class:`Scheme` row of the grid (see the module docstring) for these parameters."""
    stem, source = next((st, src) for sc, st, src in SCALES if math.isclose(sc, scale))
    key = next((k for k in LEGACY_NAMES if math.isclose(k[0], scale) and k[1:] == (mode, distribution, corrected)),
               None)
    if key is not None:
        name = LEGACY_NAMES[key]
    elif math.isclose(scale, 1.0) and mode == "fan_avg":
        name = {("normal", True): "xavier_normal_torch", ("truncated_normal", False): "glorot_normal_uncorrected"}[
            (distribution, corrected)]
    else:
        base = {2.0: {("normal", True): "kaiming_normal_torch"}}.get(scale, {}).get((distribution, corrected))
        if base is None:
            d = {("normal", True): "normal_untruncated", ("truncated_normal", True): "normal",
                 ("uniform", True): "uniform", ("truncated_normal", False): "normal_uncorrected"}[
                (distribution, corrected)]
            base = f"{stem}_{d}({mode})" if stem != "torch_default" else \
                f"variance_scaling(1/3, {mode}, {_DIST_TEXT[(distribution, corrected)]})"
        else:
            base = f"{base}({mode})"
        name = base
    spec = VarianceScaling(scale, mode, distribution, name=name, corrected=corrected)  # type: ignore[arg-type]
    return Scheme(name, spec, source)


#: every fan-scaled row: 3 scales x 3 modes x 4 distributions
FAN_SCHEMES: tuple[Scheme, ...] = tuple(
    variance_scheme(sc, mode, dist, corr) for sc, _, _ in SCALES for mode in FAN_MODES for dist, corr in DISTRIBUTIONS)

#: embedding tables' fan-scaled framework default: flax.linen.Embed ``variance_scaling(1, 'fan_in',
#: 'normal', out_axis=0)`` on a (vocab, D) table = N(0, 1/D)
EMBEDDING_SCHEMES: tuple[Scheme, ...] = (
    Scheme("flax_embed_default N(0, 1/D)", VarianceScaling(1.0, "fan_out", "normal", name="flax_embed_default"),
           "flax/linen/linear.py Embed default_embed_init"),
)
#: embedding tables' fixed framework defaults
EMBEDDING_FIXED: tuple[Scheme, ...] = (
    Scheme("normal(std=1) (torch Embedding default)", Normal(0.0, 1.0), "torch/nn/modules/sparse.py Embedding"),
    Scheme("uniform(-0.05, 0.05) (keras Embedding default)", Uniform(-0.05, 0.05),
           "keras/src/layers/core/embedding.py embeddings_initializer='uniform'"),
)

#: (σ, source) of the fixed stds libraries use without the model declaring them
CONVENTIONAL_STDS: tuple[tuple[float, str], ...] = (
    (0.02, "BERT/GPT (HF PretrainedConfig initializer_range default), timm ViT/ConvNeXt trunc_normal_(std=.02), "
           "torchvision ConvNeXt/Swin"),
    (0.01, "classifier heads: torchvision mobilenetv2/mobilenetv3/regnet/vgg normal_(0, 0.01), timm regnet "
           "_init_weights, torchvision googlenet trunc_normal_(std=0.01)"),
    (0.001, "torchvision/timm inception_v3 aux fc (stddev 0.001)"),
    (0.1, "torchvision inception_v3 convs (trunc_normal_ stddev 0.1)"),
)


def _std_label(sigma: float) -> str:
    return f"{sigma:.6g}"


def plausible_stds(hints: Mapping[str, Any] | None = None) -> list[tuple[float, str]]:
    """``[(σ, source)]``: the model's declared ``initializer_range`` / ``init_std`` (and GPT-2's
    residual-scaled ``initializer_range/sqrt(2·n_layer)`` when ``n_layer`` is declared, transformers/models/
    gpt2/modeling_gpt2.py ``_init_weights``) first, then :data:`CONVENTIONAL_STDS`; duplicates dropped."""
    out: list[tuple[float, str]] = []
    hints = hints or {}
    for key in ("initializer_range", "init_std"):  # init_std: BART/Marian/FSMT configs
        r = hints.get(key)
        if isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r) and r > 0:
            out.append((float(r), f"the model's declared {key}"))
    r = hints.get("initializer_range")
    n_layer = hints.get("n_layer")  # GPT-2-style configs name it so (BERT's num_hidden_layers does not apply)
    if out and isinstance(r, (int, float)) and isinstance(n_layer, int) and not isinstance(n_layer, bool) \
            and n_layer > 0 and r > 0:
        out.append((float(r) / math.sqrt(2 * n_layer),
                    "initializer_range/sqrt(2*n_layer) (GPT-2 residual projections)"))
    for s, src in CONVENTIONAL_STDS:
        if not any(math.isclose(s, t, rel_tol=1e-9) for t, _ in out):
            out.append((s, src))
    return out


def fixed_schemes(hints: Mapping[str, Any] | None = None) -> list[Scheme]:
    """``normal(std=σ)`` and ``trunc_normal(std=σ, ±2σ)`` (Keras ``TruncatedNormal``, uncorrected) for
    every plausible σ (:func:`plausible_stds`)."""
    out = []
    for s, src in plausible_stds(hints):
        label = _std_label(s)
        name = f"normal(std={label})" + (" (BERT/GPT)" if math.isclose(s, 0.02) else "")
        out.append(Scheme(name, Normal(0.0, s), src))
        out.append(Scheme(f"trunc_normal(std={label}, +-2std)", TruncatedNormal(0.0, s, -2.0, 2.0), src))
    return out


__all__ = ["CONVENTIONAL_STDS", "EMBEDDING_FIXED", "EMBEDDING_SCHEMES", "FAN_SCHEMES", "FAN_MODES", "Scheme",
           "fixed_schemes", "plausible_stds", "variance_scheme"]
