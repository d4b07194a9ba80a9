"""What a plan installs beside the framework, each with why: the packages whose absence makes the
framework's import warn (the recipe's import_needs), its companions (facts/companions.toml: the
release made for this framework release, from the same build and index, or for a companion built
once on PyPI, the release with a wheel for this machine and Python), and any `--with` package,
all in the one resolution that installs the framework. Pure: no I/O beyond the facts tables."""

from __future__ import annotations

from typing import Optional

from fwsetup import records
from fwsetup.errors import Refusal, UsageError, shorten
from fwsetup.facts import companions as facts
from fwsetup.plan.model import Addition, Plan, Request
from fwsetup.plan.recipes import Recipe
from fwsetup.report import SystemReport
from fwsetup.versions import exact_pin


class CompanionRefusal(Refusal):
    """A companion asked for that has no release fitting the plan (exit 3, code "refused"). Its fix
    names only ways out this module can vouch for; the planner (plan/planning.py) adds the
    --version or --python that a real selection shows to work. `short`: the reason in a few words,
    for a step-back's list of skipped releases; `python`: a Python the companion's wheels serve
    here, for the planner to try."""

    def __init__(self, message: str, fix: str, short: str, python: Optional[str] = None) -> None:
        super().__init__(message, fix)
        self.short = short
        self.python = python


def name_of(requirement: str) -> str:
    """The normalised project name of a requirement ("TorchVision[x]==1" → "torchvision")."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(requirement).name)


_name = name_of

# The end of the `why` of an addition that is a package of the build itself, asked for with --with
# (Keras's torch): its pin stays the build's, and the env keeps it (install/protect.py kept_names).
PART_OF_BUILD = "part of the build"


class _Draft:
    """The plan's package list, indexes and additions while they are worked out."""

    def __init__(self, plan: Plan, display: str) -> None:
        self.display = display  # the framework's name in messages
        self.packages = list(plan.packages)
        self.index_urls = list(plan.index_urls)
        self.find_links = list(plan.find_links)
        self.added: list[Addition] = []
        self.reasons: list[str] = []
        self.swapped: list[str] = []  # the names of framework packages a companion replaced

    def holds(self, name: str) -> Optional[str]:
        return next((p for p in self.packages if _name(p) == name), None)

    def swap(self, old: str, new: str, why: str) -> None:
        self.packages[self.packages.index(old)] = new
        self.swapped.append(_name(old))
        self.reasons.append(f"{new} in place of {old}: {why}")

    def add(self, requirement: str, why: str, asked: bool = False, index: Optional[str] = None) -> None:
        self.packages.append(requirement)
        if index and index not in self.index_urls:
            self.index_urls.append(index)
        self.added.append(Addition(_name(requirement), requirement, why, asked))


def extend(plan: Plan, recipe: Recipe, request: Request, report: Optional[SystemReport] = None) -> Plan:
    """The plan with its additions; UsageError for a --with/--without that makes no sense here,
    Refusal (exit 3) for a companion asked for that has no build matching the framework's (nor,
    given the machine's `report`, a wheel for it and the plan's Python)."""
    if not (request.with_packages or request.without or recipe.import_needs or recipe.companions):
        return plan  # nothing to add: no table read, no requirement parsed (dry-run start-up)
    from packaging.specifiers import SpecifierSet

    asked = [r for r in request.with_packages if r != "none"]
    known = {c.name: c for c in facts.of(recipe.name) if c.name in recipe.companions}
    _check(plan, recipe, request, asked, known)
    if plan.route != "pip":
        return plan
    draft = _Draft(plan, recipe.display_name)
    for requirement in [r for r in asked if _name(r) not in known and draft.holds(_name(r))]:
        held = str(draft.holds(_name(requirement)))  # a package of the build (Keras's torch): its pin kept
        joined = _joined(requirement, held, f"the {plan.variant} build of {plan.framework} {plan.version} pins")
        draft.packages[draft.packages.index(held)] = joined
        draft.added.append(Addition(_name(requirement), joined, f"asked for with --with; {PART_OF_BUILD}", True))
        asked.remove(requirement)
    for need in () if _jetpack(plan) else recipe.import_needs:
        if need.framework and not SpecifierSet(need.framework).contains(plan.version, prereleases=True):
            continue
        mine = next((r for r in asked if _name(r) == _name(need.requirement)), None)
        if mine is not None:  # the user's pin in place of the default, within what the build needs
            asked.remove(mine)
            needs = f"{recipe.display_name} {plan.version} needs"
            draft.add(_joined(mine, need.requirement, needs), f"asked for with --with, in place of: {need.why}", True)
        elif draft.holds(_name(need.requirement)) is None:
            draft.add(need.requirement, need.why)
    explicit = {_name(r) for r in asked}
    for companion in () if _jetpack(plan) and not explicit else known.values():
        if companion.name in explicit:
            _companion(draft, plan, request, report, companion, asked=True)
            _extras(draft, next(r for r in asked if _name(r) == companion.name))
        elif companion.default:
            if "none" in request.with_packages or companion.name in request.without:
                flag = "--with none" if "none" in request.with_packages else f"--without {companion.name}"
                draft.added.append(Addition(companion.name, None, f"not installed ({flag})"))
            else:
                _companion(draft, plan, request, report, companion, asked=False)
    for requirement in asked:
        if _name(requirement) not in known:
            draft.add(
                requirement,
                f"asked for with --with; resolved with {plan.framework} {plan.version} in one resolution",
                True,
            )
    if not draft.added:
        return plan
    reasons = [*draft.reasons, *(f"{a.requirement or a.name}: {a.why}" for a in draft.added)]
    kept = [r for r in plan.reasons if not r.startswith(tuple(f"{n}: " for n in draft.swapped))]
    return records.replace(
        plan,
        packages=draft.packages,
        index_urls=draft.index_urls,
        find_links=draft.find_links,
        companions=draft.added,
        reasons=[*kept, *reasons],
    )


