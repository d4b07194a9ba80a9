"""NVIDIA driver and GPUs: what is installed, what it reports, and what went wrong.

Sources, best first: NVML through ctypes (no tool, exact numbers), `nvidia-smi --query-gpu`
(machine-readable), the default `nvidia-smi` table (the only place old drivers state their
CUDA version), /proc/driver/nvidia/version and /sys/module/nvidia/version (the loaded kernel
module; no GPU details). A machine with none of them simply has no NVIDIA driver: that is not a
problem. Facts the driver does not report come from the data tables (`gpus.toml` for compute
capability by name, `cuda_drivers.toml` for the CUDA version a driver supports) and say so in
their `*_source` field; anything else unknown stays None.

The parsers are pure functions over text, tested on recorded real outputs; `probe` never raises
and every tool call is bounded by `ProbeEnv.timeout`.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

from fwsetup import facts as data
from fwsetup.probe.base import Probed, ProbeEnv, run_problem
from fwsetup.probe.evidence import PROC_VERSION, SYS_MODULE_VERSION, WSL_NVIDIA_SMI
from fwsetup.report import GPU, NvidiaDriver, Problem
from fwsetup.runner import ProcResult

SOURCE = "nvidia"

QUERY_FIELDS: tuple[str, ...] = (
    "index",
    "name",
    "uuid",
    "pci.bus_id",
    "memory.total",
    "compute_cap",
    "driver_version",
    "mig.mode.current",
)
# Fields old drivers do not know (compute_cap arrived in R510, mig.mode.* with R450): when
# nvidia-smi rejects one of these, the query is retried without it.
OPTIONAL_QUERY_FIELDS = frozenset({"compute_cap", "mig.mode.current"})

NO_NVML_ENV = "FWSETUP_NO_NVML"  # set (non-empty) to skip NVML, e.g. in tests

# Problem codes this probe reports besides base.run_problem's tool-missing/-timeout/-failed.
DRIVER_UNREACHABLE = "nvidia-driver-unreachable"
DRIVER_LIBRARY_MISMATCH = "nvidia-driver-library-mismatch"
NO_DEVICES = "nvidia-no-devices"
UNPARSEABLE = "nvidia-output-unparseable"


class NvidiaParseError(ValueError):
    """Text that should be nvidia-smi/procfs output but is not in any shape we know."""


class InvalidQueryField(NvidiaParseError):
    """nvidia-smi said `Field "<name>" is not a valid field to query.` (an older driver)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"nvidia-smi does not know the query field {name!r}")
        self.field = name


# --------------------------------------------------------------------------------------------
# Versions and the data tables


def version_key(version: str) -> tuple[int, ...]:
    """Numeric sort key of a dotted version: "470.63.01" -> (470, 63, 1); junk stops it."""
    parts: list[int] = []
    for piece in version.strip().split("."):
        m = re.match(r"\d+", piece)
        if m is None:
            break
        parts.append(int(m.group()))
        if m.end() != len(piece):
            break
    return tuple(parts)


def max_cuda_for_driver(driver_version: str, system: str = "linux") -> Optional[str]:
    """The highest CUDA version whose toolkit driver (NVIDIA's Table 3) is <= driver_version.

    `system` picks the column: "linux" or "windows" (WSL2 reports the Windows driver).
    None for a version that is not a desktop/datacenter driver (e.g. Jetson L4T "35.3.1").
    """
    key = version_key(driver_version)
    if len(key) < 2:
        return None
    column = "windows_driver" if system == "windows" else "linux_driver"
    best: Optional[str] = None
    for row in data.load("cuda_drivers")["cuda"]:
        floor = row.get(column)
        if floor is None or version_key(str(floor)) > key:
            continue
        version = str(row["version"])
        if best is None or version_key(version) > version_key(best):
            best = version
    return best


