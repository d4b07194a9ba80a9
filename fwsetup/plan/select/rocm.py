"""AMD ROCm builds: the one that has kernels for every AMD GPU and whose bundled ROCm user space the
machine's amdgpu kernel driver runs (facts/rocm.toml), and the refusals that name the real fix:
AMD's own route under WSL and on Windows, the driver upgrade, or the documented override.

A ROCm wheel carries its own user space (HIP, rocBLAS, MIOpen); the machine gives only the
amdgpu driver. AMD supports a user space on the drivers of +/- 2 releases around it: outside
that window kernels fail at run time after an install that looked fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Optional, Protocol, TypeVar

from fwsetup import versions
from fwsetup.errors import Refusal
from fwsetup.facts import rocm as facts
from fwsetup.plan.machine import WSL_GUIDE, GpuSituation, describe_gpu
from fwsetup.plan.select.rejections import Rejections
from fwsetup.records import dataclass, field
from fwsetup.report import GPU, SystemReport

OVERRIDE_VAR = "HSA_OVERRIDE_GFX_VERSION"


class RocmBuild(Protocol):
    """One ROCm flavour of a release, as the GPU and driver checks see it (a TorchVariant is one)."""

    @property
    def name(self) -> str: ...  # rocm6.1

    @property
    def rocm(self) -> Optional[str]: ...  # the ROCm user space it bundles

    @property
    def gfx(self) -> tuple[str, ...]: ...

    @property
    def verified(self) -> bool: ...

    @property
    def note(self) -> Optional[str]: ...


B = TypeVar("B", bound=RocmBuild)


@dataclass(frozen=True)
class RocmPick(Generic[B]):
    build: B
    reasons: list[str]
    warnings: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def driver_space(report: SystemReport) -> facts.UserSpace:
    r = report.rocm
    return facts.user_space(r.driver_version if r else None, r.driver_source if r else None)


def route_refusal(display: str, report: SystemReport) -> Optional[Refusal]:
    """Under WSL a ROCm wheel from the PyTorch index cannot reach the GPU: AMD's route is its own."""
    r = report.rocm
    if r is None or not (r.wsl or report.os.wsl):
        return None
    return Refusal(
        f"{display}'s ROCm wheels do not run under WSL: ROCm reaches the Radeon here through /dev/dxg "
        "with AMD's WSL runtime, which the wheels from download.pytorch.org do not use",
        f"take AMD's WSL route: `amdgpu-install -y --usecase=wsl,rocm --no-dkms`, then AMD's PyTorch wheels "
        f"from repo.radeon.com with the WSL runtime library swapped in ({WSL_GUIDE}); or use --cpu",
        code="rocm-wsl-route",
    )


def framework_refusal(display: str, framework: str) -> Optional[Refusal]:
    """A framework fwsetup does not plan on ROCm: refused, naming AMD's own route (facts/rocm.toml)."""
    route = facts.route_for(framework)
    if route is None:
        return None
    return Refusal(
        f"fwsetup does not plan {display} on AMD GPUs: {route.route}",
        "follow AMD's route above, or use --cpu",
        code="rocm-framework-route",
    )


def pick(
    builds: Sequence[B],
    situation: GpuSituation,
    report: SystemReport,
    label: str,
    rej: Rejections,
    allow_override: bool = False,
) -> Optional[RocmPick[B]]:
    """The newest build covering every AMD GPU (through the documented override only when asked)
    whose ROCm user space the amdgpu driver runs; reasons for each build turned down go to rej."""
    space = driver_space(report)
    gpus, integrated = _served(situation.gpus, report)
    fitting: list[tuple[B, dict[str, str]]] = []
    for b in builds:
        if not b.gfx:  # coverage cannot be checked: never bet a GPU on it
            rej.add(
                f"{label} {b.name}: fwsetup does not know which gfx targets it ships"
                + (f" ({b.note})" if b.note else "")
            )
            continue
        missing, env = _coverage(b, gpus, allow_override)
        rej.covered.update(g.index for g in gpus if g not in missing)
        if missing:
            for g in missing:
                rej.arch_misses[g.index] = g
            rej.add(f"{label} {b.name}: no kernels for {_gpus(missing)} (ships {' '.join(b.gfx)})")
            continue
        if space.allowed is not None and facts.series(b.rocm or "0") not in space.allowed:
            rej.add(f"{label} {b.name}: bundles ROCm {b.rocm}, but {space.how}")
            rej.driver_misses.append(b.rocm or "0")
            continue
        fitting.append((b, env))
    if not fitting:
        return None
    b, env = max(fitting, key=lambda item: versions.key(item[0].rocm or "0"))
    reasons = [f"{b.name}: the newest ROCm build with kernels for {_gpus(gpus)}"]
    warnings: list[str] = []
    lacking = [g for g in integrated if g.compute_capability not in b.gfx]
    if lacking:  # HIP stops with hipErrorNoBinaryForGpu when any visible GPU has no kernels
        visible = ",".join(str(g.index) for g in gpus)
        env = {**env, "HIP_VISIBLE_DEVICES": visible}
        warnings.append(
            f"{_gpus(lacking)} is an integrated GPU this build has no kernels for: it is left out "
            f"(HIP_VISIBLE_DEVICES={visible} in the environment keeps the ROCm runtime off it)"
        )
    if space.allowed is not None:
        reasons.append(space.how)
    else:
        warnings.append(f"{space.how}: make sure the amdgpu driver supports ROCm {b.rocm} user space")
    blocked = [v for v in rej.driver_misses if versions.key(v) > versions.key(b.rocm or "0")]
    if blocked:
        newest = max(blocked, key=versions.key)
        warnings.append(
            f"a newer build (ROCm {newest}) needs a newer amdgpu kernel driver: {space.how}; the amdgpu "
            f"driver of ROCm {facts.series(newest)} (`amdgpu-install --usecase=dkms` from that release) would allow it"
        )
    if OVERRIDE_VAR in env:
        warnings.append(
            f"{OVERRIDE_VAR}={env[OVERRIDE_VAR]} is set (--hsa-override): the GPU runs kernels built for "
            "another target of its family; AMD does not support this, and some operations may fail or be wrong"
        )
    if not b.verified:
        warnings.append(
            f"{label} {b.name}: fwsetup's data for this build is not verified ({b.note or 'no primary source'})"
        )
    return RocmPick(b, reasons, warnings, env)


