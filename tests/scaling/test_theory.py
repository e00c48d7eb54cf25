"""Expected slopes (invariants.scaling.theory): the SP/μP table and the layer positions read from the fans."""
from __future__ import annotations

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
