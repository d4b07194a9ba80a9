"""Cloud vendors as their hypervisors report them in DMI (clouds.toml) as typed data."""

from __future__ import annotations

import datetime
import functools

from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class Cloud:
    name: str
    match: tuple[str, ...]  # case-insensitive substrings of the DMI vendor/product/asset files


@dataclass(frozen=True)
class CloudsTable:
    cloud: tuple[Cloud, ...]
    checked: datetime.date  # the day the table was last checked against its sources


@functools.lru_cache(maxsize=1)
def table() -> CloudsTable:
    return schema.read(CloudsTable, "clouds")
