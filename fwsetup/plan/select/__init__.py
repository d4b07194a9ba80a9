"""The decision: Recipe × SystemReport × Request → Plan, or a Refusal that explains itself.

Pure: no I/O, no subprocess. Everything it knows about the machine is in the report
(which may describe another machine), everything about the world is in the recipe and
the data tables. Each choice appends its reason, so `--dry-run` answers "why this build?".

The rules users expect, which pip, conda and `uv --torch-backend=auto` get wrong:
the newest build that supports every GPU's architecture AND the driver AND the Python
AND the OS/arch; on a mixed box one that covers all GPUs, or a refusal naming the GPU
it cannot serve; `--gpu` without a usable GPU is refused with the cause; `--cpu` never
pulls CUDA packages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Optional, Union

from packaging.specifiers import SpecifierSet
from packaging.tags import parse_tag

from fwsetup import facts as data
from fwsetup.errors import Refusal
from fwsetup.facts.compat import cc_covered, driver_runs_cuda, vtuple
from fwsetup.plan.model import LocalWheel, Plan, Request, Step
from fwsetup.plan.recipes import Recipe, Variant
from fwsetup.report import GPU, SystemReport

Outcome = Union[Plan, Refusal]

# CPython minor versions fwsetup can name when none is on the machine (newest first).
KNOWN_PYTHONS = ("3.14", "3.13", "3.12", "3.11", "3.10", "3.9", "3.8", "3.7", "3.6", "3.5", "2.7")

GPU_ACCELERATORS = ("cuda", "rocm", "mps")

# The glibc each legacy manylinux tag stands for (PEP 600: manylinux1 = 2_5, 2010 = 2_12, 2014 = 2_17).
MANYLINUX_LEGACY = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}


# ---------------------------------------------------------------- machine facts


def platform_key(report: SystemReport) -> str:
    """'linux-x86_64', 'linux-aarch64', 'macos-arm64', 'macos-x86_64', 'windows-amd64'."""
    system = report.os.system.lower()
    arch = (report.os.arch or "").lower()
    if system == "darwin":
        return "macos-arm64" if arch in ("arm64", "aarch64") else "macos-x86_64"
    if system == "windows":
        return "windows-arm64" if arch in ("arm64", "aarch64") else "windows-amd64"
    if arch in ("amd64", "x86_64"):
        arch = "x86_64"
    elif arch in ("arm64", "aarch64"):
        arch = "aarch64"
    return f"{system}-{arch}"


def os_name(report: SystemReport) -> str:
    return {"darwin": "macos", "windows": "windows"}.get(report.os.system.lower(), report.os.system.lower())


def arch_name(report: SystemReport) -> str:
    return platform_key(report).split("-", 1)[1]


@dataclass(frozen=True)
class GpuSituation:
    accelerator: Optional[str]  # cuda, rocm, mps, or None when no usable GPU
    gpus: tuple[GPU, ...] = ()
    why_none: str = ""
    fix: str = ""


def gpu_situation(report: SystemReport, gpu_indices: Optional[Sequence[int]] = None) -> GpuSituation:
    nvidia = [g for g in report.nvidia_gpus() if gpu_indices is None or g.index in gpu_indices]
    if nvidia and report.nvidia is not None:
        return GpuSituation("cuda", tuple(nvidia))
    amd = [g for g in report.gpus if g.vendor == "amd"]
    if amd and report.rocm is not None and os_name(report) == "linux":
        return GpuSituation("rocm", tuple(amd))
    apple = [g for g in report.gpus if g.vendor == "apple"]
    if apple:
        return GpuSituation("mps", tuple(apple))
    codes = {p.code: p.message for p in report.problems}
    if "nvidia-driver-library-mismatch" in codes:
        return GpuSituation(
            None,
            why_none="the NVIDIA driver libraries do not match the loaded kernel module "
            f"({codes['nvidia-driver-library-mismatch']})",
            fix="reboot so the kernel module matches the driver libraries, or use --cpu",
        )
    if "nvidia-driver-unreachable" in codes:
        return GpuSituation(
            None,
            why_none="nvidia-smi cannot communicate with the NVIDIA driver",
            fix="install the NVIDIA driver for this kernel and reboot, or use --cpu",
        )
    if any(d.vendor == "nvidia" for d in report.pci_display_devices):
        return GpuSituation(
            None,
            why_none="an NVIDIA GPU is on the PCI bus but no NVIDIA driver is loaded",
            fix="install the NVIDIA driver (e.g. `ubuntu-drivers install`) and reboot, or use --cpu",
        )
    if amd:
        return GpuSituation(
            None,
            why_none="an AMD GPU is present but ROCm is not installed",
            fix="install ROCm (https://rocm.docs.amd.com), or use --cpu",
        )
    return GpuSituation(
        None,
        why_none="no GPU with a working driver was found on this machine",
        fix="install a GPU driver (NVIDIA: your distribution's nvidia-driver package), or use --cpu",
    )


# ---------------------------------------------------------------- interpreters


@dataclass(frozen=True)
class PythonChoice:
    minor: str
    interpreter: Optional[str]
    reason: str
    hint: Optional[str] = None


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def local_pythons(report: SystemReport) -> list[tuple[str, str]]:
    """(minor, executable) for every interpreter doctor found, the running one first."""
    out: list[tuple[str, str]] = [(_minor(report.python.version), report.python.executable)]
    seen = {out[0][0]}
    for interp in report.interpreters:
        m = _minor(interp.version)
        if m not in seen:
            seen.add(m)
            out.append((m, interp.executable))
    return out


def install_hint(minor: str, report: SystemReport) -> str:
    if report.tools.get("uv") or report.python.uv_version:
        return f"uv python install {minor}"
    if report.tools.get("pyenv"):
        return f"pyenv install {minor}"
    return f"uv python install {minor}  (or: pyenv install {minor})"


def choose_python(
    spec: SpecifierSet, report: SystemReport, request: Request, allow_missing: bool
) -> Optional[PythonChoice]:
    """An interpreter for `spec`: the asked one, the running one, another on the machine,
    or — when allowed — the newest CPython in spec that fwsetup will have to fetch."""
    locals_ = local_pythons(report)
    if request.python:
        wanted = _minor(request.python)
        if not spec.contains(wanted + ".0", prereleases=True):
            return None
        for minor, exe in locals_:
            if minor == wanted:
                return PythonChoice(minor, exe, f"Python {minor} as asked ({exe})")
        if not allow_missing:
            return None
        return PythonChoice(
            wanted,
            None,
            f"Python {wanted} as asked; it is not on this machine",
            install_hint(wanted, report),
        )
    for i, (minor, exe) in enumerate(locals_):
        if spec.contains(minor + ".0", prereleases=True):
            which = "the running Python" if i == 0 else "found on this machine"
            return PythonChoice(minor, exe, f"Python {minor} ({which}: {exe})")
    if not allow_missing:
        return None
    for minor in KNOWN_PYTHONS:
        if spec.contains(minor + ".0", prereleases=True):
            return PythonChoice(
                minor,
                None,
                f"needs Python {spec}; none on this machine fits, newest fitting is {minor}",
                install_hint(minor, report),
            )
    return None


# ---------------------------------------------------------------- wheels on disk


def wheel_fits(tags: Iterable[str], python_minor: str, report: SystemReport) -> bool:
    """Whether a wheel with these compressed tag strings installs on (python, this OS/arch/libc)."""
    major, minor = ([*python_minor.split("."), "0"])[:2]
    interp_ok = {f"cp{major}{minor}", f"py{major}{minor}", f"py{major}"}
    arch = arch_name(report)
    system = os_name(report)
    glibc = vtuple(report.os.libc.version) if report.os.libc and report.os.libc.name == "glibc" else ()
    for compressed in tags:
        try:
            parsed = parse_tag(compressed)
        except ValueError:
            continue
        for tag in parsed:
            if tag.interpreter not in interp_ok:
                continue
            if tag.abi not in (
                "none",
                "abi3",
                f"cp{major}{minor}",
                f"cp{major}{minor}m",
                f"cp{major}{minor}mu",
            ):
                continue
            if _platform_ok(tag.platform, system, arch, glibc):
                return True
    return False


def _platform_ok(plat: str, system: str, arch: str, glibc: tuple[int, ...]) -> bool:
    if plat == "any":
        return True
    if system == "linux":
        for prefix, needs in MANYLINUX_LEGACY.items():
            if plat == f"{prefix}_{arch}":
                return bool(glibc) and glibc[:2] >= needs
        if plat.startswith("manylinux_") and plat.endswith(f"_{arch}"):
            parts = plat.split("_")
            needs = (int(parts[1]), int(parts[2]))
            return bool(glibc) and glibc[:2] >= needs
        return plat == f"linux_{arch}"
    if system == "macos":
        return plat.startswith("macosx_") and (plat.endswith(arch) or plat.endswith("universal2"))
    if system == "windows":
        return plat == ("win_amd64" if arch in ("amd64", "x86_64") else "win_arm64")
    return False


# ---------------------------------------------------------------- shared helpers


def version_matches(candidate: str, wanted: Optional[str]) -> bool:
    """'2.7' matches 2.7.0 and 2.7.1; '2.7.1' only 2.7.1 (by numeric prefix)."""
    if not wanted:
        return True
    w = vtuple(wanted)
    return vtuple(candidate)[: len(w)] == w


def at_least(candidate: str, floor: Optional[str]) -> bool:
    return floor is None or vtuple(candidate) >= vtuple(floor)


def pinned_version(release_version: str, wanted: Optional[str]) -> str:
    """The exact version to install: what the user pinned when it is a full X.Y.Z, else the
    newest patch of the release."""
    if wanted and len(vtuple(wanted)) >= 3:
        return wanted
    return release_version


def resolve_accelerator(request: Request, report: SystemReport) -> tuple[str, GpuSituation, list[str]]:
    """cpu / cuda / rocm / mps for this request on this machine, or a Refusal raised."""
    situation = gpu_situation(report, request.gpu_indices)
    if request.accelerator == "cpu":
        return "cpu", situation, ["--cpu asked: CPU-only build, no CUDA packages"]
    if situation.accelerator is None:
        if request.accelerator == "gpu":
            raise Refusal(
                f"--gpu asked but {situation.why_none}",
                situation.fix,
                code="no-usable-gpu",
            )
        return "cpu", situation, [f"no GPU build: {situation.why_none}; using the CPU build"]
    names = ", ".join(f"#{g.index} {g.name}" for g in situation.gpus)
    return situation.accelerator, situation, [f"{situation.accelerator.upper()} GPU(s): {names}"]


def describe_gpu(gpu: GPU) -> str:
    cc = f"sm_{gpu.compute_capability.replace('.', '')}" if gpu.compute_capability else "unknown arch"
    return f"GPU {gpu.index} {gpu.name or '?'} ({cc})"


def gpu_coverage(
    gpus: Sequence[GPU], archs: Sequence[str], ptx: Sequence[str]
) -> tuple[list[GPU], list[GPU]]:
    """(not covered, unknown capability) for a build with these archs."""
    missing, unknown = [], []
    for gpu in gpus:
        if not gpu.compute_capability:
            unknown.append(gpu)
        elif not cc_covered(gpu.compute_capability, archs, ptx):
            missing.append(gpu)
    return missing, unknown


@dataclass
class Rejections:
    """Why each candidate build was turned down; the refusal is built from these."""

    reasons: list[str] = field(default_factory=list)
    arch_misses: dict[int, GPU] = field(default_factory=dict)
    covered: set[int] = field(default_factory=set)  # GPUs some candidate build has kernels for
    driver_misses: list[str] = field(default_factory=list)
    python_misses: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text not in self.reasons:
            self.reasons.append(text)


def below_capability_floor(gpus: Sequence[GPU], min_cc: Optional[str], label: str, rej: Rejections) -> bool:
    """Whether any GPU is older than a build's minimum compute capability (recorded in rej)."""
    low = [
        g for g in gpus if g.compute_capability and min_cc and vtuple(g.compute_capability) < vtuple(min_cc)
    ]
    for g in low:
        rej.arch_misses[g.index] = g
    if low:
        rej.add(f"{label}: needs compute capability >= {min_cc}; " + ", ".join(describe_gpu(g) for g in low))
    return bool(low)


