"""One JSON schema family (issue 16): verify, audit, identify and check-model ``--json`` outputs all carry
``ok``, ``summary``, ``findings``, ``versions`` and ``config``, and each validates against its published JSON
Schema (``invariants/schemas/*.json``, shipped as package data) — real outputs of the command line, not
hand-written samples.  Each schema rejects its known-bad twin (a key dropped or mistyped)."""
from __future__ import annotations

import copy
import json
import platform
from pathlib import Path

import numpy as np
import pytest

from invariants import __version__, cli, schemas
from invariants.claims import registry
from invariants.claims.registry import Claim, Evidence, EvidenceResult, Mutant, Reading, Verdict

jsonschema = pytest.importorskip("jsonschema")
ME = "cli_targets"  # the targets the commands load (MODULE:ATTR)
ROOT = Path(__file__).resolve().parents[2]



def _run(argv, tmp_path, capsys):
    path = tmp_path / "out.json"
    rc = cli.main(argv + ["--json", str(path)])
    capsys.readouterr()
    return rc, json.loads(path.read_text())


@pytest.fixture
def one_claim(monkeypatch):
    """A hand-made claim with a scope, a reading and a mutant (the keys issue 15 added to the verify JSON)."""
    fails = Evidence("experiment", "fails", lambda: EvidenceResult(False, "the counterexample stands"),
                     Mutant("a flipped sign", lambda: EvidenceResult(False, "x")))
    claim = Claim(id="T-S-01", title="t", seed_quotes=("q",), statement="s", verdict=Verdict.VERIFIED,
                  evidence=(Evidence("symbolic", "holds", lambda: EvidenceResult(True, "ok")), fails),
                  scope="MLPs", readings=(Reading("the literal reading", Verdict.VERIFIED, ("holds",)),))
    monkeypatch.setattr(registry, "all_claims", lambda: [claim])


def outputs(tmp_path, capsys):
    """``{schema name: (exit code, JSON)}`` of one real run per command."""
    return {
        "audit": _run(["audit", f"{ME}:he", "--expect", "normal(std=0.2582)", "--layer", "dense(30,10)",
                       "--rel-error", "0.1"], tmp_path, capsys),
        "identify": _run(["identify", f"{ME}:he", "--rel-error", "0.1"], tmp_path, capsys),
        "check-model": _run(["check-model", f"{ME}:mlp"], tmp_path, capsys),
        "verify": _run(["verify", "--jobs", "1"], tmp_path, capsys),
    }


def test_every_commands_json_validates_against_its_schema(one_claim, tmp_path, capsys):
    for name, (rc, data) in outputs(tmp_path, capsys).items():
        schemas.validate(data, name)
        assert set(data) >= {"ok", "summary", "findings", "versions", "config"}, name
        assert data["versions"]["invariants"] == __version__ and data["versions"]["python"] == platform.python_version()
        assert data["versions"]["numpy"] == np.__version__
        assert (rc == 0) == data["ok"], (name, rc, data["summary"])
        assert data["summary"] and isinstance(data["findings"], list)


def test_the_common_keys_say_what_ran(one_claim, tmp_path, capsys):
    out = outputs(tmp_path, capsys)
    _, audit = out["audit"]
    assert audit["config"]["rel_error"] == 0.1 and audit["config"]["base_seed"] == 0
    assert audit["config"]["power"] == 0.99 and 0 < audit["config"]["alpha"] <= 1e-6
    assert audit["versions"]["frameworks"] == {"numpy": np.__version__}
    _, ident = out["identify"]
    assert ident["ok"] is ident["matched"] and ident["config"]["rel_error"] == 0.1
    rc, model = out["check-model"]
    import torch

    assert model["versions"]["frameworks"] == {"torch": torch.__version__}
    assert {"profile", "rel_error", "power", "total_alpha", "alpha", "seed", "min_coverage"} <= set(model["config"])
    assert model["summary"].startswith("model ") and rc == model["exit_code"]
    rc, verify = out["verify"]
    assert rc == 1 and verify["ok"] is False and verify["config"]["only"] == []
    from invariants.core.results import package_version
    from invariants.reference import compiled

    # which exact kernel ran (same bits either way) and numba's version: a slow first run can be told apart
    assert verify["config"]["compiled"] is (compiled.kernels() is not None)
    assert verify["versions"]["numba"] == package_version("numba")
    (claim,) = verify["claims"]
    assert claim["scope"] == "MLPs" and claim["readings"][0]["evidence"] == ["holds"]
    assert [e["mutant"] for e in claim["evidence"]] == [None, "a flipped sign"]
    assert verify["findings"] == [{"severity": "error", "kind": "experiment", "subject": "T-S-01",
                                   "message": "fails: the counterexample stands"}]


@pytest.mark.parametrize("name, mutate", [
    ("audit", lambda d: d.pop("versions")),
    ("audit", lambda d: d.__setitem__("ok", "yes")),
    ("audit", lambda d: d["results"][0].__setitem__("verdict", "fine")),
    ("identify", lambda d: d.pop("summary")),
    ("identify", lambda d: d["evidence"][0].__setitem__("min_p_value", 2.0)),
    ("check-model", lambda d: d.__setitem__("status", "HEALTHY")),
    ("check-model", lambda d: d["findings"].append({"severity": "fatal", "kind": "x", "subject": "", "message": "",
                                                   "params": [], "figures": {}})),
    ("verify", lambda d: d["claims"][0]["evidence"][0].pop("mutant")),
    ("verify", lambda d: d["claims"][0].pop("scope")),
    ("verify", lambda d: d["config"].__setitem__("jobs", 0)),
    ("verify", lambda d: d["config"].__setitem__("compiled", "yes")),
    ("verify", lambda d: d["versions"].__setitem__("numba", 68)),
], ids=["audit-no-versions", "audit-ok-not-bool", "audit-bad-verdict", "identify-no-summary", "identify-p-above-1",
        "model-bad-status",
        "model-bad-severity", "verify-no-mutant", "verify-no-scope", "verify-zero-jobs",
        "verify-compiled-not-bool", "verify-numba-not-text"])
def test_each_schema_rejects_its_known_bad_twin(name, mutate, one_claim, tmp_path, capsys):
    data = outputs_cached(tmp_path, capsys)[name][1]
    bad = copy.deepcopy(data)
    mutate(bad)
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(bad, name)


_OUTPUTS: dict = {}


def outputs_cached(tmp_path, capsys):
    if not _OUTPUTS:
        _OUTPUTS.update(outputs(tmp_path, capsys))
    return _OUTPUTS


def test_the_schemas_are_package_data_and_well_formed():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "*.json" in data["tool"]["setuptools"]["package-data"]["invariants.schemas"]
    assert any(req.startswith("jsonschema") for req in data["project"]["optional-dependencies"]["test"])
    for name in schemas.NAMES:
        schema = schemas.load(name)
        jsonschema.validators.validator_for(schema).check_schema(schema)
        assert schema["$id"] == f"urn:invariants:schema:{name}"
    with pytest.raises(ValueError, match="unknown schema 'nope'"):
        schemas.load("nope")