def _joined(asked: str, default: str, why: str) -> str:
    """The user's `--with` requirement for a package the plan adds itself: with the default's one
    exact version (a build's pin) that pin, else the clauses of both; UsageError when the user's
    excludes what the default allows (numpy==2.0 where torch 2.2 needs numpy<2)."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from fwsetup.plan import requested

    mine, base = Requirement(asked), Requirement(default)
    pins = [c.version for c in base.specifier if c.operator in ("==", "===") and "*" not in c.version]
    joined = base.specifier if pins else SpecifierSet(",".join(str(c) for c in (*mine.specifier, *base.specifier)))
    fits = mine.specifier.contains(pins[0], prereleases=True) if pins else requested.satisfiable(joined)
    if not fits:
        raise UsageError(
            f"--with {shorten(asked, quote=True)} excludes {default}, which {why}",
            f"pass a version {default} allows, or leave {mine.name} out of --with",
        )
    if joined == mine.specifier:
        return asked
    mine.specifier = joined
    return str(mine)


def _extras(draft: _Draft, asked: str) -> None:
    """A companion asked for with extras (`torchvision[scipy]`) keeps them."""
    from packaging.requirements import Requirement

    extras = Requirement(asked).extras
    name = _name(asked)
    if not extras:
        return
    for i, held in enumerate(draft.packages):
        if _name(held) == name and not Requirement(held).extras:
            req = Requirement(held)
            req.extras = set(extras)
            draft.packages[i] = str(req)
    draft.added = [
        records.replace(a, requirement=next(p for p in draft.packages if _name(p) == name))
        if a.name == name and a.requirement is not None
        else a
        for a in draft.added
    ]


def _check(
    plan: Plan, recipe: Recipe, request: Request, asked: list[str], known: dict[str, facts.Companion]
) -> None:
    from packaging.requirements import Requirement

    missing = sorted(set(recipe.companions) - set(known))
    if missing:
        from fwsetup.errors import RecipeError

        raise RecipeError(
            f"recipe {recipe.path}: companions {', '.join(missing)} are not in fwsetup/facts/companions.toml",
            "add them to bin/companions.py and run `bin/update_data.py companions`",
        )
    framework_package = _name(plan.packages[0]) if plan.packages else recipe.name
    for requirement in asked:
        name = _name(requirement)
        if name == framework_package:
            raise UsageError(
                f"--with {shorten(requirement)}: {name} is the framework itself", "choose its version with --version"
            )
        if name in known and Requirement(requirement).specifier:
            raise UsageError(
                f"--with {shorten(requirement)}: {name}'s version follows the framework's build",
                f"pass --with {name} without a version (fwsetup picks the release made for the planned "
                f"{recipe.display_name})",
            )
    defaults = sorted(c.name for c in known.values() if c.default)
    for name in request.without:
        if name not in defaults:
            raise UsageError(
                f"--without {shorten(name)}: not a default companion of {recipe.display_name}",
                f"defaults: {', '.join(defaults) or 'none'}",
            )
    if asked and plan.route != "pip":
        raise Refusal(
            f"--with needs a pip install; {recipe.display_name} is installed by {plan.route} here",
            "install the packages yourself after the framework",
        )


def _companion(
    draft: _Draft,
    plan: Plan,
    request: Request,
    report: Optional[SystemReport],
    companion: facts.Companion,
    asked: bool,
) -> None:
    """The companion made for this framework release, from the framework's own build and source."""
    if not companion.per_variant:
        _from_pypi(draft, plan, report, companion, asked)
        return
    held = draft.holds(companion.name)
    if held is not None:  # the selector chose it with the build (a Jetson's torchvision)
        draft.added.append(Addition(companion.name, held, "chosen with the build", asked))
        return
    framework = draft.holds(companion.package)
    version = (framework or "").partition("==")[2].lstrip("=")  # == or === (versions.exact_pin)
    base, _, label = version.partition("+")
    release = companion.for_framework(base) if base else None
    if release is None:
        why = (
            f"no {companion.name} release names {companion.package} {base or plan.version} "
            f"(fwsetup/facts/companions.toml, checked {facts.table().checked})"
        )
        if asked:
            raise CompanionRefusal(why, f"install without --with {companion.name}", f"no {companion.name} for it")
        draft.added.append(Addition(companion.name, None, f"not installed: {why}"))
        return
    made = f"{release.version} is the release made for {companion.package} {base} (its METADATA: {release.requires})"
    if not label:
        draft.add(
            exact_pin(companion.name, release.version), f"{made}; from PyPI, like {companion.package}", asked
        )
        return
    requirement = f"{companion.name}=={release.version}+{label}"
    if draft.index_urls:
        draft.add(requirement, f"{made}; the {label} build, from {companion.package}'s index", asked)
        return
    local = _local(request, companion.name, f"{release.version}+{label}")
    if local is not None:
        folder = local.rsplit("/", 1)[0]
        if folder not in draft.find_links:
            draft.find_links.append(folder)
        draft.add(requirement, f"{made}; the {label} build, already on disk ({local})", asked)
        return
    index = _index(plan, base, label)
    if asked and index is not None:
        draft.add(requirement, f"{made}; the {label} build, from {index}", asked, index=index)
        return
    draft.added.append(
        Addition(
            companion.name,
            None,
            f"not installed: {companion.package} {version} comes from a wheel on disk and no {companion.name} "
            f"{release.version}+{label} is beside it"
            + (f"; --with {companion.name} fetches it from {index}" if index else ""),
        )
    )


