"""Facts about the world, kept as TOML data files beside this module.

Each file cites its sources in comments or `source` keys; code interprets, data states.
Loading is lazy and cached: doctor only pays for a table when a probe needs it.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent


@functools.cache
def load(name: str) -> dict[str, Any]:
    """Parse `fwsetup/facts/<name>.toml`; a broken data file is a bug in fwsetup, so it raises."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10
        import tomli as tomllib
    with (DATA_DIR / f"{name}.toml").open("rb") as fh:
        table: dict[str, Any] = tomllib.load(fh)
    return table
