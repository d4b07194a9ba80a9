"""CPU, memory and disk: old TensorFlow wheels need AVX, installs need gigabytes."""

from __future__ import annotations

import os

from fwsetup.probe import host
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import Resources

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

# The instruction-set extensions that decide whether prebuilt wheels run. `atomics` is aarch64's
# Armv8.1 LSE (absent on Cortex-A53/A57/A72 class CPUs; facts/floors.toml lists builds needing it).
INTERESTING_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile", "neon", "asimd", "atomics",
)  # fmt: skip


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    cpuinfo = env.read_text("/proc/cpuinfo")  # read once: hundreds of KB on many-core machines
    model, flags = cpu_model_and_flags(env, cpuinfo)
    logical = physical = mem_total = mem_avail = None
    meminfo = env.read_text("/proc/meminfo")
    if meminfo is not None:  # Linux: two file reads, no psutil import (doctor's budget is tight)
        mem_total, mem_avail = parse_meminfo(meminfo)
        logical = os.cpu_count()
        physical = physical_cores(cpuinfo or "")
    elif host.system() == "Linux":  # no /proc here (or a recorded root without it): unknown
        logical = os.cpu_count()
    else:  # macOS, Windows, BSD: no /proc, so psutil, the one place fwsetup uses it
        try:
            import psutil

            logical = psutil.cpu_count(logical=True)
            physical = psutil.cpu_count(logical=False)
            vm = psutil.virtual_memory()
            mem_total, mem_avail = vm.total // 2**20, vm.available // 2**20
        except Exception as exc:  # psutil missing a platform backend, …
            out.problem("resources-unreadable", f"cannot read CPU/memory: {exc}", "resources")
            logical = os.cpu_count()
    disk_path, disk_free = free_disk(env.disk_path or default_env_root())
    out.fields["resources"] = Resources(
        cpu_model=model,
        cpu_cores_logical=logical,
        cpu_cores_physical=physical,
        cpu_flags=flags,
        memory_total_mib=mem_total,
        memory_available_mib=mem_avail,
        disk_path=disk_path,
        disk_free_mib=disk_free,
    )
    return out


def parse_meminfo(text: str) -> tuple[Optional[int], Optional[int]]:
    """(MemTotal, MemAvailable) in MiB from /proc/meminfo (values are kB)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0])
    total = values.get("MemTotal")
    avail = values.get("MemAvailable", values.get("MemFree"))
    return (total // 1024 if total else None, avail // 1024 if avail is not None else None)


def physical_cores(cpuinfo: str) -> Optional[int]:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo; None where not listed (ARM, VMs)."""
    cores: set[tuple[str, str]] = set()
    physical = core = None
    for line in [*cpuinfo.splitlines(), ""]:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            core = value.strip()
        elif not line.strip():
            if core is not None:
                cores.add((physical or "0", core))
            physical = core = None
    return len(cores) or None


def cpu_model_and_flags(env: ProbeEnv, text: Optional[str]) -> tuple[Optional[str], list[str]]:
    """From /proc/cpuinfo's `text`; elsewhere the model only. Not `platform.processor()`: it runs
    `uname -p` or `sysctl` itself, without a timeout."""
    if text is not None:
        return parse_cpuinfo(text)
    system = host.system()
    if system == "Windows":
        return env.environ.get("PROCESSOR_IDENTIFIER") or None, []
    if system == "Darwin":
        result = env.run(["sysctl", "-n", "machdep.cpu.brand_string"])
        return (result.stdout.strip() or None) if result.ok else None, []
    return None, []


def parse_cpuinfo(text: str) -> tuple[Optional[str], list[str]]:
    model: Optional[str] = None
    flags: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if model is None and key in ("model name", "hardware", "cpu model"):
            model = value.strip() or None
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model, [f for f in INTERESTING_FLAGS if f in flags]


def default_env_root() -> str:
    """Where fwsetup puts environments by default (see README: Environments)."""
    from fwsetup.paths import env_root_dir

    return env_root_dir()


def free_disk(path: str) -> tuple[Optional[str], Optional[int]]:
    """Free MiB on the filesystem that holds path (or its nearest existing parent)."""
    p = os.path.abspath(path)
    while p and not os.path.exists(p):
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    try:
        if hasattr(os, "statvfs"):  # what shutil.disk_usage does on POSIX, without importing shutil
            st = os.statvfs(p)
            return p, st.f_bavail * st.f_frsize // 2**20
        import shutil

        return p, shutil.disk_usage(p).free // 2**20
    except OSError:
        return p, None
