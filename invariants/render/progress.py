"""The progress line every long command shares, drawn by ``tqdm`` on stderr.

One updating line on a terminal, nothing anywhere else: a file, a pipe or a CI log gets no progress at all
(``--quiet`` turns it off on a terminal too), and stdout never gets any.  Two shapes:

- :class:`TerminalProgress` (and its per-command subclasses ``Progress`` for verify, ``AuditProgress`` for a
  catalogue audit): loops with natural steps, ``LABEL  40%|####      | 22/55 subjects [00:31<00:46] NAME``;
- :class:`Ticker`: single-target work (one ``audit``/``identify`` target, ``check-model``, ``report``'s stages),
  ``LABEL [i/n] NAME ... 00:12`` from 2 s on, redrawn by a daemon thread so that the elapsed time moves while
  one long call runs.

Why tqdm rather than rich: it is already what ``check-model``'s streamed path draws with
(:mod:`invariants.modelcheck.stream`), it is one pure-Python package with no dependencies of its own (rich
brings pygments and markdown-it), it imports in a fraction of the time, and it does exactly what is needed
here — n/total with rate and remaining-time estimates, an elapsed counter, a line cut to the terminal's
width, written to any file object — without taking over the terminal.
"""
from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import Any, TextIO

#: a loop with natural steps: the bar is fixed at 12 cells so the name in work (last) keeps room;
#: tqdm cuts the whole line to the terminal's width from the right
STEPS = "{desc} {percentage:3.0f}%|{bar:12}| {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}] {name}"
#: free text (a stage, a ticker's label) with the time since the line appeared
TEXT = "{desc} ... {elapsed}"


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (``False`` for a closed stream or one without ``isatty``)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class TerminalProgress:
    """One updating progress line on ``stream`` (default stderr), drawn by ``tqdm``, on a terminal only.

    Args:
        stream: where to draw (stderr; never stdout, which carries results).
        tty: draw or not (default: ``stream.isatty()``); when false every method writes nothing.

    Subclasses turn their events into :meth:`update` (n of total) or :meth:`rewrite` (free text).  Call
    :meth:`close` after the run: it clears the line.
    """

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = is_terminal(self.stream) if tty is None else bool(tty)
        self._bar: Any = None
        self._lock = threading.RLock()
        self._t0 = time.monotonic()

    def _draw(self, fmt: str, desc: str, n: int = 0, total: int | None = None, name: str = "",
              unit: str = "") -> None:
        if not self.tty:
            return
        with self._lock:
            if self._bar is None:
                from tqdm import tqdm

                # width from $COLUMNS or the terminal (shutil), read once; mininterval 0: the callers already
                # draw only on events or on the ticker's interval; a delay > 0: nothing drawn before the first
                # event (refresh() draws)
                self._bar = tqdm(total=total, file=self.stream, leave=False, mininterval=0, miniters=0, delay=1e-9,
                                 ncols=max(20, shutil.get_terminal_size().columns - 1), bar_format=fmt)
                self._bar.start_t -= time.monotonic() - self._t0  # elapsed counts from the start of the work
            bar = self._bar
            # the name goes into the format as literal text (tqdm's postfix would add ", ")
            bar.bar_format = fmt.replace("{name}", name.replace("{", "{{").replace("}", "}}"))
            bar.total, bar.n, bar.unit = total, n, unit
            bar.set_description_str(desc, refresh=False)
            bar.refresh()
            self.stream.flush()

    def update(self, n: int, total: int, label: str, name: str = "", unit: str = "") -> None:
        """Draw ``LABEL  pct|bar| n/total UNIT [elapsed<remaining] NAME`` (``n`` steps of ``total`` done)."""
        self._draw(STEPS, label, n, max(total, 1), name, unit)

    def rewrite(self, text: str) -> None:
        """Draw ``TEXT ... elapsed`` in place of the line."""
        self._draw(TEXT, text)

    def write(self, text: str) -> None:
        """Print ``text`` as a line of its own on the stream (on a terminal above the progress line, which is
        drawn again below it; elsewhere too: a message is not progress)."""
        with self._lock:
            bar = self._bar
            if bar is not None:
                bar.clear()
            print(text, file=self.stream, flush=True)
            if bar is not None:
                bar.refresh()

    def close(self) -> None:
        """Clear the line (terminal only); the object can draw again afterwards."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self.stream.flush()
                self._bar = None


class Ticker(TerminalProgress):
    """An elapsed-time line for work without many natural steps (a single-target ``audit``, ``identify``,
    ``check-model``, ``report``'s stages): from ``delay`` seconds on (default 2: quick runs print nothing), on a
    terminal only, ``LABEL ... 00:12`` redrawn every ``interval`` seconds by a daemon thread (the time moves
    while one long call runs), cut to the terminal's width.  Called as an audit progress callback
    (``ticker(i, total, name, result)``) it names the tensor in work (``LABEL [i/total] NAME``); :meth:`status`
    names a stage.  :meth:`close` stops the thread and clears the line; elsewhere (a file, a pipe) it writes
    nothing.
    """

    def __init__(self, label: str, stream: TextIO | None = None, tty: bool | None = None, delay: float = 2.0,
                 interval: float = 0.5) -> None:
        super().__init__(stream, tty)
        self.base = self.label = label
        self.delay, self.interval = delay, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.tty:
            if delay <= 0:
                self.rewrite(label)
            self._thread = threading.Thread(target=self._run, name="invariants-ticker", daemon=True)
            self._thread.start()

    def line(self) -> str:
        """The text drawn now: ``LABEL ... 00:12`` (tqdm's elapsed format), cut to the terminal's width."""
        from tqdm import tqdm

        elapsed = tqdm.format_interval(time.monotonic() - self._t0)
        width = shutil.get_terminal_size().columns - 1
        text = f"{self.label} ... {elapsed}"
        return text if len(text) <= width else text[: max(0, width - 1)] + "…"

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            with self._lock:
                if not self._stop.is_set():
                    self.rewrite(self.label)
            if self._stop.wait(self.interval):
                return

    def __call__(self, index: int, total: int, name: str, result: Any = None) -> None:
        self._relabel(f"{self.base} [{index}/{total}] {name}")

    def status(self, text: str) -> None:
        """Name what is in work now: the line reads ``LABEL TEXT ... elapsed``."""
        self._relabel(f"{self.base} {text}")

    def _relabel(self, label: str) -> None:
        # past the delay the new name is drawn at once, not at the next tick
        self.label = label
        if self.tty and time.monotonic() - self._t0 >= self.delay:
            with self._lock:
                if not self._stop.is_set():
                    self.rewrite(label)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        super().close()


__all__ = ["STEPS", "TEXT", "TerminalProgress", "Ticker", "is_terminal"]
