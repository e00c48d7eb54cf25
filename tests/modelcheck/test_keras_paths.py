"""Keras layers are keyed by their path in the model, never by their bare name (a new-user trial, keras-hub).

keras-hub reuses inner layer names in every block (``TransformerEncoder``'s ``feedforward_output_dense``,
``CachedMultiHeadAttention``'s ``query``): keyed by ``layer.name``, the probe wrapped every block's layer under one
key, so only the last block's figures were recorded and credited to every block.  A ``x100`` kernel in block 0
passed HEALTHY (its note said the layer acts at 0.955x: block 1's figure) and a dead block-0 FFN showed block 1's
healthy numbers.  And Keras variable paths can repeat (keras-hub T5's encoder and decoder
``self_attention/embeddings``): a tensor name must never merge two tensors.

The models are plain Keras (CI has no keras-hub): a functional model of subclassed blocks whose inner ``Dense``
layers share the names ``ffn_in``/``ffn_out``.  Textbook: ``keras.layers.Dense`` default
``kernel_initializer="glorot_uniform"``, ``bias_initializer="zeros"`` (keras/src/layers/core/dense.py
``Dense.__init__``).  Known-bad: ``ffn_out``'s kernel x100 in block 0 only is an error (exit 1); block 0's
``ffn_in`` bias at -1e3 (a dead ReLU FFN) shows block 0's own zero input at its ``ffn_out`` and block 1's healthy
one at its own.  Known-good: the library init is HEALTHY, and each block's probe output equals a manual NumPy
forward of that block.
"""
from __future__ import annotations

import numpy as np
import pytest

from invariants.render.model import render_model_findings

from tests.zoo._compat import available

pytestmark = pytest.mark.skipif(not available("keras"), reason="keras not installed")

WIDTH, HIDDEN, N_BLOCKS = 32, 64, 3


