"""The progress line both long commands share: one updating line on a terminal, plain lines elsewhere."""
from __future__ import annotations

import sys
from typing import TextIO


class TerminalProgress:
    """Writes progress to ``stream`` (default stderr); ``tty`` (default: ``stream.isatty()``) selects the
    updating line.  Subclasses decide what to write per event: :meth:`rewrite` on a terminal, plain lines
    elsewhere.  Call :meth:`close` after the run."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self._last_len = 0

    def rewrite(self, text: str) -> None:
        """Replace the updating line with ``text`` (padded with blanks over a longer previous line)."""
        pad = max(0, self._last_len - len(text))
        self.stream.write("\r" + text + " " * pad)
        self._last_len = len(text)

    def close(self) -> None:
        """Clear the updating line (terminal only)."""
        if self.tty and self._last_len:
            self.stream.write("\r" + " " * self._last_len + "\r")
            self.stream.flush()
            self._last_len = 0
