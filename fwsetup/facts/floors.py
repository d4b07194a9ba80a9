"""What a PyTorch release needs of the OS and CPU (floors.toml): glibc and macOS floors from its
wheels' platform tags, the macOS its MPS backend needs, CPU features its binaries assume."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from packaging.specifiers import SpecifierSet

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class WheelFloor:
    """The oldest glibc or macOS the platform tag of a release's wheels accepts there."""

    platform: str  # linux-aarch64, macos-arm64, …
    versions: str  # PEP 440 specifier over torch versions
    source: str
    glibc: Optional[str] = None
    macos: Optional[str] = None
    note: Optional[str] = None


@dataclass(frozen=True)
class MpsFloor:
    """The oldest macOS on which a release's Metal backend is available (the wheel may install
    on older ones and run on the CPU only)."""

    versions: str
    macos: str
    source: str


@dataclass(frozen=True)
class IsaNeed:
    """A CPU feature a release's binaries use unconditionally: without it, SIGILL at import."""

    arch: str  # aarch64, x86_64
    versions: str
    feature: str  # the /proc/cpuinfo flag ("atomics")
    what: str  # its name for people ("Armv8.1 LSE atomics")
    source: str


@dataclass(frozen=True)
class FloorsTable:
    """floors.toml: one list per kind of floor."""

    wheel: tuple[WheelFloor, ...]
    mps: tuple[MpsFloor, ...]
    isa: tuple[IsaNeed, ...]
    checked: datetime.date


@functools.lru_cache(maxsize=1)
def table() -> FloorsTable:
    return schema.read(FloorsTable, "floors")


@functools.lru_cache(maxsize=64)
def _spec(text: str) -> SpecifierSet:
    return SpecifierSet(text)


def _within(version: str, spec: str) -> bool:
    return _spec(spec).contains(version, prereleases=True)


@functools.lru_cache(maxsize=256)
def wheel_floor(version: str, platform: str) -> Optional[WheelFloor]:
    return next((f for f in table().wheel if f.platform == platform and _within(version, f.versions)), None)


@functools.lru_cache(maxsize=64)
def mps_floor(version: str) -> Optional[MpsFloor]:
    return next((f for f in table().mps if _within(version, f.versions)), None)


@functools.lru_cache(maxsize=256)
def isa_needs(version: str, arch: str) -> tuple[IsaNeed, ...]:
    return tuple(n for n in table().isa if n.arch == arch and _within(version, n.versions))


@functools.lru_cache(maxsize=256)
def below(have: Optional[str], need: Optional[str]) -> bool:
    """True only when both are known and `have` is older: an unknown version is never a refusal."""
    if not have or not need:
        return False
    have_key, need_key = versions.release(have), versions.release(need)
    return bool(have_key) and bool(need_key) and have_key < need_key
