"""A per-sample normalization over too few values leaves the signal check undecided, never an accusation.

GroupNorm normalises each sample's group of ``C/G`` channels over its spatial positions
(``torch/nn/functional.py``, ``group_norm``); InstanceNorm is the group of one channel.  With 1 value per group
the output is exactly the shift ``β`` (0 at torch's init, ``GroupNorm.reset_parameters``) whatever the input, and
with 2 it is ``±1`` and passes no gradient: what follows measures the normalization's arithmetic, not the init.
The probe batch does not change the count; the input size does (a 1x1 feature map at a small probe input).

Net below: ``Conv1x1 -> GroupNorm(C, C) -> ReLU`` twice, then a tail of 12 ``Conv1x1 -> ReLU`` with He-normal
kernels (``torch.nn.init.kaiming_normal_(nonlinearity="relu")``: ``Var = 2/fan_in``, the ReLU-preserving init);
the GroupNorms keep torch's own init (``GroupNorm.reset_parameters``: ``γ = 1``, ``β = 0``).  Known-good: a 4x4
input (16 values per group) is healthy and decided.  Too small: a 1x1 input (1 value per group) made main report
an error "gradients vanish through depth at init" (a 3.3e11x decay); now a note and an incomplete report whose
coverage says "not decided" and asks for a larger input.  Known-bad: the tail kernels at 3x std on the 4x4 input
stay errors in both directions.
"""
from __future__ import annotations

import pytest

from invariants.modelcheck import check_model
from invariants.render import render_model

torch = pytest.importorskip("torch")
nn = torch.nn


def _gn_net(side: int, gain: float = 1.0, c: int = 32, norm=lambda c: nn.GroupNorm(c, c)):
    torch.manual_seed(0)
    head = [nn.Conv2d(3, c, 1), norm(c), nn.ReLU(), nn.Conv2d(c, c, 1), norm(c), nn.ReLU()]
    tail = []
    for _ in range(12):
        conv = nn.Conv2d(c, c, 1)
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        with torch.no_grad():
            conv.weight.mul_(gain)
        tail += [conv, nn.ReLU()]
    model = nn.Sequential(*head, *tail, nn.Flatten(), nn.Linear(c * side * side, 10))
    return model, torch.randn(8, 3, side, side, generator=torch.Generator().manual_seed(1))


def _signal(report):
    return [f for f in report.findings if f.kind in ("signal-forward", "signal-backward")]


