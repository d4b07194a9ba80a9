"""Installed distributions read from *.dist-info / *.egg-info directory names.

Reading names off the directory listing costs a few milliseconds; importlib.metadata
would open every METADATA file, and importing the frameworks themselves takes seconds.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable

from fwsetup.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_DIST_DIR = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+?)(?:-py[\d.]+)?(?:-[^-]+)?\.(dist|egg)-info$")


@dataclass(frozen=True)
class Dist:
    """An installed distribution, from its dist-info directory name."""

    name: str  # normalised (PEP 503): lower case, runs of -_. become -
    version: str
    location: str


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def scan(paths: Optional[Iterable[str]] = None) -> dict[str, Dist]:
    """Map normalised name → Dist over sys.path (first hit wins, as import would)."""
    found: dict[str, Dist] = {}
    for entry in paths if paths is not None else sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for fname in names:
            m = _DIST_DIR.match(fname)
            if not m:
                continue
            name = normalize(m.group("name"))
            if name not in found:
                found[name] = Dist(name, m.group("version"), entry)
    return found
