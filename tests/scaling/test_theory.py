"""Expected slopes (invariants.scaling.theory): the SP/μP table and the layer positions read from the fans; μP's
Θ(1) output change reached where the width dwarfs the output size, and the cross-output term named where not."""
from __future__ import annotations

import pytest

from invariants.scaling.fit import GROWING, THETA1, VANISHING
from invariants.scaling.theory import HIDDEN, INPUT, OUTPUT_LAYER, expected, position


def test_positions_come_from_how_the_fans_scale():
    assert position(0.0, 1.0) == INPUT and position(1.0, 1.0) == HIDDEN and position(1.0, 0.0) == OUTPUT_LAYER
    assert position(0.0, 0.0) == "fixed"


def test_sp_updates_grow_and_mup_updates_are_theta1():
    for where, sgd, adam in ((INPUT, -1, 0), (HIDDEN, 1, 2), (OUTPUT_LAYER, 2, 2)):
        assert expected("sp", "sgd", "update", where, 1).slope == sgd
        assert expected("sp", "adam", "update", where, 1).slope == adam
        for opt in ("sgd", "adam"):
            e = expected("mup", opt, "update", where, 1)
            assert (e.verdict, e.slope, e.checked) == (THETA1, 0.0, True)
    assert expected("sp", "adam", "output-change", None, 1).verdict == GROWING


def test_mup_output_vanishes_at_init_and_sp_output_does_not():
    assert expected("mup", "adam", "output", None, 0).verdict == VANISHING
    assert expected("mup", "adam", "gain", OUTPUT_LAYER, 0).slope == -1.0
    assert expected("sp", "adam", "output", None, 0).verdict == THETA1
    # after training only the large-width limit is known: not checked
    assert not expected("sp", "adam", "preact", HIDDEN, 1).checked
    assert expected("theta1", "adam", "update", HIDDEN, 1).verdict == THETA1


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mup_output_change_is_theta1_once_the_width_dwarfs_the_output_size(optimizer):
    pytest.importorskip("torch")
    from invariants.scaling import scale_check
    from invariants.scaling.examples import mlp_mup_narrow

    r = scale_check(mlp_mup_narrow, [64, 128, 256, 512], steps=[0, 1], seeds=64, optimizer=optimizer, expect="mup")
    change = [x for x in r.rows if x.kind == "output-change"][0]
    assert change.fit.verdict == THETA1 and change.matches and abs(change.fit.slope) < 0.15
    assert r.status == "ok" and not r.errors


def test_mup_output_change_with_64_outputs_vanishes_and_the_note_names_the_cross_output_term():
    pytest.importorskip("torch")
    from invariants.scaling import scale_check
    from invariants.scaling.examples import mlp_mup

    r = scale_check(mlp_mup, [64, 128, 256, 512], steps=[0, 1], seeds=16, optimizer="sgd", expect="mup")
    change = [x for x in r.rows if x.kind == "output-change"][0]
    assert change.fit.verdict == VANISHING and not change.expectation.checked  # κ·d_out ≈ 290 > widths
    note = [f for f in r.findings if f.subject == "output output-change step 1"][0]
    assert note.severity == "note" and note.kind == "finite-width"
    assert "width dwarfs the number of output coordinates d_out" in note.message and "κ·d_out/width" in note.message
