"""The `fwsetup` command line: parse, call, render. No decisions are made here.

Each command is a plain function registered with its options (cli/spec.py declares the grammar);
the modules that do the work are imported inside the command that needs them, so `--help` or
`doctor` never pays for planning, installing or the fleet tools."""

from __future__ import annotations

import os
import sys

from fwsetup import __version__
from fwsetup.cli.errors import debug_traceback, emit_error, report_internal_error
from fwsetup.cli.spec import (
    HELP_FLAGS,
    TRUE,
    Argument,
    Command,
    Option,
    ParseError,
    command_help,
    parse,
    root_help,
    usage,
)
from fwsetup.errors import ExitCode, FwsetupError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from typing import Any, Callable, Optional, Union

PROG = "fwsetup"
SUMMARY = (
    "Make this machine ready for machine learning: detect, choose the right build, "
    "install it in an isolated environment, prove it works."
)
COMMANDS: dict[str, Command] = {}
PASSTHROUGH = ("run",)  # commands whose arguments after `--` are a command line to run

JSON = Option(("--json",), "json_output", "Print exactly one JSON document on stdout.", envvar="FWSETUP_JSON")
SYSTEM = Option(
    ("--system",),
    "system_report",
    "Plan for the machine that wrote this `doctor --json` report.",
    kind="path",
    envvar="FWSETUP_SYSTEM",
)
PYTHON = Option(
    ("--python",), "python", "Python X.Y for the environment.", kind="text", envvar="FWSETUP_PYTHON"
)
GPU = Option(("--gpu",), "gpu", "A GPU build; refuse if no usable GPU.")
CPU = Option(("--cpu",), "cpu", "A CPU-only build: never pulls CUDA packages.")
ALLOW_INSECURE = Option(
    ("--allow-insecure",), "allow_insecure", "Let a lock name http:// package sources (default: https only)."
)
BACKEND = Option(("--backend",), "backend", "Keras backend: tensorflow, jax or torch.", kind="text")
VERSION = Option(("--version",), "version", "Framework version or prefix (2.7, 2.7.1).", kind="text")
VARIANT = Option(("--variant",), "variant", "Force a variant by name (cu126, cpu, pieces, …).", kind="text")
GPUS = Option(("--gpus",), "gpus", "Serve only these GPU indices, e.g. 0,1.", kind="text")


def command(
    name: str, help: str, *params: Any
) -> Callable[[Callable[..., Optional[int]]], Callable[..., Optional[int]]]:
    """Register `fn` as `fwsetup NAME`; its keyword parameters are the params' dests."""

    def register(fn: Callable[..., Optional[int]]) -> Callable[..., Optional[int]]:
        COMMANDS[name] = Command(name, help, tuple(params), fn)
        return fn

    return register


@command(
    "doctor",
    "Report what this machine is and what is wrong with it for ML work.",
    JSON,
    Option(("--strict",), "strict", "Exit 1 when any finding is an error (for CI).", envvar="FWSETUP_STRICT"),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each probe may take.",
        kind="float",
        default=5.0,
        min=0.1,
        max=120.0,
        envvar="FWSETUP_PROBE_TIMEOUT",
    ),
    Option(
        ("--python",),
        "python",
        "Read the frameworks of this interpreter or environment (default: the active VIRTUAL_ENV "
        "or CONDA_PREFIX, else the python on PATH).",
        kind="path",
    ),
)
def doctor(json_output: bool, strict: bool, timeout: float, python: Optional[Path]) -> int:
    from fwsetup.cli.doctor import run_doctor

    if python is not None and not os.path.exists(python):
        raise UsageError(
            f"--python {python}: no such file or directory", "pass a python executable or a venv directory"
        )
    return run_doctor(json_output, strict, timeout, str(python) if python is not None else None)


@command("list", "Frameworks fwsetup knows, their variants, and what this machine would get.", JSON, SYSTEM)
def list_frameworks(json_output: bool, system_report: Optional[Path]) -> None:
    from fwsetup.cli import render
    from fwsetup.plan import planning

    report = planning.machine_report(system_report)
    rows = planning.machine_summary(report, planning.local_wheels([], use_pip_config=system_report is None))
    if json_output:
        render.dump_json({"frameworks": rows})
    else:
        sys.stdout.write(render.framework_table(rows, render.use_color(sys.stdout)))


