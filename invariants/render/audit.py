"""Terminal output of audits (:class:`invariants.audit.auditor.AuditReport`) and fingerprints
(:class:`invariants.audit.fingerprint.Fingerprint`): a table per run, the findings below it, and a
progress indicator.  Reads the results' attributes only; imports no engine."""
from __future__ import annotations

import textwrap
from typing import Any

from invariants.core.text import render_table
from invariants.render.progress import TerminalProgress

_SHORT = {"conforms": "conforms", "deviates": "DEVIATES", "documented-deviation": "documented",
          "skipped": "skipped", "error": "ERROR"}


def _g(x: float | None, fmt: str = ".4g") -> str:
    return "-" if x is None else format(x, fmt)


#: the summary's key to the ``detects`` column (:func:`detects`), in the methods page's words ("the smallest
#: effect it detects with power 0.99")
DETECTS_NOTE = ("'detects' = the smallest relative variance error detected with power 0.99 (larger errors are "
                "detected too, smaller ones may be)")
#: the key to ``exact`` in the ``detects`` column, printed when a row shows it
EXACT_NOTE = "'exact' = every value checked against the law (a constant, identity, dirac): any error is detected"


def detects(rel_error: float | None) -> str:
    """The ``detects`` cell: a percentage, ``exact`` for 0 (an exact check: constants, identity and dirac
    laws), ``-`` when the result states none (not audited, or no variance to resolve)."""
    if rel_error is None:
        return "-"
    return "exact" if rel_error == 0 else f"{100 * rel_error:.2g}%"


#: the audit table's columns, least important first: dropped in this order to fit a terminal
AUDIT_DROP = (7, 8, 3, 4, 5, 2)


def render_audit(report: Any, width: int | None = None, details: bool = True) -> str:
    """The results table, a summary line and (``details``) the findings (:func:`render_audit_findings`),
    separated by blank lines.

    Args:
        report: an :class:`~invariants.audit.auditor.AuditReport`.
        width: fit every line in this many characters (a terminal's width): the table drops columns
            (:data:`AUDIT_DROP`: n, detects, shape, the variances, layer) and cuts the target; text wraps.
            ``None``: the full table, text wrapped at 110.
        details: append the findings.
    """
    rows = []
    for r in report.results:
        ratio = r.ratio
        rows.append([
            _SHORT.get(r.verdict, r.verdict),
            r.target,
            r.layer or "-",
            "x".join(map(str, r.shape)) or "-",
            _g(r.expected_variance),
            _g(r.observed_variance),
            _g(ratio, ".4f"),
            str(r.n),
            detects(r.min_detectable_rel_error),
        ])
    parts = [render_table(["verdict", "target", "layer", "shape", "expected var", "observed var", "ratio", "n",
                           "detects"], rows, "lllllrrrr", max_width=width, drop=AUDIT_DROP)]
    c = report.counts()
    # progress counts subjects (one call of an initializer); one subject can yield several tensors (packed blocks)
    n_subjects = getattr(report, "n_subjects", 0)
    summary = ((f"{n_subjects} subjects, " if n_subjects else "") + f"{len(report.results)} tensors: {c['conforms']} conform, {c['documented-deviation']} documented "
               f"deviations, {c['deviates']} deviate" + (f", {c['error']} errors" if c["error"] else "")
               + (f", {c['skipped']} skipped" if c["skipped"] else "")
               + f" in {report.seconds:.1f}s ({getattr(report, 'timed', 'drawing and testing')})")
    if report.n_checks:
        summary += (f"; {report.n_checks} checks at alpha {report.alpha:.2g} each (family-wise <= "
                    f"{report.total_alpha:.2g}); {DETECTS_NOTE}"
                    + (f"; {EXACT_NOTE}" if any(r.min_detectable_rel_error == 0 for r in report.results) else ""))
    parts.append(textwrap.fill(summary, width or 110))
    if getattr(report, "coverage", ""):  # right under the counts: a "conform" never stands without it
        parts[-1] += "\n" + textwrap.fill(report.coverage, width or 110)
    if getattr(report, "determinism", ""):  # what the seed checks covered, or that they did not run
        parts[-1] += "\n" + textwrap.fill(report.determinism, width or 110)
    if details:
        findings = render_audit_findings(report, width or 110)
        if findings:
            parts.append(findings)
    return "\n\n".join(parts)


