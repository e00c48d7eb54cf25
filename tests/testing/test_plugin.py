"""The pytest plugin in a fresh project (pytester): the entry point, seeds from node ids, profiles, and the
assertions' failure messages."""
from __future__ import annotations

import importlib.metadata
import re

import numpy  # noqa: F401  imported before pytester's in-process runs: C extensions cannot load twice
import pytest
import scipy.stats  # noqa: F401

import invariants.modelcheck.check  # noqa: F401
import invariants.propagation  # noqa: F401
import invariants.testing  # noqa: F401
from invariants.pytest_plugin import seed_for

pytest_plugins = ["pytester"]

SEEDS = """
import pytest

def _show(request, value):
    print(f"SEED {request.node.nodeid} {value}")

def test_a(rng, invariants_seed, request):
    _show(request, invariants_seed)
    assert rng.bit_generator.seed_seq.entropy == invariants_seed

@pytest.mark.parametrize("k", [1, 2])
def test_b(k, invariants_seed, request):
    _show(request, invariants_seed)

def test_c(invariants_seed, request):
    _show(request, invariants_seed)
"""


def _seeds(result) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"SEED (\S+) (\d+)", result.stdout.str())}


def test_entry_point_is_registered():
    # scan every distribution as pluggy does (a stale invariants.egg-info in the checkout may shadow the
    # installed metadata in importlib.metadata.entry_points(), which keeps one distribution per name)
    eps = [e for d in importlib.metadata.distributions() for e in d.entry_points
           if e.group == "pytest11" and e.value == "invariants.pytest_plugin"]
    assert eps, ("the pytest11 entry point is missing: reinstall the package (pip install -e .) so that "
                 "pyproject.toml's [project.entry-points.pytest11] is registered")
    assert eps[0].name == "invariants.pytest_plugin"  # same as the module: `-p invariants.pytest_plugin` is a no-op


def test_fresh_project_gets_fixtures_and_header(pytester):
    pytester.makepyfile(test_seeds=SEEDS)
    result = pytester.runpytest("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["invariants: profile fast*base seed 0"])
    seeds = _seeds(result)
    assert set(seeds) == {"test_seeds.py::test_a", "test_seeds.py::test_b[1]", "test_seeds.py::test_b[2]",
                          "test_seeds.py::test_c"}
    assert all(seeds[n] == seed_for(n) for n in seeds) and len(set(seeds.values())) == 4


def test_seeds_come_from_node_ids_not_execution_order(pytester):
    pytester.makepyfile(test_seeds=SEEDS)
    full = _seeds(pytester.runpytest("-s", "-p", "no:randomly"))
    alone = _seeds(pytester.runpytest("-s", "-p", "no:randomly", "-k", "test_c"))
    reverse = _seeds(pytester.runpytest("-s", "-p", "no:randomly", "test_seeds.py::test_c", "test_seeds.py::test_a"))
    assert alone == {"test_seeds.py::test_c": full["test_seeds.py::test_c"]}
    assert reverse == {k: full[k] for k in ("test_seeds.py::test_a", "test_seeds.py::test_c")}
    other = _seeds(pytester.runpytest("-s", "-p", "no:randomly", "--invariants-seed=7"))
    assert all(other[k] != full[k] for k in full) and other["test_seeds.py::test_a"] == seed_for("test_seeds.py::test_a", 7)


def test_explicit_p_option_is_harmless_and_no_disables(pytester):
    pytester.makepyfile(test_seeds=SEEDS)
    pytester.runpytest("-p", "invariants.pytest_plugin", "-p", "no:randomly").assert_outcomes(passed=4)
    result = pytester.runpytest("-p", "no:invariants.pytest_plugin", "-p", "no:randomly")
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(["*fixture 'rng' not found*"])


def test_profile_option_ini_and_marker(pytester):
    pytester.makepyfile(test_profile="""
        import pytest

        def test_active(invariants_profile):
            print("PROFILE", invariants_profile.name, invariants_profile.rel_error)

        @pytest.mark.invariants_profile("thorough")
        def test_marked(invariants_profile):
            assert invariants_profile.name == "thorough"
    """)
    result = pytester.runpytest("-s", "--invariants-profile=thorough")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["invariants: profile thorough*", "*PROFILE thorough 0.01*"])
    result = pytester.runpytest("-s")
    result.stdout.fnmatch_lines(["*PROFILE fast 0.05*"])
    result.assert_outcomes(passed=2)
    pytester.makeini("[pytest]\ninvariants_profile = thorough\n")
    pytester.runpytest("-s").stdout.fnmatch_lines(["*PROFILE thorough*"])
    result = pytester.runpytest("--invariants-profile=nightly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*invalid choice: 'nightly'*"])


def test_assertion_messages_carry_figures(pytester):
    pytester.makepyfile(test_asserts="""
        import numpy as np
        import pytest
        from invariants.reference import Architecture
        from invariants.propagation import sample_params
        from invariants.testing import assert_init_healthy, assert_initializer

        def he_normal(shape, rng):
            return rng.normal(0.0, np.sqrt(2.0 / shape[1]), size=shape)

        def he_wrong(shape, rng):  # variance 2/fan_out
            return rng.normal(0.0, np.sqrt(2.0 / shape[0]), size=shape)

        def test_good_initializer():
            assert_initializer(he_normal, "kaiming_normal", layer="dense(300,100)")

        def test_bad_initializer():
            assert_initializer(he_wrong, "kaiming_normal", layer="dense(300,100)")

        def test_healthy_network(rng):
            arch = Architecture((8, 32, 32, 2), activation="relu")
            assert_init_healthy((arch, sample_params(arch, "he", rng)))

        def test_zero_layer(rng):
            arch = Architecture((8, 32, 32, 2), activation="relu")
            params = sample_params(arch, "he", rng)
            params["W2"][...] = 0.0
            assert_init_healthy((arch, params))
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=2)
    text = " ".join(" ".join(re.sub(r"^E\s+", "", line) for line in result.stdout.lines).split())
    assert "prof = get_profile(profile)" not in text  # the helpers' own frames are hidden (__tracebackhide__)
    assert "he_wrong does not draw from kaiming_normal" in text and "measured variance" in text
    assert "explained by fan 100" in text
    assert "[constant-tensor] W2" in text and "dead for ever: relu'(0) = 0" in text
    seed = seed_for("test_asserts.py::test_zero_layer")
    assert f"seed {seed} (from the node id 'test_asserts.py::test_zero_layer'" in text  # the report section
