"""The auditor's streaming path and its cost model (issue 16 "cost model", issue 17 item 2).

- At or under ``AuditConfig.max_pool_values`` an audit is the pooled one bit for bit: statistics, p-values and
  messages pinned against the figures the pooled auditor produced before streaming existed
  (``data/streaming_golden.json``, recorded on main at b4cf0ca with the same seeds; the uniform case's
  ``moment_variance`` p-value re-recorded when that test moved to the saddlepoint tail, issue 17).  Statistics
  and messages are pinned bit for bit; p-values to a relative 1e-6: the saddlepoint tail integrates with NumPy's
  vectorized ``exp``/``log``, whose last bits depend on the CPU's SIMD path (AVX-512 and AVX2 machines differ by
  6e-9 relative in the uniform case's ``moment_variance`` p), far below anything a verdict at alpha <= 1e-6 reads.
- Over it, the same draws streamed give the same verdicts, the same n and the same variance figures (to
  rounding), and the result says which checks read what.
- The cost model counts the values exactly and its peak bounds the memory measured by ``tracemalloc``.
- Over a limit, one line and exit 2 from the command line; ``limits=Limits(None, None)`` turns it off.
"""
from __future__ import annotations

import json
import math
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from invariants import audit, cli
from invariants.audit.auditor import AuditConfig, audit_units, kept_draws, plan, streams
from invariants.audit.costs import DETERMINISM_CALLS, audit_cost, identify_cost, subject_cost
from invariants.cli.common import FLAG_WORDS
from invariants.core.cost import Limits, ResourceLimit
from invariants.frameworks.registry import get_framework
from invariants.frameworks.subjects import Expectation
from invariants.specs import parse_spec

GOLDEN = json.loads((Path(__file__).parent / "data" / "streaming_golden.json").read_text())
ME = __name__


def norm05(shape, rng):
    return rng.normal(0.0, 0.05, size=shape).astype(np.float32)


def norm06(shape, rng):
    return rng.normal(0.0, 0.06, size=shape).astype(np.float32)


def norm_x2(shape, rng):
    return rng.normal(0.0, 0.05 * np.sqrt(2.0), size=shape).astype(np.float32)


def unif05(shape, rng):
    return rng.uniform(-0.05, 0.05, size=shape).astype(np.float32)


CASES = {"normal": (norm05, "normal(std=0.05)"), "normal_wrong": (norm06, "normal(std=0.05)"),
         "normal_x2": (norm_x2, "normal(std=0.05)"), "uniform": (unif05, "uniform(-0.05,0.05)")}
LAYER = "dense(64,32)"


def run(key: str, **cfg):
    fn, spec = CASES[key]
    # the target names the seeds (crc32 of the name): the golden figures were drawn under these names
    return audit.initializer(fn, expect=spec, layer=LAYER, config=AuditConfig(rel_error=0.03, **cfg),
                             target=f"golden:{key}").results[0]


@pytest.mark.parametrize("key", sorted(CASES))
def test_under_the_bound_the_audit_is_the_pooled_one_bit_for_bit(key):
    r = run(key)
    want = GOLDEN[key]
    assert (r.verdict, r.n) == (want["verdict"], want["n"])
    got = {c.name: float(c.p_value) for c in r.checks}
    assert got.keys() == want["p"].keys()
    off = {k: (v, float.fromhex(want["p"][k])) for k, v in got.items()
           if not math.isclose(v, float.fromhex(want["p"][k]), rel_tol=1e-6, abs_tol=0.0)}
    assert not off, off
    assert {c.name: float(c.statistic).hex() for c in r.checks} == want["stat"]
    assert zlib.crc32(r.message.encode()) == want["message_crc"], r.message
    assert "Streamed" not in r.message


@pytest.mark.parametrize("key", sorted(CASES))
def test_over_the_bound_the_same_draws_streamed_give_the_same_verdict(key):
    pooled = run(key)
    bound = 5 * 2048  # dense(64,32): 2048 values a draw, so 5 draws are held and the rest streamed
    s = run(key, max_pool_values=bound)
    assert (s.verdict, s.n) == (pooled.verdict, pooled.n)
    assert s.observed_variance == pytest.approx(pooled.observed_variance, rel=1e-12)
    by = {c.name: c for c in s.checks}
    for c in pooled.checks:
        if c.name in ("chi2_variance", "moment_variance", "mean"):  # every value: the pooled figures to rounding
            assert by[c.name].statistic == pytest.approx(c.statistic, rel=1e-9, abs=1e-12)
            assert by[c.name].passed == c.passed
    assert "(n = 10240)" in by["ks_shape"].detail
    assert f"the variance and mean checks read all {s.n:,} values; the other checks read the first 5 draws " \
           "(10,240 values), where ks_shape detects a CDF distance of" in s.message, s.message
    assert s.min_detectable_rel_error == pytest.approx(pooled.min_detectable_rel_error, rel=1e-12) \
        if key != "uniform" else s.min_detectable_rel_error >= pooled.min_detectable_rel_error


def test_a_deviation_is_explained_from_the_streamed_statistics():
    pooled, streamed = run("normal_x2"), run("normal_x2", max_pool_values=4096)
    assert pooled.verdict == streamed.verdict == "deviates"
    assert pooled.explanation == streamed.explanation == "variance x 2 (N(0, 0.0707107^2))", streamed.message


