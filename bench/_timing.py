"""Side-by-side timing helpers: commands are interleaved round by round so machine noise
hits all of them alike, and medians are compared as ratios (absolute times mean little here).

Each sample is the mean of a batch of back-to-back runs: on this kind of machine a single
short process's wall time is quantised to ~16 ms scheduler ticks, which would swamp a 20 ms
`python -c pass`."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import Callable, Optional


def _run_batch(argv: Sequence[str], env: Optional[Mapping[str, str]], timeout: float, batch: int) -> None:
    full_env = dict(os.environ, **(env or {}))
    for _ in range(batch):
        subprocess.run(
            list(argv),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=timeout,
            env=full_env,
        )


def time_once(
    argv: Sequence[str], env: Optional[Mapping[str, str]] = None, timeout: float = 3600, batch: int = 1
) -> float:
    """Wall seconds of one run of argv, averaged over a batch."""
    started = time.perf_counter()
    _run_batch(argv, env, timeout, batch)
    return (time.perf_counter() - started) / batch


def cpu_once(
    argv: Sequence[str], env: Optional[Mapping[str, str]] = None, timeout: float = 3600, batch: int = 1
) -> float:
    """CPU seconds (user + system) one run of argv costs its children, averaged over a batch.

    CPU time, unlike wall time, does not count waiting for cores other processes hold."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    _run_batch(argv, env, timeout, batch)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / batch


def interleaved(
    commands: dict[str, Sequence[str]],
    rounds: int,
    env: Optional[Mapping[str, str]] = None,
    batch: int = 1,
    measure: Callable[..., float] = time_once,
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm-up: page cache, .pyc files
        measure(argv, env)
    for _ in range(rounds):
        for name, argv in commands.items():
            samples[name].append(measure(argv, env, batch=batch))
    return samples


def report(
    samples: dict[str, list[float]], baseline: str, limits: Optional[Mapping[str, float]] = None
) -> dict[str, float]:
    """Print each command's median, min and ratio to the baseline (and its limit); return the ratios."""
    base = statistics.median(samples[baseline])
    width = max(len(n) for n in samples)
    print(f"{'command':<{width}}  median s   min s   ratio to {baseline}")
    ratios = {}
    for name, values in samples.items():
        med = statistics.median(values)
        ratios[name] = med / base
        limit = (limits or {}).get(name)
        verdict = "" if limit is None else f"  (limit {limit:g}x: {'ok' if ratios[name] <= limit else 'OVER'})"
        print(f"{name:<{width}}  {med:8.3f}  {min(values):6.3f}   {ratios[name]:6.2f}x{verdict}")
    return ratios
