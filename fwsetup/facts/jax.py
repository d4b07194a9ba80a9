"""The JAX release matrix and its CUDA extras (jax.toml) as typed data."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class JaxRelease:
    version: str
    python: str
    jaxlib: str
    platforms: tuple[str, ...]
    cuda_extras: tuple[str, ...]
    source: str
    cuda_platforms: Optional[tuple[str, ...]] = None  # only where the CUDA plugin lacks a platform
    legacy_cuda_extras: tuple[str, ...] = ()
    rocm_extras: tuple[str, ...] = ()
    note: Optional[str] = None


@dataclass(frozen=True)
class CudaExtra:
    name: str  # the pip extra: cuda12, cuda13, …
    cuda: str
    min_driver_linux: str
    min_compute_capability: str
    platforms: tuple[str, ...]
    note: str
    source: str
    min_driver_windows: Optional[str] = None
    packages: tuple[str, ...] = ()
    archs: tuple[str, ...] = ()
    ptx: tuple[str, ...] = ()
    legacy: bool = False
    find_links: Optional[str] = None


@dataclass(frozen=True)
class JaxTable:
    release: tuple[JaxRelease, ...]
    cuda_extra: tuple[CudaExtra, ...]
    checked: datetime.date  # the day the table was last checked against its sources

    def find_extra(self, name: str) -> Optional[CudaExtra]:
        return next((e for e in self.cuda_extra if e.name == name), None)


@functools.lru_cache(maxsize=1)
def table() -> JaxTable:
    return schema.read(JaxTable, "jax")
