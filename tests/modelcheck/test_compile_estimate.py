"""check-model's time estimate counts the XLA compile of a JAX-traced probe, and says it assumes a cold cache.

A Keras-on-JAX, Flax or Equinox probe with an output of more than 2 axes jits its whole forward and backward
pass (:func:`invariants.frameworks.jax.probe.perturbed_pass`, the Equinox probe); on a cold compile cache XLA's
compile dominated (a Keras DenseNet121 on 64x64: 96 s cold, 49.6 s of it compiling, against an estimate of
19 s).  :func:`invariants.modelcheck.cost.estimate` adds ``SECONDS_PER_COMPILED_LAYER`` a layer of that
program.  These tests hold the estimate's properties, not timings: the term is there exactly when the probe
compiles (known-bad: a dense-only model run op by op, torch, ``probe=False``), grows with the layers, is
stated in the note with the figure without it, and the estimate compiles nothing itself (the Keras cases:
``test_modelcheck_keras_flax.py``, beside the other Keras estimate tests and their fixture).
"""
from __future__ import annotations

import sys

import pytest

from invariants.modelcheck.cost import compile_note, estimate, shape_pass


def test_flax_and_equinox_conv_probes_get_the_term():
    jax = pytest.importorskip("jax")
    nn = pytest.importorskip("flax.linen")
    eqx = pytest.importorskip("equinox")

    class CNN(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Conv(8, (3, 3))(x))
            return nn.Dense(4)(x.mean(axis=(1, 2)))

    x = jax.numpy.zeros((4, 8, 8, 3))
    m = CNN()
    flax_model = (m, m.init(jax.random.PRNGKey(0), x))
    assert shape_pass(flax_model, x)[1] >= 2 and "XLA compile" in estimate(flax_model, 2**20, x)[1]
    conv = eqx.nn.Conv2d(3, 8, 3, key=jax.random.PRNGKey(0))
    xe = jax.numpy.zeros((4, 3, 8, 8))
    assert shape_pass(conv, xe)[1] == 1 and "XLA compile" in estimate(conv, 2**20, xe)[1]
    dense = eqx.nn.Linear(6, 4, key=jax.random.PRNGKey(0))  # known-bad: per example 1 axis, run op by op
    assert shape_pass(dense, jax.numpy.zeros((4, 6)))[1] == 0


def test_the_note_says_where_the_cache_is_or_that_none_is_set(monkeypatch):
    pytest.importorskip("jax")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/some/cache")
    monkeypatch.setitem(sys.modules, "jax", None)
    assert "/some/cache" in compile_note(3.0, 10, 2.0) and "about 2" in compile_note(3.0, 10, 2.0)
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    assert "no persistent compile cache is set" in compile_note(3.0, 10, 2.0)
