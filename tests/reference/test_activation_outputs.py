"""φ' from the activation's output (Activation.df_out, used by the backward pass) against φ' from its
input (Activation.df), bit for bit: both dtypes, 80 binades, ±0, ±∞, NaN; and the mutation self-test."""
from __future__ import annotations

import numpy as np

from invariants.reference.activations import ACTIVATIONS, Activation


def _inputs():
    for seed in range(400):
        rng = np.random.default_rng(seed)
        dtype = (np.float32, np.float64)[seed % 2]
        z = (rng.normal(size=int(rng.integers(1, 3000))) * 10.0 ** rng.integers(-40, 3)).astype(dtype)
        z[: min(5, z.size)] = [0.0, -0.0, np.nan, np.inf, -np.inf][: min(5, z.size)]
        yield z


def _agrees(act: Activation) -> bool:
    with np.errstate(all="ignore"):
        return all(act.df(z).tobytes() == act.df_out(act.f(z)).tobytes() and act.df(z).dtype == act.df_out(act.f(z)).dtype
                   for z in _inputs())


def test_derivative_from_output_is_the_derivative_bit_for_bit():
    given = [a for a in ACTIVATIONS.values() if a.df_out is not None]
    assert {a.name for a in given} == {"identity", "sigmoid", "tanh", "relu"}
    assert all(_agrees(a) for a in given)


def test_comparison_rejects_another_arithmetic():
    # mutation self-test: (1 − y)(1 + y) is tanh' in exact arithmetic, not the same floats as 1 − y²
    tanh = ACTIVATIONS["tanh"]
    assert not _agrees(Activation("tanh", tanh.f, tanh.df, df_out=lambda y: (1 - y) * (1 + y)))
