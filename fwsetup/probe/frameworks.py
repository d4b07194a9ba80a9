"""ML frameworks installed for the interpreter the user works in, from package metadata only.

Which interpreter: `doctor --python PATH`, else the active VIRTUAL_ENV or CONDA_PREFIX, else the
python on PATH, else fwsetup's own; the report says which it read ("why is torch.cuda
unavailable in my venv?" is about the venv, not about wherever fwsetup was installed). A foreign
interpreter is asked only for its sys.path; its packages are read from disk like ours.
Never imported: `import torch` alone takes seconds. The CUDA build is read from the
version's local tag (2.9.1+cu128), the package name (cupy-cuda12x, mxnet-cu112) or,
for PyPI's default CUDA wheels that carry no tag, the nvidia-* runtime wheels beside it.
"""

from __future__ import annotations

import json
import os
import re
import sys

from fwsetup.probe import dists, syspath
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import Framework, FrameworksSource

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
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
    python, source = target(env)
    paths: Optional[list[str]] = None
    version: Optional[str] = f"{sys.version_info[0]}.{sys.version_info[1]}"
    on_disk = read_layout(python) if source != "fwsetup" else None
    if on_disk is not None:
        version, paths = on_disk
    elif source != "fwsetup":
        answer = env.run(
            [python, "-c", "import sys, json; print(json.dumps(['%d.%d' % sys.version_info[:2], sys.path]))"]
        )
        try:
            version, paths = json.loads(answer.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError, TypeError):
            out.problem(
                "python-unreadable",
                f"cannot read the packages of {python} ({source}): "
                + (answer.error or answer.stderr.strip()[-200:] or f"exit {answer.returncode}"),
                "frameworks",
            )
            version, paths = None, []
    out.fields["frameworks_from"] = FrameworksSource(python=python, source=source, python_version=version)
    # what it imports from, and why: PYTHONPATH and .pth directories as well as site-packages
    if on_disk is not None:
        entries = syspath.build(paths or [], env.environ)
    else:
        entries = syspath.label(sys.path if paths is None else paths, env.environ)
    installed = dists.scan([path for path, _ in entries])
    runtime_cuda = cuda_runtime_wheel_version(installed)
    found = []
    for dist in installed.values():
        fw = classify(dist, runtime_cuda, syspath.origin_of(entries, dist.location))
        if fw is not None:
            found.append(fw)
    out.fields["frameworks"] = sorted(found, key=lambda f: f.name)
    return out


def target(env: ProbeEnv) -> tuple[str, str]:
    """(interpreter, why this one). "fwsetup" means this very process: nothing to ask."""
    if env.python:
        return _interpreter(os.path.abspath(os.path.expanduser(env.python))), "--python"
    if str(env.root) != "/":  # a recorded machine: only the running interpreter is real
        return sys.executable, "fwsetup"
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = env.environ.get(variable)
        if prefix and os.path.isdir(prefix):
            if _same_prefix(prefix):
                return sys.executable, "fwsetup"
            return _interpreter(prefix), variable
    on_path = env.which("python3") or env.which("python")
    if on_path:
        on_path = pyenv_shim_target(on_path, env.environ) or on_path
    if on_path and not _same_prefix(_prefix_of(on_path)):
        return on_path, "PATH"
    return sys.executable, "fwsetup"


