"""Shared helpers of the benchmark scripts: paths, load warnings, tables, the mutation catalogue.

The benchmarks are plain scripts (``python benchmarks/<name>.py``), run by hand from a checkout; they
are not part of the test suite.  Each prints its figures as a table with the ratios measured side by
side in the same run, plus the machine load before and after: a timing taken with a 1-minute load
average above :data:`LOAD_WARN` (more runnable processes than ~1.5 on this machine's cores) is marked
as such, because other processes then share the cores.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# the shared fixtures live in tests/, the mutation catalogue in tests/audit/
for p in (str(ROOT), str(TESTS), str(TESTS / "audit")):
    if p not in sys.path:
        sys.path.insert(0, p)

LOAD_WARN = 1.5


def load() -> float:
    """1-minute load average (``nan`` where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


_START_LOAD = [float("nan")]


def header(title: str) -> float:
    """Print the benchmark title and the machine; return the start time."""
    _START_LOAD[0] = load()
    print(f"# {title}")
    print(f"# python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}, "
          f"load average {_START_LOAD[0]:.2f} at start")
    return time.perf_counter()


def footer(t0: float, timing: bool = True) -> None:
    """Print the wall time and, for timing benchmarks, a warning when the machine was loaded at the start
    (the load at the end includes this benchmark's own processes)."""
    la, l0 = load(), _START_LOAD[0]
    print(f"# wall time {time.perf_counter() - t0:.1f} s; load average {la:.2f} at end (this benchmark included)")
    if timing and l0 > LOAD_WARN:
        print(f"# WARNING: load average {l0:.2f} > {LOAD_WARN} at the start: other processes shared the cores; "
              "the timings above are inflated (ratios measured in the same run are less affected). "
              "Rerun on an idle machine.")


#: where ``--record`` stores the figures that the README table and the docs methods page are rendered from
RECORD_DEFAULT = ROOT / "docs" / "data" / "benchmarks.json"


def cpu() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere) and the SIMD level its
    floating-point libraries picked (:func:`invariants.report.platform.describe`): verify ran about 2× slower on
    the AVX2 machine of 2026-12-06 than on the AVX-512 one before it, so a recorded figure names its CPU."""
    from invariants.report.platform import describe
    from invariants.report.platform import platform as fp_platform

    name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            name = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:  # not Linux
        pass
    return f"{name or platform.processor() or 'unknown CPU'} ({describe(fp_platform())})"


def machine() -> str:
    """The machine and library versions a figure was measured with, in one line."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"{os.cpu_count()} cores", cpu(), f"Python {platform.python_version()}"]
    for dist in ("numpy", "scipy", "torch", "jax", "flax", "keras"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:  # an optional framework that is not installed
            pass
    return ", ".join(parts)


def record(path: str | os.PathLike[str] | None, section: str, payload: dict[str, Any], part: str | None = None) -> None:
    """Store one benchmark's figures as ``section`` of the JSON file ``path`` (other sections are kept).

    The section gets the date, the command line, the machine and the load average at the start, so
    that the rendered tables say when and where they were measured.  ``part`` (a partial run, e.g.
    ``--only AB``): ``payload``'s keys replace those of the recorded section, the others are kept, and the
    part's own date, command, machine and load go to ``section["parts"][part]`` (the section's keep
    describing the run that measured the rest).  ``path=None`` records nothing.  Sorted keys and a fixed
    indent keep the file's diffs readable.
    """
    if path is None:
        return
    p = Path(path)
    data = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
    where = dict(measured=datetime.date.today().isoformat(), machine=machine(), cpu=cpu(),
                 load_at_start=round(_START_LOAD[0], 2),
                 command=" ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}"] + _args_without_record()))
    if part is not None and section in data:
        merged = dict(data[section], **payload)
        merged["parts"] = dict(data[section].get("parts", {}), **{part: where})
        data[section] = merged
    else:
        data[section] = dict(payload, **where)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"# recorded as '{section}' in {p}")


#: options left out of a recorded command line: where the output went, not how it was measured
_UNRECORDED = ("--record", "--log-dir")


def _args_without_record() -> list[str]:
    out, skip = [], False
    for a in sys.argv[1:]:
        if skip and not a.startswith("-"):
            skip = False
            continue
        skip = a in _UNRECORDED
        if not (skip or a.startswith(tuple(o + "=" for o in _UNRECORDED))):
            # another checkout's absolute path (``--baseline /home/me/main``) is this machine's, not the
            # method's: the published command names it DIR
            out.append("DIR" if os.path.isabs(a) and os.path.isdir(a) else a)
    return out


def record_arg(ap: Any) -> None:
    """Add ``--record [PATH]`` to a benchmark's argument parser."""
    ap.add_argument("--record", nargs="?", const=str(RECORD_DEFAULT), default=None, metavar="PATH",
                    help=f"store the figures in PATH (default {RECORD_DEFAULT.relative_to(ROOT)}), from which "
                         "the README table and the docs methods page are rendered")


def case_args(doc: str, cases: Sequence[str], run_case: Callable[[str], None],
              more: Callable[[Any], None] | None = None) -> Any:
    """The parsed ``--cases`` (comma-separated, default ``cases``) of a benchmark that runs each case in a fresh
    subprocess of itself (``--case NAME``, hidden); in such a subprocess the case is run here and ``None`` is
    returned.  ``more(parser)`` adds the script's own options."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--cases", default=",".join(cases))
    ap.add_argument("--case", help=argparse.SUPPRESS)
    if more is not None:
        more(ap)
    args = ap.parse_args()
    if args.case:
        sys.path.insert(0, str(ROOT))
        run_case(args.case)
        return None
    return args


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A plain aligned text table (also valid Markdown with the ``|`` separators)."""
    rows = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)) + " |"

    sep = "|" + "|".join(("-" * (w + 2)) if a == "l" else ("-" * (w + 1) + ":") for w, a in zip(widths, align)) + "|"
    return "\n".join([line(list(headers)), sep] + [line(r) for r in rows])