@command(
    "install",
    "Choose the right build for this machine and install it in an isolated environment.",
    Argument(
        "framework",
        "pytorch, tensorflow, jax, keras, theano, … (see `fwsetup list`); omit with --lock",
        required=False,
    ),
    Option(
        ("--lock",),
        "lock",
        "Install exactly what this fwsetup.lock holds for this machine. FWSETUP_LOCK is ignored "
        "when --dry-run or --system is given.",
        kind="path",
        envvar="FWSETUP_LOCK",
        env_yields_to=("dry_run", "system_report"),
    ),
    GPU,
    CPU,
    VERSION,
    PYTHON,
    BACKEND,
    VARIANT,
    GPUS,
    SYSTEM,
    Option(
        ("--wheelhouse", "--find-links"),
        "wheelhouse",
        "Directory of wheels, or a find-links URL, to prefer/use (repeat; the variable takes a path "
        "list, or whitespace-separated URLs).",
        kind="locations",
        envvar="FWSETUP_WHEELHOUSE",
    ),
    ALLOW_INSECURE,
    Option(("--dry-run",), "dry_run", "Print the plan; change nothing.", envvar="FWSETUP_DRY_RUN"),
    Option(("--env",), "env", "Environment path (default: see README).", kind="path", envvar="FWSETUP_ENV"),
    Option(
        ("--replace",),
        "replace",
        "The env holds another framework: a fresh generation with only this one (rollback keeps the old).",
    ),
    Option(
        ("--add",),
        "add",
        "The env holds another framework: keep it and add this one, resolved and smoke-tested together.",
    ),
    Option(("--force",), "force", "Rebuild even when the env already holds exactly this plan."),
    Option(
        ("--into",),
        "into",
        "Install into this existing virtual environment (recorded first: `fwsetup rollback VENV` undoes it).",
        kind="path",
    ),
    Option(
        ("--index-url",),
        "index_url",
        "Package index instead of PyPI.",
        kind="text",
        envvar="FWSETUP_INDEX_URL",
    ),
    Option(
        ("--offline",),
        "offline",
        "No network: install only from --wheelhouse/find-links.",
        envvar="FWSETUP_OFFLINE",
    ),
    Option(
        ("--system-packages",),
        "system_packages",
        "Allow apt-get for the system libraries the recipe needs.",
        envvar="FWSETUP_SYSTEM_PACKAGES",
    ),
    Option(
        ("--yes", "-y"),
        "yes",
        "Answer yes to every prompt, the system-package one included.",
        envvar="FWSETUP_YES",
    ),
    Option(
        ("--installer",),
        "installer",
        "auto, uv or pip.",
        kind="text",
        default="auto",
        envvar="FWSETUP_INSTALLER",
    ),
    Option(("--quiet", "-q"), "quiet", "No progress output.", envvar="FWSETUP_QUIET"),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each install step may take.",
        kind="float",
        default=3600.0,
        min=1.0,
        envvar="FWSETUP_TIMEOUT",
    ),
    Option(
        ("--log-file",),
        "log_file",
        "Write the installers' full output here (credentials redacted).",
        kind="path",
        envvar="FWSETUP_LOG_FILE",
    ),
    JSON,
)
def install(
    framework: Optional[str],
    lock: Optional[Path],
    gpu: bool,
    cpu: bool,
    version: Optional[str],
    python: Optional[str],
    backend: Optional[str],
    variant: Optional[str],
    gpus: Optional[str],
    system_report: Optional[Path],
    wheelhouse: list[Union[Path, str]],
    allow_insecure: bool,
    dry_run: bool,
    env: Optional[Path],
    replace: bool,
    add: bool,
    force: bool,
    into: Optional[Path],
    index_url: Optional[str],
    offline: bool,
    system_packages: bool,
    yes: bool,
    installer: str,
    quiet: bool,
    timeout: float,
    log_file: Optional[Path],
    json_output: bool,
) -> None:
    from fwsetup.cli import render
    from fwsetup.plan import requested

    version, python = requested.check_version(version), requested.check_python(python)
    if installer not in ("auto", "uv", "pip"):  # before any planning, for --into too
        raise UsageError(f"--installer {installer!r} is not one of auto, uv, pip", "pass --installer auto")
    if lock is not None:
        if system_report is not None or dry_run:
            raise UsageError(
                "--lock installs on this machine; it cannot be combined with --system or --dry-run",
                "use `fwsetup lock --system …` to plan for other machines",
            )
        from fwsetup.fleet.fromlock import plan_from_lock

        outcome, recipe_name, locked = plan_from_lock(
            lock, framework, allow_insecure=allow_insecure, allow_paths=bool(wheelhouse)
        )
    elif framework is None:
        raise UsageError(
            "install needs a framework name (or --lock FILE)", "e.g. `fwsetup install pytorch --cpu`"
        )
    else:
        from fwsetup.errors import Refusal
        from fwsetup.plan import planning
        from fwsetup.plan.model import Request

        if replace and add:
            raise UsageError("--replace and --add exclude each other", "pass one of them")
        if into is not None:
            from fwsetup.install import into as into_venv

            if env is not None or replace or add:
                raise UsageError("--into names the environment itself", "drop --env/--replace/--add")
            python = python or into_venv.python_of(Path_(into))  # refuses what is not a project venv
        if add and python is None and env is not None:
            python = _env_python_version(env)  # added frameworks share the env's Python
        report = planning.machine_report(system_report)
        request = Request(
            framework=framework,
            accelerator=planning.accelerator_flag(gpu, cpu),
            version=version,
            python=python,
            backend=backend,
            variant=variant,
            gpu_indices=planning.parse_gpus(gpus),
            local_wheels=planning.local_wheels(
                [w for w in wheelhouse if not isinstance(w, str)], use_pip_config=system_report is None
            ),
        )
        planned = planning.make_plan(framework, report, request, check_index=not offline, index_url=index_url)
        if isinstance(planned, Refusal):
            raise planned
        outcome, recipe_name, locked = planned, planned.framework, ()
    if dry_run:
        from fwsetup.install.execute import InstallOptions, target_path

        where = str(target_path(outcome, InstallOptions(env_path=env)))
        if json_output:
            render.dump_json({**outcome.to_dict(), "env_path": where})
        else:
            sys.stdout.write(render.plan_text(outcome, render.use_color(sys.stdout)))
            sys.stdout.write(f"  env path      {where}\n")
        return
    from fwsetup.install.execute import InstallOptions, execute
    from fwsetup.plan import recipes

    if into is not None:
        from fwsetup.install import into as into_venv

        if lock is not None:
            raise UsageError(
                "--into cannot take a --lock", "export it instead: `fwsetup export --format requirements`"
            )
        done = into_venv.install(
            outcome,
            recipes.find(recipe_name),
            Path_(into),
            installer=installer,
            timeout=timeout,
            gpu_smoke=outcome.accelerator in ("cuda", "rocm", "mps"),
            wheelhouses=tuple(wheelhouse),
            index_url=index_url,
            offline=offline,
        )
        if json_output:
            render.dump_json(done)
        else:
            smoked = done["smoke"]
            sys.stdout.write(
                f"installed {outcome.framework} {outcome.version} ({outcome.variant}) into {done['env']}"
                + (f"; smoke test passed on {smoked['device']}" if smoked else "")
                + f"\nundo with: {done['rollback']}\n"
            )
        return
    options = InstallOptions(
        env_path=env,
        index_url=index_url,
        wheelhouses=tuple(wheelhouse),
        offline=offline,
        system_packages=system_packages,
        assume_yes=yes,
        quiet=quiet or json_output,
        installer=installer,
        timeout=timeout,
        gpu_smoke=outcome.accelerator in ("cuda", "rocm", "mps"),
        locked_requirements=locked,
        log_file=log_file,
        mode="replace" if replace else "add" if add else "",
        force=force,
    )
    from fwsetup.install.execute import target_path

    if lock is not None:  # an environment already holding this lock target: prove it, change nothing
        from fwsetup.fleet import current

        env_dir = target_path(outcome, options)
        same = current.matching_generation(env_dir, outcome, locked)
        if same is not None:
            kept = current.reprove(
                env_dir,
                same,
                gpu=options.gpu_smoke,
                timeout=timeout,
                display_name=recipes.find(recipe_name).display_name,
            )
            if json_output:
                render.dump_json(kept)
            else:
                sys.stdout.write(f"{env_dir} already holds {lock}: unchanged, smoke test passed\n")
            return
        from fwsetup import records

        # The lock check looked at what is installed, not only at the plan: it found a difference.
        options = records.replace(options, force=True)
    from fwsetup.install.guards import preflight

    preflight(outcome, target_path(outcome, options), log_file)  # nothing is created when it refuses
    result = execute(outcome, recipes.find(recipe_name), options)
    if json_output:
        render.dump_json(result.to_dict())
    elif result.up_to_date:
        sys.stdout.write(
            f"{result.env} already holds {outcome.framework} {outcome.version} ({outcome.variant}) from the same "
            f"sources: up to date, nothing rebuilt (--force rebuilds it)\n"
        )
    else:
        sys.stdout.write(render.install_text(result, render.use_color(sys.stdout)))


