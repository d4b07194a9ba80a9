"""What the Linux kernel already says about AMD GPUs, read from files (no process): the amdgpu
driver version, each GPU's gfx target from the KFD topology, which GPUs are integrated, and
whether ROCm reaches the GPU through WSL's /dev/dxg.

The rocm probe calls `read(env)`; the parsers are pure so tests and saved reports use the very
same code over recorded files.
"""

from __future__ import annotations

import os
import re
from typing import Optional

from fwsetup.probe.base import ProbeEnv
from fwsetup.records import dataclass, field

KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"
MODULE_VERSION = "/sys/module/amdgpu/version"
MODULE_DIR = "/sys/module/amdgpu"
DXG = "/dev/dxg"
_ROCK_LINE = re.compile(r"ROCk module version\s+(\d+(?:\.\d+)+)\s+is loaded")
_MODULE_VERSION = re.compile(r"^\d+(?:\.\d+){1,3}$")
_SMI_FIELD = re.compile(r"(ROCm|amdgpu) version:\s*(\d+(?:\.\d+)+)")


@dataclass(frozen=True)
class KfdNode:
    """One GPU node of the KFD topology."""

    node: int
    gfx: str  # "gfx90a"
    device_id: Optional[int] = None  # PCI device id


@dataclass(frozen=True)
class Kernel:
    """The kernel's view: KFD GPU nodes, the amdgpu driver and WSL's GPU bridge."""

    nodes: list[KfdNode] = field(default_factory=list)
    driver_version: Optional[str] = None
    driver_source: Optional[str] = None  # sysfs-module | inbox
    dxg: bool = False


def gfx_name(target_version: int) -> Optional[str]:
    """KFD's packed gfx_target_version (major*10000 + minor*100 + stepping, minor and stepping
    printed as hex digits) as a target name: 90402 -> gfx942, 90010 -> gfx90a, 110000 -> gfx1100.
    0 (a CPU node) and values that are no target give None."""
    major, rest = divmod(target_version, 10000)
    minor, stepping = divmod(rest, 100)
    if major == 0 or minor > 15 or stepping > 15:
        return None
    return f"gfx{major}{minor:x}{stepping:x}"


def parse_properties(text: str) -> dict[str, int]:
    """A KFD node's `properties` file: one `name value` line per property (values are integers)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out.setdefault(parts[0], int(parts[1]))
    return out


def node_from_properties(node: int, text: str) -> Optional[KfdNode]:
    """The GPU described by a node's properties, or None for a CPU node or unreadable text."""
    props = parse_properties(text)
    gfx = gfx_name(props.get("gfx_target_version", 0))
    if gfx is None or props.get("simd_count", 1) == 0:
        return None
    return KfdNode(node, gfx, props.get("device_id"))


def parse_module_version(text: Optional[str]) -> Optional[str]:
    """`/sys/module/amdgpu/version` ("6.7.0\\n"); None when empty or not a version."""
    value = (text or "").strip()
    return value if _MODULE_VERSION.match(value) else None


def parse_rock_line(rocminfo: str) -> Optional[str]:
    """rocminfo's first line names the loaded amdgpu-dkms module: "ROCk module version 6.10.5 is loaded"."""
    m = _ROCK_LINE.search(rocminfo[:2000])
    return m.group(1) if m else None


def parse_amd_smi_version(text: str) -> tuple[Optional[str], Optional[str]]:
    """`amd-smi version`: (the ROCm version, the amdgpu module version); amd-smi before ROCm 6.4
    prints no amdgpu field."""
    found: dict[str, str] = {m.group(1): m.group(2) for m in _SMI_FIELD.finditer(text[:2000])}
    return found.get("ROCm"), found.get("amdgpu")


def read(env: ProbeEnv) -> Kernel:
    """The kernel's facts under env.root; absent files give empty answers, never an error."""
    nodes: list[KfdNode] = []
    try:
        names = sorted((n for n in os.listdir(env.path(KFD_NODES)) if n.isdigit()), key=int)
    except OSError:
        names = []
    for name in names:
        text = env.read_text(f"{KFD_NODES}/{name}/properties", limit=1 << 16)
        found = node_from_properties(int(name), text) if text else None
        if found is not None:
            nodes.append(found)
    version = parse_module_version(env.read_text(MODULE_VERSION, limit=256))
    source = "sysfs-module" if version else ("inbox" if env.exists(MODULE_DIR) else None)
    return Kernel(nodes, version, source, env.exists(DXG))
