"""When each facts table was last checked against its sources (the `checked` key of every table).

`fwsetup --version` and `doctor` show these dates, and a table older than STALE_AFTER_DAYS adds an
info finding: the world (new releases, dropped architectures) moves on without the data. Only the
top-level keys above a file's first table header are parsed, so asking costs a few small reads
rather than loading every table; the typed loaders validate the same key as a date.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Optional

from fwsetup import tomlfile

DATA_DIR = Path(__file__).parent  # = schema.DATA_DIR, without loading the schema machinery

STALE_AFTER_DAYS = 120
_FIRST_TABLE = re.compile(r"^\s*\[", re.M)


def checked(name: str) -> Optional[datetime.date]:
    """The `checked` date of fwsetup/facts/<name>.toml, or None when it has none (or it is unreadable)."""
    try:
        text = (DATA_DIR / f"{name}.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    head = _FIRST_TABLE.split(text, maxsplit=1)[0]
    try:
        value = tomlfile.loads(head).get("checked")
    except tomlfile.TOMLDecodeError:
        return None
    return value if type(value) is datetime.date else None


def all_checked() -> dict[str, Optional[datetime.date]]:
    """Every table in fwsetup/facts by name, with its `checked` date."""
    return {p.stem: checked(p.stem) for p in sorted(DATA_DIR.glob("*.toml"))}


def summary(dates: dict[str, Optional[datetime.date]]) -> str:
    """One line: `pytorch 2026-11-25, jax 2026-11-25, …` (`unknown` for a table without a date)."""
    return ", ".join(f"{name} {day.isoformat() if day else 'unknown'}" for name, day in dates.items())
