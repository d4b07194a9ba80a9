"""The release walk, written once, and the rejections every framework shares.

    accelerator → candidate releases (newest first) → per-candidate build check (the hook)
                → Python choice → Plan (the hook)       … or one closing refusal

A framework with a build matrix supplies a `MatrixHook` (select/pytorch.py, tensorflow.py, jax.py);
the walk does the rest, including the pass that prefers a wheel already on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Optional, Protocol, TypeVar, Union

from packaging.specifiers import SpecifierSet

from fwsetup import versions
from fwsetup.errors import Refusal
from fwsetup.facts.compat import cc_covered, driver_runs_cuda
from fwsetup.plan import pythons, requested
from fwsetup.plan.machine import GpuSituation, describe_gpu, resolve_accelerator
from fwsetup.plan.model import Plan, Request
from fwsetup.plan.pythons import PythonChoice, PythonNeed
from fwsetup.plan.recipes import Recipe
from fwsetup.plan.select import rocm
from fwsetup.plan.select.apple import rosetta_refusal
from fwsetup.plan.select.rejections import Rejections
from fwsetup.records import dataclass, field, replace
from fwsetup.report import GPU, SystemReport

Outcome = Union[Plan, Refusal]


# ---------------------------------------------------------------- versions the user asks for


def version_matches(candidate: str, wanted: Optional[str]) -> bool:
    """'2.7' matches 2.7.0 and 2.7.1; '2.7.1' only 2.7.1; '2.0.0rc1' only 2.0.0rc1; a PEP 440
    specifier ('>=2.5,<2.8', checked by plan/requested.py) the releases it contains."""
    if not wanted:
        return True
    if requested.is_specifier(wanted):
        return SpecifierSet(wanted).contains(candidate)
    want, have = versions.parse(wanted), versions.parse(candidate)
    if want is None or have is None:
        return False
    if want.pre or want.post is not None or want.dev is not None:
        return have == want
    return have.release[: len(want.release)] == want.release and not have.is_prerelease


def at_least(candidate: str, floor: Optional[str]) -> bool:
    return floor is None or versions.key(candidate) >= versions.key(floor)


def pinned_version(release_version: str, wanted: Optional[str]) -> str:
    """The exact version to install: what the user pinned when it is a full X.Y.Z, else the
    newest patch of the release."""
    if wanted and len(versions.release(wanted)) >= 3:
        return wanted
    return release_version


class Release(Protocol):
    @property
    def version(self) -> str: ...

    @property
    def python(self) -> str: ...


R = TypeVar("R", bound=Release)
B = TypeVar("B")


def candidate_releases(every: Sequence[R], display: str, request: Request) -> Union[list[R], Refusal]:
    """A build matrix's releases that --version (and a dependent's floor) allow, newest first."""
    ordered = sorted(every, key=lambda r: versions.key(r.version), reverse=True)
    releases = [
        r
        for r in ordered
        if version_matches(r.version, request.version) and at_least(r.version, request.min_version)
    ]
    if releases:
        return releases
    known = ", ".join(r.version for r in reversed(ordered))
    return Refusal(
        f"{display} {request.version} is not a release fwsetup knows (known: {known})",
        "pick one of the known releases with --version",
        code="unknown-version",
    )


# ---------------------------------------------------------------- rejections
# (the record itself is select/rejections.py, which select/rocm.py reads too)


def below_capability_floor(gpus: Sequence[GPU], min_cc: Optional[str], label: str, rej: Rejections) -> bool:
    """Whether any GPU is older than a build's minimum compute capability (recorded in rej)."""
    floor = versions.release(min_cc)
    low = [
        g for g in gpus if g.compute_capability and floor and versions.release(g.compute_capability) < floor
    ]
    for g in low:
        rej.arch_misses[g.index] = g
    if low:
        rej.add(f"{label}: needs compute capability >= {min_cc}; " + ", ".join(describe_gpu(g) for g in low))
    return bool(low)


# ---------------------------------------------------------------- CUDA builds


@dataclass(frozen=True)
class CudaBuild:
    """One CUDA flavour of a release, as the GPU and driver checks see it."""

    name: str
    cuda: str
    archs: tuple[str, ...] = ()
    ptx: tuple[str, ...] = ()
    verified: bool = True
    note: Optional[str] = None