@command(
    "lock",
    "Resolve a plan to exact versions and hashes, for this machine or a set of machine reports.",
    Argument("framework", "The framework to lock."),
    GPU,
    CPU,
    VERSION,
    PYTHON,
    BACKEND,
    VARIANT,
    GPUS,
    Option(
        ("--wheelhouse", "--find-links"),
        "wheelhouse",
        "Directory of wheels to prefer (repeat; the variable takes a path list).",
        kind="paths",
        envvar="FWSETUP_WHEELHOUSE",
    ),
    Option(
        ("--system",),
        "system_reports",
        "A `doctor --json` report per machine kind (repeat; the variable takes a path list); "
        "default: this machine.",
        kind="paths",
        envvar="FWSETUP_SYSTEM",
    ),
    Option(
        ("--output", "-o"),
        "output",
        "Where to write the lock.",
        kind="path",
        default="fwsetup.lock",
        envvar="FWSETUP_LOCK_OUTPUT",
    ),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each resolution may take.",
        kind="float",
        default=900.0,
        min=1.0,
        envvar="FWSETUP_TIMEOUT",
    ),
    JSON,
)
def lock_command(
    framework: str,
    gpu: bool,
    cpu: bool,
    version: Optional[str],
    python: Optional[str],
    backend: Optional[str],
    variant: Optional[str],
    gpus: Optional[str],
    wheelhouse: list[Path],
    system_reports: list[Path],
    output: Path,
    timeout: float,
    json_output: bool,
) -> None:
    from fwsetup.cli import render
    from fwsetup.errors import Refusal
    from fwsetup.fleet import lockfile
    from fwsetup.plan import planning, recipes
    from fwsetup.plan.model import Request
    from fwsetup.plan.requested import check_python, check_version

    version, python = check_version(version), check_python(python)
    recipe = recipes.find(framework)
    sources: list[tuple[str, Optional[Path]]] = [(p.stem, p) for p in system_reports] or [
        ("this-machine", None)
    ]
    targets = []
    for name, path in sources:
        report = planning.machine_report(path)
        request = Request(
            recipe.name,
            accelerator=planning.accelerator_flag(gpu, cpu),
            version=version,
            python=python,
            backend=backend,
            variant=variant,
            gpu_indices=planning.parse_gpus(gpus),
            local_wheels=planning.local_wheels(wheelhouse, use_pip_config=path is None),
        )
        outcome = planning.make_plan(recipe.name, report, request)
        if isinstance(outcome, Refusal):
            outcome.message = f"{name}: {outcome.message}"
            raise outcome
        if not json_output:
            sys.stderr.write(
                render.terminal(
                    f"locking {name}: {outcome.framework} {outcome.version} {outcome.variant}, Python {outcome.python}\n"
                )
            )
        targets.append(lockfile.resolve(outcome, report, name, timeout=timeout))
    write_output(output, lockfile.dumps(recipe.name, targets), "the lock")
    summary = {
        "lock": str(output),
        "targets": [
            {
                "name": t.name,
                "version": t.version,
                "variant": t.variant,
                "python": t.python,
                "platform": t.platform,
                "packages": len(t.requirements),
            }
            for t in targets
        ],
    }
    if json_output:
        render.dump_json(summary)
    else:
        for t in targets:
            sys.stdout.write(render.terminal(f"{t.describe()} — {len(t.requirements)} packages\n"))
        sys.stdout.write(render.terminal(f"wrote {output}\n"))


