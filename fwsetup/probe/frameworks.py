"""ML frameworks installed in the running interpreter, from package metadata only.

Never imported: `import torch` alone takes seconds. The CUDA build is read from the
version's local tag (2.9.1+cu128), the package name (cupy-cuda12x, mxnet-cu112) or,
for PyPI's default CUDA wheels that carry no tag, the nvidia-* runtime wheels beside it.
"""

from __future__ import annotations

import re

from fwsetup.probe import dists
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import Framework

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

# Distribution names (normalised) that are ML frameworks, or their GPU plugins, and the
# framework each belongs to. Patterns cover per-CUDA package names.
FRAMEWORK_PACKAGES: tuple[tuple[str, str], ...] = (
    (r"torch", "torch"),
    (r"torchvision", "torchvision"),
    (r"torchaudio", "torchaudio"),
    (r"tensorflow", "tensorflow"),
    (r"tensorflow-cpu", "tensorflow"),
    (r"tensorflow-gpu", "tensorflow"),
    (r"tensorflow-macos", "tensorflow"),
    (r"tf-keras", "tf-keras"),
    (r"keras", "keras"),
    (r"jax", "jax"),
    (r"jaxlib", "jaxlib"),
    (r"jax-cuda(?P<cuda>\d+)-plugin", "jax-cuda-plugin"),
    (r"jax-rocm(?P<rocm>\d+)-plugin", "jax-rocm-plugin"),
    (r"mxnet", "mxnet"),
    (r"mxnet-cu(?P<cudanum>\d+)(mkl)?", "mxnet"),
    (r"theano", "theano"),
    (r"lasagne", "lasagne"),
    (r"cntk", "cntk"),
    (r"cntk-gpu", "cntk"),
    (r"chainer", "chainer"),
    (r"cupy", "cupy"),
    (r"cupy-cuda(?P<cudax>\d+)x", "cupy"),
    (r"cupy-cuda(?P<cudanum>\d{3,})", "cupy"),
    (r"paddlepaddle", "paddlepaddle"),
    (r"paddlepaddle-gpu", "paddlepaddle"),
    (r"onnxruntime", "onnxruntime"),
    (r"onnxruntime-gpu", "onnxruntime"),
    (r"brainstorm", "brainstorm"),
)
_COMPILED = [(re.compile(f"^{pat}$"), name) for pat, name in FRAMEWORK_PACKAGES]
_LOCAL_TAG = re.compile(r"\+(?P<tag>cu(?P<cu>\d+)|cpu|rocm(?P<rocm>[\d.]+)|xpu)")
_CUDA_RUNTIME = re.compile(r"^nvidia-cuda-runtime(-cu(?P<major>\d+))?$")


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    installed = dists.scan()
    runtime_cuda = cuda_runtime_wheel_version(installed)
    found = []
    for dist in installed.values():
        fw = classify(dist, runtime_cuda)
        if fw is not None:
            found.append(fw)
    out.fields["frameworks"] = sorted(found, key=lambda f: f.name)
    return out


def cuda_runtime_wheel_version(installed: dict[str, dists.Dist]) -> Optional[str]:
    """major.minor of the nvidia-cuda-runtime wheel PyPI's CUDA builds depend on."""
    for name, dist in installed.items():
        if _CUDA_RUNTIME.match(name):
            parts = dist.version.split(".")
            if len(parts) >= 2 and parts[0].isdigit():
                return f"{parts[0]}.{parts[1]}"
    return None


def cuda_from_number(num: str) -> str:
    """'128' → '12.8', '92' → '9.2', '112' → '11.2' (the cuXYZ naming)."""
    return f"{num[:-1]}.{num[-1]}"


def classify(dist: dists.Dist, runtime_cuda: Optional[str]) -> Optional[Framework]:
    for pattern, framework in _COMPILED:
        m = pattern.match(dist.name)
        if not m:
            continue
        cuda: Optional[str] = None
        variant: Optional[str] = None
        groups = m.groupdict()
        tag = _LOCAL_TAG.search(dist.version)
        if tag:
            variant = tag.group("tag")
            if tag.group("cu"):
                cuda = cuda_from_number(tag.group("cu"))
        elif groups.get("cudanum"):
            cuda = cuda_from_number(groups["cudanum"])
            variant = f"cu{groups['cudanum']}"
        elif groups.get("cudax") or groups.get("cuda"):
            major = groups.get("cudax") or groups["cuda"]
            cuda = major
            variant = f"cuda{major}"
        elif groups.get("rocm"):
            variant = f"rocm{groups['rocm']}"
        elif framework in ("torch", "tensorflow", "jaxlib") and runtime_cuda:
            # PyPI's default Linux wheels carry no tag but pull nvidia-* CUDA wheels.
            cuda = runtime_cuda
            variant = "cu" + runtime_cuda.replace(".", "")
        return Framework(
            name=dist.name,
            version=dist.version,
            cuda=cuda,
            variant=variant,
            location=dist.location,
        )
    return None
