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
    except companions.CompanionRefusal as refused:
        return _step_back(recipe, report, request, planned, refused)


STEP_BACK_TRIES = 4  # minor series tried below the newest: each is one pure selection (~0.1 ms)


def _step_back(
    recipe: Any, report: SystemReport, request: Request, newest: Plan, refused: Refusal
) -> Union[Plan, Refusal]:
    """An explicit --with of a companion the newest release has none of yet (torch 2.15.0 weeks
    before torchvision 0.30): the newest release that has one, when no --version was given, naming
    each release skipped and why. Installing the newest torch with the torchvision of the one before
    is the mismatch companions exist to prevent; a default companion never steps back (the plan
    just skips it). No plan: the refusal, its fix naming only a --version or --python that a real
    selection here shows to work, or why the newest release with the companion cannot run here."""
    from fwsetup import versions
    from fwsetup.facts import companions as facts
    from fwsetup.plan import companions

    asked = {companions.name_of(r) for r in request.with_packages if r != "none"}
    known = {c.name for c in facts.of(recipe.name)} & asked
    if not known:
        return refused
    names = ", ".join(sorted(known))

    def attempt(changed: Request) -> Union[Plan, Refusal]:
        older = select(recipe, report, records.replace(changed, framework=recipe.name))
        if isinstance(older, Refusal):
            return older
        try:
            return companions.extend(older, recipe, changed, report)
        except Refusal as no:
            return no

    top = versions.release(newest.version.split("+")[0], 2)
    series = [s for s in facts.series_with(recipe.name, known) if versions.release(s, 2) != top]
    skipped: list[tuple[str, str]] = [(newest.version, getattr(refused, "short", refused.message))]
    tried: list[tuple[str, Union[Plan, Refusal]]] = []
    ways: list[str] = []
    python = getattr(refused, "python", None)
    if python and python != newest.python:  # the same release with a Python the companion serves
        outcome = attempt(records.replace(request, python=python))
        if isinstance(outcome, Plan):
            ways.append(f"pass --python {python} ({_pair(outcome, known)})")
    lacking = _lacking(recipe.name, known)
    n = 0
    for each in sorted({*series, *lacking}, key=lambda v: versions.release(v, 2), reverse=True):
        if each not in series:  # a series some companion asked for has no release for at all
            if not request.version and n < STEP_BACK_TRIES and versions.release(each, 2) < top:
                skipped.append((each, f"no {', '.join(lacking[each])} for it"))
            continue
        automatic = not request.version and n < STEP_BACK_TRIES and versions.release(each, 2) < top
        n += 1
        outcome = attempt(records.replace(request, version=each))
        if isinstance(outcome, Plan) and automatic:
            return _stepped(recipe, newest, outcome, names, skipped)
        if isinstance(outcome, Plan):
            ways.append(f"pick --version {each} ({_pair(outcome, known)})")
            break
        tried.append((each, outcome))
        if automatic:
            skipped.append((each, _short(outcome)))
    base = refused.fix or f"install without --with {names}"
    if ways:
        return Refusal(refused.message, f"{', or '.join(ways)}, or {base}")
    if not tried:
        return Refusal(refused.message, base)
    first, outcome = tried[0]
    if all(isinstance(o, Refusal) and not hasattr(o, "short") for _, o in tried):
        why = shorten(outcome.message if isinstance(outcome, Refusal) else "", 160)
        return Refusal(
            refused.message,
            f"{base}; {recipe.display_name} {first}, the newest series with {names}, cannot run here: {why}",
        )
    return Refusal(
        refused.message, f"{base}; no {recipe.display_name} release fwsetup knows has {names} that fits here"
    )


def _pair(plan: Plan, known: set[str]) -> str:
    with_ = ", ".join(a.requirement for a in plan.companions if a.name in known and a.requirement)
    return f"{plan.version} with {with_}" if with_ else plan.version


def _lacking(framework: str, known: set[str]) -> dict[str, list[str]]:
    """The framework series any of its companions was made for ("2.13"), each with the asked-for
    companions that have no release for it: the releases a step-back passes without a selection."""
    from fwsetup.facts import companions as facts

    have = {c.name: c.made_for() for c in facts.of(framework)}
    every = set().union(*have.values())
    return {s: missing for s in every if (missing := sorted(n for n in known if s not in have.get(n, set())))}


def _short(outcome: Union[Plan, Refusal]) -> str:
    return getattr(outcome, "short", None) or shorten(getattr(outcome, "message", ""), 100)


def _stepped(recipe: Any, newest: Plan, chosen: Plan, names: str, skipped: list[tuple[str, str]]) -> Plan:
    """The stepped-back plan with one reason naming each release skipped and why (a run of
    releases skipped for the same reason is listed once), and a build or Python unlike the newest
    plan's."""
    runs: list[tuple[list[str], str]] = []
    for version, why in skipped:
        if runs and runs[-1][1] == why:
            runs[-1][0].append(version)
        else:
            runs.append(([version], why))
    listed = "; ".join(f"{', '.join(v)}: {why}" for v, why in runs)
    mine = f"{recipe.display_name} {chosen.version}: "
    why = f"{mine}newest release that --with {names} fits (skipped {shorten(listed, 240)})"
    changed = []
    if chosen.variant != newest.variant:
        changed.append(f"the {chosen.variant} build, not the {newest.variant} build {newest.version} would get")
    if chosen.python != newest.python:
        changed.append(f"Python {chosen.python}, not the {newest.python} {newest.version} would get")
    if changed:
        why += "; " + ", ".join(changed)
    reasons = [why if r.startswith(mine) else r for r in chosen.reasons]
    return records.replace(chosen, reasons=reasons if why in reasons else [*reasons, why])


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
