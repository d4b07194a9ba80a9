"""Side-by-side timing helpers: commands are interleaved round by round so machine noise
hits all of them alike, and medians are compared as ratios (absolute times mean little here)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import Optional


def time_once(argv: Sequence[str], env: Optional[Mapping[str, str]] = None, timeout: float = 3600) -> float:
    started = time.perf_counter()
    subprocess.run(
        list(argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=timeout,
        env=dict(os.environ, **(env or {})),
    )
    return time.perf_counter() - started


def interleaved(
    commands: dict[str, Sequence[str]], rounds: int, env: Optional[Mapping[str, str]] = None
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm-up: page cache, .pyc files
        time_once(argv, env)
    for _ in range(rounds):
        for name, argv in commands.items():
            samples[name].append(time_once(argv, env))
    return samples


def report(samples: dict[str, list[float]], baseline: str) -> None:
    base = statistics.median(samples[baseline])
    width = max(len(n) for n in samples)
    print(f"{'command':<{width}}  median s   min s   ratio to {baseline}")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:<{width}}  {med:8.3f}  {min(values):6.3f}   {med / base:6.2f}x")
