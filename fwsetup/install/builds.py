"""Which build of a framework the plan chose, which one the smoke script found, and whether they differ.

A smoke test that computes something proves little when the CPU wheel was installed where the CUDA,
ROCm or XPU build was planned (a dependency pulled the framework from the default index): the work
then "passes" on the CPU. So the smoke script reports the build it imported (torch.version.cuda/hip/
xpu, jaxlib's GPU plugin, TensorFlow's build info) and fwsetup compares it with the build the plan
chose. The planned build is derived here from plan data only (framework, variant, accelerator), so
every route gets it the same way: a new env and `--into` from the Plan, `smoke --env` from the env's
recorded plan, a lock from its checked target (which becomes a Plan), `smoke --python --gpu` from the
machine's GPU vendor. Nothing of it comes from a lock as code.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, Optional

from fwsetup import versions
from fwsetup.install.generation import GenerationMeta
from fwsetup.records import dataclass

GPU_BACKENDS = ("cuda", "rocm", "xpu", "mps")
NAMES = {"cuda": "CUDA", "rocm": "ROCm", "xpu": "XPU", "mps": "MPS", "cpu": "CPU"}
_CU = re.compile(r"^cu(\d+)(\d)$")  # PyTorch/TensorFlow variants: cu126 -> 12.6, cu118 -> 11.8
_CUDA_EXTRA = re.compile(r"^cuda(\d+)(?:_\w+)?$")  # JAX extras: cuda12, cuda12_pip -> 12
_ROCM = re.compile(r"^rocm(\d+(?:\.\d+)*)$")  # rocm6.1 -> 6.1


@dataclass(frozen=True)
class Build:
    backend: str  # cuda, rocm, xpu, mps or cpu
    version: Optional[str] = None  # the CUDA/ROCm version the build targets, where known

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "version": self.version}

    def describe(self) -> str:
        name = NAMES.get(self.backend, self.backend)
        return f"{name} {self.version} build" if self.version else f"{name} build"


def planned(variant: object, accelerator: object) -> Optional[Build]:
    """The build a plan chose, from its variant and accelerator (a Plan's, or an env's recorded
    entry, whose values are read as data); None when they say nothing."""
    if accelerator == "cpu":
        return Build("cpu")
    if not isinstance(accelerator, str) or accelerator not in GPU_BACKENDS:
        return None
    version = None
    name = variant.lower() if isinstance(variant, str) else ""
    for pattern in (_CU, _CUDA_EXTRA, _ROCM):
        m = pattern.match(name)
        if m:
            version = ".".join(m.groups())
            break
    return Build(accelerator, version)


def of_metadata(meta: GenerationMeta, framework: str) -> Optional[Build]:
    """The build an environment's recorded plan chose for `framework` (fwsetup.json's entry)."""
    for entry in meta.held():
        if entry.framework == framework:
            return planned(entry.variant, entry.accelerator)
    return None


def for_machine(root: str = "/", system: Optional[str] = None) -> Optional[Build]:
    """`smoke --python --gpu` has no plan: a GPU build of the vendor whose device nodes this machine
    has (NVIDIA's /dev/nvidiaN, a Jetson's /dev/nvhost-ctrl-gpu -> CUDA; AMD's /dev/kfd -> ROCm;
    macOS -> MPS); None when none or several say."""
    if (system or sys.platform) == "darwin":
        return Build("mps")
    dev = os.path.join(root, "dev")
    found = [
        backend
        for backend, present in (
            (
                "cuda",
                bool(glob.glob(os.path.join(dev, "nvidia[0-9]*")))
                or os.path.exists(f"{dev}/nvhost-ctrl-gpu"),
            ),
            ("rocm", os.path.exists(os.path.join(dev, "kfd"))),
        )
        if present
    ]
    return Build(found[0]) if len(found) == 1 else None


def found(data: Mapping[str, Any]) -> Optional[Build]:
    """The build a smoke script reported under "build" ({"backend", "version"}); None when absent."""
    value = data.get("build")
    if not isinstance(value, Mapping) or not isinstance(value.get("backend"), str):
        return None
    version = value.get("version")
    return Build(str(value["backend"]), str(version) if version else None)


def mismatch(want: Optional[Build], got: Optional[Build]) -> Optional[str]:
    """Why the found build is not the planned one; None when it is, or when either is unknown. A CPU
    plan accepts any build (PyPI's Linux TensorFlow is built with CUDA and runs on the CPU)."""
    if want is None or got is None or want.backend not in GPU_BACKENDS:
        return None
    differs = got.backend != want.backend
    # versions are compared for CUDA only: HIP's version is not always the ROCm tag of the wheel
    # (ROCm/TheRock#1025: 7.0 release candidates reported HIP 6.5)
    have = _dotted_release(got.version)
    if not differs and want.backend == "cuda" and want.version and have:
        planned_release = versions.release(want.version)
        differs = have[: len(planned_release)] != planned_release
    if differs:
        return f"the plan chose the {want.describe()}, but the environment holds the {got.describe()}"
    return None


def _dotted_release(text: Optional[str]) -> tuple[int, ...]:
    """(12, 6) of '12.6' or '12.6.77', (12,) of JAX's '12'; () for anything else, which is then not
    compared (TensorFlow's Windows builds report their CUDA as '64_112')."""
    m = re.match(r"(\d+(?:\.\d+)*)(?:$|[^\d_])", (text or "").strip())
    return versions.release(m.group(1)) if m else ()
