"""Glue between the commands and the pure selection: gather the inputs (the machine report, local
wheels), call select()."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

from fwsetup import pipconfig, records
from fwsetup import probe as probes
from fwsetup.errors import Refusal, UsageError, shorten
from fwsetup.plan import recipes, wheels
from fwsetup.plan.machine import with_driver_cuda
from fwsetup.plan.model import Plan, Request
from fwsetup.plan.select import select, variant_names
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.diagnose import diagnose
from fwsetup.report import SystemReport


def machine_report(system: Optional[Path], timeout: float = 5.0) -> SystemReport:
    """The report to plan for: a saved one (`--system`), or this machine probed now."""
    if system is not None:
        return with_driver_cuda(SystemReport.from_file(system))

    report = probes.collect(ProbeEnv(timeout=timeout))
    return records.replace(report, findings=diagnose(report))


def accelerator_flag(gpu: bool, cpu: bool) -> str:
    if gpu and cpu:
        raise UsageError(
            "--gpu and --cpu exclude each other", "pass one of them, or neither for automatic choice"
        )
    return "gpu" if gpu else "cpu" if cpu else "auto"


def parse_gpus(text: Optional[str]) -> Optional[tuple[int, ...]]:
    if not text:
        return None
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UsageError(
            f"--gpus {shorten(text, quote=True)} is not a list of GPU indices",
            "use e.g. --gpus 0 or --gpus 0,1",
        ) from None


def local_wheels(wheelhouses: Sequence[Path], use_pip_config: bool) -> tuple[Any, ...]:
    dirs = list(wheelhouses)
    if use_pip_config:
        dirs += pipconfig.read().local_find_links_dirs()
    return wheels.scan(dirs)


def make_plan(framework: str, report: SystemReport, request: Request) -> Union[Plan, Refusal]:
    """The plan for this report, or why there is none. Pure: the index check that may add a warning
    is network I/O, made by the command that plans (fwsetup/commands/plans.py)."""
    recipe = recipes.find(framework)
    planned = select(recipe, report, records.replace(request, framework=recipe.name))
    if isinstance(planned, Refusal):
        return planned
    from fwsetup.plan import companions

    try:
        return companions.extend(planned, recipe, request, report)
    except Refusal as refused:
        return _step_back(recipe, report, request, planned, refused) or refused


STEP_BACK_TRIES = 4  # minor series tried below the newest: each is one pure selection (~0.1 ms)


def _step_back(
    recipe: Any, report: SystemReport, request: Request, newest: Plan, refused: Refusal
) -> Optional[Plan]:
    """An explicit --with of a companion the newest release has none of yet (torch 2.15.0 weeks
    before torchvision 0.30): the newest release that has one, when no --version was given.
    Installing the newest torch with the torchvision of the one before is the mismatch companions
    exist to prevent; a default companion never steps back (the plan just skips it)."""
    from fwsetup import versions
    from fwsetup.facts import companions as facts
    from fwsetup.plan import companions

    asked = {companions.name_of(r) for r in request.with_packages if r != "none"}
    known = {c.name for c in facts.of(recipe.name)} & asked
    if request.version or not known:
        return None
    top = versions.release(newest.version.split("+")[0], 2)
    below = [s for s in facts.series_with(recipe.name, known) if versions.release(s, 2) < top]
    for series in below[:STEP_BACK_TRIES]:
        older = select(recipe, report, records.replace(request, framework=recipe.name, version=series))
        if isinstance(older, Refusal):
            continue
        try:
            chosen = companions.extend(older, recipe, request, report)
        except Refusal:
            continue
        mine = f"{recipe.display_name} {chosen.version}: "
        why = (
            f"{mine}newest release that --with {', '.join(sorted(known))} fits "
            f"({newest.version} skipped: {refused.message})"
        )
        reasons = [why if r.startswith(mine) else r for r in chosen.reasons]
        return records.replace(chosen, reasons=reasons if why in reasons else [*reasons, why])
    return None


def machine_summary(report: SystemReport, wheels_on_disk: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """`fwsetup list`: every framework, its variants, and what this machine would get."""
    rows = []
    every = recipes.load_all()
    for recipe in every.values():
        request = Request(framework=recipe.name, local_wheels=wheels_on_disk)
        outcome = select(recipe, report, request, every)
        if isinstance(outcome, Plan):
            here = {
                "ok": True,
                "variant": outcome.variant,
                "version": outcome.version,
                "python": outcome.python,
                "route": outcome.route,
                "status": outcome.status,
            }
        else:
            here = {"ok": False, "code": outcome.code, "message": outcome.message}
        rows.append(
            {
                "name": recipe.name,
                "display_name": recipe.display_name,
                "aliases": list(recipe.aliases),
                "era": recipe.era,
                "status": recipe.status,
                "summary": recipe.summary,
                "variants": variant_names(recipe),
                "successor": recipe.successor,
                "this_machine": here,
            }
        )
    return rows