def _fmt(c: Any) -> str:
    if isinstance(c, float):
        if c != c:
            return "-"
        if c == 0 or 1e-3 <= abs(c) < 1e5:
            return f"{c:.4g}"
        return f"{c:.3g}"
    return str(c)


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best-of-``repeat`` wall time of ``fn()`` in seconds, and its last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def mutation_catalogue() -> tuple[list, list, Callable[[int], Any]]:
    """``(CORRECT, MUTANTS, cfg)`` of ``tests/audit/test_audit_mutations.py`` (the single source of truth)."""
    import test_audit_mutations as M

    return M.CORRECT, M.MUTANTS, M.cfg


def name_of(fn: Any) -> str:
    """The fixture's name in ``tests/audit_fixtures.py`` (closures such as ``m_var_plus5`` included)."""
    import audit_fixtures

    for k, v in vars(audit_fixtures).items():
        if v is fn and not k.startswith("_"):
            return k
    return getattr(fn, "__name__", repr(fn))


def pool_workers(n: int | None) -> int:
    return max(1, n if n else (os.cpu_count() or 1))


# ------------------------------------------------------------------------------ one audit of the catalogue


def _no_explanation(*args: Any, **kwargs: Any) -> tuple[str, int]:
    return "", 0


def skip_explanations() -> None:
    """Skip the search for the words that explain a deviation (it never changes a verdict).

    A verdict is ``deviates`` or ``documented-deviation`` before the explanation search runs; the
    search only names the fan or constant behind the deviation, and it costs up to 40 extra batteries
    of checks per mutant.  Calibration and kill rates count verdicts, so the benchmarks skip it.
    """
    from invariants.audit import auditor

    auditor.explain = _no_explanation


def pytorch_style_killed(law: Any, x: Any) -> bool:
    """PyTorch's own initializer test (``test/nn/test_init.py``) applied to the values ``x``.

    Continuous laws: one-sample Kolmogorov-Smirnov against the promised law, failed at ``p <= 1e-4``
    (``_is_normal``, ``_is_uniform``, ``_is_trunc_normal``).  Constants: equality within
    ``assertEqual``'s float tolerances.  Orthogonal: ``Q^T Q == gain^2 I`` within ``atol = 1e-6``
    (``test_orthogonal``); ``x`` is then a list of tensors, each tested.
    """
    import numpy as np
    from scipy import stats

    from invariants.laws import as_matrix

    if law.kind == "orthogonal":
        for d in x:
            m = as_matrix(np.asarray(d, dtype=np.float64), law.unit_axis)
            g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
            if not np.allclose(g, np.eye(g.shape[0]) * law.gain**2, rtol=0, atol=1e-6):
                return True
        return False
    x = np.asarray(x, dtype=np.float64).ravel()
    if law.kind == "constant":
        return not np.allclose(x, law.mean, rtol=1.3e-6, atol=1e-5)
    return bool(stats.kstest(x, law.dist().cdf).pvalue <= 1e-4)


#: values of one tensor in PyTorch's tests: 2-D tensors of 20..25 per side (400..625 values)
PYTORCH_N = 625


def audit_case(fn: Any, spec: str, layer: str, cfg: Any) -> dict[str, Any]:
    """Audit ``fn`` exactly as ``invariants.audit.initializer`` does, and run PyTorch-style tests on the
    same draws: on all the values the auditor pooled (equal n) and on the first :data:`PYTORCH_N`
    values of the first draw (PyTorch's n).

    Returns ``{"verdict", "n", "mde", "pt_equal_n", "pt_small_n", "p_values": {check: p}}``.
    """
    import numpy as np

    from invariants.audit import initializer
    from invariants.audit.auditor import audit_units
    from invariants.frameworks.registry import get_framework
    from invariants.frameworks.subjects import Expectation
    from invariants.layers import parse_layer
    from invariants.specs import Orthogonal, parse_spec

    target = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', name_of(fn))}"
    draws: list = []

    def recording(shape: Any, rng: Any) -> Any:
        out = fn(shape, rng)
        draws.append(np.array(out, copy=True))
        return out

    report = initializer(recording, expect=spec, layer=layer, config=cfg, target=target)
    (res,) = report.results
    adapter = get_framework("numpy")
    spec_obj = parse_spec(spec)
    if isinstance(spec_obj, Orthogonal):
        spec_obj = spec_obj.for_unit_axis(adapter.layout.unit_axis)
    subject = adapter.subject_for(fn, parse_layer(layer), Expectation(spec_obj), target)
    law = audit_units(subject)[0].expected
    if law.kind == "orthogonal":
        pt_equal, pt_small = pytorch_style_killed(law, draws), pytorch_style_killed(law, draws[:1])
    else:
        pool = np.concatenate([d.ravel() for d in draws])
        pt_equal = pytorch_style_killed(law, pool)
        pt_small = pytorch_style_killed(law, draws[0].ravel()[:PYTORCH_N])
    return {
        "verdict": res.verdict,
        "n": res.n,
        "mde": res.min_detectable_rel_error,
        "pt_equal_n": pt_equal,
        "pt_small_n": pt_small,
        "p_values": {c.name: c.p_value for c in res.checks},
        "alpha": report.alpha,
        "n_checks": len(res.checks),
    }
