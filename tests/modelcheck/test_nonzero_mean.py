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


def test_a_tensor_past_max_values_is_read_without_crashing_and_its_rows_from_the_tensor():
    """Known-bad before (reviewer): a weight over the profile's ``max_values`` reaches the check as a strided flat
    sample, and the row cosine reshaped it into one-value rows (a 1024x1100 Linear crashed check-model with exit 2;
    a 4096x512 embedding reported cosine 1).  Now a weight's rows are not read from a sample (no figure), and an
    embedding's first rows come from the tensor itself (expected cosine 1/(1 + 0.05²) = 0.9975)."""
    from invariants.modelcheck import check_model
    from invariants.render import render_model

    torch.manual_seed(0)
    lin = torch.nn.Sequential(torch.nn.Linear(1024, 1100), torch.nn.ReLU(), torch.nn.Linear(1100, 10))
    with torch.no_grad():
        lin[0].weight.normal_(0.001, 0.01)  # mean 0.1 std over 1.1M values: significant, a note
    rep = check_model(lin, example_input=torch.randn(8, 1024))
    (f,) = rep.find("nonzero-mean")
    assert f.severity == "note" and f.figures["min_row_cosine"] is None, render_model(rep)

    class Emb(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.e, self.o = torch.nn.Embedding(4096, 512), torch.nn.Linear(512, 10)

        def forward(self, i):
            return self.o(self.e(i))

    emb = Emb()
    with torch.no_grad():
        emb.e.weight.normal_(1.0, 0.05)
    rep = check_model(emb, example_input=torch.randint(0, 4096, (4, 8)))
    (f,) = rep.find("nonzero-mean")
    assert f.severity == "error" and 0.99 < f.figures["min_row_cosine"] < 0.999, render_model(rep)


def test_the_mean_test_is_students_t_and_exact_at_small_n():
    """Known-bad: the z-test with the sample's own std rejects a normal sample of 3 at nominal 1e-4 with
    probability 0.086; the t-test's p is scipy's one-sample t-test's."""
    from scipy import stats

    from invariants.modelcheck.mean_offset import mean_t_test

    x = np.array([0.3, 0.5, 0.45])
    res = mean_t_test(float(x.mean()), float(x.var()), 3, 1e-4, 0.99)
    assert np.isclose(res.p_value, stats.ttest_1samp(x, 0.0).pvalue, rtol=1e-12) and res.passed
    z_p = 2 * stats.norm.sf(abs(x.mean()) * np.sqrt(3) / x.std())
    assert z_p < 1e-4 < res.p_value  # the z-test would have called it


def test_a_fairseq_sinusoid_table_with_a_zeroed_padding_row_is_a_table():
    """transformers fsmt/modeling_fsmt.py SinusoidalPositionalEmbedding.get_embedding zeroes the padding row: the
    recurrence is read around it (known-bad before: 'nonzero-mean ... check the initializer's arguments' on a fixed
    table); a random table with a zero row is still no table."""
    import math

    from invariants.modelcheck.tables import sinusoid_table

    n, d, pad = 130, 64, 1
    half = d // 2
    f = np.exp(np.arange(half) * -(math.log(10000) / (half - 1)))
    t = np.arange(n)[:, None] * f[None]
    table = np.concatenate([np.sin(t), np.cos(t)], 1).astype(np.float32)
    table[pad] = 0
    assert sinusoid_table(table)
    noise = np.random.default_rng(0).standard_normal((n, d)).astype(np.float32)
    noise[pad] = 0
    assert not sinusoid_table(noise)


def test_one_row_is_not_called_collinear():
    """The error argues from pairs of rows: a one-unit weight far from 0 is a note (reviewer: a 1x2 weight was an
    error)."""
    from types import SimpleNamespace

    from invariants.layers import Dense
    from invariants.modelcheck.mean_offset import nonzero_mean

    class Layout:
        @staticmethod
        def out_matrix(v):
            return v.reshape(v.shape[0], -1)

    one = np.full((1, 400), 3.0) + np.random.default_rng(0).standard_normal((1, 400)) * 0.1
    u = SimpleNamespace(values=one, param=SimpleNamespace(value=one, name="w", layout=Layout()), label="w",
                        layer=Dense(400, 1))
    row = SimpleNamespace(mean=float(one.mean()), variance=float(one.var()), n=one.size, fans=(400, 1), layer="dense")
    f = nonzero_mean(u, row, 0.0, 1e-6, 0.99)
    assert f is not None and f.severity == "note"
    two = np.vstack([one, one[:, ::-1]])
    u2 = SimpleNamespace(values=two, param=SimpleNamespace(value=two, name="w", layout=Layout()), label="w",
                         layer=Dense(400, 2))
    row2 = SimpleNamespace(mean=float(two.mean()), variance=float(two.var()), n=two.size, fans=(400, 2), layer="dense")
    assert nonzero_mean(u2, row2, 0.0, 1e-6, 0.99).severity == "error"
