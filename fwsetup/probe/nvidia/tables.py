"""What the driver does not say, from the data tables: compute capability by GPU name
(`gpus.toml`) and the newest CUDA a driver version supports (`cuda_drivers.toml`).

Used when NVML or nvidia-smi do not report these (drivers before R510 have no compute_cap;
procfs/sysfs give only the driver version); the probe marks such values `*_source = "table"`.
"""

from __future__ import annotations

import functools
from typing import Optional

from fwsetup.facts import gpus
from fwsetup.facts.cuda_drivers import max_cuda_for_driver

__all__ = ["compute_capability_for_name", "max_cuda_for_driver"]



@functools.lru_cache(maxsize=1)
def _gpu_table() -> tuple[tuple[str, str], ...]:
    """(lower-cased match, capability) rows, longest match first."""
    entries = ((" ".join(r.match.split()).lower(), r.compute_capability) for r in gpus.table().gpu)
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
