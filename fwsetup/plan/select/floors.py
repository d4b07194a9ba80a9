"""Whether a PyTorch release runs on this OS and CPU at all (facts/floors.toml): the glibc or
macOS its wheels' platform tags need, the macOS its MPS backend needs, and CPU features its
binaries use unconditionally (Armv8.1 LSE atomics in some aarch64 releases)."""

from __future__ import annotations

from collections.abc import Sequence
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


def skipped_newer(report: SystemReport, platform: str, accel: str, newer: Sequence[str]) -> list[str]:
    """Why the releases newer than the chosen one do not run here, one line per cause (for the
    plan's reasons: "why not 2.15?" is the first question on Amazon Linux 2 or macOS 13)."""
    causes: dict[str, list[str]] = {}
    for version in newer:
        misfit = release_misfit(report, platform, version, accel)
        if misfit is not None:
            causes.setdefault(misfit, []).append(version)
    lines = []
    for misfit, found in causes.items():
        span = ", ".join(found) if len(found) <= 2 else f"{found[-1]} … {found[0]}"
        lines.append(f"not {span}: {misfit}")
    return lines