def closing_refusal(
    display: str,
    accel: str,
    situation: GpuSituation,
    report: SystemReport,
    request: Request,
    rej: Rejections,
    specs: Sequence[str],
    platform_fix: str,
) -> Refusal:
    """Why nothing fitted, in order of what the user can act on: the GPUs and driver, the
    Python, then the platform."""
    if accel == "cuda" and (rej.arch_misses or rej.driver_misses):
        return cuda_refusal(display, situation, report, rej)
    if specs and not rej.arch_misses and not rej.driver_misses:
        return python_refusal(display, request, specs, report)
    return Refusal(
        f"no {display} {accel} build fits this machine: " + "; ".join(rej.reasons[:5]),
        "use --cpu" if accel != "cpu" else platform_fix,
        code="no-compatible-build",
    )


@dataclass(frozen=True)
class CudaPick:
    variant: dict[str, Any]
    reasons: list[str]
    warnings: list[str]


def pick_cuda_variant(
    variants: Sequence[dict[str, Any]],
    situation: GpuSituation,
    report: SystemReport,
    label: str,
    rejections: Rejections,
) -> Optional[CudaPick]:
    """Among CUDA builds: those covering every GPU and runnable on the driver. Prefer the
    highest CUDA the driver fully supports; else the lowest that runs under minor-version
    compatibility (closest to the driver, fewest PTX/JIT surprises)."""
    nv = report.nvidia
    full: list[tuple[dict[str, Any], list[str]]] = []
    compat: list[tuple[dict[str, Any], list[str]]] = []
    for v in variants:
        missing, unknown = gpu_coverage(situation.gpus, v.get("archs", []), v.get("ptx", []))
        rejections.covered.update(g.index for g in situation.gpus if g not in missing)
        if missing:
            for g in missing:
                rejections.arch_misses[g.index] = g
            archs = " ".join(f"sm_{a.replace('.', '')}" for a in v.get("archs", []))
            rejections.add(
                f"{label} {v['name']}: no kernels for "
                + ", ".join(describe_gpu(g) for g in missing)
                + f" (ships {archs})"
            )
            continue
        runs, fully = driver_runs_cuda(
            nv.driver_version if nv else None,
            nv.cuda_driver_version if nv else None,
            v["cuda"],
            report.os.system,
        )
        if not runs:
            msg = (
                f"{label} {v['name']}: needs a driver for CUDA {v['cuda']}; driver "
                f"{nv.driver_version if nv else '?'} supports CUDA {(nv.cuda_driver_version if nv else None) or '?'}"
            )
            rejections.add(msg)
            rejections.driver_misses.append(v["cuda"])
            continue
        notes = []
        if v.get("verified") is False:
            notes.append(
                f"{label} {v['name']}: fwsetup's data for this build is not verified ({v.get('note', 'no primary source')})"
            )
        if unknown:
            notes.append(
                "compute capability unknown for "
                + ", ".join(describe_gpu(g) for g in unknown)
                + ": cannot check that this build has kernels for it"
            )
        (full if fully else compat).append((v, notes))
    nv_desc = f"driver {nv.driver_version} (CUDA {nv.cuda_driver_version or '?'})" if nv else "driver ?"
    gpu_desc = ", ".join(describe_gpu(g) for g in situation.gpus)
    if full:
        v, notes = max(full, key=lambda item: vtuple(item[0]["cuda"]))
        return CudaPick(
            v,
            [
                f"{v['name']}: the highest CUDA build that {nv_desc} fully supports and that has kernels for {gpu_desc}"
            ],
            notes,
        )
    if compat:
        v, notes = min(compat, key=lambda item: vtuple(item[0]["cuda"]))
        return CudaPick(
            v,
            [
                f"{v['name']}: runs on {nv_desc} through NVIDIA minor-version compatibility and has kernels for {gpu_desc}"
            ],
            [
                *notes,
                f"{nv_desc} is older than CUDA {v['cuda']}: it runs with a limited feature set "
                "(no PTX JIT of newer code); upgrade the driver for full support",
            ],
        )
    return None


