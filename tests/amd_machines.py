"""AMD fixture machines as SystemReports, built from the recorded outputs in tests/fixtures/amd/
through the rocm probe's own functions (parse_rocminfo / parse_agent_block, describe, assemble) —
the report doctor would write on each machine. Where one machine's recording lacks a fact (its
driver, its ROCm release), the fact is taken from another recording, named beside it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FIXTURES
from machines import base_report

from fwsetup import records
from fwsetup.probe import amdgpu, rocm
from fwsetup.report import OSInfo, PciDevice, SystemReport

AMD = FIXTURES / "amd"


def _text(name: str) -> str:
    return (AMD / name).read_text(encoding="utf-8")


def _machine(
    agents: list[rocm.RocmAgent],
    version: Optional[str],
    kernel: amdgpu.Kernel,
    rock: Optional[str] = None,
    distro: tuple[str, str] = ("ubuntu", "22.04"),
    wsl: Optional[int] = None,
) -> SystemReport:
    gpus = rocm.describe(agents, kernel.nodes)
    info = rocm.assemble(version, "rocm-info-version" if version else "rocminfo", gpus, kernel, rock)
    report = base_report(distro)
    if wsl:
        report = records.replace(
            report, os=records.replace(report.os, wsl=wsl, kernel="5.15.167.4-microsoft-standard-WSL2")
        )
    return records.replace(report, rocm=info, gpus=gpus)


def rx7900xtx_rocm61() -> SystemReport:
    """ROCm/ROCm#3072: one machine, recorded whole — RX 7900 XTX, ROCm 6.1.0, amdgpu-dkms 6.7.0
    (rocminfo's "ROCk module version 6.7.0 is loaded")."""
    text = _text("rocminfo-rocm6.1.0-RX7900XTX-rock6.7.0-excerpt.txt")
    return _machine(rocm.parse_rocminfo(text) or [], "6.1.0", amdgpu.Kernel(), amdgpu.parse_rock_line(text))


def mi250_kmd52() -> SystemReport:
    """ROCm/ROCm#3951: one machine, recorded whole — MI250 with ROCm 6.2.3 user space on the amdgpu
    driver of ROCm 5.2 (module 5.16.9.22.20)."""
    text = _text("rocminfo-MI250-rock5.16.9.22.20-excerpt.txt")
    return _machine(rocm.parse_rocminfo(text) or [], "6.2.3", amdgpu.Kernel(), amdgpu.parse_rock_line(text))


def mi250x_rocm54() -> SystemReport:
    """The MI250X/MI250 agent of ROCm/ROCm#3951, on ROCm 5.4.3 with its amdgpu-dkms 5.18.13
    (legacy-rocm-build#1624: `amdgpu-dkms 1:5.18.13.50403`; ROCm/amdgpu#148: 5.18.13 is the 5.4 driver)."""
    text = _text("rocminfo-MI250-rock5.16.9.22.20-excerpt.txt")
    agent = rocm.parse_agent_block(text[text.index("Agent 3") :])
    kernel = amdgpu.Kernel(driver_version="5.18.13", driver_source="sysfs-module")
    return _machine([agent] if agent else [], "5.4.3", kernel)


def mi300x_rocm61() -> SystemReport:
    """The MI300X agent of legacy-rocm-build#4414, on ROCm 6.1.0 with its amdgpu-dkms 6.7.0 (the
    ROCm 6.1 driver: ROCm/ROCm#3036 "amdgpu-6.7.0-1756574", ROCm/ROCm#3072 "ROCk module version 6.7.0")."""
    agent = rocm.parse_agent_block(_text("rocminfo-agent-gfx942-MI300X-excerpt.txt"))
    kernel = amdgpu.Kernel(driver_version="6.7.0", driver_source="sysfs-module")
    return _machine([agent] if agent else [], "6.1.0", kernel)


def rx7900xtx_wsl() -> SystemReport:
    """The RX 7900 XTX agent of ROCm/ROCm#3072 seen from WSL 2 with ROCm 6.1.3 for WSL: /dev/dxg, no amdgpu
    module, rocminfo saying "WSL environment detected." (legacy-rocm-build#4490)."""
    text = _text("rocminfo-rocm6.1.0-RX7900XTX-rock6.7.0-excerpt.txt")
    wsl_header = _text("rocminfo-wsl-header-rocm6.3.4-excerpt.txt")
    assert amdgpu.parse_rock_line(wsl_header) is None  # no amdgpu module under WSL
    return _machine(rocm.parse_rocminfo(text) or [], "6.1.3", amdgpu.Kernel(dxg=True), wsl=2)


def vega64() -> SystemReport:
    """ROCm/ROCm#1704: a Radeon RX Vega (gfx900) with ROCm 4.5.2 installed; driver not recorded. PCI id of
    the RX Vega 64 from freedesktop bug 110381."""
    agent = rocm.parse_agent_block(_text("vega64-gfx900-rocm4.5.2-agent-excerpt.txt"))
    report = _machine([agent] if agent else [], "4.5.2", amdgpu.Kernel(), distro=("ubuntu", "20.04"))
    return records.replace(report, pci_display_devices=[PciDevice("amd", "1002", "687f", "0000:0b:00.0")])


def rx7900xtx_windows() -> SystemReport:
    """Windows 11 with an RX 7900 XTX: no ROCm section (doctor's rocm probe is Linux-only); the GPU is
    seen on the PCI bus (PCI id 1002:744c, the chip ID rocminfo reports for this card in ROCm/ROCm#3072)."""
    report = base_report(system="Windows", arch="AMD64")
    return records.replace(
        report,
        os=OSInfo(system="Windows", distro_version="10.0.22631", arch="AMD64"),
        pci_display_devices=[PciDevice("amd", "1002", "744c", "0000:03:00.0")],
    )


def amd_machines() -> dict[str, SystemReport]:
    return {
        "mi300x-rocm6.1": mi300x_rocm61(),
        "mi250x-rocm5.4": mi250x_rocm54(),
        "mi250-kmd5.2-rocm6.2.3": mi250_kmd52(),
        "rx7900xtx-rocm6.1": rx7900xtx_rocm61(),
        "rx7900xtx-wsl": rx7900xtx_wsl(),
        "rx7900xtx-windows": rx7900xtx_windows(),
        "vega64-rocm4.5.2": vega64(),
    }
