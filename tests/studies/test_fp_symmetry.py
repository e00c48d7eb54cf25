"""The floating-point symmetry study (invariants.studies.fp_symmetry): small runs, the table, the
matmul probe, and PyTorch parity when torch is installed."""
from __future__ import annotations

import json

import numpy as np
import pytest

from invariants.reference import kernels
from invariants.studies import fp_symmetry as F


def test_exact_kernel_keeps_the_tie_and_a_nudge_is_seen_at_step_one():
    task = F.xor_task(n=32, d=4)
    tied = F.run_numpy("exact", "tied", "float64", "adam", 3, 20, task, checkpoints=(1, 20), lr=0.05)
    assert tied.first_untied is None and tied.defects == {1: 0.0, 20: 0.0}
    nudged = F.run_numpy("exact", "nudged", "float64", "adam", 3, 20, task, checkpoints=(1, 20), lr=0.05)
    assert nudged.first_untied == 1 and nudged.defects[1] > 0 and nudged.max_defect >= nudged.defects[1]


def test_study_table_and_json(tmp_path, capsys):
    rows = F.run_study(backends=("blas",), dtypes=("float32",), optimizers=("sgd",), widths=(2,), steps=5,
                       checkpoints=(1, 5), task=F.xor_task(n=16, d=3))
    assert [(r.backend, r.start) for r in rows] == [("blas", "tied"), ("blas", "nudged")]
    table = F.format_table(rows)
    assert "step 5" in table and table.count("\n") == 3
    out = tmp_path / "rows.json"
    assert F.main(["--backends", "blas", "--widths", "2", "--steps", "3", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert {"environment", "rows"} <= set(data) and data["rows"][0]["steps"] == 3
    assert "backend" in capsys.readouterr().out


def test_matmul_probe_counts_untied_units():
    rows = F.matmul_probe("blas", shapes=((8, 5, 3),), dtypes=("float64",))
    assert [(r.kind, r.shape) for r in rows] == [("forward", (8, 5, 3)), ("gradient", (8, 5, 3))]
    assert all(0 <= r.untied_units <= 3 for r in rows)


def test_probe_oracle_sees_a_position_dependent_kernel():
    """Mutation: a product that rounds its last output element differently (one ulp up, as an edge tile
    with another accumulation order might) must be reported as untying a unit, in both products."""

    def skewed(a, b):
        out = a @ b
        out[-1, -1] = np.nextafter(out[-1, -1], np.inf)
        return out

    rows = F.matmul_probe(shapes=((8, 5, 3),), dtypes=("float64",), matmul=skewed)
    assert [r.untied_units for r in rows] == [1, 1] and all(r.max_difference > 0 for r in rows)
    exact = F.matmul_probe(shapes=((8, 5, 3),), dtypes=("float64",),
                           matmul=lambda a, b: kernels.matmul(a, b, "exact"))
    assert [r.untied_units for r in exact] == [0, 0]


def test_torch_backend_matches_the_reference_when_installed():
    pytest.importorskip("torch")
    task = F.xor_task(n=32, d=4)
    a = F.run_torch("tied", "float64", "sgd", 3, 10, task, checkpoints=(10,))
    b = F.run_numpy("blas", "tied", "float64", "sgd", 3, 10, task, checkpoints=(10,))
    assert a.accuracy == pytest.approx(b.accuracy) and a.defects[10] == 0.0
    c = F.run_torch("nudged", "float32", "adam", 3, 5, task, checkpoints=(1,))
    assert c.first_untied == 1 and c.defects[1] > 0
