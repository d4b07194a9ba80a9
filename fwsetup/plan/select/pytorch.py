"""PyTorch: which variant (cpu, cuXYZ, rocmX.Y, mps) of which release, from facts/pytorch.toml."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from fwsetup import versions
from fwsetup.errors import Refusal
from fwsetup.facts import pytorch as facts
from fwsetup.facts.pytorch import TorchRelease, TorchVariant
from fwsetup.plan.model import LocalWheel, MachineNeeds, Plan
from fwsetup.plan.pythons import PythonChoice, PythonNeed
from fwsetup.plan.recipes import Recipe
from fwsetup.plan.select import jetson, rocm, xpu
from fwsetup.plan.select.common import (
    Build,
    CudaBuild,
    MatrixHook,
    Outcome,
    Walk,
    pick_cuda,
    pinned_version,
    version_matches,
)
from fwsetup.plan.select.floors import release_misfit, skipped_newer
from fwsetup.plan.wheels import wheel_fits
from fwsetup.records import dataclass, field
from fwsetup.report import SystemReport


@dataclass(frozen=True)
class Chosen:
    variant: TorchVariant
    reasons: list[str]
    warnings: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # HSA_OVERRIDE_GFX_VERSION, only when asked for


def _accel(variant: TorchVariant, accel: str) -> bool:
    if accel == "mps":  # macOS arm64 PyPI wheels are the CPU build with the Metal backend inside
        return variant.name == "cpu"
    return variant.accelerator == accel


class PytorchHook(MatrixHook[TorchRelease, Chosen]):
    prefers_local_wheels = True

    def releases(self) -> Sequence[TorchRelease]:
        return facts.releases()

    def variant_names(self, recipe: Recipe) -> list[str]:
        return facts.variant_names()

    def narrow(self, walk: Walk) -> Optional[Refusal]:
        return rocm.route_refusal(walk.display, walk.report) if walk.accel == "rocm" else None

    def jetson(self, walk: Walk) -> Optional[Outcome]:
        return jetson.decide(walk, jetson.pytorch)

    def build(self, walk: Walk, release: TorchRelease) -> Optional[Build[Chosen]]:
        label = f"{walk.display} {release.version}"
        variants = [
            v
            for v in release.variant
            if walk.platform in v.platforms
            and _accel(v, walk.accel)
            and (walk.request.variant is None or v.name == walk.request.variant)
        ]
        if not variants:
            walk.rej.add(f"{label}: no {walk.accel} build for {walk.platform}")
            return None
        version = pinned_version(release.version, walk.request.version)
        misfit = release_misfit(walk.report, walk.platform, version, walk.accel)
        if misfit is not None:
            walk.rej.add(f"{label}: {misfit}")
            return None
        chosen = self._choose(walk, variants, label, release.version)
        return Build(PythonNeed.of(release.python), chosen) if chosen is not None else None

    def _choose(self, walk: Walk, variants: list[TorchVariant], label: str, version: str) -> Optional[Chosen]:
        if walk.accel == "cuda":
            builds = [CudaBuild(v.name, v.cuda or "0", v.archs, v.ptx, v.verified, v.note) for v in variants]
            pick = pick_cuda(builds, walk.situation, walk.report, label, walk.rej)
            if pick is None:
                return None
            variant = next(v for v in variants if v.name == pick.build.name)
            return Chosen(variant, list(pick.reasons), list(pick.warnings))
        if walk.accel == "rocm":
            return _pick_rocm(walk, variants, label)
        if walk.accel == "xpu":
            found = xpu.pick(walk, label, version)
            return Chosen(variants[0], *found) if found is not None else None
        if walk.accel == "mps":
            return Chosen(variants[0], ["macOS arm64 wheels from PyPI include the Metal (MPS) backend"])
        return Chosen(variants[0], [f"{variants[0].name} build for {walk.platform}"])

    def plan(
        self, walk: Walk, release: TorchRelease, build: Build[Chosen], py: PythonChoice, local_only: bool
    ) -> Optional[Plan]:
        chosen = build.found
        name = chosen.variant.name
        local = _local_wheel(
            walk.request.local_wheels, release, walk.request.version, name, py.minor, walk.report
        )
        if local_only and local is None:
            return None
        newer = []  # the releases tried before this one (newest first), for "why not the newest?"
        for r in self.releases():
            if r is release:
                break
            if version_matches(r.version, walk.request.version):
                newer.append(r.version)
        reasons = [*chosen.reasons, *skipped_newer(walk.report, walk.platform, walk.accel, newer)]
        version = (
            local.version.split("+")[0] if local else pinned_version(release.version, walk.request.version)
        )
        index_urls: list[str] = []
        find_links: list[str] = []
        if local is not None:
            requirement = f"torch=={local.version}"
            find_links = [local.path.rsplit("/", 1)[0]]
            reasons.append(f"torch {local.version} is already on disk ({local.path}): no download")
        elif release.pypi_variant(walk.platform) == name:
            requirement = versions.exact_pin("torch", version)
            reasons.append(
                f"PyPI's torch {version} for {walk.platform} is the {name} build: no extra index needed "
                f"({requirement}: never a local build such as {version}+cpu from a find-links folder)"
            )
        else:
            requirement = f"torch=={version}+{name}"
            index_urls = [chosen.variant.index_url]
            reasons.append(f"torch {version}+{name} comes from the PyTorch index {index_urls[0]}")
        newest = (
            "the newest fitting release already on disk" if local is not None else "newest release that fits"
        )
        return Plan(
            framework=walk.recipe.name,
            version=version,
            variant="mps" if walk.accel == "mps" else name,
            accelerator=walk.accel,
            python=py.minor,
            packages=[requirement],
            index_urls=index_urls,
            find_links=find_links,
            smoke=str(walk.recipe.smoke or ""),
            reasons=[f"{walk.display} {version}: {newest}", *reasons],
            warnings=list(chosen.warnings),
            env=dict(chosen.env),
            needs=MachineNeeds(chosen.variant.cuda, chosen.variant.archs, chosen.variant.ptx)
            if walk.accel == "cuda"
            else MachineNeeds(archs=chosen.variant.gfx)  # ROCm: the gfx targets with kernels
            if walk.accel == "rocm"
            else MachineNeeds(),
        )


def _pick_rocm(walk: Walk, variants: list[TorchVariant], label: str) -> Optional[Chosen]:
    pick = rocm.pick(variants, walk.situation, walk.report, label, walk.rej, walk.request.hsa_override)
    if pick is None:
        return None
    return Chosen(pick.build, list(pick.reasons), list(pick.warnings), dict(pick.env))


def _local_wheel(
    wheels: Sequence[LocalWheel],
    release: TorchRelease,
    wanted: Optional[str],
    variant: str,
    python_minor: str,
    report: SystemReport,
) -> Optional[LocalWheel]:
    """The newest torch wheel on disk of this release series and variant that installs on `python_minor`."""
    series = ".".join(release.version.split(".")[:2])
    best: Optional[LocalWheel] = None
    for wheel in wheels:
        if wheel.name != "torch" or "+" not in wheel.version:
            continue
        base, label = wheel.version.split("+", 1)
        if (
            label != variant
            or not version_matches(base, wanted or series)
            or not version_matches(base, series)
        ):
            continue
        if not wheel_fits(wheel.tags, python_minor, report):
            continue
        if best is None or versions.key(base) > versions.key(best.version.split("+")[0]):
            best = wheel
    return best


HOOK = PytorchHook()
