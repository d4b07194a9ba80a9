"""TensorFlow: which release and package (tensorflow-cpu, tensorflow[and-cuda], tensorflow-metal …),
from facts/tensorflow.toml."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from fwsetup import versions
from fwsetup.errors import Refusal
from fwsetup.facts import tensorflow as facts
from fwsetup.facts.tensorflow import TfRelease
from fwsetup.plan.model import MachineNeeds, Plan
from fwsetup.plan.pythons import PythonChoice, PythonNeed
from fwsetup.plan.recipes import Recipe
from fwsetup.plan.select import jetson, rocm
from fwsetup.plan.select.common import Build, CudaBuild, MatrixHook, Outcome, Walk, pick_cuda, pinned_version
from fwsetup.records import dataclass, field
from fwsetup.report import SystemReport

VARIANTS = ["cpu", "cuda (tensorflow[and-cuda])", "metal"]


@dataclass(frozen=True)
class Chosen:
    gpu_package: Optional[str]
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _gpu_package(release: TfRelease, plat: str, accel: str) -> Optional[str]:
    if accel == "cuda" and plat in release.gpu_platforms and plat.startswith("linux") and release.cuda:
        return release.gpu_package
    if accel == "mps" and plat == "macos-arm64" and versions.release(release.version, 2) >= (2, 13):
        return "tensorflow"
    return None


class TensorflowHook(MatrixHook[TfRelease, Chosen]):
    platform_fix = "TensorFlow has no wheels for this platform; try JAX or PyTorch"

    def releases(self) -> Sequence[TfRelease]:
        return facts.table().release

    def variant_names(self, recipe: Recipe) -> list[str]:
        return list(VARIANTS)

    def narrow(self, walk: Walk) -> Optional[Refusal]:
        if walk.accel == "cuda" and walk.platform.startswith("windows") and walk.request.accelerator == "gpu":
            return Refusal(
                "TensorFlow has no GPU builds for native Windows after 2.10",
                "use WSL2, where tensorflow[and-cuda] runs on this GPU (`wsl --install`, then run fwsetup "
                "inside Ubuntu; the Windows NVIDIA driver serves it); or TensorFlow 2.10, the last native "
                "Windows GPU release, with CUDA 11.2 and cuDNN 8.1 installed system-wide; or --cpu",
                code="no-compatible-build",
            )
        # AMD's tensorflow-rocm is not planned: refused with --gpu, else the CPU build
        if walk.accel == "rocm":
            if walk.request.accelerator == "gpu":
                return rocm.framework_refusal(walk.display, "tensorflow")
            walk.accel = "cpu"
            walk.reasons.append(
                "TensorFlow on AMD GPUs is AMD's tensorflow-rocm, which fwsetup does not plan: using the CPU build"
            )
        if walk.accel == "xpu":  # Intel GPU: no TensorFlow build that fwsetup plans
            if walk.request.accelerator == "gpu":
                return Refusal(
                    "fwsetup plans no TensorFlow build for Intel GPUs (XPU)",
                    "use --cpu, or PyTorch, whose XPU build serves this GPU (`fwsetup install pytorch --gpu`)",
                    code="no-compatible-build",
                )
            walk.accel = "cpu"
            walk.reasons.append("TensorFlow has no Intel GPU (XPU) build here: using the CPU build")
        return None

    def keras3_floor(self) -> Optional[str]:
        """tensorflow.toml records which Keras each release's tf.keras is; earlier ones pin keras < 3."""
        return facts.keras3_floor()

    def jetson(self, walk: Walk) -> Optional[Outcome]:
        return jetson.decide(walk, jetson.tensorflow)

    def build(self, walk: Walk, release: TfRelease) -> Optional[Build[Chosen]]:
        label = f"{walk.display} {release.version}"
        plat, rej = walk.platform, walk.rej
        flags = walk.report.resources.cpu_flags
        if plat not in release.platforms:
            rej.add(f"{label}: no wheels for {plat}")
            return None
        if release.needs_avx and flags and "avx" not in flags and plat.endswith("x86_64"):
            rej.add(f"{label}: its wheels need AVX, which this CPU lacks")
            return None
        if walk.accel == "cpu":
            return Build(PythonNeed.of(release.python), Chosen(None))
        gpu_pkg = _gpu_package(release, plat, walk.accel)
        if gpu_pkg is None:
            rej.add(f"{label}: no {walk.accel} build for {plat}")
            return None
        if walk.accel != "cuda":
            return Build(PythonNeed.of(release.python), Chosen(gpu_pkg))
        cuda = CudaBuild(f"cu{release.cuda.replace('.', '')}", release.cuda, release.archs, release.ptx)
        pick = pick_cuda([cuda], walk.situation, walk.report, label, rej)
        if pick is None:
            return None
        return Build(PythonNeed.of(release.python), Chosen(gpu_pkg, list(pick.reasons), list(pick.warnings)))

    def plan(
        self, walk: Walk, release: TfRelease, build: Build[Chosen], py: PythonChoice, local_only: bool
    ) -> Optional[Plan]:
        version = pinned_version(release.version, walk.request.version)
        chosen, plat = build.found, walk.platform
        warnings = list(chosen.warnings)
        if chosen.gpu_package is None:
            pkg = release.cpu_package
            if plat.startswith("macos") or (plat == "linux-aarch64" and pkg == "tensorflow-cpu"):
                pkg = "tensorflow"
            packages = [f"{pkg}=={version}"]
            variant = "cpu"
            reasons = [f"{pkg}: the CPU-only package, no CUDA libraries pulled"]
        else:
            packages = [f"{chosen.gpu_package}=={version}"]
            reasons = list(chosen.reasons)
            if walk.accel == "mps":
                variant = "metal"
                packages.append("tensorflow-metal")
            else:
                variant = f"cu{release.cuda.replace('.', '')}"
                if not release.bundles_cuda:
                    warnings.append(_system_cuda_note(release, walk.report))
        if release.numpy:
            packages.append(f"numpy{release.numpy}")
        return Plan(
            framework=walk.recipe.name,
            version=version,
            variant=variant,
            accelerator=walk.accel,
            python=py.minor,
            packages=packages,
            smoke=str(walk.recipe.smoke or ""),
            reasons=[f"{walk.display} {release.version}: newest release that fits", *reasons],
            warnings=warnings,
            env={"TF_CPP_MIN_LOG_LEVEL": "2"},
            needs=MachineNeeds(release.cuda, release.archs, release.ptx)
            if walk.accel == "cuda"
            else MachineNeeds(),
        )


def _system_cuda_note(release: TfRelease, report: SystemReport) -> str:
    """TensorFlow before 2.14 loads CUDA and cuDNN from the system; its wheel brings neither."""
    want = versions.release(release.cuda, 2)
    have = [t for t in report.cuda_toolkits if t.version and versions.release(t.version, 2) == want]
    found = f"; found CUDA {have[0].version} at {have[0].path}" if have else "; none found on this machine"
    return (
        f"TensorFlow {release.version} loads CUDA {release.cuda} and cuDNN {release.cudnn} from the system "
        f"(the wheel brings neither): install them before use{found}"
    )


HOOK = TensorflowHook()