def _from_pypi(
    draft: _Draft, plan: Plan, report: Optional[SystemReport], companion: facts.Companion, asked: bool
) -> None:
    """A companion built once, on PyPI, against PyPI's framework (tensorflow-text, tf-keras): the
    release whose METADATA admits the framework's version, with a wheel for this machine and the
    plan's Python; the framework installed as the distribution it requires (tensorflow, never
    tensorflow-cpu beside it)."""
    framework = draft.holds(companion.package)
    stand_in = None
    if framework is None:
        stand_in = next((p for p in draft.packages if _name(p) in companion.instead_of), None)
    version = (framework or stand_in or "").partition("==")[2]
    base, _, label = version.partition("+")
    release = companion.for_framework(base) if base else None
    if release is None:
        _none(draft, companion, asked, _unmade(companion, base or plan.version), _fix_version(companion),
              f"no {companion.name} for it")  # fmt: skip
        return
    made = f"{release.version} is the release made for {companion.package} {base} (its METADATA: {release.requires})"
    if label and not release.pure:
        if _jetpack(plan):
            why = (
                f"NVIDIA's JetPack {companion.package} {version} has no {companion.name}: NVIDIA's JetPack "
                f"index is for {companion.package} itself, and PyPI's {companion.name} {release.version} is "
                f"compiled against PyPI's {companion.package} {base}, whose build its compiled ops need"
            )
            fix = (
                f"build {companion.name} from source against this {draft.display}, "
                f"or install without --with {companion.name}"
            )
        else:
            why = (
                f"PyPI's {companion.name} {release.version} is compiled against PyPI's {companion.package} "
                f"{base}, whose build its compiled ops need, not the {label} build planned here"
            )
            fix = f"install without --with {companion.name}"
        _none(draft, companion, asked, why, fix, f"no {companion.name} for its build")
        return
    if report is not None and release.wheels:
        from fwsetup.plan import wheels

        if not wheels.wheel_fits(release.wheels, plan.python, report):
            why, python = _no_wheel(companion, release, plan, report)
            short = f"{companion.name} {release.version} has no wheel here"
            _none(draft, companion, asked, why, f"install without --with {companion.name}", short, python)
            return
    source = (
        "py3-none-any, from PyPI" if release.pure else f"from PyPI, built against PyPI's {companion.package}"
    )
    if stand_in is not None:
        draft.swap(
            stand_in,
            f"{companion.package}=={version}",
            f"{companion.name} requires the distribution named {companion.package} ({release.requires}), so "
            f"beside {_name(stand_in)} it would install {draft.display} a second time; PyPI's "
            f"{companion.package} runs on the CPU too and brings no CUDA libraries without [and-cuda]",
        )
    draft.add(f"{companion.name}=={release.version}", f"{made}; {source}", asked)


