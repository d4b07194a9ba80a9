"""Run a Plan: the only place fwsetup changes the user's machine.

Order: find the interpreter → lock the environment → build a new generation next to the
current one → install → environment fixes → smoke test → atomic swap. Anything that
fails before the swap removes the new generation and leaves the previous one working.
"""

from __future__ import annotations

import datetime
import os
import shlex
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path
from types import FrameType
from typing import Any, Optional, Union

from fwsetup import __version__, paths, pipconfig, records, runner
from fwsetup.errors import ExitCode, FwsetupError, InstallError, Refusal, SmokeError, UsageError
from fwsetup.install import backends, builds, envs, hooks, registry, smoke
from fwsetup.install import combine as combining
from fwsetup.install import sources as installer_sources
from fwsetup.install.generation import GenerationMeta, HeldFramework
from fwsetup.plan.model import Plan
from fwsetup.plan.recipes import Recipe, recipes_dir
from fwsetup.progress import Progress
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class InstallOptions:
    env_path: Optional[Path] = None
    index_url: Optional[str] = None
    wheelhouses: tuple[Union[Path, str], ...] = ()  # directories, or find-links URLs
    offline: bool = False
    system_packages: bool = False
    assume_yes: bool = False
    quiet: bool = False
    installer: str = "auto"  # auto | uv | pip
    timeout: float = backends.INSTALL_TIMEOUT
    gpu_smoke: bool = False
    skip_smoke: bool = False
    constraints: tuple[str, ...] = ()
    locked_requirements: tuple[str, ...] = ()  # install exactly these (from a lock), hash-checked
    locked_keeps: tuple[str, ...] = ()  # of those, the names the env pins (the lock target's `keeps`)
    log_file: Optional[Path] = None  # default: $FWSETUP_HOME/logs/<framework>-<time>-<pid>.log
    mode: str = ""  # "" (refuse when the env holds something else) | replace | add: asked before
    force: bool = False  # rebuild even when the env already holds exactly this plan


@dataclass
class InstallResult:
    framework: str
    env: str
    python: str
    generation: str
    backend: str
    packages: dict[str, str]
    smoke: Optional[smoke.SmokeResult]
    seconds: float
    skipped: list[str] = field(default_factory=list)
    # an activation script left without UV_CONSTRAINT; bookkeeping after the switch that failed: it stands
    warnings: list[str] = field(default_factory=list)
    frameworks: list[str] = field(default_factory=list)  # all the env holds (several after --add)
    up_to_date: bool = False  # nothing rebuilt: the env already held exactly this plan
    rebuilt_because: Optional[str] = None  # a new generation of an env that had one: why (combine.Decision.why)

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "frameworks": self.frameworks or [self.framework],
            "up_to_date": self.up_to_date,
            "rebuilt_because": self.rebuilt_because,
            "env": self.env,
            "python": self.python,
            "packages": self.packages,
            "smoke": self.smoke.to_dict() if self.smoke else None,
            "generation": self.generation,
            "backend": self.backend,
            "seconds": round(self.seconds, 2),
            "skipped": self.skipped,
            "warnings": self.warnings,
        }


