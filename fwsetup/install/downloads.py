"""What the install step shows while the installer downloads: bytes received, the rate, and the
time left against the plan's `download_bytes`.

Neither uv nor pip reports its progress to a program that captures its output, so the bytes are
counted where the kernel counts them: the receive counters of every network interface in
/proc/net/dev (loopback included: a wheelhouse served on this machine). That is the machine's
traffic, not only the installer's; on a busy machine the figure is an upper bound. Where there is
no /proc/net/dev (macOS, Windows) nothing is shown but the elapsed time."""

from __future__ import annotations

import time
from typing import Callable, Optional


def received(path: str = "/proc/net/dev") -> Optional[int]:
    """Bytes received by every interface since boot; None where the kernel does not say."""
    try:
        with open(path, encoding="ascii") as fh:
            lines = fh.read().splitlines()[2:]
    except (OSError, UnicodeDecodeError):
        return None
    total = 0
    for line in lines:
        _, _, counters = line.partition(":")
        fields = counters.split()
        if fields and fields[0].isdigit():
            total += int(fields[0])
    return total


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


class Meter:
    """Called while a step runs: "45.2 MB of 141.8 MB, 8.1 MB/s, 12 s left", or "" before the
    first byte (and wherever bytes cannot be counted)."""

    def __init__(self, total: Optional[int], read: Callable[[], Optional[int]] = received) -> None:
        self.total = total or None
        self.read = read
        self.start = read()
        self.started = time.monotonic()

    def __call__(self) -> str:
        now = self.read()
        if now is None or self.start is None or now <= self.start:
            return ""
        got = now - self.start
        rate = got / max(time.monotonic() - self.started, 1e-3)
        parts = [_mb(got) + (f" of {_mb(self.total)}" if self.total else ""), f"{_mb(rate)}/s"]
        if self.total and got < self.total:
            parts.append(f"{(self.total - got) / rate:.0f} s left")
        return ", ".join(parts)