def cuda_refusal(display: str, situation: GpuSituation, report: SystemReport, rej: Rejections) -> Refusal:
    nv = report.nvidia
    gpus = list(situation.gpus)
    never = [g for g in gpus if g.index not in rej.covered]
    if len(gpus) > 1 and (never or rej.arch_misses) and len(never) < len(gpus):
        culprits = never or [g for g in gpus if g.index in rej.arch_misses]
        others = ",".join(str(g.index) for g in gpus if g not in culprits) or "0"
        why = "has kernels in no build" if never else "is not covered by the builds that fit the others"
        return Refusal(
            f"no single {display} build covers every GPU here: "
            + ", ".join(describe_gpu(g) for g in culprits)
            + f" {why}",
            f"serve the other GPUs only with --gpus {others} (and CUDA_VISIBLE_DEVICES={others} at run time), or use --cpu",
            code="gpus-not-covered",
        )
    if never and not rej.driver_misses:
        return Refusal(
            f"no {display} build known to fwsetup has kernels for "
            + ", ".join(describe_gpu(g) for g in never),
            "use --cpu, or build from source with TORCH_CUDA_ARCH_LIST set for this GPU",
            code="gpu-arch-unsupported",
        )
    if rej.driver_misses:
        oldest = min(rej.driver_misses, key=vtuple)
        return Refusal(
            f"no {display} build runs on NVIDIA driver {nv.driver_version if nv else '?'} "
            f"(supports CUDA {(nv.cuda_driver_version if nv else None) or '?'}); the oldest fitting "
            f"build needs CUDA {oldest}",
            f"upgrade the NVIDIA driver to one that supports CUDA {oldest} or newer, or use --cpu",
            code="driver-too-old",
        )
    return Refusal(
        f"no {display} GPU build fits this machine: " + "; ".join(rej.reasons[:6]),
        "use --cpu, or see `fwsetup doctor` for what to fix",
        code="no-compatible-build",
    )


