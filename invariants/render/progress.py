"""The progress line both long commands share: one updating line on a terminal, plain lines elsewhere."""
from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import Any, TextIO


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


class Ticker(TerminalProgress):
    """An elapsed-time line for work without many natural steps (a single-target ``audit``, ``identify``,
    ``check-model``): from ``delay`` seconds on (default 2: quick runs print nothing), on a terminal only, one
    updating line ``LABEL ... 12s`` redrawn every ``interval`` seconds by a daemon thread, cut to the terminal's
    width.  Called as an audit progress callback (``ticker(i, total, name, result)``) it names the tensor in
    work.  :meth:`close` stops the thread and clears the line; elsewhere (a file, a pipe) it writes nothing.
    """

    def __init__(self, label: str, stream: TextIO | None = None, tty: bool | None = None, delay: float = 2.0,
                 interval: float = 0.5) -> None:
        super().__init__(stream, tty)
        self.base = self.label = label
        self.delay, self.interval = delay, interval
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if self.tty:
            self._thread = threading.Thread(target=self._run, name="invariants-ticker", daemon=True)
            self._thread.start()

    def line(self) -> str:
        """The text drawn now: the label, the elapsed seconds, cut to the terminal's width."""
        width = shutil.get_terminal_size().columns - 1
        text = f"{self.label} ... {time.monotonic() - self._t0:.0f}s"
        return text if len(text) <= width else text[: max(0, width - 1)] + "…"

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            with self._lock:
                self.rewrite(self.line())
                self.stream.flush()
            if self._stop.wait(self.interval):
                return

    def __call__(self, index: int, total: int, name: str, result: Any = None) -> None:
        self.label = f"{self.base} [{index}/{total}] {name}"

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            super().close()
