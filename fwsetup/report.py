"""SystemReport: what the probes found, as plain frozen data with a versioned JSON form.

The JSON form is a contract: `doctor --json` writes it and `install --system` reads it
back to plan for another machine. Unknown facts are None (null), never guessed.
Versions are strings, memory is MiB as an int.
"""

from __future__ import annotations

import json

from fwsetup import records
from fwsetup.errors import ReportFileError
from fwsetup.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Optional, TypeVar, Union

    T = TypeVar("T")

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class OSInfo:
    """The operating system: which wheels and system packages can run here."""

    system: str  # platform.system(): Linux, Darwin, Windows
    distro_id: Optional[str] = None
    distro_version: Optional[str] = None
    distro_codename: Optional[str] = None
    distro_like: list[str] = field(default_factory=list)
    arch: Optional[str] = None
    kernel: Optional[str] = None
    libc: Optional[Libc] = None
    wsl: Optional[int] = None  # 1 or 2 inside WSL, None elsewhere
    container: Optional[str] = None  # docker, podman, kubernetes, lxc, container
    cloud: Optional[str] = None  # DMI vendor of a cloud VM


@dataclass(frozen=True)
class Libc:
    """The C library manylinux/musllinux wheels are built against."""

    name: str  # glibc, musl
    version: Optional[str] = None


@dataclass(frozen=True)
class PythonInfo:
    """The interpreter running fwsetup, and whether it may be installed into (PEP 668)."""

    version: str
    implementation: str
    executable: str
    externally_managed: bool = False
    in_venv: bool = False
    conda: Optional[str] = None  # the conda prefix when running in one
    pip_version: Optional[str] = None
    uv_version: Optional[str] = None


@dataclass(frozen=True)
class Interpreter:
    """Another Python found on the machine, for frameworks that need an older one."""

    version: str  # "3.7.16" where known, else "3.7"
    executable: str
    source: str  # pyenv, system, uv, current, conda

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class NvidiaDriver:
    """The NVIDIA driver: its version and the newest CUDA it runs."""

    driver_version: Optional[str]
    cuda_driver_version: Optional[str]  # the highest CUDA the driver supports ("13.0")
    source: str  # nvml, nvidia-smi-query, nvidia-smi, procfs, sysfs
    cuda_driver_version_source: Optional[str] = None  # reported | table


@dataclass(frozen=True)
class GPU:
    """One GPU as its driver (or the name table) describes it."""

    vendor: str  # nvidia, amd, apple, intel
    index: int
    name: Optional[str]
    memory_total_mib: Optional[int] = None
    compute_capability: Optional[str] = None  # "8.6" (NVIDIA), a gfx target ("gfx1100", AMD), an Intel arch ("xe-hpg")
    compute_capability_source: Optional[str] = None  # reported | table
    uuid: Optional[str] = None
    bus_id: Optional[str] = None
    mig_mode: Optional[str] = None  # Enabled, Disabled, None where unsupported


@dataclass(frozen=True)
class JetsonInfo:
    """An NVIDIA Jetson: its module, and the L4T release that fixes its CUDA (there is no driver
    to upgrade on a Jetson; a JetPack upgrade is the only way to a newer CUDA)."""

    model: Optional[str]  # /proc/device-tree/model ("NVIDIA Jetson AGX Orin Developer Kit")
    soc: Optional[str]  # Orin, Xavier, TX2, Nano/TX1, Thor (from /proc/device-tree/compatible)
    compute_capability: Optional[str]  # of its integrated GPU, from the SoC table
    l4t: Optional[str]  # the L4T (Jetson Linux) release, "35.3.1"
    jetpack: Optional[str] = None  # from the table: "5.1.1"
    cuda: Optional[str] = None  # the CUDA that JetPack ships
    cudnn: Optional[str] = None
    python: Optional[str] = None  # JetPack's Python, the one NVIDIA's wheels are built for
    source: str = "nv_tegra_release"  # nv_tegra_release | procfs | device-tree


