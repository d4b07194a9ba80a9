"""From facts to findings: what is wrong with this machine for ML work, and the fix.

Pure: reads a SystemReport (possibly another machine's), performs no I/O. The compatibility
rules and build tables are imported by the rules that need them, and only when the report has
a driver, a toolkit or a framework to check: a plain machine's doctor never loads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from fwsetup.probe.diagnose_amd import amd_state
from fwsetup.report import Finding, SystemReport

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from typing import Optional, Union

LOW_DISK_WARN_MIB = 20 * 1024  # one CUDA framework environment takes 5-10 GiB
LOW_DISK_ERROR_MIB = 5 * 1024


def diagnose(report: SystemReport) -> list[Finding]:
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(report))
    return findings


def _problem_codes(report: SystemReport) -> dict[str, str]:
    return {p.code: p.message for p in report.problems}


def driver_state(report: SystemReport) -> Iterator[Finding]:
    codes = _problem_codes(report)
    if "nvidia-driver-library-mismatch" in codes:
        yield Finding(
            "driver-library-mismatch",
            "error",
            "the loaded NVIDIA kernel module and the user-space driver libraries differ "
            f"({codes['nvidia-driver-library-mismatch']}); no CUDA program can start",
            "reboot (or reload the nvidia kernel modules) so the module matches the libraries",
        )
    if "nvidia-driver-unreachable" in codes:
        if report.os.wsl == 1:
            yield Finding(
                "wsl1-no-gpu",
                "error",
                "this is WSL 1, which has no GPU access",
                "convert the distribution to WSL 2: `wsl --set-version <distro> 2` in Windows",
            )
        else:
            yield Finding(
                "driver-unreachable",
                "error",
                "the NVIDIA driver cannot be reached: the kernel module is not loaded",
                "install or reinstall the NVIDIA driver for this kernel, then reboot "
                "(check `lsmod | grep nvidia` and Secure Boot module signing)",
            )
    if "nvidia-no-permission" in codes:
        yield Finding(
            "driver-no-permission",
            "error",
            "this user may not talk to the NVIDIA driver: the /dev/nvidia* device files cannot be opened",
            "add the user to the group that owns /dev/nvidia* (often `video`) and log in again; in a "
            "container, start it with the GPU passed in (`--gpus all` with the NVIDIA container toolkit)",
        )
    if "nvidia-nvml-failed" in codes:
        yield Finding(
            "driver-nvml-failed",
            "error",
            f"the NVIDIA management library could not start ({codes['nvidia-nvml-failed']}); "
            "no CUDA program is likely to start either",
            "check `dmesg | grep -i nvrm`; in a container that lost its GPU after a `systemctl "
            "daemon-reload` on the host, restart the container; otherwise reboot",
        )
    if "nvidia-no-devices" in codes:
        yield Finding(
            "driver-sees-no-gpu",
            "error",
            "the NVIDIA driver is loaded but finds no GPU",
            "check `dmesg | grep -i nvrm`; on new GPUs enable Above 4G Decoding / Resizable BAR "
            "in the firmware, and make sure the driver branch supports this GPU",
        )
    pci_nvidia = [d for d in report.pci_display_devices if d.vendor == "nvidia"]
    if (
        pci_nvidia
        and report.nvidia is None
        and not codes.keys()
        & {
            "nvidia-driver-library-mismatch",
            "nvidia-driver-unreachable",
            "nvidia-no-permission",
            "nvidia-nvml-failed",
        }
    ):
        yield Finding(
            "gpu-without-driver",
            "error",
            f"{len(pci_nvidia)} NVIDIA GPU(s) on the PCI bus but no NVIDIA driver is loaded",
            "install the NVIDIA driver (e.g. `ubuntu-drivers install`, or your distribution's "
            "nvidia-driver package), then reboot",
        )


def toolkit_without_driver(report: SystemReport) -> Iterator[Finding]:
    if report.cuda_toolkits and report.nvidia is None and not report.nvidia_gpus():
        versions = ", ".join(t.version or "unknown" for t in report.cuda_toolkits)
        yield Finding(
            "toolkit-without-driver",
            "warning",
            f"a CUDA toolkit is installed ({versions}) but there is no NVIDIA driver or GPU: "
            "CUDA code compiles here but cannot run",
            "nothing to do for CPU work; for GPU work install the NVIDIA driver on a machine with a GPU",
        )


def toolkit_newer_than_driver(report: SystemReport) -> Iterator[Finding]:
    nv = report.nvidia
    if nv is None or not nv.cuda_driver_version:
        return
    from fwsetup.facts.compat import driver_runs

    for tk in report.cuda_toolkits:
        if tk.version and not driver_runs(report, tk.version):
            yield Finding(
                "toolkit-newer-than-driver",
                "warning",
                f"CUDA toolkit {tk.version} at {tk.path} is newer than driver "
                f"{nv.driver_version} supports (CUDA {nv.cuda_driver_version}): programs built "
                "with it fail to start",
                f"upgrade the NVIDIA driver, or use a toolkit <= {nv.cuda_driver_version}",
            )


def jetson_state(report: SystemReport) -> Iterator[Finding]:
    """A Jetson: its CUDA comes with JetPack (no driver to upgrade), and GPU builds of the
    frameworks are NVIDIA's JetPack wheels, not PyPI's."""
    j = report.jetson
    if j is None:
        return
    board = j.model or (f"Jetson {j.soc}" if j.soc else "Jetson")
    cc = f", GPU sm_{j.compute_capability.replace('.', '')}" if j.compute_capability else ""
    if j.jetpack is None:
        yield Finding(
            "jetson-release-unknown",
            "warning",
            f"{board} runs L4T {j.l4t or 'of unknown release'}{cc}, which fwsetup's JetPack table does not "
            "know: which CUDA and which of NVIDIA's framework builds fit cannot be told",
            "check `cat /etc/nv_tegra_release`; plan with a known JetPack or use --cpu",
        )
        return
    from fwsetup.facts.jetson import release_for

    release = release_for(j.l4t)
    if release is not None and release.sbsa:
        wheels = "JetPack 7 is SBSA CUDA: the aarch64 CUDA wheels of PyTorch's index run on this GPU"
        fix = "`fwsetup install pytorch --gpu` plans them"
    else:
        wheels = "PyPI's aarch64 wheels do not use this GPU"
        fix = "`fwsetup install pytorch` (or tensorflow) plans NVIDIA's JetPack build"
    yield Finding(
        "jetson",
        "info",
        f"{board}: L4T {j.l4t} = JetPack {j.jetpack} with CUDA {j.cuda} and Python {j.python}{cc}; "
        f"its CUDA comes with JetPack (a newer one needs a JetPack upgrade); {wheels}",
        fix,
    )


def framework_builds(report: SystemReport) -> Iterator[Finding]:
    gpus = report.nvidia_gpus()
    nv = report.nvidia
    for fw in report.frameworks:
        if fw.name != "torch":
            continue
        if gpus and (fw.variant == "cpu" or (fw.variant is None and fw.cuda is None)):
            yield Finding(
                "torch-cpu-build-with-gpu",
                "warning",
                f"torch {fw.version} is a CPU-only build, but this machine has "
                f"{len(gpus)} NVIDIA GPU(s): it will never use them",
                "reinstall with `fwsetup install pytorch --gpu`",
            )
            continue
        if not fw.cuda or not fw.variant or report.jetson is not None:  # JetPack, not a driver, sets its CUDA
            continue
        from fwsetup.facts import matrix
        from fwsetup.facts.compat import cc_covered, driver_runs

        variant = matrix.torch_variant(fw.version, fw.variant, report.platform_key())
        for gpu in gpus:
            if variant is None or not gpu.compute_capability:
                continue
            if not cc_covered(gpu.compute_capability, variant.get("archs", []), variant.get("ptx", [])):
                archs = " ".join(f"sm_{a.replace('.', '')}" for a in variant.get("archs", []))
                yield Finding(
                    "torch-arch-not-covered",
                    "error",
                    f"torch {fw.version} ships kernels for {archs} but GPU {gpu.index} "
                    f"({gpu.name}) is sm_{gpu.compute_capability.replace('.', '')}: "
                    "'no kernel image is available for execution on the device'",
                    "reinstall with `fwsetup install pytorch --gpu` (it picks a build that covers "
                    "every GPU here)",
                )
        if nv is not None and not driver_runs(report, fw.cuda):
            yield Finding(
                "torch-needs-newer-driver",
                "error",
                f"torch {fw.version} is built for CUDA {fw.cuda} but driver "
                f"{nv.driver_version} supports CUDA {nv.cuda_driver_version or 'unknown'}: "
                "'The NVIDIA driver on your system is too old'",
                "upgrade the NVIDIA driver, or run `fwsetup install pytorch --gpu` to get a "
                "build this driver runs",
            )


def unknown_capability(report: SystemReport) -> Iterator[Finding]:
    for gpu in report.nvidia_gpus():
        if not gpu.compute_capability:
            yield Finding(
                "gpu-capability-unknown",
                "warning",
                f"the compute capability of GPU {gpu.index} ({gpu.name}) is unknown, so builds "
                "cannot be checked against it",
                "upgrade to an NVIDIA driver >= 510 (nvidia-smi then reports compute_cap)",
            )


def python_state(report: SystemReport) -> Iterator[Finding]:
    if report.python.externally_managed:
        yield Finding(
            "externally-managed-python",
            "info",
            f"Python {report.python.version} at {report.python.executable} is managed by the OS "
            "(PEP 668): pip will not install into it",
            "let `fwsetup install` create an isolated environment (it never installs into it)",
        )


def resources_state(report: SystemReport) -> Iterator[Finding]:
    res = report.resources
    if res.disk_free_mib is not None:
        gib = res.disk_free_mib / 1024
        where = res.disk_path or "the environment directory"
        if res.disk_free_mib < LOW_DISK_ERROR_MIB:
            yield Finding(
                "low-disk",
                "error",
                f"only {gib:.1f} GiB free at {where}; a framework environment needs 2-10 GiB",
                "free space, or install elsewhere with `--env PATH` / FWSETUP_HOME",
            )
        elif res.disk_free_mib < LOW_DISK_WARN_MIB:
            yield Finding(
                "low-disk",
                "warning",
                f"{gib:.1f} GiB free at {where}; a CUDA framework environment takes 5-10 GiB",
                "free space, or install elsewhere with `--env PATH` / FWSETUP_HOME",
            )
    arch = (report.os.arch or "").lower()
    if arch in ("x86_64", "amd64") and res.cpu_flags and "avx" not in res.cpu_flags:
        yield Finding(
            "cpu-without-avx",
            "warning",
            "this CPU has no AVX: TensorFlow wheels since 1.6 stop with 'Illegal instruction'",
            "use TensorFlow <= 1.5, a source build, or another framework",
        )


def frameworks_from_pythonpath(report: SystemReport) -> Iterator[Finding]:
    """A framework found through PYTHONPATH comes before anything the interpreter installed: say so."""
    from_env = [f for f in report.frameworks if f.origin == "PYTHONPATH"]
    if not from_env:
        return
    src = report.frameworks_from
    where = f"{src.python}'s own packages" if src is not None else "the interpreter's own packages"
    names = ", ".join(f"{f.name} {f.version} ({f.location})" for f in from_env)
    verb = "come" if len(from_env) > 1 else "comes"
    yield Finding(
        "framework-from-pythonpath",
        "info",
        f"{names} {verb} from PYTHONPATH, which the interpreter searches before {where}: "
        "whatever set it (an HPC `module load`, a shell profile) decides which build runs",
        "unset PYTHONPATH (or `module unload` the module that set it) to use the environment's own",
    )
def intel_state(report: SystemReport) -> Iterator[Finding]:
    from fwsetup.probe.diagnose_intel import intel_state as rule

    return rule(report)


def cpu_features(report: SystemReport) -> Iterator[Finding]:
    from fwsetup.probe.diagnose_floors import cpu_features as rule

    return rule(report)


def mps_floor(report: SystemReport) -> Iterator[Finding]:
    from fwsetup.probe.diagnose_floors import mps_floor as rule

    return rule(report)


RULES = (
    driver_state,
    jetson_state,
    toolkit_without_driver,
    toolkit_newer_than_driver,
    framework_builds,
    amd_state,
    intel_state,
    cpu_features,
    mps_floor,
    unknown_capability,
    python_state,
    resources_state,
    frameworks_from_pythonpath,
)


def stale_data(
    checked: Mapping[str, Optional[Union[datetime.date, str]]],
    today: Union[datetime.date, str],
    max_days: int = 120,
) -> list[Finding]:
    """fwsetup's own tables, not the machine: one info finding per table not checked for `max_days`.

    Not one of RULES: a saved report from another machine is diagnosed the same whatever the date,
    while this depends on the clock and on the fwsetup that runs (`doctor` adds it). Dates may be
    `datetime.date`s or "YYYY-MM-DD" strings (doctor passes strings: no datetime import).
    """
    from fwsetup.facts.dates import day_number

    now = day_number(str(today))
    old: dict[str, tuple[str, int]] = {}
    for name, day in checked.items():
        then = day_number(str(day)) if day is not None else None
        if now is not None and then is not None and now - then > max_days:
            old[name] = (str(day), now - then)
    if not old:
        return []
    listed = ", ".join(f"{name} (checked {day}, {age} days ago)" for name, (day, age) in old.items())
    return [
        Finding(
            "data-stale",
            "info",
            f"fwsetup's data tables are older than {max_days} days: {listed}; releases since then "
            "(new versions, dropped CUDA versions or GPU architectures) are not known to it",
            "update fwsetup (`pip install -U fwsetup`); maintainers: `bin/update_data.py pytorch jax tensorflow`",
        )
    ]


def pip_constraint_variable(environ: Mapping[str, str]) -> list[Finding]:
    """The shell, not the machine: a PIP_CONSTRAINT set here replaces, for pip, the constraint of
    every configuration file, the one in an environment fwsetup protected included (README: The env
    keeps its build). Not one of RULES (a saved report says nothing of the shell); `doctor` adds it."""
    value = (environ.get("PIP_CONSTRAINT") or "").strip()
    if not value:
        return []
    return [
        Finding(
            "pip-constraint-variable",
            "info",
            f"PIP_CONSTRAINT is set ({value[:200]}): pip takes it in place of the constraint in any pip.conf, so "
            "pip run from this shell in an environment fwsetup made does not apply the env's pins of its build",
            "run pip there with `fwsetup run ENV -- pip …` (it puts the env's pins first in PIP_CONSTRAINT), "
            "or add ENV/fwsetup-constraints.txt to PIP_CONSTRAINT yourself; `fwsetup envs` names each env",
        )
    ]


def pip_constraint_missing(environ: Mapping[str, str]) -> list[Finding]:
    """The user's pip configuration, not the machine: a constraint file it (or PIP_CONSTRAINT) names
    that does not exist stops every pip install, and fwsetup's (exit 2). Not one of RULES; `doctor`
    adds it. Reading pip's configuration is file I/O only: no pip is run."""
    from fwsetup import pipfiles

    if not (environ.get("PIP_CONSTRAINT") or "").strip() and not pipfiles.mention(environ, b"constraint"):
        return []  # nothing names one: pipconfig (pathlib, typing) is not imported at doctor's start-up
    from fwsetup import pipconfig

    problem = pipconfig.constraint_problem(pipconfig.read(environ))
    if problem is None:
        return []
    return [Finding("pip-constraint-missing", "warning", *problem)]
