"""Wording left by stop 26's new-user trials: each line says what happened, known-bad text pinned by its cause.

- the audit's ``Seed determinism:`` line read as a pass when ``sparse_`` failed generator isolation, and
  repeated one RNG's clause once per reason;
- a limit's refusal said "or ask for less" without saying how;
- ``verify --json`` recorded ``versions.numba`` as null under ``INVARIANTS_NO_COMPILED`` (numba installed);
- scale-check called the model output "output output" and said step 0 was taken "with adam".
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from invariants.audit.determinism import ISOLATION, SAME_SEED, coverage_line
from invariants.core.cost import Cost, Limits, ResourceLimit, check


def _subject(seeding=""):
    return SimpleNamespace(sampler=SimpleNamespace(seeding=seeding))


def _result(target, failed=()):
    return SimpleNamespace(target=target, checks=[SimpleNamespace(name=n, passed=n not in failed)
                                                  for n in (SAME_SEED, ISOLATION)])


def test_determinism_line_names_what_failed():
    """Known-bad: a failed isolation check is named with its tensor, never "passed" alone.  Known-good: a
    run where every check passed says so."""
    subjects = [_subject(), _subject()]
    bad = coverage_line(subjects, True, [_result("torch.nn.init.sparse_"), _result("torch.nn.init.sparse_ @bf16",
                                                                                  failed=(ISOLATION,))])
    assert "FAILED on 1 of the 2 tensors checked" in bad and f"{ISOLATION} on 1 (torch.nn.init.sparse_ @bf16)" in bad
    assert "the others passed" in bad
    good = coverage_line(subjects, True, [_result("a"), _result("b")])
    assert "FAILED" not in good and "All 2 tensors checked passed" in good


def test_determinism_line_merges_one_rngs_reasons():
    """Known-bad: the same RNG named twice (once per reason).  Known-good: once, with both reasons."""
    head = "torch's global generator, seeded inside fork_rng"
    line = coverage_line([_subject(f"{head} (layer constructors take no generator)"),
                          _subject(f"{head} (the initializer takes no generator=)"), _subject()], True)
    assert line.count(head) == 1
    assert "(layer constructors take no generator; the initializer takes no generator=)" in line  # unnamed: kept
    assert "2 of the 3 subjects take no seed" in line


def test_refusal_says_how_to_ask_for_less():
    """Known-bad: "or ask for less" alone.  Known-good: the arguments in the API's words, the flags in the
    command line's."""
    from invariants.cli.common import FLAG_WORDS
    from invariants.modelcheck.cost import LESS

    with pytest.raises(ResourceLimit) as exc:
        check(Cost(1, 10 * 2**30, 1.0), Limits(max_bytes=2**30), "check-model of M", LESS)
    assert "or ask for less (a smaller example_input or input_shape batch, or probe=False" in str(exc.value)
    cli = str(exc.value.worded(FLAG_WORDS))
    assert "--max-memory 13G" in cli and "--input-shape with a smaller batch" in cli and "--no-probe" in cli
    assert exc.value.worded(FLAG_WORDS).less == LESS  # kept through the rewording (and pickling: __reduce__)
    import pickle

    again = pickle.loads(pickle.dumps(exc.value.worded(FLAG_WORDS)))
    assert str(again) == cli


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba not installed")
def test_numba_version_is_recorded_when_unused():
    """Known-bad: ``None`` when ``INVARIANTS_NO_COMPILED`` keeps numba unimported.  Known-good: the
    installed version, with ``config.compiled`` false saying it did not run."""
    code = ("import sys; from invariants.core.results import package_version; "
            "v = package_version('numba'); assert 'numba' not in sys.modules; print(v)")
    env = {**os.environ, "INVARIANTS_NO_COMPILED": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    from importlib.metadata import version

    assert out.stdout.strip() == version("numba")


def test_scale_check_wording():
    """Known-bad: "output output step 0" and "steps [0, 1] with adam lr 0.01" (step 0 is no adam step).
    Known-good: "output step 0", step 0 said to be the initialization, a layer's row unchanged."""
    from invariants.render.scale import steps_words
    from invariants.scaling.plot import Curve, panel_title
    from invariants.scaling.report import Row

    def row(name, kind):
        return Row(name, kind, 0, None, None, None, (), ())  # type: ignore[arg-type]

    assert row("output", "output").label == "output step 0"
    assert row("fc1", "preact").label == "fc1 preact step 0"
    assert row("output", "output-change").label == "output output-change step 0"
    assert panel_title([Curve("output", "output", 0, (2, 4), (1.0, 1.0), 0.0, "theta1")]) == "output"
    assert steps_words({"steps": [0, 1], "optimizer": "adam", "lr": 0.01}) == \
        "steps [0, 1] (0: at initialization; then adam at lr 0.01)"
    assert steps_words({"steps": [1, 3], "optimizer": "sgd", "lr": 0.1}) == "steps [1, 3] of sgd at lr 0.1"
    assert steps_words({"steps": [0], "optimizer": "adam", "lr": 0.01}) == \
        "steps [0] (at initialization: no optimizer step)"
