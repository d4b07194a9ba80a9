"""When each facts table was last checked against its sources (the `checked` key of every table).

`fwsetup --version` and `doctor` show these dates, and a table older than STALE_AFTER_DAYS adds an
info finding: the world (new releases, dropped architectures) moves on without the data. Only the
`checked` line above a file's first table header is read, so asking costs a few small reads
rather than loading every table; the typed loaders validate the same key as a date.
"""

from __future__ import annotations

import os
import re
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from collections.abc import Mapping
    from typing import Optional

DATA_DIR = os.path.dirname(os.path.abspath(__file__))  # = schema.DATA_DIR, without schema or pathlib

STALE_AFTER_DAYS = 120
_FIRST_TABLE = re.compile(r"^\s*\[", re.M)
# `checked = 2026-11-25` (a TOML local date) above the first table: read without a TOML parser, which
# would cost doctor more than all of its probes; the typed loaders validate the same key as a date.
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CHECKED = re.compile(r"^checked\s*=\s*(\d{4}-\d{2}-\d{2})\s*(?:#.*)?$", re.M)


def checked_day(name: str) -> Optional[str]:
    """The `checked` date of fwsetup/facts/<name>.toml as "YYYY-MM-DD", or None when it has none
    (or it is unreadable, or not a real date)."""
    try:
        with open(os.path.join(DATA_DIR, f"{name}.toml"), encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return None
    head = _FIRST_TABLE.split(text, maxsplit=1)[0]
    found = _CHECKED.search(head)
    if found is None or day_number(found.group(1)) is None:
        return None
    return found.group(1)


def checked(name: str) -> Optional[datetime.date]:
    """`checked_day` as a date."""
    day = checked_day(name)
    if day is None:
        return None
    import datetime

    return datetime.date.fromisoformat(day)


def all_checked_days() -> dict[str, Optional[str]]:
    """Every table in fwsetup/facts by name, with its `checked` date as "YYYY-MM-DD"."""
    names = sorted(n[: -len(".toml")] for n in os.listdir(DATA_DIR) if n.endswith(".toml"))
    return {name: checked_day(name) for name in names}


def all_checked() -> dict[str, Optional[datetime.date]]:
    """Every table in fwsetup/facts by name, with its `checked` date."""
    return {name: checked(name) for name in all_checked_days()}


def today() -> str:
    """The local date as "YYYY-MM-DD" (what datetime.date.today() says, without importing it)."""
    return time.strftime("%Y-%m-%d")


def day_number(day: str) -> Optional[int]:
    """Days from 1970-01-01 to a "YYYY-MM-DD" date of the proleptic Gregorian calendar (Howard
    Hinnant's days_from_civil), or None when it is not a real date. Doctor compares table dates
    with this instead of importing datetime, which costs its start-up more than some probes."""
    found = _DAY.fullmatch(day.strip())
    if found is None:
        return None
    y, m, d = (int(g) for g in found.groups())
    if not 1 <= m <= 12 or not 1 <= d <= _month_days(y, m):
        return None
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def summary(dates: Mapping[str, Optional[object]]) -> str:
    """One line: `pytorch 2026-11-25, jax 2026-11-25, …` (`unknown` for a table without a date)."""
    return ", ".join(f"{name} {day if day else 'unknown'}" for name, day in dates.items())
