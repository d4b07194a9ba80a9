"""The `fwsetup` command line: parse, call, render. No decisions are made here."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import typer

from fwsetup import __version__
from fwsetup.cli.errors import debug_enabled, emit_error, report_internal_error
from fwsetup.errors import ExitCode, FwsetupError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Make this machine ready for machine learning: detect, choose the right build, "
    "install it in an isolated environment, prove it works.",
)

F = TypeVar("F", bound=Callable[..., Any])

JSON_HELP = "Print exactly one JSON document on stdout."


def handles_errors(fn: F) -> F:
    """Turn every failure into one message and its documented exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        json_output = bool(kwargs.get("json_output", False))
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except FwsetupError as exc:
            if debug_enabled():
                traceback.print_exc()
            emit_error(exc, json_output)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            emit_error(FwsetupError("interrupted", None, code="interrupted"), json_output)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:
            raise typer.Exit(report_internal_error(exc, json_output)) from None

    return wrapper  # type: ignore[return-value]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"fwsetup {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """fwsetup: the right ML framework build for this machine, installed and proven."""


@app.command()
@handles_errors
def doctor(
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 1 when any finding is an error (for CI).", envvar="FWSETUP_STRICT"
    ),
    timeout: float = typer.Option(
        5.0,
        "--timeout",
        min=0.1,
        max=120.0,
        help="Seconds each probe may take.",
        envvar="FWSETUP_PROBE_TIMEOUT",
    ),
) -> None:
    """Report what this machine is and what is wrong with it for ML work."""
    from fwsetup.cli.doctor import run_doctor

    raise typer.Exit(run_doctor(json_output, strict, timeout))


@app.command("list")
@handles_errors
def list_frameworks(
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
    system_report: Optional[Path] = typer.Option(
        None,
        "--system",
        help="Plan for the machine that wrote this `doctor --json` report.",
        envvar="FWSETUP_SYSTEM",
    ),
) -> None:
    """Frameworks fwsetup knows, their variants, and what this machine would get."""
    from fwsetup.cli import render
    from fwsetup.plan import planning

    report = planning.machine_report(system_report)
    rows = planning.machine_summary(report, planning.local_wheels([], use_pip_config=system_report is None))
    if json_output:
        render.dump_json({"frameworks": rows})
    else:
        sys.stdout.write(render.framework_table(rows, render.use_color(sys.stdout)))