def target_path(plan: Plan, options: InstallOptions) -> Path:
    if options.env_path is not None:
        return Path(os.path.abspath(os.path.expanduser(str(options.env_path))))
    return paths.default_env_path(plan.framework, plan.variant)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (CI cancelling a job) cleans up like Ctrl-C does."""

    def handler(signum: int, frame: Optional[FrameType]) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler) if os.name == "posix" else None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def resolve_interpreter(plan: Plan, progress: Progress, timeout: float) -> str:
    if plan.interpreter and Path(plan.interpreter).exists():
        return plan.interpreter
    uv = backends.find_uv()
    if uv is not None and plan.python:
        progress.info(
            f"Python {plan.python} is not on this machine: fetching it with `uv python install {plan.python}`"
        )
        env = runner.installer_env()
        done = runner.step(
            [uv, "python", "install", plan.python],
            what=f"fetching Python {plan.python} (uv python install)",
            timeout=timeout,
            env=env,
            check=False,
        )
        found = runner.step(
            [uv, "python", "find", plan.python],
            what=f"finding Python {plan.python} (uv python find)",
            timeout=60,
            env=env,
            check=False,
        )
        if done.ok and found.ok and found.stdout.strip():
            return found.stdout.strip()
        detail = (done.stderr or found.stderr).strip().splitlines()[-1:] or ["no detail"]
        raise Refusal(
            f"{plan.framework} needs Python {plan.python}, which is not on this machine and "
            f"`uv python install {plan.python}` could not fetch it ({detail[0]})",
            f"install it another way (`pyenv install {plan.python}`, or your distribution's python{plan.python} "
            "package) and rerun: fwsetup finds it on PATH or under pyenv",
            code="python-missing",
        )
    raise Refusal(
        f"{plan.framework} needs Python {plan.python}, which is not on this machine",
        f"install it: {plan.interpreter_hint or 'pyenv install ' + plan.python}",
        code="python-missing",
    )


def _python_of(plan: Plan, interpreter: str) -> tuple[int, int]:
    """The plan's interpreter was probed by doctor: its version is known without asking again."""
    if interpreter == plan.interpreter:
        parts = plan.python.split(".")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            return int(parts[0]), int(parts[1])
    return backends.python_version_of(interpreter)


def substitute(value: str, env_dir: Path) -> str:
    return value.replace("{env}", str(env_dir))


def apt_command(plan: Plan) -> Optional[list[str]]:
    """The apt-get command that would install what the plan's system packages lack; None when
    nothing is missing or this is not a Debian-family system. The command line shows it when it
    asks, in a terminal, before the install starts."""
    apt, dpkg = shutil.which("apt-get"), shutil.which("dpkg-query")
    if not plan.system_packages or apt is None or dpkg is None:
        return None
    missing = [p for p in plan.system_packages if not _dpkg_installed(dpkg, p)]
    return [apt, "install", "-y", "--no-install-recommends", *missing] if missing else None


def system_package_step(plan: Plan, options: InstallOptions, progress: Progress, skipped: list[str]) -> None:
    """apt steps with --system-packages, --yes or a yes given in a terminal before the install
    (options.system_packages); announced first, and only as root on a Debian-family system."""
    if not plan.system_packages:
        return
    if shutil.which("apt-get") is None or shutil.which("dpkg-query") is None:
        skipped.append(
            f"system packages {' '.join(plan.system_packages)}: not a Debian-family system; install them with your package manager"
        )
        progress.info("note: " + skipped[-1])
        return
    command = apt_command(plan)
    if command is None:
        return
    missing = command[4:]
    progress.info(f"fwsetup would run: {shlex.join(command)}")
    if not (options.system_packages or options.assume_yes):
        skipped.append(
            f"system packages {' '.join(missing)}: rerun with --system-packages (or --yes) to let fwsetup run `{shlex.join(command)}`"
        )
        progress.info("note: skipped " + skipped[-1])
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        skipped.append(f"system packages {' '.join(missing)}: not root; run `sudo {shlex.join(command)}`")
        progress.info("note: skipped " + skipped[-1])
        return
    progress.info(f"installing system packages: {shlex.join(command)}")
    runner.step(
        command,
        what="installing system packages (apt-get)",
        timeout=options.timeout,
        env=runner.installer_env({"DEBIAN_FRONTEND": "noninteractive"}),
        fix="run `apt-get update` and retry, or install the packages yourself",
        merge_stderr=True,
    )


def _dpkg_installed(dpkg: str, package: str) -> bool:
    out = runner.probe([dpkg, "-W", "-f=${Status}", package], timeout=30)
    return out.ok and "install ok installed" in out.stdout


