"""Per-worker timeline of a test run: a pytest plugin and its summary (used by ``scaleout.py --timeline``).

Loaded with ``-p suite_timeline`` (this folder on ``PYTHONPATH``) and ``SUITE_TIMELINE_DIR`` naming a folder,
each pytest process (the xdist controller and every worker) appends one JSON line per event to
``<dir>/<worker>.jsonl``: when it was configured (after Python, pytest and its plugins loaded: the collection
time printed starts there), when its collection finished (wall and its own CPU seconds), and per
test the wall interval of its whole protocol (setup, call, teardown) and the process's CPU seconds during it.
:func:`summary` reads them back: per worker its collection time, when its first and last test ran, its busy
time and CPU, and how long it sat idle at the end while another worker still ran (the cost of a schedule that
balances badly), and the largest xdist groups with the worker and the interval they ran in.

CPU is ``time.process_time()`` of the worker itself: processes a test starts (the CLI, mkdocs, a browser) are
not in it.  Without ``SUITE_TIMELINE_DIR`` the plugin does nothing.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

#: the folder of the event files (one per process); unset: the plugin records nothing
DIR_VAR = "SUITE_TIMELINE_DIR"
#: the ``@group`` suffix xdist's loadgroup scheduling adds to a grouped test's id
_GROUP = re.compile(r"@([^\[\]@]*)$")

_out: Any = None


def _write(event: dict[str, Any]) -> None:
    if _out is not None:
        _out.write(json.dumps(event) + "\n")
        _out.flush()


def pytest_configure(config: pytest.Config) -> None:
    global _out
    folder = os.environ.get(DIR_VAR)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    _out = open(Path(folder) / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.jsonl", "a", encoding="utf-8")
    _write({"ev": "start", "t": time.time(), "cpu": time.process_time()})


def pytest_collection_finish(session: pytest.Session) -> None:
    _write({"ev": "collected", "t": time.time(), "cpu": time.process_time()})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    t, c = time.time(), time.process_time()
    yield
    _write({"ev": "test", "id": item.nodeid, "t0": t, "t1": time.time(), "cpu": time.process_time() - c})


def summary(folder: Path, top: int = 6) -> list[str]:
    """Lines describing the run recorded in ``folder`` (see the module docstring); ``[]`` when nothing was."""
    workers = {}
    for path in sorted(Path(folder).glob("gw*.jsonl")):
        events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        tests = [e for e in events if e["ev"] == "test"]
        start = next((e for e in events if e["ev"] == "start"), None)
        collected = next((e for e in events if e["ev"] == "collected"), None)
        if tests and start and collected:
            workers[path.stem] = (start, collected, tests)
    if not workers:
        return []
    t0 = min(s["t"] for s, _, _ in workers.values())
    end = max(e["t1"] for _, _, tests in workers.values() for e in tests)
    lines = []
    groups: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, float("inf"), 0.0])
    for name, (start, collected, tests) in workers.items():
        first, last = min(e["t0"] for e in tests), max(e["t1"] for e in tests)
        busy, cpu = sum(e["t1"] - e["t0"] for e in tests), sum(e["cpu"] for e in tests)
        lines.append(f"{name}: collection {collected['t'] - start['t']:.1f} s ({collected['cpu'] - start['cpu']:.1f} "
                     f"CPU-s); tests from {first - t0:.1f} to {last - t0:.1f} s: {len(tests)} tests, busy "
                     f"{busy:.1f} s, {cpu:.1f} CPU-s; idle at the end {end - last:.1f} s")
        for e in tests:
            m = _GROUP.search(e["id"])
            if m:
                g = groups[(m.group(1), name)]
                g[0] += e["t1"] - e["t0"]
                g[1] += e["cpu"]
                g[2], g[3] = min(g[2], e["t0"] - t0), max(g[3], e["t1"] - t0)
    for (group, name), (wall, cpu, a, b) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"  group {group} on {name}: {wall:.1f} s, {cpu:.1f} CPU-s, from {a:.1f} to {b:.1f} s")
    return lines


__all__ = ["DIR_VAR", "summary"]