@app.command()
@handles_errors
def install(
    framework: Optional[str] = typer.Argument(
        None, help="pytorch, tensorflow, jax, keras, theano, … (see `fwsetup list`); omit with --lock"
    ),
    lock: Optional[Path] = typer.Option(
        None,
        "--lock",
        help="Install exactly what this fwsetup.lock holds for this machine.",
        envvar="FWSETUP_LOCK",
    ),
    gpu: bool = typer.Option(False, "--gpu", help="A GPU build; refuse if no usable GPU."),
    cpu: bool = typer.Option(False, "--cpu", help="A CPU-only build: never pulls CUDA packages."),
    version: Optional[str] = typer.Option(
        None, "--version", help="Framework version or prefix (2.7, 2.7.1)."
    ),
    python: Optional[str] = typer.Option(
        None, "--python", help="Python X.Y for the environment.", envvar="FWSETUP_PYTHON"
    ),
    backend: Optional[str] = typer.Option(None, "--backend", help="Keras backend: tensorflow, jax or torch."),
    variant: Optional[str] = typer.Option(
        None, "--variant", help="Force a variant by name (cu126, cpu, pieces, …)."
    ),
    gpus: Optional[str] = typer.Option(None, "--gpus", help="Serve only these GPU indices, e.g. 0,1."),
    system_report: Optional[Path] = typer.Option(
        None,
        "--system",
        help="Plan for the machine that wrote this `doctor --json` report.",
        envvar="FWSETUP_SYSTEM",
    ),
    wheelhouse: list[Path] = typer.Option(
        [],
        "--wheelhouse",
        "--find-links",
        help="Directory of wheels to prefer/use.",
        envvar="FWSETUP_WHEELHOUSE",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan; change nothing.", envvar="FWSETUP_DRY_RUN"
    ),
    env: Optional[Path] = typer.Option(
        None, "--env", help="Environment path (default: see README).", envvar="FWSETUP_ENV"
    ),
    index_url: Optional[str] = typer.Option(
        None, "--index-url", help="Package index instead of PyPI.", envvar="FWSETUP_INDEX_URL"
    ),
    offline: bool = typer.Option(
        False,
        "--offline",
        help="No network: install only from --wheelhouse/find-links.",
        envvar="FWSETUP_OFFLINE",
    ),
    system_packages: bool = typer.Option(
        False,
        "--system-packages",
        help="Allow apt-get for the system libraries the recipe needs.",
        envvar="FWSETUP_SYSTEM_PACKAGES",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Answer yes to prompts.", envvar="FWSETUP_YES"),
    installer: str = typer.Option("auto", "--installer", help="auto, uv or pip.", envvar="FWSETUP_INSTALLER"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output.", envvar="FWSETUP_QUIET"),
    timeout: float = typer.Option(
        3600.0, "--timeout", min=1.0, help="Seconds each install step may take.", envvar="FWSETUP_TIMEOUT"
    ),
    log_file: Optional[Path] = typer.Option(
        None,
        "--log-file",
        help="Write the installers' full output here (credentials redacted).",
        envvar="FWSETUP_LOG_FILE",
    ),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
) -> None:
    """Choose the right build for this machine and install it in an isolated environment."""
    from fwsetup.cli import render

    if lock is not None:
        if system_report is not None or dry_run:
            raise UsageError(
                "--lock installs on this machine; it cannot be combined with --system or --dry-run",
                "use `fwsetup lock --system …` to plan for other machines",
            )
        from fwsetup.fleet.fromlock import plan_from_lock

        outcome, recipe_name, locked = plan_from_lock(lock, framework)
    elif framework is None:
        raise UsageError(
            "install needs a framework name (or --lock FILE)", "e.g. `fwsetup install pytorch --cpu`"
        )
    else:
        outcome, recipe_name, locked = _plan_or_refuse(
            framework, gpu, cpu, version, python, backend, variant, gpus, system_report, wheelhouse
        )
    if dry_run:
        if json_output:
            render.dump_json(outcome.to_dict())
        else:
            sys.stdout.write(render.plan_text(outcome, render.use_color(sys.stdout)))
        return
    from fwsetup.install.execute import InstallOptions, execute
    from fwsetup.plan import recipes

    if installer not in ("auto", "uv", "pip"):
        raise UsageError(f"--installer {installer!r} is not one of auto, uv, pip", "pass --installer auto")
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
    )
    result = execute(outcome, recipes.find(recipe_name), options)
    if json_output:
        render.dump_json(result.to_dict())
    else:
        sys.stdout.write(render.install_text(result, render.use_color(sys.stdout)))


def _plan_or_refuse(
    framework: str,
    gpu: bool,
    cpu: bool,
    version: Optional[str],
    python: Optional[str],
    backend: Optional[str],
    variant: Optional[str],
    gpus: Optional[str],
    system_report: Optional[Path],
    wheelhouse: list[Path],
) -> tuple[Any, str, tuple[str, ...]]:
    from fwsetup.errors import Refusal
    from fwsetup.plan import planning
    from fwsetup.plan.model import Request

    report = planning.machine_report(system_report)
    request = Request(
        framework=framework,
        accelerator=planning.accelerator_flag(gpu, cpu),
        version=version,
        python=python,
        backend=backend,
        variant=variant,
        gpu_indices=planning.parse_gpus(gpus),
        local_wheels=planning.local_wheels(wheelhouse, use_pip_config=system_report is None),
    )
    outcome = planning.make_plan(framework, report, request)
    if isinstance(outcome, Refusal):
        raise outcome
    return outcome, outcome.framework, ()


@app.command("lock")
@handles_errors
def lock_command(
    framework: str = typer.Argument(..., help="The framework to lock."),
    gpu: bool = typer.Option(False, "--gpu", help="GPU builds; refuse machines without a usable GPU."),
    cpu: bool = typer.Option(False, "--cpu", help="CPU-only builds."),
    version: Optional[str] = typer.Option(None, "--version", help="Framework version or prefix."),
    python: Optional[str] = typer.Option(None, "--python", help="Python X.Y.", envvar="FWSETUP_PYTHON"),
    backend: Optional[str] = typer.Option(None, "--backend", help="Keras backend."),
    system_reports: list[Path] = typer.Option(
        [],
        "--system",
        help="A `doctor --json` report per machine kind (repeat); default: this machine.",
        envvar="FWSETUP_SYSTEM",
    ),
    output: Path = typer.Option(
        Path("fwsetup.lock"), "--output", "-o", help="Where to write the lock.", envvar="FWSETUP_LOCK"
    ),
    timeout: float = typer.Option(
        900.0, "--timeout", min=1.0, help="Seconds each resolution may take.", envvar="FWSETUP_TIMEOUT"
    ),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
) -> None:
    """Resolve a plan to exact versions and hashes, for this machine or a set of machine reports."""
    from fwsetup.cli import render
    from fwsetup.errors import Refusal
    from fwsetup.fleet import lockfile
    from fwsetup.plan import planning, recipes
    from fwsetup.plan.model import Request

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
            local_wheels=planning.local_wheels([], use_pip_config=path is None),
        )
        outcome = planning.make_plan(recipe.name, report, request)
        if isinstance(outcome, Refusal):
            outcome.message = f"{name}: {outcome.message}"
            raise outcome
        if not json_output:
            sys.stderr.write(
                f"locking {name}: {outcome.framework} {outcome.version} {outcome.variant}, Python {outcome.python}\n"
            )
        targets.append(lockfile.resolve(outcome, report, name, timeout=timeout))
    output.write_text(lockfile.dumps(recipe.name, targets), encoding="utf-8")
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
            sys.stdout.write(f"{t.describe()} — {len(t.requirements)} packages\n")
        sys.stdout.write(f"wrote {output}\n")


