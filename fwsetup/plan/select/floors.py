"""Whether a PyTorch release runs on this OS and CPU at all (facts/floors.toml): the glibc or
macOS its wheels' platform tags need, the macOS its MPS backend needs, and CPU features its
binaries use unconditionally (Armv8.1 LSE atomics in some aarch64 releases)."""

from __future__ import annotations

from typing import Optional

from fwsetup.facts import floors
from fwsetup.facts.floors import below
from fwsetup.plan.machine import arch_name
from fwsetup.report import SystemReport


def release_misfit(report: SystemReport, platform: str, version: str, accel: str) -> Optional[str]:
    """Why torch `version` cannot run here (for the plan's reasons), or None when nothing says so."""
    floor = floors.wheel_floor(version, platform)
    if floor is not None:
        libc = report.os.libc
        if floor.glibc and libc is not None and libc.name == "glibc" and below(libc.version, floor.glibc):
            return f"its {platform} wheels need glibc {floor.glibc}; this machine has glibc {libc.version}"
        macos = report.os.distro_version if platform.startswith("macos") else None
        if floor.macos and below(macos, floor.macos):
            return f"its {platform} wheels need macOS {floor.macos}; this Mac runs macOS {macos}"
    if accel == "mps":
        mps = floors.mps_floor(version)
        macos = report.os.distro_version
        if mps is not None and below(macos, mps.macos):
            return f"its MPS (Metal) backend needs macOS {mps.macos}; this Mac runs macOS {macos}"
    flags = report.resources.cpu_flags
    for need in floors.isa_needs(version, arch_name(report)):
        if flags and need.feature not in flags:
            return (
                f"its {need.arch} binaries use {need.what}, which this CPU lacks (no '{need.feature}' in "
                "/proc/cpuinfo): it dies with SIGILL at import; leave --version out for a release that runs here"
            )
    return None
