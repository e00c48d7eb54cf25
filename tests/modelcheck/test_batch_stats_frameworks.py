"""The batch-statistics rule (:mod:`invariants.modelcheck.batchstats`) for Flax, MLX and Equinox, and the
per-sample group statistics of their GroupNorms (Keras' ``GroupNormalization``: ``test_batch_stats.py``, beside
its BatchNormalization cases).

What each probe runs (found with the tiny nets below, 1x1 spatial, a few inputs):

- Flax linen ``BatchNorm(use_running_average=False)`` (set on the module, or by the model from an ``apply_kwargs``
  flag) normalises by the batch: an 18-deep ``Conv1x1 -> BatchNorm -> relu`` chain at Flax's own init
  (``flax/linen/linear.py``, ``Conv``: ``lecun_normal`` kernels; ``BatchNorm``: scale 1, bias 0) got an error
  "3.62e+05x growth towards the input" at 4 inputs and "1.66e+06x decay" at 2; healthy at 64.  With
  ``use_running_average=True`` it uses ``batch_stats`` (identity at init) and nothing is recorded.  nnx modules
  are not read by the model check (linen only).
- MLX ``nn.BatchNorm`` is in training mode from construction (``Module.training``): the same chain at MLX's init
  (``mlx/nn/layers/convolution.py``, ``Conv2d``: ``U(±1/sqrt(fan_in))``) got "1.69e+07x growth" at 2 inputs and
  "8.91e+06x" at 4; the pass also moved the model's running statistics, which the probe now restores.
- Equinox ``eqx.nn.BatchNorm`` needs a ``State`` and, in training mode, the vmap axis its ``axis_name`` names; the
  probe's vmap binds none, so the probe fails and the report says the signal was not checked (incomplete, never
  silently healthy); in inference mode it runs on running statistics (identity at init), nothing recorded.
- GroupNorm (Flax, Equinox, MLX, Keras) normalises per sample: at 1 value per group the output is its shift alone.

Known-good: enough values decide (healthy).  Too small: not decided, incomplete.  Known-bad: a tail of 12
He-normal layers at 3x std after the normalizations stays an error with enough values.
"""
from __future__ import annotations

import numpy as np
import pytest

from invariants.modelcheck import check_model
from invariants.render import render_model
from tests.zoo._compat import available


def _signal_errors(report):
    return {f.kind for f in report.errors if f.kind in ("signal-forward", "signal-backward")}


def _not_decided(report, opening: str):
    assert not report.errors and report.status == "incomplete", render_model(report)
    assert report.coverage.signal.startswith(opening), report.coverage.signal


# -------------------------------------------------------------------------------------------------- flax