@app.command()
@handles_errors
def bundle(
    lock: Path = typer.Option(
        ..., "--lock", help="The fwsetup.lock whose files to download.", envvar="FWSETUP_LOCK"
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Wheelhouse directory to fill.", envvar="FWSETUP_WHEELHOUSE"
    ),
    target: Optional[str] = typer.Option(None, "--target", help="Only this target of the lock."),
    timeout: float = typer.Option(
        3600.0, "--timeout", min=1.0, help="Seconds each target's download may take.", envvar="FWSETUP_TIMEOUT"
    ),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
) -> None:
    """Download everything a lock needs once; then `install --lock … --wheelhouse DIR --offline`."""
    from fwsetup.cli import render
    from fwsetup.fleet import bundle as bundling
    from fwsetup.fleet import lockfile

    _, targets = lockfile.load(lock)
    chosen = [t for t in targets if target is None or t.name == target]
    if not chosen:
        raise UsageError(f"no target {target!r} in {lock}", "targets: " + ", ".join(t.name for t in targets))
    files: dict[str, list[str]] = {}
    for t in chosen:
        if not json_output:
            sys.stderr.write(f"downloading {t.describe()}\n")
        files[t.name] = bundling.download(t, output, timeout=timeout)
    if json_output:
        render.dump_json({"wheelhouse": str(output), "downloaded": files})
    else:
        total = sum(len(v) for v in files.values())
        sys.stdout.write(
            f"{total} files in {output}; install with: fwsetup install --lock {lock} --wheelhouse {output} --offline\n"
        )


@app.command()
@handles_errors
def export(
    lock: Path = typer.Option(
        Path("fwsetup.lock"), "--lock", help="The lock to reproduce.", envvar="FWSETUP_LOCK"
    ),
    fmt: str = typer.Option("shell", "--format", help="shell, dockerfile, cloud-init or github-actions."),
    fwsetup_spec: str = typer.Option(
        "fwsetup", "--fwsetup-spec", help="What `pip install` gets fwsetup from."
    ),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """A provisioning script that installs fwsetup, reproduces the lock and smoke-tests it."""
    from fwsetup.fleet import export as exporting
    from fwsetup.fleet import lockfile

    if fmt not in exporting.FORMATS:
        raise UsageError(
            f"--format {fmt!r} is not one of {', '.join(exporting.FORMATS)}", "pick one of those"
        )
    lockfile.load(lock)  # refuse to export a broken lock
    text = exporting.render(fmt, lock.read_text(encoding="utf-8"), fwsetup_spec)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        if fmt == "shell":
            output.chmod(0o755)


@app.command()
@handles_errors
def smoke(
    framework: str = typer.Argument(..., help="The framework whose environment to test."),
    env: Optional[Path] = typer.Option(
        None, "--env", help="Environment path (default: the framework's one).", envvar="FWSETUP_ENV"
    ),
    gpu: bool = typer.Option(False, "--gpu", help="Fail (exit 5) unless the work ran on a GPU."),
    timeout: float = typer.Option(600.0, "--timeout", min=1.0, help="Seconds the smoke test may take."),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
) -> None:
    """Prove an environment works: a real computation checked against known answers."""
    from fwsetup.cli import render
    from fwsetup.install.smoke import run_in_env
    from fwsetup.plan import recipes

    recipe = recipes.find(framework)
    result, env_dir = run_in_env(recipe, env, gpu=gpu, timeout=timeout)
    payload = {"framework": recipe.name, "env": str(env_dir), **result.to_dict()}
    if json_output:
        render.dump_json(payload)
    else:
        sys.stdout.write(render.smoke_text(payload, render.use_color(sys.stdout)))
    from fwsetup.install.smoke import verdict

    verdict(result, gpu, recipe.display_name)


@app.command()
@handles_errors
def rollback(
    env: Path = typer.Argument(..., help="The environment path to return to its previous generation."),
    json_output: bool = typer.Option(False, "--json", help=JSON_HELP, envvar="FWSETUP_JSON"),
) -> None:
    """Return an environment to the generation before the last install."""
    from fwsetup.cli import render
    from fwsetup.install import envs

    layout = envs.EnvLayout(Path(os.path.abspath(env)))
    with envs.locked(layout):
        gen = envs.rollback(layout)
    if json_output:
        render.dump_json({"env": str(layout.path), "generation": str(gen)})
    else:
        sys.stdout.write(f"{layout.path} now points to {gen}\n")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # between commands, e.g. while typer imports
        sys.exit(int(ExitCode.INTERRUPTED))


if __name__ == "__main__":
    main()
