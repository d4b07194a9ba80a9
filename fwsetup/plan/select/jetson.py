"""Selection on an NVIDIA Jetson: NVIDIA's JetPack builds, or a refusal naming the real fix.

A Jetson's CUDA is fixed by its L4T (JetPack) release: there is no driver to upgrade, and PyPI's
aarch64 wheels either carry no CUDA or target server GPUs (SBSA). So on JetPack 4-6 a framework
gets the build NVIDIA publishes for that JetPack (facts/jetson.toml), on the Python that JetPack
ships; where there is none, the refusal names the JetPack upgrade that brings one (if the module
can run it) or the container that has it. JetPack 7 is SBSA CUDA: the ordinary walk serves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional, Union

from fwsetup import versions
from fwsetup.errors import Refusal
from fwsetup.facts import jetson as facts
from fwsetup.facts.jetson import JetpackBuild
from fwsetup.plan import pythons
from fwsetup.plan.machine import Jetson, jetson
from fwsetup.plan.model import Plan, Step
from fwsetup.plan.pythons import PythonChoice, PythonNeed
from fwsetup.plan.select.common import Outcome, Walk, at_least, finish, python_refusal, version_matches
from fwsetup.records import dataclass

TORCHVISION_GIT = "git+https://github.com/pytorch/vision@v{version}"


def decide(walk: Walk, build: Callable[[Walk, Jetson], Outcome]) -> Optional[Outcome]:
    """A hook's `jetson()`: on a Jetson whose JetPack's own builds decide this CUDA selection,
    `build` for the board found (`pytorch`, `tensorflow` or `jax` below); None elsewhere (not a
    Jetson, --cpu, or JetPack 7's SBSA CUDA, which the ordinary walk serves)."""
    if walk.accel != "cuda":
        return None
    found = jetson(walk.report)
    if found is None or (found.release is not None and found.release.sbsa):
        return None
    return build(walk, found)


def _can_run(found: Jetson, build: JetpackBuild) -> bool:
    """Whether the module can be upgraded to the JetPack of `build` (Nano/TX2 stop at 4.6, Xavier at 5.1)."""
    if found.soc is None:
        return True
    last = versions.release(found.soc.last_jetpack)
    return versions.release(build.jetpack)[: len(last)] <= last


def no_build(display: str, framework: str, found: Jetson) -> Refusal:
    """No JetPack build of `framework` here: the upgrade that brings one, the container, or --cpu."""
    fixes = []
    newer = facts.newer_builds(framework, found.l4t or "0")
    upgrades = [b for b in newer if _can_run(found, b)]
    if upgrades:
        first = min(upgrades, key=lambda b: versions.key(b.l4t_min))
        fixes.append(
            f"upgrade to JetPack {first.jetpack} (L4T {first.l4t_min}), for which NVIDIA publishes "
            f"{display} {first.version}"
        )
    elif newer and found.soc is not None:
        first = min(newer, key=lambda b: versions.key(b.l4t_min))
        fixes.append(
            f"JetPack {first.jetpack} has one, but this {found.soc.name} module cannot run a JetPack "
            f"newer than {found.soc.last_jetpack}"
        )
    container = facts.container_for(framework, found.l4t or "0")
    if container is not None:
        fixes.append(f"run {display} in a Jetson container built for L4T {found.l4t}: `{container.command}`")
    elif framework == "jax" and found.soc is not None:
        if versions.release(found.soc.last_jetpack, 1) >= (5,):
            jax = _jax_container()
            fixes.append(
                f"upgrade to a JetPack of L4T {jax.l4t_min} or newer and run it in a container: `{jax.command}`"
            )
        else:
            fixes.append(
                f"a {found.soc.name} module cannot run the JetPack 5+ that JAX's Jetson containers need"
            )
    fixes.append("or use --cpu")
    return Refusal(
        f"NVIDIA publishes no {display} build for JetPack {found.jetpack} (L4T {found.l4t or '?'}) "
        f"on this {found.name}; PyPI's aarch64 wheels have no CUDA for a Jetson's integrated GPU",
        "; ".join(fixes),
        code="jetson-no-build",
    )


def _jax_container() -> facts.Container:
    return next(c for c in facts.table().container if c.framework == "jax")


def _matches(version: str, wanted: Optional[str]) -> bool:
    """--version against NVIDIA's builds, which are mostly alpha pre-releases of their series
    ("2.1.0a0+41361538.nv23.06"): "2.1" asks for that series, "2.1.0a0" for that exact build."""
    if not wanted or version_matches(version, wanted):
        return True
    want = versions.parse(wanted)
    return (
        want is not None
        and not want.is_prerelease
        and versions.release(version)[: len(want.release)] == want.release
    )


@dataclass(frozen=True)
class Picked:
    """The JetPack build chosen, the interpreter for it, and why."""

    build: JetpackBuild
    py: PythonChoice
    reasons: list[str]


def choose(walk: Walk, found: Jetson, framework: str) -> Union[Picked, Refusal]:
    """The newest JetPack build the request allows, on an interpreter of JetPack's Python."""
    display = walk.display
    if found.l4t is None:
        return Refusal(
            f"this is a Jetson ({found.name}) but its L4T release is unknown, so which JetPack build "
            f"of {display} fits cannot be told",
            "run `fwsetup doctor --json` on the Jetson itself (it reads /etc/nv_tegra_release) and plan from that",
            code="jetson-l4t-unknown",
        )
    every = facts.builds(framework, found.l4t)
    if not every:
        return no_build(display, framework, found)
    request = walk.request
    fitting = [
        b
        for b in every
        if _matches(b.version, request.version)
        and request.variant in (None, b.variant)
        and at_least(b.version, request.min_version)
    ]
    if not fitting:
        known = ", ".join(f"{b.version} ({b.variant})" for b in every)
        wanted = request.version or request.variant or f">= {request.min_version}"
        return Refusal(
            f"NVIDIA's {display} builds for JetPack {found.jetpack} are {known}; none is {wanted}",
            "pick one of them with --version, or use --cpu for PyPI's CPU build",
            code="unknown-version",
        )
    needs = []
    for allow_missing in (False, True):
        for build in fitting:
            need = PythonNeed.of(f"=={build.python}.*")
            chosen = pythons.choose(need, walk.report, request, allow_missing)
            if chosen is not None:
                cuda = f" {found.release.cuda}" if found.release else ""
                reasons = [
                    f"{found.describe()}: a Jetson ({found.how}); its CUDA{cuda} comes with JetPack, "
                    "not with a driver",
                    f"{display} {build.version}: NVIDIA's build for JetPack {build.jetpack}+ (L4T "
                    f"{build.l4t_min} to below {build.l4t_below}), built for Python {build.python}",
                ]
                return Picked(build, chosen, reasons)
            if need not in needs:
                needs.append(need)
    return python_refusal(f"NVIDIA's {display} for JetPack {found.jetpack}", request, needs)


def _plan(walk: Walk, picked: Picked, **fields: Any) -> Plan:
    """The Plan of a JetPack build: what every framework's shares, plus its own `fields`."""
    build, py = picked.build, picked.py
    plan = Plan(
        framework=walk.recipe.name,
        version=build.version,
        variant=build.variant,
        accelerator="cuda",
        python=py.minor,
        system_packages=list(build.system_packages),
        smoke=str(walk.recipe.smoke or ""),
        **fields,
    )
    return finish(plan, py, walk.reasons)


def pytorch(walk: Walk, found: Jetson) -> Outcome:
    picked = choose(walk, found, "pytorch")
    if isinstance(picked, Refusal):
        return picked
    build, reasons = picked.build, list(picked.reasons)
    warnings: list[str] = []
    steps: list[Step] = []
    packages: list[str] = []
    index_urls: list[str] = []
    route = "pip"
    if build.index:
        packages = [f"torch=={build.version}"]
        if build.torchvision:
            packages.append(f"torchvision=={build.torchvision}")
        index_urls = [build.index]
        reasons.append(f"torch and torchvision from the Jetson AI Lab index {build.index}")
        warnings.append(
            f"{build.index} is NVIDIA's Jetson AI Lab index, not PyPI: its wheels have been withdrawn and "
            "replaced before; `fwsetup lock` pins the exact files"
        )
    elif build.url:
        packages = [f"torch @ {build.url}"]
        reasons.append(f"torch from NVIDIA's JetPack wheel {build.url}")
    elif build.download and build.wheel_name:
        route = "manual"
        steps = [
            Step(
                "shell",
                f"fetch NVIDIA's torch {build.version} wheel for JetPack {found.jetpack} under its wheel name",
                ["wget", "-O", build.wheel_name, build.download],
                why_not="NVIDIA hosts it under a file name pip refuses; fwsetup fetches only through pip",
            ),
            Step(
                "pip",
                f"install it into an environment of Python {build.python}",
                ["python", "-m", "pip", "install", build.wheel_name],
                why_not="needs the wheel fetched by the step before",
            ),
        ]
        reasons.append(
            f"torch {build.version} is NVIDIA's wheel for JetPack {found.jetpack}: {build.download}"
        )
    if build.torchvision and build.torchvision_from_source:
        command = ["python", "-m", "pip", "install", "--no-build-isolation", "--no-deps"]
        command.append(TORCHVISION_GIT.format(version=build.torchvision))
        note = (
            f"NVIDIA publishes no torchvision wheel for JetPack {found.jetpack}: build torchvision "
            f"{build.torchvision} against this torch (PyPI's would replace it with a CPU torch)"
        )
        steps.append(Step("pip", note, command, why_not="a source build on the Jetson"))
        warnings.append(f"{note}: `{' '.join(command)}` in the environment")
    return _plan(
        walk,
        picked,
        packages=packages,
        index_urls=index_urls,
        reasons=reasons,
        warnings=warnings,
        route=route,
        steps=steps if route == "manual" else [],
    )


def tensorflow(walk: Walk, found: Jetson) -> Outcome:
    picked = choose(walk, found, "tensorflow")
    if isinstance(picked, Refusal):
        return picked
    build = picked.build
    cuda = found.release.cuda if found.release else "?"
    return _plan(
        walk,
        picked,
        packages=[f"tensorflow=={build.version}"],
        index_urls=[build.index] if build.index else [],
        env={"TF_CPP_MIN_LOG_LEVEL": "2"},
        reasons=[*picked.reasons, f"tensorflow=={build.version} from NVIDIA's JetPack index {build.index}"],
        warnings=[
            f"NVIDIA's JetPack TensorFlow loads JetPack's CUDA {cuda} and cuDNN from the system "
            "(installed with JetPack; `sudo apt install nvidia-jetpack` if they were left out)"
        ],
    )


def jax(walk: Walk, found: Jetson) -> Outcome:
    return no_build(walk.display, "jax", found)