@pytest.fixture(scope="module")
def flax():
    if not available("flax"):
        pytest.skip("needs flax")
    import flax.linen as nn
    import jax

    class Chain(nn.Module):
        layers: int = 18
        tail_gain: float = 0.0

        @nn.compact
        def __call__(self, x, train: bool = True):
            x = nn.Conv(32, (1, 1))(x)
            for _ in range(self.layers):
                x = nn.relu(nn.BatchNorm(use_running_average=not train)(nn.Conv(32, (1, 1))(x)))
            x = x.reshape(x.shape[0], -1)
            for _ in range(12 if self.tail_gain else 0):  # He-normal x gain: 3x std is the planted fault
                init = nn.initializers.variance_scaling(2.0 * self.tail_gain ** 2, "fan_in", "normal")
                x = nn.relu(nn.Dense(32, kernel_init=init)(x))
            return nn.Dense(10)(x)

    class Groups(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.GroupNorm(num_groups=8)(nn.Conv(32, (1, 1))(x))
            return nn.InstanceNorm()(nn.Conv(32, (1, 1))(nn.relu(x))).mean(axis=(1, 2))

    def target(module, batch, side=1, **kw):
        x = jax.random.normal(jax.random.key(1), (batch, side, side, 3))
        return {"module": module, "variables": module.init(jax.random.key(0), x), "input": x, **kw}

    return Chain, Groups, target


def test_flax_probe_records_batch_norms_on_batch_statistics_and_group_norms(flax):
    from invariants.frameworks.flax.model import view

    Chain, Groups, target = flax
    t = target(Chain(layers=2), 4)
    stats = view(t["module"], t["variables"], "chain", t["input"]).probe.batch_stats
    assert [(b.name, b.values, b.kind, b.after) for b in stats] == [("BatchNorm_0", 4, "batch", "Conv_1"),
                                                                   ("BatchNorm_1", 4, "batch", "Conv_2")]
    # train=False: use_running_average=True, the running averages (identity at init), no batch statistic
    assert view(t["module"], t["variables"], "chain", t["input"], apply_kwargs={"train": False}).probe.batch_stats == []
    t = target(Groups(), 2, side=3)
    stats = view(t["module"], t["variables"], "groups", t["input"]).probe.batch_stats
    assert [(b.name, b.values, b.kind, b.channels, b.layer) for b in stats] == [
        ("GroupNorm_0", 4 * 9, "group", 4, "GroupNorm"), ("InstanceNorm_0", 9, "group", 1, "InstanceNorm")]
    # on (N, C) no input size changes the count: not recorded (BatchStat), the model is measured as it is
    import flax.linen as nn
    import jax

    flat, x = nn.Sequential([nn.Dense(8), nn.GroupNorm(num_groups=4), nn.Dense(2)]), jax.numpy.ones((4, 3))
    assert view(flat, flat.init(jax.random.key(0), x), "flat", x).probe.batch_stats == []


def test_flax_small_batch_is_not_decided_big_batch_decides_and_a_fault_stays_an_error(flax):
    Chain, _, target = flax
    _not_decided(check_model(target(Chain(), 4), name="flax_b4"),
                 "not decided: the probe batch is too small for BatchNorm BatchNorm_")
    good = check_model(target(Chain(), 64), name="flax_b64")
    assert good.status == "healthy" and good.coverage.signal is None, render_model(good)
    bad = check_model(target(Chain(tail_gain=3.0), 64), name="flax_tail3x")
    assert _signal_errors(bad) == {"signal-forward", "signal-backward"} and bad.coverage.signal is None


# --------------------------------------------------------------------------------------------------- mlx


@pytest.fixture(scope="module")
def mlx():
    if not available("mlx"):
        pytest.skip("needs mlx")
    import mlx.core as mx
    import mlx.nn as nn

    from invariants.frameworks.mlx.initializers import Seeded

    def chain(layers=18, c=32, tail_gain=0.0):
        with Seeded(0):
            body = [nn.Conv2d(3, c, 1)]
            for _ in range(layers):
                body += [nn.Conv2d(c, c, 1), nn.BatchNorm(c), nn.ReLU()]
            for i in range(12 if tail_gain else 0):
                conv = nn.Conv2d(c, c, 1)  # He-normal x gain
                conv.weight = mx.random.normal(conv.weight.shape) * (tail_gain * (2.0 / c) ** 0.5)
                body += [conv, nn.ReLU()]
            return nn.Sequential(*body, nn.Conv2d(c, 10, 1))

    def x(batch, side=1):
        return np.random.default_rng(1).standard_normal((batch, side, side, 3)).astype("float32")

    return nn, chain, x


def test_mlx_probe_records_training_batch_norms_and_restores_their_running_statistics(mlx):
    from invariants.frameworks.mlx.model import view

    nn, chain, x = mlx
    model = chain(layers=2)
    before = np.array(model.layers[2].running_var)
    stats = view(model, "chain", x(4)).probe.batch_stats
    assert [(b.name, b.values, b.kind, b.after) for b in stats] == [("layers.2", 4, "batch", "layers.1"),
                                                                   ("layers.5", 4, "batch", "layers.4")]
    assert np.array_equal(np.array(model.layers[2].running_var), before)  # main moved them (momentum 0.1)
    assert type(model.layers[2]) is nn.BatchNorm
    model.eval()  # running statistics: nothing normalises by the batch
    assert view(model, "chain", x(4)).probe.batch_stats == []
    groups = nn.Sequential(nn.Conv2d(3, 8, 1), nn.GroupNorm(4, 8), nn.Conv2d(8, 8, 1), nn.InstanceNorm(8))
    stats = view(groups, "groups", x(2, side=3)).probe.batch_stats
    assert [(b.name, b.values, b.channels, b.layer) for b in stats] == [("layers.1", 2 * 9, 2, "GroupNorm"),
                                                                       ("layers.3", 9, 1, "InstanceNorm")]
    # on (N, C) no input size changes the count: not recorded (BatchStat), the model is measured as it is
    flat = nn.Sequential(nn.Linear(3, 8), nn.GroupNorm(4, 8), nn.Linear(8, 2))
    assert view(flat, "flat", x(4)[:, 0, 0, :]).probe.batch_stats == []


def test_mlx_module_shared_under_two_names_gets_its_own_class_back(mlx):
    """A norm and a layer reachable under two names (``self.m = self.n``) were swapped twice and restored in
    the order swapped, which left the probe's recording class on the user's module (known-bad: main kept
    ``ProbedLinear``); each is now swapped once and the user's classes come back."""
    from invariants.frameworks.mlx.model import view

    nn, _, x = mlx

    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 4, 1)
            self.n = nn.BatchNorm(4)
            self.m = self.n
            self.b = self.a_again = nn.Conv2d(4, 4, 1)

        def __call__(self, h):
            return self.a_again(self.m(self.b(self.n(self.a(h)))))

    net = Shared()
    assert view(net, "shared", x(8, side=2)).probe is not None
    assert type(net.n) is nn.BatchNorm and type(net.m) is nn.BatchNorm
    assert type(net.b) is nn.Conv2d and type(net.a_again) is nn.Conv2d and type(net.a) is nn.Conv2d