def pyenv_shim_target(shim: str, environ: Mapping[str, str]) -> Optional[str]:
    """The interpreter a pyenv shim runs, chosen as pyenv chooses it (PYENV_VERSION, else a
    .python-version file in the working directory or above, else $PYENV_ROOT/version), found
    without starting the shim: a bash script that costs doctor 100 ms. None for the "system"
    version or anything unusual (then the shim is what is asked)."""
    shims = os.path.dirname(shim)
    if os.path.basename(shims) != "shims":
        return None
    root = environ.get("PYENV_ROOT") or os.path.dirname(shims)
    names = (environ.get("PYENV_VERSION") or "").replace(":", " ").split()
    if not names:
        names = _version_file_names(_nearest_version_file() or os.path.join(root, "version"))
    for name in names:
        candidate = os.path.join(root, "versions", name, "bin", os.path.basename(shim))
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _nearest_version_file() -> Optional[str]:
    try:
        here = os.getcwd()
    except OSError:
        return None
    while True:
        found = os.path.join(here, ".python-version")
        if os.path.isfile(found):
            return found
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _version_file_names(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read(4096).splitlines()
    except OSError:
        return []
    return [w for ln in lines if not ln.lstrip().startswith("#") for w in ln.split()[:1]]


def read_layout(python: str) -> Optional[tuple[Optional[str], list[str]]]:
    """A venv's or conda env's Python version and site-packages, read from disk (no child
    process: a pyenv shim alone costs 100 ms); None when only the interpreter can say."""
    prefix = _prefix_of(python)
    cfg = os.path.join(prefix, "pyvenv.cfg")
    version: Optional[str] = None
    if os.path.isfile(cfg):
        try:
            with open(cfg, encoding="utf-8") as fh:
                settings = {k.strip().lower(): v.strip() for k, _, v in (ln.partition("=") for ln in fh) if v}
        except OSError:
            return None
        if settings.get("include-system-site-packages", "false").lower() == "true":
            return None  # the base interpreter's packages count too: ask it
        full = settings.get("version_info") or settings.get("version") or ""
        version = ".".join(full.split(".")[:2]) or None
    elif not os.path.isdir(os.path.join(prefix, "conda-meta")):
        return _plain_install_layout(python, prefix)
    from fwsetup.probe.interpreters import dir_entries

    sites = [
        os.path.join(d, "site-packages")
        for d in dir_entries(os.path.join(prefix, "lib"), "python")
        if os.path.isdir(os.path.join(d, "site-packages"))
    ]
    sites += [p for p in (os.path.join(prefix, "Lib", "site-packages"),) if os.path.isdir(p)]
    if not sites:
        return None
    if version is None:
        m = re.search(r"python(\d+\.\d+)", sites[0])
        version = m.group(1) if m else None
    return version, sites


def _plain_install_layout(python: str, prefix: str) -> Optional[tuple[Optional[str], list[str]]]:
    """A self-contained install (pyenv, python.org, uv): X.Y from the binary's name, its
    site-packages under the prefix, and the user site pip --user writes to. None for layouts
    only the interpreter knows (Debian's dist-packages under /usr): then it is asked."""
    found = re.fullmatch(r"python(\d+\.\d+)", os.path.basename(os.path.realpath(python)))
    if found is None or prefix in ("/usr", "/"):
        return None
    version = found.group(1)
    site = os.path.join(prefix, "lib", f"python{version}", "site-packages")
    if not os.path.isdir(site):
        return None
    user = os.path.join(os.path.expanduser("~"), ".local", "lib", f"python{version}", "site-packages")
    return version, [site, *([user] if os.path.isdir(user) else [])]


def _interpreter(path: str) -> str:
    """A venv or conda directory → its python; a file stays as it is."""
    if os.path.isdir(path):
        for candidate in ("bin/python", "bin/python3", "Scripts/python.exe", "python.exe"):
            if os.path.isfile(os.path.join(path, candidate)):
                return os.path.join(path, candidate)
    return path


def _prefix_of(python: str) -> str:
    """The prefix an interpreter on PATH belongs to: its venv (pyvenv.cfg beside bin/) or its install."""
    bindir = os.path.dirname(os.path.abspath(python))
    parent = os.path.dirname(bindir)
    if os.path.isfile(os.path.join(parent, "pyvenv.cfg")):
        return parent
    return os.path.dirname(os.path.dirname(os.path.realpath(python)))


def _same_prefix(prefix: str) -> bool:
    return os.path.realpath(prefix) == os.path.realpath(sys.prefix)


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


def classify(
    dist: dists.Dist, runtime_cuda: Optional[str], origin: Optional[str] = None
) -> Optional[Framework]:
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
            origin=origin,
        )
    return None
