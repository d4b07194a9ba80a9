"""AMD ROCm facts (rocm.toml) as typed data, and the lookups selection and doctor share: which
ROCm release an amdgpu module version is, which user space a kernel driver runs, and which GPUs
the HSA_OVERRIDE_GFX_VERSION mapping serves."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class DriverRelease:
    module: str  # a prefix of the amdgpu-dkms module version ("6.7", "6.16.13")
    rocm: str  # the ROCm release series whose driver it is ("6.1")
    source: str


@dataclass(frozen=True)
class Window:
    kmd: str  # the ROCm release series of the kernel driver
    user: tuple[str, ...]  # the user-space series AMD supports on it
    source: str


@dataclass(frozen=True)
class Override:
    gfx: tuple[str, ...]  # targets served by the override
    value: str  # HSA_OVERRIDE_GFX_VERSION
    runs_as: str  # the target whose kernels they then load
    source: str


@dataclass(frozen=True)
class Route:
    framework: str  # a recipe name fwsetup does not plan on ROCm
    route: str  # AMD's own way to it
    source: str


@dataclass(frozen=True)
class RocmTable:
    checked: datetime.date
    releases: tuple[str, ...]
    driver: tuple[DriverRelease, ...]
    window: tuple[Window, ...]
    override: tuple[Override, ...]
    apu: tuple[str, ...]
    apu_source: str
    route: tuple[Route, ...] = ()


@dataclass(frozen=True)
class UserSpace:
    """What the machine's amdgpu kernel driver runs: the series allowed (None: not known, so not
    limited) and how that was decided, for the plan's reasons."""

    kmd: Optional[str]  # the ROCm release of the driver ("6.1"), None for a kernel's own amdgpu
    allowed: Optional[tuple[str, ...]]
    how: str


@functools.lru_cache(maxsize=1)
def table() -> RocmTable:
    return schema.read(RocmTable, "rocm")


def series(version: str) -> str:
    """'6.2.4' -> '6.2'."""
    return ".".join(str(p) for p in versions.release(version, 2))


def driver_release(module_version: Optional[str]) -> Optional[DriverRelease]:
    """The ROCm release an amdgpu-dkms module version belongs to (longest matching prefix)."""
    if not module_version:
        return None
    have = versions.release(module_version)
    best: Optional[DriverRelease] = None
    for row in table().driver:
        want = versions.release(row.module)
        if have[: len(want)] == want and (best is None or len(want) > len(versions.release(best.module))):
            best = row
    return best


def window(kmd: str) -> tuple[tuple[str, ...], str]:
    """The user-space series AMD supports on the driver of ROCm `kmd`: the documented row, else
    AMD's +/- 2 releases rule over the release list."""
    row = next((w for w in table().window if w.kmd == kmd), None)
    if row is not None:
        return row.user, f"AMD's user/kernel-space support matrix ({row.source})"
    order = table().releases
    if kmd not in order:
        return (), "not in fwsetup's ROCm release list"
    i = order.index(kmd)
    return order[max(0, i - 2) : i + 3], "AMD's +/- 2 releases rule (KMD63)"


def user_space(module_version: Optional[str], driver_source: Optional[str]) -> UserSpace:
    """The ROCm user space the machine's amdgpu driver runs, from the module version doctor read."""
    if module_version:
        row = driver_release(module_version)
        if row is None:
            return UserSpace(
                None,
                None,
                f"amdgpu {module_version} is a driver release fwsetup's table does not know: its "
                "user-space window cannot be checked",
            )
        allowed, how = window(row.rocm)
        return UserSpace(
            row.rocm,
            allowed,
            f"amdgpu {module_version} is the ROCm {row.rocm} driver, which runs ROCm "
            f"{', '.join(allowed) or 'nothing known'} user space ({how})",
        )
    if driver_source == "inbox":
        return UserSpace(
            None,
            None,
            "the kernel's own amdgpu driver (no amdgpu-dkms): AMD supports it on the distribution kernels it lists",
        )
    return UserSpace(
        None, None, "the amdgpu driver version is unknown: the user-space window cannot be checked"
    )


def override_for(gfx: Optional[str]) -> Optional[Override]:
    return next((o for o in table().override if gfx in o.gfx), None) if gfx else None


def is_apu(gfx: Optional[str]) -> bool:
    return gfx in table().apu if gfx else False


def route_for(framework: str) -> Optional[Route]:
    return next((r for r in table().route if r.framework == framework), None)
