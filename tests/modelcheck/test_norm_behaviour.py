"""A zero norm scale is read by what the norm does, not by its class name (a new user's trial on keras-hub Gemma).

keras-hub ``keras_hub/src/models/gemma/rms_normalization.py`` (``RMSNormalization.build``: ``scale`` initialized
``"zeros"``; ``call``: ``normed_inputs * (1 + scale)``) and transformers ``models/gemma/modeling_gemma.py``
(``GemmaRMSNorm.__init__``: ``weight = zeros(dim)``; ``forward``: ``output * (1.0 + self.weight.float())``) store a
zero scale that is the identity.  Before, every such scale got the note "the normalized output is its shift at
init", wrong for this code.  The norm is now run (:mod:`invariants.frameworks.torch.norms`,
:mod:`invariants.frameworks.keras.norms`): rows that come out identical mean ``γ·x̂ + β``.

Known-good: a ``(1 + γ)`` norm with γ = 0 (torch and Keras mirrors of the two files above) gets no finding.
Known-bad: a ``γ·x̂ + β`` norm with zero γ (``nn.LayerNorm``, ``keras.layers.LayerNormalization``) keeps the note
that its output is its shift; a norm whose forward refuses every probe shape gets the note with the reading
stated as conditional, never asserted.

Coverage (same trial): keras-hub's ``LlamaLayerNorm`` (``keras_hub/src/models/llama/llama_layernorm.py``: one 1-D
``scale`` of ones, ``call`` ``x·rsqrt(mean(x²) + ε)·scale``) is a norm though its class name lacks
"Normalization"; an untied ``keras.layers.ReversibleEmbedding`` (``keras/src/layers/core/reversible_embedding.py``,
``build``: ``reverse_embeddings`` of shape ``(output_dim, input_dim)``, drawn by ``embeddings_initializer``;
``call(reverse=True)``: ``inputs @ reverse_embeddings``; keras-hub's subclasses it) holds a dense map
``dim -> vocab``.  Known-bad for the recognition: a 1-D ``gamma`` in a class not named a norm (a LayerScale) and a
``*Norm*`` class holding a 2-D weight stay without norm semantics.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.zoo._compat import available

torch = pytest.importorskip("torch")
nn = torch.nn


class GemmaRMSNormMirror(nn.Module):
    """transformers ``models/gemma/modeling_gemma.py`` ``GemmaRMSNorm``: zero weight, ``x̂·(1 + weight)``."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        out = x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)
        return (out * (1.0 + self.weight.float())).type_as(x)


