"""NVIDIA probe: parsers over every recorded real output, and the probe through fake tools."""

from __future__ import annotations

import ctypes
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Optional

import pytest
from fakes import FIXTURES, fixture_bytes, make_tool, path_env

from fwsetup.probe import nvidia
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.probe.evidence import WSL_NVIDIA_SMI
from fwsetup.probe.nvidia import nvml, problems, smi, tables
from fwsetup.report import GPU


def _fixtures(sub: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / sub).iterdir() if not p.name.endswith(".source.md"))


def _text(rel: str) -> str:
    return fixture_bytes(rel).decode("utf-8")


# ---------------------------------------------------------------------------------------------
# Default nvidia-smi table, every era

# file -> (smi version, driver, cuda, [(index, name, bus id, memory MiB, mig, table CC)])
SMI_TABLES: dict[str, tuple[str, str, Optional[str], list[tuple[Any, ...]]]] = {
    "driver-418.116.00-cuda-NA-RTX2080Ti-in-container.txt": (
        "418.116.00",
        "418.116.00",
        None,
        [(0, "GeForce RTX 208...", "00000000:01:00.0", 10989, None, "7.5")],
    ),
    "driver-440.100-cuda10.2-RTX2070-laptop-preMIG-layout.txt": (
        "440.100",
        "440.100",
        "10.2",
        [(0, "GeForce RTX 207...", "00000000:01:00.0", 7973, None, "7.5")],
    ),
    "driver-460.39-cuda11.2-RTX2070-laptop.txt": (
        "460.39",
        "460.39",
        "11.2",
        [(0, "GeForce RTX 2070", "00000000:01:00.0", 7973, None, "7.5")],
    ),
    "driver-470.63.01-cuda11.4-GeForce-16GB-laptop.txt": (
        # "NVIDIA GeForce ..." could be any GeForce: no capability rather than a wrong one
        "470.63.01",
        "470.63.01",
        "11.4",
        [(0, "NVIDIA GeForce ...", "00000000:01:00.0", 16116, None, None)],
    ),
    "driver-515.65.01-cuda11.7-TITAN-V.txt": (
        "515.65.01",
        "515.65.01",
        "11.7",
        [(0, "NVIDIA TITAN V", "00000000:AF:00.0", 12288, None, "7.0")],
    ),
    "driver-580.65.06-cuda13.0-RTX4090-ubuntu22.04.txt": (
        "580.65.06",
        "580.65.06",
        "13.0",
        [(0, "NVIDIA GeForce RTX 4090", "00000000:01:00.0", 24564, None, "8.9")],
    ),
    "driver-580.82.09-cuda13.0-GTX960-ubuntu24.04.txt": (
        "580.82.09",
        "580.82.09",
        "13.0",
        [(0, "NVIDIA GeForce GTX 960", "00000000:03:00.0", 2048, None, "5.2")],
    ),
    "driver-590.48.01-cuda13.1-H100-80GB-HBM3-MIG-4-instances.txt": (
        "590.48.01",
        "590.48.01",
        "13.1",
        [(0, "NVIDIA H100 80GB HBM3", "00000000:00:09.0", 81559, "Enabled", "9.0")],
    ),
    "driver-590.48.01-cuda13.1-H200.txt": (
        "590.48.01",
        "590.48.01",
        "13.1",
        [(0, "NVIDIA H200", "00000000:83:00.0", 143771, "Disabled", "9.0")],
    ),
    "driver-595.71.05-cuda13.2-RTX4080SUPER-fedora44.txt": (
        "595.71.05",
        "595.71.05",
        "13.2",
        [(0, "NVIDIA GeForce RTX 4080 ...", "00000000:01:00.0", 16376, None, "8.9")],
    ),
    "driver-595.80-L40S-fedora44-cloud.txt": (
        "595.80",
        "595.80",
        "13.2",
        [(0, "NVIDIA L40S", "00000000:01:00.0", 46068, None, "8.9")],
    ),
    "driver-610.57.04-KMD-CUDA-UMD-13.3-RTX2080SUPER-fedora44.txt": (
        "610.57.04",
        "610.57.04",
        "13.3",
        [(0, "NVIDIA GeForce RTX 2080 ...", "00000000:0C:00.0", 8192, None, "7.5")],
    ),
    "windows-driver-591.86-cuda13.1-RTX2080SUPER-WDDM.txt": (
        "591.86",
        "591.86",
        "13.1",
        [(0, "NVIDIA GeForce RTX 2080 ...", "00000000:0C:00.0", 8192, None, "7.5")],
    ),
    "windows-driver-610.62-KMD-CUDA-UMD-13.3-RTX2080SUPER-WDDM.txt": (
        "610.62",
        "610.62",
        "13.3",
        [(0, "NVIDIA GeForce RTX 2080 ...", "00000000:0C:00.0", 8192, None, "7.5")],
    ),
    "wsl2-smi-530.47-driver-531.68-cuda12.1-RTX3070.txt": (
        # WSL2: the Linux-side nvidia-smi is 530.47, the driver is the Windows host's 531.68
        "530.47",
        "531.68",
        "12.1",
        [(0, "NVIDIA GeForce RTX 3070", "00000000:2B:00.0", 8192, None, "8.6")],
    ),
}