@command(
    "bundle",
    "Download everything a lock needs once; then `install --lock … --wheelhouse DIR --offline`.",
    Option(("--lock",), "lock", "The fwsetup.lock whose files to download.", kind="path", required=True),
    Option(
        ("--output", "-o"),
        "output",
        "Wheelhouse directory to fill.",
        kind="path",
        required=True,
        envvar="FWSETUP_WHEELHOUSE",
    ),
    Option(("--target",), "target", "Only this target of the lock.", kind="text"),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each target's download may take.",
        kind="float",
        default=3600.0,
        min=1.0,
        envvar="FWSETUP_TIMEOUT",
    ),
    ALLOW_INSECURE,
    JSON,
)
def bundle(
    lock: Path, output: Path, target: Optional[str], timeout: float, allow_insecure: bool, json_output: bool
) -> None:
    from fwsetup.cli import render
    from fwsetup.fleet import bundle as bundling
    from fwsetup.fleet import lockfile

    _, targets = lockfile.load(lock)
    for t in targets:  # downloads only from the sources a lock may name
        lockfile.check_form(t, allow_insecure=allow_insecure, allow_paths=True)
    chosen = [t for t in targets if target is None or t.name == target]
    if not chosen:
        raise UsageError(f"no target {target!r} in {lock}", "targets: " + ", ".join(t.name for t in targets))
    files: dict[str, list[str]] = {}
    for t in chosen:
        if not json_output:
            sys.stderr.write(render.terminal(f"downloading {t.describe()}\n"))
        files[t.name] = bundling.download(t, output, timeout=timeout)
    if not json_output:
        sys.stderr.write("adding fwsetup itself and its dependencies\n")
    itself = bundling.add_fwsetup(chosen, output, timeout=timeout)
    bundling.write_index(output)  # served by any static server, listings or not
    if json_output:
        render.dump_json({"wheelhouse": str(output), "downloaded": files, "fwsetup": itself})
    else:
        total = sum(len(v) for v in files.values()) + len(itself)
        sys.stdout.write(
            render.terminal(
                f"{total} files in {output}; install with: fwsetup install --lock {lock} --wheelhouse {output} --offline\n"
            )
        )


