"""The model zoo of issue 13: real third-party architectures at their library's own random init.

Every entry of :data:`ZOO` is a :class:`ZooModel`: a builder (seeded, no download: HF models from a tiny
config, timm with ``pretrained=False``, torchvision with ``weights=None``, keras.applications with
``weights=None``, keras-hub backbones from a config), an example input, the expected verdict and *why*: the
library file and function that initializes it and what that function draws, read from the installed source
(transformers 5.25.0, timm 1.0.31, torchvision 0.28.0, keras 3.15.1, keras-hub 0.32.0, torch 2.13.0).
``intended`` lists the deliberate exceptions to a single i.i.d. scheme that a correct auditor must not call
errors (zero-init heads, LayerScale γ, zero-γ last BatchNorm, zeroed padding rows, fixed-std families,
differently-scaled output layers).

Models are returned as their constructor leaves them: torch modules in training mode (BatchNorm normalizes with
batch statistics, dropout active), Keras models as built.  (In ``eval()`` mode a freshly built BatchNorm uses
its running statistics, mean 0 and variance 1, so it is the identity and HF MobileNetV2's std-0.02 convs do
make the signal vanish: a different, eval-mode question.)

CLI targets (``python3 -m invariants check-model tests.zoo.models:TARGET``), resolved by the module
``__getattr__``:

- ``NAME``: ``(model, example_args)`` — the model with its positional example input;
- ``NAME__bare``: the model alone (the probe must infer an input);
- ``NAME__FAULT``: the model with a planted fault from :data:`FAULTS` applied (see ``ZooModel.faults``).

The module imports no framework at import time; builders import theirs (and call
:func:`tests.zoo._compat.ensure_torchvision` first for timm/torchvision/transformers).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from tests.zoo._compat import available, ensure_keras_backend, ensure_torchvision

HEALTHY = "healthy"
ERRORS = "unhealthy"

# ------------------------------------------------------------------------------------------ entries


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry.

    Attributes:
        name: the CLI target name.
        source: library and constructor.
        family: architecture family (what the entry covers).
        requires: importable modules the builder needs (the test skips when one is missing).
        build: ``() -> model`` at the library's random init (seeded).
        example: ``model -> tuple`` of positional forward arguments; for a Keras model over a dict of named
            inputs (keras-hub backbones), ``model -> dict``, the one input itself.
        kwargs: ``model -> dict`` of keyword forward arguments (HF style), ``None`` when positional suffices.
        expected: ``HEALTHY`` (exit 0, notes allowed) or ``ERRORS``.
        init: citation: installed file, function, what it draws.
        intended: deliberate exceptions a correct auditor names at most as notes.
        faults: planted faults that apply: ``{fault name: parameter name}`` (see :data:`FAULTS`).
    """

    name: str
    source: str
    family: str
    requires: tuple[str, ...]
    build: Callable[[], Any]
    example: Callable[[Any], tuple] | None
    expected: str
    init: str
    intended: tuple[str, ...] = ()
    kwargs: Callable[[Any], dict] | None = None
    faults: dict[str, str] = field(default_factory=dict)

    def available(self) -> bool:
        return all(available(m) for m in self.requires)


def _torch_seed() -> None:
    from invariants.frameworks.torch.seeding import manual_seed

    manual_seed(0)  # torch.manual_seed(0)'s state, without its stack formats (the module says why)


def _ids(vocab: int, batch: int = 8, seq: int = 16, low: int = 1):
    import torch

    g = torch.Generator().manual_seed(1)
    return torch.randint(low, vocab, (batch, seq), generator=g)


def _images(batch: int, side: int, channels: int = 3):
    import torch

    g = torch.Generator().manual_seed(1)
    return torch.randn(batch, channels, side, side, generator=g)


def _nhwc(batch: int, side: int, channels: int = 3):
    import numpy as np

    return np.random.default_rng(1).standard_normal((batch, side, side, channels)).astype("float32")


# ------------------------------------------------------------------------------------------ HF transformers


def _hf(cls: str, cfg: str, **kw: Any) -> Any:
    ensure_torchvision()
    import transformers

    _torch_seed()
    model = getattr(transformers, cls)(getattr(transformers, cfg)(**kw))
    return model


def hf_bert_build():
    return _hf("BertModel", "BertConfig", vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
               intermediate_size=128, max_position_embeddings=64)


def hf_gpt2_build():
    return _hf("GPT2LMHeadModel", "GPT2Config", vocab_size=512, n_positions=64, n_embd=64, n_layer=2, n_head=4)


def hf_llama_build():
    return _hf("LlamaForCausalLM", "LlamaConfig", vocab_size=512, hidden_size=64, intermediate_size=128,
               num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)


def hf_t5_build():
    return _hf("T5Model", "T5Config", vocab_size=512, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4)


def hf_resnet_build():
    return _hf("ResNetForImageClassification", "ResNetConfig", embedding_size=16, hidden_sizes=[32, 64, 128, 256],
               depths=[1, 1, 1, 1], layer_type="bottleneck", num_labels=10)


def hf_convnext_build():
    return _hf("ConvNextForImageClassification", "ConvNextConfig", hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 2, 1],
               num_labels=10)


def hf_mobilenet_v2_build():
    return _hf("MobileNetV2ForImageClassification", "MobileNetV2Config", depth_multiplier=0.35, image_size=64,
               num_labels=10)


def hf_vit_build():
    return _hf("ViTForImageClassification", "ViTConfig", image_size=32, patch_size=8, hidden_size=64,
               num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, num_labels=10)