@pytest.mark.parametrize("path", _fixtures("nvidia-smi"), ids=lambda p: p.name)
def test_parse_smi_table_every_fixture(path: Path) -> None:
    assert path.name in SMI_TABLES, f"add expectations for new fixture {path.name}"
    smi_version, driver, cuda, gpus = SMI_TABLES[path.name]
    table = smi.parse_smi_table(path.read_text(encoding="utf-8"))
    assert (table.smi_version, table.driver_version, table.cuda_version) == (smi_version, driver, cuda)
    got = [
        (
            g.index,
            g.name,
            g.bus_id,
            g.memory_total_mib,
            g.mig_mode,
            tables.compute_capability_for_name(g.name),
        )
        for g in table.gpus
    ]
    assert got == gpus
    assert all(g.vendor == "nvidia" and g.compute_capability is None for g in table.gpus)


def test_parse_smi_table_rejects_garbage() -> None:
    with pytest.raises(smi.NvidiaParseError):
        smi.parse_smi_table("Segmentation fault\n")
    with pytest.raises(smi.NvidiaParseError):
        smi.parse_smi_table("")


def test_parse_smi_table_multi_gpu() -> None:
    # Two GPU blocks in the R535+ layout (the H200 fixture's block, repeated with index 1)
    text = _text("nvidia-smi/driver-590.48.01-cuda13.1-H200.txt")
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|   0  NVIDIA H200"))
    block = lines[start : start + 4]
    second = [block[0].replace("|   0  ", "|   1  ").replace("83:00.0", "84:00.0"), *block[1:]]
    lines[start + 4 : start + 4] = second
    table = smi.parse_smi_table("\n".join(lines))
    assert [(g.index, g.bus_id) for g in table.gpus] == [
        (0, "00000000:83:00.0"),
        (1, "00000000:84:00.0"),
    ]


# ---------------------------------------------------------------------------------------------
# --query-gpu CSV, --version, -L (tests/fixtures/query)

# The field list from the recorded command line (see the fixture's .source.md)
NOHEADER_440_FIELDS = [
    "power.limit",
    "power.min_limit",
    "power.max_limit",
    "memory.total",
    "vbios_version",
    "driver_version",
    "name",
    "gpu_uuid",
    "power.draw",
    "temperature.gpu",
    "temperature.memory",
    "clocks.current.graphics",
    "clocks.sm",
    "clocks.mem",
    "utilization.gpu",
    "utilization.memory",
    "fan.speed",
    "pcie.link.width.current",
    "pstate",
]


def _header_fields(text: str) -> list[str]:
    header = text.splitlines()[0]
    return [re.sub(r"\s*\[.*\]$", "", c.strip()) for c in header.split(",")]


