"""Rendering of results.

- :mod:`invariants.report.table`: plain-text tables and progress output of ``invariants verify`` (no
  third-party dependencies; re-exported here).
- The documentation site (``invariants report``, imported on demand; figures need the ``docs`` extra):
  :mod:`~invariants.report.site` (build, write, drift check), :mod:`~invariants.report.pages` (Markdown
  pages), :mod:`~invariants.report.figures` (matplotlib figures), :mod:`~invariants.report.formulas`
  (SymPy expressions as LaTeX), :mod:`~invariants.report.markdown` (escaping),
  :mod:`~invariants.report.cli_report` (the subcommand).
"""
from __future__ import annotations

from invariants.report.table import Progress, render_failures, render_table, render_verify

__all__ = ["Progress", "render_failures", "render_table", "render_verify"]