@dataclass(frozen=True)
class PciDevice:
    """A display controller on the PCI bus: seen even when no driver is loaded."""

    vendor: str  # nvidia, amd, intel, or the hex vendor id
    vendor_id: str
    device_id: str
    bus_id: str


@dataclass(frozen=True)
class CudaToolkit:
    """An installed CUDA toolkit (nvcc and its libraries), which source builds use."""

    version: Optional[str]
    path: str
    source: str = "path"  # nvcc-on-path, cuda-home, usr-local
    cudnn_version: Optional[str] = None
    nccl_version: Optional[str] = None


@dataclass(frozen=True)
class RocmInfo:
    """The AMD ROCm stack and the gfx targets of its GPUs."""

    version: Optional[str]  # the ROCm user space installed (/opt/rocm); a wheel brings its own
    source: str
    gfx_targets: list[str] = field(default_factory=list)
    driver_version: Optional[str] = None  # the amdgpu-dkms module ("6.7.0"); None for the kernel's own
    driver_source: Optional[str] = None  # sysfs-module | rocminfo | amd-smi | inbox (the kernel's amdgpu)
    wsl: bool = False  # /dev/dxg: ROCm reaches the GPU through WSL's DirectX bridge
    integrated: list[int] = field(default_factory=list)  # indices of AMD GPUs that are APUs


@dataclass(frozen=True)
class IntelInfo:
    """The Intel GPU driver stack PyTorch's XPU builds run on (probe/intel.py): the kernel driver
    bound to each Intel display device, the Level Zero loader and Intel's GPU compute runtime."""

    kernel_drivers: dict[str, Optional[str]] = field(default_factory=dict)  # PCI bus id -> i915 | xe | None
    level_zero: Optional[str] = None  # path of libze_loader.so.1, None when absent
    compute_runtime: Optional[str] = None  # path of libze_intel_gpu.so.1 (Level Zero GPU driver)
    source: str = "sysfs"


@dataclass(frozen=True)
class Resources:
    """CPU, memory and disk: what decides whether a wheel runs and an install fits."""

    cpu_model: Optional[str] = None
    cpu_cores_logical: Optional[int] = None
    cpu_cores_physical: Optional[int] = None
    cpu_flags: list[str] = field(default_factory=list)  # the ones that matter: avx, avx2, avx512f, …
    memory_total_mib: Optional[int] = None
    memory_available_mib: Optional[int] = None
    disk_path: Optional[str] = None
    disk_free_mib: Optional[int] = None


@dataclass(frozen=True)
class Framework:
    """An ML framework already installed for the running interpreter."""

    name: str
    version: str
    cuda: Optional[str] = None  # CUDA version the build targets ("12.8"), None for CPU/unknown
    variant: Optional[str] = None  # cu128, cpu, rocm6.4 — None where it cannot be told
    location: Optional[str] = None
    origin: Optional[str] = None  # why `location` is on the path: site-packages, PYTHONPATH, .pth, sys.path


@dataclass(frozen=True)
class FrameworksSource:
    """Which interpreter's frameworks the report lists, and why that one (doctor says so)."""

    python: str  # the interpreter (or environment prefix) read
    source: str  # --python | VIRTUAL_ENV | CONDA_PREFIX | PATH | fwsetup
    python_version: Optional[str] = None


@dataclass(frozen=True)
class Problem:
    """A probe that could not do its job: why, so the report can say what it does not know."""

    code: str
    message: str
    source: str


@dataclass(frozen=True)
class Finding:
    """A diagnosis of the machine: what is wrong for ML work and how to fix it."""

    code: str
    level: str  # error, warning, info
    message: str
    fix: Optional[str] = None


