"""The persistent JAX/Keras compile cache (issue 17, item 4) is configured where the docs say, respects the
user's own cache folder, and is off with ``INVARIANTS_NO_COMPILE_CACHE=1``.  No timings: whether the cache
makes a run faster is measured by hand (the report), never asserted.
"""
from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from invariants.core import compile_cache

REPO = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _jax_not_imported(monkeypatch):
    """As before ``import jax`` (configure() takes the config path once JAX is imported, which another test
    of this worker may have done); the test that needs an imported JAX installs a fake one."""
    monkeypatch.delitem(sys.modules, "jax", raising=False)


def _fresh_env(**extra: str) -> dict[str, str]:
    env = {"HOME": "/home/someone", "PATH": "/usr/bin"}
    env.update(extra)
    return env


def test_env_path_sets_every_option_under_the_user_cache_never_the_project():
    env = _fresh_env()
    folder = compile_cache.configure(env)
    assert folder == "/home/someone/.cache/invariants/jax"
    assert env["JAX_COMPILATION_CACHE_DIR"] == folder
    assert env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0"
    assert env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] == "-1"
    assert env["JAX_COMPILATION_CACHE_MAX_SIZE"] == str(2**30)
    assert not Path(folder).is_relative_to(Path.cwd())
    assert compile_cache.configure(env) == folder  # idempotent


def test_location_follows_invariants_cache_dir_then_xdg():
    assert compile_cache.configure(env := _fresh_env(INVARIANTS_CACHE_DIR="/scratch/inv")) == "/scratch/inv/jax"
    assert env["JAX_COMPILATION_CACHE_DIR"] == "/scratch/inv/jax"
    assert compile_cache.configure(_fresh_env(XDG_CACHE_HOME="/xdg")) == "/xdg/invariants/jax"


@pytest.mark.parametrize("value", ["1", "yes"])
def test_off_switch_sets_nothing(value):
    env = _fresh_env(INVARIANTS_NO_COMPILE_CACHE=value)
    before = dict(env)
    assert compile_cache.configure(env) is None
    assert env == before


def test_off_switch_zero_or_empty_means_on():
    assert compile_cache.configure(_fresh_env(INVARIANTS_NO_COMPILE_CACHE="0")) is not None
    assert compile_cache.configure(_fresh_env(INVARIANTS_NO_COMPILE_CACHE="")) is not None


def test_users_own_cache_folder_is_kept():
    env = _fresh_env(JAX_COMPILATION_CACHE_DIR="/mine")
    assert compile_cache.configure(env) == "/mine"
    assert env == _fresh_env(JAX_COMPILATION_CACHE_DIR="/mine")  # nothing of ours added to the user's cache


class _Config:
    def __init__(self, cache_dir=None):
        self.jax_compilation_cache_dir = cache_dir
        self.updates: list[tuple[str, object]] = []

    def update(self, name, value):
        self.updates.append((name, value))
        setattr(self, name, value)


def test_once_jax_is_imported_it_updates_jax_config(monkeypatch):
    fake = types.SimpleNamespace(config=_Config())
    monkeypatch.setitem(sys.modules, "jax", fake)
    env = _fresh_env()
    folder = compile_cache.configure(env)
    assert folder == "/home/someone/.cache/invariants/jax"
    assert fake.config.updates == [("jax_compilation_cache_dir", folder), *compile_cache.SETTINGS]
    assert env == _fresh_env()  # the config, not the environment
    mine = types.SimpleNamespace(config=_Config("/mine"))
    monkeypatch.setitem(sys.modules, "jax", mine)
    assert compile_cache.configure(_fresh_env()) == "/mine" and mine.config.updates == []
    off = types.SimpleNamespace(config=_Config())
    monkeypatch.setitem(sys.modules, "jax", off)
    assert compile_cache.configure(_fresh_env(INVARIANTS_NO_COMPILE_CACHE="1")) is None and off.config.updates == []


def test_plugin_configures_the_cache(pytester, monkeypatch):
    calls = []
    monkeypatch.setattr(compile_cache, "configure", lambda *a, **k: calls.append(1))
    pytester.makepyfile("def test_x():\n    pass\n")
    pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert calls, "the plugin's pytest_configure did not configure the compile cache"


def test_cli_configures_the_cache_before_the_command_runs(monkeypatch):
    import invariants.cli as cli

    calls = []
    monkeypatch.setattr(compile_cache, "configure", lambda *a, **k: calls.append(1))
    assert cli.main(["verify", "--json", "/no/such/folder/x.json"]) == 2  # refused at once, after configuring
    assert calls


def test_jax_writes_compiled_programs_to_the_configured_folder(tmp_path):
    """End to end: configured before ``import jax`` (as the CLI and the plugin do), one compiled program lands
    in the cache folder, with JAX's options as documented."""
    pytest.importorskip("jax")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "INVARIANTS_"))}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["INVARIANTS_CACHE_DIR"] = str(tmp_path)
    code = ("from invariants.core import compile_cache\n"
            "compile_cache.configure()\n"
            "import jax, jax.numpy as jnp\n"
            "jax.jit(lambda x: x * 2 + 1)(jnp.arange(3.0)).block_until_ready()\n"
            "print(jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tmp_path / "jax"), "0.0"]
    assert any((tmp_path / "jax").iterdir()), "no compiled program was written to the cache"


def test_numba_cache_goes_under_the_user_cache_and_keeps_the_users_own(monkeypatch):
    """The exact kernel's compiled loops (invariants.reference.compiled): ``NUMBA_CACHE_DIR`` under the cache
    root (never the project), a folder the user chose kept, nothing set with the off switch."""
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    env = _fresh_env(INVARIANTS_CACHE_DIR="/scratch/inv")
    assert compile_cache.configure_numba(env) == "/scratch/inv/numba" == env["NUMBA_CACHE_DIR"]
    assert compile_cache.configure_numba(_fresh_env()) == "/home/someone/.cache/invariants/numba"
    assert compile_cache.configure_numba(_fresh_env(NUMBA_CACHE_DIR="/mine")) == "/mine"
    env = _fresh_env(INVARIANTS_NO_COMPILE_CACHE="1")
    assert compile_cache.configure_numba(env) is None and "NUMBA_CACHE_DIR" not in env
