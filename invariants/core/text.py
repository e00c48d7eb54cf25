"""Plain-text building blocks shared by every result's ``__str__`` and by :mod:`invariants.render`.

They sit in the bottom layer so an engine result (a verify, audit, fingerprint or model-check report)
can describe itself without importing the render layer above it.
"""
from __future__ import annotations

from typing import Sequence


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A plain-text table: columns two spaces apart, trailing blanks stripped.

    Args:
        headers: one title per column.
        rows: one sequence of cell texts per row, as many cells as headers.
        align: one character per column, ``l`` (left) or ``r`` (right); default all ``l``.

    Raises:
        ValueError: a row or ``align`` does not have one entry per header.
    """
    ncols = len(headers)
    align = align or "l" * ncols
    if len(align) != ncols or any(len(row) != ncols for row in rows):
        raise ValueError("every row and the alignment must have one entry per header")
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align)]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers)] + [line(row) for row in rows])
