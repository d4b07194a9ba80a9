"""The PyTorch wheel matrix (pytorch.toml) as typed data, and lookups in it."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class TorchVariant:
    name: str  # cpu, cu126, rocm6.4 …
    platforms: tuple[str, ...]
    index_url: str
    source: str
    cuda: Optional[str] = None
    rocm: Optional[str] = None
    archs: tuple[str, ...] = ()  # SASS compute capabilities (Linux x86_64 wheel; aarch64 entries their own)
    ptx: tuple[str, ...] = ()
    gfx: tuple[str, ...] = ()  # ROCm targets
    xpu: bool = False  # an Intel GPU build (facts/xpu.toml says which GPUs it serves)
    verified: bool = True
    note: Optional[str] = None

    @property
    def accelerator(self) -> str:
        if self.cuda is not None:
            return "cuda"
        if self.rocm is not None:
            return "rocm"
        if self.xpu:
            return "xpu"
        return "cpu"


@dataclass(frozen=True)
class TorchRelease:
    version: str
    python: str
    pypi_default: str  # the variant PyPI's plain `torch` wheel is on Linux x86_64
    source: str
    variant: tuple[TorchVariant, ...]
    pypi_default_aarch64: Optional[str] = None  # likewise on Linux aarch64, where that wheel is CUDA
    verified: bool = True
    note: Optional[str] = None

    def pypi_variant(self, platform: str) -> Optional[str]:
        """The variant `pip install torch==V` gets from PyPI here, with no extra index."""
        if platform == "linux-x86_64":
            return self.pypi_default
        if platform == "linux-aarch64":
            return self.pypi_default_aarch64
        if platform.startswith(("macos", "windows")):
            return "cpu"
        return None


@dataclass(frozen=True)
class PytorchTable:
    release: tuple[TorchRelease, ...]
    checked: datetime.date  # the day the table was last checked against its sources


@functools.lru_cache(maxsize=1)
def table() -> PytorchTable:
    return schema.read(PytorchTable, "pytorch")


@functools.lru_cache(maxsize=1)
def releases() -> tuple[TorchRelease, ...]:
    """Newest first."""
    return tuple(sorted(table().release, key=lambda r: versions.key(r.version), reverse=True))


def release(version: str) -> Optional[TorchRelease]:
    """The release entry for a torch version, matched on major.minor ('2.9.1+cu128' → 2.9)."""
    wanted = versions.release(version, 2)
    return next((r for r in releases() if versions.release(r.version, 2) == wanted), None)


def variant(version: str, name: str, platform: str = "linux-x86_64") -> Optional[TorchVariant]:
    """The variant entry for this platform (aarch64 CUDA builds ship fewer architectures)."""
    found = release(version)
    if found is None:
        return None
    return next((v for v in found.variant if v.name == name and platform in v.platforms), None)


def variant_names() -> list[str]:
    """Every variant name in the matrix, in first-seen order (for `fwsetup list`)."""
    names: list[str] = []
    for r in table().release:
        names.extend(v.name for v in r.variant if v.name not in names)
    return names