def post_install(plan: Plan, gen: Path) -> None:
    for action in plan.post_install:
        if action.get("kind") == "symlink":
            target_dir = Path(substitute(str(action["dir"]), gen))
            target_dir.mkdir(parents=True, exist_ok=True)
            candidates = [m for pattern in action.get("target_glob", []) for m in sorted(glob(pattern))]
            if not candidates:
                raise InstallError(
                    f"post-install link {action['name']}: none of {', '.join(action.get('target_glob', []))} exists",
                    "install the system packages the plan lists (rerun with --system-packages)",
                )
            link = target_dir / str(action["name"])
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(candidates[0])


def write_env_fixes(plan: Plan, gen: Path) -> dict[str, str]:
    env = {k: substitute(v, gen) for k, v in plan.env.items()}
    if not env:
        return env
    activate = gen / "bin" / "activate"
    if activate.exists():
        lines = ["", f"# fwsetup: environment fixes for {plan.framework} {plan.version}"]
        for key, value in env.items():
            if key == "LD_LIBRARY_PATH":
                lines.append(
                    f'export LD_LIBRARY_PATH={shlex.quote(value)}"${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"'
                )
            else:
                lines.append(f"export {key}={shlex.quote(value)}")
        with activate.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    return env


class InstallInterrupted(FwsetupError):
    """Ctrl-C or SIGTERM during an install: says what was kept."""

    exit_code = ExitCode.INTERRUPTED
    code = "interrupted"


def _current_metadata(layout: envs.EnvLayout, mode: str) -> Optional[GenerationMeta]:
    """What the env holds now. Damaged metadata hides it, so only --replace (which keeps nothing
    of it, and keeps it for rollback) goes on: --add or a plain install would guess."""
    current = layout.current()
    if current is None:
        return None
    try:
        return envs.read_metadata(current)
    except UsageError as exc:
        if mode == "replace":
            return None
        raise UsageError(
            f"{exc.message}: fwsetup cannot tell what {layout.path} holds",
            f"--replace builds a fresh generation (the current one stays for `fwsetup rollback {layout.path}`)",
        ) from None


def _smoke_script(name: str, gen: Path, suffix: str) -> Optional[Path]:
    src = recipes_dir() / "smoke" / name if name else None
    if src is None or not src.is_file():
        return None
    copy = gen / f"fwsetup-smoke{suffix}.py"
    shutil.copyfile(src, copy)
    return copy


@contextmanager
def interruption_explained(layout: envs.EnvLayout) -> Iterator[None]:
    """SIGTERM acts as Ctrl-C, and Ctrl-C says what was kept (exit 130)."""
    try:
        with sigterm_as_interrupt():
            yield
    except KeyboardInterrupt:
        previous = layout.current()
        raise InstallInterrupted(
            "interrupted: "
            + (
                f"the previous environment is kept: {layout.path} → {previous}"
                if previous is not None
                else f"nothing was left at {layout.path}"
            ),
            None,
        ) from None


@contextmanager
def forget_on_failure(layout: envs.EnvLayout, fresh: bool) -> Iterator[None]:
    try:
        yield
    finally:
        if fresh:
            _forget_new_path(layout)


def _up_to_date(plan: Plan, meta: GenerationMeta, layout: envs.EnvLayout, started: float) -> InstallResult:
    return InstallResult(
        framework=plan.framework,
        env=str(layout.path),
        python=str(meta.python),
        generation=str(layout.current()),
        backend=str(meta.backend),
        packages=dict(meta.packages),
        smoke=None,
        seconds=time.perf_counter() - started,
        frameworks=[str(f.framework) for f in meta.held()],
        up_to_date=True,
    )


def _forget_new_path(layout: envs.EnvLayout) -> None:
    """A refused, failed or interrupted install into a new path leaves nothing behind."""
    if layout.current() is not None or layout.path.is_symlink():
        return
    shutil.rmtree(layout.store, ignore_errors=True)
    for extra in (layout.lock_file, layout.lock_file.with_name(layout.lock_file.name + ".pid")):
        extra.unlink(missing_ok=True)


