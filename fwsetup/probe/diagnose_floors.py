"""Findings about an installed torch that cannot run on this CPU or OS (facts/floors.toml): an
aarch64 build that uses Armv8.1 atomics on a CPU without them dies with SIGILL at `import torch`.
Read only when torch is installed on an aarch64 CPU that does not list `atomics`."""

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
