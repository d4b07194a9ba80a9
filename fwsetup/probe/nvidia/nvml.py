"""NVML (libnvidia-ml, the library nvidia-smi itself uses) through ctypes: exact numbers
without starting a tool, and, when the driver is broken, nvmlInit's return code, which says
exactly why. Imported only on a machine with NVIDIA evidence; every call is made in a daemon
thread bounded by the probe timeout, since a wedged driver can block inside the library.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
from typing import Any, Callable, Optional, TypeVar, Union

from fwsetup.probe.nvidia.problems import (
    DRIVER_LIBRARY_MISMATCH,
    DRIVER_UNREACHABLE,
    NO_PERMISSION,
    NVML_FAILED,
    SOURCE,
    driver_problem,
)
from fwsetup.records import dataclass
from fwsetup.report import GPU, Problem

# nvmlReturn_t values from nvml.h (NVIDIA NVML API reference, "Device Enums: nvmlReturn_t";
# https://docs.nvidia.com/deploy/nvml-api/). nvmlInit_v2 documents DRIVER_NOT_LOADED,
# NO_PERMISSION and UNKNOWN; drivers also return LIB_RM_VERSION_MISMATCH and OPERATING_SYSTEM.
SUCCESS = 0
ERROR_NAMES: dict[int, str] = {
    1: "NVML_ERROR_UNINITIALIZED",
    2: "NVML_ERROR_INVALID_ARGUMENT",
    3: "NVML_ERROR_NOT_SUPPORTED",
    4: "NVML_ERROR_NO_PERMISSION",
    6: "NVML_ERROR_NOT_FOUND",
    9: "NVML_ERROR_DRIVER_NOT_LOADED",
    10: "NVML_ERROR_TIMEOUT",
    11: "NVML_ERROR_IRQ_ISSUE",
    12: "NVML_ERROR_LIBRARY_NOT_FOUND",
    13: "NVML_ERROR_FUNCTION_NOT_FOUND",
    14: "NVML_ERROR_CORRUPTED_INFOROM",
    15: "NVML_ERROR_GPU_IS_LOST",
    16: "NVML_ERROR_RESET_REQUIRED",
    17: "NVML_ERROR_OPERATING_SYSTEM",
    18: "NVML_ERROR_LIB_RM_VERSION_MISMATCH",
    999: "NVML_ERROR_UNKNOWN",
}
# The init failures that have their own problem code (and finding); others are NVML_FAILED.
INIT_PROBLEMS: dict[int, str] = {
    4: NO_PERMISSION,
    9: DRIVER_UNREACHABLE,
    18: DRIVER_LIBRARY_MISMATCH,
}


class Memory(ctypes.Structure):
    """nvmlMemory_t."""

    _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]


class PciInfo(ctypes.Structure):
    """nvmlPciInfo_t as filled by nvmlDeviceGetPciInfo_v2/_v3."""

    _fields_ = [
        ("busIdLegacy", ctypes.c_char * 16),
        ("domain", ctypes.c_uint),
        ("bus", ctypes.c_uint),
        ("device", ctypes.c_uint),
        ("pciDeviceId", ctypes.c_uint),
        ("pciSubSystemId", ctypes.c_uint),
        ("busId", ctypes.c_char * 32),
    ]


@dataclass(frozen=True)
class NvmlReport:
    """What an initialised NVML said."""

    driver_version: Optional[str]
    cuda_version: Optional[str]
    gpus: list[GPU]


@dataclass(frozen=True)
class InitFailed:
    """nvmlInit's return code, kept: it is the reason, no text needs scraping."""

    code: int
    library_version: Optional[str] = None  # the user-space NVML's version, where known

    @property
    def name(self) -> str:
        return ERROR_NAMES.get(self.code, f"NVML error {self.code}")


def init_problem(failure: InitFailed, kmod: Optional[str]) -> Problem:
    """The problem line for a failed nvmlInit, from its return code."""
    code = INIT_PROBLEMS.get(failure.code)
    if code is not None:
        return driver_problem(code, "NVML", failure.library_version, kmod)
    return Problem(
        NVML_FAILED,
        f"NVML could not start: nvmlInit returned {failure.name} ({failure.code})",
        SOURCE,
    )


def _fn(lib: Any, *names: str) -> Optional[Callable[..., int]]:
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn  # type: ignore[no-any-return]
    return None


def _text(fn: Optional[Callable[..., int]], *args: Any, size: int = 96) -> Optional[str]:
    if fn is None:
        return None
    buf = ctypes.create_string_buffer(size)
    if fn(*args, buf, ctypes.c_uint(size)) != SUCCESS:
        return None
    return buf.value.decode("utf-8", errors="replace").strip() or None


def _version(text: Optional[str]) -> Optional[str]:
    return text if text and re.fullmatch(r"\d+\.\d+(?:\.\d+)*", text) else None