def _refuse_what_cannot_run(plan: Plan, recipe: Recipe) -> None:
    blocked = [s for s in plan.steps if not s.can_run_here]
    if (plan.route not in ("pip", "apt") and not plan.steps) or blocked:
        raise Refusal(
            f"{recipe.display_name} is installed through {plan.route}, which fwsetup does not run automatically"
            + (": " + "; ".join(f"{s.description} ({s.why_not})" for s in blocked) if blocked else ""),
            "follow the steps of `fwsetup install "
            + recipe.name
            + " --dry-run`"
            + "".join(
                f", or install the pip variant with `fwsetup install {recipe.name} --variant {v.name}`"
                for v in recipe.variants
                if v.route == "pip" and v.name != plan.variant
            )
            + (f", or use {recipe.successor}" if recipe.successor else ""),
            code="not-installable",
        )


def execute(
    plan: Plan, recipe: Recipe, options: InstallOptions, progress: Optional[Progress] = None
) -> InstallResult:
    """Prepare, create, install, fix, smoke-test, switch: each phase below, one failure path
    (`_failure_path`) for them all. `progress`: the reporter (default: stderr)."""
    _refuse_what_cannot_run(plan, recipe)
    target = target_path(plan, options)
    layout = envs.EnvLayout(target)
    envs.ensure_writable(target.parent)
    envs.check_target(layout)
    fresh = not layout.store.exists() and not target.is_symlink()
    progress = progress or Progress(STEPS, quiet=options.quiet)
    # Exit order: the lock is released, then a new path's leftovers go, then Ctrl-C is explained.
    with interruption_explained(layout), forget_on_failure(layout, fresh), envs.locked(layout):
        started = time.perf_counter()
        progress.begin(STEPS)
        envs.prune(layout)
        meta = _current_metadata(layout, options.mode)
        fingerprint = sources_of(options)
        decision = combining.decide(
            plan, meta, str(target), mode=options.mode, force=options.force, sources=fingerprint
        )
        if decision.kind == "up-to-date" and meta is not None:
            return _up_to_date(plan, meta, layout, started)
        if plan.route not in ("pip", "apt"):
            return _execute_steps(plan, recipe, options, layout, progress, started, decision.why)
        build = _prepare(plan, recipe, options, decision, layout, progress, fingerprint)
        with _failure_path(layout, build.gen, progress):
            _create(build)
            _install(build)
            _fix(build)
            _smoke(build)
            _switch(build)
        return InstallResult(
            framework=plan.framework,
            env=str(target),
            python=build.python,
            generation=str(build.gen),
            backend=build.backend.name,
            packages=build.packages,
            smoke=build.smoked,
            seconds=time.perf_counter() - started,
            skipped=build.skipped,
            warnings=build.warnings,
            frameworks=[str(e.framework) for e in build.entries],
            rebuilt_because=decision.why,
        )


STEPS = 5  # create, install, fix, smoke, switch: the [i/5] of the progress lines


