"""Pure compatibility rules shared by diagnosis and selection.

- A GPU of compute capability X.Y runs a cubin built for X.Z when Z <= Y (same major):
  an sm_86 cubin runs on sm_89 (Ada), which is why naive "is sm_89 in the arch list"
  checks are wrong. PTX for C runs (JIT) on any GPU with capability >= C.
- A driver supports a CUDA build when its own CUDA version is at least the build's
  (full support), or — with limited features — when it meets NVIDIA's
  minor-version-compatibility floor for that CUDA major (fwsetup/facts/cuda_drivers.toml).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from fwsetup import versions
from fwsetup.facts import cuda_drivers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fwsetup.report import SystemReport


def cc_covered(cc: str, archs: Iterable[str], ptx: Iterable[str] = ()) -> bool:
    """Whether a GPU of capability `cc` has kernels in a build with these SASS/PTX archs."""
    gpu = versions.release(cc)
    if len(gpu) < 2:
        return False
    for arch in archs:
        a = versions.release(arch)
        if len(a) >= 2 and a[0] == gpu[0] and a[1] <= gpu[1]:
            return True
    return any(len(p) >= 2 and p <= gpu for p in (versions.release(x) for x in ptx))


def family_floor(cuda: str, system: str = "Linux") -> Optional[str]:
    """NVIDIA's minor-version-compatibility floor for the CUDA major of `cuda`."""
    major = versions.release(cuda, 1)
    for fam in cuda_drivers.table().family:
        if (fam.major,) == major:
            return fam.min_driver(system)
    return None


def full_support_driver(cuda: str, system: str = "Linux") -> Optional[str]:
    """The driver that fully supports CUDA `cuda` (NVIDIA's Table 3 'toolkit driver')."""
    target = versions.release(cuda, 2)
    for row in cuda_drivers.table().cuda:
        if versions.release(row.version, 2) == target:
            return row.driver(system)
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
    build = versions.release(build_cuda, 2)
    if driver_cuda and versions.release(driver_cuda, 2) >= build:
        return True, True
    if driver_version:
        have = versions.release(driver_version)
        floor = family_floor(build_cuda, system)
        if floor and have >= versions.release(floor):
            same_major = driver_cuda is None or versions.release(driver_cuda, 1) == build[:1]
            if same_major:
                return True, False
        full = full_support_driver(build_cuda, system)
        if full and not driver_cuda and have >= versions.release(full):
            return True, True
    return False, False


def driver_runs(report: SystemReport, build_cuda: str) -> bool:
    """Whether the NVIDIA driver of `report` runs a CUDA `build_cuda` build, fully or through
    minor-version compatibility (`driver_runs_cuda`); False where the report has no driver."""
    nv = report.nvidia
    if nv is None:
        return False
    return driver_runs_cuda(nv.driver_version, nv.cuda_driver_version, build_cuda, report.os.system)[0]
