"""Seed determinism (invariants.audit.determinism): faulty/correct pairs for each check, the installed
PyTorch's sparse_ (whose zero positions ignore the generator), restoration of the global RNGs, the off
switch, and the audit pages' section."""
from __future__ import annotations

import importlib.util
import os
import random

import numpy as np
import pytest

from invariants import audit
from invariants.audit import determinism
from invariants.audit.auditor import AuditConfig
from invariants.report.pages import audit_index, audit_page, determinism_summary

#: small and fast: the law checks are not under test here (the determinism checks are exact)
CFG = AuditConfig(rel_error=0.2)
LAYER = "dense(30,20)"


def _audit(fn, expect="normal(std=0.02)", framework="numpy", config=CFG, layer=LAYER):
    (res,) = audit.initializer(fn, expect=expect, layer=layer, framework=framework, config=config).results
    return res


def _check(res, name):
    (c,) = [c for c in res.checks if c.name == name]
    return c


# ------------------------------------------------------------------------------------------ numpy pairs


def correct(shape, rng):
    return rng.normal(0.0, 0.02, size=shape)


def ignores_seed(shape, rng):
    return np.random.default_rng(1234).normal(0.0, 0.02, size=shape)


def global_beside_generator(shape, rng):
    x = rng.normal(0.0, 0.02, size=shape)
    x.ravel()[:3] = np.random.normal(0.0, 0.02, size=3)  # 3 values from numpy's global RNG
    return x


def python_random_beside_generator(shape, rng):
    x = rng.normal(0.0, 0.02, size=shape)
    x.ravel()[0] = random.gauss(0.0, 0.02)
    return x


def nondeterministic(shape, rng):
    return np.random.default_rng(int.from_bytes(os.urandom(8), "little")).normal(0.0, 0.02, size=shape)


def test_a_correct_initializer_passes_every_determinism_check():
    res = _audit(correct)
    assert res.verdict == "conforms"
    assert [c.name for c in res.checks if c.name in determinism.CHECK_NAMES] == list(determinism.CHECK_NAMES)
    assert all(c.passed for c in res.checks)


def test_an_initializer_that_ignores_its_seed_fails_different_seeds_differ_with_the_cause():
    res = _audit(ignores_seed)
    assert res.verdict == "deviates"
    c = _check(res, "different_seeds_differ")
    assert not c.passed and c.p_value <= c.alpha
    assert "two different seeds gave the same 600 values bit for bit" in c.detail
    assert "ignores its seed" in c.detail
    assert res.message.startswith("seed determinism fails: different_seeds_differ:")
    assert _check(res, "same_seed_same_tensor").passed and _check(res, "generator_isolation").passed


def test_an_initializer_drawing_from_the_global_rng_beside_its_generator_fails_isolation_naming_the_rng():
    res = _audit(global_beside_generator)
    assert res.verdict == "deviates"
    c = _check(res, "generator_isolation")
    assert not c.passed and c.statistic == 3
    assert ("3 of 600 values change when only the global RNGs are reseeded between two calls with the same seed: "
            "the initializer draws part of its randomness from numpy's global RNG (np.random.seed) although the "
            "sampler passed a numpy Generator as rng") in c.detail
    assert "Python's random" not in c.detail
    assert _check(res, "same_seed_same_tensor").passed and _check(res, "different_seeds_differ").passed
    assert "seed determinism fails: generator_isolation: 3 of 600 values change" in res.message
    assert "Law: " in res.message  # the law's own verdict follows the cause

    c = _check(_audit(python_random_beside_generator), "generator_isolation")
    assert not c.passed and c.statistic == 1
    assert "from Python's random (random.seed) although the sampler passed" in c.detail


def test_a_nondeterministic_initializer_fails_same_seed_and_isolation_is_not_blamed_on_a_global_rng():
    res = _audit(nondeterministic)
    assert res.verdict == "deviates"
    same = _check(res, "same_seed_same_tensor")
    assert not same.passed
    assert "600 of 600 values differ between two calls with the same seed and the same global RNG state" in same.detail
    assert "outside its seed" in same.detail
    iso = _check(res, "generator_isolation")
    assert "not assessed" in iso.detail and "global RNG" in iso.detail
    assert "numpy's global RNG" not in iso.detail