@functools.lru_cache(maxsize=1)
def _gpu_table() -> tuple[tuple[str, str], ...]:
    rows = data.load("gpus")["gpu"]
    entries = ((" ".join(str(r["match"]).split()).lower(), str(r["compute_capability"])) for r in rows)
    return tuple(sorted(entries, key=lambda e: -len(e[0])))


def _edges_free(text: str, start: int, end: int, pattern: str, end_free: bool) -> bool:
    """pattern occurs at text[start:end] as whole words (no letter or digit glued to it)."""
    if pattern[0].isalnum() and start > 0 and text[start - 1].isalnum():
        return False
    if pattern[-1].isalnum() and end < len(text):
        return not text[end].isalnum()
    return end < len(text) or end_free


def _whole_word_in(pattern: str, text: str, end_free: bool = True) -> bool:
    start = text.find(pattern)
    while start >= 0:
        if _edges_free(text, start, start + len(pattern), pattern, end_free):
            return True
        start = text.find(pattern, start + 1)
    return False


def _continues_past_cut(pattern: str, visible: str, cut_between_words: bool) -> bool:
    """The truncated name could go on to contain pattern: a prefix of it ends the visible text.

    Only prefixes holding a digit count, so "NVIDIA GeForce ..." (no model number left) never
    matches any one GeForce entry.
    """
    for k in range(len(pattern) - 1, 0, -1):
        head = pattern[:k]
        if not visible.endswith(head) or not any(c.isdigit() for c in head):
            continue
        start = len(visible) - k
        if pattern[0].isalnum() and start > 0 and visible[start - 1].isalnum():
            continue
        if cut_between_words and pattern[k] != " ":
            continue
        return True
    return False


def compute_capability_for_name(name: Optional[str]) -> Optional[str]:
    """Compute capability of an NVIDIA GPU by its reported name, from gpus.toml, or None.

    The longest whole-word `match` wins. A name nvidia-smi cut short ("GeForce RTX 208...") only
    gets a capability when every entry it could still turn out to be agrees on one.
    """
    if not name:
        return None
    text = " ".join(name.split()).lower()
    if not text.endswith("..."):
        for pattern, cc in _gpu_table():
            if _whole_word_in(pattern, text):
                return cc
        return None
    visible = text[:-3]
    cut_between_words = visible.endswith(" ")
    visible = visible.rstrip()
    if not visible:
        return None
    candidates = set()
    for pattern, cc in _gpu_table():
        if _whole_word_in(pattern, visible, end_free=True) or _continues_past_cut(
            pattern, visible, cut_between_words
        ):
            candidates.add(cc)
    return candidates.pop() if len(candidates) == 1 else None


# --------------------------------------------------------------------------------------------
# Parsers (pure)

_NA_VALUES = frozenset({"", "n/a", "na", "none", "not supported", "unknown"})
_VERSION_RE = re.compile(r"^\d+\.\d+(?:\.\d+)*$")
_CC_RE = re.compile(r"^\d+\.\d+$")
_INVALID_FIELD_RE = re.compile(r'Field "([^"]+)" is not a valid field to query', re.IGNORECASE)


def _na(value: str) -> Optional[str]:
    """nvidia-smi's ways of saying "no value": N/A, [N/A], [Not Supported], blank, [...]."""
    v = value.strip()
    if v.lower() in _NA_VALUES or (v.startswith("[") and v.endswith("]")):
        return None
    return v


