"""Intel GPUs (Linux sysfs) and the driver stack PyTorch's XPU builds need: a kernel driver
(i915 or xe) bound to the GPU, the Level Zero loader and Intel's GPU compute runtime.

File reads only: the bound driver is the `driver` link of the PCI device, the libraries are
looked for where distributions and Intel's packages put them. Which GPUs PyTorch's XPU builds
serve is facts/xpu.toml, read only when an Intel display device is present.
"""

from __future__ import annotations

import os

from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import GPU, IntelInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

INTEL_VENDOR = "0x8086"
DISPLAY_CLASS_PREFIX = "0x03"
# Where libze1 / libze-intel-gpu1 (Debian, Ubuntu), level-zero / intel-level-zero-gpu (Fedora,
# RHEL, Intel's repositories) and intel-compute-runtime (Arch) install their libraries.
LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/usr/lib/aarch64-linux-gnu")
LEVEL_ZERO_LOADER = "libze_loader.so.1"
COMPUTE_RUNTIME = "libze_intel_gpu.so.1"


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    devices = intel_display_devices(env)
    if not devices:
        return out
    from fwsetup.facts import xpu

    drivers: dict[str, Optional[str]] = {}
    for index, (bus_id, device_id) in enumerate(devices):
        drivers[bus_id] = bound_driver(env, bus_id)
        fam = xpu.family(device_id)
        out.gpus.append(
            GPU(
                vendor="intel",
                index=index,
                name=fam.name if fam else f"Intel GPU [8086:{device_id.lower().removeprefix('0x')}]",
                compute_capability=fam.arch if fam else None,
                compute_capability_source="table" if fam else None,
                bus_id=bus_id,
            )
        )
    dirs = [*library_path(env), *LIB_DIRS]
    out.fields["intel"] = IntelInfo(
        kernel_drivers=drivers,
        level_zero=find_library(env, LEVEL_ZERO_LOADER, dirs),
        compute_runtime=find_library(env, COMPUTE_RUNTIME, dirs),
    )
    return out


def intel_display_devices(env: ProbeEnv) -> list[tuple[str, str]]:
    """(bus id, device id) of every Intel display controller, in bus order."""
    try:
        entries = sorted(os.listdir(env.path("/sys/bus/pci/devices")))
    except OSError:
        return []
    found = []
    for bus_id in entries:
        base = f"/sys/bus/pci/devices/{bus_id}"
        if (env.read_text(f"{base}/vendor", 64) or "").strip().lower() != INTEL_VENDOR:
            continue
        if not (env.read_text(f"{base}/class", 64) or "").strip().startswith(DISPLAY_CLASS_PREFIX):
            continue
        device = (env.read_text(f"{base}/device", 64) or "").strip().lower()
        if device:
            found.append((bus_id, device))
    return found


def bound_driver(env: ProbeEnv, bus_id: str) -> Optional[str]:
    """The kernel driver bound to the device (the name its `driver` link points at), or None."""
    try:
        target = os.readlink(env.path(f"/sys/bus/pci/devices/{bus_id}/driver"))
    except OSError:
        return None
    name = os.path.basename(target.rstrip("/"))
    return name if name.isprintable() and 0 < len(name) <= 64 else None


def library_path(env: ProbeEnv) -> list[str]:
    return [d for d in env.environ.get("LD_LIBRARY_PATH", "").split(":") if d.startswith("/")]


def find_library(env: ProbeEnv, name: str, dirs: list[str]) -> Optional[str]:
    for d in dirs:
        candidate = f"{d.rstrip('/')}/{name}"
        if env.exists(candidate):
            return candidate
    return None
