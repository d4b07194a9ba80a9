"""NVIDIA driver and GPUs: what is installed, what it reports, and what went wrong.

Sources, best first: NVML through ctypes (`nvml`: no tool, exact numbers, and nvmlInit's
return code as the reason when the driver is broken), nvidia-smi (`smi`: `--query-gpu`, then
the default table, the only place old drivers state their CUDA version), and the loaded kernel
module's version in /proc/driver/nvidia/version or /sys/module/nvidia/version (no GPU details).
A machine with none of them simply has no NVIDIA driver: that is not a problem. On a Jetson the
procfs "driver version" is the L4T release and JetPack 4/5 have no nvidia-smi: the jetson probe
reports that board and its GPU. Facts the
driver does not report come from the data tables (`tables`) and say so in their `*_source`
field; anything else unknown stays None.

`probe` never raises and every tool or library call is bounded by `ProbeEnv.timeout`. Each
source's module is imported only when that source is used, so doctor pays for what runs.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Optional, Union

from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.probe.evidence import PROC_VERSION, SYS_MODULE_VERSION, TEGRA_RELEASE, WSL_NVIDIA_SMI
from fwsetup.probe.nvidia.problems import NO_DEVICES, SOURCE, UNPARSEABLE, driver_problem
from fwsetup.records import replace
from fwsetup.report import GPU, NvidiaDriver

if TYPE_CHECKING:
    from fwsetup.probe.nvidia.nvml import InitFailed, NvmlReport

NO_NVML_ENV = "FWSETUP_NO_NVML"  # set (non-empty) to skip NVML, e.g. in tests

_PROC_RE = re.compile(r"^NVRM version:.*?\s(\d+\.\d+(?:\.\d+)*)(?=\s|$)", re.MULTILINE)
_SYS_RE = re.compile(r"^\d+\.\d+(?:\.\d+)*$")


def parse_proc_version(text: str) -> Optional[str]:
    """Kernel module version from /proc/driver/nvidia/version (proprietary, open, Jetson L4T)."""
    m = _PROC_RE.search(text)
    return m.group(1) if m else None


def parse_sys_module_version(text: str) -> Optional[str]:
    """/sys/module/nvidia/version holds nothing but the version."""
    v = text.strip()
    return v if _SYS_RE.match(v) else None


def find_nvidia_smi(env: ProbeEnv) -> Optional[str]:
    """nvidia-smi on PATH, else WSL2's /usr/lib/wsl/lib/nvidia-smi (often not on PATH)."""
    found = env.which("nvidia-smi")
    if found:
        return found
    wsl = env.path(WSL_NVIDIA_SMI)
    try:
        if os.path.isfile(wsl) and os.access(wsl, os.X_OK):
            return wsl
    except OSError:
        return None
    return None


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


def _nvml(env: ProbeEnv) -> Union[NvmlReport, InitFailed, None]:
    """NVML's answer on this machine; None when switched off, probing a recorded machine,
    or no library loads (or it hangs)."""
    if env.environ.get(NO_NVML_ENV) or not env.is_real_root:
        return None
    from fwsetup.probe.nvidia import nvml

    return nvml.bounded(nvml.probe_library, env.timeout)


def _probe(env: ProbeEnv, out: Probed) -> None:
    proc_text = env.read_text(PROC_VERSION)
    sys_text = env.read_text(SYS_MODULE_VERSION)
    exe = find_nvidia_smi(env)
    if exe is None and proc_text is None and sys_text is None:
        out.fields["nvidia"] = None  # no NVIDIA driver: normal, nothing to report
        return
    proc_version = parse_proc_version(proc_text) if proc_text else None
    kmod = proc_version or (parse_sys_module_version(sys_text) if sys_text else None)
    windows_driver = sys.platform == "win32" or (
        exe is not None and "/usr/lib/wsl/" in exe.replace("\\", "/")
    )

    gpus: list[GPU] = []
    driver_version: Optional[str] = None
    cuda_version: Optional[str] = None
    source: Optional[str] = None
    nvml_refused = False
    answer = _nvml(env)
    if answer is not None:
        from fwsetup.probe.nvidia import nvml  # already loaded: it gave the answer

        if isinstance(answer, nvml.InitFailed):
            out.problems.append(nvml.init_problem(answer, kmod))
            nvml_refused = True
        elif answer.driver_version is not None:
            if not answer.gpus:
                out.problems.append(driver_problem(NO_DEVICES, "NVML"))
            _finish(out, answer.gpus, answer.driver_version, answer.cuda_version, "nvml", windows_driver)
            return
    if nvml_refused:
        pass  # nvidia-smi would only fail again on the same nvmlInit: its return code said why
    elif exe is not None:
        from fwsetup.probe.nvidia.smi import Smi

        smi = Smi(env, exe, out, kmod)
        queried = smi.query()
        table = None if smi.dead else smi.table()
        if queried is not None:
            gpus, driver_version = queried
            source = "nvidia-smi-query"
        elif table is not None and (table.gpus or table.driver_version):
            gpus, source = table.gpus, "nvidia-smi"
        if table is not None:
            driver_version = driver_version or table.driver_version
            cuda_version = table.cuda_version
    elif env.exists(TEGRA_RELEASE):
        pass  # a Jetson on JetPack 4/5 has no nvidia-smi: the jetson probe reports its GPU
    else:
        out.problem(
            "tool-missing",
            f"nvidia-smi not found on PATH or in {os.path.dirname(WSL_NVIDIA_SMI)}; the NVIDIA kernel "
            f"module {kmod or 'of unknown version'} is loaded, but which GPUs it drives is unknown",
            SOURCE,
        )

    if driver_version is None and kmod is not None:
        source = "procfs" if proc_version else "sysfs"
        driver_version = kmod
    elif driver_version is None and source is None and proc_text is not None:
        out.problem(UNPARSEABLE, f"{PROC_VERSION} holds no driver version we can read", SOURCE)
    if source is None:
        out.fields["nvidia"] = None
        return
    _finish(out, gpus, driver_version, cuda_version, source, windows_driver)


def describe(
    gpus: list[GPU],
    driver_version: Optional[str],
    cuda_version: Optional[str],
    source: str,
    windows_driver: bool,
) -> tuple[NvidiaDriver, list[GPU]]:
    """The driver record and GPUs as the report holds them: what the driver did not report
    (its CUDA version, a GPU's compute capability) filled in from the data tables."""
    cuda_source = "reported" if cuda_version else None
    if cuda_version is None and driver_version is not None:
        from fwsetup.probe.nvidia import tables  # only what the driver did not say is looked up

        system = "windows" if windows_driver else "linux"
        cuda_version = tables.max_cuda_for_driver(driver_version, system=system)
        cuda_source = "table" if cuda_version else None
    driver = NvidiaDriver(
        driver_version=driver_version,
        cuda_driver_version=cuda_version,
        source=source,
        cuda_driver_version_source=cuda_source,
    )
    finished = []
    for gpu in gpus:
        if gpu.compute_capability is None:
            from fwsetup.probe.nvidia import tables

            cc = tables.compute_capability_for_name(gpu.name)
            if cc is not None:
                gpu = replace(gpu, compute_capability=cc, compute_capability_source="table")
        finished.append(gpu)
    return driver, finished


def _finish(
    out: Probed,
    gpus: list[GPU],
    driver_version: Optional[str],
    cuda_version: Optional[str],
    source: str,
    windows_driver: bool,
) -> None:
    driver, finished = describe(gpus, driver_version, cuda_version, source, windows_driver)
    out.fields["nvidia"] = driver
    out.gpus.extend(finished)