def _none(
    draft: _Draft,
    companion: facts.Companion,
    asked: bool,
    why: str,
    fix: str,
    short: str,
    python: Optional[str] = None,
) -> None:
    """A companion with no release that fits: refused when asked for (exit 3), else the plan says so."""
    if asked:
        raise CompanionRefusal(why, fix, short, python)
    draft.added.append(Addition(companion.name, None, f"not installed: {why}"))


def _unmade(companion: facts.Companion, version: str) -> str:
    why = (
        f"no {companion.name} release names {companion.package} {version} "
        f"(fwsetup/facts/companions.toml, checked {facts.table().checked})"
    )
    near = companion.series(version)
    if near:
        why += f"; its release for the {'.'.join(version.split('.')[:2])} series, {near[0].version}, requires {near[0].requires}"
    return why


def _fix_version(companion: facts.Companion) -> str:
    """Informational only: which framework release the newest companion release names (the
    planner adds a --version only where a real selection shows it works: tensorflow-decision-forests
    1.12.0 names tensorflow==2.19.0, a patch fwsetup does not plan)."""
    newest = companion.release[0] if companion.release else None
    which = f" (its newest, {newest.version}, requires {newest.requires})" if newest else ""
    return f"install without --with {companion.name}{which}"


def _no_wheel(
    companion: facts.Companion, release: facts.CompanionRelease, plan: Plan, report: SystemReport
) -> tuple[str, Optional[str]]:
    """Why a release has no wheel here, and the newest Python its wheels serve on this machine (the
    planner offers it only where the framework plans with it too; it finds the --version itself)."""
    from fwsetup.plan import wheels

    pythons = sorted({t.split("-")[0] for t in release.wheels}, key=lambda t: (len(t), t))
    platforms = list(dict.fromkeys(t.split("-", 2)[2] for t in release.wheels))
    why = (
        f"{companion.name} {release.version} (made for {companion.package} {plan.version.split('+')[0]}) has no wheel "
        f"for Python {plan.python} on {_where(report)}: its wheels are {', '.join(pythons)} on "
        f"{', '.join(platforms)}"
    )
    fits = [
        f"{p[2]}.{p[3:]}"
        for p in pythons
        if p.startswith("cp3") and wheels.wheel_fits(release.wheels, f"{p[2]}.{p[3:]}", report)
    ]
    return why, (fits[-1] if fits else None)


def _where(report: SystemReport) -> str:
    """The machine as its wheel tags see it: platform, and the C library or macOS that bounds them."""
    libc = report.os.libc
    if libc is not None and libc.version:
        return f"{report.platform_key()} ({libc.name} {libc.version})"
    if report.os.system.lower() == "darwin" and report.os.distro_version:
        return f"{report.platform_key()} (macOS {report.os.distro_version})"
    return report.platform_key()


def _jetpack(plan: Plan) -> bool:
    """NVIDIA's JetPack builds (variants jp…) come with what JetPack pairs with them (the Jetson
    selector adds torchvision from facts/jetson.toml): only what --with names is added to them."""
    return plan.variant.startswith("jp")


def _local(request: Request, name: str, version: str) -> Optional[str]:
    return next((w.path for w in request.local_wheels if w.name == name and w.version == version), None)


def _index(plan: Plan, version: str, label: str) -> Optional[str]:
    """The index serving the framework's build `label` (the PyTorch index per variant)."""
    if plan.framework != "pytorch":
        return None
    from fwsetup.facts import pytorch

    found = pytorch.variant(version, label)
    return found.index_url if found is not None else None