def python_refusal(display: str, request: Request, specs: Sequence[str], report: SystemReport) -> Refusal:
    uniq = sorted(set(specs))
    if request.python:
        return Refusal(
            f"{display} has no build for Python {request.python} that fits this machine "
            f"(builds need Python {' or '.join(uniq)})",
            "pick another --python, or leave it out and fwsetup chooses",
            code="python-unsupported",
        )
    return Refusal(
        f"no Python for {display} on this machine (needs {' or '.join(uniq)})",
        "install one, e.g. `uv python install 3.12`",
        code="python-unsupported",
    )


def finish(plan: Plan, py: PythonChoice) -> Plan:
    reasons = [*plan.reasons, py.reason]
    return replace(
        plan, python=py.minor, interpreter=py.interpreter, interpreter_hint=py.hint, reasons=reasons
    )


def candidate_releases(
    table: dict[str, Any], display: str, request: Request
) -> Union[list[dict[str, Any]], Refusal]:
    """A build matrix's releases that --version (and a dependent's floor) allow, newest first."""
    every = table["release"]
    releases = [
        r
        for r in sorted(every, key=lambda r: vtuple(r["version"]), reverse=True)
        if version_matches(r["version"], request.version) and at_least(r["version"], request.min_version)
    ]
    if releases:
        return releases
    known = ", ".join(r["version"] for r in sorted(every, key=lambda r: vtuple(r["version"])))
    return Refusal(
        f"{display} {request.version} is not a release fwsetup knows (known: {known})",
        "pick one of the known releases with --version",
        code="unknown-version",
    )


# ---------------------------------------------------------------- PyTorch


def select_pytorch(recipe: Recipe, report: SystemReport, request: Request) -> Outcome:
    display = recipe.display_name
    accel, situation, reasons = resolve_accelerator(request, report)
    plat = platform_key(report)
    releases = candidate_releases(data.load("pytorch"), display, request)
    if isinstance(releases, Refusal):
        return releases
    rej = Rejections()
    specs: list[str] = []
    # Pass 1: a build already on disk (pip find-links, --wheelhouse) that fits beats a download.
    passes = [(True, False)] if request.local_wheels else []
    for local_only, allow_missing in [*passes, (False, False), (False, True)]:
        for release in releases:
            variants = [
                v
                for v in release.get("variant", [])
                if plat in v.get("platforms", [])
                and (_torch_accel(v) == accel or (accel == "mps" and v["name"] == "cpu"))
                and (request.variant is None or v["name"] == request.variant)
            ]
            if not variants:
                rej.add(f"{display} {release['version']}: no {accel} build for {plat}")
                continue
            spec = SpecifierSet(release.get("python", ""))
            specs.append(str(spec))
            py = choose_python(spec, report, request, allow_missing)
            if py is None:
                continue
            version = pinned_version(release["version"], request.version)
            outcome = _torch_plan(
                recipe, release, version, variants, accel, situation, report, request, py, rej, local_only
            )
            if outcome is not None:
                outcome = replace(outcome, reasons=[*reasons, *outcome.reasons])
                return finish(outcome, py)
    return closing_refusal(
        display, accel, situation, report, request, rej, specs, "see `fwsetup list` for supported platforms"
    )


def _torch_accel(variant: dict[str, Any]) -> str:
    name = str(variant["name"])
    if name.startswith("cu"):
        return "cuda"
    if name.startswith("rocm"):
        return "rocm"
    if name == "mps":
        return "mps"
    return "cpu"


def _torch_plan(
    recipe: Recipe,
    release: dict[str, Any],
    version: str,
    variants: list[dict[str, Any]],
    accel: str,
    situation: GpuSituation,
    report: SystemReport,
    request: Request,
    py: PythonChoice,
    rej: Rejections,
    local_only: bool = False,
) -> Optional[Plan]:
    plat = platform_key(report)
    warnings: list[str] = []
    reasons: list[str] = []
    if accel == "cuda":
        pick = pick_cuda_variant(variants, situation, report, f"{recipe.display_name} {version}", rej)
        if pick is None:
            return None
        variant, reasons, warnings = pick.variant, list(pick.reasons), list(pick.warnings)
    elif accel == "rocm":
        rocm = _pick_rocm(variants, situation, rej, f"{recipe.display_name} {version}")
        if rocm is None:
            return None
        variant = rocm
        reasons = [
            f"{variant['name']}: a ROCm build listing {', '.join(g.compute_capability or '?' for g in situation.gpus)}"
        ]
    elif accel == "mps":
        variant = variants[0]
        reasons = ["macOS arm64 wheels from PyPI include the Metal (MPS) backend"]
    else:
        variant = variants[0]
        reasons = [f"{variant['name']} build for {plat}"]
    name = variant["name"]
    local = _local_torch_wheel(request.local_wheels, release, request.version, name, py.minor, report)
    if local_only and local is None:
        return None
    if local is not None:
        version = local.version.split("+")[0]
    pypi_default = release.get("pypi_default")
    index_urls: list[str] = []
    find_links: list[str] = []
    if local is not None:
        requirement = f"torch=={local.version}"
        find_links = [local.path.rsplit("/", 1)[0]]
        reasons.append(f"torch {local.version} is already on disk ({local.path}): no download")
    elif (name == pypi_default and plat == "linux-x86_64") or (
        name == "cpu" and plat.startswith(("macos", "windows"))
    ):
        requirement = f"torch=={version}"
        reasons.append(f"PyPI's torch {version} for {plat} is the {name} build: no extra index needed")
    else:
        requirement = f"torch=={version}+{name}"
        index_urls = [variant.get("index_url") or f"https://download.pytorch.org/whl/{name}"]
        reasons.append(f"torch {version}+{name} comes from the PyTorch index {index_urls[0]}")
    return Plan(
        framework=recipe.name,
        version=version,
        variant="mps" if accel == "mps" else name,
        accelerator=accel,
        python=py.minor,
        packages=[requirement],
        index_urls=index_urls,
        find_links=find_links,
        smoke=str(recipe.smoke or ""),
        reasons=[
            f"{recipe.display_name} {version}: "
            + (
                "the newest fitting release already on disk"
                if local is not None
                else "newest release that fits"
            ),
            *reasons,
        ],
        warnings=warnings,
    )


