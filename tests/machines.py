"""Fixture machines as SystemReports: real recorded nvidia-smi tables and os-release files,
plus the machines the selection rules are specified on (issue examples). The GPU facts of
the recorded ones go through the same code the probe uses (smi.parse_smi_table, then
nvidia.describe, which fills what the driver does not say from the data tables)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

from fwsetup import records

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FIXTURES

from fwsetup.probe import nvidia
from fwsetup.probe.nvidia import smi
from fwsetup.report import (
    GPU,
    Interpreter,
    Libc,
    NvidiaDriver,
    OSInfo,
    PythonInfo,
    Resources,
    SystemReport,
)

PYENV = ["3.13.0", "3.12.1", "3.11.7", "3.10.13", "3.9.18", "3.8.18", "3.7.16", "3.6.15", "2.7.18"]


def base_report(
    distro: tuple[str, str] = ("ubuntu", "22.04"),
    python: str = "3.11.7",
    interpreters: Optional[list[str]] = None,
    arch: str = "x86_64",
    system: str = "Linux",
    flags: Optional[list[str]] = None,
) -> SystemReport:
    versions = PYENV if interpreters is None else interpreters
    like = (
        ["debian"] if distro[0] == "ubuntu" else ["rhel", "fedora"] if distro[0] in ("rocky", "rhel") else []
    )
    return SystemReport(
        os=OSInfo(
            system=system,
            distro_id=distro[0],
            distro_version=distro[1],
            distro_like=like,
            arch=arch,
            libc=Libc("glibc", "2.35") if system == "Linux" else None,
        ),
        python=PythonInfo(python, "CPython", f"/usr/bin/python{python[:4].rstrip('.')}"),
        interpreters=[Interpreter(v, f"/root/.pyenv/versions/{v}/bin/python", "pyenv") for v in versions],
        resources=Resources(cpu_flags=flags if flags is not None else ["sse4_2", "avx", "avx2", "fma"]),
        tools={"uv": "/usr/bin/uv", "apt-get": "/usr/bin/apt-get"},
    )


def with_nvidia(
    report: SystemReport, driver: str, cuda: Optional[str], gpus: list[tuple[str, str]]
) -> SystemReport:
    return records.replace(
        report,
        nvidia=NvidiaDriver(driver, cuda, "nvidia-smi", "reported" if cuda else None),
        gpus=[GPU("nvidia", i, name, None, cc, "reported") for i, (name, cc) in enumerate(gpus)],
    )


def from_smi_fixture(name: str, distro: tuple[str, str] = ("ubuntu", "22.04")) -> SystemReport:
    text = (FIXTURES / "nvidia-smi" / name).read_text(encoding="utf-8")
    table = smi.parse_smi_table(text)
    windows_driver = name.startswith(("windows", "wsl2"))
    driver, gpus = nvidia.describe(
        table.gpus, table.driver_version, table.cuda_version, "nvidia-smi", windows_driver
    )
    report = base_report(distro)
    return records.replace(report, nvidia=driver, gpus=gpus)


RECORDED = {
    "rtx2080ti-418-container": ("driver-418.116.00-cuda-NA-RTX2080Ti-in-container.txt", ("ubuntu", "20.04")),
    "rtx2070-440": ("driver-440.100-cuda10.2-RTX2070-laptop-preMIG-layout.txt", ("ubuntu", "20.04")),
    "rtx2070-460": ("driver-460.39-cuda11.2-RTX2070-laptop.txt", ("ubuntu", "20.04")),
    "laptop16gb-470": ("driver-470.63.01-cuda11.4-GeForce-16GB-laptop.txt", ("ubuntu", "20.04")),
    "titanv-515": ("driver-515.65.01-cuda11.7-TITAN-V.txt", ("ubuntu", "22.04")),
    "rtx4090-580": ("driver-580.65.06-cuda13.0-RTX4090-ubuntu22.04.txt", ("ubuntu", "22.04")),
    "gtx960-580": ("driver-580.82.09-cuda13.0-GTX960-ubuntu24.04.txt", ("ubuntu", "24.04")),
    "h100-mig-590": ("driver-590.48.01-cuda13.1-H100-80GB-HBM3-MIG-4-instances.txt", ("ubuntu", "22.04")),
    "h200-590": ("driver-590.48.01-cuda13.1-H200.txt", ("ubuntu", "22.04")),
    "rtx4080super-595": ("driver-595.71.05-cuda13.2-RTX4080SUPER-fedora44.txt", ("fedora", "44")),
    "l40s-595": ("driver-595.80-L40S-fedora44-cloud.txt", ("fedora", "44")),
    "rtx2080super-610": ("driver-610.57.04-KMD-CUDA-UMD-13.3-RTX2080SUPER-fedora44.txt", ("fedora", "44")),
    "wsl2-rtx3070-531": ("wsl2-smi-530.47-driver-531.68-cuda12.1-RTX3070.txt", ("ubuntu", "22.04")),
}


def machines() -> dict[str, SystemReport]:
    out = {name: from_smi_fixture(f, distro) for name, (f, distro) in RECORDED.items()}
    out.update(
        {
            "gtx1080ti-580": with_nvidia(
                base_report(), "580.95.05", "13.0", [("NVIDIA GeForce GTX 1080 Ti", "6.1")]
            ),
            "rtx5090-575": with_nvidia(
                base_report(), "575.57.08", "12.9", [("NVIDIA GeForce RTX 5090", "12.0")]
            ),
            "t4-470": with_nvidia(
                base_report(("ubuntu", "20.04")), "470.82.01", "11.4", [("Tesla T4", "7.5")]
            ),
            "v100-535": with_nvidia(base_report(), "535.104.05", "12.2", [("Tesla V100-SXM2-32GB", "7.0")]),
            "k80-470": with_nvidia(
                base_report(("ubuntu", "18.04")), "470.82.01", "11.4", [("Tesla K80", "3.7")]
            ),
            "mixed-k80-rtx5090-580": with_nvidia(
                base_report(),
                "580.95.05",
                "13.0",
                [("Tesla K80", "3.7"), ("NVIDIA GeForce RTX 5090", "12.0")],
            ),
            "mixed-1080ti-4090-580": with_nvidia(
                base_report(),
                "580.95.05",
                "13.0",
                [("NVIDIA GeForce GTX 1080 Ti", "6.1"), ("NVIDIA GeForce RTX 4090", "8.9")],
            ),
            "cpu-only-debian12": base_report(("debian", "12")),
            "cpu-only-py27-only": base_report(("debian", "12"), python="2.7.18", interpreters=["2.7.18"]),
            "no-avx-cpu": base_report(("debian", "12"), flags=["sse4_2"]),
            "macos-m2": records.replace(
                base_report(system="Darwin", arch="arm64"),
                os=OSInfo(system="Darwin", distro_id="macos", distro_version="14.5", arch="arm64"),
                gpus=[GPU("apple", 0, "Apple M2 Pro", 32768, None)],
            ),
            "aarch64-gh200-580": with_nvidia(
                base_report(arch="aarch64"), "580.65.06", "13.0", [("NVIDIA GH200 480GB", "9.0")]
            ),
        }
    )
    from amd_machines import amd_machines  # AMD ROCm machines, from tests/fixtures/amd/

    out.update(amd_machines())
    return out


def write_all(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, report in machines().items():
        p = directory / f"{name}.json"
        p.write_text(report.to_json())
        paths[name] = p
    return paths


if __name__ == "__main__":  # python tests/machines.py DIR: write them for `--system` use
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "machines")
    for n, p in write_all(out).items():
        print(n, p)