def _model():
    import keras

    class Block(keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.ffn_in = keras.layers.Dense(HIDDEN, activation="relu", name="ffn_in")
            self.ffn_out = keras.layers.Dense(WIDTH, name="ffn_out")

        def call(self, x):
            return x + self.ffn_out(self.ffn_in(x))

    keras.backend.clear_session()  # the blocks are `block`, `block_1`, `block_2` in every model built here
    keras.utils.set_random_seed(0)
    inp = keras.Input((WIDTH,))
    x, blocks = inp, [Block() for _ in range(N_BLOCKS)]
    for b in blocks:
        x = b(x)
    model = keras.Model(inp, keras.layers.Dense(10, name="head")(x))
    return model, blocks, np.random.default_rng(1).standard_normal((16, WIDTH)).astype("float32")


def _manual(blocks, x):
    """Each block's ``ffn_in`` pre-activation and ``ffn_out`` input, by NumPy from the stored weights."""
    out = []
    for b in blocks:
        z = x @ np.asarray(b.ffn_in.kernel.value) + np.asarray(b.ffn_in.bias.value)
        h = np.maximum(z, 0)
        x = x + h @ np.asarray(b.ffn_out.kernel.value) + np.asarray(b.ffn_out.bias.value)
        out.append((z, h))
    return out


def test_every_block_is_its_own_node_with_its_own_figures():
    from invariants.frameworks.keras.model import view

    model, blocks, x = _model()
    v = view(model, "blocks", example_input=x)
    names = [n.name for n in v.nodes]
    assert len(set(names)) == len(names) == 2 * N_BLOCKS + 1
    assert names[:2] == ["block/ffn_in", "block/ffn_out"] and "block_2/ffn_out" in names
    assert {n.name: n.bias.name for n in v.nodes}["block_1/ffn_in"] == "block_1/ffn_in/bias"
    sig = {s.name: s for s in v.probe.signals}
    assert len(sig) == len(v.probe.signals) == len(names)  # one record per block, none overwritten
    for k, (z, h) in enumerate(_manual(blocks, x)):
        key = "block" if k == 0 else f"block_{k}"
        np.testing.assert_allclose(sig[f"{key}/ffn_in"].z, z, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(sig[f"{key}/ffn_out"].input_moment, np.mean(h.astype(np.float64) ** 2), rtol=1e-4)


def test_library_init_is_healthy():
    from invariants.modelcheck import check_model

    model, _, x = _model()
    rep = check_model(model, name="blocks", example_input=x)
    assert rep.status == "healthy" and rep.exit_code == 0 and not rep.errors, [f.message for f in rep.findings]
    # its blocks are a sibling class: the trend through depth was measured and the verdict says plainly 'checked'
    assert rep.coverage.no_trend is None and render_model_findings(rep).endswith("signal propagation: checked")


def test_a_verdict_without_a_depth_trend_says_on_how_many_layers():
    # the trial's keras-hub BERT read 'signal propagation: checked' while its trend was skipped ('no sibling class')
    import keras

    from invariants.modelcheck import check_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    inp = keras.Input((WIDTH,))
    hidden = keras.layers.Dense(HIDDEN, activation="relu", name="hidden")  # unlike dense/dense_1: no sibling class
    model = keras.Model(inp, keras.layers.Dense(10, name="head")(hidden(inp)))
    rep = check_model(model, name="two")
    assert rep.status == "healthy" and rep.coverage.no_trend[0] == 2
    assert ("signal propagation: checked on 2 layers, no depth trend: a hidden stack of 2 layer(s) holds no sibling "
            "class of 2 or more layers at one width") in render_model_findings(rep)
    assert rep.to_dict()["coverage"]["no_trend"]["layers"] == 2


def test_a_x100_kernel_in_block_0_is_an_error():
    from invariants.modelcheck import check_model

    model, blocks, x = _model()
    blocks[0].ffn_out.kernel.assign(np.asarray(blocks[0].ffn_out.kernel.value) * 100)
    rep = check_model(model, name="blocks", example_input=x)
    assert rep.exit_code == 1
    assert any("block/ffn_out/kernel" in f.params for f in rep.errors), [f.message for f in rep.findings]


def test_a_dead_block_0_ffn_shows_block_0s_own_zero_figures():
    from invariants.frameworks.keras.model import view

    model, blocks, x = _model()
    blocks[0].ffn_in.bias.assign(np.full(HIDDEN, -1e3, "float32"))
    sig = {s.name: s for s in view(model, "blocks", example_input=x).probe.signals}
    assert sig["block/ffn_out"].input_moment == 0 and not np.any(sig["block/ffn_out"].z - sig["block/ffn_out"].z[0])
    assert sig["block_1/ffn_out"].input_moment > 0.1


def test_a_repeated_variable_path_names_two_tensors():
    # an Embedding built in its parent's __init__ is created outside the parent's name scope: its variable path
    # is `emb/embeddings` in both blocks (as keras-hub T5's `self_attention/embeddings`)
    import keras

    from invariants.frameworks.keras.model import extract_params

    class Att(keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.emb = keras.layers.Embedding(4, 8, name="emb")
            self.emb.build((None,))
            self.d = keras.layers.Dense(8, name="d")

        def call(self, x):
            return self.d(x) + self.emb(keras.ops.zeros((1,), "int32"))

    keras.backend.clear_session()
    inp = keras.Input((8,))
    model = keras.Model(inp, Att(name="dec")(Att(name="enc")(inp)))
    assert [v.path for v in model.trainable_weights].count("emb/embeddings") == 2  # the ambiguity is real
    params, nodes, _ = extract_params(model)
    names = [p.name for p in params]
    assert len(set(names)) == len(names) and {"enc/emb/embeddings", "dec/emb/embeddings"} <= set(names)
    assert "enc/d/kernel" in names  # a path that does not repeat keeps Keras' own
    assert sorted(n.name for n in nodes) == ["dec/d", "dec/emb", "enc/d", "enc/emb"]


def test_two_sublayers_with_one_name_get_two_keys():
    # Keras does not stop a subclassed layer from holding two sublayers of one name
    import keras

    from invariants.frameworks.keras.model import extract_params

    class Twin(keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.a, self.b = keras.layers.Dense(8, name="same"), keras.layers.Dense(8, name="same")

        def call(self, x):
            return self.b(self.a(x))

    keras.backend.clear_session()
    inp = keras.Input((8,))
    model = keras.Model(inp, Twin(name="twin")(inp))
    _, nodes, layers = extract_params(model)
    assert sorted(n.name for n in nodes) == ["twin/same", "twin/same~2"] and len(set(map(id, layers.values()))) == 2