@pytest.mark.parametrize("path", _fixtures("query"), ids=lambda p: p.name)
def test_query_fixtures(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    name = path.name
    if name.startswith(("nvidia-smi--version-", "nvidia-smi-L-")):
        # fwsetup never asks for these; printed where a query's answer belongs, they are
        # rejected, never misread as GPU rows
        with pytest.raises(smi.NvidiaParseError):
            smi.parse_query_csv(text, smi.QUERY_FIELDS)
    elif name == "query-gpu-noheader-nounits-440.64-RTX2080.csv":
        rows = smi.parse_query_csv(text, NOHEADER_440_FIELDS)
        assert len(rows) == 1
        assert rows[0]["name"] == "GeForce RTX 2080"
        assert rows[0]["driver_version"] == "440.64"
        assert rows[0]["memory.total"] == "7979"
        assert rows[0]["temperature.memory"] is None  # "N/A"
    elif name.startswith("query-compute-apps"):
        rows = smi.parse_query_csv(text, _header_fields(text))
        assert len(rows) == 12
        assert {r["gpu_name"] for r in rows} == {"NVIDIA GeForce RTX 2080 SUPER"}
        assert all(r["used_gpu_memory"] is None and r["gpu_serial"] is None for r in rows)
    elif name.startswith("query-gpu-all-fields"):
        rows = smi.parse_query_csv(text, _header_fields(text))
        assert len(rows) == 1
        (gpu,) = smi.gpus_from_query(rows)
        if "H100" in name:
            assert (gpu.name, gpu.memory_total_mib, gpu.compute_capability, gpu.mig_mode) == (
                "NVIDIA H100 80GB HBM3",
                81559,
                "9.0",
                "Enabled",
            )
            assert rows[0]["driver_version"] == "590.48.01"
        else:
            assert (gpu.name, gpu.memory_total_mib, gpu.compute_capability, gpu.mig_mode) == (
                "NVIDIA GeForce RTX 2080 SUPER",
                8192,
                "7.5",
                None,  # mig "[N/A]"
            )
            assert rows[0]["driver_model.current"] == "WDDM"
            assert rows[0]["driver_version"] == "591.86"
        assert gpu.compute_capability_source == "reported"
        assert gpu.bus_id is not None and gpu.uuid is not None
    else:
        pytest.fail(f"add expectations for new fixture {name}")


def test_parse_query_csv_values() -> None:
    text = (
        "0, NVIDIA H100 80GB HBM3, GPU-1, 00000000:00:09.0, 81559, 9.0, 590.48.01, Enabled\n"
        "1, Tesla T4, GPU-2, 00000000:00:0A.0, 15360, [Not Supported], 590.48.01, [N/A]\n"
        "2, Tesla T4, GPU-3, 00000000:00:0B.0, , N/A, 590.48.01, \n"
    )
    rows = smi.parse_query_csv(text, smi.QUERY_FIELDS)
    assert rows[1]["compute_cap"] is None and rows[1]["mig.mode.current"] is None
    assert rows[2]["memory.total"] is None and rows[2]["compute_cap"] is None
    gpus = smi.gpus_from_query(rows)
    assert [g.mig_mode for g in gpus] == ["Enabled", None, None]
    assert [g.compute_capability for g in gpus] == ["9.0", None, None]
    assert gpus[0].memory_total_mib == 81559 and gpus[2].memory_total_mib is None


def test_parse_query_csv_invalid_field_and_garbage() -> None:
    with pytest.raises(smi.InvalidQueryField) as info:
        smi.parse_query_csv('Field "compute_cap" is not a valid field to query.\n\n', ["x"])
    assert info.value.field == "compute_cap"
    with pytest.raises(smi.NvidiaParseError):  # a comma in a value: columns don't add up
        smi.parse_query_csv("0, NVIDIA Foo, Bar, GPU-1\n", ["index", "name", "uuid"])
    with pytest.raises(smi.NvidiaParseError):
        smi.gpus_from_query([{"index": "zero", "name": "x"}])
    assert smi.parse_query_csv("\n\n", ["index"]) == []


# ---------------------------------------------------------------------------------------------
# /proc/driver/nvidia/version, /sys/module/nvidia/version

PROC_VERSIONS = {
    "jetson-orin-l4t-35.3.1-aarch64.txt": "35.3.1",
    "open-525.60.11-archlinux-dkms.txt": "525.60.11",
    "open-565.57.01-ubuntu24.04.txt": "565.57.01",
    "proprietary-384.98-ubuntu17.10.txt": "384.98",
    "proprietary-580.173.02-truenas.txt": "580.173.02",
}


@pytest.mark.parametrize("path", _fixtures("procfs"), ids=lambda p: p.name)
def test_parse_proc_version_every_fixture(path: Path) -> None:
    assert nvidia.parse_proc_version(path.read_text(encoding="utf-8")) == PROC_VERSIONS[path.name]


def test_parse_proc_and_sys_garbage() -> None:
    assert nvidia.parse_proc_version("") is None
    assert nvidia.parse_proc_version("NVRM version: something else entirely\n") is None
    assert nvidia.parse_sys_module_version("550.144.03\n") == "550.144.03"
    assert nvidia.parse_sys_module_version("garbage\n") is None


# ---------------------------------------------------------------------------------------------
# Error recognition (tests/fixtures/errors)

ERRORS: dict[str, Optional[tuple[str, Optional[str]]]] = {
    "nvidia-smi-failed-couldnt-communicate-wsl1.txt": (problems.DRIVER_UNREACHABLE, None),
    "nvidia-smi-failed-couldnt-communicate-wsl2-indented.txt": (problems.DRIVER_UNREACHABLE, None),
    "nvidia-smi-no-devices-were-found-rtx5090.txt": (problems.NO_DEVICES, None),
    "nvml-driver-library-version-mismatch-550.144.txt": (problems.DRIVER_LIBRARY_MISMATCH, "550.144"),
    "nvml-driver-library-version-mismatch-570.124.txt": (problems.DRIVER_LIBRARY_MISMATCH, "570.124"),
    "nvml-driver-library-version-mismatch-no-version-line.txt": (
        problems.DRIVER_LIBRARY_MISMATCH,
        None,
    ),
    "nvml-mismatch-with-proc-version-580.173.02-vs-580.178.txt": (
        problems.DRIVER_LIBRARY_MISMATCH,
        "580.178",
    ),
    # PyTorch's messages are for another module; nvidia-smi never prints them
    "torch-driver-too-old-found-version-11040.txt": None,
    "torch-driver-too-old-found-version-6050-legacy-multiline.txt": None,
    "torch-no-kernel-image-available-runtimeerror.txt": None,
    "torch-sm120-not-compatible-plus-no-kernel-image.txt": None,
    "torch-sm120-not-compatible-userwarning-RTX5090-windows.txt": None,
    "torch-sm86-not-compatible-userwarning-A6000.txt": None,
}


@pytest.mark.parametrize("path", _fixtures("errors"), ids=lambda p: p.name)
def test_recognize_smi_error_every_fixture(path: Path) -> None:
    assert smi.recognize_smi_error(path.read_text(encoding="utf-8")) == ERRORS[path.name]


def test_recognize_smi_error_ignores_normal_output() -> None:
    for path in _fixtures("nvidia-smi"):
        assert smi.recognize_smi_error(path.read_text(encoding="utf-8")) is None


# ---------------------------------------------------------------------------------------------
# The probe, through fake tools and a fake /proc

# One GPU, QUERY_FIELDS order: index, name, uuid, pci.bus_id, memory.total, compute_cap,
# driver_version, mig.mode.current (values as in the recorded H100 all-fields capture)
H100_QUERY = "0, NVIDIA H100 80GB HBM3, GPU-00000000, 00000000:00:09.0, 81559, 9.0, 590.48.01, Enabled\n"


def _env(
    tmp_path: Path,
    *,
    proc: Optional[str] = None,
    sysfs: Optional[str] = None,
    timeout: float = 5.0,
) -> tuple[ProbeEnv, Path]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    if proc is not None:
        p = root / "proc/driver/nvidia/version"
        p.parent.mkdir(parents=True)
        p.write_text(proc)
    if sysfs is not None:
        p = root / "sys/module/nvidia/version"
        p.parent.mkdir(parents=True)
        p.write_text(sysfs)
    environ = path_env(bindir, **{nvidia.NO_NVML_ENV: "1"})
    return ProbeEnv(timeout=timeout, root=root, environ=environ), bindir


def _codes(out: Probed) -> list[str]:
    return [p.code for p in out.problems]


def test_probe_query_path(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path)
    make_tool(
        bindir,
        "nvidia-smi",
        fixture_bytes("nvidia-smi/driver-590.48.01-cuda13.1-H100-80GB-HBM3-MIG-4-instances.txt"),
        by_args={"--query-gpu": H100_QUERY},
    )
    out = nvidia.probe(env)
    assert out.problems == []
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.cuda_driver_version, drv.source) == (
        "590.48.01",
        "13.1",
        "nvidia-smi-query",
    )
    assert drv.cuda_driver_version_source == "reported"
    assert out.gpus == [
        GPU(
            vendor="nvidia",
            index=0,
            name="NVIDIA H100 80GB HBM3",
            memory_total_mib=81559,
            compute_capability="9.0",
            compute_capability_source="reported",
            uuid="GPU-00000000",
            bus_id="00000000:00:09.0",
            mig_mode="Enabled",
        )
    ]


