"""The optimizers' packed update (all tensors in one vector, invariants.reference.optimizers) against the
per-tensor update, bit for bit: parameters and state of every optimizer, both dtypes, weight decay, clipping,
signed zeros, NaN; the fallback for mixed dtypes; and the mutation self-test showing the comparison can fail."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invariants.reference import OPTIMIZERS, make_optimizer
from invariants.reference.optimizers import Optimizer

SHAPES = {"W1": (3, 2), "b1": (3,), "g1": (3,), "W2": (1, 3), "b2": (1,)}


def _trajectory(name: str, dtype, seed: int, steps: int = 5, **kwargs):
    rng = np.random.default_rng(seed)
    opt = make_optimizer(name, lr=0.03, **kwargs)
    p = {k: rng.normal(size=s).astype(dtype) for k, s in SHAPES.items()}
    out = []
    for step in range(steps):
        g = {k: (rng.normal(size=s) * 10.0 ** rng.integers(-8, 3)).astype(dtype) for k, s in SHAPES.items()}
        g["W1"][0, 0], p["b1"][0] = -0.0, -0.0
        if step == 3:
            g["b2"][0] = np.nan
        p = opt.step(p, g)
        out.append({k: v.copy() for k, v in p.items()})
        out.append({f"{slot}/{k}": v.copy() for slot, tree in opt.state.items() for k, v in tree.items()})
    return out


def _same(a, b) -> bool:
    return all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes()
               for k in a) and a.keys() == b.keys()


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(OPTIMIZERS), dtype=st.sampled_from((np.float32, np.float64)),
       seed=st.integers(0, 2**32 - 1), decay=st.sampled_from((0.0, 0.01)), clip=st.sampled_from((None, 0.5)))
def test_packed_update_is_the_per_tensor_update_bit_for_bit(name, dtype, seed, decay, clip):
    packed = _trajectory(name, dtype, seed, weight_decay=decay, clip_norm=clip)
    reference = _trajectory(name, dtype, seed, weight_decay=decay, clip_norm=clip, pack=False)
    assert all(_same(a, b) for a, b in zip(packed, reference))


def test_state_replaced_between_steps_is_repacked():
    # a state slot replaced from outside (as reference.runs.take_optimizer does) is packed again, not ignored
    rng = np.random.default_rng(0)
    p = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    g = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    a, b = make_optimizer("adam"), make_optimizer("adam", pack=False)
    a.step(p, g), b.step(p, g)
    for opt in (a, b):
        opt.state["exp_avg"] = {k: 2 * v for k, v in opt.state["exp_avg"].items()}
    assert _same(a.step(p, g), b.step(p, g))


def test_mixed_dtypes_take_the_per_tensor_update():
    # packing float32 and float64 tensors together would promote the float32 ones: refused
    rng = np.random.default_rng(1)
    p = {"W": rng.normal(size=(2, 2)).astype(np.float32), "b": rng.normal(size=2)}
    g = {k: rng.normal(size=v.shape).astype(v.dtype) for k, v in p.items()}
    new = make_optimizer("adam").step(p, g)
    assert new["W"].dtype == np.float32 and new["b"].dtype == np.float64
    assert _same(new, make_optimizer("adam", pack=False).step(p, g))


def test_comparison_rejects_a_packed_update_in_float64(monkeypatch):
    # mutation self-test: a packed update computed in float64 and rounded back differs from the float32
    # per-tensor update in the last bits, and the comparison says so
    real = Optimizer.update

    def wide(self, params, grads, state):
        if next(iter(params)) != "*":
            return real(self, params, grads, state)
        promoted = {k: {n: v.astype(np.float64) for n, v in t.items()} for k, t in state.items()}
        new = real(self, {"*": params["*"].astype(np.float64)}, {"*": grads["*"].astype(np.float64)}, promoted)
        state.update({k: {n: v.astype(np.float32) for n, v in t.items()} for k, t in promoted.items()})
        return {"*": new["*"].astype(np.float32)}

    monkeypatch.setattr(Optimizer, "update", wide)
    packed = _trajectory("adam", np.float32, 3)
    monkeypatch.setattr(Optimizer, "update", real)
    assert not all(_same(a, b) for a, b in zip(packed, _trajectory("adam", np.float32, 3, pack=False)))