def test_constant_laws_are_exempt_from_different_seeds_differ_but_not_from_the_exact_checks():
    res = _audit(lambda shape, rng: np.zeros(shape), expect="zeros")
    assert res.verdict == "conforms"
    names = [c.name for c in res.checks]
    assert "same_seed_same_tensor" in names and "generator_isolation" in names
    assert "different_seeds_differ" not in names


def test_the_determinism_checks_leave_every_global_rng_as_they_found_it():
    torch = pytest.importorskip("torch")
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    py, npy, tt = random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    _audit(correct)
    _audit(lambda t, generator=None: torch.nn.init.normal_(t, 0.0, 0.02, generator=generator), framework="torch")
    # the pinned calls restore what a global-RNG user consumed inside them
    with determinism.pinned(0):
        np.random.normal(size=5), random.random(), torch.rand(3)
    assert random.getstate() == py
    assert np.array_equal(np.random.get_state()[1], npy)
    assert torch.equal(torch.get_rng_state(), tt)


def test_determinism_off_runs_and_counts_none_of_its_checks():
    on = audit.initializer(correct, expect="normal(std=0.02)", layer=LAYER, framework="numpy", config=CFG)
    off = audit.initializer(correct, expect="normal(std=0.02)", layer=LAYER, framework="numpy",
                            config=AuditConfig(rel_error=0.2, determinism=False))
    assert not {c.name for c in off.results[0].checks} & set(determinism.CHECK_NAMES)
    assert off.n_checks == on.n_checks - 3
    # with it off, a global-RNG user is no longer caught by these checks (the switch really switches)
    bad = audit.initializer(global_beside_generator, expect="normal(std=0.02)", layer=LAYER, framework="numpy",
                            config=AuditConfig(rel_error=0.2, determinism=False))
    assert bad.results[0].verdict == "conforms"


def test_the_report_says_whether_and_how_determinism_was_checked():
    """TRIAL1 item 6: a report states whether the seed checks ran and, where the audit seeds a global RNG
    itself (MLX: its initializers take no key), that isolation then covers the other global RNGs only."""
    from invariants.render import render_audit

    on = audit.initializer(correct, expect="normal(std=0.02)", layer=LAYER, framework="numpy", config=CFG)
    off = audit.initializer(correct, expect="normal(std=0.02)", layer=LAYER, framework="numpy",
                            config=AuditConfig(rel_error=0.2, determinism=False))
    assert on.determinism.startswith("Seed determinism: checked on the subject") and "numpy's global RNG" in on.determinism
    assert "covers the other global RNGs only" not in on.determinism  # a numpy Generator is the seed itself
    assert off.determinism.startswith("Seed determinism: not checked")
    assert "Seed determinism: not checked" in render_audit(off)
    pytest.importorskip("mlx.core")
    import mlx.nn as nn

    mlx = audit.initializer(nn.init.normal(std=0.02), expect="normal(std=0.02)", layer=LAYER, framework="mlx",
                            config=CFG)
    assert "MLX's global key" in mlx.determinism and "isolation then covers the other global RNGs only" in mlx.determinism


# ------------------------------------------------------------------------------------------ torch


def _fixed_sparse(torch):
    """torch.nn.init.sparse_ with the generator passed to randperm too (the fix)."""
    import math

    def sparse(t, sparsity=0.5, std=0.01, generator=None):
        rows, cols = t.shape
        num_zeros = math.ceil(sparsity * rows)
        with torch.no_grad():
            t.normal_(0, std, generator=generator)
            for col in range(cols):
                t[torch.randperm(rows, generator=generator)[:num_zeros], col] = 0
        return t

    return sparse


