"""Reading TOML, the one place that picks tomllib or its backport, with limits for files that
travel (locks, recipes from a path): MAX_BYTES of input and MAX_NESTING levels. Past either, or
with a number too long to convert, the caller gets ValueError with a plain message, never a
MemoryError or RecursionError."""

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
MAX_NESTING = 64


def loads(text: str) -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads(text)
    return table


def load(path: Path, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Parse a TOML file; raises OSError, TOMLDecodeError, or ValueError when over `max_bytes`."""
    with path.open("rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{path} is larger than {max_bytes // (1024 * 1024)} MiB")
    try:
        table: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"{path} is nested too deeply") from None
    if _nesting(table) > MAX_NESTING:
        raise ValueError(f"{path} is nested deeper than {MAX_NESTING} levels")
    return table


def _nesting(data: Any) -> int:
    deepest, stack = 0, [(data, 0)]
    while stack:
        value, depth = stack.pop()
        items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else None
        if items is not None:
            deepest = max(deepest, depth + 1)
            if deepest > MAX_NESTING:
                break
            stack.extend((v, depth + 1) for v in items)
    return deepest