def test_torch_probe_records_values_per_group_of_group_and_instance_norms():
    from invariants.frameworks.torch.model import view

    model, x = _gn_net(4)
    stats = view(model, "gn", x).probe.batch_stats
    assert [(b.name, b.values, b.kind, b.channels, b.layer, b.after) for b in stats] == [
        ("1", 16, "group", 1, "GroupNorm", "0"), ("4", 16, "group", 1, "GroupNorm", "3")]
    model, x = _gn_net(2, norm=lambda c: nn.GroupNorm(c // 4, c))
    stats = view(model, "gn4", x).probe.batch_stats
    assert {(b.values, b.channels) for b in stats} == {(4 * 4, 4)}  # 4 channels x 4 positions
    model, x = _gn_net(3, norm=lambda c: nn.InstanceNorm2d(c))
    assert {(b.values, b.channels, b.layer) for b in view(model, "in", x).probe.batch_stats} == {(9, 1, "InstanceNorm2d")}
    model.eval()  # no running statistics: an InstanceNorm still normalises by the input's own
    assert len(view(model, "in", x).probe.batch_stats) == 2
    model, x = _gn_net(3, norm=lambda c: nn.InstanceNorm2d(c, track_running_stats=True))
    model.eval()  # running statistics: nothing taken from the input
    assert view(model, "in", x).probe.batch_stats == []


def test_group_norm_with_enough_values_stays_decided():
    report = check_model(_gn_net(4), name="gn_4x4")
    assert report.status == "healthy" and report.coverage.signal is None, render_model(report)
    assert not any(f.figures.get("not_decided") for f in report.findings)


def test_group_norm_of_one_value_is_not_decided_not_an_error():
    report = check_model(_gn_net(1), name="gn_1x1")
    assert not report.errors and report.status == "incomplete", render_model(report)
    assert report.coverage.signal.startswith(
        "not decided: the probe input is too small for GroupNorm 4 (1 value per group: 1 channel x 1 position")
    assert "rerun with a larger input" in report.coverage.signal
    assert _signal(report) and all(f.severity == "note" and f.figures.get("not_decided") for f in _signal(report))
    assert "signal propagation: not decided (" in render_model(report).splitlines()[-1]


def test_group_norm_of_two_values_decides_neither_direction():
    """GroupNorm(C/2, C) at 1x1: 2 channels per group, output ±1 and no gradient (main: healthy with a decay note
    read as checked)."""
    report = check_model(_gn_net(1, norm=lambda c: nn.GroupNorm(c // 2, c)), name="gn2_1x1")
    assert not report.errors and report.status == "incomplete", render_model(report)
    assert "(2 values per group: 2 channels x 1 position), which passes no gradient (2 or fewer values per group)" \
        in report.coverage.signal
    # 4 channels per group at 1x1 (4 values): no error to decide, healthy as before
    assert check_model(_gn_net(1, norm=lambda c: nn.GroupNorm(c // 4, c)), name="gn4_1x1").status == "healthy"


def test_known_bad_tail_with_group_norms_stays_an_error():
    report = check_model(_gn_net(4, gain=3.0), name="gn_tail3x")
    assert {f.kind for f in report.errors if f.kind.startswith("signal")} == {"signal-forward", "signal-backward"}
    assert report.status == "unhealthy" and report.coverage.signal is None
    assert not any(f.figures.get("not_decided") for f in report.findings)


def test_group_norm_without_positions_is_measured_as_the_model_is():
    """GroupNorm(C, C) on a Linear's ``(N, C)`` output: 1 value per group at every input size and batch, so its
    zero gradient is what the model does with any input; no rerun decides otherwise, so nothing is recorded and
    the decay below it stays the error main reported."""
    from invariants.frameworks.torch.model import view

    torch.manual_seed(0)
    layers = [nn.Linear(8, 32), nn.GroupNorm(32, 32), nn.ReLU()]
    for _ in range(6):
        layers += [nn.Linear(32, 32), nn.ReLU()]
    model, x = nn.Sequential(*layers, nn.Linear(32, 2)), torch.randn(16, 8)
    assert view(model, "flat_gn", x).probe.batch_stats == []
    report = check_model((model, x), name="flat_gn")
    assert any(f.kind == "signal-backward" for f in report.errors) and report.coverage.signal is None


def test_a_one_position_group_norm_says_the_cut_may_be_the_models_own():
    """A GroupNorm after a global pool sees 1 position at every input size: "rerun larger" cannot decide it, so
    the reason also says that a map 1x1 at every size makes the cut the model's own (reviewer's repro: Conv ->
    AdaptiveAvgPool2d(1) -> GroupNorm(8, 8) -> Linear); a map of several positions gets no such clause."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.GroupNorm(8, 8),
                          nn.Flatten(), nn.Linear(8, 10))
    report = check_model((model, torch.randn(8, 3, 16, 16)), name="gn_pooled")
    assert report.status == "incomplete"
    assert ("if the map there is 1x1 at every input size (after a global pool), GroupNorm 3 normalises 1 value per "
            "group whatever the input and outputs its shift alone: that cut is the model's own") in report.coverage.signal
    several = check_model(_gn_net(2, norm=lambda c: nn.GroupNorm(c, c)), name="gn_2x2")
    assert several.coverage.signal is None or "at every input size" not in several.coverage.signal


def test_the_rerun_advice_names_both_fixes_when_batch_and_group_statistics_are_short():
    """More probe inputs fix a BatchNorm's count, only a larger input a GroupNorm's: a list holding both asks for
    both (before: the smallest alone, so a batch-only advice left the group statistic short)."""
    from invariants.frameworks.model import BatchStat, Probe
    from invariants.modelcheck.batchstats import rerun_all

    probe = Probe([], 4, "x", True, True)
    bn, gn = BatchStat("bn", 4, None), BatchStat("gn", 9, None, kind="group", channels=1, layer="GroupNorm")
    both = rerun_all(probe, [bn, gn], 11)
    assert "rerun with at least 11 probe inputs" in both and "rerun with a larger input" in both
    assert "larger input, so the feature map" not in rerun_all(probe, [bn], 11, or_larger=False)
    assert "probe inputs at" not in rerun_all(probe, [gn], 11)