def test_torch_sparse_really_takes_its_zero_positions_from_the_global_generator():
    """By hand, no auditor: the same generator seed under two torch.manual_seed values gives two tensors
    whose nonzero values agree and whose zero positions differ (torch/nn/init.py sparse_ calls
    ``torch.randperm(rows)`` without the generator)."""
    torch = pytest.importorskip("torch")

    def draw(init, global_seed):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(global_seed)
            w = torch.empty(10, 6)
            init(w, 0.5, generator=torch.Generator().manual_seed(1))
        return w

    a, b = draw(torch.nn.init.sparse_, 0), draw(torch.nn.init.sparse_, 1)
    assert torch.equal(a, draw(torch.nn.init.sparse_, 0))
    assert not torch.equal(a, b)
    both = (a != 0) & (b != 0)
    assert torch.equal(a[both], b[both])  # the values come from the generator, the positions do not
    fixed = _fixed_sparse(torch)
    assert torch.equal(draw(fixed, 0), draw(fixed, 1))


def test_the_installed_torch_sparse_is_flagged_and_a_fixed_wrapper_passes():
    torch = pytest.importorskip("torch")
    real = _audit(lambda t, generator=None: torch.nn.init.sparse_(t, 0.5, std=0.01, generator=generator),
                  framework="torch", expect="normal(std=0.01)")
    c = _check(real, "generator_isolation")
    assert not c.passed
    assert ("the initializer draws part of its randomness from torch's global generator (torch.manual_seed) "
            "although the sampler passed a torch.Generator as generator=") in c.detail
    assert "the positions of the zeros come from the global RNG" in c.detail
    assert "numpy" not in c.detail and "Python" not in c.detail
    assert real.verdict == "deviates" and "seed determinism fails: generator_isolation" in real.message
    assert _check(real, "same_seed_same_tensor").passed and _check(real, "different_seeds_differ").passed

    fixed = _fixed_sparse(torch)
    ok = _audit(lambda t, generator=None: fixed(t, 0.5, 0.01, generator=generator), framework="torch",
                expect="normal(std=0.01)")
    assert all(_check(ok, n).passed for n in determinism.CHECK_NAMES)


def test_a_torch_initializer_that_takes_a_generator_and_ignores_it_fails_isolation_and_different_seeds():
    torch = pytest.importorskip("torch")

    def ignores_generator(t, generator=None):
        return t.normal_(0.0, 0.02)  # torch's global generator

    res = _audit(ignores_generator, framework="torch")
    iso = _check(res, "generator_isolation")
    assert not iso.passed and "draws its randomness from torch's global generator (torch.manual_seed)" in iso.detail
    assert not _check(res, "different_seeds_differ").passed
    # a correct one passes
    ok = _audit(lambda t, generator=None: torch.nn.init.normal_(t, 0.0, 0.02, generator=generator), framework="torch")
    assert ok.verdict == "conforms"
    assert all(_check(ok, n).passed for n in determinism.CHECK_NAMES)


def test_torch_layer_defaults_seeded_inside_fork_rng_pass_isolation():
    pytest.importorskip("torch")
    from invariants.frameworks.registry import get_framework

    subjects = [s for s in get_framework("torch").catalogue() if s.target in ("torch.nn.Linear(300, 100)",)]
    report = audit.audit_subjects(subjects[:1], AuditConfig(rel_error=0.2))
    assert all(c.passed for c in report.results[0].checks if c.name in determinism.CHECK_NAMES)


# ------------------------------------------------------------------------------------------ jax, keras


def test_a_jax_initializer_that_ignores_its_key_for_numpys_global_rng_is_flagged():
    pytest.importorskip("jax")
    import jax

    def bad(key, shape, dtype):
        return np.random.normal(0.0, 0.02, size=shape).astype(np.float32)

    res = _audit(bad, framework="jax")
    c = _check(res, "generator_isolation")
    assert not c.passed
    assert "numpy's global RNG (np.random.seed) although the sampler passed a JAX key" in c.detail
    ok = _audit(jax.nn.initializers.normal(0.02), framework="jax")
    assert all(_check(ok, n).passed for n in determinism.CHECK_NAMES)


