"""The render layer: terminal tables, progress lines and JSON text of every command's result.

- :mod:`~invariants.render.verify`: ``invariants verify`` (table, failed evidence, :class:`Progress`);
- :mod:`~invariants.render.audit`: ``invariants audit`` / ``identify`` (table, findings, fingerprint,
  :class:`AuditProgress`);
- :mod:`~invariants.render.model`: ``invariants check-model`` (findings, variance table, signal profile);
- :mod:`~invariants.render.scale`: ``invariants scale-check`` (findings, slope table, coverage);
- :mod:`~invariants.render.json`: the ``--json`` text.

It reads results through their attributes and imports no engine (claims, audit, modelcheck): rendering
an audit does not load the claim registry (``tests/core/test_layering.py``).  The shared text helpers
(:func:`render_table`) live in :mod:`invariants.core.text` so results' ``__str__`` can use them too.
"""
from __future__ import annotations

from invariants.core.text import render_table
from invariants.render.audit import AuditProgress, render_audit, render_audit_findings, render_fingerprint
from invariants.render.json import json_text
from invariants.render.progress import Ticker
from invariants.render.model import render_model, render_model_findings, render_signal, render_tensors
from invariants.render.scale import render_scale, render_scale_findings
from invariants.render.verify import Progress, render_claim_list, render_failures, render_verify

__all__ = [
    "AuditProgress",
    "Progress",
    "Ticker",
    "json_text",
    "render_audit",
    "render_audit_findings",
    "render_claim_list",
    "render_failures",
    "render_fingerprint",
    "render_model",
    "render_model_findings",
    "render_scale",
    "render_scale_findings",
    "render_signal",
    "render_table",
    "render_tensors",
    "render_verify",
]
