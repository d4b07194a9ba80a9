"""AMD findings: an installed torch diagnosed against the AMD GPUs and the amdgpu driver (the gfx
targets it ships, AMD's kernel-driver / user-space window, a CPU or CUDA build on an AMD machine,
PyTorch's wheels under WSL), and a system ROCm the driver does not support.

Pure, like diagnose.py: reads a SystemReport. The ROCm and PyTorch tables are imported only when
the report has AMD GPUs.
"""

from __future__ import annotations

from collections.abc import Iterator

from fwsetup.report import GPU, Finding, Framework, SystemReport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fwsetup.facts.rocm import UserSpace

REINSTALL = "reinstall with `fwsetup install pytorch --gpu` (it picks a build for these GPUs and this driver)"


def amd_state(report: SystemReport) -> Iterator[Finding]:
    gpus = [g for g in report.gpus if g.vendor == "amd"]
    if not gpus or report.rocm is None:
        return
    from fwsetup.facts import rocm as facts

    space = facts.user_space(report.rocm.driver_version, report.rocm.driver_source)
    system_rocm = report.rocm.version
    if system_rocm and space.allowed is not None and facts.series(system_rocm) not in space.allowed:
        yield Finding(
            "rocm-outside-driver-window",
            "warning",
            f"the ROCm {system_rocm} installed here is outside what the amdgpu driver supports: {space.how}; "
            "HIP programs built against it may fail at run time",
            f"install the amdgpu driver of ROCm {facts.series(system_rocm)} (`amdgpu-install --usecase=dkms` "
            "from that release, then reboot), or a ROCm inside the window",
        )
    for fw in report.frameworks:
        if fw.name == "torch":
            yield from _torch(report, fw, gpus, space)


def _torch(report: SystemReport, fw: Framework, gpus: list[GPU], space: UserSpace) -> Iterator[Finding]:
    from fwsetup.facts import rocm as facts

    variant = fw.variant or ""
    count = f"{len(gpus)} AMD GPU(s)"
    if fw.cuda is not None or variant.startswith("cu"):
        if not report.nvidia_gpus():
            yield Finding(
                "torch-cuda-build-on-amd",
                "error",
                f"torch {fw.version} is a CUDA build, but this machine has {count} and no NVIDIA GPU: "
                "it will never use them",
                REINSTALL,
            )
        return
    if not variant.startswith("rocm"):
        if not report.nvidia_gpus() and (variant == "cpu" or not variant):
            yield Finding(
                "torch-cpu-build-with-gpu",
                "warning",
                f"torch {fw.version} is a CPU-only build, but this machine has {count}: it will never use them",
                REINSTALL,
            )
        return
    rocm_version = variant[len("rocm") :]
    if report.rocm is not None and (report.rocm.wsl or report.os.wsl):
        yield Finding(
            "torch-rocm-on-wsl",
            "error",
            f"torch {fw.version} is a Linux ROCm wheel, which does not reach the GPU under WSL: ROCm on WSL "
            "needs AMD's own wheels with its WSL runtime",
            "follow AMD's WSL route (https://rocm.docs.amd.com/projects/radeon/en/latest/docs/install/wsl/"
            "install-pytorch.html)",
        )
        return
    yield from _gfx(fw, gpus, variant, report)
    if space.allowed is not None and facts.series(rocm_version) not in space.allowed:
        yield Finding(
            "torch-rocm-outside-driver-window",
            "error",
            f"torch {fw.version} bundles ROCm {rocm_version} user space, but {space.how}: kernels fail at run "
            "time ('hipErrorNoBinaryForGpu', 'invalid device function', memory aperture violations)",
            f"{REINSTALL}, or install the amdgpu driver of ROCm {facts.series(rocm_version)}",
        )


def _gfx(fw: Framework, gpus: list[GPU], variant: str, report: SystemReport) -> Iterator[Finding]:
    from fwsetup.facts import pytorch

    entry = pytorch.variant(fw.version, variant, report.platform_key())
    if entry is None or not entry.gfx:
        return
    for gpu in gpus:
        if gpu.compute_capability and gpu.compute_capability not in entry.gfx:
            yield Finding(
                "torch-gfx-not-covered",
                "error",
                f"torch {fw.version} ships kernels for {' '.join(entry.gfx)} but GPU {gpu.index} ({gpu.name}) is "
                f"{gpu.compute_capability}: 'hipErrorNoBinaryForGpu: Unable to find code object for all current devices'",
                REINSTALL,
            )
