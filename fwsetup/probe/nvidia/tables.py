"""What the driver does not say, from the data tables: compute capability by GPU name
(`gpus.toml`) and the newest CUDA a driver version supports (`cuda_drivers.toml`).

Used when NVML or nvidia-smi do not report these (drivers before R510 have no compute_cap;
procfs/sysfs give only the driver version); the probe marks such values `*_source = "table"`.
"""

from __future__ import annotations

import functools
from typing import Optional

from fwsetup import facts as data
from fwsetup import versions


def max_cuda_for_driver(driver_version: str, system: str = "linux") -> Optional[str]:
    """The highest CUDA version whose toolkit driver (NVIDIA's Table 3) is <= driver_version.

    `system` picks the column: "linux" or "windows" (WSL2 reports the Windows driver).
    None for a version that is not a desktop/datacenter driver (e.g. Jetson L4T "35.3.1").
    """
    driver = versions.release(driver_version)
    if len(driver) < 2:
        return None
    column = "windows_driver" if system == "windows" else "linux_driver"
    best: Optional[str] = None
    for row in data.load("cuda_drivers")["cuda"]:
        floor = row.get(column)
        if floor is None or versions.release(str(floor)) > driver:
            continue
        version = str(row["version"])
        if best is None or versions.release(version) > versions.release(best):
            best = version
    return best


@functools.lru_cache(maxsize=1)
def _gpu_table() -> tuple[tuple[str, str], ...]:
    """(lower-cased match, capability) rows, longest match first."""
    rows = data.load("gpus")["gpu"]
    entries = ((" ".join(str(r["match"]).split()).lower(), str(r["compute_capability"])) for r in rows)
    return tuple(sorted(entries, key=lambda e: -len(e[0])))


def _edges_free(text: str, start: int, end: int, pattern: str, end_free: bool) -> bool:
    """pattern occurs at text[start:end] as whole words (no letter or digit glued to it)."""
    if pattern[0].isalnum() and start > 0 and text[start - 1].isalnum():
        return False
    if pattern[-1].isalnum() and end < len(text):
        return not text[end].isalnum()
    return end < len(text) or end_free


def _whole_word_in(pattern: str, text: str, end_free: bool = True) -> bool:
    start = text.find(pattern)
    while start >= 0:
        if _edges_free(text, start, start + len(pattern), pattern, end_free):
            return True
        start = text.find(pattern, start + 1)
    return False


def _continues_past_cut(pattern: str, visible: str, cut_between_words: bool) -> bool:
    """The truncated name could go on to contain pattern: a prefix of it ends the visible text.

    Only prefixes holding a digit count, so "NVIDIA GeForce ..." (no model number left) never
    matches any one GeForce entry.
    """
    for k in range(len(pattern) - 1, 0, -1):
        head = pattern[:k]
        if not visible.endswith(head) or not any(c.isdigit() for c in head):
            continue
        start = len(visible) - k
        if pattern[0].isalnum() and start > 0 and visible[start - 1].isalnum():
            continue
        if cut_between_words and pattern[k] != " ":
            continue
        return True
    return False


def compute_capability_for_name(name: Optional[str]) -> Optional[str]:
    """Compute capability of an NVIDIA GPU by its reported name, from gpus.toml, or None.

    The longest whole-word `match` wins. A name nvidia-smi cut short ("GeForce RTX 208...") only
    gets a capability when every entry it could still turn out to be agrees on one.
    """
    if not name:
        return None
    text = " ".join(name.split()).lower()
    if not text.endswith("..."):
        for pattern, cc in _gpu_table():
            if _whole_word_in(pattern, text):
                return cc
        return None
    visible = text[:-3]
    cut_between_words = visible.endswith(" ")
    visible = visible.rstrip()
    if not visible:
        return None
    candidates = set()
    for pattern, cc in _gpu_table():
        if _whole_word_in(pattern, visible, end_free=True) or _continues_past_cut(
            pattern, visible, cut_between_words
        ):
            candidates.add(cc)
    return candidates.pop() if len(candidates) == 1 else None
