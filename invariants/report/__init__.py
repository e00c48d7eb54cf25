"""The documentation site (``invariants report``; figures need the ``docs`` extra).

:mod:`~invariants.report.site` (build, write, drift check), :mod:`~invariants.report.pages` (Markdown
pages), :mod:`~invariants.report.figures` (matplotlib figures), :mod:`~invariants.report.formulas`
(SymPy expressions as LaTeX), :mod:`~invariants.report.markdown` (escaping, LaTeX to MathML),
:mod:`~invariants.report.reliability` (the reliability data), :mod:`~invariants.report.layout` (where
``--out`` puts the site), :mod:`~invariants.report.sitefiles` (its mkdocs.yml and stylesheet),
:mod:`~invariants.report.cli_report` (the subcommand).  Terminal tables and progress output are
:mod:`invariants.render`'s.
"""
