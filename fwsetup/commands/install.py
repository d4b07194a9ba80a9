"""`fwsetup install`: plan (or read a lock), then build the environment, or install into the
user's venv, or prove that an env already holds the locked target.

Three steps, so the command line can ask its questions in between and nothing here prompts:
`plan()` (what --dry-run shows), `conflict()` and `apt_command()` (what to ask in a terminal:
replace or add to the env? install these system packages?), then `execute()` with the answers
in the options (`replace`/`add`, `system_packages`)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Optional, Union

from fwsetup import records
from fwsetup.commands import plans
from fwsetup.commands.common import absolute
from fwsetup.errors import FwsetupError, Refusal, UsageError
from fwsetup.install import combine, envs
from fwsetup.install import execute as executing
from fwsetup.install.execute import InstallOptions, InstallResult, target_path
from fwsetup.install.generation import GenerationMeta
from fwsetup.plan import planning, recipes
from fwsetup.plan.model import Plan
from fwsetup.progress import Progress
from fwsetup.records import dataclass, field

INSTALLERS = ("auto", "uv", "pip")
# fwsetup.fleet (a lock), install.into (--into) and install.guards are imported where they are
# used: `install --dry-run` is held to 10x a bare interpreter start (bench/bench_cli.py), and they
# bring subprocess, tempfile and packaging.tags with them.


@dataclass(frozen=True)
class Options:
    framework: Optional[str] = None
    lock: Optional[Path] = None  # install exactly what this lock holds for this machine
    choice: plans.Choice = field(default_factory=plans.Choice)
    system_report: Optional[Path] = None  # plan for the machine that wrote this report (--dry-run)
    wheelhouse: list[Union[Path, str]] = field(default_factory=list)  # directories or find-links URLs
    allow_insecure: bool = False
    dry_run: bool = False
    env: Optional[Path] = None
    replace: bool = False  # the env holds another framework: a fresh generation with only this one
    add: bool = False  # … or keep it and add this one
    force: bool = False
    into: Optional[Path] = None  # the user's own venv
    protect: bool = False  # --into: its pip/uv keep the build (the option, or a yes in a terminal)
    index_url: Optional[str] = None
    offline: bool = False
    system_packages: bool = False  # apt-get may run (the option, or a yes in a terminal)
    yes: bool = False
    installer: str = "auto"
    quiet: bool = False
    timeout: float = 3600.0
    log_file: Optional[Path] = None


@dataclass(frozen=True)
class Planned:
    """The plan (`--dry-run` shows it), the recipe it is for, a lock's exact list, and the env path."""

    plan: Plan
    recipe: str
    locked: tuple[str, ...]
    env_path: str
    keeps: tuple[str, ...] = ()  # a lock target's names its env pins (install/protect.py)

    def to_dict(self) -> dict[str, Any]:
        return {**self.plan.to_dict(), "env_path": self.env_path}


@dataclass(frozen=True)
class IntoResult:
    """Installed into the user's venv (--into); `done` says what changed and how to undo it."""

    plan: Plan
    done: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.done


@dataclass(frozen=True)
class Unchanged:
    """--lock: the env already held the locked target; its smoke test passed again."""

    env: str
    lock: str
    kept: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.kept


@dataclass(frozen=True)
class Installed:
    plan: Plan
    result: InstallResult  # up_to_date: the env already held exactly this plan

    def to_dict(self) -> dict[str, Any]:
        return self.result.to_dict()


def plan(options: Options) -> Planned:
    """The plan, from a lock or made for this machine (or a --system report); usage errors first."""
    if options.lock is not None:
        _lock_takes_no_plan_options(options)
    choice = options.choice.checked()
    if options.installer not in INSTALLERS:  # before any planning, for --into too
        raise UsageError(f"--installer {options.installer!r} is not one of auto, uv, pip", "pass --installer auto")
    if options.system_report is not None and options.lock is None and not options.dry_run:
        # The plan is another machine's: its interpreter path, its GPU's build. Building it here
        # would run the report's python.executable (someone else's data) and install a wrong build.
        raise UsageError(
            "--system plans for the machine that wrote the report; it installs nothing here",
            "add --dry-run to see that machine's plan, or `fwsetup lock --system …` to install it there",
        )
    if options.lock is not None:
        if options.system_report is not None or options.dry_run:
            raise UsageError(
                "--lock installs on this machine; it cannot be combined with --system or --dry-run",
                "use `fwsetup lock --system …` to plan for other machines",
            )
        from fwsetup.fleet.fromlock import plan_from_lock

        outcome, recipe_name, locked, keeps = plan_from_lock(
            options.lock, options.framework, allow_insecure=options.allow_insecure, allow_paths=bool(options.wheelhouse)
        )
    elif options.framework is None:
        raise UsageError("install needs a framework name (or --lock FILE)", "e.g. `fwsetup install pytorch --cpu`")
    else:
        outcome = _plan(options, choice)
        recipe_name, locked, keeps = outcome.framework, (), ()
    return Planned(outcome, recipe_name, locked, str(target_path(outcome, InstallOptions(env_path=options.env))), keeps)


