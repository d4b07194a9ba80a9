"""Version comparison for everything fwsetup compares: releases, drivers, CUDA, Pythons.

`packaging.version` orders pre-releases and local labels the way pip does
("2.0.0rc1" < "2.0.0", "2.7.1+cu118" has release 2.7.1); driver strings such as
"580.95.05" or "N/A", which are not all PEP 440, go through `parse()`, which never raises.
`release()` of a plain dotted number ("3.11.7", "580.95.05") needs no Version at all, so doctor,
which compares only such numbers, never imports packaging (it costs start-up more than a probe).
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

    from packaging.version import Version

# ASCII digits only (`\d` took "٣", which Version refuses), and at most 20 per number: int()
# refuses a number of over 4,300 digits, which a hostile report can hold ("l4t": "1" * 100000).
_LEADING = re.compile(r"\s*v?([0-9]{1,20}(?:\.[0-9]{1,20})*)(?![0-9])")
_PLAIN = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})*")
_MAX_TEXT = 256  # no version, driver or CUDA string is longer; Version() of a longer one is not tried


def parse(text: Optional[str]) -> Optional[Version]:
    """A Version for `text`, or for its leading dotted number ("12.8 (Update 1)" → 12.8); None
    for empty or garbage ("N/A")."""
    if not text:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        if len(text) <= _MAX_TEXT:
            return Version(text.strip())
    except (InvalidVersion, ValueError):  # ValueError: a number int() refuses
        pass
    match = _LEADING.match(text)
    return Version(match.group(1)) if match else None


def release(text: Optional[str], parts: Optional[int] = None) -> tuple[int, ...]:
    """The numeric release of `text`, optionally cut to `parts` ("12.8.1" → (12, 8)); () for garbage.

    For comparing a prefix (major.minor) only; whole versions compare with `parse()`.
    """
    plain = text.strip() if text else ""
    if _PLAIN.fullmatch(plain):
        numbers = tuple(int(n) for n in plain.split("."))
        return numbers[:parts] if parts is not None else numbers
    version = parse(text)
    if version is None:
        return ()
    numbers = version.release
    return numbers[:parts] if parts is not None else numbers


def key(text: Optional[str]) -> Version:
    """A sort key: garbage sorts first (as 0)."""
    from packaging.version import Version

    return parse(text) or Version("0")


def exact_pin(name: str, version: str) -> str:
    """A requirement for `name` at exactly `version`, its build included. PEP 440's `==2.13.0` is
    also met by a local version (`2.13.0+cpu`), which ranks above it, so a CPU wheel in the user's
    find-links would stand in for PyPI's CUDA build of the same release. A version without a local
    label is pinned by arbitrary equality (`===2.13.0`: uv and pip both take exactly that version,
    normalized); one with a label by `==`, which already requires that label (`==2.13.0+cu126`)."""
    if "+" in version:
        return f"{name}=={version}"
    found = parse(version)
    return f"{name}==={found if found is not None else version}"
