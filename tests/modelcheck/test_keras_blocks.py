"""Keras names the first instance of a block without a counter (issue 17): ``block``, then ``block_1``, ``block_2``
(``keras.src.backend.common.global_state.uniquify``).  The block-role rule groups the first block with the
numbered ones.

Textbook: ``keras.layers.Dense`` default ``kernel_initializer="glorot_uniform"`` (keras/src/layers/core/dense.py):
every role of the block below shares ``U(±sqrt(6/(64+64)))``.  Known-bad: role ``d`` at 10x std in every block is a
``peer-scale`` error in each of the 4 blocks, the unnumbered first one included (before: only blocks 1-3; the first
was a note).  Known-good: the library init gets no finding; flat single layers (``dense``, ``dense_1``) stay no
blocks.
"""
from __future__ import annotations

import pytest

from invariants.modelcheck.block_roles import path_blocks
from tests.zoo._compat import available


def test_the_bare_stem_is_instance_zero_beside_numbered_ones():
    names = [f"{b}/{r}/kernel" for b in ("block", "block_1", "block_2") for r in ("a", "b")]
    names += ["dense/kernel", "dense_1/kernel", "dense_1/bias", "solo/a/kernel", "solo/b/kernel"]
    got = path_blocks(names)
    assert got["block/a/kernel"] == ("block", "a/kernel") and got["block_2/b/kernel"] == ("block_2", "b/kernel")
    # one layer per component is no block; a bare name with no numbered sibling is no instance of anything
    assert set(got) == set(names[:6])
    # Flax numbers every instance (Blk_0, Blk_1): a bare Blk beside them is not read as a third
    flax = ["params/Blk_0/a/kernel", "params/Blk_0/b/kernel", "params/Blk_1/a/kernel", "params/Blk_1/b/kernel",
            "params/Blk/a/kernel", "params/Blk/b/kernel"]
    assert set(path_blocks(flax)) == set(flax[:4])


def test_two_instances_are_two_blocks():
    # reviewer: block and block_1 alone gave only 'block' (the bare stem's instance 0 was not counted among the
    # numbered ones), so a fault in block_1 was a note where the same fault in block was an error
    names = [f"{b}/{r}/kernel" for b in ("block", "block_1") for r in ("a", "b")]
    got = path_blocks(names)
    assert got == {n: (n.split("/")[0], n.split("/", 1)[1]) for n in names}


def _keras(scale_d: float = 1.0, n_blocks: int = 4):
    import keras

    class Block(keras.layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.a, self.b = keras.layers.Dense(64, activation="relu", name="a"), keras.layers.Dense(64, name="b")
            self.c, self.d = keras.layers.Dense(64, activation="relu", name="c"), keras.layers.Dense(64, name="d")

        def call(self, x):
            x = x + self.b(self.a(x))
            return x + self.d(self.c(x))

    keras.backend.clear_session()  # names count from the bare `block` again in every model built here
    keras.utils.set_random_seed(0)
    inp = keras.Input((64,))
    x, blocks = inp, [Block() for _ in range(n_blocks)]
    for b in blocks:
        x = b(x)
    model = keras.Model(inp, keras.layers.Dense(10)(x))
    for b in blocks:
        b.d.kernel.assign(keras.ops.multiply(b.d.kernel.value, scale_d))
    return model


@pytest.mark.skipif(not available("keras"), reason="keras not installed")
def test_keras_role_at_10x_in_every_block_is_an_error_in_the_first_block_too():
    from invariants.modelcheck import check_model

    rep = check_model(_keras(10.0), probe=False)
    errs = sorted(f.params[0] for f in rep.findings if f.severity == "error" and f.kind == "peer-scale")
    assert errs == ["block/d/kernel", "block_1/d/kernel", "block_2/d/kernel", "block_3/d/kernel"]
    rep = check_model(_keras(), probe=False)
    assert rep.ok and not rep.findings


@pytest.mark.skipif(not available("keras"), reason="keras not installed")
def test_two_keras_blocks_are_judged_alike():
    from invariants.modelcheck import check_model

    rep = check_model(_keras(10.0, n_blocks=2), probe=False)
    errs = sorted(f.params[0] for f in rep.findings if f.severity == "error" and f.kind == "peer-scale")
    assert errs == ["block/d/kernel", "block_1/d/kernel"]