def _local_torch_wheel(
    wheels: Sequence[LocalWheel],
    release: dict[str, Any],
    wanted: Optional[str],
    variant: str,
    python_minor: str,
    report: SystemReport,
) -> Optional[LocalWheel]:
    """The newest torch wheel on disk of this release series and variant that installs here."""
    series = ".".join(release["version"].split(".")[:2])
    best: Optional[LocalWheel] = None
    for wheel in wheels:
        if wheel.name != "torch" or "+" not in wheel.version:
            continue
        base, label = wheel.version.split("+", 1)
        if label != variant or not version_matches(base, wanted or series):
            continue
        if not version_matches(base, series) or not wheel_fits(wheel.tags, python_minor, report):
            continue
        if best is None or vtuple(base) > vtuple(best.version.split("+")[0]):
            best = wheel
    return best


def _pick_rocm(
    variants: list[dict[str, Any]], situation: GpuSituation, rej: Rejections, label: str
) -> Optional[dict[str, Any]]:
    best = None
    for v in variants:
        targets = v.get("gfx", [])
        if not targets:  # coverage cannot be checked: never bet a GPU on it
            rej.add(f"{label} {v['name']}: fwsetup does not know which gfx targets it ships")
            continue
        missing = [g for g in situation.gpus if g.compute_capability not in targets]
        if missing:
            rej.add(f"{label} {v['name']}: no kernels for " + ", ".join(describe_gpu(g) for g in missing))
            for g in missing:
                rej.arch_misses[g.index] = g
            continue
        if best is None or vtuple(str(v.get("rocm", "0"))) > vtuple(str(best.get("rocm", "0"))):
            best = v
    return best


# ---------------------------------------------------------------- TensorFlow


def select_tensorflow(recipe: Recipe, report: SystemReport, request: Request) -> Outcome:
    display = recipe.display_name
    accel, situation, reasons = resolve_accelerator(request, report)
    plat = platform_key(report)
    releases = candidate_releases(data.load("tensorflow"), display, request)
    if isinstance(releases, Refusal):
        return releases
    rej = Rejections()
    specs: list[str] = []
    flags = report.resources.cpu_flags
    for allow_missing in (False, True):
        for release in releases:
            label = f"{display} {release['version']}"
            if plat not in release.get("platforms", []):
                rej.add(f"{label}: no wheels for {plat}")
                continue
            if release.get("needs_avx") and flags and "avx" not in flags and plat.endswith("x86_64"):
                rej.add(f"{label}: its wheels need AVX, which this CPU lacks")
                continue
            gpu_pkg = _tf_gpu_package(release, plat, accel)
            if accel != "cpu" and gpu_pkg is None:
                rej.add(f"{label}: no {accel} build for {plat}")
                continue
            step_reasons: list[str] = []
            warnings: list[str] = []
            if accel == "cuda":
                variant = {
                    "name": f"cu{str(release['cuda']).replace('.', '')}",
                    "cuda": release["cuda"],
                    "archs": [],
                    "ptx": [],
                }
                min_cc = release.get("min_compute_capability")
                if below_capability_floor(situation.gpus, min_cc, label, rej):
                    continue
                variant["ptx"] = [min_cc] if min_cc else ["0.0"]
                pick = pick_cuda_variant([variant], situation, report, label, rej)
                if pick is None:
                    continue
                step_reasons, warnings = pick.reasons, pick.warnings
            spec = SpecifierSet(release.get("python", ""))
            specs.append(str(spec))
            py = choose_python(spec, report, request, allow_missing)
            if py is None:
                continue
            version = pinned_version(release["version"], request.version)
            if accel == "cpu":
                pkg = release.get("cpu_package") or "tensorflow"
                if plat.startswith("macos") or (plat == "linux-aarch64" and pkg == "tensorflow-cpu"):
                    pkg = "tensorflow"
                packages = [f"{pkg}=={version}"]
                variant_name = "cpu"
                step_reasons = [f"{pkg}: the CPU-only package, no CUDA libraries pulled"]
            else:
                assert gpu_pkg is not None
                packages = [f"{gpu_pkg}=={version}"]
                variant_name = (
                    "metal" if accel == "mps" else f"cu{str(release.get('cuda', '')).replace('.', '')}"
                )
                if accel == "mps":
                    packages.append("tensorflow-metal")
                elif "[and-cuda]" not in gpu_pkg:
                    warnings = [*warnings, _tf_system_cuda_note(release, report)]
            if release.get("numpy"):
                packages.append(f"numpy{release['numpy']}")
            plan = Plan(
                framework=recipe.name,
                version=version,
                variant=variant_name,
                accelerator=accel,
                python=py.minor,
                packages=packages,
                smoke=str(recipe.smoke or ""),
                reasons=[*reasons, f"{label}: newest release that fits", *step_reasons],
                warnings=warnings,
                env={"TF_CPP_MIN_LOG_LEVEL": "2"},
            )
            return finish(plan, py)
    return closing_refusal(
        display,
        accel,
        situation,
        report,
        request,
        rej,
        specs,
        "TensorFlow has no wheels for this platform; try JAX or PyTorch",
    )