class PairNorm(nn.Module):
    """A norm whose forward takes two tensors: the runner cannot call it with one batch."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(dim))

    def forward(self, x, gate):
        return x * self.weight + gate


def _pre_norm(norm: nn.Module) -> nn.Module:
    """A pre-norm residual block ``x + fc2(relu(fc1(norm(x))))`` between an input and an output layer."""
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp, self.norm = nn.Linear(16, 32), norm
            self.fc1, self.fc2, self.out = nn.Linear(32, 32), nn.Linear(32, 32), nn.Linear(32, 4)

        def forward(self, x):
            h = self.inp(x)
            n = self.norm(h) if not isinstance(self.norm, PairNorm) else self.norm(h, h)
            return self.out(h + self.fc2(torch.relu(self.fc1(n))))

    return Net()


def test_torch_gemma_norm_with_zero_scale_is_the_identity_no_finding():
    from invariants.modelcheck import check_model
    from invariants.render import render_model

    rep = check_model(_pre_norm(GemmaRMSNormMirror(32)), example_input=torch.randn(8, 16))
    assert rep.ok and not rep.findings and not rep.coverage.not_analysed, render_model(rep)


def test_torch_layernorm_with_zero_gamma_keeps_the_shift_note():
    from invariants.modelcheck import check_model
    from invariants.render import render_model

    ln = nn.LayerNorm(32)
    nn.init.zeros_(ln.weight)
    rep = check_model(_pre_norm(ln), example_input=torch.randn(8, 16))
    (f,) = rep.find("zero-residual-branch")
    assert f.params == ("norm.weight",) and "the normalized output is its shift at init" in f.message, render_model(rep)


@pytest.mark.parametrize("make, expected", [
    (lambda: GemmaRMSNormMirror(8), True),
    (lambda: nn.LayerNorm(8), False),
    (lambda: nn.RMSNorm(8), False),
    (lambda: nn.BatchNorm2d(8), False),    # (4, 8, 2, 2): channel axis 1
    (lambda: nn.GroupNorm(2, 8), False),
    (lambda: PairNorm(8), None),           # refuses one batch: not run, not guessed
])
def test_torch_runner_reads_the_forward(make, expected):
    from invariants.frameworks.torch.norms import zero_scale_passes

    m = make()
    with torch.no_grad():
        m.weight.zero_()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    assert zero_scale_passes(m, m.weight) is expected
    after = m.state_dict()  # BatchNorm's running statistics and the module's mode untouched
    assert m.training and all(torch.equal(before[k], after[k]) for k in before)


def test_torch_unrunnable_norm_note_does_not_assert_the_shift_reading():
    from invariants.frameworks.torch.model import extract_params
    from invariants.modelcheck.checks import constant_tensors
    from invariants.frameworks.model import ModelView

    params, nodes, _ = extract_params(_pre_norm(PairNorm(32)))
    # PairNorm is a '*Norm*' class with one 1-D 'weight': a norm scale the runner could not call
    p = next(p for p in params if p.name == "norm.weight")
    assert p.role == "norm_scale" and p.zero_scale_passes is None
    (f,) = [f for f in constant_tensors(ModelView("torch", "m", params, nodes)) if f.kind == "zero-residual-branch"]
    assert "the normalized output is its shift" not in f.message and "was not run" in f.message


@pytest.mark.skipif(not available("transformers"), reason="transformers not installed")
def test_transformers_gemma_rmsnorm_is_run_as_the_identity():
    """The library's own class (``models/gemma/modeling_gemma.py``, ``GemmaRMSNorm``), where installed."""
    from transformers.models.gemma.modeling_gemma import GemmaRMSNorm

    from invariants.frameworks.torch.norms import zero_scale_passes

    m = GemmaRMSNorm(8)
    assert not m.weight.detach().any() and zero_scale_passes(m, m.weight) is True


# ------------------------------------------------------------------------------------------------ keras

keras_only = pytest.mark.skipif(not available("keras"), reason="keras not installed")


def _keras_layers():
    import keras
    from keras import ops

    class RMSNormalization(keras.layers.Layer):
        """keras-hub ``models/gemma/rms_normalization.py`` ``RMSNormalization``: zeros, ``x̂·(1 + scale)``."""

        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="zeros")

        def call(self, x):
            var = ops.mean(ops.square(x), axis=-1, keepdims=True)
            return x * ops.reciprocal(ops.sqrt(var + 1e-6)) * (1 + self.scale)

    class LlamaLayerNorm(keras.layers.Layer):
        """keras-hub ``models/llama/llama_layernorm.py`` ``LlamaLayerNorm``: ones, ``x·rsqrt(mean(x²) + ε)·scale``."""

        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * ops.rsqrt(ops.mean(ops.power(x, 2), axis=-1, keepdims=True) + 1e-6) * self.scale

    class LayerScale(keras.layers.Layer):
        """Not a norm: a per-channel ``gamma`` (CaiT/ConvNeXt LayerScale)."""

        def build(self, input_shape):
            self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.gamma

    class MixNorm(keras.layers.Layer):
        """Named a norm but holding a 2-D weight: not a norm's parameters."""

        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1], input_shape[-1]), initializer="ones")

        def call(self, x):
            return ops.matmul(x, self.scale)

    return RMSNormalization, LlamaLayerNorm, LayerScale, MixNorm


def _keras_pre_norm(norm):
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    inp = keras.Input((16,))
    h = keras.layers.Dense(32, name="inp")(inp)
    n = norm(h)
    b = keras.layers.Dense(32, name="fc2")(keras.layers.Dense(32, activation="relu", name="fc1")(n))
    return keras.Model(inp, keras.layers.Dense(4, name="out")(keras.layers.Add()([h, b])))


