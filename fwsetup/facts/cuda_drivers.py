"""CUDA toolkit ↔ NVIDIA driver (cuda_drivers.toml) as typed data."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class CudaRow:
    """NVIDIA's Table 3: the driver that fully supports this CUDA minor release."""

    version: str
    linux_driver: str
    source: str
    windows_driver: Optional[str] = None  # Table 3 says N/A from 13.0 on

    def driver(self, system: str) -> Optional[str]:
        return self.windows_driver if system.lower() == "windows" else self.linux_driver


@dataclass(frozen=True)
class Family:
    """NVIDIA's Table 2: the minor-version-compatibility floor of a CUDA major."""

    major: int
    linux_min_driver: str
    windows_min_driver: str
    source: str

    def min_driver(self, system: str) -> str:
        return self.windows_min_driver if system.lower() == "windows" else self.linux_min_driver


@dataclass(frozen=True)
class CudaDriversTable:
    cuda: tuple[CudaRow, ...]
    family: tuple[Family, ...]
    checked: datetime.date  # the day the table was last checked against its sources


@functools.lru_cache(maxsize=1)
def table() -> CudaDriversTable:
    return schema.read(CudaDriversTable, "cuda_drivers")


def max_cuda_for_driver(driver_version: str, system: str = "linux") -> Optional[str]:
    """The highest CUDA whose toolkit driver (Table 3) is <= `driver_version`, for a driver that
    does not say itself (nvidia-smi "CUDA Version: N/A", procfs only). `system` picks the column
    ("windows" for WSL2, which reports the Windows driver). None below every row (Jetson L4T
    "35.3.1") or for garbage."""
    have = versions.release(driver_version)
    if len(have) < 2:
        return None
    best: Optional[str] = None
    for row in table().cuda:
        floor = row.driver(system)
        if floor is None or versions.release(floor) > have:
            continue
        if best is None or versions.key(row.version) > versions.key(best):
            best = row.version
    return best