def test_probe_old_driver_without_compute_cap(tmp_path: Path) -> None:
    # R418: neither compute_cap nor mig.mode.current exist; "CUDA Version: N/A" in a container
    env, bindir = _env(tmp_path)
    make_tool(
        bindir,
        "nvidia-smi",
        fixture_bytes("nvidia-smi/driver-418.116.00-cuda-NA-RTX2080Ti-in-container.txt"),
        by_args={
            "compute_cap": 'Field "compute_cap" is not a valid field to query.\n\n',
            "mig.mode.current": 'Field "mig.mode.current" is not a valid field to query.\n\n',
            "--query-gpu": "0, GeForce RTX 2080 Ti, GPU-1, 00000000:01:00.0, 10989, 418.116.00\n",
        },
    )
    out = nvidia.probe(env)
    assert out.problems == []
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.source) == ("418.116.00", "nvidia-smi-query")
    assert (drv.cuda_driver_version, drv.cuda_driver_version_source) == ("10.1", "table")
    (gpu,) = out.gpus
    assert (gpu.name, gpu.compute_capability, gpu.compute_capability_source) == (
        "GeForce RTX 2080 Ti",
        "7.5",
        "table",
    )
    assert gpu.memory_total_mib == 10989 and gpu.mig_mode is None


def test_probe_table_only(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path)
    make_tool(
        bindir,
        "nvidia-smi",
        fixture_bytes("nvidia-smi/driver-515.65.01-cuda11.7-TITAN-V.txt"),
        by_args={"--query-gpu": "Invalid combination of input arguments.\n"},
    )
    out = nvidia.probe(env)
    assert _codes(out) == [problems.UNPARSEABLE]
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.cuda_driver_version, drv.source) == (
        "515.65.01",
        "11.7",
        "nvidia-smi",
    )
    (gpu,) = out.gpus
    assert (gpu.name, gpu.memory_total_mib) == ("NVIDIA TITAN V", 12288)
    assert (gpu.compute_capability, gpu.compute_capability_source) == ("7.0", "table")


def test_probe_hang_falls_back_to_procfs(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path, proc=_text("procfs/open-565.57.01-ubuntu24.04.txt"), timeout=0.5)
    make_tool(bindir, "nvidia-smi", "never printed", sleep=5)
    started = time.monotonic()
    out = nvidia.probe(env)
    assert time.monotonic() - started < 3.0  # one timed-out call, no second hang
    assert _codes(out) == ["tool-timeout"]
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.source) == ("565.57.01", "procfs")
    assert (drv.cuda_driver_version, drv.cuda_driver_version_source) == ("12.6", "table")
    assert out.gpus == []