@command(
    "export",
    "A provisioning script or fleet-engine job that installs fwsetup and the lock from the bundle and smoke-tests it.",
    Option(("--lock",), "lock", "The lock to reproduce.", kind="path", default="fwsetup.lock"),
    Option(
        ("--format",),
        "fmt",
        "shell, dockerfile, cloud-init, github-actions, ansible, kubernetes, slurm, requirements "
        "(pip install --require-hashes -r) or pylock (PEP 751: uv pip install -r pylock.toml).",
        kind="text",
        default="shell",
    ),
    Option(("--target",), "target", "requirements/pylock: the lock's target to write.", kind="text"),
    Option(
        ("--wheelhouse",),
        "wheelhouse",
        "The bundle (`fwsetup bundle`) the machines install from: a path or an http(s) URL.",
        kind="text",
        default="wheelhouse",
    ),
    Option(
        ("--fwsetup-spec",),
        "fwsetup_spec",
        "The requirement pip installs fwsetup by, from the bundle only.",
        kind="text",
        default=f"fwsetup=={__version__}",
    ),
    Option(
        ("--output", "-o"),
        "output",
        "Write here instead of stdout (ansible: the lock is copied beside it; slurm: a directory).",
        kind="path",
    ),
    JSON,
)
def export(
    lock: Path,
    fmt: str,
    target: Optional[str],
    wheelhouse: str,
    fwsetup_spec: str,
    output: Optional[Path],
    json_output: bool,
) -> None:
    from fwsetup.cli import render
    from fwsetup.fleet import formats, lockfile

    chosen = formats.chosen(fmt, fwsetup_spec, wheelhouse)
    _, targets = lockfile.load(lock)  # refuse to export a broken lock, or one that could run code
    for t in targets:
        lockfile.check_form(t)  # the recipe checks are made where it is installed
    job = formats.job(chosen, lock, targets, fwsetup_spec, wheelhouse, target)
    if output is not None and chosen.write is not None:
        written = [str(path) for path in chosen.write(job, lock, output)]
        if json_output:
            render.dump_json({"format": fmt, "output": written})
        else:
            sys.stderr.write("".join(f"wrote {path}\n" for path in written))
        return
    text = chosen.render(job)
    if output is None:
        if json_output:
            render.dump_json({"format": fmt, "script": text})
        else:
            sys.stdout.write(text)
        return
    write_output(output, text, "the export", mode=chosen.mode)
    if json_output:
        render.dump_json({"format": fmt, "output": str(output)})


def write_output(path: Path, text: str, what: str, mode: Optional[int] = None) -> None:
    """Write a file the user named (-o): a directory, a read-only mount or a full disk is exit 2."""
    try:
        path.write_text(text, encoding="utf-8")
        if mode is not None:
            path.chmod(mode)
    except OSError as exc:
        raise UsageError(
            f"cannot write {what} to {path}: {exc.strerror or exc}", "pass a writable file path with -o"
        ) from None


@command(
    "fleet",
    "Fleet views: `fleet report REPORT.json…` is one table from `doctor --json` reports of many machines.",
    Argument("action", "report"),
    Argument("reports", "`doctor --json` reports, one per machine (named by file name).", many=True),
    Option(
        ("--frameworks",),
        "frameworks",
        "Comma-separated frameworks to show.",
        kind="text",
        default="pytorch,tensorflow,jax",
    ),
    JSON,
)
def fleet(action: str, reports: list[str], frameworks: str, json_output: bool) -> None:
    from pathlib import Path

    from fwsetup.cli import render
    from fwsetup.fleet import report

    if action != "report":
        raise UsageError(f"no fleet action {action!r}", "use `fwsetup fleet report REPORT.json…`")
    table = report.build([Path(p) for p in reports], tuple(f.strip() for f in frameworks.split(",") if f.strip()))
    if json_output:
        render.dump_json(table)
    else:
        sys.stdout.write(report.text(table, render.use_color(sys.stdout)))


