"""Progress for long steps: a live line on a terminal, plain timestamped lines in CI logs.

The reporter a command is given (fwsetup/commands/): commands never write to stderr themselves,
the command line makes one of these and passes it in. Light imports: doctor's path makes one too."""

from __future__ import annotations

import sys
import threading
import time

from fwsetup.redact import redact

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs doctor's start-up more than it is worth
    from collections.abc import Callable
    from typing import Optional, TextIO


class Progress:
    """`clean`: what every text goes through before it is written (default: credentials redacted;
    the command line also removes terminal controls)."""

    def __init__(
        self,
        total: int,
        stream: Optional[TextIO] = None,
        quiet: bool = False,
        clean: Callable[[str], str] = redact,
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.clean = clean
        self.live = self.stream.isatty() and not quiet
        self.index = 0
        self.started = time.perf_counter()
        self._step_started = self.started
        self._label = ""
        self._stop = threading.Event()
        self._ticker: Optional[threading.Thread] = None
        self._meter: Optional[Callable[[], str]] = None
        self.interval = 15.0  # seconds between a meter's plain lines (CI logs)

    def begin(self, total: int) -> None:
        """A run of `total` steps starts: they are counted [1/total] …"""
        self._end_live()
        self.total, self.index = total, 0

    def step(self, label: str, meter: Optional[Callable[[], str]] = None) -> None:
        """`meter`: what to show beside the elapsed time while the step runs (install/downloads.py);
        on a terminal in the live line, in a log as a plain line every `interval` seconds."""
        self._end_live()
        self.index += 1
        self._label = label
        self._meter = meter
        self._step_started = time.perf_counter()
        if self.quiet:
            return
        if not self.live:
            self.stream.write(f"[{self.index}/{self.total}] {self.clean(label)} …\n")
            self.stream.flush()
        if self.live or meter is not None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick if self.live else self._lines, daemon=True)
            self._ticker.start()

    def _measured(self) -> str:
        return self._meter() if self._meter is not None else ""

    def _lines(self) -> None:
        while not self._stop.wait(self.interval):
            measured = self._measured()
            if measured:
                elapsed = time.perf_counter() - self._step_started
                self.stream.write(f"    {self.clean(measured)} ({elapsed:.0f} s)\n")
                self.stream.flush()

    def _tick(self) -> None:
        frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
        i = 0
        while not self._stop.wait(0.1):
            elapsed = time.perf_counter() - self._step_started
            measured = self._measured()
            head = f"{frames[i % len(frames)]} [{self.index}/{self.total}] "
            tail = f" ({elapsed:.0f} s" + (f", {self.clean(measured)})" if measured else ")")
            self.stream.write("\r\033[K" + fit(head, self.clean(self._label), tail, columns(self.stream)))
            self.stream.flush()
            i += 1

    def _end_live(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None
            if self.live:
                self.stream.write("\r\033[K")

    def done(self, note: str = "") -> None:
        elapsed = time.perf_counter() - self._step_started
        self._end_live()
        if self.quiet:
            return
        took = f"{elapsed:.2f}" if elapsed < 10 else f"{elapsed:.1f}"  # short steps: their size shows
        text = f"    done in {took} s" + (f": {self.clean(note)}" if note else "")
        if self.live:
            text = f"✓ [{self.index}/{self.total}] {self.clean(self._label)} ({took} s)" + (
                f": {self.clean(note)}" if note else ""
            )
        self.stream.write(text + "\n")
        self.stream.flush()

    def info(self, text: str) -> None:
        self._end_live()
        if not self.quiet:
            self.stream.write(self.clean(text) + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._end_live()


def columns(stream: TextIO) -> int:
    """The stream's terminal width, asked each tick: a resized window redraws at its new width."""
    import os
    import shutil

    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, OSError, ValueError):  # not a real terminal: $COLUMNS, else 80
        return shutil.get_terminal_size((80, 24)).columns


def fit(head: str, label: str, tail: str, width: int) -> str:
    """One terminal row: a line wider than the terminal wraps, and `\\r\\033[K` then clears only its
    last row, so each redraw would scroll. The label gives way first (the count and the meter are
    what changes); a window too narrow for even that gets the line's start."""
    room = width - 1 - len(head) - len(tail)  # the last column left free: some terminals wrap there
    if len(label) <= room:
        return head + label + tail
    if room >= 8:
        return head + label[: room - 1] + "…" + tail
    return (head + label + tail)[: max(width - 1, 1)]