def hf_swin_build():
    return _hf("SwinForImageClassification", "SwinConfig", image_size=32, patch_size=4, embed_dim=16, depths=[1, 1],
               num_heads=[2, 4], window_size=4, num_labels=10)


# ------------------------------------------------------------------------------------------ timm


def _timm(name: str, **kw: Any) -> Any:
    ensure_torchvision()
    import timm

    _torch_seed()
    return timm.create_model(name, pretrained=False, **kw)


def timm_resnet18_build():
    return _timm("resnet18", num_classes=10, channels=(16, 32, 64, 128))


def timm_resnet50_build():
    return _timm("resnet50", num_classes=10, layers=[1, 1, 1, 1], channels=(16, 32, 64, 128))


def timm_regnet_build():
    return _timm("regnetx_002", num_classes=10)


def timm_mobilenetv3_build():
    return _timm("mobilenetv3_small_050", num_classes=10)


def timm_efficientnet_build():
    return _timm("tinynet_e", num_classes=10)


def timm_convnext_build():
    return _timm("convnext_atto", num_classes=10, dims=(16, 32, 64, 128), depths=(1, 1, 1, 1))


def timm_vit_build():
    return _timm("vit_tiny_patch16_224", num_classes=10, img_size=32, patch_size=8, depth=2, embed_dim=64,
                 num_heads=4)


def timm_vit_layerscale_build():
    return _timm("vit_tiny_patch16_224", num_classes=10, img_size=32, patch_size=8, depth=2, embed_dim=64,
                 num_heads=4, init_values=1e-5)


# ------------------------------------------------------------------------------------------ torchvision


def _tv(fn: Callable[[Any], Any]) -> Any:
    ensure_torchvision()
    import torchvision

    _torch_seed()
    return fn(torchvision.models)


def tv_resnet18_build():
    return _tv(lambda tvm: tvm.resnet18(weights=None, num_classes=10, zero_init_residual=True))


def tv_resnet50_build():
    return _tv(lambda tvm: tvm.resnet50(weights=None, num_classes=10))


def tv_mobilenet_v2_build():
    return _tv(lambda tvm: tvm.mobilenet_v2(weights=None, num_classes=10, width_mult=0.5))


def tv_convnext_build():
    def build(tvm):
        from torchvision.models.convnext import CNBlockConfig, ConvNeXt

        cfg = [CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, 128, 1), CNBlockConfig(128, None, 1)]
        return ConvNeXt(cfg, num_classes=10)
    return _tv(build)


def tv_vit_build():
    def build(tvm):
        from torchvision.models.vision_transformer import VisionTransformer

        return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128,
                                 num_classes=10)
    return _tv(build)


# ------------------------------------------------------------------------------------------ torch.nn (stock layers)


def torch_lstm_lm_build():
    import torch
    from torch import nn

    class LSTMLanguageModel(nn.Module):
        """Embedding -> 2-layer nn.LSTM -> Linear, every layer at torch's default init."""

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(256, 32)
            self.lstm = nn.LSTM(32, 64, num_layers=2, batch_first=True)
            self.out = nn.Linear(64, 256)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.out(self.lstm(self.embed(ids))[0])

    _torch_seed()
    return LSTMLanguageModel()


# ------------------------------------------------------------------------------------------ keras.applications


def _keras(fn: Callable[[Any], Any]) -> Any:
    ensure_keras_backend()
    import keras

    keras.utils.set_random_seed(0)
    return fn(keras)


def keras_resnet50_build():
    return _keras(lambda k: k.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10))


def keras_mobilenet_v2_build():
    return _keras(lambda k: k.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10))


def keras_efficientnet_b0_build():
    return _keras(lambda k: k.applications.EfficientNetB0(weights=None, input_shape=(32, 32, 3), classes=10))


def keras_convnext_build():
    def build(k):
        from keras.src.applications.convnext import ConvNeXt

        return ConvNeXt(depths=[1, 1, 1, 1], projection_dims=[16, 32, 64, 128], weights=None, input_shape=(32, 32, 3),
                        classes=10, name="convnext_zoo", include_preprocessing=False)
    return _keras(build)


def keras_lstm_build():
    def build(k):
        L = k.layers
        return k.Sequential([k.Input((16,), dtype="int32"), L.Embedding(256, 32), L.LSTM(64, return_sequences=True),
                             L.Dense(256)])
    return _keras(build)


# ------------------------------------------------------------------------------------------ keras-hub


def _keras_hub(cls: str, **kw: Any) -> Any:
    """``keras_hub.models.<cls>(**kw)`` from a tiny config (no preset, no download), seeded like keras.applications."""
    ensure_keras_backend()
    import keras
    import keras_hub

    keras.utils.set_random_seed(0)
    return getattr(keras_hub.models, cls)(**kw)


def kh_bert_build():
    return _keras_hub("BertBackbone", vocabulary_size=256, num_layers=2, num_heads=4, hidden_dim=64, intermediate_dim=128,
                      max_sequence_length=32)


def kh_llama_build():
    return _keras_hub("LlamaBackbone", vocabulary_size=256, num_layers=2, num_query_heads=4, num_key_value_heads=2,
                      hidden_dim=64, intermediate_dim=128)


def kh_gemma_build():
    return _keras_hub("GemmaBackbone", vocabulary_size=256, num_layers=2, num_query_heads=4, num_key_value_heads=1,
                      hidden_dim=64, intermediate_dim=128, head_dim=16)


