"""The scale check's cost estimate (invariants.scaling.cost): exact parameter counts from meta-device builds,
nothing allocated, a fallback for a factory that refuses the meta device, and the time's structure (a fixed
term, a term per model run, one per compile, the floating-point operations with each layer counted once).
How close the time is to the time taken is measured in benchmarks/scale_cost.py, not here."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from invariants.scaling import examples as E  # noqa: E402
from invariants.frameworks.torch.scaling import meta_size  # noqa: E402
from invariants.scaling.cost import COPIES, estimate, seconds  # noqa: E402
from invariants.scaling.target import builder  # noqa: E402


def params(n):  # Linear(16, n) + 2 Linear(n, n) + Linear(n, 64), no biases
    return 16 * n + 2 * n * n + 64 * n


def test_the_estimate_counts_every_parameter_without_building_it():
    build = builder(E.mlp_sp, "mlp_sp")
    assert meta_size(build, 100_000)[0] == params(100_000)      # 2e10 values: only shapes on meta
    cost = estimate(build, [64, 128], seeds=3, steps=[0, 1], batch=8, optimizer="adam")
    assert cost.values == 3 * (params(64) + params(128))
    assert cost.bytes >= 4 * COPIES["adam"] * params(128)


def refuses_meta(width):
    if torch.empty(1).device.type == "meta":
        raise RuntimeError("needs real tensors")
    return E.mlp_sp(width)


def test_a_factory_that_refuses_meta_is_estimated_by_scaling():
    cost = estimate(builder(refuses_meta, "refuses_meta"), [64, 128], seeds=1, steps=[0], batch=8, optimizer="sgd")
    # built for real at 64, scaled by (128/64)² to 128: an overestimate for the linear terms, never zero
    assert cost.values == params(64) + 4 * params(64)


@pytest.mark.parametrize("steps", [[0], [0, 2]])
def test_the_time_estimate_counts_the_run_s_floating_point_work_with_depth_mode_s_gradient_pass(steps):
    """The time estimate is the run's floating-point operations / FLOPS: against torch's own count of every
    operation of the run (``FlopCounterMode``, deterministic, unlike a timing) it is within 5% on a small
    depth-mode case, the gradient pass included.  Known-bad: without the gradient pass it was 4x low for
    ``--steps 0`` (2 of 8 operations per parameter and example counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    from invariants.scaling.cost import FLOPS
    from invariants.scaling.engine import measure
    from invariants.scaling.target import identify

    build = builder(E.mlp_depth_he, "mlp_depth_he", "depth", 32)
    runner = identify(build, 2, "mlp_depth_he")
    sizes, seeds, batch = [2, 4], 1, 16
    est = estimate(build, sizes, seeds, steps, batch, "sgd", runner, gradients=True)
    without = estimate(build, sizes, seeds, steps, batch, "sgd", runner)
    with FlopCounterMode(display=False) as counted:
        measure(runner, build, sizes, seeds, steps, "sgd", 0.1, batch, None, 0, {}, gradients=True)
    models = seeds * len(sizes)
    ratio = counted.get_total_flops() / ((est.seconds - seconds(models, 0.0)) * FLOPS)
    assert 0.95 <= ratio <= 1.05, ratio
    if steps == [0]:
        assert counted.get_total_flops() / ((without.seconds - seconds(models, 0.0)) * FLOPS) > 3.5


def test_the_time_estimate_has_a_fixed_term_a_term_per_model_and_counts_each_layer_once():
    """The estimate of a depth run is SECONDS_FIXED + SECONDS_PER_MODEL per (seed, depth) + its floating-point
    operations / FLOPS, where a depth-L model of ``mlp_depth`` has ``16·w + L·w² + 64·w`` weights, each counted
    once per pass (a recorded forward: 2 operations per weight and example; the gradient pass: 6).  Known-bad:
    the estimate without the fixed and per-model terms put a tiny run (0.5 s of fixed costs) at 4 ms."""
    from invariants.scaling.cost import FLOPS, SECONDS_FIXED, SECONDS_PER_MODEL
    from invariants.scaling.target import identify

    assert SECONDS_FIXED > 0 and SECONDS_PER_MODEL > 0
    w, depths, seeds, batch = 16, [2, 4], 4, 8
    build = builder(E.mlp_depth_he, "mlp_depth_he", "depth", w)
    runner = identify(build, 2, "mlp_depth_he")
    est = estimate(build, depths, seeds, [0], batch, "sgd", runner, gradients=True)
    weights = sum(16 * w + depth * w * w + 64 * w for depth in depths)
    flops = seeds * (2 + 6) * batch * weights
    assert est.seconds == pytest.approx(SECONDS_FIXED + SECONDS_PER_MODEL * seeds * len(depths) + flops / FLOPS)
    assert est.seconds >= SECONDS_FIXED  # a tiny run is never estimated below its fixed costs


def test_a_runner_that_compiles_is_charged_a_compile_per_size():
    """Flax and Keras compile a program per size (``ScalingRunner.compiles``), torch does not: the same work
    estimated for a compiling runner costs SECONDS_PER_COMPILE more per size, no more per seed."""
    from invariants.frameworks.jax.coordcheck import JaxRunner
    from invariants.frameworks.runner import ScalingRunner
    from invariants.scaling.cost import SECONDS_PER_COMPILE
    from invariants.scaling.target import identify

    assert JaxRunner.compiles and not ScalingRunner.compiles
    build = builder(E.mlp_sp, "mlp_sp")
    runner = identify(build, 8, "mlp_sp")
    assert not runner.compiles

    class Compiling(type(runner)):
        compiles = True

    a = estimate(build, [8, 16, 32], 4, [0], 8, "sgd", runner)
    b = estimate(build, [8, 16, 32], 4, [0], 8, "sgd", Compiling())
    assert b.seconds - a.seconds == pytest.approx(3 * SECONDS_PER_COMPILE)
    assert seconds(10, 0.0, 2) - seconds(10, 0.0) == pytest.approx(2 * SECONDS_PER_COMPILE)
