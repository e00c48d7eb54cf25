"""Render the zoo table (Markdown) from :data:`tests.zoo.models.ZOO` and the measurements in ``current.json``.

``python3 tests/zoo/table.py [current.json]`` prints three tables: the models (expected vs. current verdict,
false accusation, coverage, probe, time), the findings per model, and the planted faults (caught or missed).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.zoo.models import ERRORS, HEALTHY, ZOO  # noqa: E402

CURRENT = Path(__file__).with_name("current.json")


def verdict_word(rec: dict | None) -> str:
    """``healthy`` / ``errors`` / ``crash`` / ``—`` from a measurement record (exit code first)."""
    if rec is None:
        return "—"
    return {0: HEALTHY, 1: ERRORS}.get(rec.get("rc"), f"crash (rc {rec.get('rc')})")


def coverage(rec: dict | None) -> str:
    if not rec or "n_values" not in rec or "analysed_tensors" not in rec:
        return "—"
    return (f"{rec['analysed_tensors']}/{rec['n_tensors']} t, "
            f"{100 * rec['analysed_values'] / max(rec['n_values'], 1):.0f}% v")


def false_accusation(expected: str, rec: dict | None) -> str:
    if rec is None:
        return "—"
    return "**y**" if expected == HEALTHY and rec.get("rc") != 0 else "n"


def missed(expected: str, rec: dict | None) -> bool:
    return rec is not None and expected == ERRORS and rec.get("rc") == 0


def models_table(results: dict) -> str:
    head = ("| model | source | family | expected | current | false accusation? | coverage (tensors, values) "
            "| probe ok? (example / bare) | time s |\n|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for z in ZOO:
        rec, bare = results.get(z.name), results.get(f"{z.name}__bare")
        probe = "/".join("—" if r is None else ("y" if r.get("probe_ok") else "**n**") for r in (rec, bare))
        cur = verdict_word(rec)
        if rec and rec.get("findings"):
            e = sum(f["severity"] == "error" for f in rec["findings"])
            cur += f" ({e} err, {len(rec['findings']) - e} notes)"
        rows.append(f"| {z.name} | {z.source} | {z.family} | {z.expected} | {cur} | {false_accusation(z.expected, rec)} "
                    f"| {coverage(rec)} | {probe} | {rec.get('wall_s', '—') if rec else '—'} |")
    return head + "\n".join(rows) + "\n"


def init_table() -> str:
    head = "| model | init code (installed source) | intended exceptions |\n|---|---|---|\n"
    return head + "\n".join(f"| {z.name} | {z.init} | {'; '.join(z.intended) or '—'} |" for z in ZOO) + "\n"


def findings_table(results: dict) -> str:
    head = "| target | severity | kind | tensors | message |\n|---|---|---|---|---|\n"
    rows = []
    for z in ZOO:
        for tgt in (z.name, f"{z.name}__bare"):
            rec = results.get(tgt)
            for f in (rec or {}).get("findings", []):
                ps = ", ".join(f["params"]) + (f" (+{f['n_params'] - len(f['params'])})" if f["n_params"] > len(f["params"]) else "")
                msg = f["message"].replace("|", "\\|")
                rows.append(f"| {tgt} | {f['severity']} | {f['kind']} | {ps} | {msg} |")
    return head + "\n".join(rows) + "\n"


def new_errors(rec: dict | None, clean: dict | None) -> list[dict]:
    """Error findings of a faulted model that the clean model does not have (same kind and first tensors)."""
    seen = {(f["kind"], tuple(f["params"])) for f in (clean or {}).get("findings", []) if f["severity"] == "error"}
    return [f for f in (rec or {}).get("findings", []) if f["severity"] == "error"
            and (f["kind"], tuple(f["params"])) not in seen]


def faults_table(results: dict) -> str:
    head = ("| target | fault (tensor) | current exit | caught? (a new error vs. the clean model) | new errors |\n"
            "|---|---|---|---|---|\n")
    rows = []
    for z in ZOO:
        for fault, tensor in z.faults.items():
            rec = results.get(f"{z.name}__{fault}")
            new = new_errors(rec, results.get(z.name))
            caught = "—" if rec is None else ("y" if new else "**n (missed)**")
            desc = ", ".join(f"{f['kind']} ({', '.join(f['params'][:2])})" for f in new) or "—"
            rows.append(f"| {z.name}__{fault} | {fault} ({tensor}) | {rec.get('rc') if rec else '—'} | {caught} | "
                        f"{desc} |")
    return head + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else CURRENT
    results = json.loads(path.read_text()) if path.exists() else {}
    print("## Models\n\n" + models_table(results))
    print("## Init code and intended exceptions\n\n" + init_table())
    print("## Planted faults\n\n" + faults_table(results))
    print("## Findings\n\n" + findings_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