def _kh_tokens(vocab: int, segments: bool = False) -> dict:
    """A keras-hub backbone's input dict: ``token_ids`` (batch 8, 16 tokens, int32, no padding id 0), an all-ones
    ``padding_mask`` and, for BERT, all-zero ``segment_ids``.  The backbone is a functional model over this dict,
    so the example is the dict itself, not a tuple holding it."""
    import numpy as np

    ids = _ids_np(vocab)
    out = {"token_ids": ids, "padding_mask": np.ones_like(ids)}
    if segments:
        out["segment_ids"] = np.zeros_like(ids)
    return out


# ------------------------------------------------------------------------------------------ the zoo

_TV_MODELS = "torchvision/models"
_HF = "transformers/models"
_HF_BASE = ("transformers/modeling_utils.py PreTrainedModel._init_weights: nn.Linear/Conv weight normal(0, "
            "initializer_range=0.02), bias zeros; nn.Embedding normal(0, 0.02) with the padding_idx row zeroed; "
            "*LayerNorm/*RMSNorm/BatchNorm weight ones, bias zeros")

ZOO: list[ZooModel] = [
    # ---- HuggingFace transformers: text
    ZooModel(
        "hf_bert", "transformers BertModel(BertConfig(hidden 64, 2 layers))", "encoder-only transformer",
        ("transformers",), hf_bert_build, lambda m: (_ids(512),), HEALTHY,
        f"{_HF}/bert/modeling_bert.py BertPreTrainedModel._init_weights -> {_HF_BASE}; pad_token_id=0 so "
        "word_embeddings row 0 is zero; the pooler Linear (tanh) is drawn like every Linear",
        ("word_embeddings row 0 (padding_idx) zeroed", "fixed std 0.02 for every Linear (not fan-scaled)"),
        kwargs=lambda m: {"input_ids": _ids(512)},
        faults={"zero_projection": "encoder.layer.1.intermediate.dense.weight",
                "copy_layer": "encoder.layer.1.attention.self.query.weight<-encoder.layer.0.attention.self.query.weight",
                "zero_embedding": "embeddings.word_embeddings.weight", "std_squared": "*",
                "outliers": "encoder.layer.0.output.dense.weight"}),
    ZooModel(
        "hf_gpt2", "transformers GPT2LMHeadModel(GPT2Config(n_embd 64, 2 layers))", "decoder-only transformer (Conv1D)",
        ("transformers",), hf_gpt2_build, lambda m: (_ids(512),), HEALTHY,
        f"{_HF}/gpt2/modeling_gpt2.py GPT2PreTrainedModel._init_weights -> {_HF_BASE}; pytorch_utils.Conv1D "
        "(weight stored (in, out), transposed vs nn.Linear) normal(0, 0.02), bias zeros; attn.c_proj and "
        "mlp.c_proj re-drawn normal(0, 0.02/sqrt(2*n_layer)) (GPT-2 paper residual scaling); lm_head tied to wte",
        ("c_proj std 0.02/sqrt(2·n_layer) (residual-branch scaling)", "lm_head.weight tied to transformer.wte.weight",
         "fixed std 0.02 (not fan-scaled)"),
        kwargs=lambda m: {"input_ids": _ids(512)},
        faults={"zero_projection": "transformer.h.0.mlp.c_proj.weight",
                "copy_layer": "transformer.h.1.attn.c_attn.weight<-transformer.h.0.attn.c_attn.weight",
                "zero_embedding": "transformer.wte.weight", "std_squared": "*",
                "outliers": "transformer.h.1.mlp.c_fc.weight"}),
    ZooModel(
        "hf_llama", "transformers LlamaForCausalLM(LlamaConfig(hidden 64, 2 layers, GQA 4/2))",
        "decoder-only transformer (RMSNorm, SwiGLU, GQA)",
        ("transformers",), hf_llama_build, lambda m: (_ids(512),), HEALTHY,
        f"{_HF}/llama/modeling_llama.py LlamaPreTrainedModel (no override) -> {_HF_BASE}; LlamaRMSNorm weight ones; "
        "lm_head untied (tie_word_embeddings=False) drawn normal(0, 0.02)",
        ("fixed std 0.02 for every Linear (not fan-scaled)",),
        kwargs=lambda m: {"input_ids": _ids(512)},
        faults={"zero_projection": "model.layers.0.mlp.down_proj.weight",
                "copy_layer": "model.layers.1.self_attn.q_proj.weight<-model.layers.0.self_attn.q_proj.weight",
                "zero_embedding": "model.embed_tokens.weight", "std_squared": "*",
                "outliers": "model.layers.1.mlp.gate_proj.weight"}),
    ZooModel(
        "hf_t5", "transformers T5Model(T5Config(d_model 64, 2+2 layers))", "encoder-decoder transformer",
        ("transformers",), hf_t5_build, lambda m: (_ids(512), None, _ids(512, low=0)), HEALTHY,
        f"{_HF}/t5/modeling_t5.py T5PreTrainedModel._init_weights (factor=initializer_factor=1): shared embedding "
        "normal(0, 1); T5Attention q normal(0, (d_model*d_kv)^-1/2), k/v normal(0, d_model^-1/2), o normal(0, "
        "(n_heads*d_kv)^-1/2), relative_attention_bias normal(0, d_model^-1/2); T5DenseActDense wi normal(0, "
        "d_model^-1/2), wo normal(0, d_ff^-1/2); T5LayerNorm weight 1. Shared embedding used by encoder and decoder",
        ("q scaled by an extra d_kv^-1/2 (T5 folds the 1/sqrt(d_k) attention scale into q)",
         "embedding std 1 (shared encoder/decoder, tied)", "relative_attention_bias std d_model^-1/2"),
        kwargs=lambda m: {"input_ids": _ids(512), "decoder_input_ids": _ids(512, low=0)},
        faults={"zero_projection": "encoder.block.0.layer.1.DenseReluDense.wo.weight",
                "zero_embedding": "shared.weight", "std_squared": "*"}),
    # ---- HuggingFace transformers: vision
    ZooModel(
        "hf_resnet", "transformers ResNetForImageClassification(ResNetConfig(bottleneck, depths 1,1,1,1))",
        "CNN + BatchNorm, bottleneck residual",
        ("transformers",), hf_resnet_build, lambda m: (_images(16, 64),), HEALTHY,
        f"{_HF}/resnet/modeling_resnet.py ResNetPreTrainedModel._init_weights: Conv2d kaiming_normal_(mode='fan_out', "
        "relu) = normal(0, sqrt(2/(out*k*k))); Linear kaiming_uniform_(a=sqrt(5)) = U(±1/sqrt(fan_in)), bias "
        "U(±1/sqrt(fan_in)); BatchNorm weight 1 bias 0",
        ("He fan_out convs", "classifier at torch's Linear default U(±1/sqrt(fan_in))"),
        kwargs=lambda m: {"pixel_values": _images(16, 64)},
        faults={"fan_swap": "resnet.encoder.stages.1.layers.0.layer.2.convolution.weight",
                "copy_layer": "resnet.encoder.stages.2.layers.0.layer.1.convolution.weight<-"
                              "resnet.encoder.stages.2.layers.0.layer.1.convolution.weight@perm",
                "outliers": "resnet.encoder.stages.1.layers.0.layer.1.convolution.weight"}),
    ZooModel(
        "hf_convnext", "transformers ConvNextForImageClassification(ConvNextConfig(dims 16..128, depths 1,1,2,1))",
        "ConvNeXt (depthwise 7x7, LayerScale 1e-6)",
        ("transformers",), hf_convnext_build, lambda m: (_images(16, 64),), HEALTHY,
        f"{_HF}/convnext/modeling_convnext.py ConvNextPreTrainedModel._init_weights -> {_HF_BASE}; ConvNextLayer."
        "layer_scale_parameter constant layer_scale_init_value=1e-6 (configuration_convnext.py)",
        ("LayerScale γ = 1e-6 (residual branches start near zero)", "fixed std 0.02 convs incl. depthwise"),
        kwargs=lambda m: {"pixel_values": _images(16, 64)}),
    ZooModel(
        "hf_mobilenet_v2", "transformers MobileNetV2ForImageClassification(MobileNetV2Config(depth_multiplier 0.35))",
        "CNN + BatchNorm, depthwise separable, inverted residual",
        ("transformers",), hf_mobilenet_v2_build, lambda m: (_images(16, 64),), HEALTHY,
        f"{_HF}/mobilenet_v2/modeling_mobilenet_v2.py MobileNetV2PreTrainedModel (no _init_weights override) -> "
        f"{_HF_BASE}: every conv incl. depthwise normal(0, 0.02)",
        ("fixed std 0.02 convs incl. depthwise (not fan-scaled)",),
        kwargs=lambda m: {"pixel_values": _images(16, 64)}),
    ZooModel(
        "hf_vit", "transformers ViTForImageClassification(ViTConfig(32px, patch 8, hidden 64, 2 layers))",
        "vision transformer",
        ("transformers",), hf_vit_build, lambda m: (_images(16, 32),), HEALTHY,
        f"{_HF}/vit/modeling_vit.py ViTPreTrainedModel._init_weights -> {_HF_BASE}; position_embeddings and "
        "cls_token trunc_normal(0, 0.02); patch Conv2d normal(0, 0.02)",
        ("fixed std 0.02 (not fan-scaled)",),
        kwargs=lambda m: {"pixel_values": _images(16, 32)},
        faults={"zero_projection": "vit.layers.0.mlp.fc2.weight", "std_squared": "*"}),
    ZooModel(
        "hf_swin", "transformers SwinForImageClassification(SwinConfig(32px, embed 16, depths 1,1, window 4))",
        "Swin transformer (windowed attention, patch merging)",
        ("transformers",), hf_swin_build, lambda m: (_images(16, 32),), HEALTHY,
        f"{_HF}/swin/modeling_swin.py SwinPreTrainedModel._init_weights -> {_HF_BASE}; relative_position_bias_table "
        "zeros (SwinRelativePositionBias); mask_token/position_embeddings zeros when present",
        ("relative_position_bias_table zeros (intended)", "fixed std 0.02"),
        kwargs=lambda m: {"pixel_values": _images(16, 32)}),
    # ---- timm
    ZooModel(
        "timm_resnet18", "timm.create_model('resnet18', channels=(16,32,64,128))", "CNN + BatchNorm, basic residual, "
        "zero-init last BN", ("timm",), timm_resnet18_build, lambda m: (_images(16, 64),), HEALTHY,
        "timm/models/resnet.py ResNet.init_weights(zero_init_last=True): Conv2d kaiming_normal_(fan_out, relu); "
        "BasicBlock.zero_init_last zeros bn2.weight; fc at torch Linear default (U(±1/sqrt(fan_in)))",
        ("bn2.weight = 0 in every block (zero-init residual)", "He fan_out convs",
         "fc at torch default U(±1/sqrt(fan_in))"),
        faults={"zero_projection": "layer2.0.conv2.weight",
                "copy_layer": "layer3.0.conv2.weight<-layer3.0.conv2.weight@perm",
                "fan_swap": "layer2.0.conv1.weight", "outliers": "layer3.0.conv1.weight"}),
    ZooModel(
        "timm_resnet50", "timm.create_model('resnet50', layers=[1,1,1,1], channels=(16,32,64,128))",
        "CNN + BatchNorm, bottleneck residual, zero-init last BN", ("timm",), timm_resnet50_build,
        lambda m: (_images(16, 64),), HEALTHY,
        "timm/models/resnet.py ResNet.init_weights(zero_init_last=True): Conv2d kaiming_normal_(fan_out, relu); "
        "Bottleneck.zero_init_last zeros bn3.weight; fc at torch Linear default",
        ("bn3.weight = 0 in every block", "He fan_out convs"),
        faults={"fan_swap": "layer2.0.conv3.weight"}),
    ZooModel(
        "timm_regnet", "timm.create_model('regnetx_002')", "CNN + BatchNorm, grouped convs (group width 8)",
        ("timm",), timm_regnet_build, lambda m: (_images(16, 64),), HEALTHY,
        "timm/models/regnet.py _init_weights: Conv2d normal(0, sqrt(2/fan_out)) with fan_out = k*k*out/groups; "
        "Linear normal(0, 0.01), bias zeros; zero_init_last (RegNet default True) zeros the last BN γ per block",
        ("grouped fan_out = k²·out/groups", "head normal(0, 0.01)", "last BN γ = 0 per block"),
        faults={"fan_swap": "s2.b1.conv1.conv.weight"}),
    ZooModel(
        "timm_mobilenetv3", "timm.create_model('mobilenetv3_small_050')",
        "CNN + BatchNorm, depthwise, squeeze-excite, hard-swish", ("timm",), timm_mobilenetv3_build,
        lambda m: (_images(16, 64),), HEALTHY,
        "timm/models/_efficientnet_builder.py _init_weight_goog (called by efficientnet_init_weights from "
        "MobileNetV3.__init__): Conv2d normal(0, sqrt(2/fan_out)), fan_out = k*k*out/groups (depthwise: k*k); "
        "Linear U(±1/sqrt(fan_in_0 + fan_out)) with fan_in 0 (= U(±1/sqrt(out))); BN 1/0",
        ("depthwise fan_out = k²", "Linear head U(±1/sqrt(out_features))", "SE 1x1 convs with bias"),
    ),
    ZooModel(
        "timm_efficientnet", "timm.create_model('tinynet_e')", "EfficientNet (MBConv, depthwise, SE, swish)",
        ("timm",), timm_efficientnet_build, lambda m: (_images(16, 64),), HEALTHY,
        "timm/models/_efficientnet_builder.py _init_weight_goog via efficientnet_init_weights in EfficientNet.__init__: "
        "Conv2d normal(0, sqrt(2/fan_out)) with group-corrected fan_out; Linear U(±1/sqrt(out)); BN 1/0",
        ("depthwise fan_out = k²", "Linear head U(±1/sqrt(out_features))"),
        faults={"fan_swap": "blocks.2.0.conv_pw.weight"}),
    ZooModel(
        "timm_convnext", "timm.create_model('convnext_atto', dims=(16,32,64,128), depths=(1,1,1,1))",
        "ConvNeXt (LayerScale 1e-6)", ("timm",), timm_convnext_build, lambda m: (_images(16, 64),), HEALTHY,
        "timm/models/convnext.py _init_weights: Conv2d and Linear trunc_normal(std=0.02) (±2 absolute, i.e. "
        "untruncated at std 0.02), bias zeros; head scaled by head_init_scale=1; ConvNeXtBlock.gamma = "
        "ls_init_value*ones with ls_init_value=1e-6",
        ("LayerScale γ = 1e-6", "fixed std 0.02"),
        faults={"outliers": "stages.2.blocks.0.mlp.fc1.weight"}),
    ZooModel(
        "timm_vit", "timm.create_model('vit_tiny_patch16_224', img_size=32, patch_size=8, depth=2, embed_dim=64)",
        "vision transformer", ("timm",), timm_vit_build, lambda m: (_images(16, 32),), HEALTHY,
        "timm/models/vision_transformer.py VisionTransformer.init_weights(mode=''): pos_embed trunc_normal(0.02), "
        "cls_token normal(1e-6); init_weights_vit_timm: Linear trunc_normal(std=0.02), bias zeros; patch_embed "
        "Conv2d keeps torch default (reset_parameters: U(±1/sqrt(fan_in)))",
        ("cls_token std 1e-6", "fixed std 0.02"),
        faults={"zero_projection": "blocks.0.mlp.fc2.weight", "copy_layer": "blocks.1.attn.qkv.weight<-blocks.0.attn.qkv.weight",
                "std_squared": "*"}),
    ZooModel(
        "timm_vit_layerscale", "timm vit_tiny_patch16_224(..., init_values=1e-5)", "vision transformer + LayerScale",
        ("timm",), timm_vit_layerscale_build, lambda m: (_images(16, 32),), HEALTHY,
        "timm/models/vision_transformer.py as timm_vit; Block.ls1/ls2 = LayerScale(dim, init_values=1e-5): gamma "
        "= 1e-5*ones (timm/layers/layer_scale.py)",
        ("LayerScale γ = 1e-5",)),
    # ---- torchvision
    ZooModel(
        "tv_resnet18", "torchvision.models.resnet18(weights=None, zero_init_residual=True)",
        "CNN + BatchNorm, residual, zero-init residual option", ("torchvision",), tv_resnet18_build,
        lambda m: (_images(16, 64),), HEALTHY,
        f"{_TV_MODELS}/resnet.py ResNet.__init__: Conv2d kaiming_normal_(mode='fan_out', relu); BN weight 1 bias 0; "
        "zero_init_residual=True: BasicBlock.bn2.weight 0; fc at torch Linear default U(±1/sqrt(fan_in))",
        ("bn2.weight = 0 (zero_init_residual)", "He fan_out convs"),
        faults={"fan_swap": "layer2.0.conv1.weight", "zero_projection": "layer3.0.conv1.weight"}),
    ZooModel(
        "tv_resnet50", "torchvision.models.resnet50(weights=None, num_classes=10)",
        "CNN + BatchNorm, bottleneck residual (issue 13's reproduction)", ("torchvision",), tv_resnet50_build,
        lambda m: (_images(8, 64),), HEALTHY,
        f"{_TV_MODELS}/resnet.py ResNet.__init__: Conv2d kaiming_normal_(mode='fan_out', relu); BN weight 1 bias 0; "
        "zero_init_residual=False (default): every BN γ = 1; fc at torch Linear default U(±1/sqrt(fan_in))",
        ("He fan_out convs", "BN-preceded convs: their scale does not change the network function"),
        faults={"fan_swap": "layer1.0.conv3.weight"}),
    ZooModel(
        "tv_mobilenet_v2", "torchvision.models.mobilenet_v2(weights=None, width_mult=0.5)",
        "CNN + BatchNorm, depthwise, inverted residual", ("torchvision",), tv_mobilenet_v2_build,
        lambda m: (_images(16, 64),), HEALTHY,
        f"{_TV_MODELS}/mobilenetv2.py MobileNetV2.__init__: Conv2d kaiming_normal_(mode='fan_out') = normal(0, "
        "sqrt(2/fan_out)) with torch's fan_out = size(0)*k*k (torch/nn/init.py _calculate_fan_in_and_fan_out; "
        "for a depthwise weight (C,1,k,k) that is C*k*k, not k*k); conv bias 0; BN 1/0; classifier Linear "
        "normal(0, 0.01), bias 0",
        ("He fan_out convs; torch's fan_out of a depthwise weight (C,1,k,k) is C·k² (not k²)",
         "classifier normal(0, 0.01)")),
    ZooModel(
        "tv_convnext", "torchvision.models.convnext.ConvNeXt([CNBlockConfig(16..128, depth 1)])",
        "ConvNeXt (LayerScale 1e-6)", ("torchvision",), tv_convnext_build, lambda m: (_images(16, 64),), HEALTHY,
        f"{_TV_MODELS}/convnext.py ConvNeXt.__init__: Conv2d/Linear trunc_normal_(std=0.02), bias 0; CNBlock."
        "layer_scale = ones(dim,1,1)*layer_scale (1e-6)",
        ("LayerScale γ = 1e-6", "fixed std 0.02")),
    ZooModel(
        "tv_vit", "torchvision.models.vision_transformer.VisionTransformer(32px, patch 8, 2 layers, hidden 64)",
        "vision transformer, zero-init head", ("torchvision",), tv_vit_build, lambda m: (_images(16, 32),), HEALTHY,
        f"{_TV_MODELS}/vision_transformer.py VisionTransformer.__init__: conv_proj trunc_normal(std=sqrt(1/fan_in)); "
        "heads.head weight and bias zeros; MLPBlock Linear xavier_uniform_, bias normal(1e-6); "
        "nn.MultiheadAttention._reset_parameters (in_proj xavier_uniform_, biases 0); pos_embedding normal(0.02); "
        "class_token zeros",
        ("heads.head zero (intended zero-init head)", "class_token zeros")),
    # ---- torch.nn stock layers
    ZooModel(
        "torch_lstm_lm", "torch.nn Embedding(256,32) -> LSTM(32,64,2 layers) -> Linear(64,256)", "RNN/LSTM",
        ("torch",), torch_lstm_lm_build, lambda m: (_ids(256),), HEALTHY,
        "torch/nn/modules/rnn.py RNNBase.reset_parameters: every weight and bias U(±1/sqrt(hidden_size)); "
        "torch/nn/modules/sparse.py Embedding.reset_parameters normal(0, 1); torch/nn/modules/linear.py "
        "Linear.reset_parameters kaiming_uniform_(a=sqrt(5)) = U(±1/sqrt(fan_in))",
        ("LSTM packed gates (i,f,g,o) all U(±1/sqrt(hidden))", "embedding std 1"),
        faults={"zero_embedding": "embed.weight", "copy_layer": "lstm.weight_hh_l1<-lstm.weight_hh_l0"}),
    # ---- keras.applications (JAX backend)
    ZooModel(
        "keras_resnet50", "keras.applications.ResNet50(weights=None, input_shape=(32,32,3), classes=10)",
        "CNN + BatchNorm, bottleneck residual", ("keras",), keras_resnet50_build, lambda m: (_nhwc(8, 32),), HEALTHY,
        "keras/src/applications/resnet.py ResNet/stack1/block1: layers.Conv2D and Dense with default "
        "kernel_initializer='glorot_uniform' (keras/src/layers/convolutional/base_conv.py, core/dense.py), bias "
        "zeros; BatchNormalization gamma 1 beta 0",
        ("Glorot (fan_avg) convs: a consistent non-He scheme followed by BatchNorm",)),
    ZooModel(
        "keras_mobilenet_v2", "keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32,32,3))",
        "CNN + BatchNorm, depthwise", ("keras",), keras_mobilenet_v2_build, lambda m: (_nhwc(8, 32),), HEALTHY,
        "keras/src/applications/mobilenet_v2.py: Conv2D glorot_uniform, DepthwiseConv2D depthwise_initializer "
        "glorot_uniform (keras/src/layers/convolutional/depthwise_conv2d.py); Dense glorot_uniform; BN 1/0",
        ("Glorot uniform everywhere incl. depthwise",)),
    ZooModel(
        "keras_efficientnet_b0", "keras.applications.EfficientNetB0(weights=None, input_shape=(32,32,3))",
        "EfficientNet (depthwise, SE)", ("keras",), keras_efficientnet_b0_build, lambda m: (_nhwc(8, 32),), HEALTHY,
        "keras/src/applications/efficientnet.py CONV_KERNEL_INITIALIZER = VarianceScaling(2.0, 'fan_out', "
        "'truncated_normal') for Conv2D and DepthwiseConv2D; DENSE_KERNEL_INITIALIZER = VarianceScaling(1/3, "
        "'fan_out', 'uniform'); BN 1/0; Normalization/Rescaling layers hold non-trainable stats",
        ("He fan_out truncated normal", "Dense VarianceScaling(1/3, fan_out)")),
    ZooModel(
        "keras_convnext", "keras.src.applications.convnext.ConvNeXt(depths 1,1,1,1, dims 16..128)",
        "ConvNeXt (LayerScale 1e-6)", ("keras",), keras_convnext_build, lambda m: (_nhwc(8, 32),), HEALTHY,
        "keras/src/applications/convnext.py ConvNeXtBlock: Conv2D/Dense default glorot_uniform, LayerScale "
        "gamma Constant(1e-6) (layer_scale_init_value); head Dense glorot_uniform",
        ("LayerScale γ = 1e-6",)),
    ZooModel(
        "keras_lstm", "keras Sequential(Embedding(256,32), LSTM(64), Dense(256))", "RNN/LSTM", ("keras",),
        keras_lstm_build, lambda m: (_ids_np(256),), HEALTHY,
        "keras/src/layers/rnn/lstm.py LSTMCell: kernel glorot_uniform, recurrent_kernel orthogonal, bias zeros "
        "with unit_forget_bias=True (forget-gate bias 1); keras/src/layers/core/embedding.py "
        "embeddings_initializer='uniform' = U(-0.05, 0.05); Dense glorot_uniform",
        ("recurrent kernel orthogonal per packed (units, 4·units) matrix", "forget-gate bias 1",
         "embedding U(-0.05, 0.05)")),
    # ---- keras-hub (Keras 3 model code, JAX backend): backbones from tiny configs, no preset
    ZooModel(
        "kh_bert", "keras_hub.models.BertBackbone(hidden 64, 2 layers, 4 heads)", "encoder-only transformer (keras-hub)",
        ("keras_hub",), kh_bert_build, lambda m: _kh_tokens(256, segments=True), HEALTHY,
        "keras_hub/src/models/bert/bert_backbone.py bert_kernel_initializer: keras.initializers.TruncatedNormal("
        "stddev=0.02), a fresh instance per use (BertBackbone.__init__): token, position and segment "
        "embeddings and the pooled_dense kernel; each TransformerEncoder (keras_hub/src/layers/modeling/"
        "transformer_encoder.py) gets bert_kernel_initializer() and clone_initializer()s it per EinsumDense/Dense "
        "(query/key/value/attention_output, feedforward), biases zeros; LayerNormalization gamma 1 beta 0",
        ("fixed std 0.02 truncated normal for every kernel and embedding (not fan-scaled)",),
        faults={"scaled_x100": "transformer_layer_0/self_attention_layer/attention_output/kernel"}),
    ZooModel(
        "kh_llama", "keras_hub.models.LlamaBackbone(hidden 64, 2 layers, GQA 4/2)",
        "decoder-only transformer (keras-hub; RMSNorm, SwiGLU, GQA)",
        ("keras_hub",), kh_llama_build, lambda m: _kh_tokens(256), ERRORS,
        "keras_hub/src/models/llama/llama_attention.py LlamaAttention.__init__: self.kernel_initializer = "
        "keras.initializers.get(clone_initializer(kernel_initializer)) is ONE instance, passed to the query, key, "
        "value and attention_output EinsumDense layers; a Keras 3 random initializer fixes its seed when it is "
        "constructed (keras/src/initializers/random_initializers.py RandomInitializer.__init__: seed = "
        "random.make_default_seed() when none is given) and every call with the same shape returns the same draw, "
        "so under GQA the same-shape key and value kernels (64, 2, 16) are bit-identical in every block (a true "
        "finding: identical-tensors on key/value). The instance is llama_backbone.py _llama_kernel_initializer"
        "(stddev=0.02) = RandomNormal(0.02) (llama_decoder.py LlamaTransformerDecoder clones it per sublayer); "
        "token embedding RandomNormal(0.01); LlamaLayerNorm scale ones",
        ("fixed std 0.02 for every kernel, 0.01 for the embedding (not fan-scaled)",)),
    ZooModel(
        "kh_gemma", "keras_hub.models.GemmaBackbone(hidden 64, 2 layers, 4 query heads, 1 key/value head)",
        "decoder-only transformer (keras-hub; RMSNorm x*(1+scale), GeGLU, multi-query)",
        ("keras_hub",), kh_gemma_build, lambda m: _kh_tokens(256), ERRORS,
        "keras_hub/src/models/gemma/gemma_attention.py CachedGemmaAttention.__init__: self._kernel_initializer = "
        "keras.initializers.get(clone_initializer(kernel_initializer)) is ONE instance (default 'glorot_uniform', "
        "GemmaDecoderBlock passes none) for query, key, value and attention_output; a Keras 3 random initializer "
        "fixes its seed at construction (keras/src/initializers/random_initializers.py RandomInitializer.__init__), "
        "so the same-shape key and value kernels (1, 64, 16) are bit-identical in every block (a true finding); "
        "gemma/rms_normalization.py RMSNormalization scale zeros, applied as x*(1+scale): the identity at init, "
        "not a dead branch; token embedding VarianceScaling(1, fan_in, untruncated_normal) (gemma_backbone.py)",
        ("RMSNormalization scale 0 applied as x*(1+scale) (identity, no zero-residual-branch note)",
         "Glorot uniform attention and FFN kernels")),
]