@dataclass
class _Build:
    """One install on its way, handed from phase to phase; what each phase adds is below the line."""

    plan: Plan
    full: Plan  # the plan, with the frameworks kept by --add
    decision: combining.Decision
    recipe: Recipe
    options: InstallOptions
    layout: envs.EnvLayout
    progress: Progress
    fingerprint: dict[str, Any]
    interpreter: str
    version: tuple[int, int]
    backend: backends.Backend
    gen: Path
    run: backends.Runner
    skipped: list[str]
    # ---
    fixes: dict[str, str] = field(default_factory=dict)
    entries: list[HeldFramework] = field(default_factory=list)
    packages: dict[str, str] = field(default_factory=dict)
    smoked: Optional[smoke.SmokeResult] = None
    warnings: list[str] = field(default_factory=list)

    @property
    def python(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def seed_with_install(self) -> bool:
        """Seeding pip with the framework's own install costs nothing; `uv venv --seed` costs a
        third of a small install. A lock's hash-checked list cannot take it."""
        o = self.options
        return self.backend.name == "uv" and bool(self.full.packages) and not o.offline and not o.locked_requirements


def _prepare(
    plan: Plan,
    recipe: Recipe,
    options: InstallOptions,
    decision: combining.Decision,
    layout: envs.EnvLayout,
    progress: Progress,
    fingerprint: dict[str, Any],
) -> _Build:
    """Everything before the disk changes under the env: the interpreter (fetched by uv if need
    be), the installer, the system packages, then a new generation and its log."""
    interpreter = "/usr/bin/python3" if plan.route == "apt" else resolve_interpreter(plan, progress, options.timeout)
    version = _python_of(plan, interpreter)
    backend = backends.choose(version, options.installer)
    skipped: list[str] = []
    system_package_step(decision.plan, options, progress, skipped)
    log = options.log_file or (
        paths.home() / "logs" / f"{recipe.name}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    )
    try:  # nothing is built yet: a full disk or a file in the way fails like any later step
        log.parent.mkdir(parents=True, exist_ok=True)
        gen = layout.new_generation()
    except OSError as exc:
        raise disk_error(layout, exc) from None
    run = backends.run_logged(log, options.timeout)
    return _Build(
        plan, decision.plan, decision, recipe, options, layout, progress, fingerprint,
        interpreter, version, backend, gen, run, skipped,
    )  # fmt: skip


def _create(b: _Build) -> None:
    b.progress.step(f"creating the environment (Python {b.python}, {b.backend.name}) at {b.layout.path}")
    if b.plan.route == "apt":
        if not Path(b.interpreter).exists():
            raise InstallError("the apt route needs the system /usr/bin/python3", None)
        b.run(
            [b.interpreter, "-m", "venv", "--system-site-packages", "--without-pip", str(b.gen)],
            what="creating the environment (python -m venv)",
        )
    else:
        b.backend.create(b.interpreter, b.gen, b.run, offline=b.options.offline, seed=not b.seed_with_install)
    b.progress.done()


def _install(b: _Build) -> None:
    o, full = b.options, b.full
    what = f"{len(o.locked_requirements)} locked packages" if o.locked_requirements else " ".join(full.packages)
    from fwsetup.install.downloads import Meter

    b.progress.step(f"installing {what or 'nothing from PyPI'}", meter=None if o.offline else Meter(full.download_bytes))
    requirements_file: Optional[Path] = None
    if o.locked_requirements:
        requirements_file = b.gen / installer_sources.LOCK_REQUIREMENTS_FILE
        requirements_file.write_text("\n".join(o.locked_requirements) + "\n", encoding="utf-8")
    if full.packages or requirements_file is not None:
        sources = installer_sources.of(
            full,
            b.gen,
            find_links=tuple(str(w) for w in o.wheelhouses),
            index_url=o.index_url,
            constraints=o.constraints,
            offline=o.offline,
            requirements_file=requirements_file,
            settings=pipconfig.read(),
        )
        seeds = backends.seed_packages(b.version) if b.seed_with_install else []
        try:
            b.backend.install(envs.env_python(b.gen), [*full.packages, *seeds], sources, b.run)
        except InstallError as exc:
            if b.decision.kept:
                exc.message = (
                    f"{b.plan.framework} {b.plan.version} cannot be installed together with "
                    + ", ".join(f"{k.framework} {k.version}" for k in b.decision.kept)
                    + f" ({' '.join(full.packages)}): {exc.message}"
                )
                exc.fix = "install it into its own environment (another --env path), or use --replace"
            raise
    b.progress.done()


def _fix(b: _Build) -> None:
    """The recipe's links and variables, the start-up hook, the smoke scripts and fwsetup.json."""
    plan, gen = b.plan, b.gen
    b.progress.step("environment fixes")
    post_install(b.full, gen)
    b.fixes = write_env_fixes(b.full, gen)
    hooks.install(gen, b.layout.path, b.fixes)
    smoke_copy = _smoke_script(plan.smoke, gen, "")
    b.entries = [HeldFramework.planned(plan, smoke_copy.name if smoke_copy else None, b.fingerprint)]
    for kept in b.decision.kept:
        old_plan = kept.plan or {}
        copy = _smoke_script(str(old_plan.get("smoke") or ""), gen, f"-{kept.framework}")
        b.entries.append(records.replace(kept, smoke=copy.name if copy else None))
    b.packages = envs.installed_packages(gen)
    _protect(b.full, gen, b.packages, o=b.options, named=b.layout.path, warnings=b.warnings)
    envs.write_metadata(
        gen,
        records.replace(
            metadata(plan, b.python, b.fixes, smoke_copy.name if smoke_copy else None),
            interpreter=b.interpreter,
            frameworks=b.entries,
            backend=b.backend.name,
            packages=b.packages,
        ),
    )
    b.progress.done()


def _protect(
    plan: Plan, env: Path, installed: dict[str, str], o: InstallOptions, named: Path, warnings: list[str]
) -> None:
    """The env keeps its build: a later `pip install X` in it cannot replace the framework (protect.py);
    from a lock, at the versions of its checked requirement lines. An activation script that could
    not be patched for uv is a warning (`named`: the stable path its scripts name)."""
    from fwsetup.install import protect

    if o.locked_requirements:
        locked = (o.locked_requirements, o.locked_keeps)
        protect.apply_locked(plan, env, *locked, installed, named=named, warnings=warnings)
    else:
        protect.apply(plan, env, installed, named=named, warnings=warnings)


def _smoke(b: _Build) -> None:
    """Every framework the env holds computes something real; the first on the GPU when asked."""
    o, first = b.options, b.entries[0]
    b.progress.step("smoke test: a real computation on the " + ("GPU" if o.gpu_smoke else "CPU"))
    scripts = [(e, b.gen / str(e.smoke)) for e in b.entries if e.smoke]
    if scripts and not o.skip_smoke:
        for entry, script in scripts:
            gpu = o.gpu_smoke and entry is first
            planned = builds.planned(entry.variant, entry.accelerator)  # install/builds.py
            outcome = smoke.run(envs.env_python(b.gen), script, gpu=gpu, env=b.fixes, planned=planned)
            name = b.recipe.display_name if entry is first else str(entry.framework)
            smoke.verdict(outcome, gpu, name, build=str(entry.accelerator or ""))
            if entry is first:
                b.smoked = outcome
        assert b.smoked is not None
        b.progress.done(f"{b.smoked.framework_version} on {b.smoked.device}")
    elif not o.skip_smoke:  # never switched untested (install/guards.py refuses this first)
        raise SmokeError(f"no smoke script {b.plan.smoke!r} to prove {b.layout.path}", "reinstall fwsetup")
    else:
        b.progress.done("skipped")


def _switch(b: _Build) -> None:
    """The switch, then the bookkeeping that cannot undo it: its failures are warnings (exit 0)."""
    target = b.layout.path
    b.progress.step(f"switching {target} to the new environment")
    envs.switch(b.layout, b.gen)  # until this returns nothing is changed; after, the env is switched
    b.warnings += after_switch(b.layout, b.gen, b.smoked)
    b.progress.done()


def after_switch(layout: envs.EnvLayout, gen: Path, smoked: Optional[smoke.SmokeResult]) -> list[str]:
    """Record the switched env (history, registry, last smoke) and prune old generations. The env
    already points at `gen`: a failure here is a warning with its fix, never exit 4."""
    warnings = envs.record_history(layout, gen, "install")
    try:
        registry.register(layout.path)
    except OSError as exc:
        warnings.append(
            f"{layout.path} is installed, but fwsetup's list of environments could not be written "
            f"({exc.strerror or exc}): `fwsetup envs` will not show it until "
            f"{registry.registry_file()} is writable and it is installed again"
        )
    if smoked is not None:
        warnings += registry.record_smoke(layout.path, smoked.ok, smoked.device)
    try:
        envs.prune(layout)
    except OSError as exc:
        warnings.append(f"old generations of {layout.path} were not pruned ({exc.strerror or exc}); the next install retries")
    return warnings


@contextmanager
def _failure_path(layout: envs.EnvLayout, gen: Path, progress: Progress) -> Iterator[None]:
    """The one way an install fails: the new generation goes unless the env was switched to it,
    and the message says the previous environment is untouched. A failing disk is exit 4."""
    try:
        yield
    except BaseException as exc:
        progress.close()
        previous = layout.current()
        if previous != gen:
            shutil.rmtree(gen, ignore_errors=True)
        kept = previous is not None and previous != gen  # never say "untouched" of the new one
        untouched = f"the previous environment is untouched: {previous}" if kept else ""
        if isinstance(exc, OSError):  # the disk filled up, a permission changed under us
            raise disk_error(layout, exc) from None
        if isinstance(exc, (InstallError, SmokeError, Refusal)) and untouched:
            exc.fix = (exc.fix + "; " if exc.fix else "") + untouched
        raise


def disk_error(layout: envs.EnvLayout, exc: OSError) -> InstallError:
    """A write that failed before the switch (exit 4): the env still points where it did."""
    previous = layout.current()
    untouched = f"; the previous environment is untouched: {previous}" if previous is not None else ""
    return InstallError(
        f"writing the environment at {layout.path} failed: {exc.strerror or exc}"
        + (f" ({exc.filename})" if exc.filename else ""),
        "free disk space, make it writable, or choose another location with --env PATH" + untouched,
    )


def sources_of(options: InstallOptions) -> dict[str, Any]:
    """The options besides the plan that decide what gets installed."""
    return {
        "index_url": options.index_url,
        "wheelhouses": [str(w) for w in options.wheelhouses],
        "offline": options.offline,
        "constraints": list(options.constraints),
        "locked_requirements": list(options.locked_requirements),
        "installer": options.installer,
    }


def metadata(
    plan: Plan, python: Optional[str], env: dict[str, str], smoke: Optional[str] = None
) -> GenerationMeta:
    """What a generation says about itself (fwsetup.json): read by smoke, run, envs and rollback."""
    return GenerationMeta.first(
        HeldFramework.planned(plan, smoke),
        python=python,
        env=env,
        fwsetup_version=__version__,
        created=envs.now(),
    )


def _execute_steps(
    plan: Plan,
    recipe: Recipe,
    options: InstallOptions,
    layout: envs.EnvLayout,
    progress: Progress,
    started: float,
    why: Optional[str] = None,
) -> InstallResult:
    """A route of commands (cargo, Maven, a source build) whose every step the dry-run said can run
    here: run them, in order, inside a new generation ({env} is its path), then swap it in."""
    gen = layout.new_generation()
    log = options.log_file or paths.home() / "logs" / f"{recipe.name}-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with _failure_path(layout, gen, progress):
        for step in plan.steps:
            if not step.command:
                continue
            progress.step(f"{step.kind}: {step.description}")
            runner.step(
                [substitute(c, gen) for c in step.command],
                what=f"{step.kind} step: {step.description}",
                timeout=options.timeout,
                env=runner.installer_env({k: substitute(v, gen) for k, v in plan.env.items()}),
                cwd=str(gen),
                log=log,
                merge_stderr=True,
            )
            progress.done()
        envs.write_metadata(
            gen,
            records.replace(
                metadata(plan, plan.python or None, {k: substitute(v, gen) for k, v in plan.env.items()}),
                route=plan.route,
            ),
        )
        envs.switch(layout, gen)
    warnings = after_switch(layout, gen, None)
    return InstallResult(
        framework=plan.framework,
        env=str(layout.path),
        python=plan.python,
        generation=str(gen),
        backend=plan.route,
        packages={},
        smoke=None,
        seconds=time.perf_counter() - started,
        warnings=warnings,
        frameworks=[plan.framework],
        rebuilt_because=why,
    )
