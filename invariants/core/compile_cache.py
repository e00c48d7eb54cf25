"""Persistent compilation caches: JAX's (and Keras' and Flax's on JAX), set up before the first compile,
and numba's, for the exact kernel's optional compiled loops (:func:`configure_numba`, folder
``cache_root()/numba``, the same off switch).

Auditing JAX's or Keras' catalogue is dominated by XLA compiles (issue 17: 17.8 of 24.7 s of the JAX
sampler's time), and every new process (the CLI, each xdist worker of a test run) compiled the same
programs again.  :func:`configure` points JAX's persistent cache (``jax_compilation_cache_dir``) at a
per-user folder and lets it store every program (``jax_persistent_cache_min_compile_time_secs=0``,
``jax_persistent_cache_min_entry_size_bytes=-1``: no size floor; at most 1 GiB, least recently used
entries evicted first: ``jax_compilation_cache_max_size``), so the second process reads compiled programs
instead of compiling them.  The cache holds compiled programs only, never results: a verdict
cannot depend on it.

Where (first that applies):

- ``INVARIANTS_NO_COMPILE_CACHE=1`` (any value but ``""``/``0``): off; nothing is set;
- a cache folder the user already chose (``JAX_COMPILATION_CACHE_DIR`` in the environment, or
  ``jax.config.jax_compilation_cache_dir`` already set): kept as it is;
- ``$INVARIANTS_CACHE_DIR/jax`` when set, else ``$XDG_CACHE_HOME/invariants/jax``, else
  ``~/.cache/invariants/jax`` — never the current (project) folder.

Called by the CLI (:func:`invariants.cli.main`), the pytest plugin (``pytest_configure``) and the test
suite's ``conftest.py``.  It does not import JAX: before JAX is imported it sets the ``JAX_*`` environment
variables JAX reads at import (so child processes inherit them too); once JAX is imported it calls
``jax.config.update`` instead.  Source of the option names: ``jax/_src/config.py``
(``compilation_cache_dir``, ``persistent_cache_min_compile_time_secs``,
``persistent_cache_min_entry_size_bytes``, ``compilation_cache_max_size``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, MutableMapping

#: environment variable that turns the cache off (documented in the README and ``invariants --help``)
OFF_SWITCH = "INVARIANTS_NO_COMPILE_CACHE"
#: environment variable naming the cache root (JAX's programs go to its ``jax`` subfolder)
CACHE_DIR_VAR = "INVARIANTS_CACHE_DIR"

#: the JAX options set, as (config name, value); the environment variable is the name upper-cased
SETTINGS = (("jax_persistent_cache_min_compile_time_secs", 0), ("jax_persistent_cache_min_entry_size_bytes", -1),
            ("jax_compilation_cache_max_size", 2**30))
_DIR_OPTION = "jax_compilation_cache_dir"


def disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``INVARIANTS_NO_COMPILE_CACHE`` is set to anything but ``""`` or ``"0"``."""
    return environ.get(OFF_SWITCH, "").strip() not in ("", "0")


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """The per-user cache root: ``$INVARIANTS_CACHE_DIR``, else ``$XDG_CACHE_HOME/invariants``, else
    ``~/.cache/invariants`` (absolute; a relative ``INVARIANTS_CACHE_DIR`` is taken from the current folder,
    as the user asked)."""
    chosen = environ.get(CACHE_DIR_VAR, "").strip()
    if chosen:
        return Path(chosen).expanduser().absolute()
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    home = Path(environ["HOME"]) if environ.get("HOME", "").strip() else Path.home()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache"
    return (base / "invariants").absolute()


def jax_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where :func:`configure` puts JAX's compiled programs (``cache_root()/jax``)."""
    return cache_root(environ) / "jax"


def numba_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where :func:`configure_numba` puts numba's compiled functions (``cache_root()/numba``)."""
    return cache_root(environ) / "numba"


def configure_numba(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """Point numba's on-disk cache (``NUMBA_CACHE_DIR``) at :func:`numba_cache_dir` for the exact kernel's
    compiled loops (:mod:`invariants.reference.compiled`), unless switched off; a folder the user chose
    (``NUMBA_CACHE_DIR`` already set) is kept.  Sets the environment variable (read by numba at import;
    child processes inherit it) and, when numba is already imported, ``numba.config.CACHE_DIR``.

    Returns:
        The cache folder, or ``None`` when switched off with ``INVARIANTS_NO_COMPILE_CACHE`` (the caller
        then compiles without caching: numba's own default would write next to the package's sources).
    """
    if disabled(environ):
        return None
    folder = environ.get("NUMBA_CACHE_DIR") or str(numba_cache_dir(environ))
    environ["NUMBA_CACHE_DIR"] = folder
    numba = sys.modules.get("numba")
    config = getattr(numba, "config", None) if numba is not None else None
    if config is not None and not getattr(config, "CACHE_DIR", ""):
        config.CACHE_DIR = folder
    return folder


def configure(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """Turn on JAX's persistent compilation cache unless switched off; idempotent, cheap, imports nothing.

    Returns:
        The cache folder in use (the user's own choice when they made one), or ``None`` when switched off
        with ``INVARIANTS_NO_COMPILE_CACHE``.  Never raises: a folder that cannot be created is left to
        JAX, which only warns when it cannot write a cache entry.
    """
    if disabled(environ):
        return None
    jax = sys.modules.get("jax")
    config = getattr(jax, "config", None) if jax is not None else None
    if config is not None:
        current = getattr(config, _DIR_OPTION, None)
        if current:  # the user's own cache (or ours, set before): left alone
            return str(current)
        folder = str(jax_cache_dir(environ))
        config.update(_DIR_OPTION, folder)
        for name, value in SETTINGS:
            config.update(name, value)
        return folder
    if environ.get(_DIR_OPTION.upper()):  # the user's own cache: left alone
        return environ[_DIR_OPTION.upper()]
    folder = str(jax_cache_dir(environ))
    environ[_DIR_OPTION.upper()] = folder
    for name, value in SETTINGS:
        environ.setdefault(name.upper(), str(value))
    return folder


__all__ = ["CACHE_DIR_VAR", "OFF_SWITCH", "SETTINGS", "cache_root", "configure", "configure_numba", "disabled",
           "jax_cache_dir", "numba_cache_dir"]
