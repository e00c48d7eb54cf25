"""The long-horizon studies (asymmetry growth, small-init plateau, one ulp under SGD/Adam): tiny runs of
each CLI, the JSON they write, and the stored results' headline figures."""
from __future__ import annotations

import json
from pathlib import Path

from invariants.studies import asymmetry_growth as G
from invariants.studies import fp_horizon as F
from invariants.studies import small_init as S

DATA = Path(__file__).resolve().parents[2] / "docs" / "data"


def test_asymmetry_growth_study_rows_and_cli(tmp_path, capsys):
    rows = G.run_study(tasks=("two-feature",), optimizers=("sgd",), epsilons=(1e-3, 1e-2, 3e-2), max_steps=1000,
                       starts=("stationary",))
    assert rows[0]["fit"] is not None and rows[0]["predicted_rate"] > 0
    assert "two-feature" in G.format_table(rows)
    with __import__("pytest").raises(ValueError):
        G.grid_task("three-feature")


def test_small_init_study_cli(tmp_path):
    res = S.run_study(depths=(3,), gains=(0.3, 0.5, 1.0), optimizers=("adam",), max_steps=200)
    assert {r["optimizer"] for r in res["runs"]} == {"adam"} and len(res["seed_case"]) == 1
    assert "seed case adam" in S.format_table(res)


def test_fp_horizon_rows_stop_at_delta():
    rows = F.nudged_rows(dtypes=("float32",), optimizers=("adam",), horizon=400, kernel="blas")
    assert rows[0]["reached_at"] is not None and rows[0]["reached_at"] < 400
    assert "reached" in F.format_table(rows)


def test_stored_results_carry_the_headline_figures():
    growth = json.loads((DATA / "asymmetry_growth.json").read_text())
    by = {(r["task"], r["start"], r["optimizer"]): r for r in growth["rows"]}
    for opt in ("sgd", "momentum"):
        row = by[("two-feature", "stationary", opt)]
        assert row["fit"]["rate_lo"] <= row["predicted_rate"] <= row["fit"]["rate_hi"]
    assert all(r["steps_to_delta"] is None for r in by[("one-feature", "stationary", "sgd")]["runs"])
    small = json.loads((DATA / "small_init.json").read_text())
    fits = {(f["optimizer"], f["depth"]): f for f in small["fits"]}
    for d in (3, 4, 6, 8):
        f = fits[("sgd", d)]
        assert abs(f["exponent"] - f["predicted"]) <= f["halfwidth"] + f["quantization"]
    seed = {r["optimizer"]: r for r in small["seed_case"]}
    assert seed["sgd"]["escape_step"] is None and seed["adam"]["escape_step"] is not None