@pytest.mark.parametrize(
    "fixture",
    [
        "nvidia-smi-failed-couldnt-communicate-wsl1.txt",
        "nvidia-smi-failed-couldnt-communicate-wsl2-indented.txt",
    ],
)
def test_probe_driver_unreachable(tmp_path: Path, fixture: str) -> None:
    env, bindir = _env(tmp_path)
    make_tool(bindir, "nvidia-smi", fixture_bytes(f"errors/{fixture}"), rc=9)
    out = nvidia.probe(env)
    assert _codes(out) == [problems.DRIVER_UNREACHABLE]
    assert out.fields["nvidia"] is None and out.gpus == []


def test_probe_library_mismatch_with_procfs(tmp_path: Path) -> None:
    # The TrueNAS report: user space 580.178, loaded module 580.173.02
    recorded = _text("errors/nvml-mismatch-with-proc-version-580.173.02-vs-580.178.txt")
    smi_output = "\n".join(ln for ln in recorded.splitlines()[1:3]) + "\n"
    assert smi_output.startswith("Failed to initialize NVML")
    env, bindir = _env(tmp_path, proc=_text("procfs/proprietary-580.173.02-truenas.txt"))
    make_tool(bindir, "nvidia-smi", smi_output, rc=18)
    out = nvidia.probe(env)
    (problem,) = out.problems
    assert problem.code == problems.DRIVER_LIBRARY_MISMATCH and problem.source == "nvidia"
    assert "580.178" in problem.message and "580.173.02" in problem.message
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.source) == ("580.173.02", "procfs")
    assert (drv.cuda_driver_version, drv.cuda_driver_version_source) == ("13.0", "table")


def test_probe_library_mismatch_without_version_line(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path)
    make_tool(
        bindir,
        "nvidia-smi",
        fixture_bytes("errors/nvml-driver-library-version-mismatch-no-version-line.txt"),
        rc=18,
    )
    out = nvidia.probe(env)
    assert _codes(out) == [problems.DRIVER_LIBRARY_MISMATCH]
    assert out.fields["nvidia"] is None


def test_probe_no_devices(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path, proc=_text("procfs/open-565.57.01-ubuntu24.04.txt"))
    make_tool(
        bindir,
        "nvidia-smi",
        fixture_bytes("errors/nvidia-smi-no-devices-were-found-rtx5090.txt"),
        rc=6,
    )
    out = nvidia.probe(env)
    assert _codes(out) == [problems.NO_DEVICES]
    assert out.fields["nvidia"].source == "procfs" and out.gpus == []


def test_probe_garbage_output(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path)
    make_tool(bindir, "nvidia-smi", b"\x00\x01 something, else\nentirely\n")
    out = nvidia.probe(env)
    assert _codes(out) == [problems.UNPARSEABLE, problems.UNPARSEABLE]
    assert out.fields["nvidia"] is None and out.gpus == []


def test_probe_garbage_output_with_procfs(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path, proc=_text("procfs/proprietary-384.98-ubuntu17.10.txt"))
    make_tool(bindir, "nvidia-smi", "???\n")
    out = nvidia.probe(env)
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.source, drv.cuda_driver_version) == ("384.98", "procfs", "9.0")


def test_probe_non_utf8_bytes(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path)
    name = b"NVIDIA GeForce RTX 4090 \xff\xfe"
    make_tool(
        bindir,
        "nvidia-smi",
        b"\xff\xfe\xfa not a table \x80\n",
        by_args={"--query-gpu": b"0, " + name + b", GPU-1, 00000000:01:00.0, 24564, 8.9, 580.65.06, [N/A]\n"},
    )
    out = nvidia.probe(env)
    assert _codes(out) == [problems.UNPARSEABLE]  # the table, not the query
    (gpu,) = out.gpus
    assert gpu.name is not None and "\ufffd" in gpu.name
    drv = out.fields["nvidia"]
    assert drv.source == "nvidia-smi-query"
    assert (drv.cuda_driver_version, drv.cuda_driver_version_source) == ("13.0", "table")


def test_probe_tool_failure_uses_run_problem(tmp_path: Path) -> None:
    env, bindir = _env(tmp_path, sysfs="550.144.03\n")
    make_tool(bindir, "nvidia-smi", "", stderr="Unable to determine the device handle\n", rc=15)
    out = nvidia.probe(env)
    assert _codes(out) == ["tool-failed", "tool-failed"]
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.source) == ("550.144.03", "sysfs")


def test_probe_missing_binary_with_procfs(tmp_path: Path) -> None:
    env, _ = _env(tmp_path, proc=_text("procfs/open-525.60.11-archlinux-dkms.txt"))
    out = nvidia.probe(env)
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.source) == ("525.60.11", "procfs")
    # 525.60.11 is below 12.0 GA's 525.60.13: the table says 11.8, conservatively
    assert (drv.cuda_driver_version, drv.cuda_driver_version_source) == ("11.8", "table")
    assert _codes(out) == ["tool-missing"] and out.gpus == []


def test_probe_jetson_procfs_has_no_desktop_cuda(tmp_path: Path) -> None:
    env, _ = _env(tmp_path, proc=_text("procfs/jetson-orin-l4t-35.3.1-aarch64.txt"))
    drv = nvidia.probe(env).fields["nvidia"]
    assert (drv.driver_version, drv.source, drv.cuda_driver_version) == ("35.3.1", "procfs", None)
    assert drv.cuda_driver_version_source is None


