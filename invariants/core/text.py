"""Plain-text building blocks shared by every result's ``__str__`` and by :mod:`invariants.render`.

They sit in the bottom layer so an engine result (a verify, audit, fingerprint or model-check report)
can describe itself without importing the render layer above it.
"""
from __future__ import annotations

import textwrap
from typing import Sequence

#: the narrowest a column is cut to (with ``…``) when dropping columns did not make the table fit
MIN_COLUMN = 8
#: the narrowest a wrapped last column may be; below it, columns are dropped first
WRAP_MIN = 40


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None,
                 max_width: int | None = None, drop: Sequence[int] = ()) -> str:
    """A plain-text table: columns two spaces apart, trailing blanks stripped.

    Args:
        headers: one title per column.
        rows: one sequence of cell texts per row, as many cells as headers.
        align: one character per column, ``l`` (left) or ``r`` (right); default all ``l``.
        max_width: fit every line in this many characters (a terminal's width; ``None``: no limit): a
            left-aligned last column wraps onto continuation lines under itself when that leaves it at least
            :data:`WRAP_MIN` characters; otherwise the columns in ``drop`` are left out, in that order, until it
            fits or the last column can wrap (at least :data:`MIN_COLUMN` characters once nothing is left to
            drop); then the widest left-aligned column is cut with ``…`` (never below :data:`MIN_COLUMN`).
        drop: column indices, least important first.

    Raises:
        ValueError: a row or ``align`` does not have one entry per header, or ``drop`` names no column.
    """
    ncols = len(headers)
    align = align or "l" * ncols
    if len(align) != ncols or any(len(row) != ncols for row in rows):
        raise ValueError("every row and the alignment must have one entry per header")
    if any(not 0 <= i < ncols for i in drop):
        raise ValueError(f"drop names a column outside 0..{ncols - 1}: {list(drop)}")
    keep = list(range(ncols))

    def widths_of(cols: list[int]) -> list[int]:
        return [max([len(headers[i])] + [len(row[i]) for row in rows]) for i in cols]

    def total(ws: list[int]) -> int:
        return sum(ws) + 2 * (len(ws) - 1)

    widths = widths_of(keep)
    wrap_last = False
    pending = list(drop)
    while max_width is not None and total(widths) > max_width:
        room = max_width - (total(widths) - widths[-1])
        least = WRAP_MIN if pending and len(keep) > 1 else MIN_COLUMN  # narrower only once nothing is left to drop
        if align[keep[-1]] == "l" and room >= max(least, len(headers[keep[-1]])):
            widths[-1], wrap_last = room, True  # a wrapped last column keeps every column
            break
        if pending and len(keep) > 1:
            i = pending.pop(0)
            if i in keep:
                keep.remove(i)
                widths = widths_of(keep)
            continue
        lefts = [j for j, c in enumerate(keep) if align[c] == "l"]
        while lefts and total(widths) > max_width:
            j = max(lefts, key=lambda k: widths[k])
            cut = min(widths[j] - MIN_COLUMN, total(widths) - max_width)
            if cut <= 0:
                break
            widths[j] -= cut
        break
    headers = [headers[i] for i in keep]
    rows = [[row[i] for i in keep] for row in rows]
    align = "".join(align[i] for i in keep)

    def fit(cell: str, w: int) -> str:
        return cell if len(cell) <= w else cell[: max(0, w - 1)] + "…"

    def lines(cells: Sequence[str]) -> list[str]:
        last = (textwrap.wrap(cells[-1], widths[-1]) or [""]) if wrap_last else [cells[-1]]
        head = [fit(c, w) for c, w in zip(cells[:-1], widths[:-1])] + [fit(last[0], widths[-1])]
        out = ["  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(head, widths, align)).rstrip()]
        indent = " " * (total(widths) - widths[-1])
        out += [(indent + more).rstrip() for more in last[1:]]
        return out

    return "\n".join(line for cells in [headers] + list(rows) for line in lines(cells))


__all__ = ["MIN_COLUMN", "WRAP_MIN", "render_table"]
