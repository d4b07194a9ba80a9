"""NVIDIA Jetson facts (jetson.toml) as typed data: L4T release -> JetPack -> CUDA/cuDNN/Python,
Tegra SoC -> GPU, and NVIDIA's own framework builds per L4T range."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class L4tRelease:
    l4t: str  # "35.3.1", as /etc/nv_tegra_release states it (R35, REVISION 3.1)
    jetpack: str
    cuda: str  # the CUDA JetPack ships
    python: str  # Ubuntu's python3 on that JetPack: the only one NVIDIA builds wheels for
    ubuntu: str
    cudnn: Optional[str] = None
    sbsa: bool = False  # JetPack 7+: SBSA CUDA, served by the ordinary aarch64 CUDA wheels


@dataclass(frozen=True)
class Soc:
    compatible: str  # the SoC entry of /proc/device-tree/compatible
    name: str
    compute_capability: str
    last_jetpack: str  # the newest JetPack series this SoC can run
    first_jetpack: Optional[str] = None  # the oldest JetPack that supports it, where a source says


@dataclass(frozen=True)
class JetpackBuild:
    """One NVIDIA build of a framework for the L4T releases in [l4t_min, l4t_below)."""

    l4t_min: str
    l4t_below: str
    jetpack: str
    variant: str
    version: str
    python: str
    url: Optional[str] = None  # a wheel pip installs by URL
    index: Optional[str] = None  # an index serving it (and, for PyTorch, torchvision)
    download: Optional[str] = None  # hosted under a name pip refuses: fetched to `wheel_name` first
    wheel_name: Optional[str] = None
    torchvision: Optional[str] = None
    torchvision_from_source: bool = False
    system_packages: tuple[str, ...] = ()

    def covers(self, l4t: str) -> bool:
        have = versions.release(l4t)
        return versions.release(self.l4t_min) <= have < versions.release(self.l4t_below)


@dataclass(frozen=True)
class Container:
    framework: str
    l4t_min: str
    command: str


@dataclass(frozen=True)
class JetsonTable:
    release: tuple[L4tRelease, ...]
    soc: tuple[Soc, ...]
    pytorch: tuple[JetpackBuild, ...]
    tensorflow: tuple[JetpackBuild, ...]
    container: tuple[Container, ...]
    checked: datetime.date  # the day the table was last checked against its sources


from fwsetup.facts.l4t import L4T_MAJORS, is_l4t_version  # noqa: E402 - re-exported for the table's users

__all__ = ["L4T_MAJORS", "is_l4t_version", "table"]


@functools.lru_cache(maxsize=1)
def table() -> JetsonTable:
    return schema.read(JetsonTable, "jetson")


def release_for(l4t: Optional[str]) -> Optional[L4tRelease]:
    """The JetPack of an L4T release: the exact row, else the newest row of the same major.minor
    below it (a point release NVIDIA added later keeps its line's CUDA); None when unknown."""
    have = versions.release(l4t)
    if len(have) < 2:
        return None
    rows = [r for r in table().release if versions.release(r.l4t)[:2] == have[:2]]
    below = [r for r in rows if versions.release(r.l4t) <= have]
    exact = [r for r in below if versions.release(r.l4t) == have]
    if exact:
        return exact[0]
    return max(below, key=lambda r: versions.key(r.l4t)) if below else None


def soc_for(compatible: str) -> Optional[Soc]:
    """The SoC named in a /proc/device-tree/compatible text (NUL- or space-separated entries)."""
    entries = {e.strip().lower() for e in compatible.replace("\x00", " ").split()}
    return next((s for s in table().soc if s.compatible in entries), None)


def soc_for_release(release: Optional[L4tRelease]) -> Optional[Soc]:
    """The SoC of a board known only by its L4T release: the one SoC whose JetPack range holds that
    release's JetPack (JetPack 6 runs only on Orin), None when several could run it."""
    if release is None:
        return None
    have = versions.release(release.jetpack.split()[0])

    def runs(soc: Soc) -> bool:
        last = versions.release(soc.last_jetpack)
        first = versions.release(soc.first_jetpack) if soc.first_jetpack else ()
        return first <= have and have[: len(last)] <= last

    fits = [s for s in table().soc if runs(s)]
    return fits[0] if len(fits) == 1 else None


def soc_by_capability(cc: Optional[str]) -> Optional[Soc]:
    return next((s for s in table().soc if s.compute_capability == cc), None)


def builds(framework: str, l4t: str) -> list[JetpackBuild]:
    """NVIDIA's builds of `framework` ("pytorch", "tensorflow") for this L4T release, newest first."""
    rows: tuple[JetpackBuild, ...] = getattr(table(), framework, ())
    return sorted((b for b in rows if b.covers(l4t)), key=lambda b: versions.key(b.version), reverse=True)


def newer_builds(framework: str, l4t: str) -> list[JetpackBuild]:
    """Builds of `framework` for L4T releases newer than this one: what a JetPack upgrade brings."""
    rows: tuple[JetpackBuild, ...] = getattr(table(), framework, ())
    have = versions.release(l4t)
    return [b for b in rows if versions.release(b.l4t_min) > have]


def container_for(framework: str, l4t: str) -> Optional[Container]:
    have = versions.release(l4t)
    return next(
        (c for c in table().container if c.framework == framework and have >= versions.release(c.l4t_min)),
        None,
    )