@keras_only
def test_keras_gemma_norm_with_zero_scale_is_the_identity_no_finding():
    from invariants.modelcheck import check_model
    from invariants.render import render_model

    rms, *_ = _keras_layers()
    model = _keras_pre_norm(rms(name="pre_norm"))
    rep = check_model((model, np.random.default_rng(0).standard_normal((8, 16)).astype("float32")))
    assert rep.ok and not rep.findings and not rep.coverage.not_analysed, render_model(rep)


@keras_only
def test_keras_layernorm_with_zero_gamma_keeps_the_shift_note():
    import keras

    from invariants.modelcheck import check_model
    from invariants.render import render_model

    model = _keras_pre_norm(keras.layers.LayerNormalization(gamma_initializer="zeros", name="pre_norm"))
    rep = check_model((model, np.random.default_rng(0).standard_normal((8, 16)).astype("float32")))
    (f,) = rep.find("zero-residual-branch")
    assert "pre_norm/gamma" in f.params[0] and "the normalized output is its shift at init" in f.message, \
        render_model(rep)


@keras_only
def test_keras_runner_reads_the_call():
    import keras

    from invariants.frameworks.keras.norms import zero_scale_passes

    rms, *_ = _keras_layers()
    for layer, expected in ((rms(), True), (keras.layers.LayerNormalization(gamma_initializer="zeros"), False),
                            (keras.layers.BatchNormalization(gamma_initializer="zeros"), False)):
        layer.build((None, 8))
        before = [np.array(w.value) for w in layer.weights]
        assert zero_scale_passes(layer, (8,)) is expected, type(layer).__name__
        assert all(np.array_equal(b, np.array(w.value)) for b, w in zip(before, layer.weights))  # moving stats kept


@keras_only
def test_keras_custom_norm_is_a_norm_and_a_layerscale_is_not():
    from invariants.frameworks.keras.model import extract_params

    _, llama, layer_scale, mix = _keras_layers()
    roles = {}
    for norm in (llama(name="ln"), layer_scale(name="ls"), mix(name="mix")):
        params, _, _ = extract_params(_keras_pre_norm(norm))
        roles.update({p.name: p.role for p in params if p.name.split("/")[0] in ("ln", "ls", "mix")})
    assert roles == {"ln/scale": "norm_scale", "ls/gamma": "other", "mix/scale": "other"}
    import keras

    from invariants.frameworks.keras.norms import is_norm

    # keras' own norms are; the preprocessing Normalization (a fixed mean and variance) is not
    assert is_norm(keras.layers.LayerNormalization()) and not is_norm(keras.layers.Normalization())


def _keras_lm(tie: bool, scale: float = 1.0):
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    _, llama, _, _ = _keras_layers()
    emb = keras.layers.ReversibleEmbedding(256, 64, tie_weights=tie, name="tok",
                                           embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02))
    ids = keras.Input((8,), dtype="int32")
    h = llama(name="final_norm")(keras.layers.Dense(64, name="mix")(emb(ids)))
    model = keras.Model(ids, emb(h, reverse=True))
    if not tie:
        emb.reverse_embeddings.assign(keras.ops.multiply(emb.reverse_embeddings.value, scale))
    return model


@keras_only
def test_untied_reverse_embedding_is_a_dense_map_and_fully_covered():
    from invariants.layers import Dense
    from invariants.modelcheck import check_model
    from invariants.render import render_model

    ids = np.random.default_rng(0).integers(0, 256, (8, 8)).astype("int32")
    rep = check_model((_keras_lm(tie=False), ids))
    assert not rep.coverage.not_analysed and rep.coverage.values == rep.coverage.total_values, render_model(rep)
    row = next(r for r in rep.tensors if r.name == "tok/reverse_embeddings")
    assert row.fans == (64, 256) and "normal(std=0.02)" in " ".join(row.matches), render_model(rep)
    from invariants.frameworks.keras.model import extract_params

    p = next(p for p in extract_params(_keras_lm(tie=False))[0] if p.name == "tok/reverse_embeddings")
    assert isinstance(p.layer, Dense) and (p.layer.in_features, p.layer.out_features) == (64, 256)
    bad = check_model((_keras_lm(tie=False, scale=10.0), ids))  # known-bad: the projection 10x its std
    row = next(r for r in bad.tensors if r.name == "tok/reverse_embeddings")
    assert not row.matches and any("tok/reverse_embeddings" in f.params for f in bad.findings), render_model(bad)