def _lock_takes_no_plan_options(options: Options) -> None:
    """A lock target is the complete, hash-checked set of packages for its machine kind, with its
    version, build and Python: a plan option beside --lock would be ignored, so it is refused."""
    given = sorted(options.choice.given())
    if not given:
        return
    fw = options.framework
    if fw is None and options.lock is not None:  # the fix names the lock's framework
        from fwsetup.fleet import lockfile

        with contextlib.suppress(FwsetupError):  # an unreadable lock is its own error, later
            fw = lockfile.load(options.lock)[0]
    fw = fw or "FW"
    if "--with" in given or "--without" in given:
        why = "a lock is the complete, hash-checked set of packages"
        fix = f"add or leave out packages in the lock: `fwsetup lock {fw} … --with NAME -o LOCK`"
    else:
        why = "its target for this machine fixes the version, the build and the Python"
        fix = f"lock what you want: `fwsetup lock {fw} --version … -o LOCK` (with --gpu, --cpu, --python …)"
    fix += ", then `fwsetup install --lock LOCK`"
    raise UsageError(
        f"--lock installs exactly what the lock holds: {', '.join(given)} cannot change it ({why})",
        f"{fix}; or leave out --lock (and FWSETUP_LOCK) to plan on this machine",
    )


def _plan(options: Options, choice: plans.Choice) -> Plan:
    if options.replace and options.add:
        raise UsageError("--replace and --add exclude each other", "pass one of them")
    python = choice.python
    if options.into is not None:
        from fwsetup.install import into as into_venv

        if options.env is not None or options.replace or options.add:
            raise UsageError("--into names the environment itself", "drop --env/--replace/--add")
        python = python or into_venv.python_of(absolute(options.into))  # refuses what is not a project venv
    if options.add and python is None and options.env is not None:
        python = _env_python_version(options.env)  # added frameworks share the env's Python
    report = planning.machine_report(options.system_report)
    wheels = [w for w in options.wheelhouse if not isinstance(w, str)]
    request = plans.request(
        str(options.framework), records.replace(choice, python=python), wheels, options.system_report is None
    )
    here = options.system_report is None and options.installer != "pip"  # uv's cache here serves it
    planned = plans.make_plan(
        str(options.framework), report, request, check_index=not options.offline, index_url=options.index_url,
        uv_cache=here,
    )  # fmt: skip
    if isinstance(planned, Refusal):
        raise planned
    return planned


def _held(path: Path) -> Optional[GenerationMeta]:
    """What the generation an env path points at says about itself; None for a new or broken env."""
    found = envs.EnvLayout(path).current()
    try:
        return envs.read_metadata(found) if found is not None else None
    except FwsetupError:
        return None


def _env_python_version(env: Path) -> Optional[str]:
    """The Python X.Y of the generation an env path points at, if it is an fwsetup env."""
    held = _held(absolute(env))
    return (held.python or None) if held is not None else None


def conflict(planned: Planned, options: Options) -> Optional[combine.Conflict]:
    """What the env holds that needs --replace or --add (a question for a terminal), if anything."""
    if options.dry_run or options.into is not None or options.replace or options.add:
        return None
    return combine.conflict(planned.plan, _held(Path(planned.env_path)), planned.env_path)


def apt_command(planned: Planned) -> Optional[list[str]]:
    """The apt-get command the install would run for missing system packages (a question)."""
    if planned.plan.route not in ("pip", "apt"):
        return None
    return executing.apt_command(planned.plan)


def execute(
    options: Options, progress: Progress, planned: Optional[Planned] = None
) -> Union[Planned, IntoResult, Unchanged, Installed]:
    """`planned`: the plan `plan(options)` made already (the questions were asked about it)."""
    planned = planned or plan(options)
    if options.dry_run:
        return planned
    from fwsetup import pipconfig

    pipconfig.check_constraints(pipconfig.read())  # pip and uv stop at a missing file: before any env changes
    outcome = planned.plan
    recipe = recipes.find(planned.recipe)
    gpu_smoke = outcome.accelerator in ("cuda", "rocm", "mps", "xpu")
    if options.into is not None:
        from fwsetup.install import into as into_venv

        if options.lock is not None:
            raise UsageError("--into cannot take a --lock", "export it instead: `fwsetup export --format requirements`")
        done = into_venv.install(
            outcome,
            recipe,
            absolute(options.into),
            installer=options.installer,
            timeout=options.timeout,
            gpu_smoke=gpu_smoke,
            wheelhouses=tuple(options.wheelhouse),
            index_url=options.index_url,
            offline=options.offline,
            protect=options.protect or options.yes,
        )
        return IntoResult(outcome, done)
    install = records.replace(_install_options(options, planned.locked, gpu_smoke), locked_keeps=planned.keeps)
    if options.lock is not None:  # an environment already holding this lock target: prove it, change nothing
        from fwsetup.fleet import current

        env_dir = target_path(outcome, install)
        same = current.matching_generation(env_dir, outcome, planned.locked)
        if same is not None:
            kept = current.reprove(env_dir, same, gpu=gpu_smoke, timeout=options.timeout, display_name=recipe.display_name)
            return Unchanged(str(env_dir), str(options.lock), kept)
        # The lock check looked at what is installed, not only at the plan: it found a difference.
        install = records.replace(install, force=True)
    from fwsetup.install.guards import preflight

    preflight(outcome, target_path(outcome, install), options.log_file)  # nothing is created when it refuses
    return Installed(outcome, executing.execute(outcome, recipe, install, progress))


def _install_options(options: Options, locked: tuple[str, ...], gpu_smoke: bool) -> InstallOptions:
    return InstallOptions(
        env_path=options.env, log_file=options.log_file, force=options.force,
        index_url=options.index_url, wheelhouses=tuple(options.wheelhouse), offline=options.offline,
        installer=options.installer, timeout=options.timeout, quiet=options.quiet,
        system_packages=options.system_packages, assume_yes=options.yes,  # may apt-get run?
        gpu_smoke=gpu_smoke, locked_requirements=locked,
        mode="replace" if options.replace else "add" if options.add else "",
    )  # fmt: skip