def _int_prefix(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    m = re.match(r"\s*(\d+)", value)
    return int(m.group(1)) if m else None


def _version_or_none(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    v = value.strip()
    return v if _VERSION_RE.match(v) else None


def parse_query_csv(text: str, fields: Sequence[str]) -> list[dict[str, Optional[str]]]:
    """Rows of `nvidia-smi --query-gpu=<fields> --format=csv[,noheader][,nounits]` output.

    Values nvidia-smi marks as absent ("[N/A]", "[Not Supported]", "N/A", blank) become None.
    A header row (with or without units) is skipped. Raises InvalidQueryField when the driver
    rejects a field, NvidiaParseError when a row does not have one value per field (nvidia-smi
    does not quote, so a comma inside a value also lands here: garbage, never a guess).
    """
    names = tuple(fields)
    rows: list[dict[str, Optional[str]]] = []
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("WARNING:")]
    for i, line in enumerate(lines):
        invalid = _INVALID_FIELD_RE.search(line)
        if invalid:
            raise InvalidQueryField(invalid.group(1))
        cells = [c.strip() for c in line.split(",")]
        if i == 0 and names and re.sub(r"\s*\[.*\]$", "", cells[0]) == names[0]:
            continue  # header row
        if len(cells) != len(names):
            raise NvidiaParseError(
                f"expected {len(names)} comma-separated values, got {len(cells)}: {line[:120]!r}"
            )
        rows.append({name: _na(cell) for name, cell in zip(names, cells)})
    return rows


def gpus_from_query(rows: Iterable[dict[str, Optional[str]]]) -> list[GPU]:
    """GPU records from parse_query_csv rows (QUERY_FIELDS, some possibly absent)."""
    gpus: list[GPU] = []
    for row in rows:
        index = row.get("index")
        if index is None or not index.isdigit():
            raise NvidiaParseError(f"GPU index {index!r} is not a number")
        cc = row.get("compute_cap")
        mig = row.get("mig.mode.current")
        gpus.append(
            GPU(
                vendor="nvidia",
                index=int(index),
                name=row.get("name"),
                memory_total_mib=_int_prefix(row.get("memory.total")),
                compute_capability=cc if cc and _CC_RE.match(cc) else None,
                compute_capability_source="reported" if cc and _CC_RE.match(cc) else None,
                uuid=row.get("uuid"),
                bus_id=row.get("pci.bus_id"),
                mig_mode=mig if mig in ("Enabled", "Disabled") else None,
            )
        )
    return gpus


@dataclass(frozen=True)
class SmiTable:
    """What the default `nvidia-smi` table says."""

    smi_version: Optional[str]
    driver_version: Optional[str]  # "Driver Version:" (R610+: "KMD Version:"); WSL2: Windows'
    cuda_version: Optional[str]  # "CUDA Version:" (R610+: "CUDA UMD Version:"); None for N/A
    gpus: list[GPU] = field(default_factory=list)


_SMI_RE = re.compile(r"NVIDIA-SMI\s+([^\s|]+)")
_DRIVER_RE = re.compile(r"(?:Driver|KMD)\s+Version:\s*([^\s|]+)")
_CUDA_RE = re.compile(r"CUDA(?:\s+UMD)?\s+Version:\s*([^\s|]+)")
_GPU_ROW_RE = re.compile(
    r"^\|\s*(\d+)\s+(.*?)\s+(\S+)\s*\|\s*"
    r"([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])\b"
)
_MEMORY_RE = re.compile(r"(\d+)\s*MiB\s*/\s*(\d+)\s*MiB")


def parse_smi_table(text: str) -> SmiTable:
    """Parse the default `nvidia-smi` output of any era (pre-R450 to R610+, Windows, WSL2, MIG).

    GPU names are kept as shown, including nvidia-smi's truncation ("GeForce RTX 208...").
    Raises NvidiaParseError when there is neither a header nor a GPU row.
    """
    smi = _SMI_RE.search(text)
    driver = _DRIVER_RE.search(text)
    cuda = _CUDA_RE.search(text)
    lines = text.splitlines()
    gpus: list[GPU] = []
    for i, line in enumerate(lines):
        m = _GPU_ROW_RE.match(line.strip())
        if m is None:
            continue
        memory: Optional[int] = None
        mig: Optional[str] = None
        block = []
        for follow in lines[i + 1 : i + 4]:
            if not follow.strip().startswith("|") or _GPU_ROW_RE.match(follow.strip()):
                break
            block.append(follow)
        if block:
            mem = _MEMORY_RE.search(block[0])
            memory = int(mem.group(2)) if mem else None
        if len(block) >= 2:
            last_cell = [c.strip() for c in block[1].strip().strip("|").split("|")][-1]
            mig = last_cell if last_cell in ("Enabled", "Disabled") else None
        gpus.append(
            GPU(
                vendor="nvidia",
                index=int(m.group(1)),
                name=m.group(2).strip() or None,
                memory_total_mib=memory,
                bus_id=m.group(4),
                mig_mode=mig,
            )
        )
    if smi is None and driver is None and not gpus:
        raise NvidiaParseError("no NVIDIA-SMI header and no GPU row")
    return SmiTable(
        smi_version=_version_or_none(smi.group(1)) if smi else None,
        driver_version=_version_or_none(driver.group(1)) if driver else None,
        cuda_version=_version_or_none(cuda.group(1)) if cuda else None,
        gpus=gpus,
    )


def parse_smi_version(text: str) -> dict[str, Optional[str]]:
    """`nvidia-smi --version` (R525+): keys smi, nvml, driver, cuda; R610+ "KMD"/"CUDA UMD"."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip().lower()] = value.strip()
    return {
        "smi": _version_or_none(values.get("nvidia-smi version")),
        "nvml": _version_or_none(values.get("nvml version")),
        "driver": _version_or_none(values.get("kmd version"))
        or _version_or_none(values.get("driver version")),
        "cuda": _version_or_none(values.get("cuda umd version"))
        or _version_or_none(values.get("cuda version")),
    }


_LIST_RE = re.compile(r"^GPU\s+(\d+):\s+(.*?)\s+\(UUID:\s*([^)\s]+)\)")


def parse_smi_list(text: str) -> list[GPU]:
    """`nvidia-smi -L`: one GPU per `GPU n: <name> (UUID: …)` line; MIG child lines are skipped."""
    gpus = []
    for line in text.splitlines():
        m = _LIST_RE.match(line.strip()) if not line.startswith((" ", "\t")) else None
        if m:
            index, name, uuid = int(m.group(1)), m.group(2), m.group(3)
            gpus.append(GPU(vendor="nvidia", index=index, name=name, uuid=uuid))
    return gpus


_PROC_RE = re.compile(r"^NVRM version:.*?\s(\d+\.\d+(?:\.\d+)*)(?=\s|$)", re.MULTILINE)


def parse_proc_version(text: str) -> Optional[str]:
    """Kernel module version from /proc/driver/nvidia/version (proprietary, open, Jetson L4T)."""
    m = _PROC_RE.search(text)
    return m.group(1) if m else None


def parse_sys_module_version(text: str) -> Optional[str]:
    """/sys/module/nvidia/version holds nothing but the version."""
    return _version_or_none(text)


_MISMATCH_RE = re.compile(r"Driver/library version mismatch", re.IGNORECASE)
_NVML_VERSION_RE = re.compile(r"NVML library version:\s*([0-9][0-9.]*[0-9])", re.IGNORECASE)
_UNREACHABLE_RE = re.compile(
    r"couldn't communicate with the NVIDIA driver|Failed to initialize NVML: Driver Not Loaded",
    re.IGNORECASE,
)
_NO_DEVICES_RE = re.compile(r"^\s*No devices were found", re.IGNORECASE | re.MULTILINE)


def recognize_smi_error(text: str) -> Optional[tuple[str, Optional[str]]]:
    """(problem code, NVML library version if stated) for nvidia-smi's driver-level failures."""
    if _MISMATCH_RE.search(text):
        m = _NVML_VERSION_RE.search(text)
        return DRIVER_LIBRARY_MISMATCH, m.group(1) if m else None
    if _UNREACHABLE_RE.search(text):
        return DRIVER_UNREACHABLE, None
    if _NO_DEVICES_RE.search(text):
        return NO_DEVICES, None
    return None


def _smi_error_problem(code: str, nvml: Optional[str], kmod: Optional[str]) -> Problem:
    if code == DRIVER_LIBRARY_MISMATCH:
        message = (
            "NVIDIA driver/library version mismatch: the user-space NVML library is "
            f"{nvml or 'a different version'} but the loaded kernel module is "
            f"{kmod or 'another version'} (the driver was updated without reloading the module)"
        )
    elif code == DRIVER_UNREACHABLE:
        message = (
            "nvidia-smi could not talk to the NVIDIA driver: the kernel module is not loaded "
            "(not installed, not built for this kernel, or blocked by Secure Boot; WSL1 has no GPU)"
        )
    else:
        message = "the NVIDIA driver is loaded but found no GPU (nvidia-smi: No devices were found)"
    return Problem(code, message, SOURCE)


# --------------------------------------------------------------------------------------------
# NVML through ctypes: optional, guarded, and bounded in time


@dataclass(frozen=True)
class NvmlReport:
    driver_version: Optional[str]
    cuda_version: Optional[str]
    gpus: list[GPU]


@functools.cache
def _nvml_types() -> tuple[type, type]:
    """The ctypes layouts of nvmlMemory_t and nvmlPciInfo_t (v2/v3), built on first use so a
    machine without NVIDIA never pays for importing ctypes."""
    import ctypes

    class NvmlMemory(ctypes.Structure):
        _fields_ = [("total", ctypes.c_ulonglong), ("free", ctypes.c_ulonglong), ("used", ctypes.c_ulonglong)]

    class NvmlPciInfo(ctypes.Structure):
        _fields_ = [
            ("busIdLegacy", ctypes.c_char * 16),
            ("domain", ctypes.c_uint),
            ("bus", ctypes.c_uint),
            ("device", ctypes.c_uint),
            ("pciDeviceId", ctypes.c_uint),
            ("pciSubSystemId", ctypes.c_uint),
            ("busId", ctypes.c_char * 32),
        ]

    return NvmlMemory, NvmlPciInfo


def __getattr__(name: str) -> Any:
    if name == "_NvmlMemory":
        return _nvml_types()[0]
    if name == "_NvmlPciInfo":
        return _nvml_types()[1]
    raise AttributeError(name)


def _nvml_fn(lib: Any, *names: str) -> Optional[Callable[..., int]]:
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            return fn  # type: ignore[no-any-return]
    return None


def _nvml_text(fn: Optional[Callable[..., int]], *args: Any, size: int = 96) -> Optional[str]:
    import ctypes

    if fn is None:
        return None
    buf = ctypes.create_string_buffer(size)
    if fn(*args, buf, ctypes.c_uint(size)) != 0:
        return None
    return buf.value.decode("utf-8", errors="replace").strip() or None


def _nvml_cuda_version(lib: Any) -> Optional[str]:
    import ctypes

    fn = _nvml_fn(lib, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion")
    value = ctypes.c_int(0)
    if fn is None or fn(ctypes.pointer(value)) != 0 or value.value <= 0:
        return None
    return f"{value.value // 1000}.{(value.value % 1000) // 10}"


def _nvml_gpu(lib: Any, index: int) -> Optional[GPU]:
    import ctypes

    handle = ctypes.c_void_p()
    get_handle = _nvml_fn(lib, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex")
    if get_handle is None or get_handle(ctypes.c_uint(index), ctypes.pointer(handle)) != 0:
        return None
    name = _nvml_text(_nvml_fn(lib, "nvmlDeviceGetName"), handle)
    uuid = _nvml_text(_nvml_fn(lib, "nvmlDeviceGetUUID"), handle)

    memory: Optional[int] = None
    mem = _nvml_types()[0]()
    get_memory = _nvml_fn(lib, "nvmlDeviceGetMemoryInfo")
    if get_memory is not None and get_memory(handle, ctypes.pointer(mem)) == 0:
        memory = int(mem.total) // (1024 * 1024)

    bus_id: Optional[str] = None
    pci = _nvml_types()[1]()
    get_pci = _nvml_fn(lib, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2")
    if get_pci is not None and get_pci(handle, ctypes.pointer(pci)) == 0:
        bus_id = pci.busId.decode("ascii", errors="replace") or None

    cc: Optional[str] = None
    major, minor = ctypes.c_int(0), ctypes.c_int(0)
    get_cc = _nvml_fn(lib, "nvmlDeviceGetCudaComputeCapability")
    if get_cc is not None and get_cc(handle, ctypes.pointer(major), ctypes.pointer(minor)) == 0:
        cc = f"{major.value}.{minor.value}" if major.value > 0 else None

    mig: Optional[str] = None
    current, pending = ctypes.c_uint(0), ctypes.c_uint(0)
    get_mig = _nvml_fn(lib, "nvmlDeviceGetMigMode")
    mig_args = (handle, ctypes.pointer(current), ctypes.pointer(pending))
    if get_mig is not None and get_mig(*mig_args) == 0:
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


def read_nvml(lib: Any) -> Optional[NvmlReport]:
    """Driver, CUDA version and GPUs from a loaded NVML library (or a stand-in); None on failure."""
    import ctypes

    init = _nvml_fn(lib, "nvmlInit_v2", "nvmlInit")
    if init is None or init() != 0:
        return None
    try:
        driver = _version_or_none(_nvml_text(_nvml_fn(lib, "nvmlSystemGetDriverVersion"), size=80))
        count = ctypes.c_uint(0)
        get_count = _nvml_fn(lib, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount")
        if get_count is None or get_count(ctypes.pointer(count)) != 0:
            return None
        gpus = [g for g in (_nvml_gpu(lib, i) for i in range(count.value)) if g is not None]
        return NvmlReport(driver, _nvml_cuda_version(lib), gpus)
    finally:
        shutdown = _nvml_fn(lib, "nvmlShutdown")
        if shutdown is not None:
            shutdown()


def _nvml_library_paths() -> list[str]:
    if sys.platform == "win32":
        system_root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        program_files = os.environ.get("PROGRAMFILES", r"C:\Program Files")
        return [
            str(Path(system_root) / "System32" / "nvml.dll"),
            str(Path(program_files) / "NVIDIA Corporation" / "NVSMI" / "nvml.dll"),
        ]
    return [
        f"{d}/libnvidia-ml.so.1"
        for d in (
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/usr/lib64/nvidia",
            "/usr/local/nvidia/lib64",
            "/usr/lib/wsl/lib",
        )
    ]


def find_nvml() -> Optional[str]:
    """Path (or loader name) of the NVML library, or None; only looks, never loads."""
    import ctypes.util

    for candidate in _nvml_library_paths():
        if Path(candidate).is_file():
            return candidate
    try:
        return ctypes.util.find_library("nvidia-ml")
    except Exception:  # find_library shells out; any failure means "not found"
        return None


T = TypeVar("T")


def _bounded(fn: Callable[[], Optional[T]], timeout: float) -> Optional[T]:
    """fn() in a daemon thread: its result, or None if it raised or did not finish in time."""
    box: list[Optional[T]] = []

    def target() -> None:
        try:
            box.append(fn())
        except Exception:  # NVML is best-effort; the tools below are the fallback
            box.append(None)

    thread = threading.Thread(target=target, name="fwsetup-nvml", daemon=True)
    thread.start()
    thread.join(timeout)
    return box[0] if box else None


def _nvml_probe(env: ProbeEnv) -> Optional[NvmlReport]:
    if env.environ.get(NO_NVML_ENV) or env.root != Path("/"):
        return None  # switched off, or probing a recorded machine rather than this one
    path = find_nvml()
    if path is None:
        return None
    return _bounded(lambda: read_nvml(_load_nvml(path)), env.timeout)


def _load_nvml(path: str) -> Any:
    import ctypes

    return ctypes.CDLL(path)


# --------------------------------------------------------------------------------------------
# nvidia-smi


def find_nvidia_smi(env: ProbeEnv) -> Optional[str]:
    """nvidia-smi on PATH, else WSL2's /usr/lib/wsl/lib/nvidia-smi (often not on PATH)."""
    found = env.which("nvidia-smi")
    if found:
        return found
    wsl = env.path(WSL_NVIDIA_SMI)
    try:
        if wsl.is_file() and os.access(wsl, os.X_OK):
            return str(wsl)
    except OSError:
        return None
    return None


@dataclass
class _SmiOutcome:
    gpus: list[GPU] = field(default_factory=list)
    driver_version: Optional[str] = None
    cuda_version: Optional[str] = None
    source: Optional[str] = None


class _Smi:
    """Runs nvidia-smi at most a few times and turns every failure into one problem."""

    def __init__(self, env: ProbeEnv, exe: str, out: Probed, kmod: Optional[str]) -> None:
        self.env, self.exe, self.out, self.kmod = env, exe, out, kmod
        self.dead = False  # timed out or the driver is unreachable: don't ask again

    def _failed(self, result: ProcResult) -> bool:
        """Record a failed run; True when it failed."""
        if result.error is not None:
            self.out.problems.append(run_problem(result, SOURCE))
            self.dead = True
            return True
        known = recognize_smi_error(result.output)
        if known is not None:
            code, nvml = known
            self.out.problems.append(_smi_error_problem(code, nvml, self.kmod))
            self.dead = True
            return True
        return False

    def query(self) -> Optional[tuple[list[GPU], Optional[str]]]:
        """GPUs and driver version from `--query-gpu`, retrying without fields old drivers lack."""
        fields = list(QUERY_FIELDS)
        for _ in range(len(OPTIONAL_QUERY_FIELDS) + 1):
            argv = [self.exe, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"]
            result = self.env.run(argv)
            if self._failed(result):
                return None
            try:
                invalid = _INVALID_FIELD_RE.search(result.output)
                if invalid:  # said on stdout or stderr, depending on the driver
                    raise InvalidQueryField(invalid.group(1))
                rows = parse_query_csv(result.stdout, fields)
            except InvalidQueryField as exc:
                if exc.field in OPTIONAL_QUERY_FIELDS and exc.field in fields:
                    fields.remove(exc.field)
                    continue
                self._unparseable("nvidia-smi --query-gpu", str(exc))
                return None
            except NvidiaParseError as exc:
                self._not_ok_or_unparseable(result, "nvidia-smi --query-gpu", str(exc))
                return None
            if not result.ok:
                self.out.problems.append(run_problem(result, SOURCE))
                return None
            try:
                if not rows:
                    raise NvidiaParseError("it printed no GPU")
                gpus = gpus_from_query(rows)
            except NvidiaParseError as exc:
                self._unparseable("nvidia-smi --query-gpu", str(exc))
                return None
            versions = (_version_or_none(row.get("driver_version")) for row in rows)
            return gpus, next((v for v in versions if v), None)
        return None

    def table(self) -> Optional[SmiTable]:
        result = self.env.run([self.exe])
        if self._failed(result):
            return None
        try:
            table = parse_smi_table(result.stdout)
        except NvidiaParseError as exc:
            self._not_ok_or_unparseable(result, "nvidia-smi", str(exc))
            return None
        if not result.ok:  # partial output (e.g. one GPU lost): use it, but say so
            self.out.problems.append(run_problem(result, SOURCE))
        return table

    def _not_ok_or_unparseable(self, result: ProcResult, what: str, why: str) -> None:
        if result.ok:
            self._unparseable(what, why)
        else:
            self.out.problems.append(run_problem(result, SOURCE))

    def _unparseable(self, what: str, why: str) -> None:
        message = f"{what} printed something fwsetup cannot read: {why}"
        self.out.problem(UNPARSEABLE, message, SOURCE)


# --------------------------------------------------------------------------------------------
# The probe


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    try:
        _probe(env, out)
    except Exception as exc:  # a bug here must cost only this section of the report
        out.gpus.clear()
        out.fields["nvidia"] = None
        out.problem("probe-crashed", f"{type(exc).__name__}: {exc}", SOURCE)
    out.fields.setdefault("nvidia", None)
    return out


def _probe(env: ProbeEnv, out: Probed) -> None:
    proc_text = env.read_text(PROC_VERSION)
    sys_text = env.read_text(SYS_MODULE_VERSION)
    exe = find_nvidia_smi(env)
    if exe is None and proc_text is None and sys_text is None:
        out.fields["nvidia"] = None  # no NVIDIA driver: normal, nothing to report
        return
    kmod = (parse_proc_version(proc_text) if proc_text else None) or (
        parse_sys_module_version(sys_text) if sys_text else None
    )
    windows_driver = sys.platform == "win32" or (
        exe is not None and "/usr/lib/wsl/" in exe.replace("\\", "/")
    )

    nvml = _nvml_probe(env)
    if nvml is not None and nvml.driver_version is not None:
        _finish(out, nvml.gpus, nvml.driver_version, nvml.cuda_version, "nvml", windows_driver)
        return

    found = _SmiOutcome()
    if exe is not None:
        smi = _Smi(env, exe, out, kmod)
        queried = smi.query()
        table = None if smi.dead else smi.table()
        if queried is not None:
            found.gpus, found.driver_version = queried
            found.source = "nvidia-smi-query"
        elif table is not None and (table.gpus or table.driver_version):
            found.gpus, found.source = table.gpus, "nvidia-smi"
        if table is not None:
            found.driver_version = found.driver_version or table.driver_version
            found.cuda_version = table.cuda_version
    else:
        version = kmod or "of unknown version"
        out.problem(
            "tool-missing",
            f"nvidia-smi not found on PATH or in {Path(WSL_NVIDIA_SMI).parent}; the NVIDIA kernel "
            f"module {version} is loaded, but which GPUs it drives is unknown",
            SOURCE,
        )

    if found.driver_version is None and kmod is not None:
        found.source = "procfs" if proc_text and parse_proc_version(proc_text) else "sysfs"
        found.driver_version = kmod
    elif found.driver_version is None and found.source is None and proc_text is not None:
        out.problem(UNPARSEABLE, f"{PROC_VERSION} holds no driver version we can read", SOURCE)
    if found.source is None:
        out.fields["nvidia"] = None
        return
    _finish(out, found.gpus, found.driver_version, found.cuda_version, found.source, windows_driver)


def _finish(
    out: Probed,
    gpus: list[GPU],
    driver_version: Optional[str],
    cuda_version: Optional[str],
    source: str,
    windows_driver: bool,
) -> None:
    cuda_source = "reported" if cuda_version else None
    if cuda_version is None and driver_version is not None:
        cuda_version = max_cuda_for_driver(driver_version, system="windows" if windows_driver else "linux")
        cuda_source = "table" if cuda_version else None
    out.fields["nvidia"] = NvidiaDriver(
        driver_version=driver_version,
        cuda_driver_version=cuda_version,
        source=source,
        cuda_driver_version_source=cuda_source,
    )
    for gpu in gpus:
        if gpu.compute_capability is None:
            cc = compute_capability_for_name(gpu.name)
            if cc is not None:
                gpu = replace(gpu, compute_capability=cc, compute_capability_source="table")
        out.gpus.append(gpu)


def from_table_output(text: str, windows_driver: bool = False) -> tuple[Optional[NvidiaDriver], list[GPU]]:
    """Driver and GPUs from a saved default `nvidia-smi` table, finished exactly as the probe
    finishes them (CUDA from the driver table when not reported, CC from the name table).
    Used to turn recorded machines into reports for planning (`--system`) and tests."""
    table = parse_smi_table(text)
    out = Probed()
    _finish(out, table.gpus, table.driver_version, table.cuda_version, "nvidia-smi", windows_driver)
    driver: Optional[NvidiaDriver] = out.fields.get("nvidia")
    return driver, out.gpus
