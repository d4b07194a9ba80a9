"""Intel GPUs as selection and doctor's findings see them (in probe/, below both, so both read
it): which PyTorch's XPU builds serve (facts/xpu.toml, by PCI device id) and whether the
machine's driver stack can run them.

Read from the report's `pci_display_devices`, which every Linux report has, so a report saved by
an older doctor (no `intel` section, no intel `gpus` entries) still plans; the driver stack is
then unknown and the plan says what it needs. Not uv's rule (any Intel display device is XPU):
an Alder Lake UHD 770 gets no XPU build (pytorch/pytorch#131799).
"""

from __future__ import annotations

from fwsetup.facts import xpu
from fwsetup.records import dataclass
from fwsetup.report import GPU, SystemReport

TYPE_CHECKING = False  # doctor's findings read this module: no typing import at run time
if TYPE_CHECKING:
    from typing import Optional

    from fwsetup.facts.xpu import IntelFamily

INTEL_VENDOR_ID = "0x8086"
DRIVER_GUIDE = "https://dgpu-docs.intel.com/driver/client/overview.html"
RUNTIME_PACKAGES = "libze1 libze-intel-gpu1 intel-opencl-icd"
HARDWARE_TABLE = "https://dgpu-docs.intel.com/devices/hardware-table.html"


@dataclass(frozen=True)
class IntelGpu:
    gpu: GPU  # as the report names it (or built from the PCI id for an older report)
    device_id: str
    family: Optional[IntelFamily]

    @property
    def runs_xpu(self) -> bool:
        return self.family is not None and self.family.runs_xpu

    def describe(self) -> str:
        return f"{self.gpu.name or 'Intel GPU'} [8086:{self.device_id}]"


def intel_gpus(report: SystemReport) -> list[IntelGpu]:
    """Every Intel display device, in bus order, with its family from the table."""
    named = {g.bus_id: g for g in report.gpus if g.vendor == "intel" and g.bus_id}
    found = []
    devices = [
        d for d in report.pci_display_devices if d.vendor == "intel" or d.vendor_id.lower() == INTEL_VENDOR_ID
    ]
    for index, dev in enumerate(devices):
        device_id = dev.device_id.strip().lower().removeprefix("0x")
        fam = xpu.family(device_id)
        gpu = named.get(dev.bus_id) or GPU(
            vendor="intel",
            index=index,
            name=fam.name if fam else None,
            compute_capability=fam.arch if fam else None,
            compute_capability_source="table" if fam else None,
            bus_id=dev.bus_id,
        )
        found.append(IntelGpu(gpu, device_id, fam))
    return found


def stack_gaps(report: SystemReport, usable: list[IntelGpu]) -> Optional[tuple[str, str]]:
    """(why, fix) when the report shows the driver stack cannot run the XPU build; None when it
    can or when the report does not say (an older doctor)."""
    info = report.intel
    if info is None:
        return None
    drivers = info.kernel_drivers or {}
    if not any(isinstance(drivers.get(g.gpu.bus_id or ""), str) for g in usable):
        names = ", ".join(g.describe() for g in usable)
        return (
            f"no kernel driver (i915 or xe) is bound to {names}",
            f"boot a kernel whose i915 or xe driver supports this GPU (Intel's table: {HARDWARE_TABLE}), "
            "or use --cpu",
        )
    missing = [
        what
        for what, path in (
            ("the Level Zero loader (libze_loader.so.1)", info.level_zero),
            ("Intel's GPU compute runtime (libze_intel_gpu.so.1)", info.compute_runtime),
        )
        if not path
    ]
    if missing:
        return (
            " and ".join(missing)
            + (" are" if len(missing) > 1 else " is")
            + " not installed: PyTorch's XPU build cannot reach the GPU",
            f"install Intel's GPU driver packages ({RUNTIME_PACKAGES} on Ubuntu 24.04+/Debian; "
            f"{DRIVER_GUIDE}), or use --cpu",
        )
    return None


def unsupported_why(gpus: list[IntelGpu]) -> tuple[str, str]:
    names = ", ".join(g.describe() for g in gpus)
    return (
        f"the Intel GPU here ({names}) is not one PyTorch's XPU builds support (Arc A/B-series, "
        "Core Ultra with Arc graphics, Data Center GPU Max; on older integrated GPUs the XPU build "
        "fails: 'Kernel is incompatible with all devices')",
        "use --cpu",
    )