def render_audit_findings(report: Any, width: int = 110) -> str:
    """Every result that does not conform (deviations, documented deviations, errors, skipped audits), with
    the call that drew it, its message and the failed checks the message does not name, under ``Findings:``; ``""`` when every result conforms.

    ``invariants audit --quiet`` prints this alone when the audit is not ok (and the report's coarser-resolution
    line, :attr:`~invariants.audit.auditor.AuditReport.coverage`, whenever there is one).
    """
    blocks = []
    for r in report.results:
        if r.verdict == "conforms":
            continue
        head = f"{_SHORT.get(r.verdict, r.verdict)} {r.target}" + (f" [{r.layer}]" if r.layer else "")
        if r.call:
            head += "\n" + textwrap.fill(f"call: {r.call}", width, initial_indent="    ", subsequent_indent="      ")
        body = textwrap.fill(r.message, width=width, initial_indent="    ", subsequent_indent="    ")
        unnamed = [c for c in r.checks if not c.passed and c.name not in r.message]
        if unnamed:  # every failed check the JSON lists is named here too (the message details at most three)
            label = ("failed against the expectation, passed by the documented rule: "
                     if r.verdict == "documented-deviation" else "other failed checks: ")
            body += "\n" + textwrap.fill(label + ", ".join(
                f"{c.name} (p = {c.p_value:.2g})" for c in unnamed), width=width, initial_indent="    ",
                subsequent_indent="      ")
        blocks.append(f"{head}\n{body}")
    return "Findings:\n" + "\n".join(blocks) if blocks else ""


def render_fingerprint(fp: Any, width: int = 110) -> str:
    """What :func:`invariants.audit.identify` found: the spec (or the closest candidate), a warning, the
    sampled layers' measured moments and the best candidates with their smallest p-value."""
    lines = [textwrap.fill(f"identified: {fp.text}" + ("" if fp.ok else "  (closest candidate; NO candidate passed "
                           "every check)"), width)]
    if getattr(fp, "coverage", ""):
        lines.append(textwrap.fill(fp.coverage, width))
    if fp.warning:
        lines.append(textwrap.fill(f"warning: {fp.warning}", width))
    rows = [[d["layer"], f"({d['fans'][0]}, {d['fans'][1]})", "x".join(map(str, d["shape"])), f"{d['variance']:.6g}",
             f"{d['mean']:.3g}", f"[{d['min']:.4g}, {d['max']:.4g}]", str(d["n"])] for d in fp.layers]
    lines.append("")
    lines.append(render_table(["layer", "textbook fans", "shape", "variance", "mean", "range", "n"], rows, "lllrrll",
                              max_width=width, drop=(6, 2, 5, 4)))
    lines.append("")
    lines.append("candidates tried (best first):")
    for e in fp.evidence[:8]:
        status = "PASS" if e.passed else "fail"
        why = "" if e.passed else f" ({'; '.join(e.failed[:2])})"
        lines.append(textwrap.fill(f"{status} {e.spec}: min p = {e.min_p:.3g}{why}", width=width,
                                   initial_indent="  ", subsequent_indent="      "))
    return "\n".join(lines)


class AuditProgress(TerminalProgress):
    """Progress for catalogue runs: on a terminal one updating line ``audit torch  40%|####        | 22/55
    subjects [00:31<00:46] torch.nn.init.orthogonal_`` (the count is of subjects, each one call of an
    initializer, which can yield several tensors; the summary line states both); nothing elsewhere
    (:class:`TerminalProgress`)."""

    def __init__(self, stream: Any = None, tty: Any = None, label: str = "audit") -> None:
        super().__init__(stream, tty)
        self.label = label

    def __call__(self, index: int, total: int, name: str, result: Any) -> None:
        self.update(index - (1 if result is None else 0), total, self.label, name, "subjects")