def _tf_system_cuda_note(release: dict[str, Any], report: SystemReport) -> str:
    """TensorFlow before 2.14 loads CUDA and cuDNN from the system; its wheel brings neither."""
    cuda, cudnn = str(release.get("cuda")), str(release.get("cudnn", "?"))
    have = [t for t in report.cuda_toolkits if t.version and vtuple(t.version)[:2] == vtuple(cuda)[:2]]
    found = f"; found CUDA {have[0].version} at {have[0].path}" if have else "; none found on this machine"
    return (
        f"TensorFlow {release['version']} loads CUDA {cuda} and cuDNN {cudnn} from the system (the wheel "
        f"brings neither): install them before use{found}"
    )


def _tf_gpu_package(release: dict[str, Any], plat: str, accel: str) -> Optional[str]:
    if accel == "cpu":
        return None
    gpu_platforms = release.get("gpu_platforms", ["linux-x86_64"])
    if accel == "cuda" and plat in gpu_platforms and plat.startswith("linux") and release.get("cuda"):
        pkg: Optional[str] = release.get("gpu_package")
        return pkg
    if accel == "mps" and plat == "macos-arm64" and vtuple(release["version"]) >= (2, 13):
        return "tensorflow"
    return None


# ---------------------------------------------------------------- JAX


def select_jax(recipe: Recipe, report: SystemReport, request: Request) -> Outcome:
    display = recipe.display_name
    accel, situation, reasons = resolve_accelerator(request, report)
    plat = platform_key(report)
    table = data.load("jax")
    extras = {e["name"]: e for e in table.get("cuda_extra", [])}
    releases = candidate_releases(table, display, request)
    if isinstance(releases, Refusal):
        return releases
    if accel not in ("cpu", "cuda"):
        if request.accelerator == "gpu":
            return Refusal(
                f"fwsetup's JAX recipe supports NVIDIA GPUs only; this machine has {accel}",
                "use --cpu (JAX's ROCm and Metal plugins are experimental)",
                code="no-compatible-build",
            )
        accel, reasons = "cpu", [*reasons, "JAX GPU support here is NVIDIA-only: using the CPU build"]
    rej = Rejections()
    specs: list[str] = []
    for allow_missing in (False, True):
        for release in releases:
            label = f"{display} {release['version']}"
            if plat not in release.get(
                "platforms", ["linux-x86_64", "linux-aarch64", "macos-arm64", "windows-amd64"]
            ):
                rej.add(f"{label}: no wheels for {plat}")
                continue
            package = f"jax=={pinned_version(release['version'], request.version)}"
            variant_name, step_reasons, warnings = "cpu", ["CPU jaxlib from PyPI"], []
            if accel == "cuda":
                candidates = []
                if plat not in release.get("cuda_platforms", [plat]):
                    rej.add(f"{label}: its CUDA plugin has no wheels for {plat}")
                    continue
                for name in release.get("cuda_extras", []):
                    extra = extras.get(name)
                    if extra is None or plat not in extra.get("platforms", []):
                        continue
                    candidates.append(
                        {
                            "name": name,
                            "cuda": extra.get("cuda", name.replace("cuda", "") + ".0"),
                            "archs": [],
                            "ptx": [extra.get("min_compute_capability", "0.0")],
                        }
                    )
                if not candidates:
                    rej.add(f"{label}: no CUDA wheels for {plat}")
                    continue
                pick = _pick_jax_extra(candidates, extras, situation, report, label, rej)
                if pick is None:
                    continue
                variant_name = pick.variant["name"]
                step_reasons, warnings = pick.reasons, pick.warnings
                package = f"jax[{variant_name}]=={pinned_version(release['version'], request.version)}"
            spec = SpecifierSet(release.get("python", ""))
            specs.append(str(spec))
            py = choose_python(spec, report, request, allow_missing)
            if py is None:
                continue
            plan = Plan(
                framework=recipe.name,
                version=pinned_version(release["version"], request.version),
                variant=variant_name,
                accelerator=accel,
                python=py.minor,
                packages=[package],
                smoke=str(recipe.smoke or ""),
                reasons=[*reasons, f"{label}: newest release that fits", *step_reasons],
                warnings=warnings,
                env={"XLA_PYTHON_CLIENT_PREALLOCATE": "false"} if accel == "cuda" else {},
            )
            return finish(plan, py)
    return closing_refusal(
        display, accel, situation, report, request, rej, specs, "JAX has no wheels for this platform"
    )


def _pick_jax_extra(
    candidates: list[dict[str, Any]],
    extras: dict[str, dict[str, Any]],
    situation: GpuSituation,
    report: SystemReport,
    label: str,
    rej: Rejections,
) -> Optional[CudaPick]:
    """JAX's CUDA wheels state a driver floor and a minimum compute capability per extra."""
    nv = report.nvidia
    usable = []
    for cand in candidates:
        extra = extras[cand["name"]]
        if below_capability_floor(
            situation.gpus, extra.get("min_compute_capability"), f"{label} {cand['name']}", rej
        ):
            continue
        floor = extra.get("min_driver_linux")
        if floor and (nv is None or not nv.driver_version or vtuple(nv.driver_version) < vtuple(floor)):
            rej.add(
                f"{label} {cand['name']}: needs driver >= {floor}; driver is {nv.driver_version if nv else '?'}"
            )
            rej.driver_misses.append(str(cand["cuda"]))
            continue
        usable.append(cand)
    if not usable:
        return None
    best = max(usable, key=lambda c: vtuple(str(c["cuda"])))
    return CudaPick(
        best,
        [
            f"jax[{best['name']}]: the newest CUDA extra whose driver floor and compute-capability floor this machine meets"
        ],
        [],
    )


