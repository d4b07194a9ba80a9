"""Historic recipes: the variants a recipe file lists (pip pins of the era, apt, Maven, cargo,
source builds), the first that fits this machine; non-pip routes become steps that say
whether each can run here."""

from __future__ import annotations

from typing import Any, Optional

from fwsetup.errors import Refusal
from fwsetup.plan import pythons
from fwsetup.plan.machine import (
    GPU_ACCELERATORS,
    GpuSituation,
    arch_name,
    gpu_situation,
    os_name,
    package_manager,
)
from fwsetup.plan.model import MachineNeeds, Plan, Request, Step
from fwsetup.plan.pythons import PythonNeed
from fwsetup.plan.recipes import Recipe, Variant
from fwsetup.plan.select.common import (
    CudaBuild,
    Outcome,
    Recipes,
    finish,
    pick_cuda,
    python_refusal,
    version_matches,
)
from fwsetup.plan.select.rejections import Rejections
from fwsetup.records import replace
from fwsetup.report import SystemReport


class StaticHook:
    def keras3_floor(self) -> Optional[str]:
        return None

    def variant_names(self, recipe: Recipe) -> list[str]:
        return [v.name for v in recipe.variants]

    def select(
        self, recipe: Recipe, report: SystemReport, request: Request, recipes: Recipes = None
    ) -> Outcome:
        display = recipe.display_name
        situation = gpu_situation(report, request.gpu_indices)
        wanted_name = request.variant or request.backend
        candidates = [
            v
            for v in recipe.variants
            if version_matches(v.version or "", request.version)
            and (wanted_name is None or v.name == wanted_name)
        ]
        if not candidates:
            return _unknown(recipe, request, wanted_name)
        ordered = _order(candidates, request, situation)
        if not ordered:
            return _nothing_for(recipe, candidates, request, report)
        rej = Rejections()
        blocked: Optional[Plan] = None
        for allow_missing in (False, True):
            for v in ordered:
                if blocked is not None and v.route != blocked.route:
                    continue  # only the same route for another OS; a partial route is asked for by --variant
                if not _fits(recipe, v, situation, report, rej):
                    continue
                if v.status == "unavailable":
                    return _unavailable(recipe, v, report)
                if v.route == "pip":
                    need = PythonNeed.of(v.python, v.requires_python)
                    py = pythons.choose(need, report, request, allow_missing)
                    if py is None:
                        if need not in rej.needs:
                            rej.needs.append(need)
                        continue
                    return finish(_pip_plan(recipe, v, report), py)
                route_plan = _route_plan(recipe, v, report)
                if route_plan.status != "not-installable-here":
                    return route_plan
                blocked = blocked or route_plan  # the same route may have a variant for this OS
        if blocked is not None:
            return blocked
        if rej.needs and (request.python or not rej.reasons):
            return python_refusal(display, request, rej.needs)
        return Refusal(
            f"no {display} variant fits this machine: " + "; ".join(rej.reasons[:5]),
            f"use another machine or --system report{_successor(recipe)}",
            code="no-compatible-build",
        )


def _successor(recipe: Recipe) -> str:
    return f"; successor: {recipe.successor}" if recipe.successor else ""


def _label(recipe: Recipe, v: Variant) -> str:
    return f"{recipe.display_name} {v.version or ''} ({v.name})".replace("  ", " ")


def _fits(recipe: Recipe, v: Variant, situation: GpuSituation, report: SystemReport, rej: Rejections) -> bool:
    """The variant's accelerator, OS, architecture, GPU and driver checks (reasons into rej)."""
    label = _label(recipe, v)
    if v.accelerator in GPU_ACCELERATORS and situation.accelerator != v.accelerator:
        rej.add(f"{label}: needs a {v.accelerator.upper()} GPU: {situation.why_none or 'none here'}")
        return False
    if v.os and os_name(report) not in v.os:
        rej.add(f"{label}: runs on {', '.join(v.os)}, not {os_name(report)}")
        return False
    if v.arch and arch_name(report) not in v.arch:
        rej.add(f"{label}: built for {', '.join(v.arch)}, not {arch_name(report)}")
        return False
    if v.status != "unavailable" and v.accelerator == "cuda" and (v.cuda or v.archs):
        build = CudaBuild(v.name, v.cuda or "0.0", tuple(v.archs))
        return pick_cuda([build], situation, report, label, rej) is not None
    return True