def _served(gpus: Sequence[GPU], report: SystemReport) -> tuple[list[GPU], list[GPU]]:
    """(the GPUs a build must cover, integrated GPUs left out): an APU beside a discrete AMD GPU is
    not what the user computes on, and must not decide the build."""
    marked = set(report.rocm.integrated) if report.rocm else set()
    apus = [g for g in gpus if g.index in marked or facts.is_apu(g.compute_capability)]
    discrete = [g for g in gpus if g not in apus]
    return (discrete, apus) if discrete and apus else (list(gpus), [])


def _coverage(b: RocmBuild, gpus: Sequence[GPU], allow_override: bool) -> tuple[list[GPU], dict[str, str]]:
    missing: list[GPU] = []
    values: set[str] = set()
    for g in gpus:
        if g.compute_capability in b.gfx:
            continue
        o = facts.override_for(g.compute_capability) if allow_override else None
        if o is not None and o.runs_as in b.gfx:
            values.add(o.value)
            continue
        missing.append(g)
    if len(values) > 1:  # one process-wide variable cannot serve two families
        return list(gpus), {}
    return missing, ({OVERRIDE_VAR: values.pop()} if values else {})


def _gpus(gpus: Sequence[GPU]) -> str:
    return ", ".join(describe_gpu(g) for g in gpus)


def refusal(display: str, situation: GpuSituation, report: SystemReport, rej: Rejections) -> Refusal:
    """Why no ROCm build fits, in the order the user can act on: a GPU no build covers (and the
    documented override, when one serves it), then the driver."""
    gpus = list(situation.gpus)
    never = [g for g in gpus if g.index not in rej.covered]
    if never and len(never) < len(gpus):
        others = ",".join(str(g.index) for g in gpus if g not in never)
        return Refusal(
            f"no single {display} ROCm build covers every AMD GPU here: {_gpus(never)} has kernels in no build",
            f"serve the other GPUs only with --gpus {others} (and HIP_VISIBLE_DEVICES={others} at run time), or use --cpu",
            code="gpus-not-covered",
        )
    if never:
        overrides = [o for o in (facts.override_for(g.compute_capability) for g in never) if o is not None]
        if overrides and len({o.value for o in overrides}) == 1:
            o = overrides[0]
            fix = (
                f"rerun with --hsa-override to run {o.runs_as} kernels on it ({OVERRIDE_VAR}={o.value}; "
                "community-documented, not supported by AMD), or use --cpu"
            )
        else:
            fix = "use --cpu, or build from source with PYTORCH_ROCM_ARCH set to this GPU's target"
        return Refusal(
            f"no {display} ROCm build known to fwsetup has kernels for {_gpus(never)}",
            fix,
            code="gpu-arch-unsupported",
        )
    space = driver_space(report)
    oldest = min(rej.driver_misses, key=versions.key) if rej.driver_misses else None
    if oldest is not None:
        return Refusal(
            f"no {display} ROCm build runs on this amdgpu driver: {space.how}; the oldest fitting build "
            f"bundles ROCm {oldest}",
            f"install the amdgpu kernel driver of ROCm {facts.series(oldest)} or newer (`amdgpu-install "
            "--usecase=dkms` from that release, then reboot), or use --cpu",
            code="driver-too-old",
        )
    return Refusal(
        f"no {display} ROCm build fits this machine: " + "; ".join(rej.reasons[:6]),
        "use --cpu, or see `fwsetup doctor` for what to fix",
        code="no-compatible-build",
    )


def lock_reason(variant: str, gfx: Sequence[str], env: dict[str, str], report: SystemReport) -> Optional[str]:
    """Why a locked ROCm build (`install --lock`) cannot run on this machine, with the checks select
    makes: AMD GPUs reachable on Linux outside WSL, kernels for each (or the override the lock sets),
    and the bundled ROCm inside the amdgpu driver's window. None when it can."""
    r = report.rocm
    gpus = [g for g in report.gpus if g.vendor == "amd"]
    if r is None or not gpus:
        return f"{variant} is a ROCm build, and this machine has no AMD GPU reachable through ROCm"
    if r.wsl or report.os.wsl:
        return f"{variant} is a Linux ROCm wheel, which does not run under WSL (AMD's WSL route is its own)"
    served, _ = _served(gpus, report)
    override = env.get(OVERRIDE_VAR)
    missing = [
        g
        for g in served
        if g.compute_capability not in gfx
        and not ((o := facts.override_for(g.compute_capability)) and o.value == override and o.runs_as in gfx)
    ]
    if gfx and missing:
        return f"{variant} has no kernels for {_gpus(missing)} (ships {' '.join(gfx)})"
    space = driver_space(report)
    bundled = variant[len("rocm") :] if variant.startswith("rocm") else ""
    if bundled and space.allowed is not None and facts.series(bundled) not in space.allowed:
        return f"{variant} bundles ROCm {bundled}, but {space.how}"
    return None