# ---------------------------------------------------------------- Keras 3


def keras3_backend_floor(backend: str) -> Optional[str]:
    """The oldest backend release Keras 3 runs on, from the backend's data (TensorFlow records
    which Keras each release depends on); None where any release will do."""
    if backend != "tensorflow":
        return None
    versions = [
        r["version"] for r in data.load("tensorflow")["release"] if str(r.get("keras", "")).startswith("3")
    ]
    return min(versions, key=vtuple) if versions else None


def select_keras(
    recipe: Recipe, report: SystemReport, request: Request, recipes: dict[str, Recipe]
) -> Outcome:
    backend = (request.backend or recipe.default_backend or "tensorflow").lower()
    if recipe.backends and backend not in recipe.backends:
        return Refusal(
            f"Keras backend {backend!r} is not one of {', '.join(recipe.backends)}",
            "pass --backend tensorflow, --backend jax or --backend torch",
            code="bad-backend",
        )
    backend_recipe = recipes["pytorch" if backend == "torch" else backend]
    # Keras 3 runs on TensorFlow >= 2.16 (earlier TensorFlow pins keras < 3: tensorflow.toml `keras`)
    floor = keras3_backend_floor(backend)
    backend_outcome = select(
        backend_recipe,
        report,
        replace(request, version=None, framework=backend_recipe.name, min_version=floor),
        recipes,
    )
    if isinstance(backend_outcome, Refusal):
        backend_outcome.message = f"Keras needs the {backend} backend, and: {backend_outcome.message}"
        others = [b for b in recipe.backends if b != backend]
        if others:
            backend_outcome.fix = f"{backend_outcome.fix}; or try another backend: " + ", ".join(
                f"--backend {b}" for b in others
            )
        return backend_outcome
    keras_variants = [
        v
        for v in recipe.variants
        if version_matches(v.version or "", request.version)
        and (not v.python or SpecifierSet(v.python).contains(backend_outcome.python + ".0", prereleases=True))
    ]
    if not keras_variants:
        return Refusal(
            f"no Keras {request.version or ''} release fits Python {backend_outcome.python}".replace(
                "  ", " "
            ),
            "pick another --version or --python",
            code="no-compatible-build",
        )
    kv = keras_variants[0]
    version = pinned_version(kv.version or "", request.version)
    return replace(
        backend_outcome,
        framework=recipe.name,
        version=version,
        packages=[f"keras=={version}", *backend_outcome.packages, *kv.packages],
        env={**backend_outcome.env, "KERAS_BACKEND": backend},
        smoke=str(recipe.smoke or ""),
        reasons=[
            f"Keras {version} with the {backend} backend (KERAS_BACKEND={backend}); "
            "--backend jax|torch|tensorflow picks another",
            *backend_outcome.reasons,
        ],
    )


# ---------------------------------------------------------------- static recipes (historic)


def select_static(recipe: Recipe, report: SystemReport, request: Request) -> Outcome:
    display = recipe.display_name
    situation = gpu_situation(report, request.gpu_indices)
    os_ = os_name(report)
    arch = arch_name(report)
    rej = Rejections()
    specs: list[str] = []
    wanted_name = request.variant or request.backend
    candidates = [
        v
        for v in recipe.variants
        if version_matches(v.version or "", request.version)
        and (wanted_name is None or v.name == wanted_name)
    ]
    if not candidates and wanted_name:
        names = ", ".join(v.name for v in recipe.variants)
        return Refusal(
            f"{display} has no variant {wanted_name!r} (variants: {names})",
            "pick one of those",
            code="unknown-variant",
        )
    if not candidates:
        known = ", ".join(sorted({v.version for v in recipe.variants if v.version}))
        return Refusal(
            f"{display} {request.version} is not in fwsetup's recipe (known: {known})",
            "pick one with --version",
            code="unknown-version",
        )
    ordered = _order_static(candidates, request, situation)
    blocked: Optional[Plan] = None
    if not ordered:
        unavailable = [v for v in candidates if v.status == "unavailable"]
        if unavailable:
            return _unavailable(recipe, unavailable[0], report)
        if request.accelerator == "gpu":
            return Refusal(
                f"--gpu asked but fwsetup's {display} recipe has no GPU build that can be installed today",
                f"use --cpu{'; successor: ' + recipe.successor if recipe.successor else ''}",
                code="no-compatible-build",
            )
        return Refusal(
            f"{display} has no {request.accelerator} variant",
            "use --gpu or --cpu",
            code="no-compatible-build",
        )
    for allow_missing in (False, True):
        for v in ordered:
            label = f"{display} {v.version or ''} ({v.name})".replace("  ", " ")
            if blocked is not None and v.route != blocked.route:
                continue  # only the same route for another OS; a partial route is asked for by --variant
            if v.accelerator in GPU_ACCELERATORS and situation.accelerator != v.accelerator:
                rej.add(f"{label}: needs a {v.accelerator.upper()} GPU: {situation.why_none or 'none here'}")
                continue
            if v.os and os_ not in v.os:
                rej.add(f"{label}: runs on {', '.join(v.os)}, not {os_}")
                continue
            if v.arch and arch not in v.arch:
                rej.add(f"{label}: built for {', '.join(v.arch)}, not {arch}")
                continue
            if v.status == "unavailable":
                return _unavailable(recipe, v, report)
            if v.accelerator == "cuda" and (v.cuda or v.archs):
                dv = {"name": v.name, "cuda": v.cuda or "0.0", "archs": list(v.archs), "ptx": []}
                if pick_cuda_variant([dv], situation, report, label, rej) is None:
                    continue
            if v.route == "pip":
                spec = v.python_spec
                specs.append(str(spec))
                py = choose_python(spec, report, request, allow_missing)
                if py is None:
                    continue
                return finish(_static_plan(recipe, v, report), py)
            route_plan = _route_plan(recipe, v, report)
            if route_plan.status != "not-installable-here":
                return route_plan
            blocked = blocked or route_plan  # the same route may have a variant for this OS
    if blocked is not None:
        return blocked
    if request.python and specs:
        return python_refusal(display, request, specs, report)
    if specs and not rej.reasons:
        return python_refusal(display, request, specs, report)
    return Refusal(
        f"no {display} variant fits this machine: " + "; ".join(rej.reasons[:5]),
        f"use another machine or --system report{'; successor: ' + recipe.successor if recipe.successor else ''}",
        code="no-compatible-build",
    )


