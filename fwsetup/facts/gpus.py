"""NVIDIA GPU name → compute capability (gpus.toml) as typed data."""

from __future__ import annotations

import datetime
import functools

from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class GpuName:
    match: str  # whole words of the name as the driver reports it
    compute_capability: str


@dataclass(frozen=True)
class GpusTable:
    gpu: tuple[GpuName, ...]
    checked: datetime.date  # the day the table was last checked against its sources


@functools.lru_cache(maxsize=1)
def table() -> GpusTable:
    return schema.read(GpusTable, "gpus")
