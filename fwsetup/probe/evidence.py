"""What must exist for a hardware probe to have anything to find, checked before its module is
imported: most machines have no NVIDIA, AMD or Apple GPU, and `doctor` should not pay for
importing those parsers there. The paths are the probes' own (nvidia/ imports them)."""

from __future__ import annotations

import glob
import os

from fwsetup.probe import host
from fwsetup.probe.base import ProbeEnv

WSL_NVIDIA_SMI = "/usr/lib/wsl/lib/nvidia-smi"
PROC_VERSION = "/proc/driver/nvidia/version"
SYS_MODULE_VERSION = "/sys/module/nvidia/version"


def nvidia(env: ProbeEnv) -> bool:
    if env.which("nvidia-smi"):
        return True
    return any(env.exists(p) for p in (PROC_VERSION, SYS_MODULE_VERSION, WSL_NVIDIA_SMI))


def rocm(env: ProbeEnv) -> bool:
    if env.environ.get("ROCM_PATH") or env.which("rocminfo") or env.which("rocm-smi"):
        return True
    return env.exists("/opt/rocm") or bool(glob.glob(os.path.join(str(env.path("/opt")), "rocm-*")))


def apple(env: ProbeEnv) -> bool:
    return host.system() == "Darwin"


GATES = {"nvidia": nvidia, "rocm": rocm, "apple": apple}