def _order_static(candidates: list[Variant], request: Request, situation: GpuSituation) -> list[Variant]:
    if request.accelerator == "cpu":
        return [v for v in candidates if v.accelerator == "cpu"]
    if request.accelerator == "gpu":
        return [v for v in candidates if v.accelerator in GPU_ACCELERATORS and v.status != "unavailable"]
    gpu = [v for v in candidates if v.accelerator == situation.accelerator and v.status != "unavailable"]
    return gpu + [v for v in candidates if v.accelerator == "cpu"]


def _static_plan(recipe: Recipe, v: Variant, report: SystemReport) -> Plan:
    reasons = [f"{recipe.display_name} {v.version or ''} {v.name}: {v.status} recipe".replace("  ", " ")]
    reasons.extend(v.notes)
    system_packages = list(v.system_packages.get(_package_manager(report) or "apt", []))
    return Plan(
        framework=recipe.name,
        version=v.version or "",
        variant=v.name,
        accelerator=v.accelerator,
        python="",
        packages=list(v.packages),
        index_urls=list(v.index_urls),
        system_packages=system_packages,
        env=dict(v.env),
        smoke=str(v.smoke or recipe.smoke or ""),
        reasons=reasons,
        status=v.status,
        route=v.route,
        build_constraints=list(v.build_constraints),
        post_install=[dict(p) for p in v.post_install],
        successor=recipe.successor,
    )


def _package_manager(report: SystemReport) -> Optional[str]:
    family = {report.os.distro_id or "", *report.os.distro_like}
    if family & {"debian", "ubuntu"}:
        return "apt"
    if family & {"fedora", "rhel", "centos", "rocky", "almalinux", "amzn"}:
        return "dnf"
    return None


def _route_plan(recipe: Recipe, v: Variant, report: SystemReport) -> Plan:
    """A non-pip route (apt, Maven, cargo, source): the steps, and which can run here."""
    steps = [_judge_step(s, v, report) for s in v.steps]
    runnable = all(s.can_run_here for s in steps)
    status = (
        v.status if runnable else "partial" if any(s.can_run_here for s in steps) else "not-installable-here"
    )
    reasons = [
        f"{recipe.display_name} {v.version or ''} is installed through {v.route}, not pip".replace("  ", " ")
    ]
    reasons.extend(v.notes)
    blocked = [s for s in steps if not s.can_run_here]
    if blocked:
        reasons.append("cannot run here: " + "; ".join(f"{s.description} ({s.why_not})" for s in blocked))
    return Plan(
        framework=recipe.name,
        version=v.version or "",
        variant=v.name,
        accelerator=v.accelerator,
        python="",
        packages=list(v.packages),
        system_packages=list(v.system_packages.get(_package_manager(report) or "apt", [])),
        env=dict(v.env),
        smoke=str(v.smoke or recipe.smoke or ""),
        reasons=reasons,
        status=status,
        route=v.route,
        steps=steps,
        successor=recipe.successor,
        post_install=[dict(p) for p in v.post_install],
    )


def _judge_step(step: dict[str, Any], v: Variant, report: SystemReport) -> Step:
    kind = step["kind"]
    command = [str(c) for c in step.get("command", [])]
    missing = [t for t in step.get("requires", []) if not report.tools.get(t)]
    why: Optional[str] = None
    if kind in ("apt", "dnf"):
        pm = _package_manager(report)
        distro = f"{report.os.distro_id}:{report.os.distro_version}"
        if pm != kind:
            why = f"needs {kind} (this is {report.os.distro_id or report.os.system})"
        elif v.distros and distro not in v.distros:
            why = f"packages exist for {', '.join(v.distros)}, not {distro}"
    elif kind == "manual":
        why = "a manual step (see description)"
    if why is None and missing:
        why = "needs " + ", ".join(missing) + " (not found on PATH)"
    return Step(
        kind=kind, description=step["description"], command=command, can_run_here=why is None, why_not=why
    )


def _unavailable(recipe: Recipe, v: Variant, report: SystemReport) -> Refusal:
    route = _route_plan(recipe, v, report) if v.steps else None
    steps = ""
    if route is not None:
        steps = " Route: " + "; ".join(
            f"{s.description}{'' if s.can_run_here else ' [not here: ' + (s.why_not or '') + ']'}"
            for s in route.steps
        )
    return Refusal(
        f"{recipe.display_name} cannot be installed by fwsetup here: {v.reason or 'no installable build'}.{steps}",
        f"use {recipe.successor} instead" if recipe.successor else "see the recipe's notes",
        code="not-installable",
    )


# ---------------------------------------------------------------- entry point


def select(
    recipe: Recipe, report: SystemReport, request: Request, recipes: Optional[dict[str, Recipe]] = None
) -> Outcome:
    """Choose the build of `recipe` for the machine in `report`, or say why none fits."""
    try:
        if recipe.selector == "pytorch":
            return select_pytorch(recipe, report, request)
        if recipe.selector == "tensorflow":
            return select_tensorflow(recipe, report, request)
        if recipe.selector == "jax":
            return select_jax(recipe, report, request)
        if recipe.selector == "keras":
            if recipes is None:
                from fwsetup.plan.recipes import load_all

                recipes = load_all()
            return select_keras(recipe, report, request, recipes)
        return select_static(recipe, report, request)
    except Refusal as refusal:
        return refusal
