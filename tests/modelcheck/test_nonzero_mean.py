"""A tensor drawn around a nonzero mean is reported as such, not read as a variance (a new user's keras-hub T5 trial).

keras-hub ``keras_hub/src/models/t5/t5_backbone.py`` (``T5Backbone.__init__``, line 83) gives its token embedding
``embeddings_initializer=keras.initializers.TruncatedNormal(1.0)``; Keras' initializers take ``mean`` first
(``keras/src/initializers/random_initializers.py``, ``TruncatedNormal(mean=0.0, stddev=0.05, seed=None)``), so the
table is mean 1, std 0.05 truncated at 2 std: every token vector nearly the same.  Before, the tool printed a
variance note "variance 0.001911 (Var*fan_in = 256.5) ... closest normal(std=1), variance ratio 1": the second
figure was ``E[w²]·fan_in`` and the mean was ignored.

Known-bad: that table (Keras mirror) is an error ``nonzero-mean`` with its mean and std (|mean| ≥ 10 std: rows
nearly collinear); a small but significant offset (0.25 std on a torch Linear) is a note of the same kind.
Known-good: the same initializer with the std meant (``TruncatedNormal(stddev=1.0)``) and a zero-mean tensor of an
unnamed scale get no ``nonzero-mean`` finding, and the latter's variance note prints ``Var·fan_in`` of its variance.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from tests.zoo._compat import available

torch = pytest.importorskip("torch")


def _keras_embedding_model(init):
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    ids = keras.Input((8,), dtype="int32")
    h = keras.layers.Embedding(256, 64, embeddings_initializer=init, name="token_embedding")(ids)
    return keras.Model(ids, keras.layers.Dense(4, name="head")(h))


@pytest.mark.skipif(not available("keras"), reason="keras not installed")
def test_t5_truncated_normal_mean_one_is_a_nonzero_mean_error():
    import keras

    from invariants.modelcheck import check_model
    from invariants.render import render_model

    ids = np.random.default_rng(0).integers(0, 256, (8, 8)).astype("int32")
    bad = check_model((_keras_embedding_model(keras.initializers.TruncatedNormal(1.0)), ids))
    (f,) = bad.find("nonzero-mean")
    assert f.severity == "error" and f.params == ("token_embedding/embeddings",), render_model(bad)
    assert abs(f.figures["mean"] - 1.0) < 0.01 and 0.03 < f.figures["std"] < 0.05  # 0.05 * 0.88 (2-std truncation)
    assert f.figures["mean_over_std"] > 20 and f.figures["min_row_cosine"] > 0.99
    var_fan_in = float(re.search(r"Var\*fan_in = ([0-9.e+-]+);", f.message).group(1))
    assert abs(var_fan_in - f.figures["std"] ** 2 * 256) < 0.01 * var_fan_in  # the variance's, not E[w^2]'s 256
    assert not bad.find("variance") or all("token_embedding" not in g.params[0] for g in bad.find("variance"))
    good = check_model((_keras_embedding_model(keras.initializers.TruncatedNormal(stddev=1.0)), ids))
    assert not good.find("nonzero-mean"), render_model(good)


def _linear(shift: float, std: float = 0.02):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64))  # one layer: no sibling or depth check explains it first
    with torch.no_grad():
        net[0].weight.normal_(0.0, std).add_(shift)
    return net


def test_small_significant_offset_is_a_note_and_zero_mean_keeps_the_variance_note():
    from invariants.modelcheck import check_model
    from invariants.render import render_model

    x = torch.randn(16, 64)
    bad = check_model(_linear(0.005, std=0.02), example_input=x)  # 0.25 std over 4096 values: z about 16
    (f,) = bad.find("nonzero-mean")
    assert f.severity == "note" and f.params == ("0.weight",) and 0.2 < f.figures["mean_over_std"] < 0.3, \
        render_model(bad)
    good = check_model(_linear(0.0, std=0.03), example_input=x)  # an unnamed std, mean 0
    assert not good.find("nonzero-mean"), render_model(good)
    (v,) = [g for g in good.find("variance") if g.params == ("0.weight",)]
    row = next(r for r in good.tensors if r.name == "0.weight")
    shown = float(re.search(r"Var\*fan_in = ([0-9.e+-]+)\)", v.message).group(1))
    assert shown == float(f"{row.variance * 64:.4g}")


def test_expected_cosine_and_threshold():
    from invariants.modelcheck.mean_offset import COLLINEAR_STDS, expected_cosine

    assert expected_cosine(0.0, 1.0) == 0.0 and abs(expected_cosine(COLLINEAR_STDS, 1.0) - 100 / 101) < 1e-12