@dataclass(frozen=True)
class SystemReport:
    """Everything the probes found; `doctor --json` writes it, `--system` reads it back."""

    os: OSInfo
    python: PythonInfo
    interpreters: list[Interpreter] = field(default_factory=list)
    nvidia: Optional[NvidiaDriver] = None
    jetson: Optional[JetsonInfo] = None
    gpus: list[GPU] = field(default_factory=list)
    pci_display_devices: list[PciDevice] = field(default_factory=list)
    cuda_toolkits: list[CudaToolkit] = field(default_factory=list)
    rocm: Optional[RocmInfo] = None
    intel: Optional[IntelInfo] = None
    resources: Resources = field(default_factory=Resources)
    frameworks: list[Framework] = field(default_factory=list)
    frameworks_from: Optional[FrameworksSource] = None
    tools: dict[str, Optional[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    fwsetup_version: Optional[str] = None
    probe_seconds: Optional[float] = None
    data_checked: dict[str, Optional[str]] = field(default_factory=dict)  # fwsetup's tables: checked on

    def nvidia_gpus(self) -> list[GPU]:
        return [g for g in self.gpus if g.vendor == "nvidia"]

    def platform_key(self) -> str:
        """The platform the facts tables name: 'linux-x86_64', 'linux-aarch64', 'macos-arm64',
        'macos-x86_64', 'windows-amd64', 'windows-arm64'."""
        system = self.os.system.lower()
        arch = (self.os.arch or "").lower()
        if system == "darwin":
            return "macos-arm64" if arch in ("arm64", "aarch64") else "macos-x86_64"
        if system == "windows":
            return "windows-arm64" if arch in ("arm64", "aarch64") else "windows-amd64"
        if arch in ("amd64", "x86_64"):
            arch = "x86_64"
        elif arch in ("arm64", "aarch64"):
            arch = "aarch64"
        return f"{system}-{arch}"

    def to_dict(self) -> dict[str, Any]:
        data = records.asdict(self)
        ordered: dict[str, Any] = {"schema_version": data.pop("schema_version")}
        ordered.update(data)
        return ordered

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Any) -> SystemReport:
        if not isinstance(data, dict):
            raise ReportFileError(
                "a system report must be a JSON object",
                "write one with `fwsetup doctor --json > report.json`",
            )
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ReportFileError(
                f"system report has schema_version {version!r}; this fwsetup reads {SCHEMA_VERSION}",
                "regenerate it with this fwsetup: `fwsetup doctor --json > report.json`",
            )
        from fwsetup.decode import DecodeError, decode  # reading a report back: not doctor's path

        try:
            return decode(cls, data, "report", strict=False)
        except DecodeError as exc:
            raise _bad(exc.where, "missing" if exc.missing else exc.problem) from None

    @classmethod
    def from_file(cls, path: Union[str, Path]) -> SystemReport:
        """A saved report, read with limits: at most MAX_REPORT_BYTES (so `/dev/zero` is refused,
        not read until memory runs out) and MAX_NESTING levels; anything else is exit 2."""
        from pathlib import Path

        p = Path(path)
        fix = "pass a file written by `fwsetup doctor --json > report.json`"
        try:
            with p.open("rb") as fh:
                raw = fh.read(MAX_REPORT_BYTES + 1)
            if len(raw) > MAX_REPORT_BYTES:
                raise ReportFileError(
                    f"system report {p} is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB", fix
                )
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ReportFileError(f"cannot read system report {p}: {exc}", fix) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReportFileError(
                f"system report {p} is not valid JSON ({exc.msg} at line {exc.lineno})", fix
            ) from None
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number; nesting past the stack
            what = "is nested too deeply" if isinstance(exc, RecursionError) else f"has a value fwsetup refuses ({exc})"
            raise ReportFileError(f"system report {p} {what}", fix) from None
        if nesting(data) > MAX_NESTING:
            raise ReportFileError(f"system report {p} is nested deeper than {MAX_NESTING} levels", fix)
        return cls.from_dict(data)


MAX_REPORT_BYTES = 10 * 1024 * 1024
MAX_NESTING = 64


def nesting(data: Any) -> int:
    """How deeply JSON-like data nests (a scalar: 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                return depth
            stack.extend((v, depth) for v in value if isinstance(v, (dict, list)))
    return deepest


def _bad(path: str, problem: str) -> ReportFileError:
    return ReportFileError(
        f"system report does not fit the doctor schema at {path}: {problem}",
        "regenerate it with `fwsetup doctor --json > report.json`",
    )
