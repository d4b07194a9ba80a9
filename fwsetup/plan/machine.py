"""What selection needs to know about the machine, read from its SystemReport: the platform
key the facts tables use, and which GPUs can be served (or why none can)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from fwsetup.errors import Refusal
from fwsetup.plan.model import Request
from fwsetup.report import GPU, SystemReport

GPU_ACCELERATORS = ("cuda", "rocm", "mps")


def platform_key(report: SystemReport) -> str:
    """'linux-x86_64', 'linux-aarch64', 'macos-arm64', 'macos-x86_64', 'windows-amd64'."""
    system = report.os.system.lower()
    arch = (report.os.arch or "").lower()
    if system == "darwin":
        return "macos-arm64" if arch in ("arm64", "aarch64") else "macos-x86_64"
    if system == "windows":
        return "windows-arm64" if arch in ("arm64", "aarch64") else "windows-amd64"
    if arch in ("amd64", "x86_64"):
        arch = "x86_64"
    elif arch in ("arm64", "aarch64"):
        arch = "aarch64"
    return f"{system}-{arch}"


def with_driver_cuda(report: SystemReport) -> SystemReport:
    """A saved report whose driver did not say its CUDA version (older fwsetup, NVML without one)
    gets it from the driver table doctor uses, marked as such: a plan never says "CUDA ?"."""
    nv = report.nvidia
    if nv is None or nv.cuda_driver_version or not nv.driver_version:
        return report
    import dataclasses

    from fwsetup.facts.cuda_drivers import max_cuda_for_driver

    system = "windows" if report.os.wsl or report.os.system.lower() == "windows" else "linux"
    cuda = max_cuda_for_driver(nv.driver_version, system)
    if cuda is None:
        return report
    return dataclasses.replace(
        report, nvidia=dataclasses.replace(nv, cuda_driver_version=cuda, cuda_driver_version_source="table")
    )


def os_name(report: SystemReport) -> str:
    return {"darwin": "macos", "windows": "windows"}.get(report.os.system.lower(), report.os.system.lower())


def arch_name(report: SystemReport) -> str:
    return platform_key(report).split("-", 1)[1]


def package_manager(report: SystemReport) -> Optional[str]:
    family = {report.os.distro_id or "", *report.os.distro_like}
    if family & {"debian", "ubuntu"}:
        return "apt"
    if family & {"fedora", "rhel", "centos", "rocky", "almalinux", "amzn"}:
        return "dnf"
    return None


@dataclass(frozen=True)
class GpuSituation:
    accelerator: Optional[str]  # cuda, rocm, mps, or None when no usable GPU
    gpus: tuple[GPU, ...] = ()
    why_none: str = ""
    fix: str = ""


def gpu_situation(report: SystemReport, gpu_indices: Optional[Sequence[int]] = None) -> GpuSituation:
    nvidia = [g for g in report.nvidia_gpus() if gpu_indices is None or g.index in gpu_indices]
    if nvidia and report.nvidia is not None:
        return GpuSituation("cuda", tuple(nvidia))
    amd = [g for g in report.gpus if g.vendor == "amd"]
    if amd and report.rocm is not None and os_name(report) == "linux":
        return GpuSituation("rocm", tuple(amd))
    apple = [g for g in report.gpus if g.vendor == "apple"]
    if apple:
        return GpuSituation("mps", tuple(apple))
    codes = {p.code: p.message for p in report.problems}
    if "nvidia-driver-library-mismatch" in codes:
        return GpuSituation(
            None,
            why_none="the NVIDIA driver libraries do not match the loaded kernel module "
            f"({codes['nvidia-driver-library-mismatch']})",
            fix="reboot so the kernel module matches the driver libraries, or use --cpu",
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
    if amd:
        return GpuSituation(
            None,
            why_none="an AMD GPU is present but ROCm is not installed",
            fix="install ROCm (https://rocm.docs.amd.com), or use --cpu",
        )
    return GpuSituation(
        None,
        why_none="no GPU with a working driver was found on this machine",
        fix="install a GPU driver (NVIDIA: your distribution's nvidia-driver package), or use --cpu",
    )


def resolve_accelerator(request: Request, report: SystemReport) -> tuple[str, GpuSituation, list[str]]:
    """cpu / cuda / rocm / mps for this request on this machine, or a Refusal raised."""
    situation = gpu_situation(report, request.gpu_indices)
    if request.accelerator == "cpu":
        return "cpu", situation, ["--cpu asked: CPU-only build, no CUDA packages"]
    if situation.accelerator is None:
        if request.accelerator == "gpu":
            raise Refusal(f"--gpu asked but {situation.why_none}", situation.fix, code="no-usable-gpu")
        return "cpu", situation, [f"no GPU build: {situation.why_none}; using the CPU build"]
    names = ", ".join(f"#{g.index} {g.name}" for g in situation.gpus)
    return situation.accelerator, situation, [f"{situation.accelerator.upper()} GPU(s): {names}"]


def describe_gpu(gpu: GPU) -> str:
    cc = f"sm_{gpu.compute_capability.replace('.', '')}" if gpu.compute_capability else "unknown arch"
    return f"GPU {gpu.index} {gpu.name or '?'} ({cc})"
