"""Findings about Intel GPUs: a driver stack PyTorch's XPU build cannot run on, an XPU build of
torch on a machine without a GPU it serves, a CPU build on one with such a GPU. Pure, like
diagnose.py; the Intel tables are read only when the report has an Intel display device."""

from __future__ import annotations

from collections.abc import Iterator

from fwsetup.report import Finding, SystemReport


def intel_state(report: SystemReport) -> Iterator[Finding]:
    if not any(d.vendor == "intel" or d.vendor_id.lower() == "0x8086" for d in report.pci_display_devices):
        torch = next((fw for fw in report.frameworks if fw.name == "torch" and fw.variant == "xpu"), None)
        if torch is not None and report.os.system == "Linux":
            yield _xpu_without_gpu(torch.version, "no Intel GPU is on the PCI bus")
        return
    from fwsetup.probe import intel_gpus as intel

    gpus = intel.intel_gpus(report)
    usable = [g for g in gpus if g.runs_xpu]
    gap = intel.stack_gaps(report, usable) if usable else None
    if gap is not None:
        yield Finding("intel-gpu-stack-missing", "warning", f"{gap[0]} ({', '.join(g.describe() for g in usable)})", gap[1])
    for fw in report.frameworks:
        if fw.name != "torch":
            continue
        if fw.variant == "xpu" and not usable:
            names = ", ".join(g.describe() for g in gpus)
            yield _xpu_without_gpu(fw.version, f"the Intel GPU here ({names}) is not one PyTorch's XPU builds support")
        elif usable and gap is None and not report.nvidia_gpus() and (
            fw.variant == "cpu" or (fw.variant is None and fw.cuda is None)
        ):
            yield Finding(
                "torch-cpu-build-with-intel-gpu",
                "warning",
                f"torch {fw.version} is a CPU-only build, but "
                + ", ".join(g.describe() for g in usable)
                + " runs PyTorch's XPU build: it will never use the GPU",
                "reinstall with `fwsetup install pytorch --gpu` (torch from https://download.pytorch.org/whl/xpu)",
            )


def _xpu_without_gpu(version: str, why: str) -> Finding:
    return Finding(
        "torch-xpu-build-without-gpu",
        "warning",
        f"torch {version} is the Intel GPU (XPU) build, but {why}: torch.xpu.is_available() is False "
        "or its kernels fail ('Kernel is incompatible with all devices')",
        "reinstall with `fwsetup install pytorch` (the build for this machine), or `--cpu`",
    )
