"""`install --lock`: pick the lock target this machine can run, and make it a Plan.

Matching judges this machine by what each target recorded it needs (Plan.needs, set by select) with
the checks select uses: `driver_runs_cuda` (through `driver_runs`) for the driver, `cc_covered` for
the GPUs, the glibc floor of current wheels. The chosen target becomes a Plan that goes through the
normal execute path; its hash-pinned requirements are installed exactly (nothing resolved again).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from fwsetup.errors import Refusal, UsageError
from fwsetup.facts.compat import cc_covered, driver_runs
from fwsetup.fleet.lockfile import LockTarget, check_installable, load
from fwsetup.plan import planning, recipes
from fwsetup.plan.machine import intel_situation
from fwsetup.plan.model import Plan
from fwsetup.plan.select import local_pythons
from fwsetup.plan.select.rocm import lock_reason
from fwsetup.report import SystemReport
from fwsetup.versions import parse, release

# Current manylinux wheels (manylinux_2_28) need this glibc; older targets were locked for it.
WHEEL_GLIBC = "2.28"


def why_not(t: LockTarget, report: SystemReport, python_minors: list[str]) -> Optional[str]:
    """Why target `t` cannot run on this machine, or None when it can."""
    plat = report.platform_key()
    if t.platform != plat:
        return f"{t.name}: for {t.platform}, this is {plat}"
    if t.python not in python_minors:
        return f"{t.name}: needs Python {t.python}, none here ({', '.join(python_minors)})"
    if t.accelerator == "cuda":
        reason = _cuda_reason(t, report)
        if reason:
            return f"{t.name}: {reason}"
    if t.accelerator == "rocm":
        reason = lock_reason(t.variant, t.archs, t.env, report)
        if reason:
            return f"{t.name}: {reason}"
    if t.accelerator == "xpu":
        intel = intel_situation(report)
        if intel is None or intel.accelerator != "xpu":
            return f"{t.name}: an Intel GPU (XPU) build; " + (
                intel.why_none if intel is not None else "this machine has no Intel GPU"
            )
    libc = report.os.libc
    if libc and (libc.name == "musl") != bool(t.musl) and t.platform.startswith("linux"):
        return (
            f"{t.name}: wheels for {'musl' if t.musl else 'glibc'}, this machine's C library is {libc.name}"
        )
    here = parse(libc.version) if libc and libc.name == "glibc" else None
    locked = parse(t.glibc)
    floor = parse(WHEEL_GLIBC)
    if here is not None and locked is not None and floor is not None and here < floor <= locked:
        return (
            f"{t.name}: wheels need glibc >= {WHEEL_GLIBC}, this machine has {libc.version if libc else '?'}"
        )
    return None


def _cuda_reason(t: LockTarget, report: SystemReport) -> Optional[str]:
    if t.l4t is not None:
        return _jetson_reason(t, report)
    nv = report.nvidia
    gpus = sorted(g.compute_capability or "?" for g in report.nvidia_gpus())
    if not gpus or nv is None:
        return "a CUDA build, and this machine has no usable NVIDIA GPU"
    if t.archs or t.ptx:
        missing = [cc for cc in gpus if cc == "?" or not cc_covered(cc, t.archs, t.ptx)]
        if missing:
            ships = " ".join([f"sm_{a.replace('.', '')}" for a in t.archs] + [f"PTX {p}" for p in t.ptx])
            return f"{t.variant} has no kernels for compute capability {', '.join(missing)} (ships {ships})"
    elif gpus != sorted(t.gpus):
        return f"locked for GPUs {t.gpus}, this machine has {gpus}"
    if t.cuda is None:
        return f"{t.variant}: the lock does not record the CUDA version it needs; regenerate it with `fwsetup lock`"
    if not driver_runs(report, t.cuda):
        return (
            f"{t.variant} needs a driver for CUDA {t.cuda}; driver {nv.driver_version or '?'} "
            f"supports CUDA {nv.cuda_driver_version or '?'}"
        )
    have, floor = parse(nv.driver_version), parse(t.min_driver)
    if floor is not None and (have is None or have < floor):
        return f"{t.variant} needs driver >= {t.min_driver}; driver is {nv.driver_version or '?'}"
    return None


def _jetson_reason(t: LockTarget, report: SystemReport) -> Optional[str]:
    """A JetPack build runs on the L4T release it was built for: same major.minor, same GPU."""
    jetson = report.jetson
    if jetson is None or not jetson.l4t:
        return f"{t.variant} is a JetPack build for L4T {t.l4t}, and this machine is not a Jetson"
    if release(jetson.l4t, 2) != release(t.l4t, 2):
        return f"{t.variant} is built for L4T {t.l4t}; this Jetson runs L4T {jetson.l4t}"
    have = jetson.compute_capability or "?"
    if t.gpus and have not in t.gpus:
        return f"locked for GPU {', '.join(t.gpus)}, this Jetson's is {have}"
    return None


def match(targets: list[LockTarget], report: SystemReport, python_minors: list[str]) -> LockTarget:
    """The first target this machine can run; a refusal listing why each other one cannot."""
    reasons = []
    for t in targets:
        reason = why_not(t, report, python_minors)
        if reason is None:
            return t
        reasons.append(reason)
    raise Refusal(
        "no target in the lock fits this machine: " + "; ".join(reasons),
        "add this machine to the lock: `fwsetup doctor --json > me.json` here, then `fwsetup lock … --system me.json`",
        code="lock-mismatch",
    )


def plan_of(target: LockTarget, interpreter: Optional[str]) -> Plan:
    return Plan(
        framework=target.framework,
        version=target.version,
        variant=target.variant,
        accelerator=target.accelerator,
        python=target.python,
        packages=[],
        index_urls=list(target.index_urls),
        find_links=list(target.find_links),
        env=dict(target.env),
        smoke=target.smoke,
        interpreter=interpreter,
        build_constraints=list(target.build_constraints),
        reasons=[f"lock target {target.describe()}"],
    )


def plan_from_lock(
    lock: Path,
    framework: Optional[str],
    report: Optional[SystemReport] = None,
    *,
    allow_insecure: bool = False,
    allow_paths: bool = False,
) -> tuple[Plan, str, tuple[str, ...], tuple[str, ...]]:
    """The locked target this machine matches, as a Plan plus its exact requirements and the names
    the env pins (its `keeps`, install/protect.py); every
    target is checked first (lockfile.check_installable): a lock is data, never code."""
    locked_framework, targets = load(lock)
    for t in targets:
        check_installable(t, allow_insecure=allow_insecure, allow_paths=allow_paths)
    if framework is not None and recipes.find(framework).name != locked_framework:
        raise UsageError(
            f"{lock} locks {locked_framework}, not {framework}", f"run `fwsetup install --lock {lock}`"
        )
    machine = report if report is not None else planning.machine_report(None)
    pythons = local_pythons(machine)
    target = match(targets, machine, [minor for minor, _ in pythons])
    interpreter = next(exe for minor, exe in pythons if minor == target.python)
    return plan_of(target, interpreter), target.framework, tuple(target.requirements), tuple(target.keeps)