def _ids_np(vocab: int, batch: int = 8, seq: int = 16):
    import numpy as np

    return np.random.default_rng(1).integers(1, vocab, size=(batch, seq)).astype("int32")


BY_NAME: dict[str, ZooModel] = {z.name: z for z in ZOO}

# ------------------------------------------------------------------------------------------ planted faults


def _torch_param(model: Any, name: str):
    params = dict(model.named_parameters(remove_duplicate=False))
    if name not in params:
        raise KeyError(f"{type(model).__name__} has no parameter {name!r}")
    return params[name]


def zero_projection(model: Any, target: str) -> Any:
    """Zero one projection weight (an MLP/attention output, a conv): the dead-layer fault."""
    import torch

    with torch.no_grad():
        _torch_param(model, target).zero_()
    return model


def copy_layer(model: Any, target: str) -> Any:
    """``dst<-src``: copy one layer's weight into another of the same shape (a reused seeded initializer);
    ``dst<-dst@perm``: within one conv, copy output channel 0's filter into channel 1..4 (duplicated units)."""
    import torch

    dst, src = target.split("<-")
    with torch.no_grad():
        if src.endswith("@perm"):
            w = _torch_param(model, dst)
            w[1:5].copy_(w[0:1].expand_as(w[1:5]))
        else:
            _torch_param(model, dst).copy_(_torch_param(model, src))
    return model