@dataclass(frozen=True)
class CudaPick:
    build: CudaBuild
    reasons: list[str]
    warnings: list[str]


def pick_cuda(
    builds: Sequence[CudaBuild], situation: GpuSituation, report: SystemReport, label: str, rej: Rejections
) -> Optional[CudaPick]:
    """Among CUDA builds: those covering every GPU and runnable on the driver. Prefer the
    highest CUDA the driver fully supports; else the lowest that runs under minor-version
    compatibility (closest to the driver, fewest PTX/JIT surprises)."""
    nv = report.nvidia
    full: list[tuple[CudaBuild, list[str]]] = []
    compat: list[tuple[CudaBuild, list[str]]] = []
    for b in builds:
        missing = [
            g
            for g in situation.gpus
            if g.compute_capability and not cc_covered(g.compute_capability, b.archs, b.ptx)
        ]
        unknown = [g for g in situation.gpus if not g.compute_capability]
        rej.covered.update(g.index for g in situation.gpus if g not in missing)
        if missing:
            for g in missing:
                rej.arch_misses[g.index] = g
            archs = " ".join(f"sm_{a.replace('.', '')}" for a in b.archs)
            rej.add(
                f"{label} {b.name}: no kernels for "
                + ", ".join(describe_gpu(g) for g in missing)
                + f" (ships {archs})"
            )
            continue
        runs, fully = driver_runs_cuda(
            nv.driver_version if nv else None,
            nv.cuda_driver_version if nv else None,
            b.cuda,
            report.os.system,
        )
        if not runs:
            rej.add(
                f"{label} {b.name}: needs a driver for CUDA {b.cuda}; driver "
                f"{nv.driver_version if nv else '?'} supports CUDA {(nv.cuda_driver_version if nv else None) or '?'}"
            )
            rej.driver_misses.append(b.cuda)
            continue
        notes = []
        if not b.verified:
            notes.append(
                f"{label} {b.name}: fwsetup's data for this build is not verified ({b.note or 'no primary source'})"
            )
        if unknown:
            notes.append(
                "compute capability unknown for "
                + ", ".join(describe_gpu(g) for g in unknown)
                + ": cannot check that this build has kernels for it"
            )
        (full if fully else compat).append((b, notes))
    nv_desc = f"driver {nv.driver_version} (CUDA {nv.cuda_driver_version or '?'})" if nv else "driver ?"
    gpu_desc = ", ".join(describe_gpu(g) for g in situation.gpus)
    if full:
        b, notes = max(full, key=lambda item: versions.key(item[0].cuda))
        why = f"{b.name}: the highest CUDA build that {nv_desc} fully supports and that has kernels for {gpu_desc}"
        return CudaPick(b, [why], notes)
    if compat:
        b, notes = min(compat, key=lambda item: versions.key(item[0].cuda))
        return CudaPick(
            b,
            [
                f"{b.name}: runs on {nv_desc} through NVIDIA minor-version compatibility and has kernels for {gpu_desc}"
            ],
            [
                *notes,
                f"{nv_desc} is older than CUDA {b.cuda}: it runs with a limited feature set "
                "(no PTX JIT of newer code); upgrade the driver for full support",
            ],
        )
    return None


# ---------------------------------------------------------------- refusals


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
        oldest = min(rej.driver_misses, key=versions.key)
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


def python_refusal(display: str, request: Request, needs: Sequence[PythonNeed]) -> Refusal:
    uniq = sorted({n.describe() for n in needs})
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


def closing_refusal(
    display: str,
    accel: str,
    situation: GpuSituation,
    report: SystemReport,
    request: Request,
    rej: Rejections,
    platform_fix: str,
) -> Refusal:
    """Why nothing fitted, in order of what the user can act on: a build fitted but no Python
    did; else the GPUs and driver; else the platform."""
    if rej.needs:
        return python_refusal(display, request, rej.needs)
    if accel == "cuda" and (rej.arch_misses or rej.driver_misses):
        return cuda_refusal(display, situation, report, rej)
    if accel == "rocm" and (rej.arch_misses or rej.driver_misses):
        return rocm.refusal(display, situation, report, rej)
    return Refusal(
        f"no {display} {accel} build fits this machine: " + "; ".join(rej.reasons[:5]),
        "use --cpu" if accel != "cpu" else platform_fix,
        code="no-compatible-build",
    )