def subjects_of(fn, spec, layer, framework="numpy"):
    ad = get_framework(framework, "initializers")
    return [ad.subject_for(fn, audit.as_layers(layer)[0], Expectation(parse_spec(spec)), "f", None)]


def test_orthogonal_and_structured_laws_are_never_streamed():
    cfg = AuditConfig(max_pool_values=10)
    for spec in ("orthogonal", "eye", "sparse(sparsity=0.5, std=0.01)"):
        units = audit_units(subjects_of(norm05, spec, "dense(300,100)")[0])
        assert not streams(units, 30_000, 100, cfg)
        assert kept_draws(units, 30_000, 100, cfg) == 100
    units = audit_units(subjects_of(norm05, "normal(std=0.05)", "dense(300,100)")[0])
    assert streams(units, 30_000, 100, cfg) and kept_draws(units, 30_000, 100, cfg) == 2


class Counting:
    """A numpy initializer that counts the values it draws."""

    def __init__(self, fn):
        self.fn, self.values = fn, 0

    def __call__(self, shape, rng):
        self.values += math.prod(shape)
        return self.fn(shape, rng)


@pytest.mark.parametrize("key, bound", [("normal", 2**22), ("normal", 4096), ("uniform", 2**22)])
def test_the_estimate_counts_the_values_and_bounds_the_measured_peak(key, bound):
    fn, spec = CASES[key]
    counting = Counting(fn)
    cfg = AuditConfig(rel_error=0.03, max_pool_values=bound)
    subjects = subjects_of(counting, spec, LAYER)
    cost = audit_cost(subjects, cfg, "numpy")
    tracemalloc.start()
    try:
        audit.initializer(counting, expect=spec, layer=LAYER, config=cfg)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counting.values == cost.values
    assert peak <= cost.bytes, (peak, cost)
    assert cost.seconds > 0


def test_memory_no_longer_grows_with_the_relative_error_time_does():
    subjects = subjects_of(norm05, "normal(std=0.05)", "dense(300,100)")
    coarse, fine = (audit_cost(subjects, AuditConfig(rel_error=r), "numpy") for r in (3e-3, 1e-3))
    assert fine.values > 8 * coarse.values
    assert fine.bytes == coarse.bytes  # both stream: the first max_pool_values values are held
    assert fine.seconds > 3 * coarse.seconds
    alpha, _ = plan(subjects, AuditConfig(rel_error=1e-3))
    assert subject_cost(subjects[0], AuditConfig(rel_error=1e-3), alpha, "numpy") == fine


def test_identify_pools_every_layer_so_its_memory_grows():
    cfg = AuditConfig()
    small, large = (identify_cost([(100, 300), (64, 512)], n, cfg, "numpy") for n in (10**6, 10**8))
    assert large.bytes > 50 * small.bytes
    assert small.values == 34 * 30_000 + 31 * 32_768  # ceil(1e6 / size) draws of each layer


def test_refusal_from_the_command_line_is_one_line_with_the_estimate_and_the_flag(capsys):
    argv = ["audit", f"{ME}:norm05", "--expect", "normal(std=0.05)", "--layer", "dense(300,100)",
            "--rel-error", "1e-3", "--max-seconds", "1"]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1, err
    assert (f"audit of {ME}:norm05 on dense(300,100) at rel_error 0.001: needs "
            "104,370,000 values, about") in err
    assert "over the time limit 1 s; raise it with --max-seconds" in err
    assert cli.main(argv[:-2] + ["--max-memory", "10M"]) == 2
    assert "over the memory limit 10 MiB; raise it with --max-memory 1G" in capsys.readouterr().err


def test_identify_at_a_fine_error_is_refused_by_memory(capsys):
    assert cli.main(["identify", f"{ME}:norm05", "--rel-error", "1e-3"]) == 2
    err = capsys.readouterr().err
    assert "identify on dense(300,100), conv2d(16,48,k=3), dense(64,512) at rel_error 0.001" in err
    assert "over the memory limit 4 GiB; raise it with --max-memory" in err


def test_no_limits_lets_the_request_through_and_limits_refuse_it_in_api_words():
    with pytest.raises(ResourceLimit) as info:
        audit.initializer(norm05, expect="normal(std=0.05)", layer=LAYER, limits=Limits(max_bytes=2**20))
    assert "--max" not in str(info.value) and "limits=Limits(max_bytes=1 * 2**30)" in str(info.value)
    assert "--max-memory 1G" in str(info.value.worded(FLAG_WORDS))
    r = audit.initializer(norm05, expect="normal(std=0.05)", layer=LAYER, config=AuditConfig(rel_error=0.03),
                          limits=Limits(None, None))
    assert r.ok


def half(shape, rng, dtype=None):
    return rng.normal(0.0, 0.05, size=shape).astype(np.float16)


def test_a_low_precision_request_is_pooled_whatever_the_bound():
    # its checks (invariants.stats.precision) read the values, and its sample size is theirs
    r = audit.initializer(half, expect="normal(std=0.05)", layer=LAYER, dtype="float16",
                          config=AuditConfig(max_pool_values=5000)).results[0]
    assert r.verdict == "conforms" and "Streamed" not in r.message
    assert r.n > 5000
