"""When each facts table was last checked against its sources (the `checked` key of every table).

`fwsetup --version` and `doctor` show these dates, and a table older than STALE_AFTER_DAYS adds an
info finding: the world (new releases, dropped architectures) moves on without the data. Only the
`checked` line above a file's first table header is read, so asking costs a few small reads
rather than loading every table; the typed loaders validate the same key as a date.
"""

from __future__ import annotations

import datetime
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

DATA_DIR = os.path.dirname(os.path.abspath(__file__))  # = schema.DATA_DIR, without schema or pathlib

STALE_AFTER_DAYS = 120
_FIRST_TABLE = re.compile(r"^\s*\[", re.M)
# `checked = 2026-11-25` (a TOML local date) above the first table: read without a TOML parser, which
# would cost doctor more than all of its probes; the typed loaders validate the same key as a date.
_CHECKED = re.compile(r"^checked\s*=\s*(\d{4}-\d{2}-\d{2})\s*(?:#.*)?$", re.M)


def checked(name: str) -> Optional[datetime.date]:
    """The `checked` date of fwsetup/facts/<name>.toml, or None when it has none (or it is unreadable)."""
    try:
        with open(os.path.join(DATA_DIR, f"{name}.toml"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    head = _FIRST_TABLE.split(text, maxsplit=1)[0]
    found = _CHECKED.search(head)
    if found is None:
        return None
    try:
        return datetime.date.fromisoformat(found.group(1))
    except ValueError:
        return None


def all_checked() -> dict[str, Optional[datetime.date]]:
    """Every table in fwsetup/facts by name, with its `checked` date."""
    names = sorted(n[: -len(".toml")] for n in os.listdir(DATA_DIR) if n.endswith(".toml"))
    return {name: checked(name) for name in names}


def summary(dates: dict[str, Optional[datetime.date]]) -> str:
    """One line: `pytorch 2026-11-25, jax 2026-11-25, …` (`unknown` for a table without a date)."""
    return ", ".join(f"{name} {day.isoformat() if day else 'unknown'}" for name, day in dates.items())
