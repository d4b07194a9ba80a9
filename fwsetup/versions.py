"""Version comparison for everything fwsetup compares: releases, drivers, CUDA, Pythons.

`packaging.version` orders pre-releases and local labels the way pip does
("2.0.0rc1" < "2.0.0", "2.7.1+cu118" has release 2.7.1); driver strings such as
"580.95.05" or "N/A", which are not all PEP 440, go through `parse()`, which never raises.
"""

from __future__ import annotations

import re
from typing import Optional

from packaging.version import InvalidVersion, Version

_LEADING = re.compile(r"\s*v?(\d+(?:\.\d+)*)")


def parse(text: Optional[str]) -> Optional[Version]:
    """A Version for `text`, or for its leading dotted number ("12.8 (Update 1)" → 12.8); None
    for empty or garbage ("N/A")."""
    if not text:
        return None
    try:
        return Version(text.strip())
    except InvalidVersion:
        match = _LEADING.match(text)
        return Version(match.group(1)) if match else None


def release(text: Optional[str], parts: Optional[int] = None) -> tuple[int, ...]:
    """The numeric release of `text`, optionally cut to `parts` ("12.8.1" → (12, 8)); () for garbage.

    For comparing a prefix (major.minor) only; whole versions compare with `parse()`.
    """
    version = parse(text)
    if version is None:
        return ()
    numbers = version.release
    return numbers[:parts] if parts is not None else numbers


def key(text: Optional[str]) -> Version:
    """A sort key: garbage sorts first (as 0)."""
    return parse(text) or Version("0")