@command(
    "smoke",
    "Prove an environment works: a real computation checked against known answers.",
    Argument("framework", "The framework whose environment to test."),
    Option(
        ("--env",),
        "env",
        "Environment path (default: the framework's one).",
        kind="path",
        envvar="FWSETUP_ENV",
    ),
    Option(
        ("--python",),
        "python",
        "Test this interpreter (a project's venv, a conda env) instead of an fwsetup environment.",
        kind="path",
    ),
    Option(("--gpu",), "gpu", "Fail (exit 5) unless the work ran on a GPU."),
    Option(
        ("--timeout",), "timeout", "Seconds the smoke test may take.", kind="float", default=600.0, min=1.0
    ),
    JSON,
)
def smoke(
    framework: str, env: Optional[Path], python: Optional[Path], gpu: bool, timeout: float, json_output: bool
) -> Optional[int]:
    from fwsetup.cli import render
    from fwsetup.errors import SmokeError
    from fwsetup.install import envs, registry
    from fwsetup.install.smoke import run_in_env, run_with_python, verdict
    from fwsetup.plan import recipes

    recipe = recipes.find(framework)
    build = ""
    if python is not None:
        if env is not None:
            raise UsageError("--python and --env exclude each other", "pass one of them")
        result = run_with_python(recipe, python, gpu=gpu, timeout=timeout)
        where = str(Path_(python))
        payload = {"framework": recipe.name, "env": where, "python": where, **result.to_dict()}
    else:
        result, env_dir = run_in_env(recipe, env, gpu=gpu, timeout=timeout)
        import contextlib

        with contextlib.suppress(FwsetupError):
            held = envs.read_metadata(env_dir).held()
            build = next((str(f.accelerator or "") for f in held if f.framework == recipe.name), "")
        registry.record_smoke(
            env_dir, result.ok and not (gpu and (result.device or "cpu").startswith("cpu")), result.device
        )
        payload = {"framework": recipe.name, "env": str(env_dir), **result.to_dict()}
    try:
        verdict(result, gpu, recipe.display_name, build=build)
    except SmokeError as exc:
        payload["ok"] = False  # never print "passed" above the failure
        if json_output:  # one document: the error, with the result it judged
            render.dump_json({"error": exc.to_dict(), "smoke": payload})
            return int(exc.exit_code)
        sys.stdout.write(render.smoke_text(payload, render.use_color(sys.stdout)))
        raise
    if json_output:
        render.dump_json(payload)
    else:
        sys.stdout.write(render.smoke_text(payload, render.use_color(sys.stdout)))
    return None


@command(
    "rollback",
    "Return an environment to the generation before the last install.",
    Argument("env", "The environment path to return to its previous generation."),
    Option(("--to",), "to", "Return to generation N (see `fwsetup envs ENV`).", kind="text"),
    JSON,
)
def rollback(env: str, to: Optional[str], json_output: bool) -> None:

    from fwsetup.cli import render
    from fwsetup.install import envs

    if to is not None and not to.isdigit():
        raise UsageError(f"--to {to!r} is not a generation number", "see `fwsetup envs ENV` for the numbers")
    layout = envs.EnvLayout(Path_(env))
    from fwsetup.install import into as into_venv

    if not layout.path.is_symlink() and into_venv.is_recorded(layout.path):
        if to is not None:
            raise UsageError(
                "--to applies to environments fwsetup made",
                f"`fwsetup rollback {env}` undoes the last --into",
            )
        undone = into_venv.rollback(layout.path)
        if json_output:
            render.dump_json(undone)
        else:
            sys.stdout.write(
                f"{layout.path}: restored the packages of {undone['restored']} "
                f"(removed {len(undone['removed'])}, reinstalled {len(undone['reinstalled'])})\n"
            )
        return
    if layout.current() is None and not layout.store.exists():  # refuse before taking the lock:
        raise UsageError(  # nothing is created beside a wrong path
            f"{layout.path} is not an fwsetup environment", "pass the --env path used at install (`fwsetup envs`)"
        )
    with envs.locked(layout):
        gen = envs.rollback(layout, int(to) if to is not None else None)
    if json_output:
        render.dump_json({"env": str(layout.path), "generation": str(gen)})
    else:
        sys.stdout.write(render.terminal(f"{layout.path} now points to {gen}\n"))


