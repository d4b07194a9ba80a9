"""Reading TOML, the one place that picks tomllib or its backport, with a size limit for
files that travel (locks, recipes from a path)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError
MAX_BYTES = 10 * 1024 * 1024


def loads(text: str) -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads(text)
    return table


def load(path: Path, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Parse a TOML file; raises OSError, TOMLDecodeError, or ValueError when over `max_bytes`."""
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{path} is larger than {max_bytes // (1024 * 1024)} MiB")
    table: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    return table
