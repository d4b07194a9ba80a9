"""What selection needs to know about the machine, read from its SystemReport: its OS and
arch names, which GPUs can be served (or why none can), and whether it is a Jetson."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from fwsetup import records, versions
from fwsetup.errors import Refusal
from fwsetup.facts import jetson as jetson_facts
from fwsetup.facts.cuda_drivers import max_cuda_for_driver
from fwsetup.plan.model import Request
from fwsetup.probe import intel_gpus
from fwsetup.records import dataclass
from fwsetup.report import GPU, SystemReport

# AMD's own routes where no ROCm wheel from the PyTorch index runs (select/rocm.py names them too)
WSL_GUIDE = "https://rocm.docs.amd.com/projects/radeon/en/latest/docs/install/wsl/install-pytorch.html"
WINDOWS_GUIDE = "https://rocm.docs.amd.com/projects/radeon-ryzen/en/latest/docs/install/installrad/windows/install-pytorch.html"
WINDOWS_FIX = (
    f"AMD publishes its own Windows PyTorch wheels for Radeon GPUs ({WINDOWS_GUIDE}); or use WSL 2 with "
    f"AMD's WSL route ({WSL_GUIDE}); or use --cpu"
)

GPU_ACCELERATORS = ("cuda", "rocm", "mps", "xpu")
ARM64_PYTHON = (
    "use an arm64 Python: python.org's universal2 installer, Homebrew's /opt/homebrew/bin/python3, "
    "or `uv python install 3.12` from an arm64 shell (`arch -arm64 zsh`); then run fwsetup with it"
)


def with_driver_cuda(report: SystemReport) -> SystemReport:
    """A saved report whose driver did not say its CUDA version (older fwsetup, NVML without one)
    gets it from the driver table doctor uses, marked as such: a plan never says "CUDA ?"."""
    nv = report.nvidia
    if nv is None or nv.cuda_driver_version or not nv.driver_version:
        return report

    system = "windows" if report.os.wsl or report.os.system.lower() == "windows" else "linux"
    cuda = max_cuda_for_driver(nv.driver_version, system)
    if cuda is None:
        return report
    return records.replace(
        report, nvidia=records.replace(nv, cuda_driver_version=cuda, cuda_driver_version_source="table")
    )


def os_name(report: SystemReport) -> str:
    return {"darwin": "macos", "windows": "windows"}.get(report.os.system.lower(), report.os.system.lower())


def arch_name(report: SystemReport) -> str:
    return report.platform_key().split("-", 1)[1]


def package_manager(report: SystemReport) -> Optional[str]:
    family = {report.os.distro_id or "", *report.os.distro_like}
    if family & {"debian", "ubuntu"}:
        return "apt"
    if family & {"fedora", "rhel", "centos", "rocky", "almalinux", "amzn"}:
        return "dnf"
    return None


@dataclass(frozen=True)
class GpuSituation:
    accelerator: Optional[str]  # cuda, rocm, mps, xpu, or None when no usable GPU
    gpus: tuple[GPU, ...] = ()
    why_none: str = ""
    fix: str = ""


def gpu_situation(report: SystemReport, gpu_indices: Optional[Sequence[int]] = None) -> GpuSituation:
    nvidia = [g for g in report.nvidia_gpus() if gpu_indices is None or g.index in gpu_indices]
    if nvidia and (report.nvidia is not None or report.jetson is not None):
        return GpuSituation("cuda", tuple(nvidia))
    amd = [g for g in report.gpus if g.vendor == "amd" and (gpu_indices is None or g.index in gpu_indices)]
    if amd and report.rocm is not None and os_name(report) == "linux":
        return GpuSituation("rocm", tuple(amd))
    apple = [g for g in report.gpus if g.vendor == "apple"]
    if apple:
        return GpuSituation("mps", tuple(apple))
    intel = intel_situation(report, gpu_indices)
    if intel is not None and intel.accelerator:
        return intel
    codes = {p.code: p.message for p in report.problems}
    if "nvidia-driver-library-mismatch" in codes:
        return GpuSituation(
            None,
            why_none="the NVIDIA driver libraries do not match the loaded kernel module "
            f"({codes['nvidia-driver-library-mismatch']})",
            fix="reboot so the kernel module matches the driver libraries, or use --cpu",
        )
    if "rosetta-python" in codes:
        return GpuSituation(
            None,
            why_none="this Python is x86_64, running under Rosetta 2 on Apple Silicon: it cannot use the GPU (MPS)",
            fix=ARM64_PYTHON,
        )
    if "nvidia-driver-unreachable" in codes:
        return GpuSituation(
            None,
            why_none="nvidia-smi cannot communicate with the NVIDIA driver",
            fix="install the NVIDIA driver for this kernel and reboot, or use --cpu",
        )
    if any(d.vendor == "nvidia" for d in report.pci_display_devices):
        return GpuSituation(
            None,
            why_none="an NVIDIA GPU is on the PCI bus but no NVIDIA driver is loaded",
            fix="install the NVIDIA driver (e.g. `ubuntu-drivers install`) and reboot, or use --cpu",
        )
    if amd or any(d.vendor == "amd" for d in report.pci_display_devices):
        return no_rocm_situation(report)
    if intel is not None:
        return intel
    if os_name(report) == "macos" and arch_name(report) == "x86_64":
        return GpuSituation(
            None,
            why_none="this is an Intel Mac: fwsetup plans GPU (MPS) builds for Apple Silicon only, and "
            "PyTorch's last x86_64 macOS release is 2.2.2",
            fix="use --cpu",
        )
    return GpuSituation(
        None,
        why_none="no GPU with a working driver was found on this machine",
        fix="install a GPU driver (NVIDIA: your distribution's nvidia-driver package), or use --cpu",
    )


def intel_situation(report: SystemReport, gpu_indices: Optional[Sequence[int]] = None) -> Optional[GpuSituation]:
    """Intel GPUs on Linux (probe/intel_gpus.py): "xpu" with the ones PyTorch's XPU builds serve, or why
    none can be used; None when there is no Intel display device."""
    if os_name(report) != "linux" or not any(
        d.vendor == "intel" or d.vendor_id.lower() == "0x8086" for d in report.pci_display_devices
    ):
        return None
    found = [g for g in intel_gpus.intel_gpus(report) if gpu_indices is None or g.gpu.index in gpu_indices]
    usable = [g for g in found if g.runs_xpu]
    if not usable:
        why, fix = intel_gpus.unsupported_why(found)
        return GpuSituation(None, why_none=why, fix=fix) if found else None
    gap = intel_gpus.stack_gaps(report, usable)
    if gap is not None:
        return GpuSituation(None, why_none=gap[0], fix=gap[1])
    return GpuSituation("xpu", tuple(g.gpu for g in usable))


def resolve_accelerator(request: Request, report: SystemReport) -> tuple[str, GpuSituation, list[str]]:
    """cpu / cuda / rocm / mps / xpu for this request on this machine, or a Refusal raised."""
    situation = gpu_situation(report, request.gpu_indices)
    if request.accelerator == "cpu":
        return "cpu", situation, ["--cpu asked: CPU-only build, no CUDA packages"]
    if situation.accelerator is None:
        if request.accelerator == "gpu":
            raise Refusal(f"--gpu asked but {situation.why_none}", situation.fix, code="no-usable-gpu")
        return "cpu", situation, [f"no GPU build: {situation.why_none}; using the CPU build"]
    names = ", ".join(f"#{g.index} {g.name}" for g in situation.gpus)
    label = "ROCm" if situation.accelerator == "rocm" else situation.accelerator.upper()
    return situation.accelerator, situation, [f"{label} GPU(s): {names}"]


def describe_gpu(gpu: GPU) -> str:
    cc = gpu.compute_capability or ""
    cc = (cc if cc.startswith("gfx") else f"sm_{cc.replace('.', '')}") if cc else "unknown arch"
    return f"GPU {gpu.index} {gpu.name or '?'} ({cc})"


# ---------------------------------------------------------------- Jetson

_JETSON_NAMES = ("jetson", "orin", "xavier", "tegra", "nvgpu", "thor")


@dataclass(frozen=True)
class Jetson:
    """A Jetson as selection sees it: the L4T release (which fixes its CUDA; there is no driver
    to upgrade), the JetPack row for it and the SoC, from the report's jetson section or, for a
    report saved without one, from an L4T "driver version" or a Jetson GPU."""

    l4t: Optional[str]
    release: Optional[jetson_facts.L4tRelease]
    soc: Optional[jetson_facts.Soc]
    name: str
    how: str  # where the L4T release came from, for the plan's reasons

    @property
    def jetpack(self) -> str:
        return self.release.jetpack if self.release else "?"

    def describe(self) -> str:
        return f"{self.name}, L4T {self.l4t or '?'} (JetPack {self.jetpack})"


def _is_jetson_gpu(gpu: GPU) -> bool:
    name = (gpu.name or "").lower()
    # 5.3, 6.2, 7.2, 8.7 and 11.0 are Jetson-only capabilities (facts/jetson.toml [[soc]])
    return (
        any(w in name for w in _JETSON_NAMES)
        or jetson_facts.soc_by_capability(gpu.compute_capability) is not None
    )


def jetson(report: SystemReport) -> Optional[Jetson]:
    """This machine as a Jetson, or None when it is not one."""
    gpus = report.nvidia_gpus()
    cc = next((g.compute_capability for g in gpus if g.compute_capability), None)
    info = report.jetson
    driver = report.nvidia.driver_version if report.nvidia else None
    if info is None and arch_name(report) != "aarch64":
        return None  # every Jetson is aarch64: an x86_64 GPU of capability 8.7 is not one
    if info is not None:
        l4t, how = info.l4t, f"L4T {info.l4t} from the board's {info.source}"
        soc = jetson_facts.soc_by_capability(info.compute_capability or cc)
        name = info.model or (f"Jetson {info.soc}" if info.soc else "Jetson")
    elif jetson_facts.is_l4t_version(driver):
        l4t, how = driver, f"the driver version {driver} is an L4T release"
        soc = jetson_facts.soc_by_capability(cc)
        name = next((g.name for g in gpus if g.name), None) or "Jetson"
    elif any(_is_jetson_gpu(g) for g in gpus):
        soc = jetson_facts.soc_by_capability(cc)
        name = next(g.name for g in gpus if _is_jetson_gpu(g)) or "Jetson"
        l4t, how = _l4t_from_cuda(report), "L4T inferred from the CUDA the driver reports"
    else:
        return None
    return Jetson(l4t, jetson_facts.release_for(l4t), soc, name, how)


def _l4t_from_cuda(report: SystemReport) -> Optional[str]:
    """JetPack 6's nvidia-smi reports a driver (540.4.0) and its CUDA, not the L4T release: the
    newest L4T release of the table that ships that CUDA."""
    cuda = report.nvidia.cuda_driver_version if report.nvidia else None
    if not cuda:
        return None
    rows = [r for r in jetson_facts.table().release if r.cuda == cuda]
    return max(rows, key=lambda r: versions.key(r.l4t)).l4t if rows else None


def no_rocm_situation(report: SystemReport) -> GpuSituation:
    """An AMD GPU that no ROCm build can serve as the machine stands: on Windows (AMD's own route),
    or on Linux without the amdgpu driver's compute interface (a wheel brings the rest)."""
    if report.os.system.lower() == "windows":
        return GpuSituation(
            None, why_none="an AMD GPU is present, but there are no ROCm builds for Windows", fix=WINDOWS_FIX
        )
    return GpuSituation(
        None,
        why_none="an AMD GPU is present but ROCm is not installed and the amdgpu driver's compute interface "
        "(KFD, /dev/kfd) was not found, so no ROCm build can reach it",
        fix="load the amdgpu kernel driver (the distribution kernel's own, or `amdgpu-install --usecase=dkms`) "
        "and reboot; a ROCm wheel brings its own user space, so installing ROCm itself is optional; or use --cpu",
    )