def finish(plan: Plan, py: PythonChoice, reasons: Sequence[str] = ()) -> Plan:
    return replace(
        plan,
        python=py.minor,
        interpreter=py.interpreter,
        interpreter_hint=py.hint,
        reasons=[*reasons, *plan.reasons, py.reason],
    )


# ---------------------------------------------------------------- the walk


@dataclass
class Walk:
    """One selection in progress: what the hook needs to judge a release."""

    recipe: Recipe
    report: SystemReport
    request: Request
    accel: str
    situation: GpuSituation
    platform: str
    reasons: list[str]
    rej: Rejections = field(default_factory=Rejections)

    @property
    def display(self) -> str:
        return self.recipe.display_name


@dataclass(frozen=True)
class Build(Generic[B]):
    """A release that passed the hook's build check: what it needs of Python, and the hook's
    own findings (the chosen variant, its reasons and warnings) for making the Plan."""

    need: PythonNeed
    found: B


# The recipes a hook may consult (Keras: its backends'), by name; None: load them when needed.
Recipes = Optional[dict[str, Recipe]]


class Hook(Protocol):
    """What registry.py maps a recipe's `selector` to."""

    def variant_names(self, recipe: Recipe) -> list[str]: ...

    def keras3_floor(self) -> Optional[str]:
        """The oldest release Keras 3 runs on as a backend; None where any will do."""

    def select(self, recipe: Recipe, report: SystemReport, request: Request, recipes: Recipes) -> Outcome: ...


class MatrixHook(Generic[R, B]):
    """What a framework with a build matrix supplies to the walk."""

    platform_fix = "see `fwsetup list` for supported platforms"
    prefers_local_wheels = False  # whether a pass looks for the build on disk first

    def releases(self) -> Sequence[R]:
        raise NotImplementedError

    def variant_names(self, recipe: Recipe) -> list[str]:
        raise NotImplementedError

    def keras3_floor(self) -> Optional[str]:
        return None

    def narrow(self, walk: Walk) -> Optional[Refusal]:
        """Adjust walk.accel for what this framework supports, or refuse up front."""
        return None

    def jetson(self, walk: Walk) -> Optional[Outcome]:
        """On a Jetson (JetPack 4-6), NVIDIA's JetPack build or a refusal naming the real fix
        (select/jetson.py); None where the ordinary walk decides."""
        return None

    def build(self, walk: Walk, release: R) -> Optional[Build[B]]:
        """The build of `release` for this machine, or None with the reason in walk.rej."""
        raise NotImplementedError

    def plan(
        self, walk: Walk, release: R, build: Build[B], py: PythonChoice, local_only: bool
    ) -> Optional[Plan]:
        """The Plan for this build on `py`; None only when `local_only` and nothing on disk fits."""
        raise NotImplementedError

    def select(
        self, recipe: Recipe, report: SystemReport, request: Request, recipes: Recipes = None
    ) -> Outcome:
        """The walk: the newest release whose build fits, on the best interpreter for it."""
        accel, situation, reasons = resolve_accelerator(request, report)
        walk = Walk(recipe, report, request, accel, situation, report.platform_key(), reasons)
        refused = rosetta_refusal(walk.display, report, request, walk.reasons) or self.narrow(walk)
        if refused is not None:
            return refused
        on_jetson = self.jetson(walk)
        if on_jetson is not None:
            return on_jetson
        releases = candidate_releases(self.releases(), walk.display, request)
        if isinstance(releases, Refusal):
            return releases
        passes = [(True, False)] if self.prefers_local_wheels and request.local_wheels else []
        built: dict[int, Optional[Build[B]]] = {}
        for local_only, allow_missing in [*passes, (False, False), (False, True)]:
            for i, release in enumerate(releases):
                if i not in built:
                    built[i] = self.build(walk, release)
                build = built[i]
                if build is None:
                    continue
                choices = pythons.candidates(build.need, report, request, allow_missing)
                for py in choices:
                    plan = self.plan(walk, release, build, py, local_only)
                    if plan is not None:
                        return finish(plan, py, walk.reasons)
                if not choices and build.need not in walk.rej.needs:
                    walk.rej.needs.append(build.need)
        return closing_refusal(
            walk.display, walk.accel, situation, report, request, walk.rej, self.platform_fix
        )
