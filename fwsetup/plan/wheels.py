"""Wheels: those already on disk (find-links directories, wheelhouses), which selection prefers,
and whether a wheel installs on a given Python of a (possibly other) machine — by the tag
rules of `packaging.tags` (abi3, manylinux aliases, musllinux, macOS 10.x), not by hand.

`packaging.tags` (and `packaging.utils`, which imports it) costs more to import than all of
selection: it is imported only when a wheel's tags are checked, so a plan that never looks at a
local wheel (JAX, TensorFlow, every --dry-run without a torch wheel on disk) never pays for it."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from packaging.version import InvalidVersion, Version

from fwsetup import versions
from fwsetup.plan.model import LocalWheel
from fwsetup.report import SystemReport

if TYPE_CHECKING:
    from packaging.tags import Tag

# PEP 600: the glibc each legacy manylinux name stands for (the tags a report's glibc accepts).
MANYLINUX_LEGACY = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
_LEGACY_ARCHS = {
    "manylinux2014": ("x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"),
    "manylinux2010": ("x86_64", "i686"),
    "manylinux1": ("x86_64", "i686"),
}
DEFAULT_MACOS = (15, 0)  # when a report does not say which macOS it is


def scan(dirs: Iterable[Path]) -> tuple[LocalWheel, ...]:
    found: list[LocalWheel] = []
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for fname in names:
            wheel = _parse_filename(fname, d)
            if wheel is not None:
                found.append(wheel)
    return tuple(found)


def _parse_filename(fname: str, directory: Path) -> Optional[LocalWheel]:
    """PEP 427's `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, as
    `packaging.utils.parse_wheel_filename` reads it, without importing packaging.tags; the tag
    triple is kept compressed (`wheel_fits` expands it)."""
    if not fname.endswith(".whl"):
        return None
    parts = fname[:-4].split("-")
    if len(parts) not in (5, 6) or not all(parts):
        return None
    try:
        version = str(Version(parts[1]))
    except InvalidVersion:
        return None
    name = re.sub(r"[-_.]+", "-", parts[0]).lower()
    return LocalWheel(name, version, ("-".join(parts[-3:]),), str(Path(directory) / fname))


def platforms(report: SystemReport) -> tuple[str, ...]:
    """The wheel platform tags the machine in `report` installs, most specific first."""
    system = report.os.system.lower()
    arch = (report.os.arch or "").lower()
    libc = report.os.libc
    return _platforms(
        system,
        arch,
        libc.name if libc else None,
        libc.version if libc else None,
        report.os.distro_version if system == "darwin" else None,
    )


@functools.lru_cache(maxsize=64)
def _platforms(
    system: str, arch: str, libc: Optional[str], libc_version: Optional[str], macos: Optional[str]
) -> tuple[str, ...]:
    if system == "windows":
        return ("win_arm64",) if arch in ("arm64", "aarch64") else ("win_amd64",)
    if system == "darwin":
        mac_arch = "arm64" if arch in ("arm64", "aarch64") else "x86_64"
        have = versions.release(macos, 2) or DEFAULT_MACOS
        major, minor = (*have, 0)[:2]
        from packaging.tags import mac_platforms

        return tuple(mac_platforms((major, minor if major == 10 else 0), mac_arch))
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    out: list[str] = []
    have = versions.release(libc_version, 2)
    if libc == "glibc" and len(have) == 2:
        out += [f"manylinux_2_{m}_{arch}" for m in range(have[1], 4, -1)]
        out += [
            f"{name}_{arch}"
            for name, needs in MANYLINUX_LEGACY.items()
            if have >= needs and arch in _LEGACY_ARCHS[name]
        ]
    elif libc == "musl" and len(have) == 2:
        out += [f"musllinux_1_{m}_{arch}" for m in range(have[1], -1, -1)]
    return (*out, f"linux_{arch}")


@functools.lru_cache(maxsize=256)
def supported_tags(python_minor: str, plats: tuple[str, ...]) -> frozenset[Tag]:
    """Every tag CPython `python_minor` accepts on these platforms (abi3 of older minors included)."""
    from packaging.tags import compatible_tags, cpython_tags

    major, minor = (*versions.release(python_minor, 2), 0)[:2]
    xy = f"{major}{minor}"
    abis = [f"cp{xy}"] + ([f"cp{xy}m", f"cp{xy}mu"] if (major, minor) < (3, 8) else [])
    tags = set(cpython_tags((major, minor), abis=abis, platforms=plats))
    tags.update(compatible_tags((major, minor), interpreter=f"cp{xy}", platforms=plats))
    return frozenset(tags)


def wheel_fits(tags: Iterable[str], python_minor: str, report: SystemReport) -> bool:
    """Whether a wheel with these (compressed) tag strings installs on CPython `python_minor` there."""
    from packaging.tags import parse_tag

    supported = supported_tags(python_minor, platforms(report))
    for compressed in tags:
        try:
            if not parse_tag(compressed).isdisjoint(supported):
                return True
        except ValueError:
            continue
    return False