def test_a_keras_initializer_drawing_from_the_global_seed_generator_is_flagged_and_a_seeded_one_passes():
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    # not pytest.importorskip("keras"): the adapter chooses the backend before keras is imported
    from invariants.frameworks.keras.initializers import keras

    class GlobalDraw(keras.initializers.Initializer):
        """Keeps a seed in its config but draws from Keras' global SeedGenerator (seed=None)."""

        def __init__(self, seed=None):
            self.seed = seed

        def __call__(self, shape, dtype=None):
            return keras.random.normal(shape, stddev=0.02, dtype=dtype)

        def get_config(self):
            return {"seed": self.seed}

    res = _audit(GlobalDraw(), framework="keras")
    c = _check(res, "generator_isolation")
    assert not c.passed
    assert "Keras' global SeedGenerator (keras.utils.set_random_seed) although the sampler passed seed=seed" in c.detail
    ok = _audit(keras.initializers.RandomNormal(stddev=0.02), framework="keras")
    assert all(_check(ok, n).passed for n in determinism.CHECK_NAMES)


# ------------------------------------------------------------------------------------------ pages


def _payload(checks_per_result):
    results = []
    for i, checks in enumerate(checks_per_result):
        results.append({"target": f"t{i}", "layer": None, "shape": [2, 2], "fans": {}, "expected": {"spec": "x"},
                        "observed": {"n": 4}, "verdict": "conforms" if all(p for _, p in checks) else "deviates",
                        "message": "m", "checks": [{"name": n, "passed": p, "p_value": 1.0 if p else 0.0,
                                                    "alpha": 1e-7} for n, p in checks]})
    return {"framework_version": "1", "invariants_version": "0", "alpha": 1e-7, "total_alpha": 1e-4,
            "n_checks": 6, "config": {}, "results": results}


def test_the_audit_pages_show_the_determinism_checks_and_their_failures():
    good = [("same_seed_same_tensor", True), ("different_seeds_differ", True), ("generator_isolation", True)]
    bad = [("same_seed_same_tensor", True), ("generator_isolation", False)]
    payload = _payload([good, bad])
    counts, failing = determinism_summary(payload["results"])
    assert counts == {"same_seed_same_tensor": (2, 0), "different_seeds_differ": (1, 0), "generator_isolation": (2, 1)}
    assert failing == [2]
    page = audit_page("torch", payload, "pip install torch")
    assert "## Seed determinism" in page
    # the failed count is tinted as a deviating cell (issue 16: deviating rows coloured)
    assert "`generator_isolation`" in page and '| <span class="row-deviates">**1**</span> |' in page
    assert "Failing rows of the catalogue: 2" in page
    assert "**1 tensors fail**" in audit_index([("torch", payload, "pip install torch")])
    # stored data from before the checks existed: said, not silently passed
    old = _payload([[("mean", True)]])
    assert "not checked" in audit_page("torch", old, "pip install torch")
    assert "not checked" in audit_index([("torch", old, "pip install torch")])


# ------------------------------------------------------------------------------------------ CLI


def test_cli_audit_reports_the_cause_and_no_determinism_switches_it_off(capsys):
    import json

    from invariants import cli

    argv = ["audit", "test_audit_determinism:global_beside_generator", "--expect", "normal(std=0.02)",
            "--layer", LAYER, "--rel-error", "0.2"]
    assert cli.main(argv + ["--quiet"]) == 1
    out = capsys.readouterr().out
    assert "seed determinism fails: generator_isolation: 3 of 600 values change" in " ".join(out.split())
    assert cli.main(["audit", "test_audit_determinism:correct", "--expect", "normal(std=0.02)", "--layer", LAYER,
                     "--rel-error", "0.2", "--no-determinism", "--json", "-"]) == 0
    names = {c["name"] for c in json.loads(capsys.readouterr().out)["results"][0]["checks"]}
    assert not names & set(determinism.CHECK_NAMES)
