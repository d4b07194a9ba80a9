"""Intel GPUs by PCI device id and whether PyTorch's XPU builds serve them (xpu.toml)."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup.facts import schema
from fwsetup.records import dataclass

STATUSES = ("supported", "unvalidated", "unsupported")


@dataclass(frozen=True)
class IntelFamily:
    name: str
    arch: str  # xe-hpg, xe2-lpg, …: the GPU architecture
    status: str  # supported | unvalidated | unsupported (see xpu.toml)
    since: str  # first torch release whose XPU build serves it
    discrete: bool
    ids: tuple[str, ...]
    source: str
    note: Optional[str] = None

    @property
    def runs_xpu(self) -> bool:
        return self.status in ("supported", "unvalidated")


@dataclass(frozen=True)
class XpuTable:
    family: tuple[IntelFamily, ...]
    checked: datetime.date


@functools.lru_cache(maxsize=1)
def table() -> XpuTable:
    found = schema.read(XpuTable, "xpu")
    for fam in found.family:
        if fam.status not in STATUSES:
            raise schema.FactsError("fwsetup/facts/xpu.toml", f"family '{fam.name}'.status", f"not one of {STATUSES}")
    return found


@functools.lru_cache(maxsize=1)
def _by_id() -> dict[str, IntelFamily]:
    return {i: fam for fam in table().family for i in fam.ids}


def family(device_id: str) -> Optional[IntelFamily]:
    """The family of a PCI device id ('0x56a0', '56A0'); None for ids the table does not know."""
    key = device_id.strip().lower().removeprefix("0x")
    return _by_id().get(key.zfill(4))
