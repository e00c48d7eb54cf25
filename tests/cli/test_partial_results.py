"""Ctrl-C keeps every finished result (issue 16, item 4): a subject can yield several results (a packed q/k/v
tensor gives one per block); the partial ``--json`` of an interrupted audit holds all of them, is marked
``"interrupted": true`` and validates against ``invariants/schemas/audit.json``.  The interrupt is a
``KeyboardInterrupt`` raised by a fake initializer on its N-th call: the first call of the second subject."""
from __future__ import annotations

import json
import math

import pytest

from invariants import cli, schemas

ME = __name__
SPEC = f"normal(std={math.sqrt(1 / 8):.6f})"  # qkv(8): three 8 x 8 blocks, fan_in 8
CALLS = {"n": 0, "stop": 0}


def counting(shape, rng):
    """A good initializer that raises ``KeyboardInterrupt`` on call ``CALLS["stop"]`` (0: never)."""
    CALLS["n"] += 1
    if CALLS["stop"] and CALLS["n"] >= CALLS["stop"]:
        raise KeyboardInterrupt
    return rng.normal(0.0, math.sqrt(1 / 8), size=shape)


@pytest.fixture
def calls_per_subject(capsys):
    """How many calls one subject (qkv(8) at --rel-error 0.2) makes: the N-th call is then the next subject's."""
    CALLS.update(n=0, stop=0)
    assert cli.main(["audit", f"{ME}:counting", "--expect", SPEC, "--layer", "qkv(8)", "--rel-error", "0.2"]) == 0
    capsys.readouterr()
    per_subject = CALLS["n"]
    CALLS.update(n=0, stop=per_subject + 1)
    yield per_subject
    CALLS.update(n=0, stop=0)


def interrupted(argv, tmp_path, capsys):
    path = tmp_path / "partial.json"
    rc = cli.main(argv + ["--rel-error", "0.2", "--json", str(path)])
    out, err = capsys.readouterr()
    assert rc == 130 and len(err.splitlines()) == 1 and "partial results written" in err, (rc, err)
    data = json.loads(path.read_text())
    schemas.validate(data, "audit")
    assert data["interrupted"] is True and data["ok"] is False and data["summary"].endswith(", interrupted")
    return data


def test_a_single_target_keeps_every_block_of_the_subjects_finished(calls_per_subject, tmp_path, capsys):
    data = interrupted(["audit", f"{ME}:counting", "--expect", SPEC, "--layer", "qkv(8)", "--layer", "qkv(8)"],
                       tmp_path, capsys)
    assert CALLS["n"] == calls_per_subject + 1
    # all three blocks of the first subject (before: only its last one)
    assert [r["verdict"] for r in data["results"]] == ["conforms"] * 3
    assert len({r["target"] for r in data["results"]}) == 3


def test_a_catalogue_keeps_every_block_of_the_subjects_finished(calls_per_subject, monkeypatch, tmp_path, capsys):
    from fake_catalogue import fake_catalogue

    fake_catalogue(monkeypatch, [f"{ME}:counting"] * 3, expect=SPEC, layer="qkv(8)")
    data = interrupted(["audit", "numpy", "--quiet"], tmp_path, capsys)
    assert len(data["results"]) == 3 and {r["verdict"] for r in data["results"]} == {"conforms"}