def std_squared(model: Any, target: str = "*") -> Any:
    """Every weight matrix (≥ 2-D, not an embedding) rescaled so its std becomes std²: the "0.02² instead of
    0.02" typo (w ← w·σ where σ = std(w))."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2 and "emb" not in name and "wte" not in name and "wpe" not in name and "shared" not in name:
                p.mul_(p.std())
    return model


def fan_swap(model: Any, target: str) -> Any:
    """Redraw one conv with He normal over the *other* fan (fan_in where the library uses fan_out):
    variance ratio out/in (4x for a 1x1 expansion conv)."""
    import torch

    w = _torch_param(model, target)
    out_c, in_c = w.shape[0], w.shape[1]
    rf = w[0, 0].numel()
    std = math.sqrt(2.0 / (in_c * rf))  # the library draws sqrt(2 / (out_c * rf))
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        w.copy_(torch.randn(w.shape, generator=g) * std)
    return model


def outliers(model: Any, target: str) -> Any:
    """1% of one weight's entries set to ±8σ (values stuck at a wrong clamp bound)."""
    import torch

    w = _torch_param(model, target)
    g = torch.Generator().manual_seed(7)
    n = max(4, w.numel() // 100)
    idx = torch.randperm(w.numel(), generator=g)[:n]
    sign = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
    with torch.no_grad():
        flat = w.view(-1)
        flat[idx] = sign * 8 * w.std()
    return model


def zero_embedding(model: Any, target: str) -> Any:
    """Zero the token embedding table."""
    return zero_projection(model, target)


def scaled_x100(model: Any, target: str) -> Any:
    """One weight ×100 (std ×100: a slipped scale in one block), torch or Keras.  The target names the
    parameter as check-model does: ``named_parameters()`` for torch, the variable ``path`` for Keras, where
    keras-hub repeats the inner layer names in every block (``transformer_layer_0/.../attention_output/kernel``
    vs ``transformer_layer_1/...``): only a check keyed by the full path tells the faulted block from its twin.

    Raises:
        KeyError: no parameter or variable ``target``.
    """
    if hasattr(model, "named_parameters"):
        import torch

        with torch.no_grad():
            _torch_param(model, target).mul_(100.0)
        return model
    var = {v.path: v for v in model.weights}.get(target)
    if var is None:
        raise KeyError(f"{type(model).__name__} has no variable {target!r}")
    var.assign(var.value * 100.0)
    return model


FAULTS: dict[str, Callable[[Any, str], Any]] = {
    "zero_projection": zero_projection, "copy_layer": copy_layer, "std_squared": std_squared,
    "fan_swap": fan_swap, "outliers": outliers, "zero_embedding": zero_embedding, "scaled_x100": scaled_x100,
}

# ------------------------------------------------------------------------------------------ CLI targets


def factory(name: str) -> Callable[[], Any]:
    """The zero-argument factory behind a CLI target (see the module docstring).

    Raises:
        AttributeError: unknown target.
    """
    base, _, variant = name.partition("__")
    if base not in BY_NAME:
        raise AttributeError(name)
    z = BY_NAME[base]
    if variant and variant != "bare" and variant not in z.faults:
        raise AttributeError(name)

    def make() -> Any:
        model = z.build()
        if variant and variant != "bare":
            FAULTS[variant](model, z.faults[variant])
        if variant == "bare" or z.example is None:
            return model
        return (model, z.example(model))
    make.__name__ = name
    make.__doc__ = f"{z.source}: {z.family} ({variant or 'with example input'})"
    return make


def __getattr__(name: str) -> Any:
    if name.startswith("_"):
        raise AttributeError(name)
    return factory(name)


def targets() -> list[str]:
    """Every CLI target: each model, its bare variant and its planted faults."""
    out = []
    for z in ZOO:
        out += [z.name, f"{z.name}__bare"] + [f"{z.name}__{f}" for f in z.faults]
    return out
