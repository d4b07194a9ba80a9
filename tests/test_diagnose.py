from __future__ import annotations

from fwsetup import records
from fwsetup.probe.diagnose import diagnose
from fwsetup.report import (
    GPU,
    CudaToolkit,
    Framework,
    NvidiaDriver,
    OSInfo,
    PciDevice,
    Problem,
    PythonInfo,
    Resources,
    SystemReport,
)


def base(**kw: object) -> SystemReport:
    rep = SystemReport(
        os=OSInfo(system="Linux", arch="x86_64"),
        python=PythonInfo("3.11.7", "CPython", "/usr/bin/python3"),
        resources=Resources(cpu_flags=["avx", "avx2"], disk_free_mib=100_000),
    )
    return records.replace(rep, **kw)


def codes(rep: SystemReport) -> set[str]:
    return {f.code for f in diagnose(rep)}


def gtx1080ti() -> GPU:
    return GPU("nvidia", 0, "NVIDIA GeForce GTX 1080 Ti", 11264, "6.1", "reported")


def test_clean_machine_has_no_findings() -> None:
    assert diagnose(base()) == []


def test_gpu_without_driver() -> None:
    rep = base(pci_display_devices=[PciDevice("nvidia", "0x10de", "0x1b06", "0000:01:00.0")])
    assert "gpu-without-driver" in codes(rep)


def test_driver_library_mismatch_says_reboot() -> None:
    rep = base(
        problems=[Problem("nvidia-driver-library-mismatch", "NVML 550.144 vs module 550.127", "nvidia")]
    )
    (f,) = [f for f in diagnose(rep) if f.code == "driver-library-mismatch"]
    assert f.level == "error" and "reboot" in (f.fix or "")


def test_wsl1_unreachable_driver() -> None:
    rep = base(
        os=OSInfo(system="Linux", wsl=1),
        problems=[Problem("nvidia-driver-unreachable", "x", "nvidia")],
    )
    assert codes(rep) >= {"wsl1-no-gpu"}


def test_cpu_torch_with_gpu() -> None:
    rep = base(
        nvidia=NvidiaDriver("580.65.06", "13.0", "nvidia-smi"),
        gpus=[gtx1080ti()],
        frameworks=[Framework("torch", "2.9.1+cpu", None, "cpu")],
    )
    assert "torch-cpu-build-with-gpu" in codes(rep)


def test_cu128_torch_on_pascal_is_not_covered() -> None:
    rep = base(
        nvidia=NvidiaDriver("580.65.06", "13.0", "nvidia-smi"),
        gpus=[gtx1080ti()],
        frameworks=[Framework("torch", "2.9.1+cu128", "12.8", "cu128")],
    )
    found = {f.code: f for f in diagnose(rep)}
    assert "torch-arch-not-covered" in found
    assert "sm_61" in found["torch-arch-not-covered"].message


def test_cu126_torch_on_pascal_is_fine() -> None:
    rep = base(
        nvidia=NvidiaDriver("580.65.06", "13.0", "nvidia-smi"),
        gpus=[gtx1080ti()],
        frameworks=[Framework("torch", "2.9.1+cu126", "12.6", "cu126")],
    )
    assert codes(rep) == set()


def test_ada_runs_ampere_cubins() -> None:
    rep = base(
        nvidia=NvidiaDriver("580.65.06", "13.0", "nvidia-smi"),
        gpus=[GPU("nvidia", 0, "NVIDIA GeForce RTX 4090", 24564, "8.9", "reported")],
        frameworks=[Framework("torch", "2.9.1+cu126", "12.6", "cu126")],
    )
    assert "torch-arch-not-covered" not in codes(rep)


def test_cuda12_torch_on_r470_needs_newer_driver() -> None:
    rep = base(
        nvidia=NvidiaDriver("470.63.01", "11.4", "nvidia-smi"),
        gpus=[GPU("nvidia", 0, "NVIDIA GeForce RTX 3080 Laptop GPU", 16116, "8.6", "table")],
        frameworks=[Framework("torch", "2.6.0+cu124", "12.4", "cu124")],
    )
    assert "torch-needs-newer-driver" in codes(rep)


def test_minor_version_compat_is_not_flagged() -> None:
    rep = base(
        nvidia=NvidiaDriver("535.104.05", "12.2", "nvidia-smi"),
        gpus=[GPU("nvidia", 0, "NVIDIA A100-SXM4-80GB", 81920, "8.0", "reported")],
        frameworks=[Framework("torch", "2.9.1+cu128", "12.8", "cu128")],
    )
    assert "torch-needs-newer-driver" not in codes(rep)


def test_toolkit_without_driver() -> None:
    rep = base(cuda_toolkits=[CudaToolkit("13.0.88", "/usr/local/cuda-13.0")])
    assert codes(rep) == {"toolkit-without-driver"}


def test_toolkit_newer_than_driver() -> None:
    rep = base(
        nvidia=NvidiaDriver("470.63.01", "11.4", "nvidia-smi"),
        gpus=[GPU("nvidia", 0, "x", None, "8.6")],
        cuda_toolkits=[CudaToolkit("12.5.82", "/usr/local/cuda-12.5")],
    )
    assert "toolkit-newer-than-driver" in codes(rep)


def test_externally_managed_and_low_disk_and_no_avx() -> None:
    rep = base(
        python=PythonInfo("3.11.2", "CPython", "/usr/bin/python3", externally_managed=True),
        resources=Resources(cpu_flags=["sse4_2"], disk_free_mib=2048, disk_path="/home"),
    )
    found = {f.code: f for f in diagnose(rep)}
    assert found["externally-managed-python"].level == "info"
    assert found["low-disk"].level == "error"
    assert "cpu-without-avx" in found


def test_unknown_capability_is_a_warning() -> None:
    rep = base(
        nvidia=NvidiaDriver("418.116.00", "10.1", "nvidia-smi"),
        gpus=[GPU("nvidia", 0, "GeForce RTX 208...", 11019, None)],
    )
    assert "gpu-capability-unknown" in codes(rep)


def test_nvml_refusals_become_findings_with_fixes() -> None:
    from fwsetup.probe.nvidia import nvml

    for rc, finding in ((4, "driver-no-permission"), (999, "driver-nvml-failed"), (9, "driver-unreachable")):
        problem = nvml.init_problem(nvml.InitFailed(rc), None)
        rep = base(
            problems=[problem],
            pci_display_devices=[PciDevice("nvidia", "0x10de", "0x2684", "0000:01:00.0")],
        )
        found = [f for f in diagnose(rep) if f.code == finding]
        assert len(found) == 1 and found[0].level == "error" and found[0].fix, (rc, diagnose(rep))
        assert "gpu-without-driver" not in codes(rep)  # the driver is there; it refused
