"""Auditing initializers on vectors, scalars, zero-size layers and multi-axis kernels (issue 14, gap 1).

Each new layer kind gets a faulty case (wrong fans: the audit fails) and a correct one (it passes).  The
family-wise alpha of each run is the auditor's default 1e-4 (per check <= 1e-6); seeds are fixed.
"""
from __future__ import annotations

import math

import pytest

from invariants import audit
from invariants.core.errors import BadInput

MHA_Q = "kernel(shape=(64,4,16),in_axes=(0,),out_axes=(1,2))"  # textbook fans (64, 64); shape rule (256, 1024)
CFG = audit.AuditConfig(base_seed=3)
#: vectors and scalars: 5% resolution and at most 2,000 draws.  At the default 1% a scalar takes all of
#: max_draws (20,000 framework calls, ~1 ms each through Keras/JAX: 20-40 s per test); the faults below are
#: off by 4x to 64x in variance, and the fans are asserted directly
VECTOR_CFG = audit.AuditConfig(base_seed=3, rel_error=0.05, min_bounded_n=20_000, max_draws=2_000)


def he_uniform_fan(fan_in):
    def init(shape, rng):
        b = math.sqrt(6.0 / fan_in)
        return rng.uniform(-b, b, size=shape)
    return init


def test_zero_size_layer_is_skipped_not_passed():
    rep = audit.initializer(he_uniform_fan(1), expect="he_uniform", layer=["dense(0,4)", "conv2d(8,0,k=3)"],
                            framework="numpy", config=CFG)
    assert [r.verdict for r in rep.results] == ["skipped", "skipped"]
    assert rep.results[0].message == "0 values: nothing to audit (shape (4, 0))" and rep.results[0].n == 0
    assert all(r.verdict != "conforms" for r in rep.results) and rep.ok  # not checked, not an error


def test_kernel_fans_faulty_and_correct():
    """Correct: fan_in = prod(in sizes) = 64.  Faulty: the conv-style shape rule's fan_in 4*64 = 256."""
    good = audit.initializer(he_uniform_fan(64), expect="he_uniform", layer=MHA_Q, framework="numpy", config=CFG)
    assert good.results[0].verdict == "conforms", good.results[0].message
    assert good.results[0].fans_textbook == (64, 64)
    bad = audit.initializer(he_uniform_fan(256), expect="he_uniform", layer=MHA_Q, framework="numpy", config=CFG)
    (r,) = bad.results
    assert r.verdict == "deviates" and "fan 256" in r.explanation, r.message  # numpy callables: no framework rule


def _keras():
    """keras, imported after the adapter chose its backend (a bare import would pick TensorFlow)."""
    from invariants.core.errors import FrameworkUnavailable
    from invariants.frameworks.registry import get_framework

    try:
        get_framework("keras", "initializers").support("invariants.frameworks.keras.initializers")
    except FrameworkUnavailable as exc:
        pytest.skip(str(exc))
    import keras

    return keras


def test_keras_bare_call_on_a_kernel_is_a_documented_deviation():
    """A bare Keras initializer call reads the shape (rank >= 3: leading dims are receptive field), not the
    kernel's axes: documented-deviation with Keras' rule as the reference, never a false accusation."""
    keras = _keras()

    rep = audit.initializer(keras.initializers.HeUniform(), expect="he_uniform", layer=MHA_Q, framework="keras",
                            config=CFG)
    (r,) = rep.results
    assert r.verdict == "documented-deviation", r.message
    assert r.fans_framework == (256, 1024) and "compute_fans called without input/output axes" in r.reference


def test_keras_vector_uses_keras_fans():
    """Keras compute_fans gives a 1-D shape fans (n, n): HeUniform on vector(64) is U(+-sqrt(6/64));
    faulty: an initializer that uses fan 1 on a vector is caught."""
    keras = _keras()

    rep = audit.initializer(keras.initializers.HeUniform(), expect="he_uniform", layer=["vector(64)", "scalar()"],
                            framework="keras", config=VECTOR_CFG)
    assert [r.verdict for r in rep.results] == ["conforms", "conforms"], [r.message for r in rep.results]
    assert rep.results[0].fans_framework == (64, 64) and rep.results[1].fans_framework == (1, 1)
    # He uniform on fan 1 whatever the shape (a fault): U(+-sqrt(6))
    bad = audit.initializer(keras.initializers.RandomUniform(-math.sqrt(6), math.sqrt(6)), expect="he_uniform",
                            layer="vector(64)", framework="keras", config=VECTOR_CFG)
    (r,) = bad.results
    assert r.verdict == "deviates" and "he_uniform on fans (64, 64)" in r.message and r.ratio > 50, r.message


def test_torch_vector_fixed_laws_audit_and_fan_based_refused():
    torch = pytest.importorskip("torch")
    rep = audit.initializer(torch.nn.init.zeros_, layer=["vector(64)", "scalar()"], framework="torch", config=VECTOR_CFG)
    assert [r.verdict for r in rep.results] == ["conforms", "conforms"]
    rep = audit.initializer(torch.nn.init.normal_, layer="vector(64)", framework="torch", config=VECTOR_CFG)
    assert rep.results[0].verdict == "conforms"
    faulty = audit.initializer(lambda t: torch.nn.init.normal_(t, std=2.0), expect="normal(std=1)", layer="vector(64)",
                               framework="torch", config=VECTOR_CFG)
    assert faulty.results[0].verdict == "deviates"
    with pytest.raises(BadInput) as exc:
        audit.initializer(torch.nn.init.kaiming_uniform_, layer="vector(64)", framework="torch", config=VECTOR_CFG)
    assert str(exc.value) == (
        "he_uniform is fan-based and vector(64) has no fans: a 1-D tensor connects nothing (no textbook fans) and "
        "torch computes no fans for a tensor with fewer than 2 dims (torch.nn.init._calculate_fan_in_and_fan_out "
        "raises ValueError); expect a fixed law instead (zeros, ones, normal(std=...), uniform(a,b))")


def test_jax_vector_fan_based_refused_with_jax_reason():
    pytest.importorskip("jax")
    import jax

    with pytest.raises(BadInput, match=r"jax.nn.initializers computes no fans .*\(_compute_fans raises ValueError"):
        audit.initializer(jax.nn.initializers.he_uniform(), expect="he_uniform", layer="vector(8)", framework="jax")
