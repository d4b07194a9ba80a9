"""Findings about an installed torch that cannot run, or cannot reach the GPU, on this CPU or OS
(facts/floors.toml): an aarch64 build that uses Armv8.1 atomics on a CPU without them dies with
SIGILL at `import torch`; an MPS backend newer than the Mac's macOS is unavailable. The table is
read only when torch is installed on such a machine."""

from __future__ import annotations

from collections.abc import Iterator

from fwsetup.report import Finding, SystemReport


def cpu_features(report: SystemReport) -> Iterator[Finding]:
    flags = report.resources.cpu_flags
    arch = (report.os.arch or "").lower()
    if arch not in ("aarch64", "arm64") or not flags or "atomics" in flags or report.os.system != "Linux":
        return
    for fw in report.frameworks:
        if fw.name != "torch":
            continue
        from fwsetup.facts import floors

        for need in floors.isa_needs(fw.version.split("+")[0], "aarch64"):
            if need.feature not in flags:
                yield Finding(
                    "torch-needs-missing-cpu-feature",
                    "error",
                    f"torch {fw.version} uses {need.what}, which this CPU lacks (no '{need.feature}' in "
                    "/proc/cpuinfo): `import torch` dies with 'Illegal instruction'",
                    "reinstall with `fwsetup install pytorch --cpu` (it skips the builds that need it)",
                )


def mps_floor(report: SystemReport) -> Iterator[Finding]:
    """An installed torch whose MPS backend needs a newer macOS than this Mac runs: it imports
    and computes on the CPU, and `torch.backends.mps.is_available()` is False."""
    if report.os.system != "Darwin" or not any(g.vendor == "apple" for g in report.gpus):
        return
    for fw in report.frameworks:
        if fw.name != "torch":
            continue
        from fwsetup.facts import floors

        floor = floors.mps_floor(fw.version.split("+")[0])
        if floor is not None and floors.below(report.os.distro_version, floor.macos):
            yield Finding(
                "torch-mps-needs-newer-macos",
                "warning",
                f"torch {fw.version}'s MPS (Metal) backend needs macOS {floor.macos}; this Mac runs macOS "
                f"{report.os.distro_version}: it computes on the CPU only",
                "run `fwsetup install pytorch --gpu` (it picks the newest release whose MPS runs here), "
                f"or upgrade macOS to {floor.macos} or newer",
            )
