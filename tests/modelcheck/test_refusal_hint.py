"""The memory refusal asks only for what the run does not already do, and states the fixed floor (C1 of the
second new-user trial: ``--input-shape 4,784 --no-probe --max-memory 1K`` was told to use both)."""
from __future__ import annotations

import pytest

from invariants.core.cost import Limits, ResourceLimit
from invariants.modelcheck.cost import LESS, less_hint


def test_less_hint_drops_options_in_use_and_states_the_floor():
    """Known-bad (the old constant): suggests --no-probe to a run without a probe.  Known-good: the hint for
    each situation names only options that would shrink it, and always the 256 MiB floor."""
    assert "--no-probe" in LESS[1]
    api, cli = less_hint(False, 4)
    assert "--no-probe" not in cli and "--input-shape" not in cli and "probe=False" not in api
    assert "256 MiB floor" in cli and "the probe is off" in cli
    api, cli = less_hint(True, 4)
    assert "--input-shape" not in cli and "--no-probe" in cli and "256 MiB floor" in cli
    api, cli = less_hint(True, None)
    assert "--input-shape" in cli and "--no-probe" in cli and "256 MiB floor" in cli
    assert "probe=False" in api and "256 MiB floor" in api


def test_check_model_refusal_names_what_is_left():
    torch = pytest.importorskip("torch")
    from torch import nn

    from invariants.modelcheck import check_model

    model = nn.Sequential(nn.Linear(8, 4))
    with pytest.raises(ResourceLimit) as exc:
        check_model(model, input_shape=(4, 8), probe=False, limits=Limits(max_bytes=1024))
    assert "probe=False" not in str(exc.value) and "smaller" not in str(exc.value) and "floor" in str(exc.value)
    with pytest.raises(ResourceLimit) as exc:
        check_model(model, example_input=torch.randn(64, 8), limits=Limits(max_bytes=1024))
    assert "smaller example_input" in str(exc.value) and "probe=False" in str(exc.value)
