"""Rendering of verify results: plain-text tables and progress output (no third-party dependencies)."""
from __future__ import annotations

from invariants.report.table import Progress, render_failures, render_table, render_verify

__all__ = ["Progress", "render_failures", "render_table", "render_verify"]
