"""What must exist for a hardware probe to have anything to find, checked before its module is
imported: most machines have no NVIDIA, AMD or Apple GPU, and `doctor` should not pay for
importing those parsers there. The paths are the probes' own (nvidia/ imports them)."""

from __future__ import annotations

import os

from fwsetup.probe import host
from fwsetup.probe.base import ProbeEnv

WSL_NVIDIA_SMI = "/usr/lib/wsl/lib/nvidia-smi"
PROC_VERSION = "/proc/driver/nvidia/version"
SYS_MODULE_VERSION = "/sys/module/nvidia/version"
TEGRA_RELEASE = "/etc/nv_tegra_release"
DT_COMPATIBLE = "/proc/device-tree/compatible"
KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"  # probe/amdgpu.py reads it


def nvidia(env: ProbeEnv) -> bool:
    if env.which("nvidia-smi"):
        return True
    return any(env.exists(p) for p in (PROC_VERSION, SYS_MODULE_VERSION, WSL_NVIDIA_SMI))


def jetson(env: ProbeEnv) -> bool:
    """A Jetson states its L4T release in /etc/nv_tegra_release; a device tree (any ARM board)
    or a driver version file may still name a Tegra SoC or an L4T release."""
    return any(env.exists(p) for p in (TEGRA_RELEASE, DT_COMPATIBLE, PROC_VERSION))


def rocm(env: ProbeEnv) -> bool:
    """ROCm installed, or only the amdgpu driver's KFD: a ROCm wheel brings its own user space."""
    if env.environ.get("ROCM_PATH") or env.which("rocminfo") or env.which("rocm-smi"):
        return True
    if env.exists(KFD_NODES):
        return True
    return env.exists("/opt/rocm") or any(n.startswith("rocm-") for n in _listdir(env.path("/opt")))


def apple(env: ProbeEnv) -> bool:
    return host.system() == "Darwin"


GATES = {"nvidia": nvidia, "jetson": jetson, "rocm": rocm, "apple": apple}


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []
