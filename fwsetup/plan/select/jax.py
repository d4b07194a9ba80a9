"""JAX: which release, and which pip extra (cuda12, cuda13) for NVIDIA GPUs, from facts/jax.toml."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from fwsetup import versions
from fwsetup.errors import Refusal
from fwsetup.facts import jax as facts
from fwsetup.facts.jax import CudaExtra, JaxRelease
from fwsetup.plan.model import MachineNeeds, Plan
from fwsetup.plan.pythons import PythonChoice, PythonNeed
from fwsetup.plan.recipes import Recipe
from fwsetup.plan.select import jetson, rocm
from fwsetup.plan.select.common import (
    Build,
    MatrixHook,
    Outcome,
    Walk,
    below_capability_floor,
    pinned_version,
)
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class Chosen:
    extra: Optional[str]  # None: the CPU jaxlib
    reasons: list[str] = field(default_factory=list)
    needs: MachineNeeds = field(default_factory=MachineNeeds)


class JaxHook(MatrixHook[JaxRelease, Chosen]):
    platform_fix = "JAX has no wheels for this platform"

    def releases(self) -> Sequence[JaxRelease]:
        return facts.table().release

    def variant_names(self, recipe: Recipe) -> list[str]:
        names = ["cpu"]
        for r in facts.table().release:
            names.extend(x for x in r.cuda_extras if x not in names)
        return names

    def narrow(self, walk: Walk) -> Optional[Refusal]:
        if walk.accel == "cuda" and walk.platform.startswith("windows") and walk.request.accelerator == "gpu":
            return Refusal(
                "JAX has no GPU builds for native Windows",
                "use WSL2, where JAX's CUDA wheels run on this GPU (`wsl --install`, then run fwsetup "
                "inside Ubuntu; the Windows NVIDIA driver serves it), or use --cpu here",
                code="no-compatible-build",
            )
        if walk.accel in ("cpu", "cuda"):
            return None
        if walk.request.accelerator == "gpu" and walk.accel == "rocm":
            return rocm.framework_refusal(walk.display, "jax")
        if walk.request.accelerator == "gpu":
            return Refusal(
                f"fwsetup's JAX recipe supports NVIDIA GPUs only; this machine has {walk.accel}",
                "use --cpu (JAX's ROCm and Metal plugins are experimental)",
                code="no-compatible-build",
            )
        walk.accel = "cpu"
        walk.reasons.append("JAX GPU support here is NVIDIA-only: using the CPU build")
        return None

    def jetson(self, walk: Walk) -> Optional[Outcome]:
        return jetson.decide(walk, jetson.jax)

    def build(self, walk: Walk, release: JaxRelease) -> Optional[Build[Chosen]]:
        label = f"{walk.display} {release.version}"
        plat, rej = walk.platform, walk.rej
        if plat not in release.platforms:
            rej.add(f"{label}: no wheels for {plat}")
            return None
        need = PythonNeed.of(release.python)
        if walk.accel == "cpu":
            return Build(need, Chosen(None, ["CPU jaxlib from PyPI"]))
        if release.cuda_platforms is not None and plat not in release.cuda_platforms:
            rej.add(f"{label}: its CUDA plugin has no wheels for {plat}")
            return None
        table = facts.table()
        extras = [
            e
            for e in (table.find_extra(n) for n in release.cuda_extras)
            if e is not None and plat in e.platforms
        ]
        if not extras:
            rej.add(f"{label}: no CUDA wheels for {plat}")
            return None
        usable = [e for e in extras if self._fits(walk, e, label)]
        if not usable:
            return None
        best = max(usable, key=lambda e: versions.key(e.cuda))
        why = f"jax[{best.name}]: the newest CUDA extra whose driver floor and compute-capability floor this machine meets"
        # XLA JIT-compiles most kernels: the capability floor acts as PTX for that capability.
        needs = MachineNeeds(best.cuda, (), (best.min_compute_capability,), best.min_driver_linux)
        return Build(need, Chosen(best.name, [why], needs))

    @staticmethod
    def _fits(walk: Walk, extra: CudaExtra, label: str) -> bool:
        """JAX's CUDA wheels state a driver floor and a minimum compute capability per extra
        (XLA JIT-compiles most kernels itself, so the floor, not the arch list, is the gate)."""
        if below_capability_floor(
            walk.situation.gpus, extra.min_compute_capability, f"{label} {extra.name}", walk.rej
        ):
            return False
        nv = walk.report.nvidia
        floor = extra.min_driver_linux
        if (
            nv is None
            or not nv.driver_version
            or versions.release(nv.driver_version) < versions.release(floor)
        ):
            walk.rej.add(
                f"{label} {extra.name}: needs driver >= {floor}; driver is {nv.driver_version if nv else '?'}"
            )
            walk.rej.driver_misses.append(extra.cuda)
            return False
        return True

    def plan(
        self, walk: Walk, release: JaxRelease, build: Build[Chosen], py: PythonChoice, local_only: bool
    ) -> Optional[Plan]:
        version = pinned_version(release.version, walk.request.version)
        extra = build.found.extra
        return Plan(
            framework=walk.recipe.name,
            version=version,
            variant=extra or "cpu",
            accelerator=walk.accel,
            python=py.minor,
            packages=[f"jax[{extra}]=={version}" if extra else f"jax=={version}", *_pinned(release, extra)],
            smoke=str(walk.recipe.smoke or ""),
            reasons=[
                f"{walk.display} {release.version}: newest release that fits",
                *build.found.reasons,
                f"jaxlib=={release.jaxlib}{' and its CUDA plugin' if extra else ''} pinned: "
                f"jax {release.version}'s own requirement is looser (or, before 0.4.30, absent)",
            ],
            env={"XLA_PYTHON_CLIENT_PREALLOCATE": "false"} if walk.accel == "cuda" else {},
            needs=build.found.needs,
        )


def _pinned(release: JaxRelease, extra: Optional[str]) -> list[str]:
    """The build-bound packages at the release's jaxlib, on every route. jax's METADATA leaves them
    loose: 0.4.18-0.4.29 require no jaxlib at all without an extra (`pip install jax==0.4.26` has no
    backend), 0.4.30 on require a range (0.12.0: jaxlib<=0.12.0,>=0.11.2, so an older jaxlib already
    in an env stays), and the plugin of 0.4.37 and 0.5.2 is a range too. The plugin pins its
    jax-cudaNN-pjrt to its own version (`jax-cuda12-pjrt==0.12.0`)."""
    out = [f"jaxlib=={release.jaxlib}"]
    found = facts.table().find_extra(extra) if extra else None
    plugin = next((p for p in found.packages if p.split("[")[0].endswith("-plugin")), None) if found else None
    if plugin is not None:
        out.append(f"{plugin.split('[')[0]}=={release.jaxlib}")
    return out


HOOK = JaxHook()