def _unknown(recipe: Recipe, request: Request, wanted_name: Optional[str]) -> Refusal:
    if wanted_name:
        names = ", ".join(v.name for v in recipe.variants)
        return Refusal(
            f"{recipe.display_name} has no variant {wanted_name!r} (variants: {names})",
            "pick one of those",
            code="unknown-variant",
        )
    known = ", ".join(sorted({v.version for v in recipe.variants if v.version}))
    return Refusal(
        f"{recipe.display_name} {request.version} is not in fwsetup's recipe (known: {known})",
        "pick one with --version",
        code="unknown-version",
    )


def _nothing_for(
    recipe: Recipe, candidates: list[Variant], request: Request, report: SystemReport
) -> Refusal:
    unavailable = [v for v in candidates if v.status == "unavailable"]
    if unavailable:
        return _unavailable(recipe, unavailable[0], report)
    if request.accelerator == "gpu":
        return Refusal(
            f"--gpu asked but fwsetup's {recipe.display_name} recipe has no GPU build that can be installed today",
            f"use --cpu{_successor(recipe)}",
            code="no-compatible-build",
        )
    return Refusal(
        f"{recipe.display_name} has no {request.accelerator} variant",
        "use --gpu or --cpu",
        code="no-compatible-build",
    )


def _order(candidates: list[Variant], request: Request, situation: GpuSituation) -> list[Variant]:
    if request.accelerator == "cpu":
        return [v for v in candidates if v.accelerator == "cpu"]
    if request.accelerator == "gpu":
        return [v for v in candidates if v.accelerator in GPU_ACCELERATORS and v.status != "unavailable"]
    gpu = [v for v in candidates if v.accelerator == situation.accelerator and v.status != "unavailable"]
    return gpu + [v for v in candidates if v.accelerator == "cpu"]


def _base_plan(recipe: Recipe, v: Variant, report: SystemReport, reasons: list[str], status: str) -> Plan:
    return Plan(
        framework=recipe.name,
        version=v.version or "",
        variant=v.name,
        accelerator=v.accelerator,
        python="",
        packages=list(v.packages),
        system_packages=list(v.system_packages.get(package_manager(report) or "apt", [])),
        env=dict(v.env),
        smoke=str(v.smoke or recipe.smoke or ""),
        reasons=[*reasons, *v.notes],
        status=status,
        route=v.route,
        post_install=[dict(p) for p in v.post_install],
        successor=recipe.successor,
        needs=MachineNeeds(v.cuda, tuple(v.archs)) if v.accelerator == "cuda" and v.cuda else MachineNeeds(),
    )


def _pip_plan(recipe: Recipe, v: Variant, report: SystemReport) -> Plan:
    reason = f"{recipe.display_name} {v.version or ''} {v.name}: {v.status} recipe".replace("  ", " ")
    plan = _base_plan(recipe, v, report, [reason], v.status)
    return replace(plan, index_urls=list(v.index_urls), build_constraints=list(v.build_constraints))


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
    blocked = [s for s in steps if not s.can_run_here]
    plan = _base_plan(recipe, v, report, reasons, status)
    if blocked:
        why = "cannot run here: " + "; ".join(f"{s.description} ({s.why_not})" for s in blocked)
        plan = replace(plan, reasons=[*plan.reasons, why])
    return replace(plan, steps=steps)


def _judge_step(step: dict[str, Any], v: Variant, report: SystemReport) -> Step:
    kind = step["kind"]
    command = [str(c) for c in step.get("command", [])]
    missing = [t for t in step.get("requires", []) if not report.tools.get(t)]
    why: Optional[str] = None
    if kind in ("apt", "dnf"):
        distro = f"{report.os.distro_id}:{report.os.distro_version}"
        if package_manager(report) != kind:
            why = f"needs {kind} (this is {report.os.distro_id or report.os.system})"
        elif v.distros and distro not in v.distros:
            why = f"packages exist for {', '.join(v.distros)}, not {distro}"
    elif kind == "manual":
        why = "fwsetup cannot do this step: you do it by hand, as described"
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


HOOK = StaticHook()