def test_probe_nothing_at_all(tmp_path: Path) -> None:
    env, _ = _env(tmp_path)
    started = time.monotonic()
    out = nvidia.probe(env)
    assert time.monotonic() - started < 0.5
    assert out.fields == {"nvidia": None} and out.gpus == [] and out.problems == []


def test_probe_wsl_nvidia_smi_off_path(tmp_path: Path) -> None:
    env, _ = _env(tmp_path)
    make_tool(
        Path(env.path(WSL_NVIDIA_SMI)).parent,
        "nvidia-smi",
        fixture_bytes("nvidia-smi/wsl2-smi-530.47-driver-531.68-cuda12.1-RTX3070.txt"),
        by_args={
            "--query-gpu": "0, NVIDIA GeForce RTX 3070, GPU-1, 00000000:2B:00.0, 8192, 8.6, 531.68, [N/A]\n"
        },
    )
    out = nvidia.probe(env)
    assert out.problems == []
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.cuda_driver_version, drv.source) == (
        "531.68",
        "12.1",
        "nvidia-smi-query",
    )
    assert out.gpus[0].compute_capability == "8.6"


def test_probe_never_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env, bindir = _env(tmp_path)
    make_tool(bindir, "nvidia-smi", "x")

    def boom(_: str) -> Any:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(smi, "parse_smi_table", boom)
    out = nvidia.probe(env)
    assert out.fields["nvidia"] is None
    assert _codes(out)[-1] == "probe-crashed"


# ---------------------------------------------------------------------------------------------
# NVML (ctypes) with a stand-in library: the real one is absent without a GPU


class FakeNvml:
    """Answers like libnvidia-ml.so.1 for one RTX 5090 (writes through the pointers it gets)."""

    def __init__(self, init_rc: int = 0) -> None:
        self.init_rc = init_rc
        self.shut_down = False

    def nvmlInit_v2(self) -> int:
        return self.init_rc

    def nvmlShutdown(self) -> int:
        self.shut_down = True
        return 0

    def nvmlSystemGetDriverVersion(self, buf: Any, size: Any) -> int:
        buf.value = b"570.124.06"
        return 0

    def nvmlSystemGetCudaDriverVersion_v2(self, p: Any) -> int:
        p.contents.value = 12080
        return 0

    def nvmlDeviceGetCount_v2(self, p: Any) -> int:
        p.contents.value = 1
        return 0

    def nvmlDeviceGetHandleByIndex_v2(self, index: Any, p: Any) -> int:
        p.contents.value = 4242
        return 0

    def nvmlDeviceGetName(self, handle: Any, buf: Any, size: Any) -> int:
        buf.value = b"NVIDIA GeForce RTX 5090"
        return 0

    def nvmlDeviceGetUUID(self, handle: Any, buf: Any, size: Any) -> int:
        buf.value = b"GPU-5090"
        return 0

    def nvmlDeviceGetMemoryInfo(self, handle: Any, p: Any) -> int:
        p.contents.total = 32607 * 1024 * 1024
        return 0

    def nvmlDeviceGetPciInfo_v3(self, handle: Any, p: Any) -> int:
        p.contents.busId = b"00000000:01:00.0"
        return 0

    def nvmlDeviceGetCudaComputeCapability(self, handle: Any, major: Any, minor: Any) -> int:
        major.contents.value, minor.contents.value = 12, 0
        return 0

    def nvmlDeviceGetMigMode(self, handle: Any, current: Any, pending: Any) -> int:
        return 3  # NVML_ERROR_NOT_SUPPORTED on a GeForce


def test_read_nvml() -> None:
    lib = FakeNvml()
    report = nvml.read(lib)
    assert isinstance(report, nvml.NvmlReport) and lib.shut_down
    assert (report.driver_version, report.cuda_version) == ("570.124.06", "12.8")
    assert report.gpus == [
        GPU(
            vendor="nvidia",
            index=0,
            name="NVIDIA GeForce RTX 5090",
            memory_total_mib=32607,
            compute_capability="12.0",
            compute_capability_source="reported",
            uuid="GPU-5090",
            bus_id="00000000:01:00.0",
            mig_mode=None,
        )
    ]


def test_read_nvml_every_handle_refused() -> None:
    class Lost(FakeNvml):
        def nvmlDeviceGetHandleByIndex_v2(self, index: Any, p: Any) -> int:
            return 15  # NVML_ERROR_GPU_IS_LOST

    lib = Lost()
    assert nvml.read(lib) is None  # not "no GPU": nvidia-smi is asked, and says why
    assert lib.shut_down


def test_read_nvml_init_failure_and_missing_functions() -> None:
    lib = FakeNvml(init_rc=18)  # NVML_ERROR_LIB_RM_VERSION_MISMATCH
    assert nvml.read(lib, "580.178") == nvml.InitFailed(18, "580.178")
    assert not lib.shut_down  # nvmlShutdown only after a successful init
    assert nvml.read(object()) is None  # no nvmlInit at all