def _cuda_version(lib: Any) -> Optional[str]:
    fn = _fn(lib, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion")
    value = ctypes.c_int(0)
    if fn is None or fn(ctypes.pointer(value)) != SUCCESS or value.value <= 0:
        return None
    return f"{value.value // 1000}.{(value.value % 1000) // 10}"


def _gpu(lib: Any, index: int) -> Optional[GPU]:
    handle = ctypes.c_void_p()
    get_handle = _fn(lib, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")
    if get_handle is None or get_handle(ctypes.c_uint(index), ctypes.pointer(handle)) != SUCCESS:
        return None
    name = _text(_fn(lib, "nvmlDeviceGetName"), handle)
    uuid = _text(_fn(lib, "nvmlDeviceGetUUID"), handle)

    memory: Optional[int] = None
    mem = Memory()
    get_memory = _fn(lib, "nvmlDeviceGetMemoryInfo")
    if get_memory is not None and get_memory(handle, ctypes.pointer(mem)) == SUCCESS:
        memory = int(mem.total) // (1024 * 1024)

    bus_id: Optional[str] = None
    pci = PciInfo()
    get_pci = _fn(lib, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2")
    if get_pci is not None and get_pci(handle, ctypes.pointer(pci)) == SUCCESS:
        bus_id = pci.busId.decode("ascii", errors="replace") or None

    cc: Optional[str] = None
    major, minor = ctypes.c_int(0), ctypes.c_int(0)
    get_cc = _fn(lib, "nvmlDeviceGetCudaComputeCapability")
    if get_cc is not None and get_cc(handle, ctypes.pointer(major), ctypes.pointer(minor)) == SUCCESS:
        cc = f"{major.value}.{minor.value}" if major.value > 0 else None

    mig: Optional[str] = None
    current, pending = ctypes.c_uint(0), ctypes.c_uint(0)
    get_mig = _fn(lib, "nvmlDeviceGetMigMode")
    if get_mig is not None and get_mig(handle, ctypes.pointer(current), ctypes.pointer(pending)) == SUCCESS:
        mig = "Enabled" if current.value == 1 else "Disabled"

    return GPU(
        vendor="nvidia",
        index=index,
        name=name,
        memory_total_mib=memory,
        compute_capability=cc,
        compute_capability_source="reported" if cc else None,
        uuid=uuid,
        bus_id=bus_id,
        mig_mode=mig,
    )


def read(lib: Any, library_version: Optional[str] = None) -> Union[NvmlReport, InitFailed, None]:
    """Driver, CUDA version and GPUs from a loaded NVML library (or a stand-in); InitFailed
    with nvmlInit's code when it refuses; None when the library lacks what we need."""
    init = _fn(lib, "nvmlInit_v2", "nvmlInit")
    if init is None:
        return None
    code = init()
    if code != SUCCESS:
        return InitFailed(int(code), library_version)
    try:
        driver = _version(_text(_fn(lib, "nvmlSystemGetDriverVersion"), size=80))
        count = ctypes.c_uint(0)
        get_count = _fn(lib, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")
        if get_count is None or get_count(ctypes.pointer(count)) != SUCCESS:
            return None
        gpus = [g for g in (_gpu(lib, i) for i in range(count.value)) if g is not None]
        if count.value and not gpus:
            return None  # every GPU refused a handle (lost, in reset): nvidia-smi says which and why
        return NvmlReport(driver, _cuda_version(lib), gpus)
    finally:
        shutdown = _fn(lib, "nvmlShutdown")
        if shutdown is not None:
            shutdown()


def library_candidates() -> list[str]:
    """Where the NVML library is: the driver's install paths, then (Linux) its soname, which
    the dynamic loader resolves through ld.so.cache. Never asks a tool (ldconfig)."""
    if sys.platform == "win32":
        system_root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        program_files = os.environ.get("PROGRAMFILES", r"C:\Program Files")
        paths = [
            os.path.join(system_root, "System32", "nvml.dll"),
            os.path.join(program_files, "NVIDIA Corporation", "NVSMI", "nvml.dll"),
        ]
        return [p for p in paths if os.path.isfile(p)]
    if not sys.platform.startswith("linux"):
        return []
    dirs = (
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/usr/lib64/nvidia",
        "/usr/local/nvidia/lib64",
        "/usr/lib/wsl/lib",
    )
    found = [p for p in (f"{d}/libnvidia-ml.so.1" for d in dirs) if os.path.isfile(p)]
    return found or ["libnvidia-ml.so.1"]


def library_version(path: str) -> Optional[str]:
    """The NVML version in the file the soname points at (libnvidia-ml.so.1 -> .so.580.178)."""
    m = re.search(r"libnvidia-ml\.so\.(\d+\.\d+(?:\.\d+)*)$", os.path.realpath(path))
    return m.group(1) if m else None


def load(path: str) -> Any:
    """The library at path (ctypes.CDLL); raises OSError when it cannot be loaded."""
    return ctypes.CDLL(path)


def probe_library() -> Union[NvmlReport, InitFailed, None]:
    """Load the first NVML library that loads and read it; None when there is none."""
    for path in library_candidates():
        try:
            lib = load(path)
        except OSError:
            continue  # absent, wrong architecture, missing dependency: try the next
        return read(lib, library_version(path))
    return None


T = TypeVar("T")


def bounded(fn: Callable[[], T], timeout: float) -> Optional[T]:
    """fn() in a daemon thread: its result, or None if it raised or did not finish in time."""
    box: list[Optional[T]] = []

    def target() -> None:
        try:
            box.append(fn())
        except Exception:  # NVML is best-effort; nvidia-smi and procfs are the fallback
            box.append(None)

    thread = threading.Thread(target=target, name="fwsetup-nvml", daemon=True)
    thread.start()
    thread.join(timeout)
    return box[0] if box else None