def _env_python_version(env: Path) -> Optional[str]:
    """The Python X.Y of the generation an env path points at, if it is an fwsetup env."""
    from fwsetup.install import envs

    current = envs.EnvLayout(Path_(env)).current()
    if current is None:
        return None
    try:
        return str(envs.read_metadata(current).python or "") or None
    except FwsetupError:
        return None


def Path_(value: Any) -> Path:
    from pathlib import Path

    return Path(os.path.abspath(os.path.expanduser(str(value))))


def _confirm(question: str, yes: bool) -> None:
    """Ask in a terminal; without one, only --yes goes ahead."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{question} needs a yes, and stdin is not a terminal", "pass --yes")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise UsageError("nothing was done", None, code="declined")


@command(
    "envs",
    "The environments fwsetup made (or one environment's generations), their state and size.",
    Argument("env", "An environment path: list its generations.", required=False),
    Option(("--prune",), "prune", "Remove orphaned stores (left by `rm -rf ENV`) and forget missing envs."),
    Option(("--yes", "-y"), "yes", "Do not ask before --prune deletes."),
    JSON,
)
def envs_command(env: Optional[str], prune: bool, yes: bool, json_output: bool) -> None:
    from fwsetup.cli import render
    from fwsetup.install import envs, registry

    if env is not None:
        layout = envs.EnvLayout(Path_(env))
        rows = registry.generations(layout)
        if not rows:
            raise UsageError(
                f"{layout.path} has no fwsetup generations", "see `fwsetup envs` for the environments"
            )
        if json_output:
            render.dump_json({"env": str(layout.path), "generations": rows})
            return
        for r in rows:
            mark = "*" if r["active"] else ("<" if r["rollback_target"] else " ")
            held = ", ".join(f"{f['framework']} {f['version']} ({f['variant']})" for f in r["frameworks"])
            sys.stdout.write(
                f"{mark} {r['generation']:>3}  {r['created'] or '?':25}  Python {r['python']}  {held}\n"
            )
        sys.stdout.write(
            "* active, < where `fwsetup rollback` returns; `fwsetup rollback ENV --to N` picks one\n"
        )
        return
    rows = [registry.describe(layout) for layout in registry.all_layouts()]
    pruned: list[str] = []
    if prune:
        stale = [r for r in rows if r["status"] not in ("ok", "project-venv")]
        if stale:
            _confirm(f"remove {len(stale)} orphaned or missing environment(s)", yes)
        for r in stale:
            pruned += registry.remove(envs.EnvLayout(Path_(r["env"])))
        rows = [r for r in rows if r["status"] == "ok"]
    rows += registry.project_venvs()
    if json_output:
        render.dump_json({"envs": rows, "removed": pruned})
        return
    if not rows:
        sys.stdout.write("no environments; make one with `fwsetup install FRAMEWORK`\n")
    for r in rows:
        held = ", ".join(f"{f['framework']} {f['version']} ({f['variant']})" for f in r["frameworks"]) or "-"
        size = f"{(r['size_bytes'] or 0) / 1e6:.0f} MB"
        smoke = r["last_smoke"]
        smoked = (
            f"smoke {'ok' if smoke.get('ok') else 'FAILED'} {smoke.get('at')}"
            if smoke
            else "never smoke-tested"
        )
        if r["status"] == "project-venv":
            sys.stdout.write(f"{r['env']}\n    your venv: fwsetup installed {held} into it, {size}\n")
            sys.stdout.write(f"    undo: {r['fix']}\n")
            continue
        sys.stdout.write(f"{r['env']}\n    {r['status']}: {held}, Python {r['python'] or '?'}, ")
        sys.stdout.write(f"generation {r['generation']} of {r['generations']}, {size}, {smoked}\n")
        if r["fix"]:
            sys.stdout.write(f"    fix: {r['fix']}\n")
    for p in pruned:
        sys.stdout.write(f"removed {p}\n")


@command(
    "remove",
    "Delete an environment: its link, every generation, its lock and its registry entry.",
    Argument("env", "The environment path."),
    Option(("--yes", "-y"), "yes", "Do not ask."),
    JSON,
)
def remove(env: str, yes: bool, json_output: bool) -> None:
    from fwsetup.cli import render
    from fwsetup.install import envs, registry

    layout = envs.EnvLayout(Path_(env))
    if not layout.path.is_symlink() and not layout.store.is_dir() and layout.path not in registry.known():
        raise UsageError(f"{layout.path} is not an environment fwsetup made", "see `fwsetup envs`")
    _confirm(f"delete {layout.path} and all {len(layout.generations())} of its generations", yes)
    with envs.locked(layout):
        removed = registry.remove(layout)
    for extra in (layout.lock_file, layout.lock_file.with_name(layout.lock_file.name + ".pid")):
        extra.unlink(missing_ok=True)
    if json_output:
        render.dump_json({"env": str(layout.path), "removed": removed})
    else:
        sys.stdout.write(f"removed {layout.path}\n")


@command(
    "run",
    "Run a command inside an environment, with its settings: `fwsetup run ENV|FRAMEWORK -- CMD …`.",
    Argument("env", "The environment path, or a framework name when one env holds it."),
    Argument("argv", "The command line to run, after `--`.", required=False),
    Option(
        ("--json",),
        "json_output",
        "fwsetup's own errors (a bad env, no command) as one JSON document; CMD's output is its own.",
        envvar="FWSETUP_JSON",
    ),
)
def run_command(env: str, argv: Optional[list[str]] = None, json_output: bool = False) -> None:
    from fwsetup.install import envs, registry

    if not argv:
        raise UsageError("run needs a command after --", "e.g. `fwsetup run pytorch -- python train.py`")
    path = registry.resolve(env)
    current = envs.EnvLayout(path).current()
    if current is None:
        raise UsageError(f"{path} is not an fwsetup environment", "see `fwsetup envs`")
    meta = envs.read_metadata(current)
    environ = envs.activated_environ(path, meta.env, os.environ)
    import shutil

    program = shutil.which(argv[0], path=environ["PATH"]) or argv[0]
    try:
        os.execvpe(program, argv, environ)  # noqa: S606 - the user's own command, as they typed it
    except OSError as exc:
        raise UsageError(
            f"cannot run {argv[0]}: {exc.strerror or exc}", f"is it installed in {path}?"
        ) from None


# --- dispatch ------------------------------------------------------------------------------


def run(argv: Sequence[str], environ: Optional[Mapping[str, str]] = None) -> int:
    """Run one command line and return its exit code: what `main` does, callable in-process."""
    environ = os.environ if environ is None else environ
    args = list(argv)
    if not args or args[0] in HELP_FLAGS:
        sys.stdout.write(root_help(PROG, SUMMARY, list(COMMANDS.values())))
        return int(ExitCode.OK)
    if args[0] == "--version":
        from fwsetup.facts import dates

        sys.stdout.write(f"{PROG} {__version__}\ndata checked on: {dates.summary(dates.all_checked_days())}\n")
        return int(ExitCode.OK)
    wants_json = environ.get("FWSETUP_JSON", "").strip().lower() in TRUE
    cmd = COMMANDS.get(args[0])
    if cmd is None:
        what = "option" if args[0].startswith("-") else "command"
        return _usage_error(ParseError(f"No such {what}: {args[0]}"), wants_json or "--json" in args)
    rest = args[1:]
    before_separator = rest[: rest.index("--")] if "--" in rest else rest
    if any(a in HELP_FLAGS for a in before_separator):
        sys.stdout.write(command_help(PROG, cmd))
        return int(ExitCode.OK)
    json_output = cmd.json_output and ("--json" in before_separator or wants_json)
    trailing: list[str] = []
    if cmd.name in PASSTHROUGH and "--" in rest:  # `run ENV -- CMD …`: CMD is not ours to parse
        trailing, rest = rest[rest.index("--") + 1 :], rest[: rest.index("--")]
    try:
        values = parse(cmd, rest, environ)
    except ParseError as exc:
        exc.command = cmd
        return _usage_error(exc, json_output)
    if cmd.name in PASSTHROUGH:
        values["argv"] = trailing
    return _call(cmd, values, bool(values.get("json_output", False)))


def _usage_error(exc: ParseError, json_output: bool) -> int:
    name = f" {exc.command.name}" if exc.command else ""
    if json_output:
        emit_error(UsageError(exc.message, f"see `{PROG}{name} --help`"), True)
    else:
        from fwsetup.cli.render import terminal

        sys.stderr.write(
            f"{usage(PROG, exc.command)}\nTry '{PROG}{name} --help' for help.\n\nError: {terminal(exc.message)}\n"
        )
    return int(ExitCode.USAGE)


def _call(cmd: Command, values: dict[str, Any], json_output: bool) -> int:
    """Every failure becomes one message and its documented exit code, never a traceback."""
    try:
        return int(cmd.run(**values) or 0)
    except FwsetupError as exc:
        debug_traceback(exc)
        emit_error(exc, json_output)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        emit_error(FwsetupError("interrupted", None, code="interrupted"), json_output)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        return report_internal_error(exc, json_output)


def main(argv: Optional[Sequence[str]] = None) -> None:
    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # while parsing or importing, outside any command
        code = int(ExitCode.INTERRUPTED)
    sys.exit(code)