@pytest.mark.parametrize(
    ("rc", "code", "words"),
    [
        (9, problems.DRIVER_UNREACHABLE, "NVML could not talk to the NVIDIA driver"),
        (4, problems.NO_PERMISSION, "NVML has no permission"),
        (
            18,
            problems.DRIVER_LIBRARY_MISMATCH,
            "NVML library is 580.178 but the loaded kernel module is 580.173.02",
        ),
        (999, problems.NVML_FAILED, "nvmlInit returned NVML_ERROR_UNKNOWN (999)"),
        (17, problems.NVML_FAILED, "NVML_ERROR_OPERATING_SYSTEM (17)"),
        (4242, problems.NVML_FAILED, "NVML error 4242 (4242)"),
    ],
)
def test_init_problem_from_the_return_code(rc: int, code: str, words: str) -> None:
    problem = nvml.init_problem(nvml.InitFailed(rc, "580.178"), "580.173.02")
    assert (problem.code, problem.source) == (code, "nvidia")
    assert words in problem.message


def _refusing_nvml(monkeypatch: pytest.MonkeyPatch, rc: int, library_version: Optional[str]) -> None:
    """This machine's NVML, as the probe sees it, answers nvmlInit with rc."""
    monkeypatch.setattr(nvidia, "_nvml", lambda env: nvml.read(FakeNvml(init_rc=rc), library_version))


def test_probe_nvml_mismatch_code_with_procfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The TrueNAS machine again, but told by nvmlInit's code: no nvidia-smi text is read
    env, bindir = _env(tmp_path, proc=_text("procfs/proprietary-580.173.02-truenas.txt"))
    make_tool(bindir, "nvidia-smi", "must not be run", rc=1)
    _refusing_nvml(monkeypatch, 18, "580.178")
    out = nvidia.probe(env)
    (problem,) = out.problems
    assert problem.code == problems.DRIVER_LIBRARY_MISMATCH
    assert "580.178" in problem.message and "580.173.02" in problem.message
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.source) == ("580.173.02", "procfs")
    assert (drv.cuda_driver_version, drv.cuda_driver_version_source) == ("13.0", "table")


@pytest.mark.parametrize(
    ("rc", "code"),
    [(9, problems.DRIVER_UNREACHABLE), (4, problems.NO_PERMISSION), (999, problems.NVML_FAILED)],
)
def test_probe_nvml_refusal_is_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rc: int, code: str
) -> None:
    env, bindir = _env(tmp_path)
    make_tool(bindir, "nvidia-smi", "must not be run", rc=1)
    _refusing_nvml(monkeypatch, rc, None)
    out = nvidia.probe(env)
    assert _codes(out) == [code]
    assert out.fields["nvidia"] is None and out.gpus == []


def test_probe_nvml_without_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class NoGpu(FakeNvml):
        def nvmlDeviceGetCount_v2(self, p: Any) -> int:
            p.contents.value = 0
            return 0

    env, bindir = _env(tmp_path)
    make_tool(bindir, "nvidia-smi", "must not be run", rc=1)
    monkeypatch.setattr(nvidia, "_nvml", lambda env: nvml.read(NoGpu()))
    out = nvidia.probe(env)
    assert _codes(out) == [problems.NO_DEVICES]
    assert out.fields["nvidia"].source == "nvml" and out.gpus == []


def test_probe_prefers_nvml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    make_tool(bindir, "nvidia-smi", "must not be needed", rc=1)
    env = ProbeEnv(root=Path("/"), environ=path_env(bindir))
    monkeypatch.setattr(nvml, "library_candidates", lambda: ["libnvidia-ml.so.1"])
    monkeypatch.setattr(nvml, "load", lambda path: FakeNvml())
    out = nvidia.probe(env)
    assert out.problems == []
    drv = out.fields["nvidia"]
    assert (drv.driver_version, drv.cuda_driver_version, drv.source) == (
        "570.124.06",
        "12.8",
        "nvml",
    )
    assert out.gpus[0].compute_capability == "12.0"


def test_probe_nvml_init_code_through_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The whole path on this machine: a library that loads, an nvmlInit that refuses
    bindir = tmp_path / "bin"
    make_tool(bindir, "nvidia-smi", "must not be run", rc=1)
    env = ProbeEnv(root=Path("/"), environ=path_env(bindir))
    monkeypatch.setattr(nvml, "library_candidates", lambda: ["libnvidia-ml.so.1"])
    monkeypatch.setattr(nvml, "load", lambda path: FakeNvml(init_rc=9))
    out = nvidia.probe(env)
    assert _codes(out) == [problems.DRIVER_UNREACHABLE]