def test_mlx_small_batch_is_not_decided_big_batch_decides_and_a_fault_stays_an_error(mlx):
    _, chain, x = mlx
    _not_decided(check_model((chain(), x(4)), name="mlx_b4"), "not decided: the probe batch is too small for BatchNorm layers.")
    good = check_model((chain(), x(64)), name="mlx_b64")
    assert not good.errors and good.coverage.signal is None, render_model(good)
    bad = check_model((chain(tail_gain=3.0), x(64)), name="mlx_tail3x")
    assert _signal_errors(bad) and bad.coverage.signal is None, render_model(bad)


# ----------------------------------------------------------------------------------------------- equinox


@pytest.fixture(scope="module")
def eqx():
    if not available("equinox"):
        pytest.skip("needs equinox")
    import equinox as eqx
    import jax

    class Groups(eqx.Module):
        """``Conv1x1 -> GroupNorm(32, 32) -> relu`` twice (Equinox's init: ``equinox/nn/_conv.py``, ``Conv``:
        ``U(±1/sqrt(fan_in))``; ``GroupNorm``: weight 1, bias 0), then 12 He-normal ``Conv1x1 -> relu`` x gain."""

        convs: list
        norms: list
        tail: list
        head: eqx.nn.Linear

        def __init__(self, side: int, gain: float = 1.0, c: int = 32):
            ks = jax.random.split(jax.random.key(0), 15)
            self.convs = [eqx.nn.Conv2d(3, c, 1, key=ks[0]), eqx.nn.Conv2d(c, c, 1, key=ks[1])]
            self.norms = [eqx.nn.GroupNorm(c, c), eqx.nn.GroupNorm(c, c)]
            he = jax.nn.initializers.he_normal(in_axis=1, out_axis=0)
            self.tail = [eqx.tree_at(lambda m: m.weight, cv, gain * he(k, cv.weight.shape))
                         for k, cv in ((k, eqx.nn.Conv2d(c, c, 1, key=k)) for k in ks[2:14])]
            self.head = eqx.nn.Linear(c * side * side, 10, key=ks[14])

        def __call__(self, x):
            for cv, n in zip(self.convs, self.norms):
                x = jax.nn.relu(n(cv(x)))
            for cv in self.tail:
                x = jax.nn.relu(cv(x))
            return self.head(x.reshape(-1))

    class BN(eqx.Module):
        conv: eqx.nn.Conv2d
        bn: eqx.nn.BatchNorm
        head: eqx.nn.Linear

        def __init__(self):
            k1, k2 = jax.random.split(jax.random.key(0))
            self.conv, self.head = eqx.nn.Conv2d(3, 8, 1, key=k1), eqx.nn.Linear(8, 2, key=k2)
            self.bn = eqx.nn.BatchNorm(8, axis_name="batch", mode="batch")

        def __call__(self, x, state):
            h, state = self.bn(self.conv(x), state)
            return self.head(h.reshape(-1)), state

    def x(batch, side):
        return jax.random.normal(jax.random.key(1), (batch, 3, side, side))

    return eqx, Groups, BN, x


def test_equinox_group_norm_of_one_value_is_not_decided_and_enough_values_decide(eqx):
    from invariants.frameworks.equinox.model import view

    _, Groups, _, x = eqx
    stats = view(Groups(4), "gn", x(8, 4)).probe.batch_stats
    assert [(b.name, b.values, b.channels, b.after) for b in stats] == [("norms.0", 16, 1, "convs.0"),
                                                                       ("norms.1", 16, 1, "convs.1")]
    # main: an error "the model output is the same for all 8 probe inputs: the signal is cut at init"
    _not_decided(check_model((Groups(1), x(8, 1)), name="eqx_gn_1x1"),
                 "not decided: the probe input is too small for GroupNorm norms.0 (1 value per group")
    good = check_model((Groups(4), x(8, 4)), name="eqx_gn_4x4")
    assert good.status == "healthy" and good.coverage.signal is None, render_model(good)
    bad = check_model((Groups(4, gain=3.0), x(8, 4)), name="eqx_gn_tail3x")
    assert _signal_errors(bad) == {"signal-forward", "signal-backward"} and bad.coverage.signal is None


def test_equinox_batch_norm_in_training_mode_is_not_checked_and_inference_mode_records_nothing(eqx):
    from invariants.frameworks.equinox.model import view

    eq, _, BN, x = eqx
    model, state = eq.nn.make_with_state(BN)()
    report = check_model({"model": model, "input": x(4, 1), "apply_kwargs": {"state": state}}, name="eqx_bn")
    assert report.status == "incomplete" and report.coverage.signal.startswith("not checked: the probe pass failed")
    assert "unbound axis name" in report.coverage.signal
    report = check_model({"model": model, "input": x(4, 1)}, name="eqx_bn_nostate")  # __call__ needs its state
    assert report.coverage.signal.startswith("not checked: the probe pass failed") and "state" in report.coverage.signal
    model, state = eq.nn.make_with_state(BN)()
    probe = view(eq.nn.inference_mode(model), "eqx_bn_inference", x(4, 1), apply_kwargs={"state": state}).probe
    assert probe is not None and probe.signals and probe.batch_stats == []
