"""The package's architecture as a short diagram: one source for the README's Layout section and the
methods page (``tests/report/test_architecture.py`` keeps the README in step with it).

The layers are the import-linter contract in ``pyproject.toml`` (each imports only those below it),
checked by ``tests/core/test_layering.py``.
"""
from __future__ import annotations

#: Data flow (top) and layers (bottom), as a fenced text block's body.
DIAGRAM = """\
seed text ─► claims (one module per claim) ─► evidence ─► verify ─► render ─► cli / docs
                 │            │
                 │     experiments ─► symbolic (SymPy) · reference network (numpy, exact) · stats
framework ─► frameworks/<name> ─► subjects (tensor + layer + Layout) ─► audit ──────► result
model     ─► frameworks/<name> ─► model view (params, layers, probe)  ─► modelcheck ─► result
factory   ─► model at each width/depth × seeds ─► second moments, ΔW·x ─► scaling ──► result
                                                  stats/battery ─► α budget from the checks run

layers (each imports only those below it):
  cli                        verify | audit | identify | check-model | scale-check | report
  report                     documentation pages and figures
  render                     terminal tables, progress, JSON text (no engine imports)
  testing | verify           assert_* helpers, pytest plugin; the claims runner
  claims | modelcheck | audit | scaling   the engines, independent of each other
  frameworks                 Framework interface, registry + entry points, conformance suite
  experiments | studies | strategies | symbolic
  propagation | symmetry | hypothesis_profiles
  layers | stats             layer types + Layout data; tests, batteries, α budget
  reference | specs · laws · core | schemas   numpy network; specs; laws; errors, results; JSON Schemas"""


def markdown() -> str:
    """The diagram as a Markdown fenced block (no trailing newline)."""
    return "```\n" + DIAGRAM + "\n```"