def test_probe_library_tries_the_next_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "libnvidia-ml.so.580.178"
    real.write_bytes(b"")
    link = tmp_path / "libnvidia-ml.so.1"
    link.symlink_to(real.name)
    tried: list[str] = []

    def load(path: str) -> Any:
        tried.append(path)
        if path == "/broken/libnvidia-ml.so.1":
            raise OSError("wrong ELF class")
        return FakeNvml(init_rc=18)

    monkeypatch.setattr(nvml, "library_candidates", lambda: ["/broken/libnvidia-ml.so.1", str(link)])
    monkeypatch.setattr(nvml, "load", load)
    assert nvml.probe_library() == nvml.InitFailed(18, "580.178")
    assert tried == ["/broken/libnvidia-ml.so.1", str(link)]
    monkeypatch.setattr(nvml, "library_candidates", lambda: ["/broken/libnvidia-ml.so.1"])
    assert nvml.probe_library() is None


def test_library_version_from_the_soname_link(tmp_path: Path) -> None:
    real = tmp_path / "libnvidia-ml.so.570.124.06"
    real.write_bytes(b"")
    link = tmp_path / "libnvidia-ml.so.1"
    link.symlink_to(real.name)
    assert nvml.library_version(str(link)) == "570.124.06"
    assert nvml.library_version("libnvidia-ml.so.1") is None
    assert nvml.library_version(str(tmp_path / "nvml.dll")) is None


def test_library_candidates_only_look() -> None:
    found = nvml.library_candidates()
    if sys.platform.startswith("linux"):
        assert found  # a path that exists, else the soname for the loader
        assert all(os.path.isfile(p) for p in found) or found == ["libnvidia-ml.so.1"]


def test_nvml_switched_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def never() -> list[str]:
        raise AssertionError("NVML must not be looked for")

    monkeypatch.setattr(nvml, "library_candidates", never)
    off = ProbeEnv(root=Path("/"), environ={nvidia.NO_NVML_ENV: "1"})
    assert nvidia._nvml(off) is None
    recorded = ProbeEnv(root=tmp_path, environ={})
    assert nvidia._nvml(recorded) is None


def test_nvml_hang_is_bounded() -> None:
    started = time.monotonic()
    assert nvml.bounded(lambda: time.sleep(5), 0.2) is None
    assert time.monotonic() - started < 1.0
    assert nvml.bounded(lambda: 1 // 0, 1.0) is None
    assert nvml.bounded(lambda: 7, 1.0) == 7


def test_ctypes_structures_match_nvml_layout() -> None:
    assert ctypes.sizeof(nvml.Memory) == 24
    assert ctypes.sizeof(nvml.PciInfo) == 16 + 5 * 4 + 32


# ---------------------------------------------------------------------------------------------
# Recorded tables finished as the probe finishes them (what tests/machines.py builds on)


def test_describe_fills_from_the_tables() -> None:
    table = smi.parse_smi_table(_text("nvidia-smi/driver-418.116.00-cuda-NA-RTX2080Ti-in-container.txt"))
    driver, gpus = nvidia.describe(table.gpus, table.driver_version, table.cuda_version, "nvidia-smi", False)
    assert (driver.driver_version, driver.cuda_driver_version, driver.cuda_driver_version_source) == (
        "418.116.00",
        "10.1",
        "table",
    )
    assert [(g.compute_capability, g.compute_capability_source) for g in gpus] == [("7.5", "table")]
    wsl = smi.parse_smi_table(_text("nvidia-smi/wsl2-smi-530.47-driver-531.68-cuda12.1-RTX3070.txt"))
    driver, _ = nvidia.describe(wsl.gpus, wsl.driver_version, None, "nvidia-smi", True)
    assert driver.cuda_driver_version_source == "table"  # the Windows column for WSL2's driver


def test_driver_problem_words_each_code_once() -> None:
    for code in (
        problems.DRIVER_UNREACHABLE,
        problems.NO_PERMISSION,
        problems.NO_DEVICES,
        problems.DRIVER_LIBRARY_MISMATCH,
    ):
        problem = problems.driver_problem(code, "NVML", "580.178", "580.173.02")
        assert (problem.code, problem.source) == (code, "nvidia") and problem.message
    assert (
        "nvidia-smi could not talk"
        in problems.driver_problem(problems.DRIVER_UNREACHABLE, "nvidia-smi").message
    )
    with pytest.raises(ValueError, match="not a driver-level"):
        problems.driver_problem(problems.UNPARSEABLE, "NVML")


def test_probe_imports_only_the_sources_it_uses(tmp_path: Path) -> None:
    """doctor pays for a source's module only when that source is used."""
    import subprocess

    (tmp_path / "proc/driver/nvidia").mkdir(parents=True)
    (tmp_path / "proc/driver/nvidia/version").write_text(_text("procfs/open-565.57.01-ubuntu24.04.txt"))
    code = f"""
import sys
from pathlib import Path
from fwsetup.probe import nvidia
from fwsetup.probe.base import ProbeEnv
loaded = lambda: sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("fwsetup.probe.nvidia."))
nvidia.probe(ProbeEnv(root=Path({str(tmp_path / "empty")!r}), environ={{"PATH": ""}}))
print(loaded())
out = nvidia.probe(ProbeEnv(root=Path({str(tmp_path)!r}), environ={{"PATH": ""}}))
print(loaded(), out.fields["nvidia"].driver_version)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == ["['problems']", "['problems', 'tables'] 565.57.01"]
