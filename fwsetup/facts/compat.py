"""Pure compatibility rules shared by diagnosis and selection.

- A GPU of compute capability X.Y runs a cubin built for X.Z when Z <= Y (same major):
  an sm_86 cubin runs on sm_89 (Ada), which is why naive "is sm_89 in the arch list"
  checks are wrong. PTX for C runs (JIT) on any GPU with capability >= C.
- A driver supports a CUDA build when its own CUDA version is at least the build's
  (full support), or — with limited features — when it meets NVIDIA's
  minor-version-compatibility floor for that CUDA major (fwsetup/facts/cuda_drivers.toml).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional

from fwsetup import facts as data


def vtuple(version: Optional[str]) -> tuple[int, ...]:
    """'470.63.01' → (470, 63, 1); non-numeric tails are ignored; None/garbage → ()."""
    if not version:
        return ()
    parts = []
    for piece in version.strip().split("."):
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group()))
    return tuple(parts)


def cc_covered(cc: str, archs: Iterable[str], ptx: Iterable[str] = ()) -> bool:
    """Whether a GPU of capability `cc` has kernels in a build with these SASS/PTX archs."""
    gpu = vtuple(cc)
    if len(gpu) < 2:
        return False
    for arch in archs:
        a = vtuple(arch)
        if len(a) >= 2 and a[0] == gpu[0] and a[1] <= gpu[1]:
            return True
    return any(len(vtuple(p)) >= 2 and vtuple(p) <= gpu for p in ptx)


def cuda_entries() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = data.load("cuda_drivers")["cuda"]
    return entries


def family_floor(cuda: str, system: str = "Linux") -> Optional[str]:
    """NVIDIA's minor-version-compatibility floor for the CUDA major of `cuda`."""
    major = vtuple(cuda)[:1]
    key = "windows_min_driver" if system == "Windows" else "linux_min_driver"
    for fam in data.load("cuda_drivers").get("family", []):
        if (int(fam["major"]),) == major:
            floor: Optional[str] = fam.get(key)
            return floor
    return None


def full_support_driver(cuda: str, system: str = "Linux") -> Optional[str]:
    """The driver that fully supports CUDA `cuda` (NVIDIA's Table 3 'toolkit driver')."""
    key = "windows_driver" if system == "Windows" else "linux_driver"
    target = vtuple(cuda)[:2]
    for entry in cuda_entries():
        if vtuple(entry["version"])[:2] == target:
            return entry.get(key)
    return None


def driver_runs_cuda(
    driver_version: Optional[str],
    driver_cuda: Optional[str],
    build_cuda: str,
    system: str = "Linux",
) -> tuple[bool, bool]:
    """(runs, fully_supported) for a CUDA `build_cuda` build on this driver.

    Full support: the driver's own CUDA version >= the build's. Otherwise it may still run
    through minor-version compatibility when the driver meets the family floor.
    """
    if driver_cuda and vtuple(driver_cuda)[:2] >= vtuple(build_cuda)[:2]:
        return True, True
    if driver_version:
        floor = family_floor(build_cuda, system)
        if floor and vtuple(driver_version) >= vtuple(floor):
            same_major = driver_cuda is None or vtuple(driver_cuda)[:1] == vtuple(build_cuda)[:1]
            if same_major:
                return True, False
        full = full_support_driver(build_cuda, system)
        if full and not driver_cuda and vtuple(driver_version) >= vtuple(full):
            return True, True
    return False, False
